//! Conversations: what the bot waits for from a chat. Persisted as JSON in the store after
//! every step, so a flow survives a restart; `/cancel` and the main menu always leave it.

use crate::domain::{AccountId, Username};
use serde::{Deserialize, Serialize};

/// The step a chat is at, with what earlier steps collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Conversation {
    /// Adding one account: waiting for the username.
    AddName,
    /// Adding one account: waiting for the period in days (text or quick button).
    AddPeriod { username: Username },
    /// Waiting for a list of usernames to add.
    BulkAdd,
    /// Bulk add: the list was accepted; waiting for the period (text or quick button).
    /// Nothing is stored before it is chosen.
    BulkPeriod { names: Vec<Username> },
    /// Waiting for a list of usernames to delete.
    BulkDelete,
    /// Waiting for the Yes button of a bulk delete.
    BulkDeleteConfirm { names: Vec<Username> },
    /// Waiting for a RapidAPI key.
    AddKey,
    /// Waiting for one or more proxies.
    AddProxies,
    /// Waiting for Instagram cookies (text or a `.json` document).
    AddSession,
    /// Admin: waiting for a new interval.
    SetInterval,
    /// Admin: waiting for a new canary username.
    SetCanary,
    /// Waiting for a signed number of days to move the end of an account's period by.
    ShiftDays { account: AccountId },
}

impl Conversation {
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// A stored state; `None` when it no longer parses (a newer or older version wrote it),
    /// in which case the chat simply starts over.
    pub fn from_json(text: &str) -> Option<Conversation> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_json() {
        let name = Username::parse("john.doe").unwrap();
        for state in [
            Conversation::AddName,
            Conversation::AddPeriod {
                username: name.clone(),
            },
            Conversation::BulkAdd,
            Conversation::BulkPeriod {
                names: vec![name.clone()],
            },
            Conversation::BulkDelete,
            Conversation::BulkDeleteConfirm { names: vec![name] },
            Conversation::AddKey,
            Conversation::AddProxies,
            Conversation::AddSession,
            Conversation::SetInterval,
            Conversation::SetCanary,
            Conversation::ShiftDays {
                account: AccountId(7),
            },
        ] {
            let json = state.to_json().unwrap();
            assert_eq!(Conversation::from_json(&json), Some(state), "{json}");
        }
        assert_eq!(
            Conversation::AddPeriod {
                username: Username::parse("a").unwrap()
            }
            .to_json()
            .unwrap(),
            r#"{"step":"add_period","username":"a"}"#
        );
        assert_eq!(
            Conversation::ShiftDays {
                account: AccountId(7)
            }
            .to_json()
            .unwrap(),
            r#"{"step":"shift_days","account":7}"#
        );
        assert_eq!(Conversation::from_json(r#"{"step":"gone"}"#), None);
        assert_eq!(
            Conversation::from_json(r#"{"step":"add_period","username":"bad..name"}"#),
            None
        );
    }
}
