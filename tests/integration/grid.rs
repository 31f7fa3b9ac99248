//! Browser capacity beyond one machine: the daemon in-process with its checkers spread over a real
//! Selenium Grid 4 and a plain chromedriver (`webdriver.urls = [grid, chromedriver]`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use igwatch::actors::messages::{DispatcherStatus, GetDispatcherStatus};
use igwatch::app::{Daemon, Hooks, open_store};
use igwatch::config::{Config, from_toml_str};
use igwatch::domain::{AccountState, Lang, Mode, Role, UserId, Username, parse_cookie_json};
use igwatch::store::AccountFilter;

use crate::support::chrome::ChromeDriver;
use crate::support::fake_instagram::{Behavior, Endpoint, FakeInstagram};
use crate::support::grid::{
    SeleniumGrid, browsers_in_group, chromedriver_session_ids, current_urls,
};

/// A fixed test key (base64 of 32 bytes), so the Instagram session can be stored.
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OWNER: UserId = UserId(41);
const ACCOUNTS: usize = 8;
const CHECKERS: usize = 4;

fn config(ig: &FakeInstagram, grid: &SeleniumGrid, driver: &ChromeDriver, db: &str) -> Config {
    let text = format!(
        r#"
[scheduler]
interval = "1h"
[checkers]
count = {CHECKERS}
probe_timeout = "30s"
[database]
path = {db:?}
[instagram]
base_url = "{ig}"
[webdriver]
urls = ["{grid}", "{driver}"]
[egress]
per_minute = 100000
burst = 1000
jitter = "0s"
backoff_base = "1s"
backoff_max = "1s"
[logging]
config = "/nonexistent"
"#,
        ig = ig.url(),
        grid = grid.url(),
        driver = driver.url(),
    );
    let env = |name: &str| (name == "IGWATCH_SECRET_KEY").then(|| KEY.to_string());
    from_toml_str(&text, &env).expect("test config is valid")
}

/// Highest number of sessions seen on each endpoint.
#[derive(Debug, Default, Clone, Copy)]
struct Peak {
    /// Sessions in the Grid's `/status`.
    grid: usize,
    /// Chromium browsers in the Grid's process group (its node's chromedrivers start them).
    grid_browsers: usize,
    /// Chromium browsers in the plain chromedriver's process group.
    chromedriver: usize,
}

impl Peak {
    async fn sample(&mut self, grid: &SeleniumGrid, driver: &ChromeDriver) {
        self.grid = self.grid.max(grid.sessions().await);
        self.grid_browsers = self.grid_browsers.max(browsers_in_group(grid.pid()));
        self.chromedriver = self.chromedriver.max(browsers_in_group(driver.pid()));
    }
}

