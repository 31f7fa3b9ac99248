//! Secrets and authorization: nothing secret at rest in plaintext, in a log line or in a message;
//! key rotation; `Debug` never prints a secret; every command and button for four kinds of actor.

use crate::support::botkit::{
    ADMIN, OWNED_TABLES, SECRET_KEY, WAIT, answered, db_path, deployment, dump, expect, figure,
    press, ready, ready_after, say, tail, text_of, to, users_json,
};
use crate::support::daemon::{Deployment, accounts_json};
use crate::support::fake_bot::FakeBotApi;
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use igwatch::domain::{ProxySpec, UserId, parse_cookie_json};
use igwatch::secret::SecretCipher;
use igwatch::store::Store;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const RAPIDAPI_KEY: &str = "k3yK3yK3y0123456789abcdefSECRETKEY42";
const PROXY_PASSWORD: &str = "pr0xyPa55w0rdSECRET";
const SESSION_ID: &str = "5566778899%3AsEsSiOnSeCrEt%3A27";
/// The key `rotate-key` moves to: 32 bytes of 0x02.
const NEW_KEY: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn cookie_json() -> String {
    format!(
        r#"[{{"domain":".instagram.com","name":"sessionid","value":"{SESSION_ID}","path":"/","httpOnly":true,"secure":true}},
           {{"domain":".instagram.com","name":"csrftoken","value":"csrfSECRETtoken","path":"/"}}]"#
    )
}

/// `igwatch ARGS` with `stdin` and extra environment, like an operator's shell.
fn igwatch(
    dep: &Deployment,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_igwatch"));
    cmd.arg("--config")
        .arg(&dep.config)
        .args(args)
        .current_dir(dep.dir.path())
        .env_remove("IGWATCH_TELEGRAM_TOKEN")
        .env_remove("IGWATCH_SECRET_KEY")
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run igwatch");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every occurrence of every secret in `haystack`, as `(where, secret name)`.
fn find_secrets(place: &str, haystack: &[u8], secrets: &[(&str, &str)], found: &mut Vec<String>) {
    for (name, value) in secrets {
        if haystack.windows(value.len()).any(|w| w == value.as_bytes()) {
            found.push(format!("{name} in {place}"));
        }
    }
}

fn db_files(dep: &Deployment) -> Vec<(String, Vec<u8>)> {
    let db = db_path(dep);
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let path = format!("{}{suffix}", db.display());
            std::fs::read(&path).ok().map(|b| (path, b))
        })
        .collect()
}

