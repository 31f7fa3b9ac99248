//! Proxies and Instagram sessions end to end: the `proxies` / `sessions` CLI (SSRF guard, no
//! plaintext secret in the database, canary probes through a real proxy and real Chromium) and
//! the bot's settings screens through the fake Bot API (lists without passwords, the message
//! carrying secrets deleted, forged callbacks for another owner's objects change nothing).

use crate::support::chrome::ChromeDriver;
use crate::support::daemon::{Deployment, Running};
use crate::support::fake_bot::{FakeBotApi, SentMessage};
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use crate::support::test_proxy::TestProxy;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// 32 bytes of 0x02, base64: the encryption key of these tests.
const SECRET_KEY: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const WAIT: Duration = Duration::from_secs(10);
/// A browser probe includes starting Chromium.
const PROBE_WAIT: Duration = Duration::from_secs(40);
const PASSWORD: &str = "s3cret-Pw-77";
const WRONG_PASSWORD: &str = "hunter2-wrong-Pw";
const SESSION_VALUE: &str = "4242%3AsessionSECRETvalue%3A9";

static NEXT_ID: AtomicI64 = AtomicI64::new(10_000);

fn next_id() -> i64 {
    NEXT_ID.fetch_add(1, Ordering::SeqCst)
}

struct Options<'a> {
    key: bool,
    allow_private: bool,
    webdriver: Option<String>,
    bot: Option<&'a FakeBotApi>,
}

