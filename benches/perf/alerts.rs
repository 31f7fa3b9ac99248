//! P4: the daemon's NotifierActor draining the outbox into the fake Bot API with Telegram's flood
//! limits enforced (30 messages a second overall, one a second per chat, 429 beyond).

use crate::support::fake_bot::FakeBotApi;
use igwatch::actors::messages::{OutboxChanged, WithStore};
use igwatch::app::{Daemon, Hooks, open_store};
use igwatch::domain::{Lang, Mode, Notice, Role, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The chat of the burst; the distinct chats are 1..=distinct.
const BURST_CHAT: i64 = 9_000_000;

/// What P4 measured.
pub struct AlertRun {
    pub distinct: usize,
    /// `(distinct − 1) / (last delivery − first delivery)`: with `distinct = 30 m + 1`, a pacer
    /// that uses Telegram's whole allowance (a sliding one-second window of 30) scores 30.
    pub rate: f64,
    pub burst: usize,
    /// Smallest gap between two deliveries to the burst chat, at the fake.
    pub burst_min_gap: Duration,
    pub too_many_requests: usize,
}

fn sends_to(fake: &FakeBotApi, pred: impl Fn(i64) -> bool) -> Vec<Instant> {
    let mut at: Vec<Instant> = fake
        .delivered()
        .into_iter()
        .filter(|m| m.method.starts_with("send") && pred(m.chat_id))
        .map(|m| m.at)
        .collect();
    at.sort();
    at
}

pub fn run(distinct: usize, burst: usize) -> Result<AlertRun, String> {
    let fake = FakeBotApi::start();
    fake.enforce_limits(true);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = dir.path().join("igwatch.db");
    let (url, token) = (fake.url(), fake.token());
    let text = crate::setup::toml(&crate::setup::Settings {
        db: &db,
        checkers: 1,
        instagram_url: "http://127.0.0.1:9",
        telegram: Some((&url, &token)),
    });
    let config = igwatch::config::from_toml_str(&text, &|_| None).map_err(|e| e.to_string())?;
    let config = Arc::new(config);
    let store = open_store(&config).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let chats: Vec<UserId> = (1..=distinct as i64)
        .map(UserId)
        .chain([UserId(BURST_CHAT)])
        .collect();
    for chat in &chats {
        store
            .upsert_user(*chat, Role::User, true, Lang::En, Mode::Api, now)
            .map_err(|e| e.to_string())?;
    }
    let items: Vec<(UserId, Notice)> = chats[..distinct]
        .iter()
        .map(|c| (*c, Notice::NoSession { accounts: 1 }))
        .collect();
    store.enqueue(&items, now).map_err(|e| e.to_string())?;

    let limit = Duration::from_secs(distinct as u64 / 20 + burst as u64 * 2 + 30);
    actix::System::new().block_on(async {
        let daemon = Daemon::start(config, store, Hooks::default()).map_err(|e| e.to_string())?;
        let done = fake
            .wait_for_async(
                |f| sends_to(f, |c| c != BURST_CHAT).len() >= distinct,
                limit,
            )
            .await;
        if !done {
            return Err(format!(
                "{} of {distinct} alerts delivered in {} s",
                sends_to(&fake, |c| c != BURST_CHAT).len(),
                limit.as_secs()
            ));
        }
        // The burst: every alert for one chat queued at once.
        let burst_items: Vec<(UserId, Notice)> = (0..burst)
            .map(|_| (UserId(BURST_CHAT), Notice::NoSession { accounts: 1 }))
            .collect();
        daemon
            .store
            .send(WithStore::new(move |s| {
                s.enqueue(&burst_items, chrono::Utc::now())
            }))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        daemon.notifier.do_send(OutboxChanged);
        let done = fake
            .wait_for_async(|f| sends_to(f, |c| c == BURST_CHAT).len() >= burst, limit)
            .await;
        daemon.shutdown(Duration::from_secs(2)).await;
        if !done {
            return Err(format!("the burst of {burst} was not delivered in time"));
        }
        Ok(())
    })?;
    let spread = sends_to(&fake, |c| c != BURST_CHAT);
    let span = spread[spread.len() - 1] - spread[0];
    let burst_at = sends_to(&fake, |c| c == BURST_CHAT);
    let burst_min_gap = burst_at
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .unwrap_or_default();
    Ok(AlertRun {
        distinct,
        rate: (distinct - 1) as f64 / span.as_secs_f64(),
        burst,
        burst_min_gap,
        too_many_requests: fake.too_many_requests(),
    })
}
