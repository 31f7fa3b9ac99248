//! The Telegram bot: update routing, command parsing, callback codec, conversations, handlers
//! per area, keyboards and the ru/en catalogue. The BotActor (`actors/bot.rs`) polls updates
//! and hands each to [`router::handle_update`].

pub mod callback;
pub mod checks;
pub mod command;
pub mod conversation;
pub mod env;
pub mod input;
pub mod keyboard;
pub mod texts;

mod accounts;
mod admin;
mod people;
mod proxies;
mod router;
mod sessions;
mod settings;

pub use env::{BotError, Env, Peers};
pub use router::handle_update;