fn log_files(dep: &Deployment) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dep.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                out.push((
                    path.display().to_string(),
                    std::fs::read(&path).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

#[test]
fn secrets_stay_encrypted_out_of_logs_and_messages_and_the_key_rotates() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    ig.set("secret.live", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, Some("2s"), "");
    let text = std::fs::read_to_string(&dep.config).unwrap();
    std::fs::write(
        &dep.config,
        text.replace("provider = \"instagram_web\"", "provider = \"rapidapi\""),
    )
    .unwrap();
    let owner = 6001_i64;
    dep.cli_ok(&[
        "users",
        "add",
        &owner.to_string(),
        "--mode",
        "api",
        "--lang",
        "en",
    ]);
    dep.cli_ok(&[
        "users",
        "add",
        &ADMIN.to_string(),
        "--admin",
        "--lang",
        "en",
    ]);
    // The key through the CLI (stdin), the proxy and the session through the store as the
    // bot's settings store them.
    let (code, _, err) = igwatch(
        &dep,
        &["keys", "add", "--owner", &owner.to_string()],
        RAPIDAPI_KEY,
        &[("IGWATCH_SECRET_KEY", SECRET_KEY)],
    );
    assert_eq!(code, 0, "{err}");
    {
        let key: [u8; 32] = [1; 32];
        let store = Store::open(
            &db_path(&dep),
            Duration::from_secs(5),
            10,
            Some(SecretCipher::new(key)),
        )
        .expect("open");
        let spec = ProxySpec::parse(&format!("http://puser:{PROXY_PASSWORD}@203.0.113.9:8080"))
            .expect("proxy");
        store
            .add_proxies(UserId(owner), &[spec], chrono::Utc::now())
            .expect("proxy stored");
        store
            .set_proxy_enabled(
                UserId(owner),
                store.proxies(UserId(owner)).unwrap()[0].id,
                false,
            )
            .expect("disabled: documentation address, never dialled");
        let cookies = parse_cookie_json(&cookie_json()).expect("cookies");
        store
            .add_instagram_session(UserId(owner), "test", &cookies, chrono::Utc::now())
            .expect("session stored");
    }
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        &owner.to_string(),
        "secret.live",
    ]);
    let token = bot.token();
    let secrets = [
        ("bot token", token.as_str()),
        ("RapidAPI key", RAPIDAPI_KEY),
        ("proxy password", PROXY_PASSWORD),
        ("sessionid", SESSION_ID),
        ("encryption key", SECRET_KEY),
    ];

    // A full scenario at debug level: a restore and its alert, the key used against the
    // provider, the settings screens that list keys, the admin's statistics.
    let mut daemon = dep.spawn();
    ready(&bot, &daemon);
    expect(&bot, &daemon, owner, 0, "Restored in");
    assert!(
        ig.requests()
            .iter()
            .any(|r| r.key.as_deref() == Some(RAPIDAPI_KEY)),
        "the stored key was not used"
    );
    say(&bot, owner, "/settings");
    let screen = expect(&bot, &daemon, owner, 0, "Check mode");
    let cb = press(&bot, owner, "k", screen.message_id.unwrap());
    answered(&bot, &cb);
    expect(&bot, &daemon, owner, 0, "requests today");
    say(&bot, owner, "/list");
    say(&bot, ADMIN, "/stats");
    expect(&bot, &daemon, ADMIN, 0, "Statistics");
    std::thread::sleep(Duration::from_secs(1));
    let (status, _) = daemon.terminate(Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()));

    let mut found = Vec::new();
    for (place, bytes) in db_files(&dep) {
        find_secrets(&place, &bytes, &secrets[1..4], &mut found);
    }
    let logs = log_files(&dep);
    assert!(!logs.is_empty());
    for (place, bytes) in &logs {
        find_secrets(place, bytes, &secrets, &mut found);
    }
    let mut messages = 0;
    for m in bot.sent() {
        messages += 1;
        let text = format!("{}{:?}", text_of(&m), m.reply_markup);
        find_secrets("a Telegram message", text.as_bytes(), &secrets, &mut found);
    }
    let log_lines: usize = logs
        .iter()
        .map(|(_, b)| b.split(|c| *c == b'\n').count())
        .sum();
    figure("secrets: log lines searched (debug level)", log_lines);
    figure("secrets: Telegram messages searched", messages);
    figure(
        "secrets: found in the database, logs or messages",
        found.len(),
    );
    assert!(found.is_empty(), "{found:#?}");

    // Rotation: a wrong new key is refused, the real one re-encrypts all three kinds.
    let new_key_file = dep.dir.path().join("new.key");
    std::fs::write(&new_key_file, NEW_KEY).unwrap();
    let before = dump(&dep, &["rapidapi_keys", "proxies", "instagram_sessions"]);
    let (code, _, err) = igwatch(
        &dep,
        &["rotate-key"],
        "not a key",
        &[("IGWATCH_SECRET_KEY", SECRET_KEY)],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = igwatch(
        &dep,
        &[
            "rotate-key",
            "--new-key-file",
            new_key_file.to_str().unwrap(),
        ],
        "",
        &[("IGWATCH_SECRET_KEY", NEW_KEY)],
    );
    assert_ne!(
        code, 0,
        "a key that does not decrypt was accepted as the old one: {err}"
    );
    assert_eq!(
        before,
        dump(&dep, &["rapidapi_keys", "proxies", "instagram_sessions"])
    );
    let (code, out, err) = igwatch(
        &dep,
        &["rotate-key"],
        NEW_KEY,
        &[("IGWATCH_SECRET_KEY", SECRET_KEY)],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Re-encrypted 3 secrets"), "{out}");
    for secret in [RAPIDAPI_KEY, NEW_KEY, SECRET_KEY] {
        assert!(!out.contains(secret) && !err.contains(secret));
    }
    let rotated = Store::open(
        &db_path(&dep),
        Duration::from_secs(5),
        10,
        Some(SecretCipher::new([2; 32])),
    )
    .expect("open with the new key");
    assert!(
        rotated
            .proxy_spec(UserId(owner), rotated.proxies(UserId(owner)).unwrap()[0].id)
            .is_ok()
    );
    // The daemon runs with the new key: it decrypts the key and uses it again.
    std::fs::write(dep.dir.path().join("secret.key"), NEW_KEY).unwrap();
    dep.cli_ok(&[
        "accounts",
        "add",
        "--owner",
        &owner.to_string(),
        "after.rotation",
    ]);
    ig.set("after.rotation", Behavior::Exists { private: false });
    let used_before = ig
        .requests()
        .iter()
        .filter(|r| r.key.as_deref() == Some(RAPIDAPI_KEY))
        .count();
    let menus = bot.calls("setMyCommands").len();
    let mut daemon = dep.spawn();
    ready_after(&bot, &daemon, menus);
    expect(&bot, &daemon, owner, 0, "Username: after.rotation");
    let used_after = ig
        .requests()
        .iter()
        .filter(|r| r.key.as_deref() == Some(RAPIDAPI_KEY))
        .count();
    let (status, _) = daemon.terminate(Duration::from_secs(15));
    assert!(status.is_some());
    assert!(used_after > used_before, "{}", tail(&daemon.log_text(), 40));
    figure(
        "secrets: rotate-key re-encrypted (keys+proxies+sessions)",
        3,
    );
    let mut found = Vec::new();
    for (place, bytes) in db_files(&dep).into_iter().chain(log_files(&dep)) {
        find_secrets(&place, &bytes, &secrets[1..], &mut found);
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn debug_output_of_secret_types_hides_the_secrets() {
    let cipher = SecretCipher::new([0xAB; 32]);
    let spec = ProxySpec::parse(&format!(
        "socks5://alice:{PROXY_PASSWORD}@proxy.example:1080"
    ))
    .unwrap();
    let colon = ProxySpec::parse(&format!("proxy.example:3128:bob:{PROXY_PASSWORD}")).unwrap();
    let cookies = parse_cookie_json(&cookie_json()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k");
    std::fs::write(&key_file, SECRET_KEY).unwrap();
    let toml = dir.path().join("c.toml");
    std::fs::write(
        &toml,
        format!(
            "[telegram]\ntoken = \"123456:TOKENsecretTOKENsecret\"\n[secrets]\nkey_file = {:?}\n",
            key_file.display().to_string()
        ),
    )
    .unwrap();
    let env = |_: &str| None;
    let config = igwatch::config::load(Some(&toml), &env).expect("config");
    let printed = [
        format!("{cipher:?}"),
        format!("{spec:?} {spec}"),
        format!("{colon:?} {colon}"),
        format!("{cookies:?}"),
        format!("{config:?}"),
        format!("{:#?}", config.secrets),
        format!("{:#?}", config.telegram),
    ]
    .join("\n");
    let secrets = [
        PROXY_PASSWORD,
        SESSION_ID,
        "csrfSECRETtoken",
        "TOKENsecretTOKENsecret",
        SECRET_KEY,
        "171, 171",
        "ab, ab",
    ];
    let leaks: Vec<_> = secrets.iter().filter(|s| printed.contains(*s)).collect();
    figure("secrets: values printed by Debug", leaks.len());
    assert!(leaks.is_empty(), "{leaks:?} in\n{printed}");
}

/// Fragments of the bot's refusals (English).
const REFUSALS: [&str; 7] = [
    "no access yet",
    "Administrators only",
    "no longer in your list",
    "out of date",
    "Your account is created",
    "waiting",
    "Unknown command",
];

/// Who presses or writes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Actor {
    Unknown,
    Inactive,
    /// An active user acting on another user's objects.
    Other,
    Admin,
}

/// What the actor must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Refused, and nothing in the owned tables changed.
    Denied,
    /// Served (a reply or an answer that is not a refusal).
    Served,
}

const UNKNOWN: i64 = 7001;
const INACTIVE: i64 = 7002;
const OWNER: i64 = 7003;
const OTHER: i64 = 7004;

#[test]
fn every_command_and_button_is_authorised_for_four_actors() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    let dep = deployment(&bot, &ig, None, "");
    dep.cli_ok(&[
        "users",
        "add",
        &OWNER.to_string(),
        "--mode",
        "api",
        "--lang",
        "en",
    ]);
    dep.cli_ok(&[
        "users",
        "add",
        &OTHER.to_string(),
        "--mode",
        "api",
        "--lang",
        "en",
    ]);
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
        &OWNER.to_string(),
        "owned.one",
        "owned.two",
    ]);
    let (code, _, err) = igwatch(
        &dep,
        &["keys", "add", "--owner", &OWNER.to_string()],
        RAPIDAPI_KEY,
        &[("IGWATCH_SECRET_KEY", SECRET_KEY)],
    );
    assert_eq!(code, 0, "{err}");
    let rows = accounts_json(&dep);
    let acc = rows.iter().find(|r| r["username"] == "owned.one").unwrap()["id"]
        .as_i64()
        .unwrap();
    let key = 1;
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    say(&bot, INACTIVE, "/start");
    expect(&bot, &daemon, INACTIVE, 0, "Your account is created");

    let commands = [
        "/help",
        "/add",
        "/add victim.name",
        "/bulk",
        "/list",
        "/check",
        "/check owned.one",
        "/export",
        "/settings",
        "/cancel",
        "/admin",
        "/users",
        "/stats",
    ];
    let admin_commands = ["/admin", "/users", "/stats"];
    let account_callbacks: Vec<String> = [
        "c:{a}", "d:{a}:7", "d:{a}:-7", "ps:{a}", "rs:{a}", "ck:{a}", "x:{a}", "xy:{a}", "fa:{a}",
    ]
    .iter()
    .map(|t| t.replace("{a}", &acc.to_string()))
    .collect();
    let mut callbacks = account_callbacks.clone();
    callbacks.extend(
        [
            "n", "pd:30", "l:p:0", "l:r:0", "bdy", "cn", "s", "sm:api", "sl:en", "k", "ka",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    callbacks.push(format!("kx:{key}"));
    let admin_callbacks: Vec<String> = [
        "ad",
        "ua:{u}",
        "ur:{u}",
        "us:all:0",
        "us:pen:0",
        "uc:{u}",
        "uq:a:{u}",
        "uq:x:{u}",
        "uy:a:{u}",
        "uy:r:{u}",
        "uy:p:{u}",
        "uy:d:{u}",
        "uy:x:{u}",
        "iv",
        "dm:browser",
        "cf:2",
        "dg:0",
        "st",
        "cy",
        "cyx",
        "rb",
        "rby",
    ]
    .iter()
    .map(|t| t.replace("{u}", &OWNER.to_string()))
    .collect();
    callbacks.extend(admin_callbacks.iter().cloned());

    let mut rows_run = 0;
    let mut denied_changed = Vec::new();
    let mut wrongly_served = Vec::new();
    for actor in [Actor::Unknown, Actor::Inactive, Actor::Other, Actor::Admin] {
        let who = match actor {
            Actor::Unknown => UNKNOWN,
            Actor::Inactive => INACTIVE,
            Actor::Other => OTHER,
            Actor::Admin => ADMIN,
        };
        // Buttons first: an unknown user's first message registers them.
        for data in &callbacks {
            let is_admin_cb = admin_callbacks.contains(data);
            let is_account_cb = account_callbacks.contains(data);
            let expect_ = match actor {
                Actor::Unknown | Actor::Inactive => Expect::Denied,
                Actor::Other if is_admin_cb || is_account_cb || data.starts_with("kx:") => {
                    Expect::Denied
                }
                Actor::Admin if is_account_cb || data.starts_with("kx:") => Expect::Denied,
                _ => Expect::Served,
            };
            // Harmful admin actions are left out of the admin's row: they are served by design.
            if actor == Actor::Admin
                && is_admin_cb
                && (data.starts_with("uy:")
                    || data == "rby"
                    || data.starts_with("ua:")
                    || data.starts_with("ur:")
                    || data.starts_with("dm:")
                    || data.starts_with("cf:")
                    || data.starts_with("dg:"))
            {
                continue;
            }
            let before = dump(&dep, OWNED_TABLES);
            let cb = press(&bot, who, data, 1);
            let toast = answered(&bot, &cb);
            std::thread::sleep(Duration::from_millis(60));
            let after = dump(&dep, OWNED_TABLES);
            rows_run += 1;
            let refused = REFUSALS.iter().any(|t| toast.contains(t));
            match expect_ {
                Expect::Denied => {
                    if before != after {
                        denied_changed.push(format!("{actor:?} {data}: {toast}"));
                    }
                    if !refused {
                        wrongly_served.push(format!("{actor:?} {data}: {toast:?}"));
                    }
                }
                Expect::Served => {
                    if toast.contains("Administrators only") || toast.contains("Access") {
                        wrongly_served.push(format!("{actor:?} {data} refused: {toast:?}"));
                    }
                }
            }
        }
        for command in commands {
            let expect_ = match actor {
                Actor::Unknown | Actor::Inactive => Expect::Denied,
                Actor::Other if admin_commands.contains(&command) => Expect::Denied,
                _ => Expect::Served,
            };
            let users_before = users_json(&dep).len();
            let before = dump(&dep, &OWNED_TABLES[1..]);
            let n = to(&bot, who).len();
            say(&bot, who, command);
            assert!(
                bot.wait_for(|b| to(b, who).len() > n, WAIT),
                "{actor:?} {command}: no answer\n{}",
                tail(&daemon.log_text(), 30)
            );
            std::thread::sleep(Duration::from_millis(60));
            let answer = to(&bot, who)
                .into_iter()
                .skip(n)
                .map(|m| text_of(&m))
                .collect::<Vec<_>>()
                .join(" | ");
            let after = dump(&dep, &OWNED_TABLES[1..]);
            rows_run += 1;
            if expect_ == Expect::Denied {
                // An unknown user is registered (inactive) by their first message, by design.
                let users_after = users_json(&dep).len();
                let grew = users_after - users_before;
                if before != after || (actor != Actor::Unknown && grew != 0) {
                    denied_changed.push(format!("{actor:?} {command}: {answer}"));
                }
                let refused = REFUSALS.iter().any(|t| answer.contains(t));
                if !refused {
                    wrongly_served.push(format!("{actor:?} {command}: {answer:?}"));
                }
            }
            say(&bot, who, "/cancel");
            std::thread::sleep(Duration::from_millis(40));
        }
    }
    let users = users_json(&dep);
    let unknown = users.iter().find(|u| u["id"] == UNKNOWN);
    figure("authorization: rows (actor × command or button)", rows_run);
    figure(
        "authorization: denials that changed the database",
        denied_changed.len(),
    );
    figure(
        "authorization: denials not answered as refusals",
        wrongly_served.len(),
    );
    assert!(denied_changed.is_empty(), "{denied_changed:#?}");
    assert!(wrongly_served.is_empty(), "{wrongly_served:#?}");
    assert_eq!(
        unknown.map(|u| u["active"].clone()),
        Some(serde_json::Value::Bool(false))
    );
    let owned = accounts_json(&dep);
    assert_eq!(owned.iter().filter(|r| r["owner"] == OWNER).count(), 2);
}
