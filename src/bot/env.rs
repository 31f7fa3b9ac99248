//! What every handler works with: the shared `Env` (config, store, Bot API client, peers) and
//! the per-update `Ctx` (the authenticated user, their language and rights), with helpers to
//! reach the store and to reply.

use super::input::{SPLIT_AT, split_text};
use super::keyboard::main_menu;
use super::texts::{Ui, ui};
use crate::actors::StoreActor;
use crate::actors::messages::{CheckNow, GetDispatcherStatus, GetSchedule, SetInterval, WithStore};
use crate::config::Config;
use crate::domain::{Lang, Role, UserId};
use crate::store::{Store, StoreError, User};
use crate::telegram::{BotClient, SendError};
use actix::prelude::*;
use std::sync::Arc;
use teloxide_core::types::{InlineKeyboardMarkup, ReplyMarkup};

/// Why handling an update failed. The user gets a short apology; the log gets the cause.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("failed to use the store: {0}")]
    Store(#[from] StoreError),
    #[error("failed to reach an actor: {0}")]
    Mailbox(#[from] MailboxError),
    #[error("failed to call the Bot API: {0}")]
    Telegram(#[from] SendError),
    #[error("failed to encode a conversation: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The actors the bot talks to, passed in by `app.rs`.
#[derive(Clone)]
pub struct Peers {
    pub check_now: Recipient<CheckNow>,
    pub set_interval: Recipient<SetInterval>,
    pub schedule: Recipient<GetSchedule>,
    pub dispatcher_status: Recipient<GetDispatcherStatus>,
    /// Notified when an admin confirms a restart; `app.rs` then shuts down and exits with
    /// the restart exit code.
    pub restart: Arc<tokio::sync::Notify>,
}

/// Shared by all handlers of one BotActor.
pub struct Env {
    pub config: Arc<Config>,
    pub store: Addr<StoreActor>,
    pub client: BotClient,
    /// The bot's @username without `@` (for `/cmd@bot`).
    pub bot_name: String,
    pub peers: Peers,
}

impl Env {
    /// Runs one store operation on the StoreActor.
    pub async fn db<R: Send + 'static>(
        &self,
        op: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, BotError> {
        Ok(self.store.send(WithStore::new(op)).await??)
    }

    /// Whether `user` may use the admin screens: active, and admin in the database or config.
    pub fn is_admin(&self, user: &User) -> bool {
        user.active
            && (user.role == Role::Admin || self.config.telegram.admin_ids.contains(&user.id))
    }

    pub fn is_config_admin(&self, id: UserId) -> bool {
        self.config.telegram.admin_ids.contains(&id)
    }

    /// Sends a text to any chat, split under Telegram's limit at line boundaries; the markup
    /// goes on the last part. Returns the id of the last message.
    pub async fn send_long(
        &self,
        chat: UserId,
        html: &str,
        markup: Option<ReplyMarkup>,
    ) -> Result<i32, BotError> {
        let parts = split_text(html, SPLIT_AT);
        let last = parts.len().saturating_sub(1);
        let mut id = 0;
        for (i, part) in parts.iter().enumerate() {
            let markup = if i == last { markup.clone() } else { None };
            id = self.client.send(chat, part, markup).await?;
        }
        Ok(id)
    }
}

/// One update from an active user (or from anyone, for `/start`).
pub struct Ctx {
    pub env: std::rc::Rc<Env>,
    pub user: User,
}

impl Ctx {
    pub fn chat(&self) -> UserId {
        self.user.id
    }

    pub fn lang(&self) -> Lang {
        self.user.lang
    }

    pub fn t(&self) -> &'static Ui {
        ui(self.user.lang)
    }

    pub fn admin(&self) -> bool {
        self.env.is_admin(&self.user)
    }

    pub async fn db<R: Send + 'static>(
        &self,
        op: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, BotError> {
        self.env.db(op).await
    }

    /// Replies with `html` (split when long).
    pub async fn say(&self, html: &str) -> Result<i32, BotError> {
        self.env.send_long(self.chat(), html, None).await
    }

    /// Replies with `html` and an inline keyboard.
    pub async fn say_inline(
        &self,
        html: &str,
        keyboard: InlineKeyboardMarkup,
    ) -> Result<i32, BotError> {
        self.env
            .send_long(
                self.chat(),
                html,
                Some(ReplyMarkup::InlineKeyboard(keyboard)),
            )
            .await
    }

    /// Replies with `html` and (again) the main menu keyboard.
    pub async fn say_menu(&self, html: &str) -> Result<i32, BotError> {
        let menu = main_menu(self.lang(), self.admin());
        self.env.send_long(self.chat(), html, Some(menu)).await
    }

    /// Replaces the text and keyboard of a message the bot sent (the screen a button was on);
    /// sends a new message when there is none to edit.
    pub async fn show(
        &self,
        message: Option<i32>,
        html: &str,
        keyboard: InlineKeyboardMarkup,
    ) -> Result<(), BotError> {
        match message {
            Some(id) if html.encode_utf16().count() <= SPLIT_AT => {
                match self
                    .env
                    .client
                    .edit(self.chat(), id, html, Some(keyboard.clone()))
                    .await
                {
                    Ok(()) => {}
                    // Gone, too old, or a photo (no text to edit): show it anew.
                    Err(SendError::Other(reason)) => {
                        log::debug!(
                            "Could not edit a screen of chat={} ({reason}); sending it anew.",
                            self.chat()
                        );
                        self.say_inline(html, keyboard).await?;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
            _ => {
                self.say_inline(html, keyboard).await?;
            }
        }
        Ok(())
    }
}
