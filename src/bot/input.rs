//! Pure helpers for what operators type and what the bot sends back: lists of usernames,
//! numbers of days, long texts split under Telegram's limit, and the CSV export.

use crate::domain::{Username, UsernameError};
use crate::store::Account;
use crate::telegram::TEXT_LIMIT;
use std::collections::BTreeSet;

/// Most usernames accepted in one bulk message.
pub const BULK_MAX: usize = 500;

/// A bulk input split into valid (deduplicated, in order) and invalid items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameList {
    pub valid: Vec<Username>,
    /// Repeated in the input itself.
    pub repeated: Vec<Username>,
    pub invalid: Vec<(String, UsernameError)>,
}

/// Splits on newlines, spaces, tabs, `;` and `,`, then validates each item.
pub fn parse_names(text: &str) -> NameList {
    let mut list = NameList::default();
    let mut seen = BTreeSet::new();
    for item in text
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .filter(|s| !s.is_empty())
    {
        match Username::parse(item) {
            Ok(name) if seen.insert(name.clone()) => list.valid.push(name),
            Ok(name) => list.repeated.push(name),
            Err(err) => list.invalid.push((item.to_owned(), err)),
        }
    }
    list
}

/// A period in days typed by the operator: 1 to 3650, optionally followed by a word ("30 days").
pub fn parse_days(text: &str) -> Option<u32> {
    let first = text.split_whitespace().next()?;
    first.parse::<u32>().ok().filter(|d| (1..=3650).contains(d))
}

/// A signed number of days typed after "±N days": `+10`, `-3`, `−3` (a typographic minus) or
/// `5`, optionally followed by a word ("+10 days"); never 0. Whether the resulting period is
/// allowed is the caller's business.
pub fn parse_shift(text: &str) -> Option<i32> {
    let first = text.split_whitespace().next()?.replace('\u{2212}', "-");
    first.parse::<i32>().ok().filter(|d| *d != 0)
}

/// Splits a message into parts of at most `limit` UTF-16 units (Telegram's unit), at line
/// boundaries; a single line longer than the limit is cut at character boundaries. Callers
/// pass the visible text's limit; HTML parts must not split a tag, which holds because the
/// bot never opens a tag on one line and closes it on another.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split('\n') {
        let len = line.encode_utf16().count();
        let sep = usize::from(!current.is_empty());
        if current_len + sep + len <= limit {
            if sep == 1 {
                current.push('\n');
            }
            current.push_str(line);
            current_len += sep + len;
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if len <= limit {
            current.push_str(line);
            current_len = len;
            continue;
        }
        for c in line.chars() {
            let w = c.len_utf16();
            if current_len + w > limit {
                parts.push(std::mem::take(&mut current));
                current_len = 0;
            }
            current.push(c);
            current_len += w;
        }
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// Telegram's text limit with room for the visible length of entities we add.
pub const SPLIT_AT: usize = TEXT_LIMIT - 96;

/// The CSV export of an owner's accounts (RFC 4180, `\r\n`, UTC timestamps).
pub fn accounts_csv(accounts: &[Account]) -> String {
    let mut out = String::from(
        "username,state,period_days,started_at,ends_at,restored_at,last_probe_at,last_verdict,last_reason\r\n",
    );
    let opt =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for a in accounts {
        let fields = [
            a.username.as_str().to_owned(),
            a.state.as_str().to_owned(),
            a.period_days.to_string(),
            a.started_at.to_rfc3339(),
            a.ends_at.to_rfc3339(),
            opt(a.restored_at),
            opt(a.last_probe_at),
            a.last_verdict.clone().unwrap_or_default(),
            a.last_reason
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_names_split_on_every_separator() {
        let list = parse_names(
            "alice\nbob  carol;dave,eve\r\n@Alice, https://instagram.com/frank/ bad..name x-y ;;",
        );
        let valid: Vec<&str> = list.valid.iter().map(Username::as_str).collect();
        assert_eq!(valid, ["alice", "bob", "carol", "dave", "eve", "frank"]);
        assert_eq!(list.repeated.len(), 1);
        let invalid: Vec<&str> = list.invalid.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(invalid, ["bad..name", "x-y"]);
        assert_eq!(list.invalid[0].1, UsernameError::DoubleDot);
        assert_eq!(parse_names("  \n ;,"), NameList::default());
    }

    #[test]
    fn days() {
        for (text, expected) in [
            ("30", Some(30)),
            (" 7 дней", Some(7)),
            ("0", None),
            ("-3", None),
            ("3651", None),
            ("abc", None),
            ("", None),
        ] {
            assert_eq!(parse_days(text), expected, "{text:?}");
        }
    }

    #[test]
    fn signed_days() {
        for (text, expected) in [
            ("+10", Some(10)),
            ("-3", Some(-3)),
            ("\u{2212}3 дня", Some(-3)),
            (" 5 days", Some(5)),
            ("0", None),
            ("+0", None),
            ("-", None),
            ("+ 10", None),
            ("ten", None),
            ("1.5", None),
            ("99999999999", None),
            ("", None),
        ] {
            assert_eq!(parse_shift(text), expected, "{text:?}");
        }
    }

    #[test]
    fn long_texts_split_at_lines_under_the_limit() {
        assert_eq!(split_text("", 10), [""]);
        assert_eq!(split_text("short", 10), ["short"]);
        assert_eq!(split_text("aaaa\nbbbb\ncccc", 9), ["aaaa\nbbbb", "cccc"]);
        assert_eq!(split_text("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let line = "ж".repeat(50);
        let text = vec![line.as_str(); 200].join("\n");
        let parts = split_text(&text, 4096);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(p.encode_utf16().count() <= 4096);
            assert!(p.split('\n').all(|l| l == line));
        }
        assert_eq!(parts.join("\n"), text);
        // Surrogate pairs count as two units and are never cut.
        let emoji = "😀".repeat(5);
        let parts = split_text(&emoji, 4);
        assert_eq!(parts, ["😀😀", "😀😀", "😀"]);
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
