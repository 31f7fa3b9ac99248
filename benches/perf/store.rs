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

/// Calls of `due_accounts` whose median is the figure (the first warms the cache).
pub const DUE_RUNS: usize = 15;

pub fn run(accounts: usize, verdicts: usize) -> Result<StoreRun, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(
        &dir.path().join("igwatch.db"),
        Duration::from_secs(5),
        50,
        None,
    )
    .map_err(|e| e.to_string())?;
    crate::setup::seed(&store, accounts)?;
    let now = chrono::Utc::now();
    let mut times = Vec::new();
    let mut due = Vec::new();
    for _ in 0..DUE_RUNS {
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
        due: crate::browser::median(&times),
        due_rows: due.len(),
        verdicts: ids.len(),
        one_by_one,
        batched,
    })
}
