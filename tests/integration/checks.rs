//! The daemon's check pipeline in-process with real Chromium: api+browser confirmation, proof
//! screenshots, chromedriver crashes, proxies with credentials, canaries and blank pages.

use crate::support::chrome::ChromeDriver;
use crate::support::fake_bot::FakeBotApi;
use crate::support::fake_instagram::{Behavior, Endpoint, FakeInstagram};
use crate::support::test_proxy::TestProxy;
use igwatch::actors::messages::{DispatcherStatus, GetDispatcherStatus};
use igwatch::app::{Daemon, Hooks, open_store};
use igwatch::config::{Config, from_toml_str};
use igwatch::domain::{AccountState, Lang, Mode, ProxySpec, Role, UnknownReason, UserId, Username};
use igwatch::store::{Account, AccountFilter, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// A fixed test key (base64 of 32 bytes), so proxies and sessions can be stored.
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Setup {
    config: Config,
    _dir: tempfile::TempDir,
}

fn setup(ig: &FakeInstagram, driver: &url::Url, bot: Option<&FakeBotApi>, extra: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let telegram = match bot {
        Some(bot) => format!(
            "[telegram]\ntoken = \"{}\"\napi_url = \"{}\"\n",
            bot.token(),
            bot.url()
        ),
        None => String::new(),
    };
    let text = format!(
        r#"
[scheduler]
interval = "1h"
[checkers]
count = 3
probe_timeout = "10s"
[database]
path = {db:?}
[instagram]
base_url = "{ig}"
allow_private_proxies = true
[webdriver]
urls = ["{wd}"]
[egress]
per_minute = 100000
burst = 1000
jitter = "0s"
backoff_base = "1s"
backoff_max = "1s"
[logging]
config = "/nonexistent"
{telegram}
{extra}
"#,
        db = dir.path().join("igwatch.db").display().to_string(),
        ig = ig.url(),
        wd = driver,
    );
    let env = |name: &str| (name == "IGWATCH_SECRET_KEY").then(|| KEY.to_string());
    let config = from_toml_str(&text, &env).expect("test config is valid");
    Setup { config, _dir: dir }
}

fn add(store: &Store, owner: i64, mode: Mode, names: &[&str]) {
    let now = chrono::Utc::now();
    store
        .upsert_user(UserId(owner), Role::User, true, Lang::En, mode, now)
        .unwrap();
    let names: Vec<Username> = names.iter().map(|n| Username::parse(n).unwrap()).collect();
    store.add_accounts(UserId(owner), &names, 30, now).unwrap();
}

fn account(store: &Store, name: &str) -> Account {
    store
        .accounts(&AccountFilter::default())
        .unwrap()
        .into_iter()
        .find(|a| a.username.as_str() == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

async fn wait_status(
    daemon: &Daemon,
    limit: Duration,
    done: impl Fn(&DispatcherStatus) -> bool,
) -> DispatcherStatus {
    let start = Instant::now();
    loop {
        let s = daemon.dispatcher.send(GetDispatcherStatus).await.unwrap();
        if done(&s) || start.elapsed() > limit {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Peak number of profile pages being served at once is what the fake's gauge measures when
/// only pages are slow; here every endpoint counts, which bounds browser probes too.
fn peak(ig: &FakeInstagram) -> usize {
    ig.max_concurrency()
}

#[test]
fn api_plus_browser_restores_only_what_the_browser_confirms() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set_latency(Duration::from_millis(30));
    for name in ["live_one", "live_two", "api_lies"] {
        ig.set(name, Behavior::Exists { private: false });
    }
    // The API still says it exists; the page says it is gone.
    ig.set_page("api_lies", Behavior::NotFound);
    for i in 0..4 {
        ig.set(&format!("gone_{i}"), Behavior::NotFound);
    }
    let bot = FakeBotApi::start();
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), Some(&bot), "");
        let store = open_store(&s.config).unwrap();
        add(
            &store,
            11,
            Mode::ApiBrowser,
            &[
                "live_one", "live_two", "api_lies", "gone_0", "gone_1", "gone_2", "gone_3",
            ],
        );
        add(&store, 12, Mode::Browser, &["needs_session"]);
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        let status =
            wait_status(&daemon, Duration::from_secs(90), |s| s.cycles_finished >= 1).await;
        assert_eq!(status.cycles_finished, 1, "{status:?}");
        let delivered = bot
            .wait_for_async(
                |b| {
                    b.delivered()
                        .iter()
                        .filter(|m| m.method == "sendPhoto")
                        .count()
                        >= 2
                },
                Duration::from_secs(20),
            )
            .await;
        daemon.shutdown(Duration::from_secs(10)).await;
        assert!(delivered, "two proof photos: {:#?}", bot.sent());

        assert_eq!(account(&store, "live_one").state, AccountState::Restored);
        assert_eq!(account(&store, "live_two").state, AccountState::Restored);
        let lies = account(&store, "api_lies");
        assert_eq!(lies.state, AccountState::Pending, "no false restore");
        assert_eq!(lies.last_reason, Some(UnknownReason::Mismatch));
        for i in 0..4 {
            let gone = account(&store, &format!("gone_{i}"));
            assert_eq!(gone.last_verdict.as_deref(), Some("not_found"));
            // API NotFound ends the probe: the browser never opened the page.
            assert!(ig.requests().iter().all(|r| !(r.endpoint == Endpoint::Page
                && r.username.as_deref() == Some(gone.username.as_str()))));
        }
        let skipped = account(&store, "needs_session");
        assert_eq!(skipped.last_reason, Some(UnknownReason::NoSession));
        assert_eq!(ig.count("needs_session"), 0);

        let photos: Vec<_> = bot
            .delivered()
            .into_iter()
            .filter(|m| m.method == "sendPhoto")
            .collect();
        assert_eq!(photos.len(), 2, "{photos:#?}");
        for photo in &photos {
            let png = photo.photo.as_ref().expect("an uploaded photo");
            assert!(png.starts_with(PNG_SIGNATURE));
            assert!(!igwatch::check::is_blank(png), "a blank proof was sent");
            let caption = photo.caption.as_deref().unwrap_or_default();
            assert!(caption.contains("live_"), "{caption}");
        }
        assert!(peak(&ig) <= 3, "peak concurrency {}", peak(&ig));
        println!(
            "figure: api+browser cycle, peak concurrent requests {}",
            peak(&ig)
        );
    });
}

#[test]
fn a_blank_page_never_becomes_a_proof_or_a_restore() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("blank_one", Behavior::Exists { private: false });
    ig.set_page("blank_one", Behavior::BlankPage);
    let bot = FakeBotApi::start();
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), Some(&bot), "");
        let store = open_store(&s.config).unwrap();
        add(&store, 21, Mode::ApiBrowser, &["blank_one"]);
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        wait_status(&daemon, Duration::from_secs(60), |s| s.cycles_finished >= 1).await;
        daemon.shutdown(Duration::from_secs(10)).await;
        let blank = account(&store, "blank_one");
        assert_eq!(blank.state, AccountState::Pending);
        assert_eq!(blank.last_reason, Some(UnknownReason::BlankScreenshot));
        assert!(bot.sent().iter().all(|m| m.method != "sendPhoto"));
    });
}

