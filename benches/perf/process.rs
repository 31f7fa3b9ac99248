//! Startup and P3: the real `igwatch run` binary as a child process against the latency fake,
//! read through `/proc/PID/{status,stat}` (the browser is not involved, so nothing to exclude).

use crate::fake_web::LatencyFake;
use crate::setup::{CANARY, Settings, seed, toml};
use crate::support::daemon::poll_until;
use igwatch::app::open_store;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Linux reports CPU time in clock ticks of `USER_HZ`, 100 on every Linux ABI in use.
const TICKS_PER_SECOND: f64 = 100.0;

/// A deployment: config and database in a temp dir, with `n` accounts.
pub struct Deployment {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Deployment {
    pub fn new(n: usize, checkers: usize, fake: &LatencyFake) -> Result<Deployment, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let db = dir.path().join("igwatch.db");
        let url = fake.url();
        let text = toml(&Settings {
            db: &db,
            checkers,
            instagram_url: &url,
            telegram: None,
        });
        let config = igwatch::config::from_toml_str(&text, &|_| None).map_err(|e| e.to_string())?;
        let store = open_store(&config).map_err(|e| e.to_string())?;
        seed(&store, n)?;
        drop(store);
        let path = dir.path().join("igwatch.toml");
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Ok(Deployment { dir, config: path })
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("daemon.log")
    }

    /// `igwatch --config … run`, stderr (the log) to a file.
    pub fn spawn(&self) -> Result<Daemon, String> {
        let log = std::fs::File::create(self.log()).map_err(|e| e.to_string())?;
        let child = Command::new(env!("CARGO_BIN_EXE_igwatch"))
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .current_dir(self.dir.path())
            .env_remove("IGWATCH_TELEGRAM_TOKEN")
            .env_remove("IGWATCH_SECRET_KEY")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("IGWATCH_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("failed to start igwatch: {e}"))?;
        Ok(Daemon {
            child,
            log: self.log(),
        })
    }
}

/// A running daemon; SIGTERM and reaped on drop.
pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM` in KiB.
    pub fn memory(&self) -> Option<(u64, u64)> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// User + system CPU time so far.
    pub fn cpu(&self) -> Option<Duration> {
        let text = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = text.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(Duration::from_secs_f64(
            (utime + stime) as f64 / TICKS_PER_SECOND,
        ))
    }

    /// Threads of the process.
    pub fn threads(&self) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The cycle duration the daemon logged (`Cycle N finished in X ms`), once there is one.
    pub fn logged_cycle(&self) -> Option<Duration> {
        let text = self.log_text();
        let at = text.find(" finished in ")?;
        let ms = text[at + " finished in ".len()..]
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(Duration::from_millis(ms))
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Exec → first request at the fake, `runs` times (fresh process each, same database).
pub fn startup(runs: usize, n: usize) -> Result<Vec<Duration>, String> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let fake = LatencyFake::start(Duration::from_millis(50), CANARY);
        let dep = Deployment::new(n, 3, &fake)?;
        let spawned = Instant::now();
        let mut daemon = dep.spawn()?;
        if !poll_until(Duration::from_secs(10), Duration::from_millis(1), || {
            fake.first_request().is_some() || daemon.exited()
        }) {
            return Err("no probe within 10 s of the start".into());
        }
        let first = fake
            .first_request()
            .ok_or_else(|| format!("igwatch exited: {}", daemon.log_text()))?;
        times.push(first.saturating_duration_since(spawned));
    }
    Ok(times)
}

/// What P3 measured.
pub struct Footprint {
    /// Resident set size after start-up, before the first probe answer.
    pub rss_start_kib: u64,
    /// Highest `VmRSS` sampled during the cycle, and `VmHWM` at its end.
    pub rss_cycle_max_kib: u64,
    pub hwm_kib: u64,
    /// `VmRSS` two seconds after the cycle finished.
    pub rss_idle_kib: u64,
    pub cpu_cycle: Duration,
    pub probes: usize,
    pub cycle: Duration,
    pub threads: u64,
}

impl Footprint {
    pub fn cpu_per_probe(&self) -> Duration {
        self.cpu_cycle / self.probes.max(1) as u32
    }
}

/// Runs one cycle of `n` accounts with `c` checkers in the real binary, sampling its memory
/// every 50 ms and its CPU time at the first request and at the end of the cycle.
pub fn footprint(n: usize, c: usize, latency: Duration) -> Result<Footprint, String> {
    let fake = LatencyFake::start(latency, CANARY);
    let dep = Deployment::new(n, c, &fake)?;
    let mut daemon = dep.spawn()?;
    if !poll_until(Duration::from_secs(10), Duration::from_millis(1), || {
        fake.requests() > 0 || daemon.exited()
    }) || fake.requests() == 0
    {
        return Err(format!("no probe after the start: {}", daemon.log_text()));
    }
    let cpu_start = daemon.cpu().ok_or("no /proc entry")?;
    let (rss_start, _) = daemon.memory().ok_or("no /proc entry")?;
    let mut rss_max = rss_start;
    let mut threads = 0;
    let limit = latency * (n.div_ceil(c) as u32 + 1) * 3 + Duration::from_secs(30);
    let finished = poll_until(limit, Duration::from_millis(50), || {
        if let Some((rss, _)) = daemon.memory() {
            rss_max = rss_max.max(rss);
        }
        threads = threads.max(daemon.threads().unwrap_or(0));
        daemon.logged_cycle().is_some()
    });
    let cycle = daemon
        .logged_cycle()
        .filter(|_| finished)
        .ok_or_else(|| format!("the cycle did not finish: {}", tail(&daemon.log_text())))?;
    let cpu_end = daemon.cpu().ok_or("no /proc entry")?;
    let (_, hwm) = daemon.memory().ok_or("no /proc entry")?;
    std::thread::sleep(Duration::from_secs(2));
    let (rss_idle, _) = daemon.memory().ok_or("no /proc entry")?;
    Ok(Footprint {
        rss_start_kib: rss_start,
        rss_cycle_max_kib: rss_max,
        hwm_kib: hwm,
        rss_idle_kib: rss_idle,
        cpu_cycle: cpu_end.saturating_sub(cpu_start),
        probes: fake.requests(),
        cycle,
        threads,
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}
