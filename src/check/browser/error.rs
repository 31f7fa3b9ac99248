//! Browser failures: `BrowserError` with its one classification (`session_lost`), and the mapping of
//! Chromium's network error codes to `Unknown` reasons.

use crate::domain::UnknownReason;
use std::time::Duration;
use thirtyfour::error::{WebDriverError, WebDriverErrorInfo, WebDriverErrorInner};

/// A browser operation that could not be completed. A probe that ran but could not decide is not an
/// error: it is a `Verdict::Unknown` in a [`super::BrowserProbe`].
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The temporary Chromium profile directory could not be created.
    #[error("failed to create a browser profile directory: {0}")]
    Profile(#[source] std::io::Error),
    /// The HTTP client that talks to the WebDriver endpoint could not be built.
    #[error("failed to build the WebDriver client: {0}")]
    Client(String),
    /// The WebDriver endpoint answered with an error, or could not be reached.
    #[error("failed to {action}: {detail}")]
    Driver {
        action: &'static str,
        /// The driver's message without its stack trace.
        detail: String,
        lost: bool,
    },
    /// The WebDriver endpoint did not answer within our own deadline.
    #[error("failed to {action}: the WebDriver endpoint did not answer within {} s", after.as_secs())]
    Unresponsive {
        action: &'static str,
        after: Duration,
    },
}

impl BrowserError {
    /// Wraps a thirtyfour error, classifying it once.
    pub(super) fn driver(action: &'static str, error: &WebDriverError) -> Self {
        BrowserError::Driver {
            action,
            detail: detail(error),
            lost: is_lost(error),
        }
    }

    /// True when the session is gone or can no longer be trusted: the caller discards it (best-effort
    /// quit) and creates a new one. False for errors the same session survives (a cookie refused, a
    /// screenshot that failed, the profile directory).
    #[must_use]
    pub fn session_lost(&self) -> bool {
        match self {
            BrowserError::Profile(_) | BrowserError::Client(_) => false,
            BrowserError::Driver { lost, .. } => *lost,
            BrowserError::Unresponsive { .. } => true,
        }
    }
}

/// Phrases of chromedriver and Selenium messages that mean the browser or its session is gone.
const LOST_MARKERS: [&str; 9] = [
    "invalid session id",
    "chrome not reachable",
    "session deleted",
    "tab crashed",
    "page crash",
    "disconnected",
    "not connected to devtools",
    "no such window",
    "target window already closed",
];

/// Whether `error` means the session must be replaced.
fn is_lost(error: &WebDriverError) -> bool {
    use WebDriverErrorInner as E;
    match error.as_inner() {
        // Transport failures: connection refused or reset, HTTP client timeout, a closed session.
        E::RequestFailed(_)
        | E::HttpError(_)
        | E::IoError(_)
        | E::Timeout(_)
        | E::FatalError(_)
        | E::CommandSendError(_)
        | E::CommandRecvError(_)
        | E::SessionCreateError(_)
        // A proxy or Grid answering something that is not WebDriver.
        | E::UnknownResponse(..)
        | E::InvalidSessionId(_)
        | E::NoSuchWindow(_)
        | E::SessionNotCreated(_)
        // A WebDriver command timed out (page loads are handled before this classification).
        | E::WebDriverTimeout(_)
        | E::ScriptTimeout(_) => true,
        _ => {
            let message = info(error).map_or_else(|| error.to_string(), |i| i.value.message.clone());
            let message = message.to_ascii_lowercase();
            LOST_MARKERS.iter().any(|marker| message.contains(marker))
        }
    }
}

/// True for a page-load timeout answered by the driver (the W3C `timeout` error of a navigation).
pub(super) fn is_driver_timeout(error: &WebDriverError) -> bool {
    matches!(error.as_inner(), WebDriverErrorInner::WebDriverTimeout(_))
}

