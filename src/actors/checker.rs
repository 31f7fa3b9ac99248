//! CheckerActor: owns one HTTP client (and, with the browser issue, one WebDriver session) and runs probes.

use super::messages::{CheckerFailed, CheckerReady, ProbeJob, ProbeOutcome, RunProbe};
use crate::check::{ApiProber, KeySource, build_client};
use crate::config::Config;
use crate::domain::{Mode, Source, UnknownReason, Verdict};
use actix::prelude::*;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A fault a test asks a checker to suffer (the test-only hook; production passes none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// Panic inside the probe (caught around the probe: the checker stops and is restarted).
    PanicInProbe,
    /// Panic in the message handler itself (kills the actor: the dispatcher sees a dead mailbox).
    PanicInHandler,
    /// The probe fails fatally without a verdict.
    Fatal,
}

/// Test-only fault injection: asked before each start and each probe.
pub trait FaultHook {
    /// `true` makes this start of the checker fail.
    fn fail_start(&self, slot: usize) -> bool;
    /// A fault to suffer while probing `job`, if any.
    fn on_probe(&self, slot: usize, job: &ProbeJob) -> Option<InjectedFault>;
}

/// Everything needed to start checkers; the dispatcher uses it to create and replace them.
#[derive(Clone)]
pub struct CheckerFactory {
    pub config: Arc<Config>,
    pub keys: Arc<dyn KeySource>,
    pub faults: Option<Rc<dyn FaultHook>>,
}

impl CheckerFactory {
    /// Starts a supervised checker in `slot`; `instance` tells its readiness apart from a
    /// replaced predecessor's.
    pub fn spawn(
        &self,
        slot: usize,
        instance: u64,
        dispatcher: Recipient<CheckerReady>,
        restarts: Arc<AtomicU64>,
    ) -> Addr<CheckerActor> {
        let factory = self.clone();
        Supervisor::start(move |_| CheckerActor {
            slot,
            instance,
            factory,
            dispatcher,
            restarts,
            prober: None,
            start_failures: 0,
            epoch: 0,
        })
    }
}

/// Runs one probe at a time. Holds no cycle state: the dispatcher is the source of truth.
pub struct CheckerActor {
    slot: usize,
    instance: u64,
    factory: CheckerFactory,
    dispatcher: Recipient<CheckerReady>,
    restarts: Arc<AtomicU64>,
    prober: Option<Rc<ApiProber>>,
    start_failures: u32,
    /// Incremented at every start.
    epoch: u64,
}

/// Delay before a failed start gives up and lets the supervisor restart the checker:
/// 0.5 s doubling to 30 s, so a broken endpoint never causes a tight restart loop.
fn start_backoff(failures: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << failures.min(7).saturating_sub(1)))
        .min(Duration::from_secs(30))
}

impl CheckerActor {
    fn try_start(&mut self) -> Result<ApiProber, String> {
        if let Some(faults) = &self.factory.faults
            && faults.fail_start(self.slot)
        {
            return Err("injected start failure".into());
        }
        let client = build_client(&self.factory.config)
            .map_err(|e| format!("failed to build the HTTP client: {}", e.without_url()))?;
        Ok(ApiProber::new(
            client,
            self.factory.config.clone(),
            self.factory.keys.clone(),
        ))
    }

    fn failed(&self, reason: String, during_probe: bool) -> CheckerFailed {
        CheckerFailed {
            checker: self.slot,
            epoch: self.epoch,
            reason,
            during_probe,
        }
    }
}

impl Actor for CheckerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.epoch += 1;
        match self.try_start() {
            Ok(prober) => {
                self.start_failures = 0;
                self.prober = Some(Rc::new(prober));
                self.dispatcher.do_send(CheckerReady {
                    slot: self.slot,
                    instance: self.instance,
                    epoch: self.epoch,
                    addr: ctx.address(),
                });
            }
            Err(reason) => {
                self.start_failures += 1;
                let delay = start_backoff(self.start_failures);
                log::warn!(
                    "Checker {} could not start ({reason}); restarting in {} ms.",
                    self.slot,
                    delay.as_millis()
                );
                ctx.run_later(delay, |_, ctx| ctx.stop());
            }
        }
    }
}

impl Supervised for CheckerActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.prober = None;
        self.restarts.fetch_add(1, Ordering::Relaxed);
        log::info!("Checker {} is restarting.", self.slot);
    }
}

impl Handler<RunProbe> for CheckerActor {
    type Result = ResponseActFuture<Self, Result<ProbeOutcome, CheckerFailed>>;

    fn handle(&mut self, RunProbe(job): RunProbe, _: &mut Self::Context) -> Self::Result {
        let fault = self
            .factory
            .faults
            .as_ref()
            .and_then(|f| f.on_probe(self.slot, &job));
        if fault == Some(InjectedFault::PanicInHandler) {
            panic!("injected panic in the handler of checker {}", self.slot);
        }
        let Some(prober) = self.prober.clone() else {
            let failed = self.failed("not started".into(), false);
            return Box::pin(fut::ready(Err(failed)));
        };
        let timeout = self.factory.config.checkers.probe_timeout;
        let probe = async move {
            match fault {
                Some(InjectedFault::PanicInProbe) => panic!("injected panic in a probe"),
                Some(InjectedFault::Fatal) => return Err("injected fatal error".to_string()),
                _ => {}
            }
            let started = Instant::now();
            let (verdict, sources, rule) =
                match tokio::time::timeout(timeout, run(&prober, &job)).await {
                    Ok(done) => done,
                    Err(_) => (
                        Verdict::unknown(UnknownReason::Timeout),
                        vec![Source::None],
                        None,
                    ),
                };
            Ok(ProbeOutcome {
                verdict,
                sources,
                rule,
                elapsed: started.elapsed(),
            })
        };
        Box::pin(
            AssertUnwindSafe(probe)
                .catch_unwind()
                .into_actor(self)
                .map(|result, act, ctx| {
                    let reason = match result {
                        Ok(Ok(outcome)) => return Ok(outcome),
                        Ok(Err(reason)) => reason,
                        Err(_) => "the probe panicked".to_string(),
                    };
                    log::error!(
                        "Checker {} failed ({reason}); it will be restarted and the job re-queued.",
                        act.slot
                    );
                    ctx.stop();
                    Err(act.failed(reason, true))
                }),
        )
    }
}

/// Runs the probe the job's mode asks for.
async fn run(prober: &ApiProber, job: &ProbeJob) -> (Verdict, Vec<Source>, Option<String>) {
    match job.mode {
        Mode::Api => {
            let api = prober.probe(&job.username, &job.owners).await;
            (api.verdict, vec![api.source], api.rule)
        }
        Mode::Browser | Mode::ApiBrowser => (
            Verdict::unknown(UnknownReason::NoSession),
            vec![Source::None],
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_backoff_grows_and_is_capped() {
        assert_eq!(start_backoff(1), Duration::from_millis(500));
        assert_eq!(start_backoff(2), Duration::from_millis(1000));
        assert_eq!(start_backoff(3), Duration::from_millis(2000));
        assert_eq!(start_backoff(50), Duration::from_secs(30));
    }
}
