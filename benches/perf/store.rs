//! P5: the store alone: selecting a cycle's due accounts among many, and writing verdicts.

use igwatch::domain::{AccountId, Source, Verdict};
use igwatch::store::{ProbeRecord, Store};
use std::time::{Duration, Instant};

/// What P5 measured.
pub struct StoreRun {
    /// Median of several `due_accounts` calls (warm cache).
    pub due: Duration,
    pub due_rows: usize,
    pub verdicts: usize,
    /// `record_probe` once per verdict: one transaction each (a verdict written alone).
    pub one_by_one: Duration,
    /// `record_probes` with every verdict: one transaction, as the dispatcher writes the
    /// verdicts that arrive while its previous write runs.
    pub batched: Duration,
}

/// Brings a freshly seeded database to the state a daemon's is in between cycles: the
/// write-ahead log checkpointed into the file and the file written back to disk, so the
/// kernel's writeback of 100 000 new rows does not run during the measurement.
fn settle(path: &std::path::Path) -> Result<(), String> {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let url = path.to_str().ok_or("the database path is not UTF-8")?;
    let mut conn = SqliteConnection::establish(url).map_err(|e| e.to_string())?;
    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| e.to_string())
}

/// Calls of `due_accounts` whose median is the figure (the first warms the cache).
pub const DUE_RUNS: usize = 15;

pub fn run(accounts: usize, verdicts: usize) -> Result<StoreRun, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("igwatch.db");
    let store = Store::open(&path, Duration::from_secs(5), 50, None).map_err(|e| e.to_string())?;
    crate::setup::seed(&store, accounts)?;
    settle(&path)?;
    let now = chrono::Utc::now();
    let mut times = Vec::new();
    let mut due = Vec::new();
    for _ in 0..DUE_RUNS {
        // The previous list is dropped before the clock starts: freeing it is not selecting.
        drop(std::mem::take(&mut due));
        let t = Instant::now();
        due = store.due_accounts(now).map_err(|e| e.to_string())?;
        times.push(t.elapsed());
    }
    let record = |id: AccountId| ProbeRecord {
        accounts: vec![id],
        verdict: Verdict::NotFound,
        sources: vec![Source::InstagramWeb],
        rule: Some("status_404".into()),
        at: now,
        confirmations_required: 1,
        proof: None,
    };
    let ids: Vec<AccountId> = due.iter().take(verdicts).map(|a| a.account).collect();
    let t = Instant::now();
    for id in &ids {
        store
            .record_probe(&record(*id))
            .map_err(|e| e.to_string())?;
    }
    let one_by_one = t.elapsed();
    let others: Vec<ProbeRecord> = due
        .iter()
        .skip(verdicts)
        .take(verdicts)
        .map(|a| record(a.account))
        .collect();
    let t = Instant::now();
    for result in store.record_probes(&others) {
        result.map_err(|e| e.to_string())?;
    }
    let batched = t.elapsed();
    Ok(StoreRun {
        due: crate::report::median(&times),
        due_rows: due.len(),
        verdicts: ids.len(),
        one_by_one,
        batched,
    })
}
