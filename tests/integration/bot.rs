//! The Telegram bot end to end: the real daemon binary polls the fake Bot API; tests push
//! updates and assert the bot's requests and the database.

use crate::support::daemon::{Deployment, Running, accounts_json, wait_until};
use crate::support::fake_bot::{FakeBotApi, SentMessage};
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

const ADMIN: i64 = 900;
const WAIT: Duration = Duration::from_secs(10);
/// 32 bytes of 0x01, base64: the encryption key of tests that store secrets.
const SECRET_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

fn next_id() -> i64 {
    NEXT_ID.fetch_add(1, Ordering::SeqCst)
}

fn deployment(bot: &FakeBotApi, ig: &FakeInstagram, extra: &str) -> Deployment {
    let dep = Deployment::new("");
    let key = dep.dir.path().join("secret.key");
    std::fs::write(&key, SECRET_KEY).expect("write the key");
    let text = std::fs::read_to_string(&dep.config).expect("config");
    let text = format!(
        r#"{text}
[scheduler]
interval = "1h"
run_on_start = false

[checkers]
count = 3
probe_timeout = "5s"

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
burst = 10000

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

/// Waits until the bot has registered its menus, i.e. is about to poll. (A pending long poll
/// shows in `calls("getUpdates")` only once answered.)
fn ready(bot: &FakeBotApi, daemon: &Running) {
    assert!(
        bot.wait_for(|b| b.calls("setMyCommands").len() >= 3, WAIT),
        "the bot did not start:\n{}",
        daemon.log_text()
    );
    std::thread::sleep(Duration::from_millis(100));
}

fn user_json(id: i64, name: &str, lang: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": name, "language_code": lang})
}

/// A text message from user `from` in their private chat.
fn say(bot: &FakeBotApi, from: i64, lang: &str, text: &str) {
    say_as(bot, from, "Tester", lang, text);
}

fn say_as(bot: &FakeBotApi, from: i64, name: &str, lang: &str, text: &str) {
    bot.push_update(json!({"message": {
        "message_id": next_id(),
        "date": chrono::Utc::now().timestamp(),
        "chat": {"id": from, "type": "private", "first_name": name},
        "from": user_json(from, name, lang),
        "text": text,
    }}));
}

/// A button press by `from` with `data`, on the bot's message `message_id`.
fn press(bot: &FakeBotApi, from: i64, data: &str, message_id: i64) -> String {
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

fn to(bot: &FakeBotApi, chat: i64) -> Vec<SentMessage> {
    bot.sent()
        .into_iter()
        .filter(|m| m.chat_id == chat)
        .collect()
}

/// Waits for a message call to `chat` (after the first `skip`) whose text contains `needle`.
fn expect(bot: &FakeBotApi, daemon: &Running, chat: i64, skip: usize, needle: &str) -> SentMessage {
    let found = |b: &FakeBotApi| {
        to(b, chat).into_iter().skip(skip).find(|m| {
            m.text.as_deref().is_some_and(|t| t.contains(needle))
                || m.caption.as_deref().is_some_and(|t| t.contains(needle))
        })
    };
    assert!(
        bot.wait_for(|b| found(b).is_some(), WAIT),
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

/// The callback data of every inline button of a message.
fn buttons(message: &SentMessage) -> Vec<String> {
    message
        .reply_markup
        .as_ref()
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the callback `id` was answered; returns the toast text.
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

fn account<'a>(rows: &'a [Value], owner: i64, name: &str) -> Option<&'a Value> {
    rows.iter()
        .find(|r| r["owner"] == owner && r["username"] == name)
}

fn users_json(dep: &Deployment) -> Vec<Value> {
    serde_json::from_str(&dep.cli_ok(&["users", "list", "--json"])).expect("users json")
}

fn no_bad_requests(bot: &FakeBotApi, daemon: &Running) {
    let bad: Vec<_> = bot
        .sent()
        .into_iter()
        .filter(|m| m.outcome == 400)
        .map(|m| (m.method, m.text, m.error))
        .collect();
    assert!(bad.is_empty(), "400 answers: {bad:#?}");
    let log = daemon.log_text();
    assert!(!log.contains("can't parse"), "{log}");
}

#[test]
fn transport_people_and_language() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    bot.set_webhook_active(true);
    let dep = deployment(&bot, &ig, "");
    let daemon = dep.spawn();

    // 1. Transport: the webhook is removed, menus registered in ru and en and for the admin.
    ready(&bot, &daemon);
    assert!(!bot.calls("deleteWebhook").is_empty());
    let commands = bot.calls("setMyCommands");
    let langs: Vec<String> = commands
        .iter()
        .filter_map(|c| c.params["language_code"].as_str().map(str::to_owned))
        .collect();
    assert!(langs.contains(&"ru".to_owned()) && langs.contains(&"en".to_owned()));
    assert!(
        commands.iter().any(
            |c| c.params["scope"].to_string().contains(&ADMIN.to_string())
                && c.params["commands"].to_string().contains("stats")
        ),
        "{commands:#?}"
    );

    // 2. People: /start creates an inactive user; the admin is asked, with the name escaped.
    let hostile = "<b>&Evil";
    say_as(&bot, 501, hostile, "ru", "/start");
    expect(&bot, &daemon, 501, 0, "Учётная запись создана");
    let ask = expect(&bot, &daemon, ADMIN, 0, "501");
    let raw = ask.text.clone().unwrap_or_default();
    assert!(raw.contains("&lt;b&gt;&amp;Evil"), "{raw}");
    assert_eq!(buttons(&ask), ["ua:501", "ur:501"]);
    let users = users_json(&dep);
    let user = users.iter().find(|u| u["id"] == 501).expect("registered");
    assert_eq!(user["active"], false);
    assert_eq!(user["lang"], "ru");

    // Inactive: one clear sentence and nothing else, for commands and buttons alike.
    let before = to(&bot, 501).len();
    say(&bot, 501, "ru", "/add victim");
    expect(&bot, &daemon, 501, before, "Доступ пока не выдан");
    say(&bot, 501, "ru", "➕ Добавить аккаунт");
    let cb = press(&bot, 501, "ua:501", 1);
    assert!(answered(&bot, &cb).contains("Доступ пока не выдан"));
    std::thread::sleep(Duration::from_millis(300));
    let replies: Vec<_> = to(&bot, 501).into_iter().skip(before).collect();
    assert_eq!(replies.len(), 2, "{replies:#?}");
    assert!(replies.iter().all(|m| m.reply_markup.is_none()));
    assert!(accounts_json(&dep).is_empty());
    assert_eq!(
        users_json(&dep).iter().find(|u| u["id"] == 501).unwrap()["active"],
        false
    );

    // A non-admin (active) user's admin button changes nothing.
    dep.cli_ok(&["users", "add", "777", "--lang", "en"]);
    let cb = press(&bot, 777, "ua:501", 1);
    assert!(answered(&bot, &cb).contains("Administrators only"));
    let cb = press(&bot, 777, "uy:p:777", 1);
    assert!(answered(&bot, &cb).contains("Administrators only"));
    let users = users_json(&dep);
    assert_eq!(
        users.iter().find(|u| u["id"] == 501).unwrap()["active"],
        false
    );
    assert_eq!(
        users.iter().find(|u| u["id"] == 777).unwrap()["role"],
        "user"
    );

    // The admin approves; the user is told, in Russian, with the main menu.
    let before = to(&bot, 501).len();
    let message = ask.message_id.expect("sent");
    let cb = press(&bot, ADMIN, "ua:501", message);
    answered(&bot, &cb);
    let told = expect(&bot, &daemon, 501, before, "Доступ выдан");
    assert!(told.reply_markup.as_ref().unwrap()["keyboard"].is_array());
    assert_eq!(
        users_json(&dep).iter().find(|u| u["id"] == 501).unwrap()["active"],
        true
    );
    let edited = expect(&bot, &daemon, ADMIN, 0, "access granted");
    assert_eq!(edited.method, "editMessageText");

    // 3. Language: an English-speaking user gets English.
    say(&bot, 502, "en-US", "/start");
    expect(&bot, &daemon, 502, 0, "Your account is created");
    let cb = press(&bot, ADMIN, "ur:502", message);
    answered(&bot, &cb);
    expect(&bot, &daemon, 502, 1, "declined");

    // Every callback was answered exactly once.
    let answers = bot.calls("answerCallbackQuery");
    let mut ids: Vec<&str> = answers
        .iter()
        .filter_map(|c| c.params["callback_query_id"].as_str())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
    no_bad_requests(&bot, &daemon);
    assert!(!bot.calls("getUpdates").is_empty());
    for call in bot.calls("getUpdates") {
        let timeout = call.params["timeout"].as_i64().unwrap_or(0);
        assert!((1..17).contains(&timeout), "{timeout}");
    }

    // A second poller on the same token: the conflict is logged clearly.
    let other = deployment(&bot, &ig, "");
    let second = other.spawn();
    assert!(
        wait_until(WAIT, || second.log_text().contains("409 Conflict")
            || daemon.log_text().contains("409 Conflict")),
        "no conflict logged:\n{}\n{}",
        daemon.log_text(),
        second.log_text()
    );
    let log = format!("{}{}", daemon.log_text(), second.log_text());
    assert!(!log.contains(&bot.token()), "the token reached the log");
}

#[test]
fn accounts_from_add_to_export() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("target.one", Behavior::NotFound);
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "601", "--mode", "api", "--lang", "en"]);
    dep.cli_ok(&["users", "add", "602", "--mode", "api", "--lang", "ru"]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);

    // Add one: a bad name is explained, then the period is chosen with a quick button.
    say(&bot, 601, "en", "/add");
    expect(&bot, &daemon, 601, 0, "Send the Instagram account");
    say(&bot, 601, "en", "bad..name");
    expect(&bot, &daemon, 601, 0, "two dots in a row");
    say(&bot, 601, "en", "@Target.One");
    let ask = expect(&bot, &daemon, 601, 0, "Period for @target.one");
    assert_eq!(buttons(&ask), ["pd:7", "pd:14", "pd:30", "pd:60", "cn"]);
    let n = to(&bot, 601).len();
    let started = Instant::now();
    press(&bot, 601, "pd:14", ask.message_id.unwrap());
    expect(&bot, &daemon, 601, n, "@target.one added: 14 days");
    println!(
        "figure: add reply after {} ms",
        started.elapsed().as_millis()
    );
    // The immediate background check reports its verdict.
    expect(&bot, &daemon, 601, n, "@target.one: not found");
    let rows = accounts_json(&dep);
    let one = account(&rows, 601, "target.one").expect("added");
    assert_eq!(one["period_days"], 14);
    assert_eq!(one["state"], "pending");
    assert_eq!(one["last_verdict"], "not_found");
    let one_id = one["id"].as_i64().unwrap();

    // Inline argument and a typed period; Russian plurals in the reply.
    say(&bot, 602, "ru", "/add https://instagram.com/ru_acc/");
    expect(&bot, &daemon, 602, 0, "Срок для @ru_acc");
    say(&bot, 602, "ru", "21");
    expect(&bot, &daemon, 602, 0, "@ru_acc добавлен: 21 день");

    // Bulk add: every separator; added, duplicates and invalid with reasons.
    let names: Vec<String> = (0..20).map(|i| format!("bulk_{i:02}")).collect();
    say(&bot, 601, "en", "📥 Bulk add");
    expect(&bot, &daemon, 601, 0, "separated by new lines");
    let n = to(&bot, 601).len();
    let input = format!("{}\nx1 x2;x3,target.one bad-name", names.join("\n"));
    say(&bot, 601, "en", &input);
    let ask = expect(&bot, &daemon, 601, n, "To add: 23");
    let text = ask.text.clone().unwrap();
    assert!(text.contains("Already in your list: 1"), "{text}");
    assert!(text.contains("bad-name — only latin letters"), "{text}");
    assert_eq!(buttons(&ask), ["pd:7", "pd:14", "pd:30", "pd:60", "cn"]);
    press(&bot, 601, "pd:30", ask.message_id.unwrap());
    expect(&bot, &daemon, 601, n, "Added: 23");
    assert_eq!(
        accounts_json(&dep)
            .iter()
            .filter(|r| r["owner"] == 601)
            .count(),
        24
    );

    // The pending list: 15 per page and a pager.
    say(&bot, 601, "en", "🕒 Pending");
    let list = expect(&bot, &daemon, 601, 0, "🕒 Pending: 24");
    let data = buttons(&list);
    assert_eq!(data.iter().filter(|d| d.starts_with("c:")).count(), 15);
    assert!(data.contains(&"l:p:1".to_owned()), "{data:?}");
    press(&bot, 601, "l:p:1", list.message_id.unwrap());
    assert!(bot.wait_for(
        |b| to(b, 601).iter().any(|m| m.method == "editMessageText"
            && buttons(m).iter().filter(|d| d.starts_with("c:")).count() == 9),
        WAIT
    ));

    // The card, ±days, pause/resume.
    let card_msg = list.message_id.unwrap();
    let cb = press(&bot, 601, &format!("c:{one_id}"), card_msg);
    answered(&bot, &cb);
    let card = expect(&bot, &daemon, 601, 0, "Period: 14 days");
    let text = card.text.clone().unwrap();
    assert!(text.contains("instagram.com/target.one/"), "{text}");
    assert!(text.contains("Last check:"), "{text}");
    assert!(text.contains("not found"), "{text}");
    for d in ["d:{}:7", "ps:{}", "ck:{}", "x:{}"] {
        assert!(
            buttons(&card).contains(&d.replace("{}", &one_id.to_string())),
            "{d}"
        );
    }
    let cb = press(&bot, 601, &format!("d:{one_id}:7"), card_msg);
    assert!(answered(&bot, &cb).contains("21 days"));
    let cb = press(&bot, 601, &format!("ps:{one_id}"), card_msg);
    answered(&bot, &cb);
    let rows = accounts_json(&dep);
    let one = account(&rows, 601, "target.one").unwrap();
    assert_eq!(one["period_days"], 21);
    assert_eq!(one["state"], "paused");
    let cb = press(&bot, 601, &format!("rs:{one_id}"), card_msg);
    answered(&bot, &cb);
    assert_eq!(
        account(&accounts_json(&dep), 601, "target.one").unwrap()["state"],
        "pending"
    );

    // Forged callbacks for another owner's account change nothing.
    let ru_id = account(&accounts_json(&dep), 602, "ru_acc").unwrap()["id"]
        .as_i64()
        .unwrap();
    for data in [
        format!("c:{ru_id}"),
        format!("d:{ru_id}:30"),
        format!("ps:{ru_id}"),
        format!("xy:{ru_id}"),
        format!("fa:{ru_id}"),
        format!("ck:{ru_id}"),
        "c:999999".to_owned(),
        "xy:1;drop".to_owned(),
    ] {
        let cb = press(&bot, 601, &data, card_msg);
        let toast = answered(&bot, &cb);
        assert!(
            toast.contains("no longer in your list") || toast.contains("out of date"),
            "{data}: {toast}"
        );
    }
    let ru = account(&accounts_json(&dep), 602, "ru_acc")
        .unwrap()
        .clone();
    assert_eq!(ru["period_days"], 21);
    assert_eq!(ru["state"], "pending");

    // Delete with confirmation.
    let cb = press(&bot, 601, &format!("x:{one_id}"), card_msg);
    answered(&bot, &cb);
    expect(&bot, &daemon, 601, 0, "Delete @target.one for good?");
    assert!(account(&accounts_json(&dep), 601, "target.one").is_some());
    let cb = press(&bot, 601, &format!("xy:{one_id}"), card_msg);
    answered(&bot, &cb);
    expect(&bot, &daemon, 601, 0, "@target.one deleted.");
    assert!(account(&accounts_json(&dep), 601, "target.one").is_none());

    // Bulk delete with confirmation.
    say(&bot, 601, "en", "🗑 Bulk delete");
    expect(&bot, &daemon, 601, 0, "Send the account names to delete");
    say(&bot, 601, "en", "x1, x2 nothere");
    let ask = expect(&bot, &daemon, 601, 0, "Delete 3 accounts?");
    let cb = press(&bot, 601, "bdy", ask.message_id.unwrap());
    answered(&bot, &cb);
    expect(&bot, &daemon, 601, 0, "Not in your list: @nothere");
    let rows = accounts_json(&dep);
    assert!(account(&rows, 601, "x1").is_none() && account(&rows, 601, "x2").is_none());
    assert!(account(&rows, 601, "x3").is_some());
    // The same confirmation pressed again is stale and deletes nothing.
    let cb = press(&bot, 601, "bdy", ask.message_id.unwrap());
    assert!(answered(&bot, &cb).contains("out of date"));

    // CSV export.
    say(&bot, 601, "en", "/export");
    assert!(bot.wait_for(
        |b| {
            to(b, 601)
                .iter()
                .any(|m| m.method == "sendDocument" && m.outcome == 200)
        },
        WAIT
    ));
    let doc = to(&bot, 601)
        .into_iter()
        .find(|m| m.method == "sendDocument")
        .unwrap();
    assert!(doc.file_name.as_deref().unwrap_or("").ends_with(".csv"));
    let csv = String::from_utf8(doc.document.unwrap()).unwrap();
    assert!(csv.starts_with("username,state,period_days"), "{csv}");
    assert!(csv.contains("\r\nbulk_00,pending,30,"), "{csv}");
    assert!(!csv.contains("ru_acc"));
    no_bad_requests(&bot, &daemon);
}