/// The error payload the WebDriver server returned, when there is one.
fn info(error: &WebDriverError) -> Option<&WebDriverErrorInfo> {
    use WebDriverErrorInner as E;
    match error.as_inner() {
        E::NotInSpec(i)
        | E::ElementClickIntercepted(i)
        | E::ElementNotInteractable(i)
        | E::InsecureCertificate(i)
        | E::InvalidArgument(i)
        | E::InvalidCookieDomain(i)
        | E::InvalidElementState(i)
        | E::InvalidSelector(i)
        | E::InvalidSessionId(i)
        | E::JavascriptError(i)
        | E::MoveTargetOutOfBounds(i)
        | E::NoSuchAlert(i)
        | E::NoSuchCookie(i)
        | E::NoSuchElement(i)
        | E::NoSuchFrame(i)
        | E::NoSuchWindow(i)
        | E::ScriptTimeout(i)
        | E::SessionNotCreated(i)
        | E::StaleElementReference(i)
        | E::WebDriverTimeout(i)
        | E::UnableToSetCookie(i)
        | E::UnableToCaptureScreen(i)
        | E::UnexpectedAlertOpen(i)
        | E::UnknownCommand(i)
        | E::UnknownError(i)
        | E::UnknownMethod(i)
        | E::UnsupportedOperation(i) => Some(i),
        _ => None,
    }
}

