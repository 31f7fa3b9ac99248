//! The real actor system in-process: crash isolation of checkers and run-time interval changes.

use crate::support::fake_instagram::{Behavior, FakeInstagram};
use igwatch::actors::messages::ProbeJob;
use igwatch::actors::messages::{DispatcherStatus, GetDispatcherStatus, GetSchedule, SetInterval};
use igwatch::actors::{FaultHook, INTERVAL_SETTING, InjectedFault};
use igwatch::app::{Daemon, Hooks, open_store};
use igwatch::config::{Config, from_toml_str};
use igwatch::domain::{AccountState, Lang, Mode, Role, UserId, Username};
use igwatch::store::{AccountFilter, Store};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const OWNER: UserId = UserId(7);

fn config(dir: &std::path::Path, ig: &FakeInstagram, interval: &str) -> Config {
    from_toml_str(
        &format!(
            r#"
[scheduler]
interval = "{interval}"
[checkers]
count = 3
probe_timeout = "5s"
[database]
path = {db:?}
[instagram]
base_url = "{ig}"
[egress]
per_minute = 100000
burst = 1000
jitter = "0s"
backoff_base = "1s"
backoff_max = "1s"
[logging]
config = "/nonexistent"
"#,
            db = dir.join("igwatch.db").display().to_string(),
            ig = ig.url()
        ),
        &|_| None,
    )
    .expect("test config is valid")
}

fn seed(store: &Store, names: &[&str]) {
    let now = chrono::Utc::now();
    store
        .upsert_user(OWNER, Role::User, true, Lang::En, Mode::Api, now)
        .unwrap();
    let names: Vec<Username> = names.iter().map(|n| Username::parse(n).unwrap()).collect();
    store.add_accounts(OWNER, &names, 30, now).unwrap();
}

/// Faults scripted per username, and start failures per slot; counts what it was asked.
#[derive(Default)]
struct Script {
    probe: RefCell<HashMap<String, Vec<InjectedFault>>>,
    failing_starts: Cell<u32>,
    start_calls: Cell<u32>,
}

impl FaultHook for Script {
    fn fail_start(&self, slot: usize) -> bool {
        if slot != 0 {
            return false;
        }
        self.start_calls.set(self.start_calls.get() + 1);
        let left = self.failing_starts.get();
        if left > 0 {
            self.failing_starts.set(left - 1);
            return true;
        }
        false
    }

    fn on_probe(&self, _: usize, job: &ProbeJob) -> Option<InjectedFault> {
        let mut probe = self.probe.borrow_mut();
        let faults = probe.get_mut(job.username.as_str())?;
        if faults.is_empty() {
            None
        } else {
            Some(faults.remove(0))
        }
    }
}

async fn status(daemon: &Daemon) -> DispatcherStatus {
    daemon.dispatcher.send(GetDispatcherStatus).await.unwrap()
}

