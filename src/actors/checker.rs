//! CheckerActor: owns one HTTP client set and one WebDriver session, and runs one probe at a time.

use super::messages::{
    CheckerFailed, CheckerReady, CloseBrowser, ProbeJob, ProbeOutcome, RunProbe,
};
use crate::check::{ApiProber, BrowserSlot, EgressPool, KeySource, ProbeContext, ProbeInput};
use crate::config::Config;
use crate::domain::{Source, UnknownReason, Verdict};
use crate::metrics::Metrics;
use actix::prelude::*;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
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
    pub metrics: Arc<Metrics>,
    pub keys: Arc<dyn KeySource>,
    /// Rate budgets and health of every egress, shared by all checkers.
    pub egress: Arc<EgressPool>,
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
    ) -> Addr<CheckerActor> {
        let factory = self.clone();
        // Checkers spread over the WebDriver endpoints (several chromedriver hosts or a Grid).
        let urls = &factory.config.webdriver.urls;
        let webdriver_url = urls[slot % urls.len()].clone();
        Supervisor::start(move |_| CheckerActor {
            slot,
            instance,
            factory,
            dispatcher,
            prober: None,
            browser: Some(BrowserSlot::new(webdriver_url)),
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
    prober: Option<Rc<ProbeContext>>,
    /// `None` while a probe holds it.
    browser: Option<BrowserSlot>,
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
    fn try_start(&mut self) -> Result<ProbeContext, String> {
        if let Some(faults) = &self.factory.faults
            && faults.fail_start(self.slot)
        {
            return Err("injected start failure".into());
        }
        let f = &self.factory;
        let api = ApiProber::new(f.config.clone(), f.keys.clone());
        ProbeContext::new(f.config.clone(), api, f.egress.clone())
            .map_err(|e| format!("failed to build the HTTP client: {}", e.without_url()))
    }

    fn failed(&self, reason: String, during_probe: bool, restarting: bool) -> CheckerFailed {
        CheckerFailed {
            checker: self.slot,
            epoch: self.epoch,
            reason,
            during_probe,
            restarting,
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
        // A probe that panicked took the browser with it; a fresh slot starts lazily.
        if self.browser.is_none() {
            let urls = &self.factory.config.webdriver.urls;
            self.browser = Some(BrowserSlot::new(urls[self.slot % urls.len()].clone()));
        }
        self.factory.metrics.checker_restarts.inc();
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
        let (Some(prober), Some(mut browser)) = (self.prober.clone(), self.browser.take()) else {
            let failed = self.failed("not started".into(), false, false);
            return Box::pin(fut::ready(Err(failed)));
        };
        let timeout = self.factory.config.checkers.probe_timeout;
        let probe = async move {
            match fault {
                Some(InjectedFault::PanicInProbe) => panic!("injected panic in a probe"),
                Some(InjectedFault::Fatal) => {
                    return (Err(("injected fatal error".to_string(), true)), browser);
                }
                _ => {}
            }
            let started = Instant::now();
            let input = ProbeInput {
                username: &job.username,
                owners: &job.owners,
                mode: job.mode,
                cookies: job.session.as_ref().map_or(&[], |(_, c)| c.as_slice()),
                proxy: job.proxy.as_ref().map(|(id, spec)| (*id, spec.as_ref())),
            };
            // The API part is bounded by the probe timeout; browser commands carry their own
            // deadlines (a browser probe must not be cancelled mid-command: its session would
            // be dropped without being closed).
            let result = if job.mode.needs_browser() {
                prober.run(&input, &mut browser).await
            } else {
                match tokio::time::timeout(timeout, prober.run(&input, &mut browser)).await {
                    Ok(done) => done,
                    Err(_) => Ok(crate::check::ProbeResult {
                        verdict: Verdict::unknown(UnknownReason::Timeout),
                        sources: vec![Source::None],
                        rule: None,
                        screenshot: None,
                        session_refused: false,
                        proxy_ok: None,
                    }),
                }
            };
            let outcome = result
                .map(|r| ProbeOutcome {
                    verdict: r.verdict,
                    sources: r.sources,
                    rule: r.rule,
                    elapsed: started.elapsed(),
                    screenshot: r.screenshot,
                    session_refused: r.session_refused,
                    proxy_ok: r.proxy_ok,
                })
                .map_err(|e| (e.to_string(), false));
            (outcome, browser)
        };
        Box::pin(AssertUnwindSafe(probe).catch_unwind().into_actor(self).map(
            |result, act, ctx| {
                let (reason, restart) = match result {
                    Ok((Ok(outcome), browser)) => {
                        act.browser = Some(browser);
                        return Ok(outcome);
                    }
                    Ok((Err((reason, restart)), browser)) => {
                        act.browser = Some(browser);
                        (reason, restart)
                    }
                    Err(_) => ("the probe panicked".to_string(), true),
                };
                if restart {
                    log::error!(
                        "Checker {} failed ({reason}); it will be restarted and the job re-queued.",
                        act.slot
                    );
                    ctx.stop();
                } else {
                    log::warn!("Checker {} lost its probe ({reason}); re-queueing the job.", act.slot);
                }
                Err(act.failed(reason, true, restart))
            },
        ))
    }
}

impl Handler<CloseBrowser> for CheckerActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: CloseBrowser, _: &mut Self::Context) -> Self::Result {
        let Some(mut browser) = self.browser.take() else {
            return Box::pin(fut::ready(()));
        };
        Box::pin(
            async move {
                browser.close().await;
                browser
            }
            .into_actor(self)
            .map(|browser, act, _| act.browser = Some(browser)),
        )
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
