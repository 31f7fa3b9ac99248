//! Proxy specifications as operators type them: parsing (single and bulk) and safe display.
//!
//! Accepted forms (scheme case-insensitive, port 1..=65535):
//! - `scheme://host:port` and `scheme://user:pass@host:port` with scheme `http`, `https`,
//!   `socks5` or `socks5h` (an alias of `socks5`: igwatch always lets the proxy resolve names);
//! - `host:port` and `host:port:user:pass` (scheme `http`).
//!
//! `host` is a DNS name, an IPv4 address, or an IPv6 address in brackets (`[2001:db8::1]:8080`).
//! Credentials are taken literally (no percent-decoding); in the URL form the password runs to the
//! last `@`, in the colon form it is everything after the third colon. `https` means what it meant
//! in the old bot: an HTTP proxy used with `CONNECT` (no TLS to the proxy itself).

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Longest accepted proxy line; anything longer is not a proxy.
const MAX_LINE: usize = 1024;
/// RFC 1929 limits a SOCKS5 username and password to 255 bytes each; HTTP proxies get the same.
const MAX_CREDENTIAL: usize = 255;
/// How many characters of an unparsable line a bulk report repeats back.
const MAX_ECHO: usize = 80;

/// How igwatch talks to a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyScheme {
    /// HTTP proxy: absolute-URI requests and `CONNECT` tunnels.
    Http,
    /// Written `https` by operators; used exactly like [`ProxyScheme::Http`].
    Https,
    /// SOCKS5, host names resolved by the proxy.
    Socks5,
}

impl ProxyScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
            ProxyScheme::Socks5 => "socks5",
        }
    }

    /// Whether the proxy speaks HTTP (as opposed to SOCKS5).
    pub fn is_http(self) -> bool {
        matches!(self, ProxyScheme::Http | ProxyScheme::Https)
    }
}

impl fmt::Display for ProxyScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProxyScheme {
    type Err = ProxyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Ok(ProxyScheme::Http),
            "https" => Ok(ProxyScheme::Https),
            "socks5" | "socks5h" => Ok(ProxyScheme::Socks5),
            _ => Err(ProxyParseError::UnsupportedScheme(echo(s))),
        }
    }
}

/// Credentials for a proxy. The password never appears in `Debug` or `Display` output.
#[derive(Clone)]
pub struct ProxyAuth {
    pub username: String,
    pub password: SecretString,
}

impl fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyAuth")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// One proxy: where it is, how to talk to it, and optional credentials.
#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub scheme: ProxyScheme,
    /// Lower-case DNS name or IP address; IPv6 without brackets.
    pub host: String,
    pub port: u16,
    pub auth: Option<ProxyAuth>,
}

/// Why a proxy line was refused. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyParseError {
    #[error("the proxy is empty")]
    Empty,
    #[error("the proxy is longer than {MAX_LINE} characters")]
    TooLong,
    #[error("unsupported proxy scheme `{0}`: use http, https or socks5")]
    UnsupportedScheme(String),
    #[error(
        "unrecognised proxy format: use scheme://[user:pass@]host:port, host:port or host:port:user:pass"
    )]
    BadFormat,
    #[error("invalid proxy host `{0}`")]
    InvalidHost(String),
    #[error("the proxy has no port")]
    MissingPort,
    #[error("invalid proxy port `{0}`: expected a number from 1 to 65535")]
    InvalidPort(String),
    #[error("the proxy has a username but no password")]
    MissingPassword,
    #[error("the proxy has a password but no username")]
    MissingUsername,
    #[error("the proxy username or password is longer than {MAX_CREDENTIAL} bytes")]
    CredentialTooLong,
    #[error("the proxy URL has a path, query or fragment after the port")]
    TrailingPath,
}

