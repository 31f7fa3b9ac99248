//! P1: one check cycle of the real actor system, in-process, against the fixed-latency fake;
//! its wall time is compared with the latency-bound ideal.

use crate::fake_web::{FakeStats, LatencyFake};
use crate::setup::{CANARY, Settings, seed, toml};
use igwatch::actors::messages::GetDispatcherStatus;
use igwatch::app::{Daemon, Hooks, open_store};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one measured cycle gave.
pub struct CycleRun {
    pub n: usize,
    pub c: usize,
    pub latency: Duration,
    /// The dispatcher's own measure (`CycleStats::duration_ms`): `StartCycle` → last verdict
    /// written.
    pub cycle: Duration,
    pub checked: u32,
    pub fake: FakeStats,
}

impl CycleRun {
    /// Probe rounds: the canary alone, then ceil(N / C) rounds of C probes.
    pub fn rounds(&self) -> u64 {
        1 + self.n.div_ceil(self.c) as u64
    }

    /// The latency-bound ideal: every round takes exactly the fake's latency, as measured at
    /// the fake (its `sleep` overshoots the nominal 50 ms by a little, more on a loaded machine;
    /// that is the harness's error, not the daemon's).
    pub fn ideal(&self) -> Duration {
        self.latency.max(self.fake.mean_service) * self.rounds() as u32
    }

    /// The ideal with the nominal latency.
    pub fn nominal_ideal(&self) -> Duration {
        self.latency * self.rounds() as u32
    }

    pub fn ratio(&self) -> f64 {
        self.cycle.as_secs_f64() / self.ideal().as_secs_f64()
    }

    pub fn nominal_ratio(&self) -> f64 {
        self.cycle.as_secs_f64() / self.nominal_ideal().as_secs_f64()
    }

    /// Time lost per round on top of the latency.
    pub fn overhead_per_round(&self) -> Duration {
        self.cycle.saturating_sub(self.ideal()) / self.rounds() as u32
    }
}

/// Seeds `n` accounts, boots the daemon with `c` checkers, waits for the first cycle (it starts
/// at boot) and shuts down.
pub fn run(n: usize, c: usize, latency: Duration) -> Result<CycleRun, String> {
    let fake = LatencyFake::start(latency, CANARY);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = dir.path().join("igwatch.db");
    let url = fake.url();
    let text = toml(&Settings {
        db: &db,
        checkers: c,
        instagram_url: &url,
        telegram: None,
    });
    let config = igwatch::config::from_toml_str(&text, &|_| None).map_err(|e| e.to_string())?;
    let config = Arc::new(config);
    let store = open_store(&config).map_err(|e| e.to_string())?;
    seed(&store, n)?;
    let limit = latency * (n.div_ceil(c) as u32 + 1) * 3 + Duration::from_secs(30);
    let status = actix::System::new().block_on(async move {
        let daemon = Daemon::start(config, store, Hooks::default()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let status = loop {
            let status = daemon
                .dispatcher
                .send(GetDispatcherStatus)
                .await
                .map_err(|e| e.to_string())?;
            if status.cycles_finished >= 1 || started.elapsed() > limit {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        daemon.shutdown(Duration::from_secs(5)).await;
        Ok::<_, String>(status)
    })?;
    let stats = status
        .last_stats
        .ok_or_else(|| format!("no cycle finished within {} s", limit.as_secs()))?;
    Ok(CycleRun {
        n,
        c,
        latency,
        cycle: Duration::from_millis(stats.duration_ms),
        checked: stats.checked,
        fake: fake.stats(),
    })
}

/// The harness's own floor: the mean turnaround the fake sees from `c` blocking clients that
/// send their next request the moment they have read an answer (one thread and keep-alive
/// connection each, `rounds` requests). What the daemon's turnaround adds to this is its own.
pub fn floor(c: usize, rounds: usize, latency: Duration) -> Result<Duration, String> {
    use std::io::{Read, Write};
    let fake = LatencyFake::start(latency, CANARY);
    let addr = fake.url().trim_start_matches("http://").to_owned();
    let clients: Vec<_> = (0..c)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let mut conn = std::net::TcpStream::connect(&addr).map_err(|e| e.to_string())?;
                conn.set_nodelay(true).map_err(|e| e.to_string())?;
                let request = format!(
                    "GET /api/v1/users/web_profile_info/?username=floor{i} HTTP/1.1\r\n\
                     host: {addr}\r\n\r\n"
                );
                let mut answer = [0u8; 512];
                for _ in 0..rounds {
                    conn.write_all(request.as_bytes())
                        .map_err(|e| e.to_string())?;
                    // The fake's 404 has no body: the answer ends with its blank line.
                    let mut got = Vec::new();
                    while !got.ends_with(b"\r\n\r\n") {
                        let n = conn.read(&mut answer).map_err(|e| e.to_string())?;
                        if n == 0 {
                            return Err("the fake closed the connection".into());
                        }
                        got.extend_from_slice(&answer[..n]);
                    }
                }
                Ok(())
            })
        })
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "a floor client panicked".to_string())??;
    }
    Ok(fake.stats().turnaround)
}

/// The floor of the daemon's own HTTP stack: the mean turnaround the fake sees from `c` loops
/// of the checkers' client (`build_client`, same settings) on one current-thread runtime, each
/// sending its next request as soon as the answer is read, with no actor in between.
pub fn client_floor(c: usize, rounds: usize, latency: Duration) -> Result<Duration, String> {
    let fake = LatencyFake::start(latency, CANARY);
    let url = format!("{}/api/v1/users/web_profile_info/", fake.url());
    let config = igwatch::config::Config::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let loops = (0..c).map(|i| {
        let url = url.clone();
        let config = &config;
        async move {
            let client = igwatch::check::build_client(config).map_err(|e| e.to_string())?;
            for _ in 0..rounds {
                client
                    .get(&url)
                    .query(&[("username", format!("floor{i}"))])
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .bytes()
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }
    });
    rt.block_on(futures_util::future::try_join_all(loops))?;
    Ok(fake.stats().turnaround)
}