fn deployment(ig: &FakeInstagram, o: Options<'_>) -> Deployment {
    let dep = Deployment::new("");
    let mut text = std::fs::read_to_string(&dep.config).expect("config");
    text.push_str(&format!(
        r#"
[scheduler]
interval = "1h"
run_on_start = false

[checkers]
count = 1
probe_timeout = "10s"

[instagram]
provider = "instagram_web"
base_url = "{ig}"
allow_private_proxies = {allow}

[egress]
per_minute = 100000
burst = 10000
jitter = "0s"
"#,
        ig = ig.url(),
        allow = o.allow_private,
    ));
    if let Some(url) = &o.webdriver {
        text.push_str(&format!("\n[webdriver]\nurls = [\"{url}\"]\n"));
    }
    if let Some(bot) = o.bot {
        text.push_str(&format!(
            "\n[telegram]\ntoken = \"{}\"\napi_url = \"{}\"\nadmin_ids = [900]\n",
            bot.token(),
            bot.url()
        ));
    }
    if o.key {
        let key = dep.dir.path().join("secret.key");
        std::fs::write(&key, SECRET_KEY).expect("write the key");
        text.push_str(&format!(
            "\n[secrets]\nkey_file = {:?}\n",
            key.display().to_string()
        ));
    }
    std::fs::write(&dep.config, text).expect("rewrite config");
    dep
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_rows(dep: &Deployment, args: &[&str]) -> Vec<Value> {
    serde_json::from_str(&dep.cli_ok(args)).expect("JSON rows")
}

fn proxies_of(dep: &Deployment, owner: i64) -> Vec<Value> {
    json_rows(
        dep,
        &["proxies", "list", "--owner", &owner.to_string(), "--json"],
    )
}

fn sessions_of(dep: &Deployment, owner: i64) -> Vec<Value> {
    json_rows(
        dep,
        &["sessions", "list", "--owner", &owner.to_string(), "--json"],
    )
}

/// Every byte of the database files (main file and WAL) as lossy text.
fn database_text(dep: &Deployment) -> String {
    let mut text = String::new();
    for name in ["igwatch.db", "igwatch.db-wal"] {
        if let Ok(bytes) = std::fs::read(dep.dir.path().join(name)) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

fn assert_no_secret(dep: &Deployment, secrets: &[&str]) {
    let text = database_text(dep);
    assert!(!text.is_empty(), "the database was not found");
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{secret} is in the database in plaintext"
        );
    }
}

fn cookie_json(value: &str) -> String {
    json!([
        {"domain": ".instagram.com", "name": "sessionid", "value": value, "path": "/",
         "httpOnly": true, "secure": false, "expirationDate": 4_102_444_800.0_f64},
        {"domain": ".instagram.com", "name": "csrftoken", "value": "csrfTOKENvalue", "path": "/"}
    ])
    .to_string()
}

#[test]
fn cli_proxies_add_list_test_remove() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let good = TestProxy::http("alice", PASSWORD);
    let bad = TestProxy::http("bob", "the-real-one");
    let dep = deployment(
        &ig,
        Options {
            key: true,
            allow_private: true,
            webdriver: None,
            bot: None,
        },
    );
    dep.cli_ok(&["users", "add", "500"]);
    dep.cli_ok(&["users", "add", "501"]);
    let bad_addr = bad
        .url()
        .rsplit_once('@')
        .map(|(_, a)| a.to_owned())
        .expect("host:port");

    // One invalid proxy: nothing is added, the password is not echoed.
    let out = dep.cli(&[
        "proxies",
        "add",
        "--owner",
        "500",
        &good.url(),
        &format!("127.0.0.1:99999:bob:{WRONG_PASSWORD}"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("proxy #2"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(WRONG_PASSWORD));
    assert!(!stdout(&out).contains(PASSWORD));
    assert!(proxies_of(&dep, 500).is_empty());

    // Both operator formats; a repeat is a duplicate.
    let out = dep.cli_ok(&[
        "proxies",
        "add",
        "--owner",
        "500",
        &good.url(),
        &format!("{bad_addr}:bob:{WRONG_PASSWORD}"),
        &good.url_with("alice", "other"),
    ]);
    assert!(out.contains("Added 2 proxies"), "{out}");
    assert!(out.contains("duplicates skipped: 1"), "{out}");
    let out = dep.cli_ok(&["proxies", "add", "--owner", "500", &good.url()]);
    assert!(out.contains("Added 0 proxies"), "{out}");
    assert!(out.contains("duplicates skipped: 1"), "{out}");

    let rows = proxies_of(&dep, 500);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let listing = dep.cli_ok(&["proxies", "list", "--owner", "500"]);
    for text in [listing.as_str(), &serde_json::to_string(&rows).unwrap()] {
        assert!(
            !text.contains(PASSWORD) && !text.contains(WRONG_PASSWORD),
            "{text}"
        );
        assert!(text.contains("alice:***@"), "{text}");
    }
    assert_no_secret(&dep, &[PASSWORD, WRONG_PASSWORD]);
    let id_of = |user: &str| {
        rows.iter()
            .find(|r| r["proxy"].as_str().unwrap().contains(user))
            .and_then(|r| r["id"].as_i64())
            .expect("proxy id")
            .to_string()
    };
    let (good_id, bad_id) = (id_of("alice"), id_of("bob"));

    // Test through the proxy: the proxy sees the canary request; a wrong password fails.
    let out = dep.cli_ok(&["proxies", "test", "--owner", "500", &good_id]);
    assert!(out.contains("ok: @instagram exists"), "{out}");
    assert!(!good.requests().is_empty(), "the proxy was not used");
    let out = dep.cli(&["proxies", "test", "--owner", "500", &bad_id]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("failed: proxy_auth"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains(WRONG_PASSWORD));
    let rows = proxies_of(&dep, 500);
    let streak = |id: &str| {
        rows.iter()
            .find(|r| r["id"].as_i64() == id.parse().ok())
            .map(|r| r["fail_streak"].clone())
    };
    assert_eq!(streak(&bad_id), Some(json!(1)));
    assert_eq!(streak(&good_id), Some(json!(0)));

    // Another owner can neither test nor remove it.
    let out = dep.cli(&["proxies", "remove", "--owner", "501", &bad_id]);
    assert_eq!(out.status.code(), Some(2));
    let out = dep.cli(&["proxies", "test", "--owner", "501", &bad_id]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(proxies_of(&dep, 500).len(), 2);
    dep.cli_ok(&["proxies", "remove", "--owner", "500", &bad_id]);
    assert_eq!(proxies_of(&dep, 500).len(), 1);
    let out = dep.cli(&["proxies", "remove", "--owner", "500", &bad_id]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_proxies_ssrf_guard_and_missing_key() {
    let ig = FakeInstagram::start();
    let proxy = TestProxy::http("alice", PASSWORD);
    // Loopback is refused unless allow_private_proxies.
    let dep = deployment(
        &ig,
        Options {
            key: true,
            allow_private: false,
            webdriver: None,
            bot: None,
        },
    );
    dep.cli_ok(&["users", "add", "500"]);
    let out = dep.cli(&["proxies", "add", "--owner", "500", &proxy.url()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(PASSWORD));
    let out = dep.cli(&["proxies", "add", "--owner", "500", "10.1.2.3:8080"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(proxies_of(&dep, 500).is_empty());

    // Without an encryption key a password cannot be stored.
    let dep = deployment(
        &ig,
        Options {
            key: false,
            allow_private: true,
            webdriver: None,
            bot: None,
        },
    );
    dep.cli_ok(&["users", "add", "500"]);
    let out = dep.cli(&["proxies", "add", "--owner", "500", &proxy.url()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("IGWATCH_SECRET_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(proxies_of(&dep, 500).is_empty());
    let file = dep.dir.path().join("cookies.json");
    std::fs::write(&file, cookie_json(SESSION_VALUE)).unwrap();
    let out = dep.cli(&[
        "sessions",
        "add",
        "--owner",
        "500",
        "--no-probe",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("IGWATCH_SECRET_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(sessions_of(&dep, 500).is_empty());
}

#[test]
fn cli_sessions_are_probed_with_a_real_browser() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let driver = runtime.block_on(ChromeDriver::start());
    let dep = deployment(
        &ig,
        Options {
            key: true,
            allow_private: true,
            webdriver: Some(driver.url().to_string()),
            bot: None,
        },
    );
    dep.cli_ok(&["users", "add", "500"]);
    let file = dep.dir.path().join("work-phone.json");
    std::fs::write(&file, cookie_json(SESSION_VALUE)).unwrap();
    let path = file.to_str().unwrap();

    let out = dep.cli_ok(&["sessions", "add", "--owner", "500", path]);
    assert!(out.contains("probed"), "{out}");
    assert!(!out.contains(SESSION_VALUE));
    let rows = sessions_of(&dep, 500);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["label"], "work-phone");
    assert_eq!(rows[0]["valid"], true);
    let listing = dep.cli_ok(&["sessions", "list", "--owner", "500"]);
    assert!(
        listing.contains("work-phone") && listing.contains("never"),
        "{listing}"
    );
    assert!(!listing.contains(SESSION_VALUE));
    assert_no_secret(&dep, &[SESSION_VALUE, "csrfTOKENvalue"]);

    // A login wall instead of the canary: refused, nothing stored.
    ig.set("instagram", Behavior::LoginWall);
    let out = dep.cli(&["sessions", "add", "--owner", "500", path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert_eq!(sessions_of(&dep, 500).len(), 1);
    // --no-probe stores it and says so.
    let out = dep.cli_ok(&["sessions", "add", "--owner", "500", "--no-probe", path]);
    assert!(out.contains("not probed"), "{out}");
    assert_eq!(sessions_of(&dep, 500).len(), 2);

    // Bad exports are refused with the reason, never echoing a value.
    let bad = dep.dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"name":"csrftoken","value":"leakyVALUE"}]"#).unwrap();
    let out = dep.cli(&["sessions", "add", "--owner", "500", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sessionid"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("leakyVALUE"));
    assert_eq!(sessions_of(&dep, 500).len(), 2);

    let id = rows[0]["id"].to_string();
    let out = dep.cli(&["sessions", "remove", "--owner", "501", &id]);
    assert_eq!(out.status.code(), Some(2));
    dep.cli_ok(&["sessions", "remove", "--owner", "500", &id]);
    assert_eq!(sessions_of(&dep, 500).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The bot

fn user_json(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Tester", "language_code": "en"})
}

/// A message from `from` in their private chat; returns its message id.
fn say(bot: &FakeBotApi, from: i64, body: Value) -> i64 {
    let id = next_id();
    let mut message = json!({
        "message_id": id,
        "date": chrono::Utc::now().timestamp(),
        "chat": {"id": from, "type": "private", "first_name": "Tester"},
        "from": user_json(from),
    });
    if let (Value::Object(m), Value::Object(b)) = (&mut message, body) {
        m.extend(b);
    }
    bot.push_update(json!({ "message": message }));
    id
}

fn text(bot: &FakeBotApi, from: i64, text: &str) -> i64 {
    say(bot, from, json!({ "text": text }))
}

fn press(bot: &FakeBotApi, from: i64, data: &str) -> String {
    let id = format!("cb-{}", next_id());
    bot.push_update(json!({"callback_query": {
        "id": id,
        "from": user_json(from),
        "chat_instance": "ci",
        "data": data,
        "message": {
            "message_id": 1,
            "date": chrono::Utc::now().timestamp(),
            "chat": {"id": from, "type": "private", "first_name": "Tester"},
            "from": {"id": 1234567890, "is_bot": true, "first_name": "igwatch test"},
            "text": "screen",
        },
    }}));
    id
}

fn to(bot: &FakeBotApi, chat: i64) -> Vec<SentMessage> {
    bot.sent()
        .into_iter()
        .filter(|m| m.chat_id == chat)
        .collect()
}

fn expect(
    bot: &FakeBotApi,
    daemon: &Running,
    chat: i64,
    skip: usize,
    needle: &str,
    wait: Duration,
) -> SentMessage {
    let found = |b: &FakeBotApi| {
        to(b, chat)
            .into_iter()
            .skip(skip)
            .find(|m| m.text.as_deref().is_some_and(|t| t.contains(needle)))
    };
    assert!(
        bot.wait_for(|b| found(b).is_some(), wait),
        "no message to {chat} containing {needle:?}; sent: {:#?}\nlog:\n{}",
        to(bot, chat)
            .iter()
            .skip(skip)
            .map(|m| (m.method.clone(), m.text.clone(), m.error.clone()))
            .collect::<Vec<_>>(),
        daemon.log_text()
    );
    found(bot).expect("found")
}

fn answered(bot: &FakeBotApi, id: &str) -> String {
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

fn deleted(bot: &FakeBotApi, chat: i64, message: i64) -> bool {
    let number = |v: &Value| v.as_i64().or_else(|| v.as_str()?.parse().ok());
    bot.calls("deleteMessage").iter().any(|c| {
        c.outcome == 200
            && number(&c.params["chat_id"]) == Some(chat)
            && number(&c.params["message_id"]) == Some(message)
    })
}

fn everything_sent(bot: &FakeBotApi) -> String {
    bot.sent()
        .iter()
        .map(|m| format!("{:?} {:?}", m.text, m.reply_markup))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bot_proxy_and_session_screens() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let good = TestProxy::http("alice", PASSWORD);
    let bad = TestProxy::http("bob", "the-real-one");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let driver = runtime.block_on(ChromeDriver::start());
    let dep = deployment(
        &ig,
        Options {
            key: true,
            allow_private: true,
            webdriver: Some(driver.url().to_string()),
            bot: Some(&bot),
        },
    );
    let (me, other) = (700_i64, 701_i64);
    dep.cli_ok(&["users", "add", "700", "--lang", "en"]);
    dep.cli_ok(&["users", "add", "701", "--lang", "en"]);
    let daemon = dep.spawn();
    assert!(
        bot.wait_for(|b| b.calls("setMyCommands").len() >= 3, WAIT),
        "the bot did not start:\n{}",
        daemon.log_text()
    );
    std::thread::sleep(Duration::from_millis(100));

    // Settings → proxies → add: a bulk message in every format, one invalid line.
    text(&bot, me, "/settings");
    let screen = expect(&bot, &daemon, me, 0, "Check mode", WAIT);
    let data = |m: &SentMessage| {
        m.reply_markup
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default()
    };
    assert!(data(&screen).contains("\"px\"") && data(&screen).contains("\"ig\""));
    answered(&bot, &press(&bot, me, "px"));
    expect(&bot, &daemon, me, 0, "Proxies</b>: 0", WAIT);
    answered(&bot, &press(&bot, me, "pxa"));
    expect(&bot, &daemon, me, 0, "Send one proxy or many", WAIT);
    let bad_addr = bad
        .url()
        .rsplit_once('@')
        .map(|(_, a)| a.to_owned())
        .unwrap();
    let bulk = format!(
        "{}\n{bad_addr}:bob:{WRONG_PASSWORD}\n{}\n10.0.0.1:99999:x:{PASSWORD}",
        good.url(),
        good.url()
    );
    let n = to(&bot, me).len();
    let secret_message = text(&bot, me, &bulk);
    let report = expect(&bot, &daemon, me, n, "Proxies added: 2", WAIT);
    let report = report.text.unwrap();
    assert!(report.contains("Already in your list: 1"), "{report}");
    assert!(report.contains("Invalid (not added): 1"), "{report}");
    assert!(
        bot.wait_for(|b| deleted(b, me, secret_message), WAIT),
        "the message with passwords was not deleted"
    );
    let rows = proxies_of(&dep, me);
    assert_eq!(rows.len(), 2);
    let id_of = |user: &str| {
        rows.iter()
            .find(|r| r["proxy"].as_str().unwrap().contains(user))
            .and_then(|r| r["id"].as_i64())
            .unwrap()
    };
    let (good_id, bad_id) = (id_of("alice"), id_of("bob"));

    // The list and the card show no password.
    answered(&bot, &press(&bot, me, "px"));
    expect(&bot, &daemon, me, 0, "alice:***@", WAIT);
    answered(&bot, &press(&bot, me, &format!("pc:{good_id}")));
    expect(&bot, &daemon, me, 0, &format!("Proxy #{good_id}"), WAIT);

    // Forged presses on my proxy by another user change nothing.
    for forged in [
        format!("pe:{good_id}:0"),
        format!("pp:{good_id}:1"),
        format!("pdy:{good_id}"),
        format!("pdx:{good_id}"),
        format!("pt:{good_id}"),
        format!("pc:{good_id}"),
    ] {
        let toast = answered(&bot, &press(&bot, other, &forged));
        assert!(toast.contains("out of date"), "{forged}: {toast}");
    }
    let after = proxies_of(&dep, me);
    assert_eq!(after, rows, "a forged callback changed a proxy");
    assert!(
        to(&bot, other)
            .iter()
            .all(|m| !m.text.as_deref().unwrap_or_default().contains("alice"))
    );

    // Priority, disable, enable.
    answered(&bot, &press(&bot, me, &format!("pp:{good_id}:2")));
    answered(&bot, &press(&bot, me, &format!("pe:{good_id}:0")));
    let row = |id: i64| {
        proxies_of(&dep, me)
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap()
    };
    assert_eq!(row(good_id)["priority"], 2);
    assert_eq!(row(good_id)["enabled"], false);
    answered(&bot, &press(&bot, me, &format!("pe:{good_id}:1")));
    assert_eq!(row(good_id)["enabled"], true);

    // Test in the background: the reply comes when done.
    let toast = answered(&bot, &press(&bot, me, &format!("pt:{good_id}")));
    assert!(toast.contains("Testing proxy"), "{toast}");
    expect(&bot, &daemon, me, 0, "works: @instagram was found", WAIT);
    assert!(!good.requests().is_empty());
    answered(&bot, &press(&bot, me, &format!("pt:{bad_id}")));
    expect(&bot, &daemon, me, 0, "failed the test", WAIT);
    assert_eq!(row(bad_id)["fail_streak"], 1);

    // Delete with confirmation.
    answered(&bot, &press(&bot, me, &format!("pdx:{bad_id}")));
    expect(
        &bot,
        &daemon,
        me,
        0,
        &format!("Delete proxy #{bad_id}"),
        WAIT,
    );
    assert_eq!(proxies_of(&dep, me).len(), 2);
    answered(&bot, &press(&bot, me, &format!("pdy:{bad_id}")));
    assert_eq!(proxies_of(&dep, me).len(), 1);

    // Sessions: bad cookies as text are refused, and the message is deleted.
    answered(&bot, &press(&bot, me, "ig"));
    expect(&bot, &daemon, me, 0, "Instagram sessions</b>: 0", WAIT);
    answered(&bot, &press(&bot, me, "iga"));
    expect(&bot, &daemon, me, 0, "Send your Instagram cookies", WAIT);
    let leaky = text(
        &bot,
        me,
        r#"[{"name":"csrftoken","value":"leakyVALUE","domain":".instagram.com"}]"#,
    );
    expect(&bot, &daemon, me, 0, "cannot be used", WAIT);
    assert!(bot.wait_for(|b| deleted(b, me, leaky), WAIT));
    assert!(sessions_of(&dep, me).is_empty());

    // A .json document: downloaded with getFile, probed with the browser, stored.
    let json = cookie_json(SESSION_VALUE);
    let file_id = bot.register_file(json.clone().into_bytes());
    let n = to(&bot, me).len();
    let document = say(
        &bot,
        me,
        json!({"document": {
            "file_id": file_id,
            "file_unique_id": "AgADfake",
            "file_name": "my-phone.json",
            "mime_type": "application/json",
            "file_size": json.len(),
        }}),
    );
    expect(
        &bot,
        &daemon,
        me,
        n,
        "“my-phone” works and is saved",
        PROBE_WAIT,
    );
    assert!(bot.wait_for(|b| deleted(b, me, document), WAIT));
    assert_eq!(bot.downloads().len(), 1);
    let sessions = sessions_of(&dep, me);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["valid"], true);
    let sid = sessions[0]["id"].as_i64().unwrap();
    answered(&bot, &press(&bot, me, "ig"));
    expect(&bot, &daemon, me, 0, "my-phone — ✅ valid", WAIT);

    // Forged session deletes change nothing; the owner's delete asks first.
    for forged in [format!("igy:{sid}"), format!("igx:{sid}")] {
        let toast = answered(&bot, &press(&bot, other, &forged));
        assert!(toast.contains("out of date"), "{forged}: {toast}");
    }
    assert_eq!(sessions_of(&dep, me).len(), 1);
    answered(&bot, &press(&bot, me, &format!("igx:{sid}")));
    expect(
        &bot,
        &daemon,
        me,
        0,
        &format!("Delete session #{sid}"),
        WAIT,
    );
    assert_eq!(sessions_of(&dep, me).len(), 1);
    answered(&bot, &press(&bot, me, &format!("igy:{sid}")));
    assert!(sessions_of(&dep, me).is_empty());

    // No secret ever left the daemon in a message, a button or the log, or reached the
    // database in plaintext; no request was refused as malformed.
    let sent = everything_sent(&bot);
    let log = daemon.log_text();
    for secret in [
        PASSWORD,
        WRONG_PASSWORD,
        SESSION_VALUE,
        "leakyVALUE",
        "csrfTOKENvalue",
    ] {
        assert!(!sent.contains(secret), "{secret} was sent to Telegram");
        assert!(!log.contains(secret), "{secret} reached the log");
    }
    assert_no_secret(&dep, &[PASSWORD, WRONG_PASSWORD, SESSION_VALUE]);
    let bad_requests: Vec<_> = bot
        .sent()
        .into_iter()
        .filter(|m| m.outcome == 400)
        .map(|m| (m.method, m.text, m.error))
        .collect();
    assert!(bad_requests.is_empty(), "{bad_requests:#?}");
}
