//! The seed scenario: the real daemon binary against fake Instagram and a fake Bot API on loopback.

use crate::support::daemon::{Deployment, accounts_json, free_port, http_get, metric, wait_until};
use crate::support::fake_bot::{FakeBotApi, Fault, Match};
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use std::collections::BTreeMap;
use std::time::Duration;

const ADMIN: i64 = 900;
const API_OWNERS: [i64; 3] = [101, 102, 103];
const BROWSER_OWNER: i64 = 104;

#[test]
fn seed_scenario_end_to_end() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set_latency(Duration::from_millis(60));
    let bot = FakeBotApi::start();
    // The first send is rate limited, and the third cannot be parsed: both must still arrive.
    bot.inject(Fault::RetryAfter(1), Match::NthSend(1));
    bot.inject(Fault::CantParseEntities, Match::NthSend(3));

    let metrics_port = free_port();
    let dep = Deployment::new(&format!(
        r#"
[scheduler]
interval = "2s"
run_on_start = true

[checkers]
count = 3
probe_timeout = "5s"

[telegram]
token = "{token}"
api_url = "{bot}"
admin_ids = [{ADMIN}]

[instagram]
provider = "instagram_web"
base_url = "{ig}"

[egress]
per_minute = 100000
burst = 1000
jitter = "0s"
backoff_base = "1s"
backoff_max = "1s"

[metrics]
listen = "127.0.0.1:{metrics_port}"
"#,
        token = bot.token(),
        bot = bot.url(),
        ig = ig.url(),
    ));

    // 20 api-mode accounts over three owners: 12 not found, 3 restored, 5 unknown.
    let mut names: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for i in 0..12 {
        let name = format!("gone.{i:02}");
        ig.set(&name, Behavior::NotFound);
        names.entry("not_found").or_default().push(name);
    }
    for i in 0..3 {
        let name = format!("back_{i}");
        ig.set(&name, Behavior::Exists { private: i == 2 });
        names.entry("exists").or_default().push(name);
    }
    for i in 0..5 {
        let name = format!("limited_{i}");
        let behavior = if i < 3 {
            Behavior::RateLimited
        } else {
            Behavior::PleaseWait
        };
        ig.set(&name, behavior);
        names.entry("unknown").or_default().push(name);
    }
    let api_names: Vec<String> = names.values().flatten().cloned().collect();
    for owner in API_OWNERS.iter().chain([&BROWSER_OWNER]) {
        let mode = if *owner == BROWSER_OWNER {
            "browser"
        } else {
            "api"
        };
        dep.cli_ok(&[
            "users",
            "add",
            &owner.to_string(),
            "--mode",
            mode,
            "--lang",
            "en",
        ]);
    }
    for (i, name) in api_names.iter().enumerate() {
        let owner = API_OWNERS[i % 3].to_string();
        dep.cli_ok(&["accounts", "add", "--owner", &owner, "--days", "30", name]);
    }
    let browser_names: Vec<String> = (0..20).map(|i| format!("needs.session.{i}")).collect();
    let mut args = vec!["accounts", "add", "--owner", "104", "--days", "14"];
    args.extend(browser_names.iter().map(String::as_str));
    dep.cli_ok(&args);
    assert_eq!(accounts_json(&dep).len(), 40);

    let mut daemon = dep.spawn();
    // The first cycle starts immediately.
    assert!(
        wait_until(Duration::from_secs(3), || !ig.requests().is_empty()),
        "no probe within 3 s of start:\n{}",
        daemon.log_text()
    );
    // Every api-mode username still pending is probed again when the interval has passed.
    let still_pending: Vec<&String> = names["not_found"].iter().chain(&names["unknown"]).collect();
    assert!(
        wait_until(Duration::from_secs(20), || still_pending
            .iter()
            .all(|n| ig.count(n) >= 2)),
        "no second cycle:\n{}",
        daemon.log_text()
    );
    let restored_alerts = |b: &FakeBotApi| {
        b.delivered()
            .iter()
            .filter(|m| API_OWNERS.contains(&m.chat_id))
            .filter(|m| m.text.as_deref().is_some_and(|t| t.contains("back_")))
            .count()
    };
    assert!(
        bot.wait_for(|b| restored_alerts(b) == 3, Duration::from_secs(15)),
        "restore alerts missing: {:#?}\n{}",
        bot.sent(),
        daemon.log_text()
    );
    let digests = |b: &FakeBotApi| {
        b.delivered()
            .iter()
            .filter(|m| m.chat_id == ADMIN)
            .filter_map(|m| m.text.clone())
            .collect::<Vec<_>>()
    };
    assert!(bot.wait_for(|b| digests(b).len() >= 2, Duration::from_secs(15)));

    // The probe counters agree with the verdicts: exactly 3 exists (restored accounts are not
    // probed again), and not found and rate limited in the 12:5 proportion of whole cycles.
    let (status, text) = http_get(metrics_port, "/metrics");
    assert_eq!(status, 200);
    let exists = metric(
        &text,
        r#"igwatch_probes_total{reason="-",verdict="exists"}"#,
    );
    let not_found = metric(
        &text,
        r#"igwatch_probes_total{reason="-",verdict="not_found"}"#,
    );
    let limited = metric(
        &text,
        r#"igwatch_probes_total{reason="rate_limited",verdict="unknown"}"#,
    );
    assert_eq!(exists, 3, "{text}");
    assert!(not_found >= 12 && limited >= 5, "{text}");
    assert_eq!(http_get(metrics_port, "/healthz").0, 200);
    println!(
        "figure: /metrics probes exists={exists} not_found={not_found} rate_limited={limited}"
    );

    let (status, took) = daemon.terminate(Duration::from_secs(10));
    let status = status.unwrap_or_else(|| panic!("no exit within 10 s:\n{}", daemon.log_text()));
    assert!(
        status.success(),
        "exit status {status:?}:\n{}",
        daemon.log_text()
    );
    println!("figure: SIGTERM to exit {} ms", took.as_millis());

    // Never more than 3 probes at once, and the checkers were really used in parallel.
    let peak = ig.max_concurrency();
    println!("figure: peak concurrent probes {peak}");
    assert!(peak <= 3, "peak concurrency {peak}");
    assert!(peak >= 2, "probes never ran in parallel (peak {peak})");

    // Exactly one alert per restored account, although send 1 got 429 and send 3 got 400.
    let alerts: Vec<String> = bot
        .delivered()
        .iter()
        .filter(|m| API_OWNERS.contains(&m.chat_id))
        .filter_map(|m| m.text.clone())
        .filter(|t| t.contains("back_"))
        .collect();
    for name in &names["exists"] {
        let n = alerts.iter().filter(|t| t.contains(name.as_str())).count();
        assert_eq!(n, 1, "alerts for {name}: {alerts:#?}");
    }
    assert_eq!(
        bot.early_retries(),
        0,
        "a send came before retry_after expired"
    );
    assert!(bot.sent().iter().any(|m| m.outcome == 429));
    assert!(bot.sent().iter().any(|m| m.outcome == 400));

    // States and reasons in the database.
    let rows = accounts_json(&dep);
    let by_name: BTreeMap<String, &serde_json::Value> = rows
        .iter()
        .map(|r| (r["username"].as_str().unwrap().to_string(), r))
        .collect();
    for name in &names["not_found"] {
        assert_eq!(by_name[name]["state"], "pending", "{name}");
        assert_eq!(by_name[name]["last_verdict"], "not_found", "{name}");
    }
    for name in &names["exists"] {
        assert_eq!(by_name[name]["state"], "restored", "{name}");
    }
    for name in &names["unknown"] {
        assert_eq!(by_name[name]["state"], "pending", "{name}");
        assert_eq!(by_name[name]["last_verdict"], "unknown", "{name}");
        assert_eq!(by_name[name]["last_reason"], "rate_limited", "{name}");
    }
    for name in &browser_names {
        assert_eq!(by_name[name.as_str()]["state"], "pending", "{name}");
        assert_eq!(
            by_name[name.as_str()]["last_reason"],
            "no_session",
            "{name}"
        );
        assert_eq!(ig.count(name), 0, "{name} was probed");
    }

    // The browser-mode owner was told once, not every cycle.
    let told: Vec<_> = bot
        .delivered()
        .into_iter()
        .filter(|m| m.chat_id == BROWSER_OWNER)
        .collect();
    assert_eq!(told.len(), 1, "{told:#?}");

    // The first digest has the counts of the first cycle, in the default language (the admin
    // exists only in the config, so Russian).
    let first = &digests(&bot)[0];
    for line in [
        "Проверено: 20",
        "Разблокировано: 3",
        "Не найдено: 12",
        "Не определено: 5",
        "лимит запросов Instagram: 5",
        "Пропущено: 20",
        "нет сессии Instagram: 20",
    ] {
        assert!(first.contains(line), "digest lacks {line:?}: {first}");
    }
    // One line, so CI's table of figures (lines starting with `figure:`) shows all of it.
    println!("figure: first digest: {}", first.replace('\n', " · "));
}