impl ProxySpec {
    /// Parses one proxy in any of the operators' formats (see the module docs).
    pub fn parse(text: &str) -> Result<ProxySpec, ProxyParseError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ProxyParseError::Empty);
        }
        if text.len() > MAX_LINE {
            return Err(ProxyParseError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(ProxyParseError::BadFormat);
        }
        match text.split_once("://") {
            Some((scheme, rest)) => parse_url_form(scheme.parse()?, rest),
            None => parse_colon_form(text),
        }
    }

    /// `scheme://host:port`, the key under which duplicates are detected.
    pub fn dedupe_key(&self) -> String {
        format!("{}://{}", self.scheme, self.authority())
    }

    /// `host:port`, with an IPv6 host in brackets.
    pub fn authority(&self) -> String {
        format!("{}:{}", bracketed(&self.host), self.port)
    }

    /// The proxy for people and logs: `http://user:***@host:port` or `http://host:port`.
    pub fn display_safe(&self) -> String {
        safe_text(
            self.scheme,
            &self.host,
            self.port,
            self.auth.as_ref().map(|a| a.username.as_str()),
        )
    }
}

impl fmt::Display for ProxySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_safe())
    }
}

/// The safe display form from stored parts (the store has no password at hand when listing).
pub fn safe_text(scheme: ProxyScheme, host: &str, port: u16, username: Option<&str>) -> String {
    match username {
        Some(user) => format!("{scheme}://{user}:***@{}:{port}", bracketed(host)),
        None => format!("{scheme}://{}:{port}", bracketed(host)),
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn parse_url_form(scheme: ProxyScheme, rest: &str) -> Result<ProxySpec, ProxyParseError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, rest),
    };
    if hostport.contains(['/', '?', '#']) {
        return Err(ProxyParseError::TrailingPath);
    }
    let (host, after) = split_host(hostport)?;
    let port = match after {
        None => return Err(ProxyParseError::MissingPort),
        Some(port) => parse_port(port)?,
    };
    let auth = match userinfo {
        None => None,
        Some(info) => {
            let (user, pass) = info.split_once(':').unwrap_or((info, ""));
            credentials(user, pass)?
        }
    };
    Ok(ProxySpec {
        scheme,
        host,
        port,
        auth,
    })
}

fn parse_colon_form(text: &str) -> Result<ProxySpec, ProxyParseError> {
    if text.contains('@') || text.contains('/') {
        return Err(ProxyParseError::BadFormat);
    }
    let (host, after) = split_host(text)?;
    let after = after.ok_or(ProxyParseError::MissingPort)?;
    let mut parts = after.splitn(3, ':');
    let port = parse_port(parts.next().unwrap_or_default())?;
    let auth = match (parts.next(), parts.next()) {
        (None, _) => None,
        (Some(user), None) => credentials(user, "")?,
        (Some(user), Some(pass)) => credentials(user, pass)?,
    };
    Ok(ProxySpec {
        scheme: ProxyScheme::Http,
        host,
        port,
        auth,
    })
}

/// Splits `host[:rest]` (host possibly a bracketed IPv6) and validates the host.
fn split_host(text: &str) -> Result<(String, Option<&str>), ProxyParseError> {
    if let Some(inner) = text.strip_prefix('[') {
        let (v6, after) = inner
            .split_once(']')
            .ok_or_else(|| ProxyParseError::InvalidHost(echo(text)))?;
        let addr: Ipv6Addr = v6
            .parse()
            .map_err(|_| ProxyParseError::InvalidHost(echo(v6)))?;
        return match after {
            "" => Ok((addr.to_string(), None)),
            _ => match after.strip_prefix(':') {
                Some(rest) => Ok((addr.to_string(), Some(rest))),
                None => Err(ProxyParseError::BadFormat),
            },
        };
    }
    let (host, rest) = match text.split_once(':') {
        Some((host, rest)) => (host, Some(rest)),
        None => (text, None),
    };
    Ok((valid_host(host)?, rest))
}

fn valid_host(host: &str) -> Result<String, ProxyParseError> {
    let invalid = || ProxyParseError::InvalidHost(echo(host));
    if host.is_empty() || host.len() > 253 {
        return Err(invalid());
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(host.to_owned());
    }
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    // A name made of digits and dots only is a malformed IPv4 address, not a host name.
    let all_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if labels_ok && !all_numeric {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(invalid())
    }
}

