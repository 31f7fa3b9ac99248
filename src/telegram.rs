//! Telegram: HTML escaping, the ru/en catalogue, notice rendering and the Bot API client.

mod client;
mod html;
mod i18n;
mod render;

pub use client::{BotClient, BotClientError, SendError, classify};
pub use html::{escape, escape_attr, strip_tags};
pub use i18n::{
    Texts, Unit, count, format_cycle_duration, format_date, format_datetime, format_elapsed,
    reason_name, source_name, texts,
};
pub use render::{CAPTION_LIMIT, Rendered, TEXT_LIMIT, caption_fits, render};
