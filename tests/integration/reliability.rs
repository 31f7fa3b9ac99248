//! Fault suite: the real daemon killed with SIGKILL mid-cycle, a Bot API that fails in every
//! documented way, an Instagram that answers every fault it has. Each test prints its figures.

use crate::support::botkit::{
    ADMIN, count, db_path, deployment, figure, tail, text_of, users_json, visible,
};
use crate::support::daemon::{Deployment, accounts_json, wait_until};
use crate::support::fake_bot::{FakeBotApi, Fault, Match, SentMessage};
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use igwatch::store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), so a failing run can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// Restore alerts delivered to `owner` about `name` (English texts).
fn alerts(sent: &[SentMessage], owner: i64, name: &str) -> Vec<SentMessage> {
    sent.iter()
        .filter(|m| {
            m.chat_id == owner
                && m.outcome == 200
                && m.method.starts_with("send")
                && visible(m).contains("Restored in")
                && visible(m).contains(&format!("Username: {name}\n"))
        })
        .cloned()
        .collect()
}

fn open(dep: &Deployment) -> Store {
    Store::open(&db_path(dep), Duration::from_secs(5), 10, None).expect("open the database")
}

fn states(dep: &Deployment) -> BTreeMap<String, String> {
    accounts_json(dep)
        .into_iter()
        .map(|r| {
            (
                r["username"].as_str().unwrap_or_default().to_owned(),
                r["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn sigkill_at_random_points_loses_no_alert_and_invents_none() {
    let kills: usize = std::env::var("IGWATCH_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(22);
    let seed: u64 = std::env::var("IGWATCH_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234);
    let mut rng = Rng::new(seed);
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set_latency(Duration::from_millis(15));
    ig.set("instagram", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, Some("1s"), "");
    let owners = [3001_i64, 3002, 3003];
    for o in owners {
        dep.cli_ok(&[
            "users",
            "add",
            &o.to_string(),
            "--mode",
            "api",
            "--lang",
            "en",
        ]);
    }
    // 5 live from the start, one more goes live at every kill, 15 never do (some flaky).
    let live_now: Vec<String> = (0..5).map(|i| format!("early_{i:02}")).collect();
    let live_later: Vec<String> = (0..kills).map(|i| format!("late_{i:02}")).collect();
    let never: Vec<String> = (0..15).map(|i| format!("never_{i:02}")).collect();
    let mut owner_of = BTreeMap::new();
    for (i, name) in live_now.iter().chain(&live_later).chain(&never).enumerate() {
        let owner = owners[i % owners.len()];
        owner_of.insert(name.clone(), owner);
        dep.cli_ok(&["accounts", "add", "--owner", &owner.to_string(), name]);
    }
    for name in &live_now {
        ig.set(name, Behavior::Exists { private: false });
    }
    for (i, name) in never.iter().enumerate() {
        let flaky = match i % 3 {
            0 => Behavior::NotFound,
            1 => Behavior::RateLimited,
            _ => Behavior::ServerError(502),
        };
        ig.set(name, flaky);
    }

    let started = Instant::now();
    let mut points = Vec::new();
    for name in &live_later {
        let mut daemon = dep.spawn();
        let after = Duration::from_millis(rng.range(150, 2200));
        points.push(after.as_millis());
        std::thread::sleep(after);
        ig.set(name, Behavior::Exists { private: false });
        let _ = daemon.child.kill();
        let _ = daemon.child.wait();
    }

    // The last start runs undisturbed until every live account is restored and told.
    let live: Vec<&String> = live_now.iter().chain(&live_later).collect();
    let daemon = dep.spawn();
    let done = || {
        let st = states(&dep);
        let sent = bot.sent();
        live.iter()
            .all(|n| st.get(*n).map(String::as_str) == Some("restored"))
            && live
                .iter()
                .all(|n| !alerts(&sent, owner_of[*n], n).is_empty())
            && count(&dep, "FROM outbox") == 0
    };
    let converged = wait_until(Duration::from_secs(60), done);
    let mut daemon = daemon;
    let (status, _) = daemon.terminate(Duration::from_secs(15));
    assert!(
        converged,
        "not converged; states {:?}\nlog tail:\n{}",
        states(&dep),
        tail(&daemon.log_text(), 60)
    );
    assert!(status.is_some_and(|s| s.success()), "{}", daemon.log_text());

    let st = states(&dep);
    let sent = bot.sent();
    let false_restores: Vec<_> = never.iter().filter(|n| st[*n] != "pending").collect();
    let mut duplicates = 0;
    let mut missing = 0;
    for n in &live {
        let got = alerts(&sent, owner_of[*n], n).len();
        if got == 0 {
            missing += 1;
        }
        duplicates += got.saturating_sub(1);
    }
    let store = open(&dep);
    let integrity = store.integrity_check().expect("integrity check");
    let outbox = store.outbox_len().expect("outbox");
    figure("crash: seed", format!("{seed:#x}"));
    figure("crash: kills survived (SIGKILL)", kills);
    figure("crash: kill points (ms after start)", format!("{points:?}"));
    figure(
        "crash: restored / live in the fake",
        format!(
            "{}/{}",
            live.iter().filter(|n| st[**n] == "restored").count(),
            live.len()
        ),
    );
    figure("crash: owners without their alert", missing);
    figure(
        "crash: restored that the fake never confirmed",
        false_restores.len(),
    );
    figure("crash: duplicate alerts (resend after a crash)", duplicates);
    figure("crash: integrity_check", &integrity);
    figure("crash: outbox left", outbox);
    figure("crash: run time (s)", started.elapsed().as_secs());
    assert_eq!(missing, 0);
    assert!(false_restores.is_empty(), "{false_restores:?}");
    assert_eq!(integrity, "ok");
    assert_eq!(outbox, 0);
    assert!(
        duplicates <= kills / 4 + 1,
        "duplicates are not rare: {duplicates} in {kills} kills"
    );
}

#[test]
fn telegram_faults_delay_alerts_but_drop_none() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, Some("1h"), "");
    let owners = [4001_i64, 4002, 4003, 4004, 4005];
    let blocked = 4006_i64;
    let mut expected = Vec::new();
    for o in owners.iter().chain([&blocked]) {
        dep.cli_ok(&[
            "users",
            "add",
            &o.to_string(),
            "--mode",
            "api",
            "--lang",
            "en",
        ]);
        for k in 0..2 {
            let name = format!("tg{}_{k}", o % 100);
            ig.set(&name, Behavior::Exists { private: false });
            dep.cli_ok(&["accounts", "add", "--owner", &o.to_string(), &name]);
            if *o != blocked {
                expected.push((*o, name));
            }
        }
    }
    bot.block_chat(blocked);
    bot.inject(Fault::RetryAfter(3), Match::NthSend(1));
    bot.inject(Fault::CantParseEntities, Match::Chat(owners[0]));
    bot.inject(Fault::ServerError(500), Match::Chat(owners[1]));
    bot.inject(Fault::ServerError(502), Match::Chat(owners[2]));
    bot.inject(Fault::ResetConnection, Match::Chat(owners[3]));
    bot.inject(Fault::Hang(Duration::from_secs(20)), Match::Chat(owners[4]));
    bot.inject(Fault::RetryAfter(2), Match::AnySend);

    let started = Instant::now();
    let mut daemon = dep.spawn();
    let all_delivered = |b: &FakeBotApi| {
        let sent = b.sent();
        expected
            .iter()
            .all(|(o, n)| !alerts(&sent, *o, n).is_empty())
    };
    let ok = bot.wait_for(all_delivered, Duration::from_secs(90));
    let sent = bot.sent();
    let delivered = expected
        .iter()
        .filter(|(o, n)| !alerts(&sent, *o, n).is_empty())
        .count();
    let max_delay = expected
        .iter()
        .filter_map(|(o, n)| alerts(&sent, *o, n).first().map(|m| m.at - started))
        .max()
        .unwrap_or_default();
    let duplicates: usize = expected
        .iter()
        .map(|(o, n)| alerts(&sent, *o, n).len().saturating_sub(1))
        .sum();
    assert!(
        wait_until(Duration::from_secs(10), || count(&dep, "FROM outbox") == 0),
        "the outbox did not drain"
    );
    let users = users_json(&dep);
    let active = |id: i64| {
        users
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["active"].clone())
    };
    figure(
        "telegram: alerts delivered / expected",
        format!("{delivered}/{}", expected.len()),
    );
    figure(
        "telegram: max delay (s)",
        format!("{:.1}", max_delay.as_secs_f64()),
    );
    figure("telegram: 429 answers given", bot.too_many_requests());
    figure(
        "telegram: sends before retry_after expired",
        bot.early_retries(),
    );
    figure("telegram: duplicates (hang then late delivery)", duplicates);
    figure(
        "telegram: blocked user deactivated",
        active(blocked) == Some(serde_json::Value::Bool(false)),
    );
    let (status, _) = daemon.terminate(Duration::from_secs(15));
    assert!(
        ok,
        "not every alert arrived\nlog tail:\n{}",
        tail(&daemon.log_text(), 80)
    );
    assert_eq!(delivered, expected.len());
    assert_eq!(bot.early_retries(), 0, "a send went out before retry_after");
    assert_eq!(active(blocked), Some(serde_json::Value::Bool(false)));
    for o in owners {
        assert_eq!(active(o), Some(serde_json::Value::Bool(true)), "{o}");
    }
    assert!(max_delay < Duration::from_secs(60), "{max_delay:?}");
    assert!(status.is_some(), "the daemon did not stop");
    let _ = ADMIN;
}

#[test]
fn instagram_faults_never_change_an_account() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, Some("1s"), "");
    dep.cli_ok(&["users", "add", "5001", "--mode", "api", "--lang", "en"]);
    let faults: Vec<(&str, Behavior)> = vec![
        ("f_429", Behavior::RateLimited),
        ("f_please_wait", Behavior::PleaseWait),
        ("f_login_wall", Behavior::LoginWall),
        ("f_challenge", Behavior::Challenge),
        ("f_500", Behavior::ServerError(500)),
        ("f_502", Behavior::ServerError(502)),
        ("f_503", Behavior::ServerError(503)),
        ("f_truncated", Behavior::TruncatedJson),
        ("f_html", Behavior::HtmlInsteadOfJson),
        ("f_soft_404", Behavior::SoftNotFound),
        (
            "f_slow",
            Behavior::Slow(
                Duration::from_secs(6),
                Box::new(Behavior::Exists { private: false }),
            ),
        ),
        ("f_hang", Behavior::Hang),
        ("f_quota", Behavior::Quota),
        ("f_reset", Behavior::ResetConnection),
    ];
    let mut args = vec!["accounts", "add", "--owner", "5001"];
    for (name, behavior) in &faults {
        ig.set(name, behavior.clone());
        args.push(name);
    }
    dep.cli_ok(&args);
    let mut daemon = dep.spawn();
    // Enough cycles for every fault to be answered at least twice.
    let probed = wait_until(Duration::from_secs(40), || {
        faults.iter().all(|(n, _)| ig.count(n) >= 2)
    });
    std::thread::sleep(Duration::from_secs(1));
    let (status, _) = daemon.terminate(Duration::from_secs(15));
    assert!(
        probed,
        "not every fault was probed twice\n{}",
        tail(&daemon.log_text(), 40)
    );
    assert!(status.is_some());
    let rows = accounts_json(&dep);
    let mut changed = Vec::new();
    let mut false_verdicts = Vec::new();
    for (name, _) in &faults {
        let row = rows.iter().find(|r| r["username"] == *name).expect("row");
        if row["state"] != "pending" {
            changed.push(name.to_string());
        }
        if row["last_verdict"] != "unknown" {
            false_verdicts.push(format!("{name}: {}", row["last_verdict"]));
        }
        println!(
            "figure: instagram: {name:<16} → verdict {} reason {}",
            row["last_verdict"], row["last_reason"]
        );
    }
    let alerts_sent = bot
        .sent()
        .iter()
        .filter(|m| text_of(m).contains("Restored in"))
        .count();
    figure("instagram: faults injected", faults.len());
    figure("instagram: state changes caused by a fault", changed.len());
    figure(
        "instagram: verdicts other than unknown",
        false_verdicts.len(),
    );
    figure("instagram: restore alerts sent", alerts_sent);
    assert!(changed.is_empty(), "{changed:?}");
    assert!(false_verdicts.is_empty(), "{false_verdicts:?}");
    assert_eq!(alerts_sent, 0);
}

/// Regression: a 20-second hang on one chat held up every other chat's alerts, because the
/// notifier sent one message at a time. Now other chats are served while one hangs.
#[test]
fn a_hung_send_to_one_chat_does_not_delay_other_chats() {
    use igwatch::app::{Daemon, Hooks, open_store};
    use igwatch::domain::{Lang, Mode, Notice, Role, UserId};
    use std::sync::Arc;
    let bot = FakeBotApi::start();
    let (slow, fast) = (7001_i64, 7002_i64);
    bot.inject(Fault::Hang(Duration::from_secs(20)), Match::Chat(slow));
    let dir = tempfile::tempdir().unwrap();
    let config = igwatch::config::from_toml_str(
        &format!(
            "[scheduler]\ninterval = \"1h\"\nrun_on_start = false\n[database]\npath = {:?}\n\
             [telegram]\ntoken = \"{}\"\napi_url = \"{}\"\n[logging]\nconfig = \"/nonexistent\"\n",
            dir.path().join("igwatch.db").display().to_string(),
            bot.token(),
            bot.url()
        ),
        &|_| None,
    )
    .unwrap();
    let store = open_store(&config).unwrap();
    let now = chrono::Utc::now();
    for chat in [slow, fast] {
        store
            .upsert_user(UserId(chat), Role::User, true, Lang::En, Mode::Api, now)
            .unwrap();
    }
    // The hung chat's notice is first in the outbox.
    store
        .enqueue(
            &[
                (UserId(slow), Notice::QuotaExhausted),
                (UserId(fast), Notice::QuotaExhausted),
            ],
            now,
        )
        .unwrap();
    let delivered_after = actix::System::new().block_on(async {
        let started = Instant::now();
        let daemon = Daemon::start(Arc::new(config), store.clone(), Hooks::default()).unwrap();
        let fast_arrived = bot
            .wait_for_async(
                |b| b.delivered().iter().any(|m| m.chat_id == fast),
                Duration::from_secs(10),
            )
            .await;
        let took = started.elapsed();
        daemon.shutdown(Duration::from_secs(1)).await;
        assert!(fast_arrived, "the other chat waited behind the hung one");
        took
    });
    println!(
        "figure: telegram: alert to another chat during a 20 s hang delivered after {} ms",
        delivered_after.as_millis()
    );
    assert!(delivered_after < Duration::from_secs(5));
}
