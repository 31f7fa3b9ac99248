//! The result of one probe: exists, not found, or unknown with a reason.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a probe concluded about a profile. `Unknown` never changes an account's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The profile is live (a private profile is live).
    Exists { private: bool, facts: ProfileFacts },
    /// Positive evidence that the profile does not exist.
    NotFound,
    /// Anything that is not positive evidence either way.
    Unknown { reason: UnknownReason },
}

impl Verdict {
    pub fn unknown(reason: UnknownReason) -> Self {
        Verdict::Unknown { reason }
    }

    /// Stable lowercase name used in the database and in `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Exists { .. } => "exists",
            Verdict::NotFound => "not_found",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    pub fn reason(&self) -> Option<UnknownReason> {
        match self {
            Verdict::Unknown { reason } => Some(*reason),
            _ => None,
        }
    }

    pub fn is_private(&self) -> bool {
        matches!(self, Verdict::Exists { private: true, .. })
    }
}

/// Facts read from a live profile, shown in alerts when present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileFacts {
    pub full_name: Option<String>,
    pub followers: Option<u64>,
    pub posts: Option<u64>,
}

/// Why a probe could not decide. The names are stable: they are stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownReason {
    /// 429, "Please wait a few minutes", "Take a quick pause".
    RateLimited,
    /// The page or JSON asked for a login.
    LoginWall,
    /// checkpoint / challenge / feedback required: the session is flagged.
    SessionFlagged,
    /// Every RapidAPI key of the owner is exhausted or none exists.
    Quota,
    /// A RapidAPI key was refused (not subscribed, invalid).
    KeyRejected,
    /// The response named another user than the one asked for.
    Mismatch,
    /// 5xx from the upstream.
    ServerError,
    /// The probe did not finish in time.
    Timeout,
    /// Connection refused, reset, DNS failure.
    Network,
    /// A response no rule recognises.
    Unclassified,
    /// The owner's mode needs an Instagram session and there is none.
    NoSession,
    /// The canary on this egress was not `Exists`, so this `NotFound` is not trusted.
    CanaryFailed,
    /// A screenshot was blank twice.
    BlankScreenshot,
    /// The browser session failed.
    Browser,
    /// The proxy refused the credentials (407, SOCKS5 auth failure).
    ProxyAuth,
    /// The proxy could not be reached or could not connect onwards.
    Proxy,
}

impl UnknownReason {
    pub const ALL: [UnknownReason; 16] = [
        UnknownReason::RateLimited,
        UnknownReason::LoginWall,
        UnknownReason::SessionFlagged,
        UnknownReason::Quota,
        UnknownReason::KeyRejected,
        UnknownReason::Mismatch,
        UnknownReason::ServerError,
        UnknownReason::Timeout,
        UnknownReason::Network,
        UnknownReason::Unclassified,
        UnknownReason::NoSession,
        UnknownReason::CanaryFailed,
        UnknownReason::BlankScreenshot,
        UnknownReason::Browser,
        UnknownReason::ProxyAuth,
        UnknownReason::Proxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnknownReason::RateLimited => "rate_limited",
            UnknownReason::LoginWall => "login_wall",
            UnknownReason::SessionFlagged => "session_flagged",
            UnknownReason::Quota => "quota",
            UnknownReason::KeyRejected => "key_rejected",
            UnknownReason::Mismatch => "mismatch",
            UnknownReason::ServerError => "server_error",
            UnknownReason::Timeout => "timeout",
            UnknownReason::Network => "network",
            UnknownReason::Unclassified => "unclassified",
            UnknownReason::NoSession => "no_session",
            UnknownReason::CanaryFailed => "canary_failed",
            UnknownReason::BlankScreenshot => "blank_screenshot",
            UnknownReason::Browser => "browser",
            UnknownReason::ProxyAuth => "proxy_auth",
            UnknownReason::Proxy => "proxy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which signal produced a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    InstagramWeb,
    Rapidapi,
    Browser,
    /// No probe ran (e.g. skipped for `no_session`).
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::InstagramWeb => "instagram_web",
            Source::Rapidapi => "rapidapi",
            Source::Browser => "browser",
            Source::None => "none",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_round_trip() {
        for r in UnknownReason::ALL {
            assert_eq!(UnknownReason::parse(r.as_str()), Some(r));
        }
    }
}
