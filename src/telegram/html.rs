//! Telegram HTML: escaping of interpolated values and the tag stripper behind the plain-text fallback.

/// Escapes text for Telegram's HTML parse mode: exactly `&`, `<` and `>`.
pub fn escape(s: &str) -> String {
    escape_with(s, false)
}

/// Escapes a value placed inside a double-quoted attribute (`href="…"`): `&`, `<`, `>` and `"`.
pub fn escape_attr(s: &str) -> String {
    escape_with(s, true)
}

fn escape_with(s: &str, quote: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Turns HTML rendered by this crate into the text Telegram would show: tags dropped, entities decoded.
///
/// Relies on our own invariant that every `<` outside a tag was escaped, so any `<` starts a tag.
/// An entity this function does not know is kept verbatim.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    // An unterminated tag cannot come from our renderer; drop the remainder.
                    rest = "";
                }
            }
        } else {
            let (decoded, used) = decode_entity(rest);
            match decoded {
                Some(c) => out.push(c),
                None => out.push_str(&rest[..used]),
            }
            rest = &rest[used..];
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the entity at the start of `s` (which starts with `&`). Returns the character, if known,
/// and how many bytes were consumed (the whole entity, or just the `&` when it is not one).
fn decode_entity(s: &str) -> (Option<char>, usize) {
    let Some(end) = s[1..].find(';').map(|i| i + 1).filter(|&i| i <= 10) else {
        return (None, 1);
    };
    let name = &s[1..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (Some(c), end + 1),
        None => (None, 1),
    }
}

/// Strict check used by the renderer's tests: only supported tags, properly nested and closed,
/// `<a>` only with a quoted `href`, and no bare `&` or `>` in text.
#[cfg(test)]
pub(crate) fn check_balanced(html: &str) -> Result<(), String> {
    const SUPPORTED: [&str; 10] = [
        "b", "strong", "i", "em", "u", "ins", "s", "code", "pre", "a",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&', '>']) {
        let tail = &rest[i..];
        if tail.starts_with('>') {
            return Err(format!("bare `>` at {:?}", &tail[..tail.len().min(20)]));
        }
        if tail.starts_with('&') {
            let (decoded, used) = decode_entity(tail);
            if decoded.is_none() {
                return Err(format!("bare `&` at {:?}", &tail[..tail.len().min(20)]));
            }
            rest = &tail[used..];
            continue;
        }
        let end = tail.find('>').ok_or("unterminated tag")?;
        let tag = &tail[1..end];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("`</{name}>` closes {other:?}")),
            }
        } else {
            let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if !SUPPORTED.contains(&name) {
                return Err(format!("unsupported tag `{name}`"));
            }
            if name == "a" {
                let href = attrs
                    .strip_prefix("href=\"")
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or_else(|| format!("bad <a> attributes `{attrs}`"))?;
                if href.contains(['"', '<', '>']) {
                    return Err(format!("unescaped href `{href}`"));
                }
            } else if !attrs.is_empty() {
                return Err(format!("unexpected attributes on `{name}`"));
            }
            stack.push(name.to_string());
        }
        rest = &tail[end + 1..];
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed tags {stack:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_the_three_characters() {
        for (input, expected) in [
            ("plain", "plain"),
            ("a<b>c&d", "a&lt;b&gt;c&amp;d"),
            ("&amp;", "&amp;amp;"),
            ("\"quoted\" 'single'", "\"quoted\" 'single'"),
            ("имя_пользователя ✅", "имя_пользователя ✅"),
            ("", ""),
        ] {
            assert_eq!(escape(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn attribute_escaping_also_covers_quotes() {
        assert_eq!(escape_attr("x\"><b>&"), "x&quot;&gt;&lt;b&gt;&amp;");
    }

    #[test]
    fn strip_tags_inverts_our_rendering() {
        for (input, expected) in [
            ("<b>Bold</b> text", "Bold text"),
            (
                "Name: <a href=\"https://www.instagram.com/a&amp;b/\">a&lt;b&gt;&amp;c</a>",
                "Name: a<b>&c",
            ),
            ("&quot;q&quot; &#65;&#x42;&#X43;", "\"q\" ABC"),
            ("fish & chips", "fish & chips"),
            ("&unknown; &;", "&unknown; &;"),
            ("line1\nline2", "line1\nline2"),
            ("ends with &", "ends with &"),
            ("<i>unterminated", "unterminated"),
        ] {
            assert_eq!(strip_tags(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn strip_tags_round_trips_escape() {
        let raw = "<script>&amp;\"x\" ✅ 11 дней";
        assert_eq!(strip_tags(&escape(raw)), raw);
        assert_eq!(strip_tags(&escape_attr(raw)), raw);
    }

    #[test]
    fn strict_check_rejects_what_telegram_rejects() {
        assert!(check_balanced("<b>x</b> <a href=\"https://e/x/\">x</a> &lt;").is_ok());
        for bad in [
            "<b>x",
            "<b><i>x</b></i>",
            "<div>x</div>",
            "a & b",
            "a > b",
            "<a href='x'>x</a>",
            "<a href=\"x\"y\">x</a>",
            "<b class=\"x\">x</b>",
        ] {
            assert!(check_balanced(bad).is_err(), "accepted {bad:?}");
        }
    }
}
