//! Shared set-up: the daemon configuration the benchmarks run with, and fast seeding of accounts
//! straight through `Store`.

use igwatch::domain::{Lang, Mode, Role, UserId, Username};
use igwatch::store::Store;
use std::path::Path;

/// The canary the daemon probes first in every cycle; the latency fake knows it as live.
pub const CANARY: &str = "instagram";

/// Accounts are spread over this many owners (the dispatcher interleaves them round-robin).
pub const OWNERS: i64 = 10;

/// Daemon settings for a benchmark run.
pub struct Settings<'a> {
    pub db: &'a Path,
    pub checkers: usize,
    pub instagram_url: &'a str,
    /// `(api_url, token)` of a fake Bot API; `None` runs in local mode.
    pub telegram: Option<(&'a str, &'a str)>,
}

/// TOML for the daemon: `api` mode, no egress limit in the way (the configurable maximum,
/// 100 000 a minute with a burst of 10 000, far above the ≤ 320 probes/s measured here), no
/// jitter, no digest, and a WebDriver URL nobody listens on (browser excluded: the canary's
/// proof screenshot fails fast and is not part of its verdict).
pub fn toml(s: &Settings<'_>) -> String {
    let telegram = match s.telegram {
        Some((url, token)) => format!("[telegram]\napi_url = {url:?}\ntoken = {token:?}\n"),
        None => String::new(),
    };
    format!(
        r#"
[scheduler]
interval = "1h"
run_on_start = true
digest = false
canary = "{CANARY}"
[checkers]
count = {checkers}
probe_timeout = "10s"
[database]
path = {db:?}
[instagram]
base_url = "{ig}"
[webdriver]
urls = ["http://127.0.0.1:9"]
[egress]
per_minute = 100000
burst = 10000
jitter = "0s"
[users]
default_mode = "api"
[logging]
config = "/nonexistent/log4rs.yaml"
level = "info"
{telegram}"#,
        checkers = s.checkers,
        db = s.db.display().to_string(),
        ig = s.instagram_url,
    )
}

/// `n` pending `api`-mode accounts named `acct0000000…`, spread evenly over [`OWNERS`] owners, added
/// in batches of up to 5 000 (one transaction each).
pub fn seed(store: &Store, n: usize) -> Result<(), String> {
    let now = chrono::Utc::now();
    for owner in 1..=OWNERS {
        store
            .upsert_user(UserId(owner), Role::User, true, Lang::En, Mode::Api, now)
            .map_err(|e| format!("failed to add owner {owner}: {e}"))?;
    }
    for owner in 1..=OWNERS {
        // Owner o gets every OWNERS-th name, so every owner has about n / OWNERS accounts.
        let names: Vec<Username> = (0..n)
            .filter(|i| *i as i64 % OWNERS == owner - 1)
            .map(|i| Username::parse(&format!("acct{i:07}")).map_err(|e| format!("{e:?}")))
            .collect::<Result<_, _>>()?;
        for chunk in names.chunks(5_000) {
            store
                .add_accounts(UserId(owner), chunk, 30, now)
                .map_err(|e| format!("failed to seed accounts: {e}"))?;
        }
    }
    Ok(())
}