/// The driver's message as one line: no stack trace, no "(Session info: …)" lines.
fn detail(error: &WebDriverError) -> String {
    let Some(info) = info(error) else {
        return error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
    };
    info.value
        .message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("(Session info"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Chromium's `net::ERR_…` code in a navigation error ("unknown error: net::ERR_PROXY_CONNECTION_FAILED").
pub(super) fn navigation_net_error(error: &WebDriverError) -> Option<String> {
    let message = info(error)?.value.message.as_str();
    let start = message.find("net::ERR_")? + "net::".len();
    Some(error_code_at(&message[start..]))
}

/// The `errorCode` of Chromium's network error page (`loadTimeDataRaw = {…"errorCode":"ERR_…"…}`).
pub(super) fn error_page_code(html: &str) -> Option<String> {
    const MARKER: &str = "\"errorCode\":\"";
    let start = html.find(MARKER)? + MARKER.len();
    let code = error_code_at(&html[start..]);
    code.starts_with("ERR_").then_some(code)
}

fn error_code_at(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
        .collect()
}

/// Maps a Chromium network error code to the `Unknown` reason and the rule name recorded for it.
pub(super) fn net_error_reason(code: &str) -> (UnknownReason, &'static str) {
    match code {
        "ERR_PROXY_AUTH_REQUESTED"
        | "ERR_PROXY_AUTH_UNSUPPORTED"
        | "ERR_PROXY_AUTH_REQUESTED_WITH_NO_CONNECTION"
        | "ERR_UNEXPECTED_PROXY_AUTH" => (UnknownReason::ProxyAuth, "proxy_auth_error"),
        c if c.contains("PROXY") || c.contains("TUNNEL") || c.contains("SOCKS") => {
            (UnknownReason::Proxy, "proxy_error")
        }
        "ERR_TIMED_OUT" | "ERR_CONNECTION_TIMED_OUT" => (UnknownReason::Timeout, "network_timeout"),
        _ => (UnknownReason::Network, "network_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(
        make: fn(WebDriverErrorInfo) -> WebDriverError,
        message: &str,
    ) -> WebDriverError {
        let mut info = WebDriverErrorInfo::new(message.to_owned());
        info.value.message = message.to_owned();
        make(info)
    }

    #[test]
    fn crashes_and_dead_sessions_are_lost() {
        let lost = [
            server_error(
                WebDriverError::InvalidSessionId,
                "invalid session id: session deleted as the browser has closed the connection\nfrom disconnected: not connected to DevTools",
            ),
            server_error(
                WebDriverError::UnknownError,
                "unknown error: session deleted because of page crash\nfrom tab crashed\n  (Session info: chrome=156.0)",
            ),
            server_error(
                WebDriverError::UnknownError,
                "unknown error: chrome not reachable",
            ),
            server_error(
                WebDriverError::SessionNotCreated,
                "session not created: from chrome not reachable",
            ),
            server_error(
                WebDriverError::WebDriverTimeout,
                "timeout: Timed out receiving message from renderer: 10.000",
            ),
            WebDriverError::HttpError(
                "error sending request for url (http://127.0.0.1:9515/session)".to_owned(),
            ),
            WebDriverError::RequestFailed("connection refused".to_owned()),
        ];
        for error in &lost {
            assert!(
                BrowserError::driver("probe", error).session_lost(),
                "{error}"
            );
        }
        let unresponsive = BrowserError::Unresponsive {
            action: "take a screenshot",
            after: Duration::from_secs(15),
        };
        assert!(unresponsive.session_lost());
    }

    #[test]
    fn errors_the_session_survives_are_not_lost() {
        let kept = [
            server_error(WebDriverError::InvalidCookieDomain, "invalid cookie domain"),
            server_error(WebDriverError::UnableToSetCookie, "unable to set cookie"),
            server_error(
                WebDriverError::NoSuchElement,
                "no such element: Unable to locate element",
            ),
            server_error(
                WebDriverError::UnableToCaptureScreen,
                "unable to capture screen",
            ),
            server_error(
                WebDriverError::UnknownError,
                "unknown error: net::ERR_PROXY_CONNECTION_FAILED",
            ),
        ];
        for error in &kept {
            assert!(
                !BrowserError::driver("probe", error).session_lost(),
                "{error}"
            );
        }
        let profile = BrowserError::Profile(std::io::Error::other("disk full"));
        assert!(!profile.session_lost());
    }

    #[test]
    fn detail_drops_session_info_and_stack_trace() {
        let mut info = WebDriverErrorInfo::new("x".to_owned());
        info.value.message = "unknown error: session deleted because of page crash\nfrom tab crashed\n  (Session info: chrome=156.0)".to_owned();
        info.value.stacktrace = Some("#0 0x55 <unknown>".to_owned());
        let error = BrowserError::driver("open a page", &WebDriverError::UnknownError(info));
        assert_eq!(
            error.to_string(),
            "failed to open a page: unknown error: session deleted because of page crash; from tab crashed"
        );
    }

    #[test]
    fn net_errors_map_to_reasons() {
        let error = server_error(
            WebDriverError::UnknownError,
            "unknown error: net::ERR_PROXY_CONNECTION_FAILED\n  (Session info: chrome=156.0)",
        );
        let code = navigation_net_error(&error);
        assert_eq!(code.as_deref(), Some("ERR_PROXY_CONNECTION_FAILED"));
        let cases = [
            ("ERR_PROXY_CONNECTION_FAILED", UnknownReason::Proxy),
            ("ERR_TUNNEL_CONNECTION_FAILED", UnknownReason::Proxy),
            ("ERR_SOCKS_CONNECTION_FAILED", UnknownReason::Proxy),
            ("ERR_PROXY_AUTH_UNSUPPORTED", UnknownReason::ProxyAuth),
            ("ERR_PROXY_AUTH_REQUESTED", UnknownReason::ProxyAuth),
            ("ERR_CONNECTION_REFUSED", UnknownReason::Network),
            ("ERR_NAME_NOT_RESOLVED", UnknownReason::Network),
            ("ERR_TIMED_OUT", UnknownReason::Timeout),
        ];
        for (code, reason) in cases {
            assert_eq!(net_error_reason(code).0, reason, "{code}");
        }
    }

    #[test]
    fn error_page_code_is_read_from_load_time_data() {
        let html = r#"<div class="error-code">ERR_PROXY_CONNECTION_FAILED</div><script>loadTimeDataRaw = {"details":"Details","errorCode":"ERR_PROXY_CONNECTION_FAILED","fontfamily":"x"}</script>"#;
        assert_eq!(
            error_page_code(html).as_deref(),
            Some("ERR_PROXY_CONNECTION_FAILED")
        );
        assert_eq!(
            error_page_code("<html><head></head><body></body></html>"),
            None
        );
    }
}
