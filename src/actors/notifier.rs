//! NotifierActor: delivers the outbox to Telegram at least once, within Telegram's flood limits.

use super::messages::{FlushOutbox, OutboxChanged, WithStore};
use super::store::StoreActor;
use crate::config::Config;
use crate::domain::{Lang, UserId};
use crate::metrics::Metrics;
use crate::store::{OutboxItem, StoreError};
use crate::telegram::{BotClient, Rendered, SendError, caption_fits, render};
use actix::prelude::*;
use chrono::Utc;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use teloxide_core::types::ReplyMarkup;

/// Rows fetched per store round trip.
const BATCH: u32 = 50;
/// How often the outbox is polled when nobody nudges.
const POLL: Duration = Duration::from_secs(1);
/// Deliveries in flight at once, each to a different chat.
const CONCURRENT_SENDS: usize = 8;
/// Attempts after which a notice that keeps failing for an unexplained reason is dropped.
const MAX_ATTEMPTS: u32 = 30;
/// Added to every flood-control interval. Telegram counts a message when it arrives, the pacer
/// when it decides to send; the time between the two varies from send to send, and without
/// this margin two sends spaced exactly one second apart here can arrive 0.99 s apart there
/// (measured against the fake Bot API: 14 answers 429 in 151 sends to distinct chats).
const PACING_MARGIN: Duration = Duration::from_millis(50);

/// Drains the outbox; one delivery pass at a time.
pub struct NotifierActor {
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    store: Addr<StoreActor>,
    /// `None` in local mode: notices go to the log.
    client: Option<Rc<BotClient>>,
    pacer: Rc<RefCell<Pacer>>,
    running: bool,
    again: bool,
    flush_waiters: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl NotifierActor {
    pub fn new(
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        store: Addr<StoreActor>,
        client: Option<BotClient>,
    ) -> Self {
        let pacer = Pacer::new(
            config.notifier.global_per_second,
            config.notifier.per_chat_interval,
        );
        NotifierActor {
            config,
            metrics,
            store,
            client: client.map(Rc::new),
            pacer: Rc::new(RefCell::new(pacer)),
            running: false,
            again: false,
            flush_waiters: Vec::new(),
        }
    }

    /// Starts a delivery pass, or asks the running one to look again when it ends.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            self.again = true;
            return;
        }
        self.running = true;
        self.again = false;
        let pass = Pass {
            config: self.config.clone(),
            metrics: self.metrics.clone(),
            store: self.store.clone(),
            client: self.client.clone(),
            pacer: self.pacer.clone(),
            langs: RefCell::new(HashMap::new()),
        };
        ctx.spawn(pass.run().into_actor(self).map(|_, act, ctx| {
            act.running = false;
            if act.again {
                act.kick(ctx);
            } else {
                for waiter in act.flush_waiters.drain(..) {
                    let _ = waiter.send(());
                }
            }
        }));
    }
}

impl Actor for NotifierActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.client.is_none() {
            log::info!("Local mode: no Telegram token, so notices are written to the log.");
        }
        ctx.run_interval(POLL, |act, ctx| act.kick(ctx));
        self.kick(ctx);
    }
}

impl Supervised for NotifierActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.running = false;
        log::warn!("Notifier restarting.");
    }
}

impl Handler<OutboxChanged> for NotifierActor {
    type Result = ();

    fn handle(&mut self, _: OutboxChanged, ctx: &mut Self::Context) {
        self.kick(ctx);
    }
}