#[test]
fn checkers_spread_over_a_selenium_grid_and_a_plain_chromedriver() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let names: Vec<String> = (0..ACCOUNTS).map(|i| format!("spread_{i}")).collect();
    for name in &names {
        ig.set(name, Behavior::Exists { private: false });
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("igwatch.db").display().to_string();
    actix::System::new().block_on(async {
        let boot = Instant::now();
        let (grid, driver) = tokio::join!(SeleniumGrid::start(), ChromeDriver::start());
        let boot = boot.elapsed();
        let config = config(&ig, &grid, &driver, &db);
        let store = open_store(&config).unwrap();
        let now = chrono::Utc::now();
        store
            .upsert_user(OWNER, Role::User, true, Lang::En, Mode::Browser, now)
            .unwrap();
        let usernames: Vec<Username> = names.iter().map(|n| Username::parse(n).unwrap()).collect();
        store.add_accounts(OWNER, &usernames, 30, now).unwrap();
        let cookies = parse_cookie_json(
            r#"[{"name":"sessionid","value":"grid-session","domain":".instagram.com"}]"#,
        )
        .unwrap();
        store
            .add_instagram_session(OWNER, "main", &cookies, now)
            .unwrap();
        assert_eq!(grid.sessions().await, 0, "a fresh Grid holds no session");

        let started = Instant::now();
        let daemon = Daemon::start(Arc::new(config.clone()), store.clone(), Hooks::default())
            .expect("the daemon starts");
        // Sample both endpoints while the cycle runs; the checkers keep their sessions until
        // shutdown, so a last sample after the cycle sees every session that was created.
        let mut peak = Peak::default();
        let status: DispatcherStatus = loop {
            let status = daemon.dispatcher.send(GetDispatcherStatus).await.unwrap();
            peak.sample(&grid, &driver).await;
            if status.cycles_finished >= 1 || started.elapsed() > Duration::from_secs(120) {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let cycle = started.elapsed();
        peak.sample(&grid, &driver).await;
        let held = Peak {
            grid: grid.sessions().await,
            grid_browsers: browsers_in_group(grid.pid()),
            chromedriver: browsers_in_group(driver.pid()),
        };
        // What each endpoint's browsers show now: the last profile each of them probed.
        let grid_pages = current_urls(&grid.url(), &grid.session_ids().await).await;
        let driver_pages = current_urls(
            &driver.url(),
            &chromedriver_session_ids(&driver.url()).await,
        )
        .await;
        daemon.shutdown(Duration::from_secs(15)).await;
        // A quit deletes the session at once; its Chromium may take a moment to exit.
        let closing = Instant::now();
        let after = loop {
            let now = Peak {
                grid: grid.sessions().await,
                grid_browsers: browsers_in_group(grid.pid()),
                chromedriver: browsers_in_group(driver.pid()),
            };
            if (now.grid, now.grid_browsers, now.chromedriver) == (0, 0, 0)
                || closing.elapsed() > Duration::from_secs(5)
            {
                break now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };

        assert_eq!(
            status.cycles_finished,
            1,
            "one cycle within 120 s: {status:?}\nGrid log:\n{}",
            grid.log_tail()
        );
        let accounts = store.accounts(&AccountFilter::default()).unwrap();
        let restored: Vec<&str> = accounts
            .iter()
            .filter(|a| a.state == AccountState::Restored)
            .map(|a| a.username.as_str())
            .collect();
        assert_eq!(
            restored.len(),
            ACCOUNTS,
            "every account got its verdict through a browser: {accounts:#?}\nGrid log:\n{}",
            grid.log_tail()
        );
        let pages = ig
            .requests()
            .iter()
            .filter(|r| {
                r.endpoint == Endpoint::Page
                    && r.username
                        .as_deref()
                        .is_some_and(|u| names.iter().any(|n| n == u))
            })
            .count();
        assert!(pages >= ACCOUNTS, "every profile page was opened: {pages}");
        assert!(
            peak.grid >= 1,
            "the Grid never held a session: {peak:?}\nGrid log:\n{}",
            grid.log_tail()
        );
        // Sessions are created lazily by a probe, and each one's browser was left on a profile
        // page of the fake (an account's or the canary's): probes really ran on both endpoints.
        let profile = |page: &String| {
            names
                .iter()
                .map(String::as_str)
                .chain(["instagram"])
                .any(|n| *page == format!("{}/{n}/", ig.url()))
        };
        assert!(
            !grid_pages.is_empty() && grid_pages.iter().all(profile),
            "every Grid session ran a probe: {grid_pages:?}"
        );
        assert!(
            !driver_pages.is_empty() && driver_pages.iter().all(profile),
            "every chromedriver session ran a probe: {driver_pages:?}"
        );
        assert!(
            peak.grid_browsers >= 1,
            "the Grid's node never ran a browser: {peak:?}"
        );
        assert!(
            peak.chromedriver >= 1,
            "the plain chromedriver never ran a browser: {peak:?}"
        );
        // Slots alternate over the two URLs: half the checkers on each endpoint, at most.
        let per_endpoint = CHECKERS.div_ceil(2);
        assert!(
            peak.grid <= per_endpoint && peak.chromedriver <= per_endpoint,
            "more sessions on one endpoint than checkers assigned to it: {peak:?}"
        );
        assert_eq!(
            (after.grid, after.grid_browsers, after.chromedriver),
            (0, 0, 0),
            "shutdown closes the sessions on both endpoints"
        );
        println!(
            "figure: grid test, {ACCOUNTS} browser probes by {CHECKERS} checkers over \
             [grid, chromedriver]: sessions per endpoint grid {} (browsers {}) chromedriver {} \
             (held at cycle end: grid {} chromedriver {})",
            peak.grid, peak.grid_browsers, peak.chromedriver, held.grid, held.chromedriver
        );
        println!(
            "figure: grid test, last profile per session: grid {grid_pages:?}, chromedriver \
             {driver_pages:?}"
        );
        println!(
            "figure: grid test, endpoints ready in {:.1} s (Grid and chromedriver in parallel), \
             first cycle {:.1} s from daemon start (sessions created lazily), {pages} page loads",
            boot.as_secs_f64(),
            cycle.as_secs_f64()
        );
    });
}
