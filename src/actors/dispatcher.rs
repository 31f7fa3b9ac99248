//! DispatcherActor: turns a cycle into probe jobs and keeps every checker busy (pull model).

use super::checker::{CheckerActor, CheckerFactory};
use super::messages::{
    CheckerFailed, CheckerReady, CycleStart, DispatcherStatus, Drain, GetDispatcherStatus,
    OutboxChanged, ProbeJob, ProbeOutcome, RunProbe, StartCycle, WithStore,
};
use super::store::StoreActor;
use crate::config::Config;
use crate::domain::{
    CycleId, CycleStats, Mode, Notice, ProbeEffect, Source, UnknownReason, UserId, Username,
    Verdict,
};
use crate::store::{DueAccount, ProbeRecord};
use actix::prelude::*;
use chrono::Utc;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A job whose checker crashed this many times is dropped for the cycle (no verdict).
const MAX_CRASHES_PER_JOB: u32 = 3;
/// Extra time past the probe timeout before a silent checker is presumed stuck.
const STUCK_GRACE: Duration = Duration::from_secs(10);

/// Keeps N checkers busy with the jobs of the current cycle.
pub struct DispatcherActor {
    config: Arc<Config>,
    store: Addr<StoreActor>,
    notifier: Recipient<OutboxChanged>,
    factory: CheckerFactory,
    slots: Vec<Slot>,
    next_instance: u64,
    restarts: Arc<AtomicU64>,
    queue: VecDeque<ProbeJob>,
    in_flight: HashSet<Username>,
    cycle: Option<CycleRun>,
    pending_writes: usize,
    draining: bool,
    drain_waiters: Vec<tokio::sync::oneshot::Sender<()>>,
    cycles_finished: u64,
    last_stats: Option<CycleStats>,
}

struct Slot {
    addr: Option<Addr<CheckerActor>>,
    instance: u64,
    /// Epoch of the last `CheckerReady`.
    epoch: u64,
    ready: bool,
    busy: bool,
}

struct CycleRun {
    /// `None` while the due accounts are being loaded.
    id: Option<CycleId>,
    started: Instant,
    stats: CycleStats,
}

impl DispatcherActor {
    pub fn new(
        config: Arc<Config>,
        store: Addr<StoreActor>,
        notifier: Recipient<OutboxChanged>,
        factory: CheckerFactory,
    ) -> Self {
        DispatcherActor {
            config,
            store,
            notifier,
            factory,
            slots: Vec::new(),
            next_instance: 0,
            restarts: Arc::new(AtomicU64::new(0)),
            queue: VecDeque::new(),
            in_flight: HashSet::new(),
            cycle: None,
            pending_writes: 0,
            draining: false,
            drain_waiters: Vec::new(),
            cycles_finished: 0,
            last_stats: None,
        }
    }

    fn spawn_checker(&mut self, slot: usize, ctx: &mut Context<Self>) {
        self.next_instance += 1;
        let instance = self.next_instance;
        let addr = self.factory.spawn(
            slot,
            instance,
            ctx.address().recipient(),
            self.restarts.clone(),
        );
        self.slots[slot] = Slot {
            addr: Some(addr),
            instance,
            epoch: 0,
            ready: false,
            busy: false,
        };
    }

