//! Shared helpers of the reliability and security suites: a daemon wired to both fakes, bot
//! conversations (messages, button presses, answers), database dumps and the figures table.

use super::daemon::{Deployment, Running};
use super::fake_bot::{FakeBotApi, SentMessage};
use super::fake_instagram::FakeInstagram;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The configured admin of every deployment made here.
pub const ADMIN: i64 = 900;
/// How long a bot answer may take.
pub const WAIT: Duration = Duration::from_secs(10);
/// 32 bytes of 0x01, base64: the encryption key of the deployments made here.
pub const SECRET_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

static NEXT_ID: AtomicI64 = AtomicI64::new(1_000_000);

/// A fresh message / callback id.
pub fn next_id() -> i64 {
    NEXT_ID.fetch_add(1, Ordering::SeqCst)
}

/// A deployment wired to both fakes: `interval` between cycles (no cycle at start when `None`),
/// 3 checkers, the key in a key file, and `extra` TOML appended (sections not used here:
/// `[users]`, `[notifier]`, `[reminders]`, `[metrics]`, `[webdriver]`, …).
pub fn deployment(
    bot: &FakeBotApi,
    ig: &FakeInstagram,
    interval: Option<&str>,
    extra: &str,
) -> Deployment {
    let dep = Deployment::new("");
    let key = dep.dir.path().join("secret.key");
    std::fs::write(&key, SECRET_KEY).expect("write the key");
    let text = std::fs::read_to_string(&dep.config).expect("config");
    let (interval, on_start) = match interval {
        Some(i) => (i, true),
        None => ("1h", false),
    };
    let text = format!(
        r#"{text}
[scheduler]
interval = "{interval}"
run_on_start = {on_start}

[checkers]
count = 3
probe_timeout = "3s"

[telegram]
token = "{token}"
api_url = "{api}"
admin_ids = [{ADMIN}]

[instagram]
provider = "instagram_web"
base_url = "{ig}"

[rapidapi]
url = "{ig}/ig_profile"

[egress]
per_minute = 100000
burst = 1000
jitter = "0s"
backoff_base = "1s"
backoff_max = "1s"

[secrets]
key_file = {key:?}
{extra}
"#,
        token = bot.token(),
        api = bot.url(),
        ig = ig.url(),
        key = key.display().to_string(),
    );
    std::fs::write(&dep.config, text).expect("rewrite config");
    dep
}

/// Waits until the bot has registered its menus, i.e. is about to poll.
pub fn ready(bot: &FakeBotApi, daemon: &Running) {
    let before = 0;
    ready_after(bot, daemon, before);
}

/// [`ready`] for a restart: waits for 3 more `setMyCommands` than `before`.
pub fn ready_after(bot: &FakeBotApi, daemon: &Running, before: usize) {
    assert!(
        bot.wait_for(|b| b.calls("setMyCommands").len() >= before + 3, WAIT),
        "the bot did not start:\n{}",
        daemon.log_text()
    );
    std::thread::sleep(Duration::from_millis(100));
}

pub fn user_json(id: i64, name: &str, lang: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": name, "language_code": lang})
}

/// A text message from user `from` in their private chat.
pub fn say(bot: &FakeBotApi, from: i64, text: &str) {
    bot.push_update(json!({"message": {
        "message_id": next_id(),
        "date": chrono::Utc::now().timestamp(),
        "chat": {"id": from, "type": "private", "first_name": "Tester"},
        "from": user_json(from, "Tester", "en"),
        "text": text,
    }}));
}

/// A button press by `from` with `data`; returns the callback id.
pub fn press(bot: &FakeBotApi, from: i64, data: &str, message_id: i64) -> String {
    let id = format!("cb-{}", next_id());
    bot.push_update(json!({"callback_query": {
        "id": id,
        "from": user_json(from, "Tester", "en"),
        "chat_instance": "ci",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": chrono::Utc::now().timestamp(),
            "chat": {"id": from, "type": "private", "first_name": "Tester"},
            "from": {"id": 1234567890, "is_bot": true, "first_name": "igwatch test"},
            "text": "screen",
        },
    }}));
    id
}

/// Every message call to `chat`.
pub fn to(bot: &FakeBotApi, chat: i64) -> Vec<SentMessage> {
    bot.sent()
        .into_iter()
        .filter(|m| m.chat_id == chat)
        .collect()
}

/// The visible text of a message call (text or caption).
pub fn text_of(m: &SentMessage) -> String {
    m.text
        .clone()
        .or_else(|| m.caption.clone())
        .unwrap_or_default()
}

