//! Operations: the systemd units verify, `igwatch backup` copies a database being written, and
//! `igwatch doctor` against the loopback fakes and a real chromedriver (all ✓) and a broken setup.

use crate::support::chrome::ChromeDriver;
use crate::support::daemon::Deployment;
use crate::support::fake_bot::FakeBotApi;
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use chrono::Utc;
use igwatch::domain::{Lang, Mode, Role, UserId, Username};
use igwatch::secret::SecretCipher;
use igwatch::store::{AccountFilter, Store};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const UNITS: [&str; 2] = ["igwatch.service", "igwatch-chromedriver.service"];
const KEY: [u8; 32] = [42; 32];
const OWNER: i64 = 1001;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("failed to run {cmd:?}: {e}"))
}

fn require_tool(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is missing: install Debian's `systemd` package (apt-get install -y systemd); \
         the systemd units are checked artefacts and CI verifies them"
    );
}

#[test]
fn systemd_units_verify_and_report_their_exposure() {
    require_tool("systemd-analyze");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut copies = Vec::new();
    for unit in UNITS {
        let text = std::fs::read_to_string(repo_file(&format!("systemd/{unit}"))).expect("unit");
        // verify insists that ExecStart= binaries exist: point them at the binary under test.
        let text = text.replace("/usr/local/bin/igwatch", env!("CARGO_BIN_EXE_igwatch"));
        let copy = dir.path().join(unit);
        std::fs::write(&copy, text).expect("write unit copy");
        copies.push(copy);
    }
    assert!(
        Path::new("/usr/bin/chromedriver").exists(),
        "igwatch-chromedriver.service runs /usr/bin/chromedriver: apt-get install -y chromium-driver"
    );
    let out = run(Command::new("systemd-analyze").arg("verify").args(&copies));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("igwatch"),
        "systemd-analyze verify failed:\n{stderr}{}",
        String::from_utf8_lossy(&out.stdout)
    );

    for copy in &copies {
        let out = run(Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(copy));
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().find_map(|l| {
            l.split_once("Overall exposure level for ")?
                .1
                .split_once(": ")
        }) {
            Some((unit, score)) => println!("figure: systemd-analyze security {unit} {score}"),
            None => println!(
                "note: systemd-analyze security could not score {}: {}",
                copy.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }

    // The sysusers snippet creates the user the units run as.
    require_tool("systemd-sysusers");
    let root = tempfile::tempdir().expect("temp root");
    std::fs::create_dir(root.path().join("etc")).expect("etc");
    let out = run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg(repo_file("systemd/igwatch.sysusers")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).expect("passwd");
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("igwatch:") && l.contains(":/var/lib/igwatch:")),
        "{passwd}"
    );
}

fn user(store: &Store, id: i64) {
    store
        .upsert_user(
            UserId(id),
            Role::Admin,
            true,
            Lang::En,
            Mode::Api,
            Utc::now(),
        )
        .expect("add user");
}

#[test]
fn backup_copies_one_moment_while_another_connection_writes() {
    let dep = Deployment::new("");
    let db = dep.dir.path().join("igwatch.db");
    let store = Store::open(&db, Duration::from_secs(5), 50, None).expect("open");
    user(&store, OWNER);

    // Accounts are added three per transaction: a copy of one moment holds a multiple of 3.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut batch = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let names: Vec<Username> = (0..3)
                    .map(|i| Username::parse(&format!("user{batch}_{i}")).expect("username"))
                    .collect();
                store
                    .add_accounts(UserId(OWNER), &names, 30, Utc::now())
                    .expect("add accounts");
                batch += 1;
            }
            batch
        })
    };
    let count = |store: &Store| {
        store
            .accounts(&AccountFilter::default())
            .expect("accounts")
            .len()
    };
    while count(&store) < 30 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = count(&store);
    let copy = dep.dir.path().join("backup.db");
    let out = dep.cli(&["backup", copy.to_str().expect("utf-8")]);
    let after = count(&store);
    stop.store(true, Ordering::SeqCst);
    let batches = writer.join().expect("writer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "backup failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(&copy).expect("copy").len();
    assert!(
        stdout.contains(&format!("{size} bytes")) && stdout.contains("backup.db"),
        "{stdout}"
    );

    let seen = Store::inspect(&copy, Duration::from_secs(5), None)
        .expect("inspect the copy")
        .expect("the copy exists");
    assert_eq!(seen.pending, 0, "the copy's migrations are current");
    let restored = Store::open(&copy, Duration::from_secs(5), 50, None).expect("open the copy");
    assert_eq!(restored.integrity_check().expect("integrity"), "ok");
    let copied = count(&restored);
    assert!(
        copied % 3 == 0 && (before..=after).contains(&copied),
        "the copy holds {copied} accounts; the live database had {before} before and {after} \
         after the backup ({batches} batches written)"
    );

    // Never overwrites: a second backup to the same file is refused and changes nothing.
    let again = dep.cli(&["backup", copy.to_str().expect("utf-8")]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::metadata(&copy).expect("copy").len(), size);
}