impl Handler<FlushOutbox> for NotifierActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: FlushOutbox, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.flush_waiters.push(tx);
        self.kick(ctx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

/// What happened to one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
enum Delivery {
    Delivered,
    /// Try again later; `freeze` stops every send until then (Telegram's 429).
    Retry {
        after: Duration,
        freeze: bool,
        error: String,
    },
    /// The user blocked the bot or deleted their account.
    Blocked,
    /// Can never be delivered.
    Drop(String),
}

/// One pass over the due outbox rows.
struct Pass {
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    store: Addr<StoreActor>,
    client: Option<Rc<BotClient>>,
    pacer: Rc<RefCell<Pacer>>,
    langs: RefCell<HashMap<UserId, Lang>>,
}

impl Pass {
    async fn run(self) {
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        self.deliver_due().await;
        if let Ok(Ok(backlog)) = store.send(WithStore::new(|s| s.outbox_len())).await {
            metrics.outbox_backlog.set(backlog as i64);
        }
    }

    async fn deliver_due(&self) {
        loop {
            let now = Utc::now();
            let batch = match self
                .store
                .send(WithStore::new(move |s| s.due_outbox(now, BATCH)))
                .await
            {
                Ok(Ok(batch)) => batch,
                Ok(Err(err)) => {
                    log::error!("Could not read the outbox: {err}.");
                    return;
                }
                Err(err) => {
                    log::error!("The store did not answer: {err}.");
                    return;
                }
            };
            if batch.is_empty() || !self.deliver_batch(batch.into()).await {
                return;
            }
        }
    }

    /// Sends a batch: several chats at once (a slow or hung chat must not hold up the others),
    /// one message at a time per chat and in order, within the flood limits. `false` stops the
    /// pass (the store failed).
    async fn deliver_batch(&self, mut pending: VecDeque<OutboxItem>) -> bool {
        self.learn_langs(pending.iter().map(|i| i.chat)).await;
        let mut busy: HashSet<UserId> = HashSet::new();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < CONCURRENT_SENDS {
                let now = Instant::now();
                let ready = {
                    let pacer = self.pacer.borrow();
                    pending
                        .iter()
                        .position(|i| !busy.contains(&i.chat) && pacer.delay(i.chat, now).is_zero())
                };
                let Some(item) = ready.and_then(|index| pending.remove(index)) else {
                    break;
                };
                busy.insert(item.chat);
                self.pacer.borrow_mut().sent(item.chat, now);
                running.push(async move {
                    let delivery = self.deliver(&item).await;
                    (item, delivery)
                });
            }
            if running.is_empty() && pending.is_empty() {
                return true;
            }
            // The soonest moment a waiting row (of a chat not being written to) may go.
            let wait = {
                let (pacer, now) = (self.pacer.borrow(), Instant::now());
                pending
                    .iter()
                    .filter(|i| !busy.contains(&i.chat))
                    .map(|i| pacer.delay(i.chat, now))
                    .min()
            };
            let pause = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some((item, delivery)) = running.next(), if !running.is_empty() => {
                    busy.remove(&item.chat);
                    if matches!(delivery, Delivery::Retry { .. }) {
                        // Later rows of this chat wait, so a chat's notices keep their order.
                        pending.retain(|i| i.chat != item.chat);
                    }
                    if !self.settle(item, delivery).await {
                        return false;
                    }
                }
                () = pause => {}
            }
        }
    }

    /// Reads the language of every chat of a batch in one store round trip, so that no store
    /// call stands between a pacing decision and its request.
    async fn learn_langs(&self, chats: impl Iterator<Item = UserId>) {
        let unknown: BTreeSet<UserId> = {
            let known = self.langs.borrow();
            chats.filter(|c| !known.contains_key(c)).collect()
        };
        if unknown.is_empty() {
            return;
        }
        let default = self.config.users.default_lang;
        let found = self
            .store
            .send(WithStore::new(move |s| {
                unknown
                    .into_iter()
                    .map(|chat| Ok((chat, s.user(chat)?.map_or(default, |u| u.lang))))
                    .collect::<Result<Vec<_>, StoreError>>()
            }))
            .await;
        if let Ok(Ok(found)) = found {
            self.langs.borrow_mut().extend(found);
        }
    }

    async fn lang(&self, chat: UserId) -> Lang {
        if let Some(lang) = self.langs.borrow().get(&chat) {
            return *lang;
        }
        let default = self.config.users.default_lang;
        let lang = match self.store.send(WithStore::new(move |s| s.user(chat))).await {
            Ok(Ok(Some(user))) => user.lang,
            _ => default,
        };
        self.langs.borrow_mut().insert(chat, lang);
        lang
    }

    async fn deliver(&self, item: &OutboxItem) -> Delivery {
        let lang = self.lang(item.chat).await;
        let rendered = render(&item.notice, lang, self.config.users.utc_offset);
        let Some(client) = self.client.clone() else {
            log::info!(
                "Notice for chat={} ({}): {}",
                item.chat,
                item.notice.kind(),
                rendered.plain.replace('\n', " | ")
            );
            return Delivery::Delivered;
        };
        let markup = rendered.keyboard.clone().map(ReplyMarkup::InlineKeyboard);
        let sent = match &item.photo {
            Some(png) => {
                self.deliver_photo(&client, item, png, &rendered, markup)
                    .await
            }
            None => client.send(item.chat, &rendered.html, markup).await,
        };
        match sent {
            Ok(_) => Delivery::Delivered,
            Err(err) => self.classify(item, err),
        }
    }

    /// A notice with proof: the photo with the text as its caption (and the buttons), or, when
    /// the text is too long for a caption, the photo then the text. A photo Telegram refuses
    /// still leaves the text delivered.
    async fn deliver_photo(
        &self,
        client: &BotClient,
        item: &OutboxItem,
        png: &[u8],
        rendered: &Rendered,
        markup: Option<ReplyMarkup>,
    ) -> Result<i32, SendError> {
        let fits = caption_fits(rendered);
        let caption = fits.then_some(rendered.html.as_str());
        let photo_markup = if fits { markup.clone() } else { None };
        match client
            .send_photo(item.chat, png.to_vec(), caption, photo_markup)
            .await
        {
            Ok(id) if fits => Ok(id),
            Ok(_) => client.send(item.chat, &rendered.html, markup).await,
            Err(
                err @ (SendError::RetryAfter(_) | SendError::Blocked | SendError::Transient(_)),
            ) => Err(err),
            Err(err) => {
                log::warn!(
                    "Telegram refused the proof photo of a `{}` notice for chat={} ({}); sending the text alone.",
                    item.notice.kind(),
                    item.chat,
                    err.reason()
                );
                client.send(item.chat, &rendered.html, markup).await
            }
        }
    }

    fn classify(&self, item: &OutboxItem, err: SendError) -> Delivery {
        let backoff = backoff(item.attempts, self.config.notifier.max_backoff);
        match err {
            SendError::RetryAfter(after) => Delivery::Retry {
                after,
                freeze: true,
                error: "retry_after".into(),
            },
            SendError::Blocked => Delivery::Blocked,
            SendError::ChatNotFound => Delivery::Drop("chat not found".into()),
            SendError::Unauthorized => {
                log::error!(
                    "Telegram rejected the bot token; check telegram.token. Notices wait until it works."
                );
                Delivery::Retry {
                    after: self.config.notifier.max_backoff,
                    freeze: false,
                    error: err.reason().into(),
                }
            }
            other if item.attempts + 1 >= MAX_ATTEMPTS && !other.is_retryable() => {
                Delivery::Drop(format!("{other} after {} attempts", item.attempts + 1))
            }
            other => Delivery::Retry {
                after: backoff,
                freeze: false,
                error: other.reason().into(),
            },
        }
    }

    /// Writes the result of a delivery back to the store. `false` stops the pass.
    async fn settle(&self, item: OutboxItem, delivery: Delivery) -> bool {
        let (id, chat) = (item.id, item.chat);
        let result = match &delivery {
            Delivery::Delivered => "delivered",
            Delivery::Retry { .. } => "retry",
            Delivery::Blocked => "blocked",
            Delivery::Drop(_) => "dropped",
        };
        self.metrics.deliveries.with_label_values(&[result]).inc();
        if let Delivery::Retry { error, freeze, .. } = &delivery {
            self.metrics
                .delivery_failures
                .with_label_values(&[error.as_str()])
                .inc();
            if *freeze {
                self.metrics.telegram_429.inc();
            }
        }
        let op = match delivery {
            Delivery::Delivered => WithStore::new(move |s| s.outbox_delivered(id)),
            Delivery::Retry {
                after,
                freeze,
                error,
            } => {
                if freeze {
                    log::warn!(
                        "Telegram asked to wait {} s (flood control); holding all sends.",
                        after.as_secs_f32()
                    );
                    self.pacer.borrow_mut().freeze(Instant::now() + after);
                } else {
                    log::warn!(
                        "Delivery to chat={chat} failed ({error}); retrying in {} s.",
                        after.as_secs()
                    );
                }
                let at = Utc::now() + chrono::Duration::from_std(after).unwrap_or_default();
                WithStore::new(move |s| s.outbox_reschedule(id, at, &error))
            }
            Delivery::Blocked => {
                log::warn!(
                    "Chat={chat} blocked the bot or was deleted; deactivating the user and dropping their notices."
                );
                WithStore::new(move |s| {
                    s.outbox_delivered(id)?;
                    s.set_user_active(chat, false).map(|_| ())
                })
            }
            Delivery::Drop(reason) => {
                log::error!(
                    "Dropping a `{}` notice for chat={chat}: {reason}.",
                    item.notice.kind()
                );
                WithStore::new(move |s| s.outbox_delivered(id))
            }
        };
        match self.store.send(op).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                log::error!("Could not update the outbox: {err}.");
                false
            }
            Err(err) => {
                log::error!("The store did not answer: {err}.");
                false
            }
        }
    }
}

