//! Instagram session cookies as browser extensions export them (EditThisCookie, Cookie-Editor):
//! validation of the JSON array and the `Cookie` type the browser code installs.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

/// Largest accepted export; a real Instagram export is a few kilobytes.
const MAX_JSON: usize = 256 * 1024;
/// The cookie whose presence makes a session logged in.
pub const SESSION_COOKIE: &str = "sessionid";

/// One cookie of an Instagram session. The value never appears in `Debug` output.
#[derive(Debug, Clone)]
pub struct Cookie {
    pub name: String,
    pub value: SecretString,
    pub path: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    /// Expiry as unix seconds; `None` for a session cookie.
    pub expires: Option<i64>,
}

impl Cookie {
    /// Whether the cookie has an expiry at or before `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// Why a cookie export was refused. Messages never contain cookie values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("the cookies are empty")]
    Empty,
    #[error("the cookie export is larger than {} KiB", MAX_JSON / 1024)]
    TooLarge,
    #[error("the cookies are not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error(
        "the cookies must be a JSON array of objects as exported by EditThisCookie or Cookie-Editor, not a JSON {0}"
    )]
    NotAnArray(&'static str),
    #[error("the cookie array is empty")]
    EmptyArray,
    #[error("cookie #{0} is not a JSON object")]
    NotAnObject(usize),
    #[error("cookie #{index} has no `{field}`")]
    MissingField { index: usize, field: &'static str },
    #[error("cookie #{index} has a `{field}` of the wrong type")]
    WrongType { index: usize, field: &'static str },
    #[error("cookie #{0} has an empty name")]
    EmptyName(usize),
    #[error("cookie `{0}` has an empty value")]
    EmptyValue(String),
    #[error("there is no `sessionid` cookie for instagram.com: export the cookies while logged in")]
    MissingSessionId,
}

/// Parses an exported cookie array, keeps the cookies of instagram.com (and its subdomains, and
/// those without a domain) and requires a non-empty `sessionid` among them.
pub fn parse_cookie_json(text: &str) -> Result<Vec<Cookie>, CookieError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CookieError::Empty);
    }
    if text.len() > MAX_JSON {
        return Err(CookieError::TooLarge);
    }
    let value: Value = serde_json::from_str(text).map_err(|err| CookieError::NotJson {
        line: err.line(),
        column: err.column(),
    })?;
    let items = match value {
        Value::Array(items) => items,
        other => return Err(CookieError::NotAnArray(json_kind(&other))),
    };
    if items.is_empty() {
        return Err(CookieError::EmptyArray);
    }
    let mut cookies = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let index = i + 1;
        let object = item.as_object().ok_or(CookieError::NotAnObject(index))?;
        if let Some(cookie) = parse_one(index, object)? {
            cookies.push(cookie);
        }
    }
    let has_session = cookies
        .iter()
        .any(|c| c.name == SESSION_COOKIE && !c.value.expose_secret().is_empty());
    if has_session {
        Ok(cookies)
    } else {
        Err(CookieError::MissingSessionId)
    }
}

/// One object of the array; `None` when it belongs to another site.
fn parse_one(index: usize, object: &Map<String, Value>) -> Result<Option<Cookie>, CookieError> {
    let name = required_str(index, object, "name")?;
    if name.trim().is_empty() {
        return Err(CookieError::EmptyName(index));
    }
    let value = required_str(index, object, "value")?;
    if let Some(domain) = optional_str(index, object, "domain")? {
        if !is_instagram_domain(domain) {
            return Ok(None);
        }
    }
    if value.is_empty() {
        return Err(CookieError::EmptyValue(name.to_owned()));
    }
    let expires = match object
        .get("expirationDate")
        .or_else(|| object.get("expires"))
    {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|secs| *secs > 0.0 && secs.is_finite())
            .map(|secs| secs.trunc() as i64),
        Some(_) => {
            return Err(CookieError::WrongType {
                index,
                field: "expirationDate",
            });
        }
    };
    Ok(Some(Cookie {
        name: name.to_owned(),
        value: SecretString::from(value.to_owned()),
        path: optional_str(index, object, "path")?
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        http_only: optional_bool(index, object, "httpOnly")?,
        secure: optional_bool(index, object, "secure")?,
        expires,
    }))
}

fn required_str<'a>(
    index: usize,
    object: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, CookieError> {
    optional_str(index, object, field)?.ok_or(CookieError::MissingField { index, field })
}

fn optional_str<'a>(
    index: usize,
    object: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, CookieError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CookieError::WrongType { index, field }),
    }
}

fn optional_bool(
    index: usize,
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<bool, CookieError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(CookieError::WrongType { index, field }),
    }
}

