//! igwatch: watches banned Instagram accounts and proves, through Telegram, the moment each is live again.

pub mod actors;
pub mod app;
pub mod bot;
pub mod check;
pub mod cli;
pub mod config;
pub mod detect;
pub mod domain;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod secret;
pub mod store;
pub mod telegram;