#[test]
fn a_killed_chromedriver_costs_a_retry_not_a_verdict() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    // The page takes long enough for the driver to be killed under it.
    ig.set("victim", Behavior::NotFound);
    ig.set_page(
        "victim",
        Behavior::Slow(Duration::from_secs(3), Box::new(Behavior::NotFound)),
    );
    actix::System::new().block_on(async {
        let mut driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), None, "");
        let store = open_store(&s.config).unwrap();
        add(&store, 31, Mode::Browser, &["victim"]);
        let cookies = igwatch::domain::parse_cookie_json(
            r#"[{"name":"sessionid","value":"s3cr3t-session","domain":".instagram.com"}]"#,
        )
        .unwrap();
        store
            .add_instagram_session(UserId(31), "main", &cookies, chrono::Utc::now())
            .unwrap();
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        // Wait until the browser is on the slow page, then kill the driver and start another
        // on the same port (as systemd would restart the unit).
        let start = Instant::now();
        while !ig
            .requests()
            .iter()
            .any(|r| r.endpoint == Endpoint::Page && r.username.as_deref() == Some("victim"))
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the page was never opened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let port = driver.url().port().unwrap();
        driver.kill();
        let killed_at = Instant::now();
        let _replacement = ChromeDriver::start_on(port).await;
        let status =
            wait_status(&daemon, Duration::from_secs(60), |s| s.cycles_finished >= 1).await;
        let recovered = killed_at.elapsed();
        daemon.shutdown(Duration::from_secs(10)).await;
        assert_eq!(status.cycles_finished, 1);
        let victim = account(&store, "victim");
        assert_eq!(
            victim.last_verdict.as_deref(),
            Some("not_found"),
            "{victim:?}"
        );
        let history = store.account_history(victim.id, 10).unwrap();
        assert_eq!(
            history.len(),
            1,
            "one verdict, from the retried probe: {history:?}"
        );
        let retried = page_retried_after(&ig, "victim", killed_at).expect("the page was retried");
        println!(
            "figure: chromedriver killed mid-probe → new session, page retried {} ms later; verdict {} ms later",
            retried.as_millis(),
            recovered.as_millis()
        );
        assert!(retried < RECOVERY_BOUND, "recovery took {retried:?}");
    });
}

