//! ReminderActor: once a day at `reminders.time` (operators' local time) queues the reminder
//! about pending accounts whose period ends within `reminders.days_before` days. The store
//! marks each account reminded for the day in the same transaction, so a restart after the
//! time (which runs it again at start) never sends a second reminder that day.

use super::messages::{OutboxChanged, WithStore};
use super::store::StoreActor;
use crate::config::Config;
use actix::prelude::*;
use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Queues the daily expiry reminder.
pub struct ReminderActor {
    config: Arc<Config>,
    store: Addr<StoreActor>,
    notifier: Recipient<OutboxChanged>,
}

impl ReminderActor {
    pub fn new(
        config: Arc<Config>,
        store: Addr<StoreActor>,
        notifier: Recipient<OutboxChanged>,
    ) -> Self {
        ReminderActor {
            config,
            store,
            notifier,
        }
    }

    fn run(&mut self, ctx: &mut Context<Self>) {
        let days = self.config.reminders.days_before;
        let notifier = self.notifier.clone();
        ctx.spawn(
            self.store
                .send(WithStore::new(move |s| {
                    s.queue_expiry_reminders(days, Utc::now())
                }))
                .into_actor(self)
                .map(move |result, _, _| match result {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => {
                        log::info!("Queued expiry reminders for {n} accounts.");
                        notifier.do_send(OutboxChanged);
                    }
                    Ok(Err(err)) => log::error!("Could not queue expiry reminders: {err}."),
                    Err(err) => log::error!("The store did not answer: {err}."),
                }),
        );
    }

    fn schedule(&mut self, ctx: &mut Context<Self>) {
        let (time, offset) = (self.config.reminders.time, self.config.users.utc_offset);
        let wait = until_next(Utc::now(), time, offset);
        ctx.run_later(wait, |act, ctx| {
            act.run(ctx);
            act.schedule(ctx);
        });
    }
}

/// How long from `now` until the next `time` of day in `offset` (a full day when it is now).
fn until_next(now: DateTime<Utc>, time: NaiveTime, offset: FixedOffset) -> Duration {
    let local = now.with_timezone(&offset);
    let today = local.date_naive().and_time(time);
    let mut next = today.and_local_timezone(offset).single().unwrap_or(local);
    if next <= local {
        next += TimeDelta::days(1);
    }
    (next - local).to_std().unwrap_or(Duration::from_secs(60))
}

/// Whether today's reminder time (in `offset`) has already passed at `now`.
fn passed_today(now: DateTime<Utc>, time: NaiveTime, offset: FixedOffset) -> bool {
    now.with_timezone(&offset).time() >= time
}

impl Actor for ReminderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.config.reminders.days_before == 0 {
            log::info!("Expiry reminders are off (reminders.days_before = 0).");
            return;
        }
        let (time, offset) = (self.config.reminders.time, self.config.users.utc_offset);
        // Started after today's time: catch up now (at most once a day per account anyway).
        if passed_today(Utc::now(), time, offset) {
            self.run(ctx);
        }
        self.schedule(ctx);
    }
}

impl Supervised for ReminderActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        log::warn!("Reminder actor restarting.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_run_is_the_next_local_time_of_day() {
        let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        let msk = FixedOffset::east_opt(3 * 3600).unwrap();
        // 06:00 UTC is 09:00 in Moscow: one hour to go.
        assert_eq!(
            until_next(utc("2026-12-03T06:00:00Z"), ten, msk),
            Duration::from_secs(3600)
        );
        // 07:00 UTC is 10:00 exactly: the next one is tomorrow.
        assert_eq!(
            until_next(utc("2026-12-03T07:00:00Z"), ten, msk),
            Duration::from_secs(24 * 3600)
        );
        assert!(passed_today(utc("2026-12-03T07:30:00Z"), ten, msk));
        assert!(!passed_today(utc("2026-12-03T06:59:00Z"), ten, msk));
    }
}
