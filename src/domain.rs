//! Pure domain types: usernames, ids, account states, verdicts and modes (no IO, no actix).

mod account;
mod ids;
mod mode;
mod notice;
mod username;
mod verdict;

pub use account::{AccountState, ProbeEffect, apply_verdict};
pub use ids::{AccountId, CycleId, KeyId, OutboxId, UserId};
pub use mode::{Lang, Mode, Role};
pub use notice::{CycleStats, Notice};
pub use username::{Username, UsernameError};
pub use verdict::{ProfileFacts, Source, UnknownReason, Verdict};