#[test]
fn check_all_reports_progress_and_other_users_are_served() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set_latency(Duration::from_millis(250));
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "701", "--mode", "api", "--lang", "en"]);
    let names: Vec<String> = (0..40).map(|i| format!("many_{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let behavior = if i == 0 {
            Behavior::Exists { private: false }
        } else if i < 4 {
            Behavior::ServerError(500)
        } else {
            Behavior::NotFound
        };
        ig.set(name, behavior);
    }
    let mut args = vec!["accounts", "add", "--owner", "701", "--days", "30"];
    args.extend(names.iter().map(String::as_str));
    dep.cli_ok(&args);
    let daemon = dep.spawn();
    ready(&bot, &daemon);

    say(&bot, 701, "en", "🔍 Check all");
    let progress = expect(&bot, &daemon, 701, 0, "Checked 0/");
    let message = progress.message_id.unwrap();
    assert!(wait_until(WAIT, || ig.requests().len() >= 3));

    // While the check runs, a new user's /start is answered within a second.
    let asked = Instant::now();
    say(&bot, 702, "en", "/start");
    expect(&bot, &daemon, 702, 0, "Your account is created");
    let took = asked.elapsed();
    println!(
        "figure: /start answered in {} ms during a 40-account check",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "{took:?}");

    let done = |b: &FakeBotApi| {
        to(b, 701).iter().any(|m| {
            m.message_id == Some(message)
                && m.text
                    .as_deref()
                    .is_some_and(|t| t.contains("Check finished: 40/40"))
        })
    };
    assert!(
        bot.wait_for(done, Duration::from_secs(30)),
        "{:#?}\n{}",
        to(&bot, 701)
            .iter()
            .map(|m| m.text.clone())
            .collect::<Vec<_>>(),
        daemon.log_text()
    );
    let edits: Vec<_> = to(&bot, 701)
        .into_iter()
        .filter(|m| m.method == "editMessageText" && m.message_id == Some(message))
        .collect();
    assert!(
        edits.len() >= 2,
        "progress was not edited in place: {edits:#?}"
    );
    let last = edits.last().unwrap().text.clone().unwrap();
    assert!(
        last.contains("restored 1") && last.contains("unknown 3"),
        "{last}"
    );
    // One progress message only: every other message to the chat is the alert.
    let sends: Vec<_> = to(&bot, 701)
        .into_iter()
        .filter(|m| m.method.starts_with("send"))
        .collect();
    assert!(sends.len() <= 3, "{sends:#?}");
    let rows = accounts_json(&dep);
    assert!(rows.iter().all(|r| !r["last_verdict"].is_null()));
    assert_eq!(account(&rows, 701, "many_00").unwrap()["state"], "restored");
    no_bad_requests(&bot, &daemon);
}