#[test]
fn a_proxy_with_credentials_carries_api_and_browser_and_a_wrong_password_is_unknown() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("via_proxy", Behavior::Exists { private: false });
    ig.set("wrong_pass", Behavior::NotFound);
    let good = TestProxy::http("scout", "p@ss:w0rd");
    let bad = TestProxy::http("scout", "right");
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), None, "");
        let store = open_store(&s.config).unwrap();
        add(&store, 41, Mode::ApiBrowser, &["via_proxy"]);
        add(&store, 42, Mode::Api, &["wrong_pass"]);
        let now = chrono::Utc::now();
        let spec = ProxySpec::parse(&good.url()).unwrap();
        store.add_proxies(UserId(41), &[spec], now).unwrap();
        let wrong = ProxySpec::parse(&bad.url_with("scout", "wrong")).unwrap();
        store.add_proxies(UserId(42), &[wrong], now).unwrap();
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        wait_status(&daemon, Duration::from_secs(90), |s| s.cycles_finished >= 1).await;
        daemon.shutdown(Duration::from_secs(10)).await;

        let via = account(&store, "via_proxy");
        assert_eq!(via.state, AccountState::Restored, "{via:?}");
        let seen = ig.requests();
        let api = seen
            .iter()
            .filter(|r| r.endpoint == Endpoint::Web && r.username.as_deref() == Some("via_proxy"))
            .count();
        let page = seen
            .iter()
            .filter(|r| r.endpoint == Endpoint::Page && r.username.as_deref() == Some("via_proxy"))
            .count();
        assert!(api >= 1 && page >= 1, "api {api}, page {page}");
        let proxied = good.requests();
        assert!(proxied.iter().all(|r| r.auth_ok), "{proxied:?}");
        // The canary, the API call, and the browser's page loads all went through the proxy.
        assert!(
            proxied.len() >= 3,
            "the proxy saw {} requests",
            proxied.len()
        );

        let wrong = account(&store, "wrong_pass");
        assert_eq!(wrong.state, AccountState::Pending);
        assert_eq!(
            wrong.last_reason,
            Some(UnknownReason::ProxyAuth),
            "{wrong:?}"
        );
        assert!(bad.requests().iter().all(|r| !r.auth_ok));
        println!(
            "figure: proxy with credentials saw {} requests (api {api}, pages {page})",
            proxied.len()
        );
    });
}