    /// Replaces a checker that died or hung; its job was already re-queued by the caller.
    fn replace_checker(&mut self, slot: usize, ctx: &mut Context<Self>) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
        self.spawn_checker(slot, ctx);
    }

    fn cycle_loaded(&mut self, id: CycleId, due: Vec<DueAccount>, ctx: &mut Context<Self>) {
        let total = due.len();
        let (jobs, skipped) = plan(due);
        self.queue.extend(jobs);
        log::info!(
            "Cycle {id} started: {total} pending accounts, {} probes queued.",
            self.queue.len()
        );
        if let Some(cycle) = &mut self.cycle {
            cycle.id = Some(id);
        }
        if !skipped.is_empty() {
            self.skip_without_session(skipped, ctx);
        }
        self.pump(ctx);
    }

    /// Accounts whose mode needs a browser session are skipped with `no_session`; each owner is
    /// told once, not every cycle.
    fn skip_without_session(&mut self, accounts: Vec<DueAccount>, ctx: &mut Context<Self>) {
        if let Some(cycle) = &mut self.cycle {
            *cycle
                .stats
                .skipped
                .entry(UnknownReason::NoSession)
                .or_default() += accounts.len() as u32;
        }
        let mut per_owner: BTreeMap<UserId, u32> = BTreeMap::new();
        for a in &accounts {
            *per_owner.entry(a.owner).or_default() += 1;
        }
        let record = ProbeRecord {
            accounts: accounts.iter().map(|a| a.account).collect(),
            verdict: Verdict::unknown(UnknownReason::NoSession),
            sources: vec![Source::None],
            rule: None,
            at: Utc::now(),
            confirmations_required: self.config.scheduler.confirmations,
        };
        self.write(ctx, move |s| {
            s.record_probe(&record)?;
            let now = Utc::now();
            for (owner, count) in per_owner {
                if s.mark_no_session_notified(owner)? {
                    s.enqueue(&[(owner, Notice::NoSession { accounts: count })], now)?;
                }
            }
            Ok(())
        });
    }

    /// Runs a store write that belongs to the current cycle; the cycle finishes only after
    /// every such write is done.
    fn write(
        &mut self,
        ctx: &mut Context<Self>,
        op: impl FnOnce(&crate::store::Store) -> Result<(), crate::store::StoreError> + Send + 'static,
    ) {
        self.pending_writes += 1;
        ctx.spawn(
            self.store
                .send(WithStore::new(op))
                .into_actor(self)
                .map(|result, act, ctx| {
                    act.pending_writes -= 1;
                    match result {
                        Ok(Ok(())) => act.notifier.do_send(OutboxChanged),
                        Ok(Err(err)) => log::error!("Could not write a probe result: {err}."),
                        Err(err) => log::error!("The store did not answer: {err}."),
                    }
                    act.maybe_finish(ctx);
                }),
        );
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while !self.draining {
            let Some(slot) = self.slots.iter().position(|s| s.ready && !s.busy) else {
                break;
            };
            let Some(job) = self.next_job() else { break };
            self.dispatch(slot, job, ctx);
        }
        self.maybe_finish(ctx);
    }

    /// The next job whose username has no probe in flight.
    fn next_job(&mut self) -> Option<ProbeJob> {
        let index = self
            .queue
            .iter()
            .position(|j| !self.in_flight.contains(&j.username))?;
        self.queue.remove(index)
    }

    fn dispatch(&mut self, slot: usize, job: ProbeJob, ctx: &mut Context<Self>) {
        let Some(addr) = self.slots[slot].addr.clone() else {
            self.queue.push_front(job);
            return;
        };
        self.slots[slot].busy = true;
        let instance = self.slots[slot].instance;
        self.in_flight.insert(job.username.clone());
        let deadline = self.config.checkers.probe_timeout + STUCK_GRACE;
        ctx.spawn(
            addr.send(RunProbe(job.clone()))
                .timeout(deadline)
                .into_actor(self)
                .map(move |result, act, ctx| act.probe_done(slot, instance, job, result, ctx)),
        );
    }

    fn probe_done(
        &mut self,
        slot: usize,
        instance: u64,
        job: ProbeJob,
        result: Result<Result<ProbeOutcome, CheckerFailed>, MailboxError>,
        ctx: &mut Context<Self>,
    ) {
        self.in_flight.remove(&job.username);
        let current = self.slots[slot].instance == instance;
        match result {
            Ok(Ok(outcome)) => {
                if current {
                    self.slots[slot].busy = false;
                }
                self.record(job, outcome, ctx);
            }
            Ok(Err(failed)) => {
                if current {
                    // The checker restarts itself and reports ready again, possibly before
                    // this answer arrives: only a failure of the current epoch unreadies it.
                    self.slots[slot].busy = false;
                    if failed.epoch >= self.slots[slot].epoch {
                        self.slots[slot].ready = false;
                    }
                }
                if failed.during_probe {
                    log::warn!(
                        "Probe of @{} lost to a checker failure: {failed}.",
                        job.username
                    );
                    self.requeue(job);
                } else {
                    self.queue.push_front(job);
                }
            }
            Err(err) => {
                log::error!(
                    "Checker {slot} is gone ({}); replacing it and re-queueing @{}.",
                    match err {
                        MailboxError::Closed => "its mailbox closed",
                        MailboxError::Timeout => "it stopped answering",
                    },
                    job.username
                );
                if current {
                    self.replace_checker(slot, ctx);
                }
                self.requeue(job);
            }
        }
        self.pump(ctx);
    }

    fn requeue(&mut self, mut job: ProbeJob) {
        job.crashes += 1;
        if job.crashes >= MAX_CRASHES_PER_JOB {
            log::error!(
                "Giving up on @{} for this cycle after {} checker failures; no verdict recorded.",
                job.username,
                job.crashes
            );
            return;
        }
        self.queue.push_front(job);
    }

    fn record(&mut self, job: ProbeJob, outcome: ProbeOutcome, ctx: &mut Context<Self>) {
        log::debug!(
            "Probe of @{} finished: {} ({}) in {} ms.",
            job.username,
            outcome.verdict.kind(),
            outcome.rule.as_deref().unwrap_or("-"),
            outcome.elapsed.as_millis()
        );
        if let Some(cycle) = &mut self.cycle {
            let n = job.accounts.len() as u32;
            let stats = &mut cycle.stats;
            stats.checked += n;
            match &outcome.verdict {
                Verdict::Exists { .. } => stats.exists += n,
                Verdict::NotFound => stats.not_found += n,
                Verdict::Unknown { reason } => *stats.unknown.entry(*reason).or_default() += n,
            }
        }
        let record = ProbeRecord {
            accounts: job.accounts,
            verdict: outcome.verdict,
            sources: outcome.sources,
            rule: outcome.rule,
            at: Utc::now(),
            confirmations_required: self.config.scheduler.confirmations,
        };
        self.pending_writes += 1;
        ctx.spawn(
            self.store
                .send(WithStore::new(move |s| s.record_probe(&record)))
                .into_actor(self)
                .map(|result, act, ctx| {
                    act.pending_writes -= 1;
                    match result {
                        Ok(Ok(transitions)) => {
                            let restored = transitions
                                .iter()
                                .filter(|t| t.effect == ProbeEffect::Restore)
                                .count() as u32;
                            if restored > 0 {
                                if let Some(cycle) = &mut act.cycle {
                                    cycle.stats.restored += restored;
                                }
                                act.notifier.do_send(OutboxChanged);
                            }
                        }
                        Ok(Err(err)) => log::error!("Could not record a verdict: {err}."),
                        Err(err) => log::error!("The store did not answer: {err}."),
                    }
                    act.maybe_finish(ctx);
                }),
        );
    }

    fn maybe_finish(&mut self, ctx: &mut Context<Self>) {
        if !self.in_flight.is_empty() || self.pending_writes > 0 {
            return;
        }
        self.answer_drain_waiters();
        let Some(cycle) = &self.cycle else { return };
        let Some(id) = cycle.id else { return };
        if !self.queue.is_empty() && !self.draining {
            return;
        }
        let Some(mut cycle) = self.cycle.take() else {
            return;
        };
        self.queue.clear();
        cycle.stats.duration_ms = cycle.started.elapsed().as_millis() as u64;
        let stats = cycle.stats;
        log::info!(
            "Cycle {id} finished in {} ms: checked {}, restored {}, not found {}, unknown {}, skipped {}.",
            stats.duration_ms,
            stats.checked,
            stats.restored,
            stats.not_found,
            stats.unknown_total(),
            stats.skipped_total()
        );
        self.cycles_finished += 1;
        self.last_stats = Some(stats.clone());
        let digest = self.config.scheduler.digest;
        let admins = self.config.telegram.admin_ids.clone();
        ctx.spawn(
            self.store
                .send(WithStore::new(move |s| {
                    let digest = s.setting(DIGEST_SETTING)?.map_or(digest, |v| v == "on");
                    let notices: Vec<(UserId, Notice)> = if digest {
                        s.admin_chats(&admins)?
                            .into_iter()
                            .map(|chat| {
                                (
                                    chat,
                                    Notice::Digest {
                                        cycle: id,
                                        stats: stats.clone(),
                                    },
                                )
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    s.finish_cycle(id, &stats, &notices, Utc::now())
                }))
                .into_actor(self)
                .map(|result, act, _| match result {
                    Ok(Ok(())) => act.notifier.do_send(OutboxChanged),
                    Ok(Err(err)) => log::error!("Could not close the cycle: {err}."),
                    Err(err) => log::error!("The store did not answer: {err}."),
                }),
        );
    }

    fn answer_drain_waiters(&mut self) {
        if self.draining {
            for waiter in self.drain_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }
}

/// Builds the jobs of a cycle: one per username and mode (every watcher gets the verdict),
/// round-robin across owners so a large owner cannot starve a small one. Accounts whose mode
/// needs a browser session are returned apart.
fn plan(due: Vec<DueAccount>) -> (Vec<ProbeJob>, Vec<DueAccount>) {
    let mut by_name: BTreeMap<(Username, Mode), Vec<DueAccount>> = BTreeMap::new();
    for account in due {
        by_name
            .entry((account.username.clone(), account.mode))
            .or_default()
            .push(account);
    }
    let mut per_owner: BTreeMap<UserId, VecDeque<ProbeJob>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for ((username, mode), watchers) in by_name {
        if mode.needs_browser() {
            skipped.extend(watchers);
            continue;
        }
        let mut owners: Vec<UserId> = Vec::new();
        for w in &watchers {
            if !owners.contains(&w.owner) {
                owners.push(w.owner);
            }
        }
        per_owner.entry(owners[0]).or_default().push_back(ProbeJob {
            username,
            accounts: watchers.iter().map(|w| w.account).collect(),
            owners,
            mode,
            crashes: 0,
        });
    }
    let mut jobs = Vec::new();
    while !per_owner.is_empty() {
        per_owner.retain(|_, queue| match queue.pop_front() {
            Some(job) => {
                jobs.push(job);
                true
            }
            None => false,
        });
    }
    (jobs, skipped)
}

/// Settings key that switches the admin digest on or off at run time (`on` / `off`).
pub const DIGEST_SETTING: &str = "scheduler.digest";

impl Actor for DispatcherActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let count = self.config.checkers.count;
        self.slots = (0..count)
            .map(|_| Slot {
                addr: None,
                instance: 0,
                epoch: 0,
                ready: false,
                busy: false,
            })
            .collect();
        for slot in 0..count {
            self.spawn_checker(slot, ctx);
        }
        log::info!("Dispatcher started with {count} checkers.");
    }
}

impl Handler<CheckerReady> for DispatcherActor {
    type Result = ();

    fn handle(&mut self, msg: CheckerReady, ctx: &mut Self::Context) {
        let Some(slot) = self.slots.get_mut(msg.slot) else {
            return;
        };
        if slot.instance != msg.instance {
            return;
        }
        slot.addr = Some(msg.addr);
        slot.epoch = msg.epoch;
        slot.ready = true;
        slot.busy = false;
        self.pump(ctx);
    }
}

impl Handler<StartCycle> for DispatcherActor {
    type Result = CycleStart;

    fn handle(&mut self, _: StartCycle, ctx: &mut Self::Context) -> CycleStart {
        if self.draining {
            return CycleStart::ShuttingDown;
        }
        if self.cycle.is_some() {
            return CycleStart::AlreadyRunning;
        }
        self.cycle = Some(CycleRun {
            id: None,
            started: Instant::now(),
            stats: CycleStats::default(),
        });
        let now = Utc::now();
        let load = self.store.send(WithStore::new(move |s| {
            let expired = s.expire_overdue(now)?;
            let due = s.due_accounts(now)?;
            let id = s.begin_cycle(now)?;
            Ok((expired, due, id))
        }));
        ctx.spawn(load.into_actor(self).map(|result, act, ctx| match result {
            Ok(Ok((expired, due, id))) => {
                if !expired.is_empty() {
                    log::info!(
                        "{} accounts reached the end of their period.",
                        expired.len()
                    );
                    act.notifier.do_send(OutboxChanged);
                }
                act.cycle_loaded(id, due, ctx);
            }
            Ok(Err(err)) => {
                log::error!("Could not load the due accounts: {err}.");
                act.cycle = None;
            }
            Err(err) => {
                log::error!("The store did not answer: {err}.");
                act.cycle = None;
            }
        }));
        CycleStart::Started
    }
}

impl Handler<GetDispatcherStatus> for DispatcherActor {
    type Result = DispatcherStatus;

    fn handle(&mut self, _: GetDispatcherStatus, _: &mut Self::Context) -> DispatcherStatus {
        DispatcherStatus {
            cycle: self.cycle.as_ref().and_then(|c| c.id),
            queued: self.queue.len(),
            in_flight: self.in_flight.len(),
            ready_checkers: self.slots.iter().filter(|s| s.ready).count(),
            checker_restarts: self.restarts.load(Ordering::Relaxed),
            cycles_finished: self.cycles_finished,
            last_stats: self.last_stats.clone(),
        }
    }
}

impl Handler<Drain> for DispatcherActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, Drain(wait): Drain, ctx: &mut Self::Context) -> Self::Result {
        self.draining = true;
        let dropped = self.queue.len();
        self.queue.clear();
        if dropped > 0 {
            log::info!("Shutting down: {dropped} queued probes left for the next start.");
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.drain_waiters.push(tx);
        self.maybe_finish(ctx);
        Box::pin(async move {
            if tokio::time::timeout(wait, rx).await.is_err() {
                log::warn!(
                    "In-flight probes did not finish within {} s.",
                    wait.as_secs()
                );
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;

    fn due(account: i64, owner: i64, name: &str, mode: Mode) -> DueAccount {
        DueAccount {
            account: AccountId(account),
            owner: UserId(owner),
            username: Username::parse(name).unwrap(),
            mode,
        }
    }

    #[test]
    fn plan_is_round_robin_and_probes_each_username_once() {
        let (jobs, skipped) = plan(vec![
            due(1, 10, "a1", Mode::Api),
            due(2, 10, "a2", Mode::Api),
            due(3, 10, "a3", Mode::Api),
            due(4, 20, "b1", Mode::Api),
            due(5, 20, "shared", Mode::Api),
            due(6, 10, "shared", Mode::Api),
            due(7, 30, "c1", Mode::Browser),
        ]);
        let names: Vec<&str> = jobs.iter().map(|j| j.username.as_str()).collect();
        assert_eq!(names, ["a1", "b1", "a2", "shared", "a3"]);
        let shared = jobs
            .iter()
            .find(|j| j.username.as_str() == "shared")
            .unwrap();
        assert_eq!(shared.accounts, [AccountId(5), AccountId(6)]);
        assert_eq!(shared.owners, [UserId(20), UserId(10)]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].account, AccountId(7));
    }
}
