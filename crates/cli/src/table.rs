//! Plain-text tables for people; `--json` prints the same data for scripts.

use callpark_wire::admin::{AuditEntry, GroupView, PolicyView, UserView};

/// Left-aligned columns, two spaces apart, with a header row.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut text = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        text += &line(row.clone());
    }
    text
}

pub fn policies(policies: &[PolicyView]) -> String {
    let rows = policies
        .iter()
        .map(|p| {
            let mut granted = Vec::new();
            if p.granted_users > 0 {
                granted.push(format!("{} user(s)", p.granted_users));
            }
            granted
                .extend(p.granted_groups.iter().map(|g| format!("{} (rank {})", g.group, g.rank)));
            if p.tenant_default {
                granted.push("tenant default".into());
            }
            vec![
                p.identity.clone(),
                if p.allow_call_park { "on" } else { "off" }.into(),
                format!("{}-{}", p.pickup_range_start, p.pickup_range_end),
                format!("{} s", p.park_timeout_seconds),
                granted.join(", "),
                p.description.clone(),
            ]
        })
        .collect::<Vec<_>>();
    render(&["IDENTITY", "PARK", "CODES", "TIMEOUT", "GRANTED TO", "DESCRIPTION"], &rows)
}

pub fn users(users: &[UserView]) -> String {
    let rows = users
        .iter()
        .map(|u| {
            vec![
                u.login.clone(),
                u.display_name.clone(),
                if u.admin { "admin" } else { "" }.into(),
                if u.enterprise_voice { "on" } else { "off" }.into(),
                format!("{} after {} s", u.unanswered, u.unanswered_delay_seconds),
                u.groups.join(", "),
                format!("{} ({})", u.effective_policy.policy, u.effective_policy.source),
            ]
        })
        .collect::<Vec<_>>();
    render(&["LOGIN", "NAME", "ROLE", "VOICE", "UNANSWERED", "GROUPS", "POLICY"], &rows)
}

pub fn groups(groups: &[GroupView]) -> String {
    let rows = groups
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.members.join(", "),
                g.policy
                    .as_ref()
                    .map_or_else(String::new, |p| format!("{} (rank {})", p.policy, p.rank)),
            ]
        })
        .collect::<Vec<_>>();
    render(&["GROUP", "MEMBERS", "POLICY"], &rows)
}

pub fn audit(lines: &[AuditEntry]) -> String {
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.id.to_string(),
                l.at_ms.to_string(),
                l.kind.clone(),
                l.code.map(|c| c.to_string()).unwrap_or_default(),
                l.user.clone().unwrap_or_default(),
                l.policy.clone().unwrap_or_default(),
                l.detail.clone().unwrap_or_default(),
            ]
        })
        .collect::<Vec<_>>();
    render(&["ID", "AT (ms)", "EVENT", "CODE", "USER", "POLICY", "DETAIL"], &rows)
}

/// Milliseconds since the Unix epoch, as the service counts time.
pub fn now_ms() -> u64 {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// A span as `m:ss`.
pub fn minutes(span_ms: u64) -> String {
    let seconds = span_ms / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up_under_their_headers() {
        let text = super::render(&["A", "LONGER"], &[vec!["wide cell".into(), "x".into()]]);
        assert_eq!(text, "A          LONGER\nwide cell  x\n");
    }
}
