//! Wildcard matching for `Get` filters: `*` matches any run, `?` one character,
//! case-insensitively.

pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it is currently standing in for.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, consumed)) => {
                    p = star + 1;
                    t = consumed + 1;
                    backtrack = Some((star, consumed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn wildcards_match_like_powershell_filters() {
        assert!(glob_matches("Tag:Sales*", "Tag:Sales Floor"));
        assert!(glob_matches("*floor", "Tag:Sales Floor"));
        assert!(glob_matches("s?les", "Sales"));
        assert!(glob_matches("*", "Global"));
        assert!(glob_matches("*a*e*", "Tag:Sales"));
        assert!(!glob_matches("Sales", "Sales Floor"));
        assert!(!glob_matches("s?les", "Saales"));
        assert!(!glob_matches("", "x"));
        assert!(glob_matches("", ""));
    }
}