#[test]
fn a_failed_canary_turns_the_cycles_not_found_into_unknown() {
    let ig = FakeInstagram::start();
    // The canary (a known-live account) reads as gone: this egress is lying.
    ig.set("instagram", Behavior::NotFound);
    ig.set("seems_gone", Behavior::NotFound);
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), None, "");
        let store = open_store(&s.config).unwrap();
        add(&store, 51, Mode::Api, &["seems_gone"]);
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        wait_status(&daemon, Duration::from_secs(30), |s| s.cycles_finished >= 1).await;
        daemon.shutdown(Duration::from_secs(10)).await;
        let gone = account(&store, "seems_gone");
        assert_eq!(gone.last_verdict.as_deref(), Some("unknown"));
        assert_eq!(gone.last_reason, Some(UnknownReason::CanaryFailed));
        // The canary ran first: its request precedes the account's.
        let order: Vec<_> = ig
            .requests()
            .into_iter()
            .filter_map(|r| r.username)
            .collect();
        assert_eq!(
            order.first().map(String::as_str),
            Some("instagram"),
            "{order:?}"
        );
    });
}

/// How long after `since` the probe of `name` opened its page again: the checker has a new
/// session and retries the job. This is the recovery the browser tests bound (≤ 5 s); the
/// verdict comes later, after the retried page's own load time.
fn page_retried_after(ig: &FakeInstagram, name: &str, since: Instant) -> Option<Duration> {
    ig.requests()
        .iter()
        .find(|r| {
            r.endpoint == Endpoint::Page && r.username.as_deref() == Some(name) && r.at > since
        })
        .map(|r| r.at - since)
}

/// A browser checker must be probing again within this long after its driver or browser died.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// What to break under a running browser probe.
#[derive(Debug, Clone, Copy)]
enum BrowserCrash {
    /// Every Chromium browser process (the driver lives on).
    Browser,
    /// The renderer processes: the tab crashes.
    Tab,
}

/// Kills part of the browser while a probe waits for a slow page; the probe must be retried on
/// a new session and give exactly one verdict.
fn crash_during_probe(crash: BrowserCrash) {
    use crate::support::grid::chromium_pids;
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("victim", Behavior::NotFound);
    ig.set_page(
        "victim",
        Behavior::Slow(Duration::from_secs(3), Box::new(Behavior::NotFound)),
    );
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let s = setup(&ig, &driver.url(), None, "");
        let store = open_store(&s.config).unwrap();
        add(&store, 61, Mode::Browser, &["victim"]);
        let cookies = igwatch::domain::parse_cookie_json(
            r#"[{"name":"sessionid","value":"s3cr3t-session","domain":".instagram.com"}]"#,
        )
        .unwrap();
        store
            .add_instagram_session(UserId(61), "main", &cookies, chrono::Utc::now())
            .unwrap();
        let daemon = Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default())
            .unwrap();
        let start = Instant::now();
        while !ig
            .requests()
            .iter()
            .any(|r| r.endpoint == Endpoint::Page && r.username.as_deref() == Some("victim"))
        {
            assert!(start.elapsed() < Duration::from_secs(30), "the page was never opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let kind = match crash {
            BrowserCrash::Browser => None,
            BrowserCrash::Tab => Some("renderer"),
        };
        let pids = chromium_pids(driver.pid(), kind);
        assert!(!pids.is_empty(), "no {crash:?} process to kill");
        for pid in &pids {
            // A renderer may already be gone with the others: `kill` then only complains.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
        let crashed_at = Instant::now();
        let status =
            wait_status(&daemon, Duration::from_secs(60), |s| s.cycles_finished >= 1).await;
        let recovered = crashed_at.elapsed();
        daemon.shutdown(Duration::from_secs(10)).await;
        assert_eq!(status.cycles_finished, 1);
        let victim = account(&store, "victim");
        let history = store.account_history(victim.id, 10).unwrap();
        assert_eq!(history.len(), 1, "one verdict, none from the crash: {history:?}");
        assert_eq!(victim.last_verdict.as_deref(), Some("not_found"), "{victim:?}");
        let retried = page_retried_after(&ig, "victim", crashed_at).expect("the page was retried");
        println!(
            "figure: {crash:?} killed mid-probe ({} processes) → new session, page retried {} ms later; verdict {} ms later; probes lost 0",
            pids.len(),
            retried.as_millis(),
            recovered.as_millis()
        );
        assert!(retried < RECOVERY_BOUND, "recovery took {retried:?}");
    });
}

