//! Soak: the real daemon at a 1 s interval over 1 000 accounts; RSS, open descriptors, database
//! size and outbox length sampled every 10 s must stay flat after warm-up.
//!
//! Duration from `IGWATCH_SOAK_SECS` (default 120, the CI run). The benchmark run is 1800:
//! `IGWATCH_SOAK_SECS=1800 cargo test --release --test integration soak -- --nocapture`.
//! Tolerance: after the first third (warm-up), the last sample may exceed the first post-warm-up
//! sample by at most 25 % + 8 MiB of RSS, 16 descriptors, 25 % + 4 MiB of database (WAL
//! included); the outbox never holds more than 20 rows, and its mean over the last third of
//! the samples exceeds that of the middle third by at most one row.

use crate::support::botkit::{count, db_path, deployment, figure, tail};
use crate::support::fake_bot::FakeBotApi;
use crate::support::fake_instagram::{Behavior, FakeInstagram};
use std::time::{Duration, Instant};

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

fn db_bytes(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn soak_thousand_accounts_stays_flat() {
    let secs: u64 = std::env::var("IGWATCH_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let bot = FakeBotApi::start();
    let ig = FakeInstagram::start();
    ig.set("instagram", Behavior::Exists { private: false });
    let dep = deployment(&bot, &ig, Some("1s"), "");
    let owners: Vec<i64> = (0..10).map(|i| 9100 + i).collect();
    for o in &owners {
        dep.cli_ok(&[
            "users",
            "add",
            &o.to_string(),
            "--mode",
            "api",
            "--lang",
            "en",
        ]);
    }
    for (i, o) in owners.iter().enumerate() {
        let names: Vec<String> = (0..100).map(|k| format!("soak_{i}_{k:03}")).collect();
        let mut args = vec!["accounts", "add", "--owner"];
        let owner = o.to_string();
        args.push(&owner);
        args.extend(names.iter().map(String::as_str));
        dep.cli_ok(&args);
        // A mix of answers; a few go live over time (restores and alerts keep flowing).
        for (k, n) in names.iter().enumerate() {
            match k % 10 {
                0 => ig.set(n, Behavior::TruncatedJson),
                1 => ig.set(n, Behavior::ServerError(500)),
                _ => {}
            }
        }
    }
    let mut daemon = dep.spawn();
    let pid = daemon.child.id();
    let db = db_path(&dep);
    let start = Instant::now();
    let mut samples: Vec<(u64, u64, u64, u64, i64)> = Vec::new();
    let mut restored = 0;
    println!("figure: soak: t(s)  rss(KiB)  fds  db(bytes)  outbox");
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(10));
        // Two more accounts go live every sample.
        for _ in 0..2 {
            let owner = restored % owners.len();
            let name = format!("soak_{owner}_{:03}", 2 + restored / owners.len());
            ig.set(&name, Behavior::Exists { private: false });
            restored += 1;
        }
        assert!(
            daemon.child.try_wait().ok().flatten().is_none(),
            "the daemon died:\n{}",
            tail(&daemon.log_text(), 40)
        );
        let sample = (
            start.elapsed().as_secs(),
            status_kib(pid, "VmRSS:"),
            fds(pid),
            db_bytes(&db),
            count(&dep, "FROM outbox"),
        );
        println!(
            "figure: soak: {:>4}  {:>8}  {:>3}  {:>9}  {:>6}",
            sample.0, sample.1, sample.2, sample.3, sample.4
        );
        samples.push(sample);
    }
    let log = daemon.log_text();
    let cycles = log.matches(" finished in ").count();
    let (status, _) = daemon.terminate(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "{}", tail(&log, 40));
    assert!(samples.len() >= 3, "too short a soak");
    let warm = samples.len() / 3;
    let base = samples[warm];
    let last = *samples.last().expect("samples");
    let max_outbox = samples.iter().map(|s| s.4).max().unwrap_or(0);
    let slope = |a: u64, b: u64| (b as f64 - a as f64) / ((last.0 - base.0).max(1) as f64 / 60.0);
    figure("soak: duration (s) / cycles", format!("{secs} / {cycles}"));
    figure(
        "soak: RSS after warm-up → end (KiB)",
        format!(
            "{} → {} ({:+.0} KiB/min)",
            base.1,
            last.1,
            slope(base.1, last.1)
        ),
    );
    figure(
        "soak: fds after warm-up → end",
        format!("{} → {}", base.2, last.2),
    );
    figure(
        "soak: db+wal after warm-up → end (bytes)",
        format!(
            "{} → {} ({:+.0} B/min)",
            base.3,
            last.3,
            slope(base.3, last.3)
        ),
    );
    figure("soak: outbox max", max_outbox);
    assert!(
        last.1 <= base.1 + base.1 / 4 + 8 * 1024,
        "RSS grew: {base:?} → {last:?}"
    );
    assert!(
        last.2 <= base.2 + 16,
        "descriptors grew: {base:?} → {last:?}"
    );
    assert!(
        last.3 <= base.3 + base.3 / 4 + 4 * 1024 * 1024,
        "database grew: {base:?} → {last:?}"
    );
    assert!(max_outbox <= 20, "the outbox piles up: {max_outbox}");
    // A backlog that creeps up (digests once came faster than one chat may be written to)
    // shows as a later third fuller than the middle one.
    let mean_outbox = |part: &[(u64, u64, u64, u64, i64)]| {
        part.iter().map(|s| s.4 as f64).sum::<f64>() / part.len().max(1) as f64
    };
    let (middle, late) = (
        mean_outbox(&samples[warm..2 * warm]),
        mean_outbox(&samples[2 * warm..]),
    );
    figure(
        "soak: outbox mean, middle → last third",
        format!("{middle:.1} → {late:.1}"),
    );
    assert!(late <= middle + 1.0, "the outbox creeps up: {samples:?}");
}