/// `instagram.com`, `.instagram.com` or any subdomain, case-insensitive.
fn is_instagram_domain(domain: &str) -> bool {
    let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
    domain == "instagram.com" || domain.ends_with(".instagram.com")
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDIT_THIS_COOKIE: &str = r#"[
      {"domain": ".instagram.com", "expirationDate": 1798000000.5, "hostOnly": false,
       "httpOnly": true, "name": "sessionid", "path": "/", "sameSite": "no_restriction",
       "secure": true, "session": false, "storeId": "0", "value": "123%3Aabc%3A9", "id": 1},
      {"domain": ".instagram.com", "name": "csrftoken", "value": "tok", "path": "/",
       "secure": true, "httpOnly": false, "sameSite": "lax"},
      {"domain": ".facebook.com", "name": "c_user", "value": "x"},
      {"domain": "www.Instagram.com", "name": "ig_nrcb", "value": "1", "expires": -1},
      {"name": "ds_user_id", "value": "42", "expires": 1798000000}
    ]"#;

    #[test]
    fn parses_an_extension_export() {
        let cookies = parse_cookie_json(EDIT_THIS_COOKIE).unwrap();
        let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["sessionid", "csrftoken", "ig_nrcb", "ds_user_id"]);
        let session = &cookies[0];
        assert_eq!(session.value.expose_secret(), "123%3Aabc%3A9");
        assert_eq!(session.path.as_deref(), Some("/"));
        assert!(session.http_only && session.secure);
        assert_eq!(session.expires, Some(1_798_000_000));
        assert_eq!(cookies[2].expires, None);
        assert_eq!(cookies[3].expires, Some(1_798_000_000));
        assert!(!cookies[3].http_only && !cookies[3].secure);
        assert!(session.is_expired(1_798_000_000));
        assert!(!session.is_expired(1_797_999_999));
    }

    #[test]
    fn debug_hides_values() {
        let cookies = parse_cookie_json(EDIT_THIS_COOKIE).unwrap();
        let text = format!("{cookies:?}");
        assert!(!text.contains("123%3Aabc"));
        assert!(!text.contains("tok\""));
    }

    #[test]
    fn refuses_with_distinct_errors() {
        use CookieError as E;
        let cases: &[(&str, E)] = &[
            ("", E::Empty),
            ("sessionid=abc", E::NotJson { line: 1, column: 1 }),
            (
                "[{\"name\": \"sessionid\",",
                E::NotJson {
                    line: 1,
                    column: 22,
                },
            ),
            (
                r#"{"name":"sessionid","value":"x"}"#,
                E::NotAnArray("object"),
            ),
            ("\"text\"", E::NotAnArray("string")),
            ("[]", E::EmptyArray),
            ("[1]", E::NotAnObject(1)),
            (
                r#"[{"value":"x"}]"#,
                E::MissingField {
                    index: 1,
                    field: "name",
                },
            ),
            (
                r#"[{"name":"sessionid"}]"#,
                E::MissingField {
                    index: 1,
                    field: "value",
                },
            ),
            (
                r#"[{"name":"sessionid","value":5}]"#,
                E::WrongType {
                    index: 1,
                    field: "value",
                },
            ),
            (r#"[{"name":" ","value":"x"}]"#, E::EmptyName(1)),
            (
                r#"[{"name":"sessionid","value":""}]"#,
                E::EmptyValue("sessionid".into()),
            ),
            (r#"[{"name":"csrftoken","value":"x"}]"#, E::MissingSessionId),
            (
                r#"[{"name":"sessionid","value":"x","domain":".facebook.com"}]"#,
                E::MissingSessionId,
            ),
            (
                r#"[{"name":"sessionid","value":"x","domain":"notinstagram.com"}]"#,
                E::MissingSessionId,
            ),
            (
                r#"[{"name":"sessionid","value":"x","httpOnly":"yes"}]"#,
                E::WrongType {
                    index: 1,
                    field: "httpOnly",
                },
            ),
            (
                r#"[{"name":"sessionid","value":"x","expirationDate":"soon"}]"#,
                E::WrongType {
                    index: 1,
                    field: "expirationDate",
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_cookie_json(input).err().as_ref(),
                Some(expected),
                "{input}"
            );
        }
        let huge = format!("[{}]", "1,".repeat(MAX_JSON));
        assert_eq!(parse_cookie_json(&huge).err(), Some(E::TooLarge));
    }

    #[test]
    fn error_messages_never_contain_values() {
        let err = parse_cookie_json(r#"[{"name":"csrftoken","value":"secretvalue"}]"#).unwrap_err();
        assert!(!err.to_string().contains("secretvalue"));
        let err = parse_cookie_json(r#"[{"name":"sessionid","value":"secret"#).unwrap_err();
        assert!(!err.to_string().contains("secret\""));
    }

    #[test]
    fn domains() {
        for ok in [
            "instagram.com",
            ".instagram.com",
            "www.instagram.com",
            "I.INSTAGRAM.COM",
        ] {
            assert!(is_instagram_domain(ok), "{ok}");
        }
        for bad in [
            "evilinstagram.com",
            "instagram.com.evil",
            "facebook.com",
            "",
        ] {
            assert!(!is_instagram_domain(bad), "{bad}");
        }
    }
}