/// A deployment whose database holds one encrypted RapidAPI key, with `key` as its secret key.
fn doctor_deployment(extra: &str, key: [u8; 32]) -> Deployment {
    let dep = Deployment::new(extra);
    let store = Store::open(
        &dep.dir.path().join("igwatch.db"),
        Duration::from_secs(5),
        50,
        Some(SecretCipher::new(KEY)),
    )
    .expect("open");
    user(&store, OWNER);
    store
        .add_rapidapi_key(
            UserId(OWNER),
            &SecretString::from("rapidapi-key-0123456789"),
            Utc::now(),
        )
        .expect("add key");
    let key_file = dep.dir.path().join("secret-key");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&key_file, hex).expect("key file");
    let text = std::fs::read_to_string(&dep.config).expect("config");
    let text = format!(
        "{text}\n[secrets]\nkey_file = {:?}\n",
        key_file.display().to_string()
    );
    std::fs::write(&dep.config, text).expect("config");
    dep
}

fn doctor(dep: &Deployment) -> (Option<i32>, Vec<String>) {
    let out = dep.cli(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text.lines().map(str::to_owned).collect())
}

fn line<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}

#[test]
fn doctor_passes_against_the_fakes_and_names_each_broken_part() {
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let bot = FakeBotApi::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let chrome = runtime.block_on(ChromeDriver::start());

    let healthy = doctor_deployment(
        &format!(
            "[telegram]\ntoken = {:?}\napi_url = {:?}\n\n[instagram]\nbase_url = {:?}\n\n\
             [webdriver]\nurls = [{:?}]\n",
            bot.token(),
            bot.url(),
            ig.url(),
            chrome.url().as_str()
        ),
        KEY,
    );
    let (code, lines) = doctor(&healthy);
    assert_eq!(code, Some(0), "{lines:#?}");
    assert!(
        lines.len() >= 6 && lines.iter().all(|l| l.starts_with("✓ ")),
        "{lines:#?}"
    );
    line(&lines, "✓ Configuration: ");
    line(&lines, "✓ Database: ");
    assert!(line(&lines, "✓ Encryption key: ").contains("1 owner(s) checked"));
    assert!(line(&lines, "✓ WebDriver ").contains("session started"));
    assert!(line(&lines, "✓ Telegram: ").contains("the token works"));
    assert!(line(&lines, "✓ Instagram: ").contains("canary @instagram exists"));

    // Broken: wrong token (401), nothing listening on the WebDriver port, the canary reads as
    // not found, and another encryption key than the one the stored key was encrypted with.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    ig.set("instagram", Behavior::NotFound);
    let broken = doctor_deployment(
        &format!(
            "[telegram]\ntoken = \"123456:wrong-token\"\napi_url = {:?}\n\n[instagram]\n\
             base_url = {:?}\n\n[webdriver]\nurls = [\"http://127.0.0.1:{closed}\"]\n",
            bot.url(),
            ig.url()
        ),
        [7; 32],
    );
    let (code, lines) = doctor(&broken);
    assert_eq!(code, Some(1), "{lines:#?}");
    line(&lines, "✓ Configuration: ");
    line(&lines, "✓ Database: ");
    assert!(
        line(&lines, "✗ Encryption key: ").contains("the key does not decrypt stored secrets"),
        "{lines:#?}"
    );
    let webdriver = line(&lines, "✗ WebDriver ");
    assert!(
        webdriver.contains(&format!(
            "chromedriver not reachable at http://127.0.0.1:{closed}/: start igwatch-chromedriver.service"
        )),
        "{webdriver}"
    );
    assert!(
        line(&lines, "✗ Telegram: ").contains("refused the bot token"),
        "{lines:#?}"
    );
    assert!(
        line(&lines, "✗ Instagram: ").contains("canary @instagram"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains("wrong-token")),
        "the token must never be printed"
    );

    // Instagram unreachable: the network reason and the hint, and no rule to name.
    let unreachable = Deployment::new(&format!(
        "[instagram]\nbase_url = \"http://127.0.0.1:{closed}\"\n"
    ));
    let (code, lines) = doctor(&unreachable);
    assert_eq!(code, Some(1), "{lines:#?}");
    assert_eq!(
        line(&lines, "✗ Instagram: "),
        format!(
            "✗ Instagram: canary @instagram at http://127.0.0.1:{closed}/ is unknown (network) — \
             cannot reach http://127.0.0.1:{closed}/: check DNS, the firewall and outbound HTTPS, \
             or instagram.base_url"
        )
    );

    // An invalid configuration: the ✗ line, the problem, exit 2.
    let invalid = Deployment::new("[checkers]\ncount = 0\n");
    let (code, lines) = doctor(&invalid);
    assert_eq!(code, Some(2), "{lines:#?}");
    assert!(line(&lines, "✗ Configuration: ").contains("has problems"));
    assert!(
        lines.iter().any(|l| l.contains("checkers.count")),
        "{lines:#?}"
    );
    drop(chrome);
}

#[test]
fn cli_output_into_a_closed_pipe_ends_quietly() {
    let dep = Deployment::new("");
    // The reading end is closed before the command starts: its first line meets EPIPE, as
    // `igwatch doctor | head -1` does once `head` has exited.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = dep
        .command(&["check-config"])
        .stdout(writer)
        .output()
        .expect("run igwatch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "nothing on stderr, no panic: {stderr}");
}

#[test]
fn accounts_for_an_owner_never_added_say_how_to_add_them() {
    let dep = Deployment::new("");
    let out = dep.cli(&["accounts", "add", "--owner", "424242", "natgeo"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("there is no user 424242: add them with `igwatch users add 424242`"),
        "{stderr}"
    );
    dep.cli_ok(&["users", "add", "424242"]);
    assert!(
        dep.cli_ok(&["accounts", "add", "--owner", "424242", "natgeo"])
            .starts_with("Added 1 account(s) for owner 424242")
    );
}