/// The text of a message call as the user sees it: tags removed, entities decoded.
pub fn visible(m: &SentMessage) -> String {
    let raw = text_of(m);
    let mut out = String::with_capacity(raw.len());
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Waits for a message call to `chat` after the first `skip` containing `needle` (in its raw
/// or its visible text).
pub fn expect(
    bot: &FakeBotApi,
    daemon: &Running,
    chat: i64,
    skip: usize,
    needle: &str,
) -> SentMessage {
    let found = |b: &FakeBotApi| {
        to(b, chat)
            .into_iter()
            .skip(skip)
            .find(|m| text_of(m).contains(needle) || visible(m).contains(needle))
    };
    assert!(
        bot.wait_for(|b| found(b).is_some(), WAIT),
        "no message to {chat} containing {needle:?}; sent: {:#?}\nlog tail:\n{}",
        to(bot, chat)
            .iter()
            .skip(skip)
            .map(text_of)
            .collect::<Vec<_>>(),
        tail(&daemon.log_text(), 40)
    );
    found(bot).expect("found")
}

/// Waits until the callback `id` was answered; returns the toast text.
pub fn answered(bot: &FakeBotApi, id: &str) -> String {
    let find = |b: &FakeBotApi| {
        b.calls("answerCallbackQuery")
            .into_iter()
            .find(|c| c.params["callback_query_id"].as_str() == Some(id))
    };
    assert!(
        bot.wait_for(|b| find(b).is_some(), WAIT),
        "callback {id} never answered"
    );
    let call = find(bot).expect("answered");
    call.params["text"].as_str().unwrap_or_default().to_owned()
}

/// `users list --json`.
pub fn users_json(dep: &Deployment) -> Vec<Value> {
    serde_json::from_str(&dep.cli_ok(&["users", "list", "--json"])).expect("users json")
}

/// The last `n` lines of a log.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The database file of a deployment.
pub fn db_path(dep: &Deployment) -> PathBuf {
    dep.dir.path().join("igwatch.db")
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

fn connect(dep: &Deployment) -> SqliteConnection {
    let db = db_path(dep);
    let mut conn = SqliteConnection::establish(db.to_str().expect("utf-8 path")).expect("open db");
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .expect("pragma");
    conn
}

/// The rows of a query whose one column is named `v`, as text.
pub fn query(dep: &Deployment, select: &str) -> Vec<String> {
    diesel::sql_query(select)
        .load::<TextRow>(&mut connect(dep))
        .expect(select)
        .into_iter()
        .map(|r| r.v)
        .collect()
}

/// A count (`SELECT count(*) …` given as the FROM/WHERE part after `count(*)`).
pub fn count(dep: &Deployment, from_where: &str) -> i64 {
    let v = query(
        dep,
        &format!("SELECT CAST(count(*) AS TEXT) AS v {from_where}"),
    );
    v[0].parse().expect("a count")
}

/// Columns that checks and deliveries update on their own (probe results, usage counters).
const VOLATILE: &[&str] = &[
    "last_probe_at",
    "last_verdict",
    "last_reason",
    "last_source",
    "confirmations",
    "used_today",
    "usage_day",
    "exhausted_day",
    "fail_streak",
    "cooldown_until",
    "last_used_at",
];

/// Every row of the named tables but their [`VOLATILE`] columns, each column quoted, for "nothing changed" comparisons.
pub fn dump(dep: &Deployment, tables: &[&str]) -> String {
    let mut out = String::new();
    for table in tables {
        let cols = query(
            dep,
            &format!("SELECT name AS v FROM pragma_table_info('{table}') ORDER BY cid"),
        );
        assert!(!cols.is_empty(), "no table {table}");
        let expr = cols
            .iter()
            .filter(|c| !VOLATILE.contains(&c.as_str()))
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join("||'|'||");
        for row in query(
            dep,
            &format!("SELECT {expr} AS v FROM {table} ORDER BY rowid"),
        ) {
            out.push_str(table);
            out.push(':');
            out.push_str(&row);
            out.push('\n');
        }
    }
    out
}

/// The tables that hold what a user owns or is (not history, settings or the outbox).
pub const OWNED_TABLES: &[&str] = &[
    "users",
    "accounts",
    "rapidapi_keys",
    "proxies",
    "instagram_sessions",
];

/// Prints one row of the figures table (`figure: name = value`), picked up by CI's log.
pub fn figure(name: &str, value: impl std::fmt::Display) {
    println!("figure: {name:<44} {value}");
}