#[test]
fn false_alarm_returns_a_restored_account_to_pending() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("back.again", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "801", "--mode", "api", "--lang", "en"]);
    dep.cli_ok(&["users", "add", "802", "--mode", "api", "--lang", "en"]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    say(&bot, 801, "en", "/add back.again");
    let ask = expect(&bot, &daemon, 801, 0, "Period for @back.again");
    press(&bot, 801, "pd:30", ask.message_id.unwrap());
    assert!(wait_until(WAIT, || account(
        &accounts_json(&dep),
        801,
        "back.again"
    )
    .is_some_and(|a| a["state"] == "restored")));
    let id = account(&accounts_json(&dep), 801, "back.again").unwrap()["id"]
        .as_i64()
        .unwrap();

    // Someone else cannot report it.
    let cb = press(&bot, 802, &format!("fa:{id}"), 1);
    assert!(answered(&bot, &cb).contains("no longer in your list"));
    assert_eq!(
        account(&accounts_json(&dep), 801, "back.again").unwrap()["state"],
        "restored"
    );
    // The owner can.
    let cb = press(&bot, 801, &format!("fa:{id}"), 1);
    answered(&bot, &cb);
    expect(&bot, &daemon, 801, 0, "is being checked again");
    let row = account(&accounts_json(&dep), 801, "back.again")
        .unwrap()
        .clone();
    assert_eq!(row["state"], "pending");
    assert!(row["restored_at"].is_null());
    // Pressing again is harmless.
    let cb = press(&bot, 801, &format!("fa:{id}"), 1);
    assert!(answered(&bot, &cb).contains("no longer restored"));
    no_bad_requests(&bot, &daemon);
}

