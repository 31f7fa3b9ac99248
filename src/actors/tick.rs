//! TickActor: starts a cycle at start and every interval; the interval can change at run time.

use super::messages::{
    CycleStart, GetSchedule, ScheduleInfo, SetInterval, StartCycle, StopTicking, WithStore,
};
use super::store::StoreActor;
use crate::config::parse_duration;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Settings key holding the interval an admin set at run time (humantime text).
pub const INTERVAL_SETTING: &str = "scheduler.interval";
/// Shortest and longest interval accepted at run time.
pub const INTERVAL_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));

/// Emits `StartCycle`; a tick while a cycle runs is coalesced by the dispatcher and logged.
pub struct TickActor {
    interval: Duration,
    run_on_start: bool,
    dispatcher: Recipient<StartCycle>,
    store: Addr<StoreActor>,
    next: Option<(DateTime<Utc>, SpawnHandle)>,
    last_tick: Option<DateTime<Utc>>,
    stopped: bool,
}

impl TickActor {
    pub fn new(
        interval: Duration,
        run_on_start: bool,
        dispatcher: Recipient<StartCycle>,
        store: Addr<StoreActor>,
    ) -> Self {
        TickActor {
            interval,
            run_on_start,
            dispatcher,
            store,
            next: None,
            last_tick: None,
            stopped: false,
        }
    }

    fn info(&self) -> ScheduleInfo {
        ScheduleInfo {
            interval: self.interval,
            next_run_at: self.next.as_ref().map(|(at, _)| *at),
        }
    }

    /// Schedules the next tick `interval` after the last one (or now, if that is past).
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if let Some((_, handle)) = self.next.take() {
            ctx.cancel_future(handle);
        }
        if self.stopped {
            return;
        }
        let now = Utc::now();
        let base = self.last_tick.unwrap_or(now);
        let at = base + chrono::Duration::from_std(self.interval).unwrap_or(chrono::Duration::MAX);
        let delay = (at - now).to_std().unwrap_or(Duration::ZERO);
        let handle = ctx.run_later(delay, |act, ctx| act.tick(ctx));
        self.next = Some((at.max(now), handle));
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.next = None;
        self.last_tick = Some(Utc::now());
        ctx.spawn(self.dispatcher.send(StartCycle).into_actor(self).map(
            |answer, _, _| match answer {
                Ok(CycleStart::Started) => {}
                Ok(CycleStart::AlreadyRunning) => {
                    log::info!("Tick coalesced: the previous cycle is still running.")
                }
                Ok(CycleStart::ShuttingDown) => {}
                Err(err) => log::error!("The dispatcher did not take the tick: {err}."),
            },
        ));
        self.schedule(ctx);
    }
}

impl Actor for TickActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // A stored interval (set by an admin at run time) wins over the config file.
        ctx.wait(
            self.store
                .send(WithStore::new(|s| s.setting(INTERVAL_SETTING)))
                .into_actor(self)
                .map(|stored, act, ctx| {
                    if let Ok(Ok(Some(text))) = stored {
                        match parse_duration(&text) {
                            Ok(d) => act.interval = d,
                            Err(err) => log::warn!(
                                "Ignoring the stored interval `{text}` ({err}); using the config."
                            ),
                        }
                    }
                    log::info!(
                        "Scheduler started: a cycle every {}.",
                        humantime::format_duration(act.interval)
                    );
                    if act.run_on_start {
                        act.tick(ctx);
                    } else {
                        act.schedule(ctx);
                    }
                }),
        );
    }
}

impl Supervised for TickActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.next = None;
        log::warn!("Scheduler restarting.");
    }
}

impl Handler<SetInterval> for TickActor {
    type Result = ResponseActFuture<Self, Result<ScheduleInfo, String>>;

    fn handle(
        &mut self,
        SetInterval(interval): SetInterval,
        _: &mut Self::Context,
    ) -> Self::Result {
        let (min, max) = INTERVAL_BOUNDS;
        if interval < min || interval > max {
            let err = format!(
                "the interval must be between {} and {}",
                humantime::format_duration(min),
                humantime::format_duration(max)
            );
            return Box::pin(fut::ready(Err(err)));
        }
        let text = humantime::format_duration(interval).to_string();
        Box::pin(
            self.store
                .send(WithStore::new(move |s| {
                    s.set_setting(INTERVAL_SETTING, &text)
                }))
                .into_actor(self)
                .map(move |saved, act, ctx| {
                    match saved {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => return Err(format!("failed to save the interval: {err}")),
                        Err(err) => return Err(format!("failed to reach the store: {err}")),
                    }
                    act.interval = interval;
                    act.schedule(ctx);
                    log::info!(
                        "Interval changed to {}; next cycle at {}.",
                        humantime::format_duration(interval),
                        act.info()
                            .next_run_at
                            .map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
                    );
                    Ok(act.info())
                }),
        )
    }
}

impl Handler<GetSchedule> for TickActor {
    type Result = ScheduleInfo;

    fn handle(&mut self, _: GetSchedule, _: &mut Self::Context) -> ScheduleInfo {
        self.info()
    }
}

impl Handler<StopTicking> for TickActor {
    type Result = ();

    fn handle(&mut self, _: StopTicking, ctx: &mut Self::Context) {
        self.stopped = true;
        if let Some((_, handle)) = self.next.take() {
            ctx.cancel_future(handle);
        }
    }
}