fn parse_port(text: &str) -> Result<u16, ProxyParseError> {
    if text.is_empty() {
        return Err(ProxyParseError::MissingPort);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 5 {
        return Err(ProxyParseError::InvalidPort(echo(text)));
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ProxyParseError::InvalidPort(echo(text))),
    }
}

fn credentials(user: &str, pass: &str) -> Result<Option<ProxyAuth>, ProxyParseError> {
    match (user.is_empty(), pass.is_empty()) {
        (true, true) => Err(ProxyParseError::MissingUsername),
        (false, true) => Err(ProxyParseError::MissingPassword),
        (true, false) => Err(ProxyParseError::MissingUsername),
        (false, false) if user.len() > MAX_CREDENTIAL || pass.len() > MAX_CREDENTIAL => {
            Err(ProxyParseError::CredentialTooLong)
        }
        (false, false) => Ok(Some(ProxyAuth {
            username: user.to_owned(),
            password: SecretString::from(pass.to_owned()),
        })),
    }
}

/// A short prefix of user input, for error messages.
fn echo(text: &str) -> String {
    let mut out: String = text.chars().take(MAX_ECHO).collect();
    if text.chars().count() > MAX_ECHO {
        out.push('…');
    }
    out
}

/// One refused item of a bulk import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkLineError {
    /// 1-based position of the item (line, or `;`-separated item).
    pub line: usize,
    /// The item with anything that may be a password replaced by `***`, shortened.
    pub text: String,
    pub error: ProxyParseError,
}

/// Result of [`parse_bulk`].
#[derive(Debug, Default)]
pub struct BulkReport {
    /// Valid proxies, first occurrence of each `scheme://host:port`, in input order.
    pub parsed: Vec<ProxySpec>,
    /// Valid items dropped because an earlier item had the same `scheme://host:port`.
    pub duplicates: usize,
    pub errors: Vec<BulkLineError>,
}

/// Parses many proxies: split on `;` when the text has any, else on newlines; empty items and
/// items starting with `#` are skipped; duplicates (by `scheme://host:port`) are dropped.
pub fn parse_bulk(text: &str) -> BulkReport {
    let items: Vec<&str> = if text.contains(';') {
        text.split(';').collect()
    } else {
        text.lines().collect()
    };
    let mut report = BulkReport::default();
    let mut seen = HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let item = item.trim();
        if item.is_empty() || item.starts_with('#') {
            continue;
        }
        match ProxySpec::parse(item) {
            Ok(spec) => {
                if seen.insert(spec.dedupe_key()) {
                    report.parsed.push(spec);
                } else {
                    report.duplicates += 1;
                }
            }
            Err(error) => report.errors.push(BulkLineError {
                line: index + 1,
                text: redact(item),
                error,
            }),
        }
    }
    report
}

/// Hides whatever could be a password in an unparsable item: the part between the first `:`
/// of the user-info and the last `@` in URL form, everything after the third `:` otherwise.
fn redact(item: &str) -> String {
    let redacted = if let Some((scheme, rest)) = item.split_once("://") {
        match rest.rsplit_once('@') {
            Some((info, hostport)) => match info.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{hostport}"),
                None => format!("{scheme}://{info}@{hostport}"),
            },
            None => item.to_owned(),
        }
    } else {
        let mut parts = item.splitn(4, ':');
        let head: Vec<&str> = parts.by_ref().take(3).collect();
        match parts.next() {
            Some(_) => format!("{}:***", head.join(":")),
            None => item.to_owned(),
        }
    };
    echo(&redacted)
}