#[test]
fn conversation_survives_a_restart_and_cancel_works_everywhere() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("after.restart", Behavior::NotFound);
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "901", "--mode", "api", "--lang", "en"]);
    let mut daemon = dep.spawn();
    ready(&bot, &daemon);
    say(&bot, 901, "en", "/add after.restart");
    expect(&bot, &daemon, 901, 0, "Period for @after.restart");
    let (status, _) = daemon.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{}", daemon.log_text());

    let menus = bot.calls("setMyCommands").len();
    let daemon = dep.spawn();
    assert!(bot.wait_for(|b| b.calls("setMyCommands").len() >= menus + 3, WAIT));
    std::thread::sleep(Duration::from_millis(100));
    let n = to(&bot, 901).len();
    say(&bot, 901, "en", "45");
    expect(&bot, &daemon, 901, n, "@after.restart added: 45 days");
    assert_eq!(
        account(&accounts_json(&dep), 901, "after.restart").unwrap()["period_days"],
        45
    );

    // /cancel leaves a flow; a main-menu button mid-flow works as a button.
    say(&bot, 901, "en", "/add");
    expect(&bot, &daemon, 901, n, "Send the Instagram account");
    say(&bot, 901, "en", "/cancel");
    expect(&bot, &daemon, 901, n, "Cancelled");
    say(&bot, 901, "en", "just.text");
    expect(&bot, &daemon, 901, n, "Choose an action");
    assert!(account(&accounts_json(&dep), 901, "just.text").is_none());
    say(&bot, 901, "en", "/bulk");
    expect(&bot, &daemon, 901, n, "separated by new lines");
    say(&bot, 901, "en", "⚙️ Settings");
    expect(&bot, &daemon, 901, n, "Settings");
    assert!(accounts_json(&dep).iter().all(|r| r["username"] != "⚙️"));
    no_bad_requests(&bot, &daemon);
}

