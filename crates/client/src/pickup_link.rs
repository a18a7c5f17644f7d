//! `callpark://pickup/<code>` links: what a parker shares so that anyone in the park
//! group can pick the call up with a click (the desktop app opens its pickup dialog
//! for the code) or paste it into `callpark retrieve`.

/// The URL scheme the desktop app registers (tauri.conf.json).
const SCHEME: &str = "callpark";

/// The link that picks up the call parked under `code`.
pub fn pickup_link(code: u16) -> String {
    format!("{SCHEME}://pickup/{code}")
}

/// The code a pickup link carries, as written (the service checks it), if `text` is
/// a pickup link with a code.
pub fn code_in_pickup_link(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix(SCHEME)?.strip_prefix("://")?;
    let code = rest.strip_prefix("pickup/")?.trim_end_matches('/');
    (!code.is_empty()).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_link_gives_back_its_code() {
        assert_eq!(pickup_link(42), "callpark://pickup/42");
        for code in [10, 99, 9999] {
            assert_eq!(code_in_pickup_link(&pickup_link(code)), Some(code.to_string().as_str()));
        }
    }

    #[test]
    fn only_pickup_links_give_a_code() {
        assert_eq!(code_in_pickup_link("callpark://pickup/42/"), Some("42"));
        assert_eq!(code_in_pickup_link("  callpark://pickup/42\n"), Some("42"));
        assert_eq!(code_in_pickup_link("callpark://pickup/"), None);
        assert_eq!(code_in_pickup_link("callpark://call/42"), None);
        assert_eq!(code_in_pickup_link("https://pickup/42"), None);
        assert_eq!(code_in_pickup_link("42"), None);
    }
}