#[test]
fn a_killed_chromium_costs_a_retry_not_a_verdict() {
    crash_during_probe(BrowserCrash::Browser);
}

#[test]
fn a_crashed_tab_costs_a_retry_not_a_verdict() {
    crash_during_probe(BrowserCrash::Tab);
}

#[test]
fn a_page_that_never_loads_is_unknown_and_the_session_survives() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("stuck", Behavior::Exists { private: false });
    ig.set_page("stuck", Behavior::Hang);
    ig.set("fine", Behavior::Exists { private: false });
    actix::System::new().block_on(async {
        let driver = ChromeDriver::start().await;
        let mut s = setup(&ig, &driver.url(), None, "");
        s.config.checkers.count = 1;
        s.config.checkers.probe_timeout = Duration::from_secs(3);
        let store = open_store(&s.config).unwrap();
        add(&store, 71, Mode::ApiBrowser, &["stuck", "fine"]);
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        let started = Instant::now();
        let status =
            wait_status(&daemon, Duration::from_secs(60), |s| s.cycles_finished >= 1).await;
        daemon.shutdown(Duration::from_secs(10)).await;
        assert_eq!(status.checker_restarts, 0, "{status:?}");
        let stuck = account(&store, "stuck");
        assert_eq!(stuck.state, AccountState::Pending);
        assert_eq!(stuck.last_reason, Some(UnknownReason::Timeout), "{stuck:?}");
        assert_eq!(account(&store, "fine").state, AccountState::Restored);
        println!(
            "figure: a page that never loads → unknown(timeout), same session went on; cycle {} ms",
            started.elapsed().as_millis()
        );
    });
}

#[test]
fn a_disabled_proxy_is_re_tested_by_the_canary_and_enabled_again() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("owned", Behavior::NotFound);
    let proxy = TestProxy::http("scout", "pw");
    // No browser is needed: the owner is in api mode and nothing exists.
    let nowhere = url::Url::parse("http://127.0.0.1:9").unwrap();
    let s = setup(&ig, &nowhere, None, "");
    let store = open_store(&s.config).unwrap();
    add(&store, 81, Mode::Api, &["owned"]);
    let spec = ProxySpec::parse(&proxy.url()).unwrap();
    let added = store
        .add_proxies(UserId(81), &[spec], chrono::Utc::now())
        .unwrap();
    let id = added.added[0];
    // Five failures two hours ago: disabled, and its re-test time has come.
    let then = chrono::Utc::now() - chrono::Duration::hours(2);
    for _ in 0..5 {
        store.record_proxy_result(id, false, then).unwrap();
    }
    assert!(!store.proxies(UserId(81)).unwrap()[0].enabled);
    actix::System::new().block_on(async {
        let daemon =
            Daemon::start(Arc::new(s.config.clone()), store.clone(), Hooks::default()).unwrap();
        wait_status(&daemon, Duration::from_secs(30), |s| s.cycles_finished >= 1).await;
        daemon.shutdown(Duration::from_secs(5)).await;
    });
    let info = &store.proxies(UserId(81)).unwrap()[0];
    assert!(info.enabled, "{info:?}");
    assert_eq!(info.fail_streak, 0);
    assert!(
        proxy.requests().iter().any(|r| r.auth_ok),
        "the canary went through the proxy"
    );
}
