//! Small pure helpers the rule tables share: JSON access, URL paths, case-insensitive text search.

use crate::domain::{UnknownReason, Username, Verdict};
use serde_json::Value;
use url::Url;

/// Parses a body as JSON; `None` for empty, truncated or non-JSON bodies.
pub(super) fn parse_json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// `Unknown(reason)` when `signal` is present.
pub(super) fn unknown_if(signal: bool, reason: UnknownReason) -> Option<Verdict> {
    signal.then(|| Verdict::unknown(reason))
}

/// The lowercase path of an absolute or relative URL, without query or fragment.
fn url_path(url: &str) -> String {
    let path = match Url::parse(url) {
        Ok(parsed) => parsed.path().to_owned(),
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    };
    path.to_ascii_lowercase()
}

/// Whether the client ended on a URL whose path starts with `prefix` (lowercase, e.g. `/challenge`).
pub(super) fn landed_on(final_url: Option<&str>, prefix: &str) -> bool {
    final_url.is_some_and(|url| url_path(url).starts_with(prefix))
}

/// Whether `url` is the profile URL of `target` (`/{user}/` or `/{user}` on an instagram.com host).
pub(super) fn is_profile_url(url: &str, target: &Username) -> bool {
    let on_instagram = match Url::parse(url) {
        Ok(parsed) => parsed.host_str().is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            host == "instagram.com" || host.ends_with(".instagram.com")
        }),
        Err(_) => url.starts_with('/'),
    };
    let path = url_path(url);
    let segment = path.strip_prefix('/').unwrap_or(&path);
    let segment = segment.strip_suffix('/').unwrap_or(segment);
    on_instagram && segment == target.as_str()
}

/// Whether the ASCII-lowercased `haystack` contains the lowercase `phrase`, also in its HTML- and
/// JSON-escaped and typographic-apostrophe forms (`isn't`, `isn&#39;t`, `isn’t`, ...).
pub(super) fn mentions(haystack: &str, phrase: &str) -> bool {
    const APOSTROPHES: [&str; 6] = ["'", "&#39;", "&#x27;", "&apos;", "\u{2019}", "\\u0027"];
    if phrase.contains('\'') {
        APOSTROPHES
            .iter()
            .any(|apostrophe| haystack.contains(&phrase.replace('\'', apostrophe)))
    } else {
        haystack.contains(phrase)
    }
}

/// Case-insensitive (ASCII) substring search in raw bytes; `needle` must be lowercase.
pub(super) fn bytes_mention(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Whether a body meant to be JSON is HTML: an HTML content type or a body starting with `<`.
pub(super) fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    let html_type = content_type.is_some_and(|value| bytes_mention(value.as_bytes(), "text/html"));
    html_type || body.trim_ascii_start().starts_with(b"<")
}

/// The first non-empty string found at one of the JSON `pointers`.
pub(super) fn first_str(value: &Value, pointers: &[&str]) -> Option<String> {
    pointers
        .iter()
        .filter_map(|pointer| value.pointer(pointer).and_then(Value::as_str))
        .find(|text| !text.trim().is_empty())
        .map(str::to_owned)
}

/// The first unsigned count found at one of the JSON `pointers`.
pub(super) fn first_count(value: &Value, pointers: &[&str]) -> Option<u64> {
    pointers
        .iter()
        .find_map(|pointer| value.pointer(pointer).and_then(Value::as_u64))
}

/// Whether a profile's `username` field names `target` (Instagram usernames are case-insensitive).
pub(super) fn names_target(username: &str, target: &Username) -> bool {
    username.trim().eq_ignore_ascii_case(target.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> Username {
        match Username::parse(name) {
            Ok(username) => username,
            Err(error) => panic!("bad test username {name}: {error}"),
        }
    }

    #[test]
    fn profile_url_is_the_profile_path_on_instagram_only() {
        let target = user("target.user");
        for (url, expected) in [
            ("https://www.instagram.com/target.user/", true),
            ("https://www.instagram.com/Target.User", true),
            ("https://www.instagram.com/target.user/?hl=en", true),
            ("/target.user/", true),
            ("https://www.instagram.com/target.user/reels/", false),
            (
                "https://www.instagram.com/accounts/login/?next=/target.user/",
                false,
            ),
            ("https://www.instagram.com/target.user2/", false),
            ("https://evil.example/target.user/", false),
            ("https://notinstagram.com/target.user/", false),
        ] {
            assert_eq!(is_profile_url(url, &target), expected, "{url}");
        }
    }

    #[test]
    fn mentions_finds_escaped_apostrophes() {
        for page in [
            "sorry, this page isn't available.",
            "sorry, this page isn&#39;t available.",
            "sorry, this page isn\u{2019}t available.",
            "sorry, this page isn\\u0027t available.",
        ] {
            assert!(mentions(page, "sorry, this page isn't available"), "{page}");
        }
        assert!(!mentions(
            "this page is available",
            "sorry, this page isn't available"
        ));
    }

    #[test]
    fn landed_on_reads_the_path_only() {
        assert!(landed_on(
            Some("https://www.instagram.com/accounts/login/?next=%2Fchallenge%2F"),
            "/accounts/login"
        ));
        assert!(!landed_on(
            Some("https://www.instagram.com/accounts/login/?next=%2Fchallenge%2F"),
            "/challenge"
        ));
        assert!(!landed_on(None, "/challenge"));
    }
}