async fn wait_status(
    daemon: &Daemon,
    limit: Duration,
    done: impl Fn(&DispatcherStatus) -> bool,
) -> DispatcherStatus {
    let start = Instant::now();
    loop {
        let s = status(daemon).await;
        if done(&s) || start.elapsed() > limit {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn wait_cycles(daemon: &Daemon, n: u64, limit: Duration) -> DispatcherStatus {
    wait_status(daemon, limit, |s| s.cycles_finished >= n).await
}

/// What one scripted cycle left behind.
struct Run {
    status: DispatcherStatus,
    store: Store,
    ig: FakeInstagram,
    took: Duration,
    _dir: tempfile::TempDir,
}

/// Runs one cycle with the scripted faults.
fn run_with(script: Rc<Script>, names: &[&str]) -> Run {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    for name in names {
        ig.set(name, Behavior::NotFound);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config(dir.path(), &ig, "1h"));
    let store = open_store(&config).unwrap();
    seed(&store, names);
    let hook: Rc<dyn FaultHook> = script;
    let (status, took) = actix::System::new().block_on(async {
        let started = Instant::now();
        let daemon = Daemon::start(config, store.clone(), Hooks { faults: Some(hook) }).unwrap();
        wait_cycles(&daemon, 1, Duration::from_secs(20)).await;
        // A restarted checker reports ready on its own; the cycle may finish before that.
        let status = wait_status(&daemon, Duration::from_secs(10), |s| s.ready_checkers == 3).await;
        daemon.shutdown(Duration::from_secs(2)).await;
        (status, started.elapsed())
    });
    Run {
        status,
        store,
        ig,
        took,
        _dir: dir,
    }
}

fn assert_one_clean_verdict_each(store: &Store, names: &[&str]) {
    for account in store.accounts(&AccountFilter::default()).unwrap() {
        assert!(names.contains(&account.username.as_str()));
        assert_eq!(account.state, AccountState::Pending);
        assert_eq!(
            account.last_verdict.as_deref(),
            Some("not_found"),
            "{account:?}"
        );
        let history = store.account_history(account.id, 10).unwrap();
        assert_eq!(
            history.len(),
            1,
            "exactly one verdict for {}",
            account.username
        );
    }
}

const NAMES: [&str; 9] = ["victim", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"];

fn check_crash(fault: InjectedFault) {
    let script = Rc::new(Script::default());
    script
        .probe
        .borrow_mut()
        .insert("victim".into(), vec![fault]);
    let Run {
        status, store, ig, ..
    } = run_with(script.clone(), &NAMES);
    assert_eq!(status.cycles_finished, 1, "{status:?}");
    assert_eq!(status.checker_restarts, 1, "{fault:?}: {status:?}");
    assert_eq!(status.ready_checkers, 3, "the replacement checker is ready");
    // The crash happened before any request: the one request for victim is the re-probe.
    assert_eq!(ig.count("victim"), 1);
    assert_one_clean_verdict_each(&store, &NAMES);
    println!("figure: {fault:?} → restarts {}", status.checker_restarts);
}

#[test]
fn a_panic_inside_a_probe_restarts_the_checker_and_requeues_the_job() {
    check_crash(InjectedFault::PanicInProbe);
}

#[test]
fn a_panic_in_the_handler_kills_the_checker_and_a_new_one_takes_its_slot() {
    check_crash(InjectedFault::PanicInHandler);
}

#[test]
fn a_fatal_checker_error_restarts_the_checker_and_requeues_the_job() {
    check_crash(InjectedFault::Fatal);
}

#[test]
fn a_job_that_crashes_every_checker_is_dropped_for_the_cycle_without_a_verdict() {
    let script = Rc::new(Script::default());
    script
        .probe
        .borrow_mut()
        .insert("victim".into(), vec![InjectedFault::Fatal; 5]);
    let Run {
        status, store, ig, ..
    } = run_with(script, &NAMES);
    assert_eq!(status.cycles_finished, 1);
    assert_eq!(status.checker_restarts, 3);
    assert_eq!(ig.count("victim"), 0);
    let victim = store
        .accounts(&AccountFilter::default())
        .unwrap()
        .into_iter()
        .find(|a| a.username.as_str() == "victim")
        .unwrap();
    assert_eq!(victim.last_verdict, None, "no verdict comes from a crash");
    assert_eq!(store.account_history(victim.id, 10).unwrap().len(), 0);
}

#[test]
fn a_checker_that_fails_to_start_backs_off_instead_of_looping() {
    let script = Rc::new(Script::default());
    script.failing_starts.set(3);
    let Run {
        status,
        store,
        took,
        ..
    } = run_with(script.clone(), &NAMES);
    assert_eq!(status.cycles_finished, 1);
    assert_eq!(status.checker_restarts, 3, "{status:?}");
    // 3 failures then a success: 4 starts, with 0.5 + 1 + 2 s of back-off between them.
    assert_eq!(script.start_calls.get(), 4);
    assert_eq!(status.ready_checkers, 3);
    assert_one_clean_verdict_each(&store, &NAMES);
    println!(
        "figure: 3 failed starts, slot ready after {} ms",
        took.as_millis()
    );
}

#[test]
fn the_interval_changes_at_run_time_and_is_persisted() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("solo", Behavior::NotFound);
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config(dir.path(), &ig, "1h"));
    let store = open_store(&config).unwrap();
    seed(&store, &["solo"]);
    actix::System::new().block_on(async {
        let daemon = Daemon::start(config.clone(), store.clone(), Hooks::default()).unwrap();
        wait_cycles(&daemon, 1, Duration::from_secs(10)).await;
        let before = daemon.tick.send(GetSchedule).await.unwrap();
        assert_eq!(before.interval, Duration::from_secs(3600));
        // Out-of-range values are refused and change nothing.
        assert!(
            daemon
                .tick
                .send(SetInterval(Duration::ZERO))
                .await
                .unwrap()
                .is_err()
        );
        let after = daemon
            .tick
            .send(SetInterval(Duration::from_secs(1)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.interval, Duration::from_secs(1));
        let next = after.next_run_at.unwrap();
        assert!(next <= chrono::Utc::now() + chrono::Duration::seconds(1));
        let s = wait_cycles(&daemon, 3, Duration::from_secs(6)).await;
        assert!(
            s.cycles_finished >= 3,
            "no new cycles after the change: {s:?}"
        );
        daemon.shutdown(Duration::from_secs(2)).await;
    });
    assert_eq!(
        store.setting(INTERVAL_SETTING).unwrap().as_deref(),
        Some("1s")
    );
    assert!(ig.count("solo") >= 3);
    // A restart keeps the interval an admin set.
    actix::System::new().block_on(async {
        let daemon = Daemon::start(config, store.clone(), Hooks::default()).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let schedule = daemon.tick.send(GetSchedule).await.unwrap();
        assert_eq!(schedule.interval, Duration::from_secs(1));
        daemon.shutdown(Duration::from_secs(2)).await;
    });
}

#[test]
fn a_tick_during_a_running_cycle_is_coalesced() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("slow", Behavior::NotFound);
    ig.set_latency(Duration::from_millis(2500));
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config(dir.path(), &ig, "1s"));
    let store = open_store(&config).unwrap();
    seed(&store, &["slow"]);
    let finished = actix::System::new().block_on(async {
        let daemon = Daemon::start(config, store.clone(), Hooks::default()).unwrap();
        tokio::time::sleep(Duration::from_millis(5600)).await;
        let s = status(&daemon).await;
        daemon.shutdown(Duration::from_secs(3)).await;
        s.cycles_finished
    });
    // Ticks every second against cycles of 2.5 s: without coalescing, six cycles would start
    // and probes of the same username would overlap.
    let probes = ig.count("slow");
    assert!((1..=2).contains(&finished), "cycles finished: {finished}");
    assert!(probes <= 3, "probes started: {probes}");
    assert_eq!(ig.max_concurrency(), 1);
    println!("figure: 6 ticks over 5.6 s with 2.5 s cycles → {probes} cycles started");
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

#[test]
fn healthz_turns_unhealthy_when_the_dispatcher_stops_taking_cycles() {
    igwatch::check::install_crypto_provider();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("solo", Behavior::NotFound);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = config(dir.path(), &ig, "1h");
    config.metrics.listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    let config = Arc::new(config);
    let store = open_store(&config).unwrap();
    seed(&store, &["solo"]);
    actix::System::new().block_on(async {
        let daemon = Daemon::start(config, store.clone(), Hooks::default()).unwrap();
        wait_cycles(&daemon, 1, Duration::from_secs(10)).await;
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let get = |path: &'static str| {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(format!("{url}{path}")).send().await.unwrap() }
        };
        assert_eq!(get("/healthz").await.status(), 200);
        let metrics = get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains(r#"igwatch_probes_total{reason="-",verdict="not_found"} 1"#),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"igwatch_accounts{state="pending"} 1"#),
            "{metrics}"
        );
        daemon.shutdown(Duration::from_secs(2)).await;
        assert_eq!(get("/healthz").await.status(), 503);
    });
}
