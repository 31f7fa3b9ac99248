//! Bad input corpus: one table of hostile or broken inputs through the bot, the CLI, the config
//! file and the cookie/proxy parsers. Each gets a clear answer, stores nothing half-way, and the
//! daemon keeps serving.

use crate::support::botkit::{
    ADMIN, OWNED_TABLES, WAIT, deployment, dump, figure, press, query, ready, say, tail, text_of,
    to,
};
use crate::support::daemon::{Deployment, Running, accounts_json};
use crate::support::fake_bot::FakeBotApi;
use crate::support::fake_instagram::FakeInstagram;
use igwatch::check::check_proxy_host;
use igwatch::domain::{ProxySpec, Username, parse_cookie_json};

const USER: i64 = 8001;

/// Where an input goes in.
#[derive(Clone, Debug)]
enum Via {
    /// `/add NAME` in the bot.
    AddInline(String),
    /// `/add`, then the text as the answer.
    Add(String),
    /// `/bulk`, then the text; only `adds` may be stored.
    Bulk(String, &'static [&'static str]),
    /// A message outside any conversation.
    Message(String),
    /// The admin's interval conversation.
    Interval(&'static str),
    /// A CLI command that must exit 2.
    Cli(Vec<String>),
    /// A config file that `check-config` must reject, naming `.1`.
    Config(&'static str, &'static str),
    /// Cookie export text that must be refused.
    Cookie(String),
    /// A proxy line the parser must refuse.
    Proxy(&'static str),
    /// A proxy that parses but whose address a user may not use.
    PrivateProxy(&'static str),
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn cli(args: &[&str]) -> Via {
    Via::Cli(args.iter().map(|a| (*a).to_owned()).collect())
}

fn cases() -> Vec<(&'static str, Via)> {
    let long31 = "a".repeat(31);
    let big = "x".repeat(50 * 1024);
    let names: Vec<(&str, String)> = vec![
        ("31 characters", long31.clone()),
        ("two dots", s("a..b")),
        ("only dots", s("..")),
        ("leading dot", s(".abc")),
        ("trailing dot", s("abc.")),
        ("script tag", s("<script>alert(1)</script>")),
        ("cyrillic look-alike", s("іnstagram")),
        ("fullwidth look-alike", s("ｉｎｓｔａｇｒａｍ")),
        ("zero-width space", s("insta\u{200b}gram")),
        ("right-to-left override", s("\u{202e}margatsni")),
        ("turkish dotted I", s("İnstagram")),
        ("hyphen", s("bad-name")),
        ("sql", s("x'; DROP TABLE accounts;--")),
        ("emoji", s("🔥fire")),
        ("path traversal", s("../../etc/passwd")),
        (
            "reserved page link",
            s("https://www.instagram.com/explore/"),
        ),
        ("foreign link", s("https://evil.example/name/")),
        ("html entity", s("&amp;name")),
    ];
    let mut cases: Vec<(&'static str, Via)> = Vec::new();
    for (label, name) in &names {
        let label: &'static str = Box::leak(format!("bot /add inline: {label}").into_boxed_str());
        cases.push((label, Via::AddInline(name.clone())));
    }
    for (label, name) in names.iter().take(8) {
        let label: &'static str = Box::leak(format!("bot /add answer: {label}").into_boxed_str());
        cases.push((label, Via::Add(name.clone())));
    }
    cases.extend([
        ("bot /add answer: 50 kB", Via::Add(big.clone())),
        ("bot message: 50 kB", Via::Message(big.clone())),
        (
            "bot message: NUL and controls",
            Via::Message(s("\u{0}\u{7}\u{1b}[31m")),
        ),
        (
            "bot bulk: garbage around two good names",
            Via::Bulk(
                format!("good_one\n<script>\n..\n{long31}\nіnstagram;;;,,,\n\n good.two \n🔥"),
                &["good_one", "good.two"],
            ),
        ),
        (
            "bot bulk: only garbage",
            Via::Bulk(s("..,<b>,@@@,a..b"), &[]),
        ),
        ("bot bulk: 50 kB", Via::Bulk(big.clone(), &[])),
        ("bot interval: 0", Via::Interval("0")),
        ("bot interval: 0s", Via::Interval("0s")),
        ("bot interval: negative", Via::Interval("-5m")),
        ("bot interval: 10 years", Via::Interval("3650d")),
        ("bot interval: words", Via::Interval("soon")),
        (
            "cli accounts add: 31 characters",
            cli(&["accounts", "add", "--owner", "8001", &long31]),
        ),
        (
            "cli accounts add: good + bad",
            cli(&["accounts", "add", "--owner", "8001", "fine_name", "a..b"]),
        ),
        (
            "cli accounts add: look-alike",
            cli(&["accounts", "add", "--owner", "8001", "іnstagram"]),
        ),
        (
            "cli accounts add: script",
            cli(&["accounts", "add", "--owner", "8001", "<script>"]),
        ),
        (
            "cli accounts add: 0 days",
            cli(&[
                "accounts",
                "add",
                "--owner",
                "8001",
                "--days",
                "0",
                "fine_name",
            ]),
        ),
        (
            "cli accounts add: negative days",
            cli(&[
                "accounts",
                "add",
                "--owner",
                "8001",
                "--days",
                "-3",
                "fine_name",
            ]),
        ),
        (
            "cli accounts add: 10 years",
            cli(&[
                "accounts",
                "add",
                "--owner",
                "8001",
                "--days",
                "3650000",
                "fine_name",
            ]),
        ),
        ("cli users add: not a number", cli(&["users", "add", "abc"])),
        (
            "cli users add: bad mode",
            cli(&["users", "add", "8100", "--mode", "telepathy"]),
        ),
        (
            "cli keys add: empty stdin",
            cli(&["keys", "add", "--owner", "8001"]),
        ),
        (
            "config: unknown key",
            Via::Config("[scheduler]\nintervall = \"5m\"\n", "scheduler.intervall"),
        ),
        (
            "config: unknown section",
            Via::Config("[schedular]\ninterval = \"5m\"\n", "schedular"),
        ),
        (
            "config: wrong type",
            Via::Config("[checkers]\ncount = \"three\"\n", "checkers.count"),
        ),
        (
            "config: interval 0",
            Via::Config("[scheduler]\ninterval = \"0s\"\n", "scheduler.interval"),
        ),
        (
            "config: interval negative",
            Via::Config("[scheduler]\ninterval = \"-5m\"\n", "scheduler.interval"),
        ),
        (
            "config: interval 10 years",
            Via::Config("[scheduler]\ninterval = \"3650d\"\n", "scheduler.interval"),
        ),
        (
            "config: interval a number",
            Via::Config("[scheduler]\ninterval = 300\n", "scheduler.interval"),
        ),
        (
            "config: not TOML",
            Via::Config("[scheduler\ninterval = ", ""),
        ),
        (
            "config: bad admin ids",
            Via::Config("[telegram]\nadmin_ids = \"me\"\n", "telegram.admin_ids"),
        ),
        (
            "cookie: an object",
            Via::Cookie(s(r#"{"name":"sessionid","value":"x"}"#)),
        ),
        (
            "cookie: no sessionid",
            Via::Cookie(s(
                r#"[{"domain":".instagram.com","name":"csrftoken","value":"x"}]"#,
            )),
        ),
        (
            "cookie: not JSON",
            Via::Cookie(s("sessionid=abc; csrftoken=def")),
        ),
        ("cookie: empty array", Via::Cookie(s("[]"))),
        (
            "cookie: other site only",
            Via::Cookie(s(
                r#"[{"domain":".evil.example","name":"sessionid","value":"x"}]"#,
            )),
        ),
        (
            "cookie: value not a string",
            Via::Cookie(s(
                r#"[{"domain":".instagram.com","name":"sessionid","value":5}]"#,
            )),
        ),
        (
            "cookie: empty sessionid",
            Via::Cookie(s(
                r#"[{"domain":".instagram.com","name":"sessionid","value":""}]"#,
            )),
        ),
        ("cookie: 50 kB garbage", Via::Cookie(big.clone())),
        ("proxy: port 0", Via::Proxy("http://1.2.3.4:0")),
        ("proxy: port 70000", Via::Proxy("http://1.2.3.4:70000")),
        ("proxy: port letters", Via::Proxy("1.2.3.4:http")),
        ("proxy: no port", Via::Proxy("http://1.2.3.4")),
        ("proxy: ftp scheme", Via::Proxy("ftp://1.2.3.4:21")),
        ("proxy: file scheme", Via::Proxy("file:///etc/passwd")),
        (
            "proxy: user without password",
            Via::Proxy("http://user@1.2.3.4:8080"),
        ),
        (
            "proxy: path after port",
            Via::Proxy("http://1.2.3.4:8080/admin"),
        ),
        ("proxy: control character", Via::Proxy("1.2.3.4:8080\u{0}")),
        (
            "proxy private: loopback",
            Via::PrivateProxy("127.0.0.1:9515"),
        ),
        (
            "proxy private: 10/8",
            Via::PrivateProxy("http://10.0.0.5:3128"),
        ),
        (
            "proxy private: 192.168/16",
            Via::PrivateProxy("192.168.1.1:8080"),
        ),
        (
            "proxy private: metadata",
            Via::PrivateProxy("http://169.254.169.254:80"),
        ),
        ("proxy private: CGNAT", Via::PrivateProxy("100.64.0.1:1080")),
        (
            "proxy private: IPv6 loopback",
            Via::PrivateProxy("http://[::1]:8080"),
        ),
        (
            "proxy private: IPv4-mapped",
            Via::PrivateProxy("http://[::ffff:127.0.0.1]:8080"),
        ),
        (
            "proxy private: localhost name",
            Via::PrivateProxy("socks5://localhost:1080"),
        ),
        (
            "proxy private: unspecified",
            Via::PrivateProxy("0.0.0.0:8080"),
        ),
    ]);
    cases
}

/// Sends `text` and waits for the reply (returns every new text to `who`).
fn exchange(bot: &FakeBotApi, daemon: &Running, who: i64, text: &str) -> String {
    let n = to(bot, who).len();
    say(bot, who, text);
    assert!(
        bot.wait_for(|b| to(b, who).len() > n, WAIT),
        "no answer to {:?}\n{}",
        text.chars().take(40).collect::<String>(),
        tail(&daemon.log_text(), 30)
    );
    std::thread::sleep(std::time::Duration::from_millis(80));
    to(bot, who)
        .into_iter()
        .skip(n)
        .map(|m| text_of(&m))
        .collect::<Vec<_>>()
        .join(" | ")
}

const ACCEPTED: [&str; 4] = ["Period for", " added", "went wrong", "Interval:"];

fn refused(answer: &str) -> bool {
    !answer.trim().is_empty() && !ACCEPTED.iter().any(|a| answer.contains(a))
}

fn run_cli(dep: &Deployment, args: &[String]) -> (i32, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dep.cli(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sixty_bad_inputs_get_clear_answers_and_store_nothing() {
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    let dep = deployment(&bot, &ig, None, "");
    dep.cli_ok(&[
        "users",
        "add",
        &USER.to_string(),
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
    let daemon = dep.spawn();
    ready(&bot, &daemon);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The settings table also holds the bot's update offset: only the interval is compared.
    let tables: Vec<&str> = OWNED_TABLES.to_vec();
    let interval = || {
        query(
            &dep,
            "SELECT value AS v FROM settings WHERE key = 'scheduler.interval'",
        )
    };

    let cases = cases();
    let mut handled = 0;
    let mut problems = Vec::new();
    let mut by_channel = std::collections::BTreeMap::<&str, usize>::new();
    for (label, via) in &cases {
        let channel = label.split(':').next().unwrap_or("?");
        *by_channel
            .entry(channel.split(' ').next().unwrap_or("?"))
            .or_default() += 1;
        let before = (dump(&dep, &tables), interval());
        let mut allowed_adds: &[&str] = &[];
        let outcome: Result<(), String> = match via {
            Via::AddInline(name) => {
                let a = exchange(&bot, &daemon, USER, &format!("/add {name}"));
                if refused(&a) { Ok(()) } else { Err(a) }
            }
            Via::Add(name) => {
                exchange(&bot, &daemon, USER, "/add");
                let a = exchange(&bot, &daemon, USER, name);
                if refused(&a) { Ok(()) } else { Err(a) }
            }
            Via::Message(text) => {
                let a = exchange(&bot, &daemon, USER, text);
                if refused(&a) { Ok(()) } else { Err(a) }
            }
            Via::Bulk(text, adds) => {
                allowed_adds = adds;
                exchange(&bot, &daemon, USER, "/bulk");
                let mut a = exchange(&bot, &daemon, USER, text);
                // With new names the period is asked first; nothing is stored until it is given.
                if !adds.is_empty() && a.contains(&format!("To add: {}", adds.len())) {
                    a = exchange(&bot, &daemon, USER, "30");
                }
                let reports = a.contains(&format!("Added: {}", adds.len()));
                if reports && !a.contains("went wrong") {
                    Ok(())
                } else {
                    Err(a)
                }
            }
            Via::Interval(text) => {
                let m = to(&bot, ADMIN).len();
                press(&bot, ADMIN, "iv", 1);
                assert!(bot.wait_for(|b| to(b, ADMIN).len() > m, WAIT));
                let a = exchange(&bot, &daemon, ADMIN, text);
                if a.contains("did not understand the interval") {
                    Ok(())
                } else {
                    Err(a)
                }
            }
            Via::Cli(args) => {
                let (code, err) = run_cli(&dep, args);
                if code == 2 && !err.trim().is_empty() {
                    Ok(())
                } else {
                    Err(format!("exit {code}: {err}"))
                }
            }
            Via::Config(toml, key) => {
                let path = dep.dir.path().join("bad.toml");
                std::fs::write(&path, toml).expect("write");
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_igwatch"))
                    .args(["--config", path.to_str().expect("utf-8"), "check-config"])
                    .env_remove("IGWATCH_TELEGRAM_TOKEN")
                    .env_remove("IGWATCH_SECRET_KEY")
                    .output()
                    .expect("run");
                let err = String::from_utf8_lossy(&out.stderr);
                if out.status.code() == Some(2) && err.contains(key) {
                    Ok(())
                } else {
                    Err(format!("exit {:?}: {err}", out.status.code()))
                }
            }
            Via::Cookie(text) => match parse_cookie_json(text) {
                Err(e) if !e.to_string().is_empty() => Ok(()),
                Err(_) => Err("an empty error".into()),
                Ok(c) => Err(format!("accepted {} cookies", c.len())),
            },
            Via::Proxy(line) => match ProxySpec::parse(line) {
                Err(e) if !e.to_string().is_empty() => Ok(()),
                Err(_) => Err("an empty error".into()),
                Ok(p) => Err(format!("accepted {p}")),
            },
            Via::PrivateProxy(line) => match ProxySpec::parse(line) {
                Err(_) => Ok(()),
                Ok(p) => match rt.block_on(check_proxy_host(&p.host, p.port, false)) {
                    Err(e) if !e.to_string().is_empty() => Ok(()),
                    Err(_) => Err("an empty error".into()),
                    Ok(addrs) => Err(format!("allowed {addrs:?}")),
                },
            },
        };
        // Leave any conversation the case opened.
        if matches!(
            via,
            Via::Add(_) | Via::AddInline(_) | Via::Bulk(..) | Via::Message(_)
        ) {
            exchange(&bot, &daemon, USER, "/cancel");
        }
        if matches!(via, Via::Interval(_)) {
            exchange(&bot, &daemon, ADMIN, "/cancel");
        }
        let after = (dump(&dep, &tables), interval());
        let stored_ok = if allowed_adds.is_empty() {
            before == after
        } else {
            let rows = accounts_json(&dep);
            let mine: Vec<String> = rows
                .iter()
                .filter(|r| r["owner"] == USER)
                .filter_map(|r| r["username"].as_str().map(str::to_owned))
                .collect();
            allowed_adds.iter().all(|n| mine.iter().any(|m| m == n))
                && mine.iter().all(|m| Username::parse(m).is_ok())
                && mine.len() == allowed_adds.len()
        };
        match (&outcome, stored_ok) {
            (Ok(()), true) => handled += 1,
            (Err(e), _) => problems.push(format!(
                "{label}: unclear answer: {}",
                e.chars().take(300).collect::<String>()
            )),
            (Ok(()), false) => problems.push(format!("{label}: the database changed")),
        }
        if !allowed_adds.is_empty() {
            // Back to an empty list for the next case.
            let rows = accounts_json(&dep);
            let mut args = vec!["accounts", "remove", "--owner", "8001"];
            let mine: Vec<String> = rows
                .iter()
                .filter(|r| r["owner"] == USER)
                .filter_map(|r| r["username"].as_str().map(str::to_owned))
                .collect();
            args.extend(mine.iter().map(String::as_str));
            if !mine.is_empty() {
                dep.cli_ok(&args);
            }
        }
    }
    // Still serving: a new user's /start is answered.
    let answer = exchange(&bot, &daemon, 8999, "/start");
    assert!(answer.contains("Your account is created"), "{answer}");
    figure("input corpus: bad inputs tried", cases.len());
    figure(
        "input corpus: handled (clear answer, nothing stored)",
        handled,
    );
    figure("input corpus: by channel", format!("{by_channel:?}"));
    figure("input corpus: daemon still serving after", true);
    for p in &problems {
        println!("figure: input corpus: PROBLEM {p}");
    }
    assert!(cases.len() >= 60);
    assert!(problems.is_empty(), "{problems:#?}");
}
