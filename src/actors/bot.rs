//! BotActor: the one `getUpdates` poller. Deletes any webhook, registers the command menus,
//! then long-polls; each batch is handled (chats in parallel, one chat's updates in order)
//! and only then is the offset persisted, so a crash re-delivers rather than loses an update
//! (handlers are idempotent). A 409 conflict is logged clearly and retried with back-off.

use super::store::StoreActor;
use crate::bot::command::bot_commands;
use crate::bot::{Env, Peers, handle_update};
use crate::config::Config;
use crate::domain::Lang;
use crate::telegram::{BotClient, SendError};
use actix::prelude::*;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use teloxide_core::types::{BotCommandScope, ChatId, Recipient, Update, UpdateKind};

/// Long-poll timeout; must stay below teloxide's 17 s HTTP client timeout.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between two failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(64);

/// Polls Telegram for updates and hands them to the bot's router.
pub struct BotActor {
    config: Arc<Config>,
    store: Addr<StoreActor>,
    client: BotClient,
    peers: Peers,
}

impl BotActor {
    pub fn new(
        config: Arc<Config>,
        store: Addr<StoreActor>,
        client: BotClient,
        peers: Peers,
    ) -> Self {
        BotActor {
            config,
            store,
            client,
            peers,
        }
    }
}

impl Actor for BotActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let poller = Poller {
            config: self.config.clone(),
            store: self.store.clone(),
            client: self.client.clone(),
            peers: self.peers.clone(),
        };
        ctx.spawn(poller.run().into_actor(self).map(|(), _, ctx| ctx.stop()));
    }
}

impl Supervised for BotActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        log::warn!("Bot poller restarting.");
    }
}

/// The polling loop, owned by the actor's task.
struct Poller {
    config: Arc<Config>,
    store: Addr<StoreActor>,
    client: BotClient,
    peers: Peers,
}

/// Doubling back-off from 1 s, capped.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(6)).min(MAX_BACKOFF)
}

/// The chat an update belongs to (updates of one chat are handled in order).
fn chat_of(update: &Update) -> i64 {
    match &update.kind {
        UpdateKind::Message(m) => m.chat.id.0,
        UpdateKind::CallbackQuery(q) => i64::try_from(q.from.id.0).unwrap_or(0),
        _ => 0,
    }
}

impl Poller {
    async fn run(self) {
        let Some(bot_name) = self.prepare().await else {
            return;
        };
        let env = Rc::new(Env {
            config: self.config.clone(),
            store: self.store.clone(),
            client: self.client.clone(),
            bot_name,
            peers: self.peers.clone(),
        });
        self.register_commands().await;
        let mut offset = match env.db(|s| s.update_offset()).await {
            Ok(offset) => offset,
            Err(err) => {
                log::error!(
                    "Could not read the stored update offset: {err}; starting from the queue head."
                );
                None
            }
        };
        let mut failures = 0u32;
        loop {
            let updates = match self.client.get_updates(offset, POLL_TIMEOUT).await {
                Ok(updates) => {
                    failures = 0;
                    updates
                }
                Err(err) => {
                    let wait = backoff(failures);
                    failures = failures.saturating_add(1);
                    match err {
                        SendError::Conflict => log::error!(
                            "Telegram refused getUpdates with 409 Conflict: another igwatch (or a webhook) uses this bot token. Only one poller may run; retrying in {} s.",
                            wait.as_secs()
                        ),
                        SendError::Unauthorized => log::error!(
                            "Telegram rejected the bot token; check telegram.token. Retrying in {} s.",
                            wait.as_secs()
                        ),
                        SendError::RetryAfter(after) => {
                            log::warn!(
                                "getUpdates is rate limited; waiting {} s.",
                                after.as_secs()
                            );
                            tokio::time::sleep(after).await;
                            continue;
                        }
                        other => log::warn!(
                            "getUpdates failed ({other}); retrying in {} s.",
                            wait.as_secs()
                        ),
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let Some(last) = updates.iter().map(|u| i64::from(u.id.0)).max() else {
                continue;
            };
            handle_batch(&env, updates).await;
            let next = last + 1;
            offset = Some(next);
            if let Err(err) = env.db(move |s| s.set_update_offset(next)).await {
                log::error!("Could not store the update offset: {err}.");
            }
        }
    }

    /// Deletes any webhook and learns the bot's username; retried until Telegram answers.
    async fn prepare(&self) -> Option<String> {
        let mut failures = 0u32;
        loop {
            let result = match self.client.delete_webhook().await {
                Ok(()) => self.client.get_me().await,
                Err(err) => Err(err),
            };
            match result {
                Ok(name) => {
                    log::info!("Bot @{name} is polling for updates.");
                    return Some(name);
                }
                Err(err) => {
                    let wait = backoff(failures);
                    failures = failures.saturating_add(1);
                    log::error!(
                        "Could not start the bot ({err}); retrying in {} s.",
                        wait.as_secs()
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// The ru and en menus for everyone, and the admin menu in each admin's chat.
    async fn register_commands(&self) {
        for lang in [Lang::Ru, Lang::En] {
            if let Err(err) = self
                .client
                .set_commands(
                    bot_commands(lang, false),
                    BotCommandScope::Default,
                    Some(lang.as_str()),
                )
                .await
            {
                log::warn!("Could not register the {lang} command menu: {err}.");
            }
        }
        let admins = self.config.telegram.admin_ids.clone();
        let chats = match self
            .store
            .send(super::messages::WithStore::new(move |s| {
                let chats = s.admin_chats(&admins)?;
                let mut out = Vec::new();
                for chat in chats {
                    let lang = s.user(chat)?.map(|u| u.lang);
                    out.push((chat, lang));
                }
                Ok(out)
            }))
            .await
        {
            Ok(Ok(chats)) => chats,
            _ => Vec::new(),
        };
        for (chat, lang) in chats {
            let lang = lang.unwrap_or(self.config.users.default_lang);
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(ChatId(chat.0)),
            };
            if let Err(err) = self
                .client
                .set_commands(bot_commands(lang, true), scope, None)
                .await
            {
                log::warn!("Could not register the admin menu of chat={chat}: {err}.");
            }
        }
    }
}

/// Handles one batch: chats in parallel, each chat's updates in order. Returns when all are
/// handled (each handler answers quickly; long work is spawned).
async fn handle_batch(env: &Rc<Env>, updates: Vec<Update>) {
    let mut by_chat: BTreeMap<i64, Vec<Update>> = BTreeMap::new();
    for update in updates {
        by_chat.entry(chat_of(&update)).or_default().push(update);
    }
    let chats = by_chat.into_values().map(|updates| {
        let env = env.clone();
        async move {
            for update in updates {
                handle_update(env.clone(), update).await;
            }
        }
    });
    futures_util::future::join_all(chats).await;
}
