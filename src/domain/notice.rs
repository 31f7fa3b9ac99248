//! Notices: what the daemon tells a chat, stored language-neutral in the outbox and rendered at send time.

use super::{AccountId, CycleId, ProxyId, SessionId, Source, UnknownReason, Username};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One message to one chat, as facts. The notifier renders it in the recipient's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A watched account is live again.
    Restored {
        account: AccountId,
        username: Username,
        started_at: DateTime<Utc>,
        period_days: u32,
        restored_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        private: bool,
        /// The signals that decided, e.g. `[instagram_web]` or `[rapidapi, browser]`.
        sources: Vec<Source>,
    },
    /// The promised period of an account ended without a restore.
    Expired {
        account: AccountId,
        username: Username,
        started_at: DateTime<Utc>,
        period_days: u32,
    },
    /// Some of the owner's accounts need an Instagram session and there is none.
    NoSession { accounts: u32 },
    /// Every RapidAPI key of the owner is exhausted (or there is none).
    QuotaExhausted,
    /// Instagram refused one of the owner's sessions (login wall or checkpoint); other sessions
    /// are used meanwhile.
    SessionRefused { session: SessionId },
    /// One of the owner's proxies failed repeatedly and was disabled (re-tested later).
    ProxyDisabled { proxy: ProxyId, address: String },
    /// The admin's warning: the canary is not live on an egress, so its not-found verdicts are
    /// recorded as unknown until it is.
    CanaryFailed {
        canary: Username,
        egress: String,
        verdict: String,
    },
    /// The admin's summary of one cycle.
    Digest { cycle: CycleId, stats: CycleStats },
    /// The daily reminder: pending accounts whose period ends soon (account, name, end).
    ExpiringSoon {
        accounts: Vec<(AccountId, Username, DateTime<Utc>)>,
    },
}

impl Notice {
    /// Stable name stored in the outbox's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Restored { .. } => "restored",
            Notice::Expired { .. } => "expired",
            Notice::NoSession { .. } => "no_session",
            Notice::QuotaExhausted => "quota_exhausted",
            Notice::SessionRefused { .. } => "session_refused",
            Notice::ProxyDisabled { .. } => "proxy_disabled",
            Notice::CanaryFailed { .. } => "canary_failed",
            Notice::Digest { .. } => "digest",
            Notice::ExpiringSoon { .. } => "expiring_soon",
        }
    }
}

/// Counts of one cycle, for the admin digest and the `cycles` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleStats {
    /// Accounts that received a verdict from a probe.
    pub checked: u32,
    pub restored: u32,
    pub exists: u32,
    pub not_found: u32,
    /// Accounts whose probe ended `Unknown`, by reason.
    pub unknown: BTreeMap<UnknownReason, u32>,
    /// Accounts not probed at all, by reason (e.g. `no_session`).
    pub skipped: BTreeMap<UnknownReason, u32>,
    /// Wall time of the cycle in milliseconds.
    pub duration_ms: u64,
}

impl CycleStats {
    pub fn unknown_total(&self) -> u32 {
        self.unknown.values().sum()
    }

    pub fn skipped_total(&self) -> u32 {
        self.skipped.values().sum()
    }
}
