//! Smoke tests of the loopback fakes over real HTTP, so later tests can trust them.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};

use crate::support::fake_bot::{FakeBotApi, Fault, Match, TOKEN};
use crate::support::fake_instagram::{Behavior, Endpoint, FakeInstagram};

const APP_ID: &str = "936619743392459";

fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

/// True when the error comes from a TCP reset (ECONNRESET), not from an HTTP answer.
fn is_reset(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset)
        {
            return true;
        }
        source = e.source();
    }
    false
}

async fn web(c: &Client, ig: &FakeInstagram, name: &str) -> reqwest::Result<reqwest::Response> {
    c.get(format!("{}/api/v1/users/web_profile_info/", ig.url()))
        .query(&[("username", name)])
        .header("x-ig-app-id", APP_ID)
        .send()
        .await
}

async fn rapid(c: &Client, ig: &FakeInstagram, name: &str, key: &str) -> reqwest::Response {
    c.get(format!("{}/ig_profile", ig.url()))
        .query(&[("ig", name)])
        .header("x-rapidapi-key", key)
        .header("x-rapidapi-host", "instagram210.p.rapidapi.com")
        .send()
        .await
        .expect("rapidapi answer")
}

async fn page(c: &Client, url: &str) -> (StatusCode, Option<String>, String) {
    let r = c.get(url).send().await.expect("page answer");
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, location, r.text().await.expect("body"))
}