#[test]
fn settings_keys_and_admin() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "950", "--mode", "api", "--lang", "ru"]);
    dep.cli_ok(&[
        "users",
        "add",
        ADMIN.to_string().as_str(),
        "--admin",
        "--lang",
        "en",
    ]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);

    // Settings: mode and language.
    say(&bot, 950, "ru", "/settings");
    let screen = expect(&bot, &daemon, 950, 0, "Настройки");
    let m = screen.message_id.unwrap();
    let cb = press(&bot, 950, "sm:api+browser", m);
    answered(&bot, &cb);
    let cb = press(&bot, 950, "sl:en", m);
    answered(&bot, &cb);
    expect(&bot, &daemon, 950, 0, "Language: English");
    let users = users_json(&dep);
    let me = users.iter().find(|u| u["id"] == 950).unwrap();
    assert_eq!(me["mode"], "api+browser");
    assert_eq!(me["lang"], "en");

    // RapidAPI keys: a working key is tested live, saved, listed masked; the message with the
    // key is deleted from the chat.
    let key = "abcd0123456789abcdef0123456789wxyz";
    let n = to(&bot, 950).len();
    say(&bot, 950, "en", "/settings");
    let screen = expect(&bot, &daemon, 950, n, "Check mode");
    let cb = press(&bot, 950, "ka", screen.message_id.unwrap());
    answered(&bot, &cb);
    expect(&bot, &daemon, 950, 0, "Send your RapidAPI key");
    say(&bot, 950, "en", key);
    expect(&bot, &daemon, 950, 0, "Key abcd…wxyz works and is saved");
    assert!(ig.requests().iter().any(|r| r.key.as_deref() == Some(key)));
    assert!(!bot.calls("deleteMessage").is_empty());
    let cb = press(&bot, 950, "k", screen.message_id.unwrap());
    answered(&bot, &cb);
    let list = expect(&bot, &daemon, 950, 0, "abcd…wxyz</code> — requests today:");
    assert!(!list.text.unwrap().contains(key));
    assert!(!daemon.log_text().contains(key), "the key reached the log");
    // A refused key is not saved.
    ig.set_rapidapi_keys_quota("zzzz0123456789abcdef0123456789zzzz", 0);
    let cb = press(&bot, 950, "ka", screen.message_id.unwrap());
    answered(&bot, &cb);
    say(&bot, 950, "en", "zzzz0123456789abcdef0123456789zzzz");
    expect(&bot, &daemon, 950, 0, "failed the test");
    let keys = dep.cli_ok(&["keys", "list", "--owner", "950"]);
    assert!(!keys.contains("zzzz"), "{keys}");

    // Admin: users, promote with confirmation, interval, statistics.
    say(&bot, ADMIN, "en", "/users");
    let list = expect(&bot, &daemon, ADMIN, 0, "Users");
    assert!(buttons(&list).contains(&"uc:950".to_owned()));
    let m = list.message_id.unwrap();
    let cb = press(&bot, ADMIN, "uq:p:950", m);
    answered(&bot, &cb);
    expect(&bot, &daemon, ADMIN, 0, "Please confirm");
    assert_eq!(
        users_json(&dep).iter().find(|u| u["id"] == 950).unwrap()["role"],
        "user"
    );
    let cb = press(&bot, ADMIN, "uy:p:950", m);
    answered(&bot, &cb);
    assert!(wait_until(WAIT, || users_json(&dep)
        .iter()
        .find(|u| u["id"] == 950)
        .is_some_and(|u| u["role"] == "admin")));
    let cb = press(&bot, ADMIN, "uy:d:950", m);
    answered(&bot, &cb);
    assert!(wait_until(WAIT, || users_json(&dep)
        .iter()
        .find(|u| u["id"] == 950)
        .is_some_and(|u| u["role"] == "user")));
    // The configured admin cannot be demoted or deleted from the bot.
    let cb = press(&bot, ADMIN, &format!("uy:x:{ADMIN}"), m);
    assert!(answered(&bot, &cb).contains("configuration file"));

    let cb = press(&bot, ADMIN, "iv", m);
    answered(&bot, &cb);
    expect(&bot, &daemon, ADMIN, 0, "Send a new interval");
    say(&bot, ADMIN, "en", "10m");
    expect(&bot, &daemon, ADMIN, 0, "Interval: 10m");
    say(&bot, ADMIN, "en", "/stats");
    let stats = expect(&bot, &daemon, ADMIN, 0, "Statistics");
    assert!(stats.text.unwrap().contains("Users: 2"));
    no_bad_requests(&bot, &daemon);
}

/// Runs one SQL statement on the test's database (the daemon may be running: WAL).
fn sql(dep: &Deployment, statement: &str) {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let db = dep.dir.path().join("igwatch.db");
    let mut conn = SqliteConnection::establish(db.to_str().expect("utf-8 path")).expect("open db");
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .expect("pragma");
    diesel::sql_query(statement)
        .execute(&mut conn)
        .expect(statement);
}

