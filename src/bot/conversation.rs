//! Conversations: what the bot waits for from a chat. Persisted as JSON in the store after
//! every step, so a flow survives a restart; `/cancel` and the main menu always leave it.

use crate::domain::Username;
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
            Conversation::BulkDelete,
            Conversation::BulkDeleteConfirm { names: vec![name] },
            Conversation::AddKey,
            Conversation::AddProxies,
            Conversation::AddSession,
            Conversation::SetInterval,
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
        assert_eq!(Conversation::from_json(r#"{"step":"gone"}"#), None);
        assert_eq!(
            Conversation::from_json(r#"{"step":"add_period","username":"bad..name"}"#),
            None
        );
    }
}
