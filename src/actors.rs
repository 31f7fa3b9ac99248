//! The actors of the daemon, one per file, and the messages they exchange.

mod bot;
mod checker;
mod dispatcher;
pub mod messages;
mod notifier;
mod reminder;
mod store;
mod tick;

pub use bot::{BotActor, POLL_TIMEOUT};
pub use checker::{CheckerActor, CheckerFactory, FaultHook, InjectedFault};
pub use dispatcher::{CANARY_SETTING, CONFIRMATIONS_SETTING, DIGEST_SETTING, DispatcherActor};
pub use notifier::NotifierActor;
pub use reminder::ReminderActor;
pub use store::StoreActor;
pub use tick::{INTERVAL_BOUNDS, INTERVAL_SETTING, TickActor};
