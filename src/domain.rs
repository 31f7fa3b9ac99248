//! Pure domain types: usernames, ids, account states, verdicts and modes (no IO, no actix).

mod account;
mod cookies;
mod ids;
mod mode;
mod notice;
mod proxy;
mod username;
mod verdict;

pub use account::{AccountState, ProbeEffect, apply_verdict};
pub use cookies::{Cookie, CookieError, SESSION_COOKIE, parse_cookie_json};
pub use ids::{AccountId, CycleId, KeyId, OutboxId, ProxyId, SessionId, UserId};
pub use mode::{Lang, Mode, Role};
pub use notice::{CycleStats, Notice};
pub use proxy::{
    BulkLineError, BulkReport, ProxyAuth, ProxyParseError, ProxyScheme, ProxySpec, parse_bulk,
    safe_text as proxy_safe_text,
};
pub use username::{Username, UsernameError};
pub use verdict::{ProfileFacts, Source, UnknownReason, Verdict};
