//! The whole inter-actor protocol: every message one actor sends another is declared here.

use crate::domain::{
    AccountId, Cookie, CycleId, CycleStats, Mode, ProxyId, ProxySpec, SessionId, Source, UserId,
    Username, Verdict,
};
use crate::store::{Store, StoreError};
use actix::prelude::*;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

// ---- Tick → Dispatcher -------------------------------------------------------------------

/// Start a check cycle now. Answered at once; the cycle runs in the background.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "CycleStart")]
pub struct StartCycle;

/// How the dispatcher answered `StartCycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, MessageResponse)]
pub enum CycleStart {
    Started,
    /// A cycle is still running; this tick is coalesced into it.
    AlreadyRunning,
    /// The dispatcher is shutting down.
    ShuttingDown,
}

// ---- Anyone → Tick -----------------------------------------------------------------------

/// Change the interval between cycles at run time; persisted and effective from the next tick.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<ScheduleInfo, String>")]
pub struct SetInterval(pub Duration);

/// Ask the TickActor when the next cycle starts.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "ScheduleInfo")]
pub struct GetSchedule;

/// What the TickActor knows about the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, MessageResponse)]
pub struct ScheduleInfo {
    pub interval: Duration,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Stop scheduling cycles (shutdown).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct StopTicking;

// ---- Dispatcher ↔ Checker ----------------------------------------------------------------

/// One username to probe, with every pending account that watches it.
#[derive(Debug, Clone)]
pub struct ProbeJob {
    pub username: Username,
    pub accounts: Vec<AccountId>,
    /// Owners of `accounts`, in the order their RapidAPI keys are tried.
    pub owners: Vec<UserId>,
    pub mode: Mode,
    /// The first owner's Instagram session, when the mode uses the browser and one exists.
    pub session: Option<(SessionId, Arc<Vec<Cookie>>)>,
    /// The first owner's proxy; `None` is the direct egress.
    pub proxy: Option<(ProxyId, Arc<ProxySpec>)>,
    /// A canary probe of the cycle (no accounts; it vouches for its egress).
    pub canary: bool,
    /// How many times a checker crashed on this job already.
    pub crashes: u32,
    /// The `CheckNow` run this job belongs to; `None` for a scheduled cycle.
    pub run: Option<u64>,
}

/// Probe one username. Answered with the verdict, or `Err` when the checker failed fatally
/// (the job then goes back to the queue and the checker is replaced).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<ProbeOutcome, CheckerFailed>")]
pub struct RunProbe(pub ProbeJob);

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutcome {
    pub verdict: Verdict,
    pub sources: Vec<Source>,
    /// Name of the detection rule that decided.
    pub rule: Option<String>,
    pub elapsed: Duration,
    /// Proof PNG of the live profile.
    pub screenshot: Option<Vec<u8>>,
    /// The job's Instagram session was refused (login wall or checkpoint).
    pub session_refused: bool,
    /// `Some(ok)` when the job used a proxy.
    pub proxy_ok: Option<bool>,
}

/// A checker could not finish a probe and is being replaced; no verdict comes from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checker {checker} failed: {reason}")]
pub struct CheckerFailed {
    pub checker: usize,
    /// The checker's start count when it failed (see `CheckerReady::epoch`).
    pub epoch: u64,
    pub reason: String,
    /// `false` when the checker was not running and the job never started.
    pub during_probe: bool,
    /// The checker is restarting and reports `CheckerReady` again when it is back; otherwise it
    /// stays ready (e.g. only its browser session was lost and is recreated on the next probe).
    pub restarting: bool,
}

/// A checker finished starting (its HTTP client exists) and can take work.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct CheckerReady {
    pub slot: usize,
    /// Which checker instance of the slot this is (replacements get a new one).
    pub instance: u64,
    /// How many times this instance has started; a failure reported with an older epoch
    /// must not undo a newer readiness.
    pub epoch: u64,
    pub addr: Addr<super::CheckerActor>,
}

/// Close the checker's browser session (shutdown); answered when it is closed.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct CloseBrowser;

// ---- Anyone → Dispatcher -----------------------------------------------------------------

/// Ask for the dispatcher's state (for `/status`, health and tests).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "DispatcherStatus")]
pub struct GetDispatcherStatus;

#[derive(Debug, Clone, Default, PartialEq, Eq, MessageResponse)]
pub struct DispatcherStatus {
    pub cycle: Option<CycleId>,
    pub queued: usize,
    pub in_flight: usize,
    pub ready_checkers: usize,
    /// Checkers replaced since start (panics, fatal errors, dead mailboxes).
    pub checker_restarts: u64,
    /// Shutting down: no new cycles are accepted.
    pub draining: bool,
    pub cycles_finished: u64,
    pub last_stats: Option<CycleStats>,
}

/// Stop taking new work, wait up to the given time for in-flight probes, then answer.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Drain(pub Duration);

// ---- Anyone → Store ----------------------------------------------------------------------

/// Run one store operation on the StoreActor's thread: the only place Diesel runs in the daemon.
#[derive(Message)]
#[rtype(result = "Result<R, StoreError>")]
pub struct WithStore<R: 'static>(pub StoreOp<R>);

/// A store operation shipped to the StoreActor's thread.
pub type StoreOp<R> = Box<dyn FnOnce(&Store) -> Result<R, StoreError> + Send>;

impl<R: 'static> WithStore<R> {
    pub fn new(op: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static) -> Self {
        WithStore(Box::new(op))
    }
}

// ---- Anyone → Notifier -------------------------------------------------------------------

/// New rows were written to the outbox: deliver them now rather than at the next poll.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct OutboxChanged;

/// Deliver what is due now and answer when done (shutdown flush).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct FlushOutbox;

// ---- Bot ↔ Dispatcher --------------------------------------------------------------------

/// Probe some of an owner's accounts now, outside the schedule ("check now" in the bot).
///
/// The dispatcher loads the owner's **pending** accounts (all of them, or only the listed ids
/// that belong to `owner`: the owner is re-checked, ids of other owners are ignored), queues one
/// job per username ahead of the scheduled ones, records every verdict exactly as a cycle does
/// (same `record_probe`, same alerts) and reports to `progress` after each recorded verdict,
/// then once with `done: true` (also when nothing was due: `total: 0, done: true`). Answered at
/// once with the number of accounts queued, or `Err` with a reason when it is shutting down.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<u32, String>")]
pub struct CheckNow {
    pub owner: UserId,
    /// `None`: every pending account of the owner.
    pub accounts: Option<Vec<AccountId>>,
    pub progress: Recipient<CheckProgress>,
}

/// How a `CheckNow` is going; the counts are accounts, cumulative.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[rtype(result = "()")]
pub struct CheckProgress {
    pub checked: u32,
    pub total: u32,
    pub restored: u32,
    pub unknown: u32,
    /// The last report of this run.
    pub done: bool,
}