/// Exponential back-off for failed deliveries: 2 s doubling per attempt, capped.
fn backoff(attempts: u32, max: Duration) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.saturating_add(1).min(20))).min(max)
}

/// Telegram's flood limits: a gap per chat, a budget per second overall, and a global freeze
/// after a 429. Pure bookkeeping over instants the caller passes in.
struct Pacer {
    per_second: usize,
    per_chat: Duration,
    last_by_chat: HashMap<UserId, Instant>,
    window: VecDeque<Instant>,
    frozen_until: Option<Instant>,
}

impl Pacer {
    fn new(per_second: u32, per_chat: Duration) -> Self {
        Pacer {
            per_second: per_second.max(1) as usize,
            per_chat,
            last_by_chat: HashMap::new(),
            window: VecDeque::new(),
            frozen_until: None,
        }
    }

    /// How long to wait before writing to `chat` at `now`.
    fn delay(&self, chat: UserId, now: Instant) -> Duration {
        let frozen = self
            .frozen_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let chat_gap = self.last_by_chat.get(&chat).map_or(Duration::ZERO, |last| {
            (*last + self.per_chat + PACING_MARGIN).saturating_duration_since(now)
        });
        let second = Duration::from_secs(1) + PACING_MARGIN;
        let recent: Vec<&Instant> = self
            .window
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < second)
            .collect();
        let budget = if recent.len() >= self.per_second {
            (*recent[recent.len() - self.per_second] + second).saturating_duration_since(now)
        } else {
            Duration::ZERO
        };
        frozen.max(chat_gap).max(budget)
    }

    fn sent(&mut self, chat: UserId, now: Instant) {
        self.last_by_chat.insert(chat, now);
        self.window.push_back(now);
        while self.window.len() > self.per_second {
            self.window.pop_front();
        }
    }

    fn freeze(&mut self, until: Instant) {
        self.frozen_until = Some(self.frozen_until.map_or(until, |t| t.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_keeps_one_second_per_chat() {
        let mut p = Pacer::new(30, Duration::from_secs(1));
        let t0 = Instant::now();
        let chat = UserId(1);
        assert_eq!(p.delay(chat, t0), Duration::ZERO);
        p.sent(chat, t0);
        assert_eq!(p.delay(chat, t0), Duration::from_secs(1) + PACING_MARGIN);
        assert_eq!(p.delay(UserId(2), t0), Duration::ZERO);
        assert_eq!(
            p.delay(chat, t0 + Duration::from_millis(400)),
            Duration::from_millis(600) + PACING_MARGIN
        );
        assert_eq!(p.delay(chat, t0 + Duration::from_secs(1)), PACING_MARGIN);
        assert_eq!(
            p.delay(chat, t0 + Duration::from_secs(1) + PACING_MARGIN),
            Duration::ZERO
        );
    }

    #[test]
    fn pacer_keeps_the_overall_budget() {
        let mut p = Pacer::new(3, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..3 {
            p.sent(UserId(i), t0 + Duration::from_millis(100 * i as u64));
        }
        let now = t0 + Duration::from_millis(300);
        assert_eq!(
            p.delay(UserId(9), now),
            Duration::from_millis(700) + PACING_MARGIN
        );
        assert_eq!(
            p.delay(UserId(9), t0 + Duration::from_secs(1) + PACING_MARGIN),
            Duration::ZERO
        );
    }

    #[test]
    fn pacer_freeze_holds_every_chat() {
        let mut p = Pacer::new(30, Duration::from_secs(1));
        let t0 = Instant::now();
        p.freeze(t0 + Duration::from_secs(5));
        assert_eq!(p.delay(UserId(7), t0), Duration::from_secs(5));
        p.freeze(t0 + Duration::from_secs(2));
        assert_eq!(p.delay(UserId(7), t0), Duration::from_secs(5));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let max = Duration::from_secs(300);
        assert_eq!(backoff(0, max), Duration::from_secs(2));
        assert_eq!(backoff(1, max), Duration::from_secs(4));
        assert_eq!(backoff(10, max), max);
    }
}