impl ProxyAuth {
    /// `Basic base64(user:pass)`, the value of a `Proxy-Authorization` header.
    pub fn basic_header(&self) -> SecretString {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.username, self.password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        drop(SecretString::from(raw));
        SecretString::from(format!("Basic {encoded}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(input, expected display_safe, expected password)`.
    const GOOD: &[(&str, &str, Option<&str>)] = &[
        ("http://1.2.3.4:8080", "http://1.2.3.4:8080", None),
        (
            "HTTP://Proxy.Example.com:3128",
            "http://proxy.example.com:3128",
            None,
        ),
        (
            "https://u:p@h.example:443",
            "https://u:***@h.example:443",
            Some("p"),
        ),
        (
            "socks5://user:pa:ss@10.0.0.1:1080",
            "socks5://user:***@10.0.0.1:1080",
            Some("pa:ss"),
        ),
        ("SOCKS5H://u:p@host:1", "socks5://u:***@host:1", Some("p")),
        (
            "socks5://u:p@ss@host:1080",
            "socks5://u:***@host:1080",
            Some("p@ss"),
        ),
        ("http://host:8080/", "http://host:8080", None),
        ("host.example:65535", "http://host.example:65535", None),
        ("  1.2.3.4:80  ", "http://1.2.3.4:80", None),
        (
            "1.2.3.4:80:alice:s3cr:et",
            "http://alice:***@1.2.3.4:80",
            Some("s3cr:et"),
        ),
        (
            "http://[2001:db8::1]:8080",
            "http://[2001:db8::1]:8080",
            None,
        ),
        ("[::1]:3128:u:p", "http://u:***@[::1]:3128", Some("p")),
        (
            "socks5://u:p@[fe80::1]:1080",
            "socks5://u:***@[fe80::1]:1080",
            Some("p"),
        ),
        (
            "my_proxy-1.local:8000",
            "http://my_proxy-1.local:8000",
            None,
        ),
    ];

    #[test]
    fn accepts_every_operator_format() {
        for (input, shown, password) in GOOD {
            let spec = ProxySpec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(spec.display_safe(), *shown, "{input}");
            assert_eq!(spec.to_string(), *shown, "{input}");
            assert_eq!(
                spec.auth
                    .as_ref()
                    .map(|a| a.password.expose_secret().to_owned()),
                password.map(str::to_owned),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_bad_input_with_a_named_reason() {
        use ProxyParseError as E;
        let cases: &[(&str, E)] = &[
            ("", E::Empty),
            ("   ", E::Empty),
            ("ftp://h:21", E::UnsupportedScheme("ftp".into())),
            ("socks4://h:1080", E::UnsupportedScheme("socks4".into())),
            ("://h:1", E::UnsupportedScheme(String::new())),
            ("http://h", E::MissingPort),
            ("http://h:", E::MissingPort),
            ("h", E::MissingPort),
            ("http://h:0", E::InvalidPort("0".into())),
            ("http://h:65536", E::InvalidPort("65536".into())),
            ("http://h:99999999", E::InvalidPort("99999999".into())),
            ("http://h:-1", E::InvalidPort("-1".into())),
            ("http://h:80a", E::InvalidPort("80a".into())),
            ("h:port", E::InvalidPort("port".into())),
            ("http://user@h:80", E::MissingPassword),
            ("http://user:@h:80", E::MissingPassword),
            ("http://:pass@h:80", E::MissingUsername),
            ("http://@h:80", E::MissingUsername),
            ("h:80:user", E::MissingPassword),
            ("h:80:user:", E::MissingPassword),
            ("h:80::pass", E::MissingUsername),
            ("http://h:80/path", E::TrailingPath),
            ("http://h:80?x=1", E::TrailingPath),
            ("http://exa mple:80", E::InvalidHost("exa mple".into())),
            ("http://-bad.com:80", E::InvalidHost("-bad.com".into())),
            ("http://a..b:80", E::InvalidHost("a..b".into())),
            ("http://999.1.1.1:80", E::InvalidHost("999.1.1.1".into())),
            ("http://[::1:80", E::InvalidHost("[::1:80".into())),
            ("http://[zz::1]:80", E::InvalidHost("zz::1".into())),
            ("http://[::1]80", E::BadFormat),
            ("u:p@h:80", E::BadFormat),
            ("h:80\u{0}", E::BadFormat),
        ];
        for (input, expected) in cases {
            assert_eq!(
                ProxySpec::parse(input).err().as_ref(),
                Some(expected),
                "{input:?}"
            );
        }
        let long = format!("http://{}:80", "a".repeat(MAX_LINE));
        assert_eq!(ProxySpec::parse(&long).err(), Some(E::TooLong));
        let long_pass = format!("h:80:u:{}", "p".repeat(256));
        assert_eq!(
            ProxySpec::parse(&long_pass).err(),
            Some(E::CredentialTooLong)
        );
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for input in [
            "http://user:hunter2@h:0",
            "h:99999:user:hunter2",
            "ftp://user:hunter2@h:1",
            "http://user:hunter2@bad host:1",
        ] {
            let err = ProxySpec::parse(input).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{input}: {err}");
            let report = parse_bulk(input);
            assert!(!format!("{report:?}").contains("hunter2"), "{input}");
        }
    }

    #[test]
    fn debug_and_display_hide_the_password() {
        let spec = ProxySpec::parse("socks5://alice:hunter2@h:1080").unwrap();
        assert!(!format!("{spec:?}").contains("hunter2"));
        assert!(!format!("{spec:#?}").contains("hunter2"));
        assert!(!spec.to_string().contains("hunter2"));
        assert_eq!(spec.to_string(), "socks5://alice:***@h:1080");
    }

    #[test]
    fn basic_header_is_rfc7617() {
        let spec = ProxySpec::parse("http://Aladdin:open sesame@h:1").unwrap();
        let header = spec.auth.unwrap().basic_header();
        assert_eq!(header.expose_secret(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn bulk_splits_on_semicolons_when_present() {
        let report = parse_bulk("1.1.1.1:80; socks5://u:p@h:1080 ;;# comment; bad:0");
        assert_eq!(report.parsed.len(), 2);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 5);
        assert_eq!(report.errors[0].text, "bad:0");
        assert_eq!(
            report.errors[0].error,
            ProxyParseError::InvalidPort("0".into())
        );
    }

    #[test]
    fn bulk_splits_on_lines_skips_comments_and_dedupes() {
        let text = "# my proxies\n\nhttp://a:1\nHTTP://A:1\nhttp://u:p@a:1\nhttps://a:1\n\
                    a:1:u:p\nsocks5h://x:2\nsocks5://x:2\nh:80:user:hunter2:more\nh:99999:u:hunter2\n";
        let report = parse_bulk(text);
        let keys: Vec<String> = report.parsed.iter().map(ProxySpec::dedupe_key).collect();
        assert_eq!(
            keys,
            ["http://a:1", "https://a:1", "socks5://x:2", "http://h:80"]
        );
        assert_eq!(report.duplicates, 4);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 11);
        assert_eq!(report.errors[0].text, "h:99999:u:***");
    }

    #[test]
    fn bulk_survives_50_kb_of_garbage() {
        let mut garbage = String::new();
        let mut x: u32 = 12345;
        while garbage.len() < 50 * 1024 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let c = char::from_u32((x >> 16) % 0x250).unwrap_or('?');
            garbage.push(if x % 17 == 0 { '\n' } else { c });
        }
        let report = parse_bulk(&garbage);
        assert!(report.parsed.len() + report.errors.len() > 0);
        assert!(
            report
                .errors
                .iter()
                .all(|e| e.text.chars().count() <= MAX_ECHO + 1)
        );
        let one_line = "x".repeat(50 * 1024);
        let report = parse_bulk(&one_line);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].error, ProxyParseError::TooLong);
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("http://u:secret@h:0"), "http://u:***@h:0");
        assert_eq!(redact("http://u@h:0"), "http://u@h:0");
        assert_eq!(redact("h:1:u:secret:x"), "h:1:u:***");
        assert_eq!(redact("h:1:u"), "h:1:u");
    }

    #[test]
    fn scheme_round_trip() {
        for scheme in [ProxyScheme::Http, ProxyScheme::Https, ProxyScheme::Socks5] {
            assert_eq!(scheme.as_str().parse::<ProxyScheme>(), Ok(scheme));
        }
        assert!(ProxyScheme::Https.is_http());
        assert!(!ProxyScheme::Socks5.is_http());
    }
}
