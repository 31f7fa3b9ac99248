//! DispatcherActor: turns a cycle into probe jobs and keeps every checker busy (pull model).

use super::checker::{CheckerActor, CheckerFactory};
use super::messages::{
    CheckNow, CheckProgress, CheckerFailed, CheckerReady, CloseBrowser, CycleStart,
    DispatcherStatus, Drain, GetDispatcherStatus, OutboxChanged, ProbeJob, ProbeOutcome, RunProbe,
    StartCycle, WithStore,
};
use super::store::StoreActor;
use crate::check::{Egress, EgressPool, Pick, ProxyChoice};
use crate::config::Config;
use crate::domain::{
    AccountState, Cookie, CycleId, CycleStats, Mode, Notice, ProbeEffect, ProxyId, ProxySpec,
    SessionId, Source, UnknownReason, UserId, Username, Verdict,
};
use crate::metrics::Metrics;
use crate::store::{DueAccount, ProbeRecord, Store, StoreError};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
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
    metrics: Arc<Metrics>,
    egress: Arc<EgressPool>,
    slots: Vec<Slot>,
    next_instance: u64,
    queue: VecDeque<ProbeJob>,
    in_flight: HashSet<Username>,
    cycle: Option<CycleRun>,
    pending_writes: usize,
    /// Verdicts waiting for the running verdict write to end (see `flush_verdicts`).
    verdicts: Vec<VerdictWrite>,
    writing_verdicts: bool,
    draining: bool,
    drain_waiters: Vec<tokio::sync::oneshot::Sender<()>>,
    cycles_finished: u64,
    last_stats: Option<CycleStats>,
    runs: HashMap<u64, CheckRun>,
    next_run: u64,
    /// Canary probes of the current cycle still running; other jobs wait for them.
    canaries_pending: usize,
    /// Egresses whose canary was not `Exists` in the last cycle: their `NotFound`s are not trusted.
    canary_failed: HashSet<Egress>,
    /// Consecutive `Exists` needed to restore: the admin's setting, else the config.
    confirmations: u32,
}

/// What the store gives a cycle or a check-now: the due accounts and their owners' sessions
/// and enabled proxies.
struct Loaded {
    due: Vec<DueAccount>,
    sessions: HashMap<UserId, (SessionId, Arc<Vec<Cookie>>)>,
    proxies: HashMap<UserId, Vec<(ProxyId, u8, Arc<ProxySpec>)>>,
    /// Proxies disabled by their health whose re-test is due: their canary decides.
    retest: Vec<(UserId, JobProxy)>,
    /// The canary an admin set at run time, if any.
    canary: Option<Username>,
}

impl Loaded {
    fn read(s: &Store, due: Vec<DueAccount>) -> Result<Loaded, StoreError> {
        let owners: std::collections::BTreeSet<UserId> = due.iter().map(|a| a.owner).collect();
        let mut sessions = HashMap::new();
        let mut proxies = HashMap::new();
        for owner in owners {
            if let Some((id, cookies)) = s.usable_session(owner)? {
                sessions.insert(owner, (id, Arc::new(cookies)));
            }
            let specs = s.enabled_proxy_specs(owner)?;
            if !specs.is_empty() {
                let list = specs
                    .into_iter()
                    .map(|(info, spec)| (info.id, info.priority, Arc::new(spec)))
                    .collect();
                proxies.insert(owner, list);
            }
        }
        Ok(Loaded {
            due,
            sessions,
            proxies,
            retest: Vec::new(),
            canary: None,
        })
    }

    /// A cycle's load also brings the proxies due for a re-test and the canary setting.
    fn read_for_cycle(s: &Store, now: DateTime<Utc>) -> Result<Loaded, StoreError> {
        let mut loaded = Loaded::read(s, s.due_accounts(now)?)?;
        for info in s.proxies_due_for_retest(now)? {
            if let Some(spec) = s.proxy_spec(info.owner, info.id)? {
                loaded.retest.push((info.owner, (info.id, Arc::new(spec))));
            }
        }
        loaded.canary = s
            .setting(CANARY_SETTING)?
            .and_then(|name| Username::parse(&name).ok());
        Ok(loaded)
    }
}