#[test]
fn expiry_reminder_once_a_day_and_extension_buttons() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    // 00:00 has always passed: the reminder runs at start.
    let dep = deployment(
        &bot,
        &ig,
        "\n[reminders]\ntime = \"00:00\"\ndays_before = 3\n",
    );
    dep.cli_ok(&["users", "add", "851", "--mode", "api", "--lang", "ru"]);
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        "851",
        "--days",
        "2",
        "soon_ends",
    ]);
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        "851",
        "--days",
        "30",
        "far_away",
        "was_expired",
    ]);
    let rows = accounts_json(&dep);
    let expired_id = account(&rows, 851, "was_expired").unwrap()["id"]
        .as_i64()
        .unwrap();
    sql(
        &dep,
        &format!(
            "UPDATE accounts SET state = 'expired', ends_at = ends_at - 40 * 86400 WHERE id = {expired_id}"
        ),
    );
    let mut daemon = dep.spawn();
    ready(&bot, &daemon);
    let reminder = expect(&bot, &daemon, 851, 0, "Скоро заканчивается срок");
    let text = reminder.text.clone().unwrap();
    assert!(
        text.contains("soon_ends") && !text.contains("far_away"),
        "{text}"
    );
    let (status, _) = daemon.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()));
    // A restart the same day sends no second reminder.
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    std::thread::sleep(Duration::from_millis(1500));
    let reminders = to(&bot, 851)
        .iter()
        .filter(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| t.contains("Скоро заканчивается"))
        })
        .count();
    assert_eq!(reminders, 1);

    // "+7 days" on the expiry notice: pending again, ending a week from now.
    let on = reminder.message_id.unwrap();
    let cb = press(&bot, 851, &format!("d:{expired_id}:7"), on);
    answered(&bot, &cb);
    let row = account(&accounts_json(&dep), 851, "was_expired")
        .unwrap()
        .clone();
    assert_eq!(row["state"], "pending");
    assert_eq!(row["period_days"], 37);
    let ends = chrono::DateTime::parse_from_rfc3339(row["ends_at"].as_str().unwrap()).unwrap();
    let left = ends.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        left > chrono::TimeDelta::days(6) && left <= chrono::TimeDelta::days(7),
        "{left}"
    );
    // "Remove" asks first.
    let cb = press(&bot, 851, &format!("x:{expired_id}"), on);
    answered(&bot, &cb);
    expect(&bot, &daemon, 851, 0, "Удалить @was_expired безвозвратно?");
    no_bad_requests(&bot, &daemon);
}

/// The one-column rows of a query on the test's database (`… AS v`).
fn rows(dep: &Deployment, select: &str) -> Vec<String> {
    crate::support::botkit::query(dep, select)
}

fn conversation_of(dep: &Deployment, chat: i64) -> Vec<String> {
    rows(
        dep,
        &format!("SELECT state AS v FROM bot_conversations WHERE chat_id = {chat}"),
    )
}

#[test]
fn bulk_add_asks_for_the_period_before_storing_anything() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    for name in ["alpha", "beta", "gamma", "delta"] {
        ig.set(name, Behavior::NotFound);
    }
    let dep = deployment(&bot, &ig, "\n[users]\ndefault_days = 21\n");
    dep.cli_ok(&["users", "add", "611", "--mode", "api", "--lang", "en"]);
    dep.cli_ok(&["users", "add", "612", "--mode", "api", "--lang", "ru"]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    let mine = |owner: i64| -> Vec<Value> {
        accounts_json(&dep)
            .into_iter()
            .filter(|r| r["owner"] == owner)
            .collect()
    };

    // The list is accepted, the period asked for like a single add; nothing is stored yet.
    say(&bot, 611, "en", "/bulk");
    let n = to(&bot, 611).len();
    expect(&bot, &daemon, 611, 0, "I will ask for the period next");
    say(&bot, 611, "en", "alpha beta\ngamma;bad..x,alpha");
    let ask = expect(&bot, &daemon, 611, n, "To add: 3");
    let text = ask.text.clone().unwrap();
    assert!(text.contains("(default 21)"), "{text}");
    assert!(text.contains("Already in your list: 1"), "{text}");
    assert!(text.contains("bad..x — cannot contain two dots"), "{text}");
    assert_eq!(buttons(&ask), ["pd:7", "pd:14", "pd:30", "pd:60", "cn"]);
    assert!(mine(611).is_empty());
    assert_eq!(conversation_of(&dep, 611).len(), 1);

    // /cancel leaves nothing half-stored; the old quick button is stale afterwards.
    say(&bot, 611, "en", "/cancel");
    expect(&bot, &daemon, 611, n, "Cancelled");
    assert!(conversation_of(&dep, 611).is_empty());
    let cb = press(&bot, 611, "pd:30", ask.message_id.unwrap());
    assert!(answered(&bot, &cb).contains("out of date"));
    let n = to(&bot, 611).len();
    say(&bot, 611, "en", "30");
    expect(&bot, &daemon, 611, n, "Choose an action");
    assert!(mine(611).is_empty());

    // A typed period: a bad one is explained (nothing stored), a good one adds them all.
    say(&bot, 611, "en", "📥 Bulk add");
    expect(&bot, &daemon, 611, n, "I will ask for the period next");
    say(&bot, 611, "en", "alpha, beta, gamma");
    expect(&bot, &daemon, 611, n, "To add: 3");
    say(&bot, 611, "en", "0");
    expect(
        &bot,
        &daemon,
        611,
        n,
        "Send a number of days from 1 to 3650",
    );
    assert!(mine(611).is_empty());
    say(&bot, 611, "en", "45 days");
    let done = expect(&bot, &daemon, 611, n, "Added: 3");
    assert!(done.text.unwrap().contains("Period: 45 days"));
    let rows = mine(611);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for row in &rows {
        assert_eq!(row["period_days"], 45, "{row}");
        assert_eq!(row["state"], "pending", "{row}");
    }
    assert!(conversation_of(&dep, 611).is_empty());
    // The background check of the new accounts runs.
    expect(&bot, &daemon, 611, n, "Check finished: 3/3");

    // Only names already watched: reported at once, no period asked, nothing changes.
    let n = to(&bot, 611).len();
    say(&bot, 611, "en", "/bulk");
    expect(&bot, &daemon, 611, n, "I will ask for the period next");
    say(&bot, 611, "en", "alpha beta");
    let report = expect(&bot, &daemon, 611, n, "Added: 0");
    assert!(
        report
            .text
            .clone()
            .unwrap()
            .contains("Already in your list: 2")
    );
    assert!(buttons(&report).is_empty());
    assert!(conversation_of(&dep, 611).is_empty());
    assert_eq!(mine(611).len(), 3);

    // In Russian, with a quick button; another owner's names are theirs to add.
    say(&bot, 612, "ru", "📥 Массовое добавление");
    expect(&bot, &daemon, 612, 0, "Срок я спрошу следом");
    say(&bot, 612, "ru", "alpha\ndelta");
    let ask = expect(&bot, &daemon, 612, 0, "К добавлению: 2");
    assert!(mine(612).is_empty());
    let cb = press(&bot, 612, "pd:14", ask.message_id.unwrap());
    answered(&bot, &cb);
    expect(&bot, &daemon, 612, 0, "Добавлено: 2 · Срок: 14 дней");
    let rows = mine(612);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["period_days"] == 14));
    assert_eq!(mine(611).len(), 3);
    no_bad_requests(&bot, &daemon);
}

