//! Instagram usernames: normalisation of what operators paste, and validation.

use arrayvec::ArrayString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest username Instagram allows.
pub const MAX_LEN: usize = 30;

/// Path segments of instagram.com that are not profiles.
const RESERVED: [&str; 9] = [
    "p",
    "reel",
    "reels",
    "tv",
    "explore",
    "stories",
    "accounts",
    "direct",
    "challenge",
];

/// A valid, normalised Instagram username (lowercase, 1–30 of `[a-z0-9._]`). Kept inline, not
/// on the heap: a cycle holds one per due account, and loading them costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(ArrayString<MAX_LEN>);

/// Why a piece of text is not a username.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("the username is empty")]
    Empty,
    #[error("the username is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the username may only contain latin letters, digits, `.` and `_` (found `{0}`)")]
    BadCharacter(char),
    #[error("the username may not start or end with a dot")]
    EdgeDot,
    #[error("the username may not contain two dots in a row")]
    DoubleDot,
    #[error("`{0}` is an Instagram page, not a profile")]
    Reserved(String),
    #[error("the link is not an Instagram profile link")]
    NotProfileLink,
}

impl Username {
    /// Normalises `@name`, `name`, `instagram.com/name/?igshid=…` and mixed case, then validates.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let raw = strip_link(input.trim())?;
        let raw = raw.trim().trim_start_matches('@').to_lowercase();
        Self::from_canonical(&raw)
    }

    /// Takes a name already in canonical form (as the store keeps them) without normalising:
    /// the same rules as [`Username::parse`], but anything not canonical (upper case, `@`, a
    /// link) is refused rather than rewritten.
    pub fn from_canonical(name: &str) -> Result<Self, UsernameError> {
        validate(name)?;
        // Instagram's own pages are routes, never profiles, written bare or as a link.
        if RESERVED.contains(&name) {
            return Err(UsernameError::Reserved(name.to_owned()));
        }
        ArrayString::from(name)
            .map(Username)
            .map_err(|_| UsernameError::TooLong)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn strip_link(input: &str) -> Result<&str, UsernameError> {
    let lower = input.to_ascii_lowercase();
    let without_scheme = ["https://", "http://"]
        .iter()
        .find_map(|p| lower.strip_prefix(p).map(|_| &input[p.len()..]))
        .unwrap_or(input);
    let lower_rest = without_scheme.to_ascii_lowercase();
    let host_len = ["www.instagram.com/", "instagram.com/", "m.instagram.com/"]
        .iter()
        .find(|h| lower_rest.starts_with(*h))
        .map(|h| h.len());
    let Some(host_len) = host_len else {
        if without_scheme.len() != input.len() || lower_rest.contains('/') {
            return Err(UsernameError::NotProfileLink);
        }
        return Ok(input);
    };
    let path = &without_scheme[host_len..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let first = path.split('/').next().unwrap_or("");
    if RESERVED.contains(&first.to_ascii_lowercase().as_str()) {
        return Err(UsernameError::Reserved(first.to_string()));
    }
    Ok(first)
}

fn validate(name: &str) -> Result<(), UsernameError> {
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    // One pass over the bytes (a cycle validates every stored name it loads); the checks
    // still report in the order below.
    let mut double_dot = false;
    let mut previous = 0u8;
    for (at, byte) in name.bytes().enumerate() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'_' => {}
            b'.' => double_dot |= previous == b'.',
            _ => {
                let c = name[at..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(UsernameError::BadCharacter(c));
            }
        }
        previous = byte;
    }
    if name.len() > MAX_LEN {
        return Err(UsernameError::TooLong);
    }
    if name.starts_with('.') || name.ends_with('.') {
        return Err(UsernameError::EdgeDot);
    }
    if double_dot {
        return Err(UsernameError::DoubleDot);
    }
    Ok(())
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = UsernameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Username::parse(s)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_are_taken_as_they_are_and_others_refused() {
        assert_eq!(
            Username::from_canonical("a.b_1").map(String::from),
            Ok("a.b_1".to_owned())
        );
        for bad in [
            "",
            "Alice",
            "@alice",
            "a..b",
            ".a",
            "explore",
            "instagram.com/a",
        ] {
            assert!(Username::from_canonical(bad).is_err(), "{bad}");
        }
    }

    fn check(input: &str, expected: Result<&str, UsernameError>) {
        let got = Username::parse(input);
        assert_eq!(
            got.as_ref().map(Username::as_str).map_err(Clone::clone),
            expected,
            "input {input:?}"
        );
    }

    #[test]
    fn accepts_the_forms_operators_paste() {
        check("natgeo", Ok("natgeo"));
        check("@NatGeo", Ok("natgeo"));
        check("  @john.doe_1  ", Ok("john.doe_1"));
        check("https://www.instagram.com/John.Doe/", Ok("john.doe"));
        check("https://instagram.com/john?igshid=abc", Ok("john"));
        check("instagram.com/john/", Ok("john"));
        check("http://m.instagram.com/john#x", Ok("john"));
        check(&"a".repeat(30), Ok(&"a".repeat(30)));
    }

    #[test]
    fn rejects_what_instagram_would_reject() {
        check("", Err(UsernameError::Empty));
        check("@", Err(UsernameError::Empty));
        check(&"a".repeat(31), Err(UsernameError::TooLong));
        check(".john", Err(UsernameError::EdgeDot));
        check("john.", Err(UsernameError::EdgeDot));
        check("jo..hn", Err(UsernameError::DoubleDot));
        check("jo hn", Err(UsernameError::BadCharacter(' ')));
        check("<script>", Err(UsernameError::BadCharacter('<')));
        check("jоhn", Err(UsernameError::BadCharacter('о')));
        check(
            "https://instagram.com/p/abc/",
            Err(UsernameError::Reserved("p".into())),
        );

        check(
            "https://example.com/john",
            Err(UsernameError::NotProfileLink),
        );
        check("a/b", Err(UsernameError::NotProfileLink));
    }

    /// Regression: the input corpus found `/add explore` accepted although only the link form
    /// of Instagram's own routes was refused.
    #[test]
    fn reserved_routes_are_not_usernames() {
        check("explore", Err(UsernameError::Reserved("explore".into())));
        check("@Accounts", Err(UsernameError::Reserved("accounts".into())));
        check("reels", Err(UsernameError::Reserved("reels".into())));
    }
}