/// A "check now" from the bot: its own progress, outside any cycle's stats.
struct CheckRun {
    progress: Recipient<CheckProgress>,
    report: CheckProgress,
}

/// One probe's verdict and what the probe learned about the session and proxy it used.
struct VerdictWrite {
    record: ProbeRecord,
    used_session: Option<SessionId>,
    /// The session Instagram refused during the probe.
    refused: Option<SessionId>,
    /// The proxy used, as shown to its owner, and whether it carried the requests.
    proxy_result: Option<(ProxyId, String, bool)>,
    owner: UserId,
    run: Option<u64>,
    unknown: bool,
}

/// Runs on the store's thread: the session and proxy bookkeeping of each verdict (rare: only
/// probes that used one), then every verdict in one transaction. Bookkeeping that fails is
/// logged and does not hold back the verdict.
fn write_verdicts(
    s: &Store,
    batch: Vec<VerdictWrite>,
) -> Result<Vec<Result<Vec<crate::store::Transition>, StoreError>>, StoreError> {
    let now = Utc::now();
    let mut records = Vec::with_capacity(batch.len());
    for v in batch {
        let owner = v.owner;
        let bookkeeping = (|| {
            if let Some(id) = v.used_session {
                s.touch_session(id, now)?;
            }
            if let Some(session) = v.refused
                && s.mark_session_invalid(session)?
            {
                log::warn!(
                    "Instagram refused session {session} of owner={owner}; it is marked invalid."
                );
                s.enqueue(&[(owner, Notice::SessionRefused { session })], now)?;
            }
            if let Some((proxy, address, ok)) = v.proxy_result
                && let Some(health) = s.record_proxy_result(proxy, ok, now)?
                && health.just_disabled
            {
                log::warn!("Proxy {proxy} of owner={owner} failed repeatedly and was disabled.");
                s.enqueue(&[(owner, Notice::ProxyDisabled { proxy, address })], now)?;
            }
            Ok::<(), StoreError>(())
        })();
        if let Err(err) = bookkeeping {
            log::error!("Could not record the session or proxy use of owner={owner}: {err}.");
        }
        records.push(v.record);
    }
    Ok(s.record_probes(&records))
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
            store,
            notifier,
            metrics: factory.metrics.clone(),
            egress: factory.egress.clone(),
            factory,
            slots: Vec::new(),
            next_instance: 0,
            queue: VecDeque::new(),
            in_flight: HashSet::new(),
            cycle: None,
            pending_writes: 0,
            verdicts: Vec::new(),
            writing_verdicts: false,
            draining: false,
            drain_waiters: Vec::new(),
            cycles_finished: 0,
            last_stats: None,
            runs: HashMap::new(),
            next_run: 0,
            canaries_pending: 0,
            canary_failed: HashSet::new(),
            confirmations: config.scheduler.confirmations,
            config,
        }
    }

    fn spawn_checker(&mut self, slot: usize, ctx: &mut Context<Self>) {
        self.next_instance += 1;
        let instance = self.next_instance;
        let addr = self
            .factory
            .spawn(slot, instance, ctx.address().recipient());
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
        self.metrics.checker_restarts.inc();
        self.spawn_checker(slot, ctx);
    }

    fn cycle_loaded(&mut self, id: CycleId, mut loaded: Loaded, ctx: &mut Context<Self>) {
        let total = loaded.due.len();
        let canary = loaded
            .canary
            .take()
            .unwrap_or_else(|| self.config.scheduler.canary.clone());
        let retest = std::mem::take(&mut loaded.retest);
        let (jobs, skipped) = self.prepare(loaded, None);
        let mut egresses: Vec<(Egress, Option<JobProxy>, UserId)> = {
            let mut seen = HashSet::new();
            jobs.iter()
                .filter_map(|j| {
                    let egress = j
                        .proxy
                        .as_ref()
                        .map_or(Egress::Direct, |(id, _)| Egress::Proxy(*id));
                    seen.insert(egress)
                        .then(|| (egress, j.proxy.clone(), j.owners[0]))
                })
                .collect()
        };
        // A disabled proxy whose re-test is due gets a canary too: its answer re-enables it.
        for (owner, (proxy, spec)) in retest {
            egresses.push((Egress::Proxy(proxy), Some((proxy, spec)), owner));
        }
        // One canary per egress goes first; the cycle's jobs wait for their verdicts.
        self.canaries_pending = egresses.len();
        for (_, proxy, owner) in &egresses {
            self.queue.push_back(ProbeJob {
                username: canary.clone(),
                accounts: Vec::new(),
                owners: vec![*owner],
                mode: Mode::Api,
                session: None,
                proxy: proxy.clone(),
                canary: true,
                crashes: 0,
                run: None,
            });
        }
        self.queue.extend(jobs);
        log::info!(
            "Cycle {id} started: {total} pending accounts, {} probes queued, {} canaries.",
            self.queue.len() - egresses.len(),
            egresses.len()
        );
        if let Some(cycle) = &mut self.cycle {
            cycle.id = Some(id);
        }
        if !skipped.is_empty() {
            self.skip_without_session(skipped, true, ctx);
        }
        self.pump(ctx);
    }

    /// Plans the jobs and equips each with its first owner's session and egress.
    fn prepare(&mut self, loaded: Loaded, run: Option<u64>) -> (Vec<ProbeJob>, Vec<DueAccount>) {
        let Loaded {
            due,
            sessions,
            proxies,
            ..
        } = loaded;
        let (mut jobs, skipped) = plan(due, |owner| sessions.contains_key(&owner));
        let now = Instant::now();
        let mut picked: HashMap<UserId, Option<(ProxyId, Arc<ProxySpec>)>> = HashMap::new();
        for job in &mut jobs {
            let owner = job.owners[0];
            job.run = run;
            job.session = sessions.get(&owner).cloned();
            job.proxy = picked
                .entry(owner)
                .or_insert_with(|| {
                    let list = proxies.get(&owner)?;
                    let choices: Vec<ProxyChoice> = list
                        .iter()
                        .map(|(id, priority, _)| ProxyChoice {
                            id: *id,
                            priority: *priority,
                        })
                        .collect();
                    let chosen = match self.egress.pick(&choices, now) {
                        Pick::Use(Egress::Proxy(id)) => id,
                        // Every proxy of the owner rests: its jobs wait in the queue for the
                        // best one rather than leaking out through the server's own address.
                        Pick::Use(Egress::Direct) | Pick::NoneUsable(_) => list[0].0,
                    };
                    list.iter()
                        .find(|(id, ..)| *id == chosen)
                        .map(|(id, _, spec)| (*id, spec.clone()))
                })
                .clone();
        }
        (jobs, skipped)
    }

    /// Accounts whose mode needs a browser session are skipped with `no_session`; each owner is
    /// told once, not every cycle.
    fn skip_without_session(
        &mut self,
        accounts: Vec<DueAccount>,
        in_cycle: bool,
        ctx: &mut Context<Self>,
    ) {
        if let Some(cycle) = self.cycle.as_mut().filter(|_| in_cycle) {
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
            confirmations_required: self.confirmations,
            proof: None,
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
        self.metrics.queue_depth.set(self.queue.len() as i64);
        self.metrics.in_flight.set(self.in_flight.len() as i64);
        self.maybe_finish(ctx);
    }

    /// The next job whose username has no probe in flight; while the cycle's canaries run,
    /// only canaries (and check-now jobs, which rely on the last canary verdicts) may go.
    fn next_job(&mut self) -> Option<ProbeJob> {
        let gated = self.canaries_pending > 0;
        let index = self.queue.iter().position(|j| {
            !self.in_flight.contains(&j.username) && (!gated || j.canary || j.run.is_some())
        })?;
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
                    // A restarting checker reports ready again, possibly before this answer
                    // arrives: only a failure of the current epoch unreadies it.
                    self.slots[slot].busy = false;
                    if failed.restarting && failed.epoch >= self.slots[slot].epoch {
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
        // The freed checker gets its next job before the verdict goes to the store.
        self.pump(ctx);
        self.flush_verdicts(ctx);
    }

    fn requeue(&mut self, mut job: ProbeJob) {
        job.crashes += 1;
        if job.crashes >= MAX_CRASHES_PER_JOB {
            log::error!(
                "Giving up on @{} for this cycle after {} checker failures; no verdict recorded.",
                job.username,
                job.crashes
            );
            self.run_progress(job.run, job.accounts.len() as u32, None);
            return;
        }
        self.queue.push_front(job);
    }

    /// A canary answered: its egress is trusted for this cycle only if the canary exists. The
    /// admins are told once when an egress starts failing (a settings flag survives restarts).
    fn canary_done(&mut self, job: &ProbeJob, outcome: &ProbeOutcome, ctx: &mut Context<Self>) {
        self.canaries_pending = self.canaries_pending.saturating_sub(1);
        let egress = job_egress(job);
        let name = egress_name(job);
        let flag = format!("canary.failed.{name}");
        // The canary is also the proxy's health check (and the re-test of a disabled one).
        if let (Some((proxy, _)), Some(ok)) = (&job.proxy, outcome.proxy_ok) {
            let proxy = *proxy;
            self.write(ctx, move |s| {
                if let Some(health) = s.record_proxy_result(proxy, ok, Utc::now())?
                    && health.just_reenabled
                {
                    log::info!("Proxy {proxy} passed its re-test and is enabled again.");
                }
                Ok(())
            });
        }
        if matches!(outcome.verdict, Verdict::Exists { .. }) {
            if self.canary_failed.remove(&egress) {
                log::info!("Canary @{} exists again on egress {name}.", job.username);
            }
            self.write(ctx, move |s| s.delete_setting(&flag));
        } else {
            let admins = self.config.telegram.admin_ids.clone();
            let notice = Notice::CanaryFailed {
                canary: job.username.clone(),
                egress: name.clone(),
                verdict: outcome.verdict.reason().map_or_else(
                    || outcome.verdict.kind().to_string(),
                    |r| r.as_str().to_string(),
                ),
            };
            self.write(ctx, move |s| {
                if s.setting(&flag)?.is_none() {
                    let now = Utc::now();
                    s.set_setting(&flag, &now.to_rfc3339())?;
                    let items: Vec<(UserId, Notice)> = s
                        .admin_chats(&admins)?
                        .into_iter()
                        .map(|chat| (chat, notice.clone()))
                        .collect();
                    s.enqueue(&items, now)?;
                }
                Ok(())
            });
            log::error!(
                "Canary @{} is {} on egress {egress:?} ({}); its not-found verdicts this cycle are \
                 recorded as unknown.",
                job.username,
                outcome.verdict.kind(),
                outcome.verdict.reason().map_or("-", |r| r.as_str())
            );
            self.canary_failed.insert(egress);
        }
    }

    /// Counts a verdict and queues it for the store (`flush_verdicts` writes it).
    fn record(&mut self, job: ProbeJob, mut outcome: ProbeOutcome, ctx: &mut Context<Self>) {
        if job.canary {
            self.canary_done(&job, &outcome, ctx);
            return;
        }
        if outcome.verdict == Verdict::NotFound && self.canary_failed.contains(&job_egress(&job)) {
            outcome.verdict = Verdict::unknown(UnknownReason::CanaryFailed);
        }
        log::debug!(
            "Probe of @{} finished: {} ({}) in {} ms.",
            job.username,
            outcome.verdict.kind(),
            outcome.rule.as_deref().unwrap_or("-"),
            outcome.elapsed.as_millis()
        );
        let reason = outcome.verdict.reason().map_or("-", |r| r.as_str());
        self.metrics
            .probes
            .with_label_values(&[outcome.verdict.kind(), reason])
            .inc();
        self.metrics
            .probe_seconds
            .observe(outcome.elapsed.as_secs_f64());
        if let Some(cycle) = self.cycle.as_mut().filter(|_| job.run.is_none()) {
            let n = job.accounts.len() as u32;
            let stats = &mut cycle.stats;
            stats.checked += n;
            match &outcome.verdict {
                Verdict::Exists { .. } => stats.exists += n,
                Verdict::NotFound => stats.not_found += n,
                Verdict::Unknown { reason } => *stats.unknown.entry(*reason).or_default() += n,
            }
        }
        let unknown = outcome.verdict.reason().is_some();
        let record = ProbeRecord {
            accounts: job.accounts,
            verdict: outcome.verdict,
            sources: outcome.sources,
            rule: outcome.rule,
            at: Utc::now(),
            confirmations_required: self.confirmations,
            proof: outcome.screenshot,
        };
        let used_session = job.session.as_ref().map(|(id, _)| *id);
        self.verdicts.push(VerdictWrite {
            record,
            used_session,
            refused: used_session.filter(|_| outcome.session_refused),
            proxy_result: job
                .proxy
                .as_ref()
                .zip(outcome.proxy_ok)
                .map(|((id, spec), ok)| (*id, spec.display_safe(), ok)),
            owner: job.owners[0],
            run: job.run,
            unknown,
        });
    }

    /// Writes the verdicts waiting in `verdicts`, one store call and one transaction for all
    /// of them, unless such a write is already running: verdicts that arrive meanwhile wait
    /// for it and then go together (group commit). A slow probe rate writes each verdict at
    /// once; a fast one shares the cost of a commit among many.
    fn flush_verdicts(&mut self, ctx: &mut Context<Self>) {
        if self.writing_verdicts || self.verdicts.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.verdicts);
        let progress: Vec<(Option<u64>, u32, bool)> = batch
            .iter()
            .map(|v| (v.run, v.record.accounts.len() as u32, v.unknown))
            .collect();
        self.writing_verdicts = true;
        self.pending_writes += 1;
        ctx.spawn(
            self.store
                .send(WithStore::new(move |s| write_verdicts(s, batch)))
                .into_actor(self)
                .map(move |result, act, ctx| {
                    act.pending_writes -= 1;
                    act.writing_verdicts = false;
                    let results = match result {
                        Ok(Ok(results)) => results,
                        Ok(Err(err)) => {
                            log::error!("Could not record {} verdicts: {err}.", progress.len());
                            Vec::new()
                        }
                        Err(err) => {
                            log::error!("The store did not answer: {err}.");
                            Vec::new()
                        }
                    };
                    let mut restored_any = false;
                    let mut results = results.into_iter();
                    for (run, n, unknown) in progress {
                        match results.next() {
                            Some(Ok(transitions)) => {
                                let restored = transitions
                                    .iter()
                                    .filter(|t| t.effect == ProbeEffect::Restore)
                                    .count() as u32;
                                if restored > 0 {
                                    restored_any = true;
                                    if let Some(cycle) =
                                        act.cycle.as_mut().filter(|_| run.is_none())
                                    {
                                        cycle.stats.restored += restored;
                                    }
                                }
                                act.run_progress(run, n, Some((restored, unknown)));
                            }
                            Some(Err(err)) => {
                                log::error!("Could not record a verdict: {err}.");
                                act.run_progress(run, n, None);
                            }
                            None => act.run_progress(run, n, None),
                        }
                    }
                    if restored_any {
                        act.notifier.do_send(OutboxChanged);
                    }
                    act.flush_verdicts(ctx);
                    act.maybe_finish(ctx);
                }),
        );
    }

    fn maybe_finish(&mut self, ctx: &mut Context<Self>) {
        if !self.in_flight.is_empty() || self.pending_writes > 0 || !self.verdicts.is_empty() {
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
        self.metrics
            .cycle_seconds
            .observe(stats.duration_ms as f64 / 1000.0);
        self.metrics.queue_depth.set(0);
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
                    s.finish_cycle(id, &stats, &notices, Utc::now())?;
                    s.account_counts()
                }))
                .into_actor(self)
                .map(|result, act, _| match result {
                    Ok(Ok(counts)) => {
                        for state in AccountState::ALL {
                            let n = counts.iter().find(|(s, _)| *s == state).map_or(0, |c| c.1);
                            act.metrics
                                .accounts
                                .with_label_values(&[state.as_str()])
                                .set(n as i64);
                        }
                        act.notifier.do_send(OutboxChanged);
                    }
                    Ok(Err(err)) => log::error!("Could not close the cycle: {err}."),
                    Err(err) => log::error!("The store did not answer: {err}."),
                }),
        );
    }

    /// Counts `checked` accounts of a check-now run (`verdict`: restored count and whether it was
    /// unknown; `None` when no verdict came) and reports; the last report says `done`.
    fn run_progress(&mut self, run: Option<u64>, checked: u32, verdict: Option<(u32, bool)>) {
        let Some(id) = run else { return };
        let Some(state) = self.runs.get_mut(&id) else {
            return;
        };
        let report = &mut state.report;
        report.checked += checked;
        match verdict {
            Some((restored, unknown)) => {
                report.restored += restored;
                if unknown {
                    report.unknown += checked;
                }
            }
            None => report.unknown += checked,
        }
        report.done = report.checked >= report.total;
        state.progress.do_send(*report);
        if report.done {
            self.runs.remove(&id);
        }
    }

    /// Ends every check-now run (shutdown): each gets a last, `done` report.
    fn end_runs(&mut self) {
        for (_, mut run) in self.runs.drain() {
            run.report.done = true;
            run.progress.do_send(run.report);
        }
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
///
/// Grouping sorts the due list in place and ordering sorts the jobs, so a cycle of many
/// accounts costs one name copy per job and no map or queue per owner.
fn plan(
    mut due: Vec<DueAccount>,
    has_session: impl Fn(UserId) -> bool,
) -> (Vec<ProbeJob>, Vec<DueAccount>) {
    // Stable: the watchers of a name keep the due list's order (their keys are tried in it).
    due.sort_by(|a, b| (&a.username, a.mode).cmp(&(&b.username, b.mode)));
    // Each job with its place in its first owner's list: the round-robin takes every owner's
    // first job, then every owner's second one, and so on.
    let mut ranked: Vec<((u32, UserId), ProbeJob)> = Vec::new();
    let mut skipped = Vec::new();
    let mut rank: HashMap<UserId, u32> = HashMap::new();
    for group in due.chunk_by(|a, b| a.username == b.username && a.mode == b.mode) {
        let mode = group[0].mode;
        // Browser mode decides with the owner's session; without one there is nothing to ask.
        // (api+browser falls back to an anonymous browser, where a login wall is just Unknown.)
        let (watchers, without): (Vec<&DueAccount>, Vec<&DueAccount>) = group
            .iter()
            .partition(|w| mode != Mode::Browser || has_session(w.owner));
        skipped.extend(without.into_iter().cloned());
        let Some(first) = watchers.first() else {
            continue;
        };
        // Each watcher is another owner: an owner watches a name once (UNIQUE in the schema).
        let owners: Vec<UserId> = watchers.iter().map(|w| w.owner).collect();
        let next = rank.entry(first.owner).or_default();
        let place = (*next, first.owner);
        *next += 1;
        let job = ProbeJob {
            username: first.username.clone(),
            accounts: watchers.iter().map(|w| w.account).collect(),
            owners,
            mode,
            session: None,
            proxy: None,
            canary: false,
            crashes: 0,
            run: None,
        };
        ranked.push((place, job));
    }
    // Places are unique (an owner's counter only grows), so an unstable sort is exact.
    ranked.sort_unstable_by_key(|(place, _)| *place);
    (ranked.into_iter().map(|(_, job)| job).collect(), skipped)
}

/// A job's proxy: its id and (decrypted) spec.
type JobProxy = (ProxyId, Arc<ProxySpec>);

/// How an egress is named to admins: `direct`, or the proxy without its password.
fn egress_name(job: &ProbeJob) -> String {
    job.proxy.as_ref().map_or_else(
        || "direct".to_string(),
        |(id, spec)| format!("proxy {id} {}", spec.display_safe()),
    )
}

/// The egress a job's requests leave through.
fn job_egress(job: &ProbeJob) -> Egress {
    job.proxy
        .as_ref()
        .map_or(Egress::Direct, |(id, _)| Egress::Proxy(*id))
}

/// Settings key holding the canary an admin set at run time (a username); read at the start of
/// every cycle, over `scheduler.canary` from the config.
pub const CANARY_SETTING: &str = "scheduler.canary";

/// Settings key holding the confirmation policy an admin set at run time (consecutive `Exists`
/// cycles before a restore); read at the start of every cycle, over the config.
pub const CONFIRMATIONS_SETTING: &str = "scheduler.confirmations";

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
            let loaded = Loaded::read_for_cycle(s, now)?;
            let confirmations = s
                .setting(CONFIRMATIONS_SETTING)?
                .and_then(|v| v.parse::<u32>().ok());
            let id = s.begin_cycle(now)?;
            Ok((expired, loaded, confirmations, id))
        }));
        ctx.spawn(load.into_actor(self).map(|result, act, ctx| match result {
            Ok(Ok((expired, loaded, confirmations, id))) => {
                act.confirmations = confirmations
                    .filter(|n| (1..=10).contains(n))
                    .unwrap_or(act.config.scheduler.confirmations);
                if !expired.is_empty() {
                    log::info!(
                        "{} accounts reached the end of their period.",
                        expired.len()
                    );
                    act.notifier.do_send(OutboxChanged);
                }
                act.cycle_loaded(id, loaded, ctx);
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

impl Handler<CheckNow> for DispatcherActor {
    type Result = ResponseActFuture<Self, Result<u32, String>>;

    /// Queues the owner's pending accounts (or the listed ones that are theirs) ahead of the
    /// scheduled jobs; verdicts are recorded exactly as in a cycle.
    fn handle(&mut self, msg: CheckNow, _: &mut Self::Context) -> Self::Result {
        if self.draining {
            return Box::pin(fut::ready(Err("shutting down".to_string())));
        }
        let CheckNow {
            owner,
            accounts,
            progress,
        } = msg;
        let load = self.store.send(WithStore::new(move |s| {
            let due = s
                .due_accounts(Utc::now())?
                .into_iter()
                .filter(|a| a.owner == owner)
                .filter(|a| accounts.as_ref().is_none_or(|ids| ids.contains(&a.account)))
                .collect();
            Loaded::read(s, due)
        }));
        Box::pin(load.into_actor(self).map(move |result, act, ctx| {
            let loaded = match result {
                Ok(Ok(loaded)) => loaded,
                Ok(Err(err)) => return Err(format!("failed to load the accounts: {err}")),
                Err(err) => return Err(format!("failed to reach the store: {err}")),
            };
            let total = loaded.due.len() as u32;
            act.next_run += 1;
            let id = act.next_run;
            let report = CheckProgress {
                total,
                ..CheckProgress::default()
            };
            act.runs.insert(id, CheckRun { progress, report });
            let (jobs, skipped) = act.prepare(loaded, Some(id));
            for job in jobs.into_iter().rev() {
                act.queue.push_front(job);
            }
            if !skipped.is_empty() {
                let n = skipped.len() as u32;
                act.skip_without_session(skipped, false, ctx);
                act.run_progress(Some(id), n, None);
            }
            if total == 0 {
                act.run_progress(Some(id), 0, None);
            }
            log::info!("Check now for owner={owner}: {total} accounts queued.");
            act.pump(ctx);
            Ok(total)
        }))
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
            checker_restarts: self.metrics.checker_restarts.get(),
            draining: self.draining,
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
        self.end_runs();
        if dropped > 0 {
            log::info!("Shutting down: {dropped} queued probes left for the next start.");
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.drain_waiters.push(tx);
        self.maybe_finish(ctx);
        let checkers: Vec<Addr<CheckerActor>> =
            self.slots.iter().filter_map(|s| s.addr.clone()).collect();
        Box::pin(async move {
            if tokio::time::timeout(wait, rx).await.is_err() {
                log::warn!(
                    "In-flight probes did not finish within {} s.",
                    wait.as_secs()
                );
            }
            // Browser sessions are closed (and their profiles removed) before the system stops.
            let close =
                futures_util::future::join_all(checkers.iter().map(|c| c.send(CloseBrowser)));
            if tokio::time::timeout(wait, close).await.is_err() {
                log::warn!(
                    "Browser sessions did not close within {} s.",
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
        let (jobs, skipped) = plan(
            vec![
                due(1, 10, "a1", Mode::Api),
                due(2, 10, "a2", Mode::Api),
                due(3, 10, "a3", Mode::Api),
                due(4, 20, "b1", Mode::Api),
                due(5, 20, "shared", Mode::Api),
                due(6, 10, "shared", Mode::Api),
                due(7, 30, "c1", Mode::Browser),
                due(8, 40, "d1", Mode::Browser),
            ],
            |owner| owner == UserId(40),
        );
        let names: Vec<&str> = jobs.iter().map(|j| j.username.as_str()).collect();
        assert_eq!(names, ["a1", "b1", "d1", "a2", "shared", "a3"]);
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
