//! The account state machine: what a verdict does to a watched account.

use super::Verdict;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Lifecycle of a watched account (DESIGN section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Banned; checked every cycle.
    Pending,
    /// Live again; terminal unless the owner reports a false alarm.
    Restored,
    /// The promised period ended without success; no more probes.
    Expired,
    /// Paused by the owner; no probes.
    Paused,
}

impl AccountState {
    pub const ALL: [AccountState; 4] = [
        AccountState::Pending,
        AccountState::Restored,
        AccountState::Expired,
        AccountState::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Restored => "restored",
            AccountState::Expired => "expired",
            AccountState::Paused => "paused",
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown state `{s}` (expected pending, restored, expired or paused)")
            })
    }
}

/// What recording a verdict does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeEffect {
    /// Nothing but the "last probe" fields change (always the case for `Unknown`).
    Recorded,
    /// One more consecutive `Exists`; `so_far` < required.
    Confirming { so_far: i32 },
    /// The account becomes `Restored`; an alert must be written with it.
    Restore,
    /// `NotFound` broke a run of confirmations.
    ResetConfirmations,
}

/// Decides the effect of `verdict` on an account in `state` with `confirmations` consecutive
/// `Exists` so far, when `required` are needed. Only a pending account can change.
pub fn apply_verdict(
    state: AccountState,
    confirmations: i32,
    required: i32,
    verdict: &Verdict,
) -> ProbeEffect {
    if state != AccountState::Pending {
        return ProbeEffect::Recorded;
    }
    match verdict {
        Verdict::Exists { .. } => {
            let so_far = confirmations + 1;
            if so_far >= required.max(1) {
                ProbeEffect::Restore
            } else {
                ProbeEffect::Confirming { so_far }
            }
        }
        Verdict::NotFound if confirmations > 0 => ProbeEffect::ResetConfirmations,
        Verdict::NotFound | Verdict::Unknown { .. } => ProbeEffect::Recorded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProfileFacts, UnknownReason};

    fn exists() -> Verdict {
        Verdict::Exists {
            private: false,
            facts: ProfileFacts::default(),
        }
    }

    #[test]
    fn exists_restores_a_pending_account_once_confirmed() {
        use AccountState::*;
        assert_eq!(
            apply_verdict(Pending, 0, 1, &exists()),
            ProbeEffect::Restore
        );
        assert_eq!(
            apply_verdict(Pending, 0, 2, &exists()),
            ProbeEffect::Confirming { so_far: 1 }
        );
        assert_eq!(
            apply_verdict(Pending, 1, 2, &exists()),
            ProbeEffect::Restore
        );
        assert_eq!(
            apply_verdict(Pending, 0, 0, &exists()),
            ProbeEffect::Restore
        );
    }

    #[test]
    fn unknown_never_changes_state() {
        for state in AccountState::ALL {
            for reason in UnknownReason::ALL {
                for conf in [0, 1, 5] {
                    assert_eq!(
                        apply_verdict(state, conf, 2, &Verdict::unknown(reason)),
                        ProbeEffect::Recorded
                    );
                }
            }
        }
    }

    #[test]
    fn not_found_resets_confirmations_and_nothing_moves_outside_pending() {
        use AccountState::*;
        assert_eq!(
            apply_verdict(Pending, 1, 2, &Verdict::NotFound),
            ProbeEffect::ResetConfirmations
        );
        assert_eq!(
            apply_verdict(Pending, 0, 2, &Verdict::NotFound),
            ProbeEffect::Recorded
        );
        for state in [Restored, Expired, Paused] {
            assert_eq!(apply_verdict(state, 0, 1, &exists()), ProbeEffect::Recorded);
        }
    }
}
