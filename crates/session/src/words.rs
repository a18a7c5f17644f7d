//! What the client says about an event in plain words, for shells that print or
//! notify (the CLI, the desktop's and the web app's notifications).

use callpark_wire::{EndedPark, Event, ParkOutcome};

/// How one of my parks ended, as a sentence.
pub fn ended_park_in_words(ended: &EndedPark) -> String {
    let caller = &ended.caller.name;
    let code = ended.code;
    let by = ended.by.as_ref().map_or("someone", |by| by.name.as_str());
    match ended.outcome {
        ParkOutcome::Retrieved => format!("{by} picked up {caller} (code {code})."),
        ParkOutcome::RingbackAnswered => {
            format!("You took {caller} back when the call rang back (code {code}).")
        }
        ParkOutcome::CallerLeft => format!("{caller} hung up while parked (code {code})."),
        ParkOutcome::Voicemail => {
            format!("Nobody picked up {caller} (code {code}); they went to your voicemail.")
        }
        ParkOutcome::Forwarded => {
            format!("Nobody picked up {caller} (code {code}); the call went to {by}.")
        }
        ParkOutcome::Disconnected => {
            format!("Nobody picked up {caller} (code {code}); the call ended.")
        }
        ParkOutcome::Lost => {
            format!("{caller}'s call (code {code}) was lost when the service restarted.")
        }
    }
}

/// Whether the parker should be told at once (a notification): the call did not
/// reach anyone in the park group.
pub fn ended_park_needs_attention(ended: &EndedPark) -> bool {
    !matches!(ended.outcome, ParkOutcome::Retrieved | ParkOutcome::RingbackAnswered)
}

/// The notification for an event that needs the user while the window may be
/// hidden, if it gets one: (title, body). An incoming call, a parked call ringing
/// back, a parked call that reached nobody, a new voicemail message.
pub fn notification_for(event: &Event) -> Option<(String, String)> {
    match event {
        Event::IncomingCall { from, forwarded_by, .. } => Some((
            format!("Call from {}", from.name),
            match forwarded_by {
                Some(by) => format!("Forwarded by {}. Open Callpark to answer.", by.name),
                None => "Open Callpark to answer.".into(),
            },
        )),
        Event::Ringback { code, caller, .. } => Some((
            format!("{} is still waiting", caller.name),
            format!("Nobody picked up code {code}. Answer to take the call back."),
        )),
        Event::ParkEnded(ended) if ended_park_needs_attention(ended) => {
            Some(("Parked call ended".into(), ended_park_in_words(ended)))
        }
        Event::VoicemailLeft { voicemail } => Some((
            "New voicemail".into(),
            format!(
                "{} left a {} s message.",
                voicemail.caller_name.as_deref().unwrap_or("Someone"),
                voicemail.duration_ms.div_ceil(1000)
            ),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use callpark_wire::UserRef;

    use super::*;

    fn ended(outcome: ParkOutcome, by: Option<&str>) -> EndedPark {
        EndedPark {
            call: 7,
            code: 12,
            outcome,
            by: by.map(|name| UserRef { id: 3, name: name.into() }),
            caller: UserRef { id: 4, name: "Dave".into() },
            ended_at_ms: 0,
        }
    }

    #[test]
    fn every_outcome_names_the_caller_and_the_code() {
        let all = [
            (ParkOutcome::Retrieved, Some("Carol"), "Carol picked up Dave (code 12)."),
            (ParkOutcome::CallerLeft, None, "Dave hung up while parked (code 12)."),
            (
                ParkOutcome::Forwarded,
                Some("Bob"),
                "Nobody picked up Dave (code 12); the call went to Bob.",
            ),
            (ParkOutcome::Lost, None, "Dave's call (code 12) was lost when the service restarted."),
        ];
        for (outcome, by, words) in all {
            assert_eq!(ended_park_in_words(&ended(outcome, by)), words);
        }
        assert!(!ended_park_needs_attention(&ended(ParkOutcome::Retrieved, Some("Carol"))));
        assert!(ended_park_needs_attention(&ended(ParkOutcome::Lost, None)));
    }

    #[test]
    fn ringback_names_the_caller_and_the_code() {
        let event =
            Event::Ringback { call: 1, code: 42, caller: UserRef { id: 4, name: "Dave".into() } };
        let (title, body) = notification_for(&event).unwrap();
        assert_eq!(title, "Dave is still waiting");
        assert!(body.contains("code 42"), "{body}");
        assert_eq!(notification_for(&Event::OnHold { call: 1 }), None);
    }

    #[test]
    fn a_lost_park_is_notified_and_a_picked_up_one_is_not() {
        let dave = UserRef { id: 4, name: "Dave".into() };
        let ended = |outcome, by| {
            Event::ParkEnded(EndedPark {
                call: 1,
                code: 12,
                outcome,
                by,
                caller: dave.clone(),
                ended_at_ms: 0,
            })
        };
        let (_, body) = notification_for(&ended(ParkOutcome::Lost, None)).unwrap();
        assert_eq!(body, "Dave's call (code 12) was lost when the service restarted.");
        let carol = Some(UserRef { id: 3, name: "Carol".into() });
        assert_eq!(notification_for(&ended(ParkOutcome::Retrieved, carol)), None);
    }
}
