//! What the client says about an event in plain words, for shells that print or
//! notify (the CLI, the desktop's notifications).

use callpark_wire::{EndedPark, ParkOutcome};

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
}