#[test]
fn days_typed_on_the_card_move_the_period() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    let dep = deployment(&bot, &ig, "");
    dep.cli_ok(&["users", "add", "621", "--mode", "api", "--lang", "en"]);
    dep.cli_ok(&["users", "add", "622", "--mode", "api", "--lang", "ru"]);
    dep.cli_ok(&[
        "accounts", "add", "--owner", "621", "--days", "30", "shift.me",
    ]);
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        "622",
        "--days",
        "30",
        "not.yours",
    ]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    let row = |owner: i64, name: &str| account(&accounts_json(&dep), owner, name).unwrap().clone();
    let ends = |row: &Value| {
        chrono::DateTime::parse_from_rfc3339(row["ends_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let before = row(621, "shift.me");
    let id = before["id"].as_i64().unwrap();
    let theirs = row(622, "not.yours");
    let their_id = theirs["id"].as_i64().unwrap();

    // The card has the button next to the quick ones; it asks for a signed number.
    say(&bot, 621, "en", "🕒 Pending");
    let list = expect(&bot, &daemon, 621, 0, "🕒 Pending: 1");
    let m = list.message_id.unwrap();
    let cb = press(&bot, 621, &format!("c:{id}"), m);
    answered(&bot, &cb);
    let card = expect(&bot, &daemon, 621, 0, "Period: 30 days");
    let data = buttons(&card);
    assert!(data.contains(&format!("d:{id}:7")), "{data:?}");
    assert!(data.contains(&format!("dt:{id}")), "{data:?}");
    let n = to(&bot, 621).len();
    let cb = press(&bot, 621, &format!("dt:{id}"), m);
    answered(&bot, &cb);
    let ask = expect(
        &bot,
        &daemon,
        621,
        n,
        "By how many days should the period of @shift.me",
    );
    assert!(ask.text.clone().unwrap().contains("Period now: 30 days"));
    assert_eq!(buttons(&ask), ["cn"]);

    // Bad input and out-of-range results are explained; nothing changes.
    for (input, needle) in [
        ("soon", "whole number of days other than 0"),
        ("0", "whole number of days other than 0"),
        ("+1.5", "whole number of days other than 0"),
        ("-30", "would become 0 days"),
        ("+3621", "would become 3651 days"),
    ] {
        let n = to(&bot, 621).len();
        say(&bot, 621, "en", input);
        expect(&bot, &daemon, 621, n, needle);
    }
    let now = row(621, "shift.me");
    assert_eq!(now["period_days"], 30);
    assert_eq!(now["ends_at"], before["ends_at"]);

    // "+10": applied, the conversation is over, and a fresh card is shown.
    let n = to(&bot, 621).len();
    say(&bot, 621, "en", "+10");
    expect(&bot, &daemon, 621, n, "@shift.me: period 40 days, until");
    expect(&bot, &daemon, 621, n, "Period: 40 days");
    let now = row(621, "shift.me");
    assert_eq!(now["period_days"], 40);
    assert_eq!(ends(&now) - ends(&before), chrono::TimeDelta::days(10));
    assert!(conversation_of(&dep, 621).is_empty());
    let n = to(&bot, 621).len();
    say(&bot, 621, "en", "-3");
    expect(&bot, &daemon, 621, n, "Choose an action");
    assert_eq!(row(621, "shift.me")["period_days"], 40);

    // "-3", "5" and a typographic minus, each from the button.
    for (input, period) in [("-3", 37), ("5", 42), ("\u{2212}2", 40)] {
        let n = to(&bot, 621).len();
        let cb = press(&bot, 621, &format!("dt:{id}"), m);
        answered(&bot, &cb);
        expect(&bot, &daemon, 621, n, "By how many days");
        say(&bot, 621, "en", input);
        expect(&bot, &daemon, 621, n, &format!("period {period} days"));
        assert_eq!(row(621, "shift.me")["period_days"], period, "{input}");
    }
    assert_eq!(
        ends(&row(621, "shift.me")) - ends(&before),
        chrono::TimeDelta::days(10)
    );

    // Forged for another owner's account: refused, no conversation, nothing changes.
    let cb = press(&bot, 621, &format!("dt:{their_id}"), m);
    assert!(answered(&bot, &cb).contains("no longer in your list"));
    assert!(conversation_of(&dep, 621).is_empty());
    let n = to(&bot, 621).len();
    say(&bot, 621, "en", "+5");
    expect(&bot, &daemon, 621, n, "Choose an action");
    let now = row(622, "not.yours");
    assert_eq!(now["period_days"], 30);
    assert_eq!(now["ends_at"], theirs["ends_at"]);
    assert_eq!(row(621, "shift.me")["period_days"], 40);

    // In Russian.
    say(&bot, 622, "ru", "/list");
    let list = expect(&bot, &daemon, 622, 0, "На проверке: 1");
    let cb = press(
        &bot,
        622,
        &format!("dt:{their_id}"),
        list.message_id.unwrap(),
    );
    answered(&bot, &cb);
    expect(
        &bot,
        &daemon,
        622,
        0,
        "На сколько дней изменить срок @not.yours",
    );
    say(&bot, 622, "ru", "+1");
    expect(&bot, &daemon, 622, 0, "@not.yours: срок 31 день, до");
    assert_eq!(row(622, "not.yours")["period_days"], 31);
    no_bad_requests(&bot, &daemon);
}

#[test]
fn admin_sets_and_resets_the_canary() {
    use crate::support::botkit;
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("new.canary", Behavior::Exists { private: false });
    ig.set("watched.one", Behavior::NotFound);
    // A cycle every second: each one starts with the canary in force at that moment.
    let dep = botkit::deployment(&bot, &ig, Some("1s"), "");
    dep.cli_ok(&["users", "add", "631", "--mode", "api", "--lang", "en"]);
    dep.cli_ok(&[
        "users",
        "add",
        &ADMIN.to_string(),
        "--admin",
        "--lang",
        "en",
    ]);
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        "631",
        "--days",
        "30",
        "watched.one",
    ]);
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    let stored = || {
        rows(
            &dep,
            "SELECT value AS v FROM settings WHERE key = 'scheduler.canary'",
        )
    };
    assert!(wait_until(WAIT, || ig.count("instagram") > 0));

    // The admin screen shows the config's canary and a button to change it.
    say(&bot, ADMIN, "en", "/admin");
    let screen = expect(
        &bot,
        &daemon,
        ADMIN,
        0,
        "Canary account: <b>@instagram (from the config)</b>",
    );
    assert!(buttons(&screen).contains(&"cy".to_owned()));
    let m = screen.message_id.unwrap();

    // A non-admin's forged buttons change nothing and open no conversation.
    for data in ["cy", "cyx"] {
        let cb = press(&bot, 631, data, 1);
        assert!(
            answered(&bot, &cb).contains("Administrators only"),
            "{data}"
        );
    }
    assert!(conversation_of(&dep, 631).is_empty());
    let n = to(&bot, 631).len();
    say(&bot, 631, "en", "new.canary");
    expect(&bot, &daemon, 631, n, "Choose an action");
    assert!(stored().is_empty());

    // Asked for a name; bad input is explained and nothing is stored.
    let cb = press(&bot, ADMIN, "cy", m);
    answered(&bot, &cb);
    let ask = expect(&bot, &daemon, ADMIN, 0, "The canary now: @instagram");
    assert_eq!(buttons(&ask), ["cn"]);
    let n = to(&bot, ADMIN).len();
    say(&bot, ADMIN, "en", "bad..name");
    let refused = expect(&bot, &daemon, ADMIN, n, "The canary was not changed");
    assert!(refused.text.unwrap().contains("two dots in a row"));
    let n = to(&bot, ADMIN).len();
    say(&bot, ADMIN, "en", "<b>&");
    let refused = expect(&bot, &daemon, ADMIN, n, "The canary was not changed");
    assert!(refused.text.unwrap().contains("&lt;b&gt;&amp;"));
    assert!(stored().is_empty());

    // A profile link is accepted and normalised; the next cycles probe the new canary.
    let n = to(&bot, ADMIN).len();
    say(&bot, ADMIN, "en", "https://www.instagram.com/New.Canary/");
    expect(
        &bot,
        &daemon,
        ADMIN,
        n,
        "Canary: @new.canary. It applies from the next cycle.",
    );
    assert_eq!(stored(), ["new.canary"]);
    assert!(conversation_of(&dep, ADMIN).is_empty());
    assert!(
        wait_until(WAIT, || ig.count("new.canary") > 0),
        "{}",
        botkit::tail(&daemon.log_text(), 40)
    );
    say(&bot, ADMIN, "en", "/admin");
    let screen = expect(
        &bot,
        &daemon,
        ADMIN,
        n,
        "Canary account: <b>@new.canary</b>",
    );

    // A non-admin cannot reset it.
    let cb = press(&bot, 631, "cyx", 1);
    assert!(answered(&bot, &cb).contains("Administrators only"));
    assert_eq!(stored(), ["new.canary"]);

    // Reset to the config's default: the setting is deleted and the screen shows the config's.
    let cb = press(&bot, ADMIN, "cy", screen.message_id.unwrap());
    answered(&bot, &cb);
    let ask = expect(&bot, &daemon, ADMIN, n, "The canary now: @new.canary");
    assert_eq!(buttons(&ask), ["cyx", "cn"]);
    let before = ig.count("instagram");
    let cb = press(&bot, ADMIN, "cyx", ask.message_id.unwrap());
    assert!(answered(&bot, &cb).contains("the config's default again: @instagram"));
    assert!(stored().is_empty());
    assert!(conversation_of(&dep, ADMIN).is_empty());
    assert!(bot.wait_for(
        |b| to(b, ADMIN).iter().any(|m| {
            m.method == "editMessageText"
                && m.message_id == ask.message_id
                && m.text
                    .as_deref()
                    .is_some_and(|t| t.contains("@instagram (from the config)"))
        }),
        WAIT
    ));
    assert!(wait_until(WAIT, || ig.count("instagram") > before));
    no_bad_requests(&bot, &daemon);
}
