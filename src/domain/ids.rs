//! Newtype ids so a user id is never passed where an account id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A Telegram user id; also the private chat id the bot writes to.
    UserId
);
id_type!(
    /// Row id of a watched account (one owner, one username).
    AccountId
);
id_type!(
    /// Row id of a check cycle.
    CycleId
);
id_type!(
    /// Row id of a RapidAPI key.
    KeyId
);
id_type!(
    /// Row id of an outbox message.
    OutboxId
);
id_type!(
    /// Row id of an owner's proxy.
    ProxyId
);
id_type!(
    /// Row id of an owner's Instagram session (a stored cookie set).
    SessionId
);