#[tokio::test]
async fn instagram_web_json_signals() {
    let ig = FakeInstagram::start();
    let c = client();
    assert!(!ig.url().ends_with('/'));
    ig.set("alice", Behavior::Exists { private: false });
    ig.set("Bob", Behavior::Exists { private: true });
    ig.set("carol", Behavior::RateLimited);
    ig.set("dave", Behavior::PleaseWait);
    ig.set("erin", Behavior::LoginWall);
    ig.set("frank", Behavior::Challenge);
    ig.set("gina", Behavior::ServerError(503));

    let r = web(&c, &ig, "alice").await.expect("answer");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "ok");
    let user = &v["data"]["user"];
    assert_eq!(user["username"], "alice");
    assert_eq!(user["is_private"], false);
    assert_eq!(user["full_name"], "Alice");
    for field in ["id", "biography", "profile_pic_url"] {
        assert!(user[field].is_string(), "{field}");
    }
    for field in [
        "edge_followed_by",
        "edge_follow",
        "edge_owner_to_timeline_media",
    ] {
        assert!(user[field]["count"].is_u64(), "{field}");
    }
    let v: Value = web(&c, &ig, "bob").await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["user"]["is_private"], true);

    assert_eq!(web(&c, &ig, "nobody").await.unwrap().status(), 404);
    assert_eq!(web(&c, &ig, "carol").await.unwrap().status(), 429);
    let r = web(&c, &ig, "dave").await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"message": "Please wait a few minutes before you try again.", "require_login": true, "status": "fail"})
    );
    let v: Value = web(&c, &ig, "erin").await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"data": {"user": null}, "status": "ok"}));
    let r = web(&c, &ig, "frank").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "challenge_required"
    );
    assert_eq!(web(&c, &ig, "gina").await.unwrap().status(), 503);

    // The web API refuses clients without the app id.
    let r = c
        .get(format!(
            "{}/api/v1/users/web_profile_info/?username=alice",
            ig.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    assert_eq!(ig.count("alice"), 2);
    assert_eq!(ig.count("ALICE"), 2);
    let reqs = ig.requests();
    assert_eq!(reqs.len(), 9);
    assert_eq!(reqs[0].endpoint, Endpoint::Web);
    assert_eq!(reqs[0].username.as_deref(), Some("alice"));
    assert_eq!(reqs[0].header("X-IG-App-ID"), Some(APP_ID));
    assert_eq!(
        reqs[0].path,
        "/api/v1/users/web_profile_info/?username=alice"
    );
    assert!(reqs[0].key.is_none());
    assert!(reqs.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn instagram_malformed_answers() {
    let ig = FakeInstagram::start();
    let c = client();
    ig.set("trunc", Behavior::TruncatedJson);
    ig.set("html", Behavior::HtmlInsteadOfJson);
    ig.set("soft", Behavior::SoftNotFound);
    ig.set("reset", Behavior::ResetConnection);
    ig.set("hang", Behavior::Hang);
    ig.set(
        "slow",
        Behavior::Slow(
            Duration::from_millis(250),
            Box::new(Behavior::Exists { private: false }),
        ),
    );

    let r = web(&c, &ig, "trunc").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    let r = web(&c, &ig, "html").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let v: Value = web(&c, &ig, "soft").await.unwrap().json().await.unwrap();
    assert!(v.get("data").is_none());

    let err = web(&c, &ig, "reset").await.expect_err("connection reset");
    assert!(is_reset(&err), "{err:?}");

    let hung = tokio::time::timeout(Duration::from_millis(300), web(&c, &ig, "hang")).await;
    assert!(hung.is_err(), "a hanging answer must not arrive");

    let t = Instant::now();
    assert_eq!(web(&c, &ig, "slow").await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(250));

    // The server still works after a reset and a hang.
    assert_eq!(web(&c, &ig, "x").await.unwrap().status(), 404);
}

#[tokio::test]
async fn instagram_sequences_concurrency_latency() {
    let ig = FakeInstagram::start();
    let c = client();
    ig.set_sequence(
        "seq",
        vec![
            Behavior::RateLimited,
            Behavior::NotFound,
            Behavior::Exists { private: false },
        ],
    );
    // A request refused for its headers does not consume the script.
    let r = c
        .get(format!(
            "{}/api/v1/users/web_profile_info/?username=seq",
            ig.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(web(&c, &ig, "seq").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [429, 404, 200, 200]);
    assert_eq!(ig.max_concurrency(), 1);

    ig.reset_counters();
    assert!(ig.requests().is_empty());
    assert_eq!(ig.max_concurrency(), 0);

    ig.set_latency(Duration::from_millis(300));
    let t = Instant::now();
    let calls = (0..5).map(|_| web(&c, &ig, "seq"));
    let answers = futures_util::future::join_all(calls).await;
    assert!(answers.iter().all(|r| r.as_ref().unwrap().status() == 200));
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(
        t.elapsed() < Duration::from_millis(1400),
        "served concurrently"
    );
    assert_eq!(ig.max_concurrency(), 5);
    assert_eq!(ig.count("seq"), 5);
    let (status, _, _) = page(&c, &format!("{}/favicon.ico", ig.url())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn instagram_rapidapi() {
    let ig = FakeInstagram::start();
    let c = client();
    ig.set("alice", Behavior::Exists { private: true });
    ig.set("quota", Behavior::Quota);
    ig.set("burst", Behavior::RateLimited);

    let r = rapid(&c, &ig, "alice", "key-1").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v[0]["username"], "alice");
    assert_eq!(v[0]["is_private"], true);
    assert!(v[0]["follower_count"].is_u64());
    let v: Value = rapid(&c, &ig, "ghost", "key-1").await.json().await.unwrap();
    assert_eq!(v, json!([]));
    let r = rapid(&c, &ig, "quota", "key-1").await;
    assert_eq!(r.status(), 429);
    let msg = r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("exceeded the DAILY quota"), "{msg}");
    let r = rapid(&c, &ig, "burst", "key-1").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));

    ig.set_rapidapi_keys_quota("key-2", 1);
    assert_eq!(rapid(&c, &ig, "alice", "key-2").await.status(), 200);
    assert_eq!(rapid(&c, &ig, "alice", "key-2").await.status(), 429);
    assert_eq!(rapid(&c, &ig, "alice", "key-1").await.status(), 200);

    let r = c
        .get(format!("{}/ig_profile?ig=alice", ig.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no key");

    let keys: Vec<_> = ig
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::RapidApi)
        .map(|r| r.key)
        .collect();
    assert_eq!(keys.len(), 8);
    assert_eq!(keys[4].as_deref(), Some("key-2"));
    assert_eq!(keys[7], None);
}

#[tokio::test]
async fn instagram_pages() {
    let ig = FakeInstagram::start();
    let c = client();
    let base = ig.url();
    ig.set("alice", Behavior::Exists { private: false });
    ig.set("bob", Behavior::Exists { private: true });
    ig.set("wall", Behavior::LoginWall);
    ig.set("flag", Behavior::Challenge);
    ig.set("pause", Behavior::PleaseWait);

    let (status, _, body) = page(&c, &format!("{base}/alice/")).await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Alice (@alice) • Instagram photos and videos</title>"));
    assert!(body.contains(&format!(
        "<meta property=\"og:url\" content=\"{base}/alice/\">"
    )));
    assert!(body.contains("class=\"pic\"") && body.contains("background:"));
    assert!(!body.contains("This account is private"));
    let (_, _, body) = page(&c, &format!("{base}/bob/")).await;
    assert!(body.contains("This account is private"));

    let (status, _, body) = page(&c, &format!("{base}/ghost/")).await;
    assert_eq!(status, 404);
    assert!(body.contains("<title>Page not found • Instagram</title>"));
    assert!(body.contains("Sorry, this page isn&#39;t available."));
    assert!(
        body.contains("The link you followed may be broken, or the page may have been removed.")
    );

    let (status, location, _) = page(&c, &format!("{base}/wall/")).await;
    assert_eq!(status, 302);
    let location = location.expect("redirect");
    assert!(location.starts_with("/accounts/login/?next="), "{location}");
    let (status, _, body) = page(&c, &format!("{base}{location}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Login • Instagram</title>") && body.contains("loginForm"));

    let (status, location, _) = page(&c, &format!("{base}/flag/")).await;
    assert_eq!(
        (status.as_u16(), location.as_deref()),
        (302, Some("/challenge/"))
    );
    let (_, _, body) = page(&c, &format!("{base}/pause/")).await;
    assert!(body.contains("Please wait a few minutes"));
    let (status, location, _) = page(&c, &format!("{base}/alice")).await;
    assert_eq!(
        (status.as_u16(), location.as_deref()),
        (301, Some("/alice/"))
    );
    let (status, _, body) = page(&c, &format!("{base}/")).await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>Instagram</title>"));

    let pages = ig
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Page)
        .count();
    assert_eq!(pages, 9);
    assert_eq!(ig.count("alice"), 2);
}

// ---------------------------------------------------------------------------------------------
// Bot API

fn method_url(bot: &FakeBotApi, method: &str) -> String {
    format!("{}/bot{}/{method}", bot.url(), bot.token())
}

async fn call(c: &Client, bot: &FakeBotApi, method: &str, body: Value) -> (u16, Value) {
    let r = c
        .post(method_url(bot, method))
        .json(&body)
        .send()
        .await
        .expect("bot api answer");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn multipart_body(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "fakeboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file_name, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PNG header claiming 640x480 (enough for the fake's dimension check).
fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&640u32.to_be_bytes());
    v.extend_from_slice(&480u32.to_be_bytes());
    v.extend_from_slice(&[8, 6, 0, 0, 0, 1, 2, 3, 4]);
    v
}

#[tokio::test]
async fn bot_envelope_methods_and_auth() {
    let bot = FakeBotApi::start();
    let c = client();
    assert_eq!(bot.token(), TOKEN);

    let (status, v) = call(&c, &bot, "GetMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(v["ok"], true);
    assert_eq!(v["result"]["is_bot"], true);
    assert!(v["result"]["id"].is_i64() && v["result"]["username"].is_string());
    let r = c.get(method_url(&bot, "getme")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let r = c
        .post(format!("{}/bot1:wrong/getMe", bot.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let (status, v) = call(&c, &bot, "sendCarrierPigeon", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        v,
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );

    // JSON, form and query parameters, and case-insensitive method names (teloxide style).
    let (status, v) = call(
        &c,
        &bot,
        "SendMessage",
        json!({"chat_id": 42, "text": "hi"}),
    )
    .await;
    assert_eq!(status, 200);
    let msg = &v["result"];
    assert_eq!(msg["message_id"], 1);
    assert_eq!(
        msg["chat"],
        json!({"id": 42, "type": "private", "first_name": "Tester", "username": "user42"})
    );
    assert_eq!(msg["from"]["is_bot"], true);
    assert!(msg["date"].is_i64());
    assert_eq!(msg["text"], "hi");
    let r = c
        .post(method_url(&bot, "sendmessage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("chat_id=42&text=form")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["result"]["message_id"], 2);
    let r = c
        .get(method_url(&bot, "sendMessage"))
        .query(&[("chat_id", "-100123"), ("text", "query")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["result"]["chat"]["type"],
        "group"
    );

    // Edits, deletes, callbacks, commands.
    let (status, v) = call(
        &c,
        &bot,
        "editMessageText",
        json!({"chat_id": 42, "message_id": 1, "text": "hi!"}),
    )
    .await;
    assert_eq!((status, v["result"]["text"].clone()), (200, json!("hi!")));
    let (status, v) = call(
        &c,
        &bot,
        "editMessageText",
        json!({"chat_id": 42, "message_id": 1, "text": "hi!"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: message is not modified")
    );
    let (status, _) = call(
        &c,
        &bot,
        "deleteMessage",
        json!({"chat_id": 42, "message_id": 2}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(
        &c,
        &bot,
        "deleteMessage",
        json!({"chat_id": 42, "message_id": 2}),
    )
    .await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: message to delete not found"))
    );
    let (status, v) = call(
        &c,
        &bot,
        "answerCallbackQuery",
        json!({"callback_query_id": "77", "text": "done"}),
    )
    .await;
    assert_eq!((status, v["result"].clone()), (200, json!(true)));
    let (status, _) = call(
        &c,
        &bot,
        "setMyCommands",
        json!({"commands": [{"command": "start", "description": "Start"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(
        &c,
        &bot,
        "setMyCommands",
        json!({"commands": [{"command": "Bad-One", "description": "x"}]}),
    )
    .await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: BOT_COMMAND_INVALID"))
    );

    assert_eq!(bot.calls("setmycommands").len(), 2);
    assert_eq!(bot.calls("answerCallbackQuery")[0].params["text"], "done");
    let sent = bot.sent();
    assert_eq!(sent.len(), 5);
    assert_eq!(bot.delivered().len(), 4);
    assert_eq!(sent[1].text.as_deref(), Some("form"));
    assert_eq!(sent[2].chat_id, -100_123);
    assert_eq!(sent[4].outcome, 400);
}

#[tokio::test]
async fn bot_validation_like_telegram() {
    let bot = FakeBotApi::start();
    let c = client();
    let send = |text: String, mode: Option<&str>| {
        let mut body = json!({"chat_id": 7, "text": text});
        if let Some(m) = mode {
            body["parse_mode"] = json!(m);
        }
        call(&c, &bot, "sendMessage", body)
    };

    let good = "<b>bold</b> <i>it</i> <a href=\"https://x.test/?a=1&amp;b=2\">link</a> \
<code>c</code> <pre><code class=\"language-rust\">fn</code></pre> <span class=\"tg-spoiler\">s</span> \
<blockquote expandable>q</blockquote> 1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;x&quot; &#128512; &#x1F600;";
    let (status, v) = send(good.to_owned(), Some("HTML")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["result"]["text"],
        "bold it link c fn s q 1 < 2 && 3 > 2 \"x\" 😀 😀"
    );

    let bad = [
        ("a <x>b</x>", "Unsupported start tag \"x\" at byte offset 2"),
        ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
        (
            "<b>bold",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "<b><i>x</b></i>",
            "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\"",
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("AT&T", "Unsupported HTML entity at byte offset 2"),
        (
            "<span>x</span>",
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0",
        ),
        ("<b", "Unclosed start tag at byte offset 0"),
    ];
    for (text, error) in bad {
        let (status, v) = send(text.to_owned(), Some("HTML")).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(
            v["description"],
            format!("Bad Request: can't parse entities: {error}"),
            "{text}"
        );
        assert_eq!(v["error_code"], 400);
        assert_eq!(v["ok"], false);
    }
    // The same text without parse mode is fine.
    assert_eq!(send("1 < 2 AT&T <x>".to_owned(), None).await.0, 200);

    let (status, v) = send(String::new(), None).await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: message text is empty"))
    );
    let (status, _) = send("a".repeat(4096), None).await;
    assert_eq!(status, 200);
    let (status, v) = send("a".repeat(4097), None).await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: message is too long"))
    );
    // The limit counts visible text, after entity parsing.
    let (status, _) = send(format!("<b>{}</b>", "a".repeat(4096)), Some("HTML")).await;
    assert_eq!(status, 200);

    let markup = |data: &str| json!({"inline_keyboard": [[{"text": "go", "callback_data": data}]]});
    let (status, _) = call(
        &c,
        &bot,
        "sendMessage",
        json!({"chat_id": 7, "text": "k", "reply_markup": markup(&"d".repeat(64))}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = call(
        &c,
        &bot,
        "sendMessage",
        json!({"chat_id": 7, "text": "k", "reply_markup": markup(&"d".repeat(65))}),
    )
    .await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: BUTTON_DATA_INVALID"))
    );
    let (status, v) = call(
        &c,
        &bot,
        "sendPhoto",
        json!({"chat_id": 7, "photo": "AgACAgIAAxkBAAIBfileid", "caption": "c".repeat(1025)}),
    )
    .await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: message caption is too long"))
    );
    assert_eq!(bot.delivered().len(), 5);
    assert_eq!(
        bot.sent().iter().filter(|m| m.outcome == 400).count(),
        bad.len() + 4
    );
}

#[tokio::test]
async fn bot_multipart_uploads() {
    let bot = FakeBotApi::start();
    let c = client();
    let image = png();
    let markup =
        json!({"inline_keyboard": [[{"text": "ok", "callback_data": "ack:1"}]]}).to_string();

    // A plain browser-style upload.
    let (ct, body) = multipart_body(&[
        ("chat_id", None, b"42"),
        ("caption", None, "<b>@alice</b> is back".as_bytes()),
        ("parse_mode", None, b"HTML"),
        ("reply_markup", None, markup.as_bytes()),
        ("photo", Some("shot.png"), &image),
    ]);
    let r = c
        .post(method_url(&bot, "sendPhoto"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let photo = v["result"]["photo"].as_array().unwrap();
    assert_eq!(photo.len(), 2);
    assert_eq!(
        (photo[1]["width"].clone(), photo[1]["height"].clone()),
        (json!(640), json!(480))
    );
    assert!(photo[1]["file_id"].is_string());
    assert_eq!(v["result"]["caption"], "@alice is back");

    // teloxide style: the field says attach://ID and the file is the part named ID.
    let (ct, body) = multipart_body(&[
        ("chat_id", None, b"42"),
        ("document", None, b"attach://f0"),
        ("f0", Some("report.txt"), b"hello"),
    ]);
    let r = c
        .post(method_url(&bot, "SendDocument"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"]["document"]["file_name"], "report.txt");

    // Garbage bytes are not an image.
    let (ct, body) = multipart_body(&[("chat_id", None, b"42"), ("photo", Some("x.png"), b"nope")]);
    let r = c
        .post(method_url(&bot, "sendPhoto"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let sent = bot.sent();
    assert_eq!(sent[0].method, "sendPhoto");
    assert_eq!(sent[0].photo.as_deref(), Some(image.as_slice()));
    assert_eq!(sent[0].file_name.as_deref(), Some("shot.png"));
    assert_eq!(sent[0].caption.as_deref(), Some("<b>@alice</b> is back"));
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        sent[0].reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"],
        "ack:1"
    );
    assert_eq!(sent[1].method, "sendDocument");
    assert_eq!(sent[1].document.as_deref(), Some(b"hello".as_slice()));
    assert_eq!(sent[2].outcome, 400);
    assert_eq!(
        sent[2].error.as_deref(),
        Some("Bad Request: IMAGE_PROCESS_FAILED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_fault_injection() {
    let bot = FakeBotApi::start();
    let c = client();
    let msg = |chat: i64| json!({"chat_id": chat, "text": "x"});

    bot.inject(Fault::RetryAfter(1), Match::AnySend);
    let (status, v) = call(&c, &bot, "sendMessage", msg(1)).await;
    assert_eq!(status, 429);
    assert_eq!(
        v,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    );
    // Retrying before the deadline is counted and refused again; other chats are unaffected.
    let (status, v) = call(&c, &bot, "sendMessage", msg(1)).await;
    assert_eq!(
        (status, v["parameters"]["retry_after"].clone()),
        (429, json!(1))
    );
    assert_eq!(call(&c, &bot, "sendMessage", msg(2)).await.0, 200);
    assert_eq!(bot.early_retries(), 1);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(call(&c, &bot, "sendMessage", msg(1)).await.0, 200);
    assert_eq!(bot.early_retries(), 1);
    assert_eq!(bot.too_many_requests(), 2);

    bot.block_chat(3);
    let (status, v) = call(&c, &bot, "sendMessage", msg(3)).await;
    assert_eq!(
        (status, v["description"].clone()),
        (403, json!("Forbidden: bot was blocked by the user"))
    );
    bot.unblock_chat(3);
    assert_eq!(call(&c, &bot, "sendMessage", msg(3)).await.0, 200);

    bot.inject(Fault::ChatNotFound, Match::Chat(4));
    bot.inject(Fault::Blocked, Match::Method("SENDPHOTO".to_owned()));
    bot.inject(Fault::ServerError(500), Match::NthSend(9));
    bot.inject(Fault::ServerError(502), Match::AnySend);
    bot.inject(Fault::CantParseEntities, Match::AnySend);
    // Send #7 goes to chat 4; the Method fault waits for a sendPhoto.
    let (status, v) = call(&c, &bot, "sendMessage", msg(4)).await;
    assert_eq!(
        (status, v["description"].clone()),
        (400, json!("Bad Request: chat not found"))
    );
    let (status, v) = call(&c, &bot, "sendMessage", msg(5)).await; // #8: first AnySend fault
    assert_eq!(status, 502);
    assert!(
        v.as_str().unwrap().contains("502 Bad Gateway"),
        "nginx page: {v}"
    );
    let (status, v) = call(&c, &bot, "sendMessage", msg(5)).await; // #9
    assert_eq!(
        (status, v["description"].clone()),
        (500, json!("Internal Server Error"))
    );
    let (status, v) = call(&c, &bot, "sendMessage", msg(5)).await;
    assert_eq!(status, 400);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with("Bad Request: can't parse entities: ")
    );
    let (status, _) = call(
        &c,
        &bot,
        "sendPhoto",
        json!({"chat_id": 5, "photo": "file-id"}),
    )
    .await;
    assert_eq!(status, 403);

    bot.inject(Fault::ResetConnection, Match::AnySend);
    let err = c
        .post(method_url(&bot, "sendMessage"))
        .json(&msg(6))
        .send()
        .await
        .expect_err("reset");
    assert!(is_reset(&err), "{err:?}");

    // A hang delays the answer but the message is still delivered.
    bot.inject(Fault::Hang(Duration::from_millis(600)), Match::Chat(8));
    let (c2, url) = (c.clone(), method_url(&bot, "sendMessage"));
    let timed_out = tokio::time::timeout(
        Duration::from_millis(150),
        c2.post(url).json(&msg(8)).send(),
    )
    .await;
    assert!(timed_out.is_err());
    let delivered_late = bot
        .wait_for_async(
            |b| b.delivered().iter().any(|m| m.chat_id == 8),
            Duration::from_secs(3),
        )
        .await;
    assert!(delivered_late);

    let sent = bot.sent();
    let reset = sent.iter().find(|m| m.chat_id == 6).unwrap();
    assert_eq!(reset.outcome, 0);
    assert!(
        sent.iter()
            .all(|m| m.at.elapsed() < Duration::from_secs(30))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_flood_control() {
    let bot = FakeBotApi::start();
    let c = client();
    bot.enforce_limits(true);
    assert_eq!(
        call(&c, &bot, "sendMessage", json!({"chat_id": 1, "text": "a"}))
            .await
            .0,
        200
    );
    let (status, v) = call(&c, &bot, "sendMessage", json!({"chat_id": 1, "text": "b"})).await;
    assert_eq!(status, 429);
    assert_eq!(v["parameters"]["retry_after"], 1);
    // Different chats are limited only by the overall 30/s.
    let mut statuses = Vec::new();
    for chat in 100..135 {
        statuses.push(
            call(
                &c,
                &bot,
                "sendMessage",
                json!({"chat_id": chat, "text": "c"}),
            )
            .await
            .0,
        );
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!((28..=30).contains(&ok), "{ok} accepted within a second");
    assert_eq!(bot.too_many_requests(), 1 + statuses.len() - ok);

    // The blocking helper, from a thread of its own.
    let done = tokio::task::spawn_blocking(move || {
        let ok = bot.wait_for(|b| b.delivered().len() > ok, Duration::from_secs(1));
        let timeout = !bot.wait_for(|b| b.delivered().len() > 100, Duration::from_millis(50));
        ok && timeout
    });
    assert!(done.await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_long_polling_and_conflicts() {
    let bot = FakeBotApi::start();
    let c = client();
    let poll = |offset: i64, timeout: u64| {
        let c = c.clone();
        let url = method_url(&bot, "getUpdates");
        async move {
            let r = c
                .post(url)
                .json(&json!({"offset": offset, "timeout": timeout, "allowed_updates": ["message", "callback_query"]}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    // Short poll: nothing yet.
    assert_eq!(poll(0, 0).await.1, json!({"ok": true, "result": []}));

    // A long poll returns as soon as an update arrives.
    let t = Instant::now();
    let pending = tokio::spawn(poll(0, 10));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = bot.push_update(json!({"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": false, "first_name": "U"}, "text": "/start"}}));
    let (status, v) = pending.await.unwrap();
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(v["result"][0]["update_id"], id);
    assert_eq!(v["result"][0]["message"]["text"], "/start");

    // Unconfirmed updates come back; a higher offset confirms them.
    assert_eq!(poll(0, 0).await.1["result"].as_array().unwrap().len(), 1);
    assert_eq!(poll(id + 1, 0).await.1["result"], json!([]));
    assert_eq!(poll(0, 0).await.1["result"], json!([]));

    // An empty long poll lasts its timeout.
    let t = Instant::now();
    assert_eq!(poll(id + 1, 1).await.1["result"], json!([]));
    assert!(t.elapsed() >= Duration::from_millis(950));

    // A second poller terminates the first one.
    let first = tokio::spawn(poll(id + 1, 10));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = tokio::spawn(poll(id + 1, 1));
    let (status, v) = first.await.unwrap();
    assert_eq!(status, 409);
    assert_eq!(
        v,
        json!({"ok": false, "error_code": 409, "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})
    );
    assert_eq!(second.await.unwrap().0, 200);

    // An active webhook forbids getUpdates until deleteWebhook.
    bot.set_webhook_active(true);
    let (status, v) = poll(0, 0).await;
    assert_eq!(status, 409);
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("webhook is active")
    );
    let (status, v) = call(
        &c,
        &bot,
        "deleteWebhook",
        json!({"drop_pending_updates": false}),
    )
    .await;
    assert_eq!((status, v["result"].clone()), (200, json!(true)));
    assert_eq!(poll(0, 0).await.0, 200);
    let polls = bot.calls("getUpdates");
    assert_eq!(polls.len(), 10);
    assert_eq!(polls.iter().filter(|p| p.outcome == 409).count(), 2);
    assert!(polls.windows(2).all(|w| w[0].at <= w[1].at));
}
