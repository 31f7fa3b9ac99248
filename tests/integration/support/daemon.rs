//! Runs the real `igwatch` binary: a config file in a temp dir, CLI commands, and the daemon as a child.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A temp directory holding a config file and the database of one test.
pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Deployment {
    /// Writes `config/igwatch.toml`-style TOML (the database path is filled in).
    pub fn new(toml: &str) -> Deployment {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("igwatch.db");
        let config = dir.path().join("igwatch.toml");
        let text = format!(
            "[database]\npath = {:?}\n\n[logging]\nconfig = {:?}\n\n{toml}",
            db.display().to_string(),
            dir.path().join("no-log4rs.yaml").display().to_string()
        );
        std::fs::write(&config, text).expect("write config");
        Deployment { dir, config }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_igwatch"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("IGWATCH_TELEGRAM_TOKEN")
            .env_remove("IGWATCH_SECRET_KEY")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env("IGWATCH_LOG", "debug");
        cmd
    }

    /// Runs a CLI command to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run igwatch")
    }

    /// Runs a CLI command and insists it succeeds; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "igwatch {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `igwatch run`; its stderr (the log) goes to `daemon.log` in the temp dir.
    pub fn spawn(&self) -> Running {
        let log = self.dir.path().join("daemon.log");
        let file = std::fs::File::create(&log).expect("log file");
        let child = self
            .command(&["run"])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn igwatch run");
        Running { child, log }
    }
}

/// A running daemon; killed on drop if still running.
pub struct Running {
    pub child: Child,
    pub log: PathBuf,
}

impl Running {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `limit` for the exit; returns the status and the time taken.
    pub fn terminate(&mut self, limit: Duration) -> (Option<ExitStatus>, Duration) {
        let pid = self.child.id().to_string();
        let sent = Instant::now();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        while sent.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (Some(status), sent.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (None, sent.elapsed())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `pred` every 50 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, pred: impl FnMut() -> bool) -> bool {
    poll_until(limit, Duration::from_millis(50), pred)
}

/// Polls `pred` every `every` until it holds or `limit` passes.
pub fn poll_until(limit: Duration, every: Duration, mut pred: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if pred() {
            return true;
        }
        std::thread::sleep(every);
    }
    pred()
}

/// Parses `accounts list --json`.
pub fn accounts_json(dep: &Deployment) -> Vec<serde_json::Value> {
    let out = dep.cli_ok(&["accounts", "list", "--json"]);
    serde_json::from_str(&out).expect("accounts list --json is JSON")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A plain HTTP/1.0 GET on loopback: (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The value of one sample line of a Prometheus text exposition, 0 when absent.
pub fn metric(text: &str, sample: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}
