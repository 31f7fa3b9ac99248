//! Recording probe verdicts: history, last-probe fields and the state change with its alert,
//! all in one transaction.

use super::accounts::Account;
use super::models::{AccountRow, NewProbe, encode_sources};
use super::outbox::insert_notice_with_photo;
use super::schema::{accounts, probes, users};
use super::{Store, StoreError, ts};
use crate::domain::{
    AccountId, AccountState, Notice, ProbeEffect, Source, UserId, Verdict, apply_verdict,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One verdict for one username, applied to every account watching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRecord {
    pub accounts: Vec<AccountId>,
    pub verdict: Verdict,
    /// The signals that produced the verdict, in order (the last one decided).
    pub sources: Vec<Source>,
    /// Name of the detection rule that decided, when known.
    pub rule: Option<String>,
    pub at: DateTime<Utc>,
    /// Consecutive `Exists` needed to restore (config `confirmations`).
    pub confirmations_required: u32,
    /// Proof screenshot (PNG) of the live profile, sent with a restore alert.
    pub proof: Option<Vec<u8>>,
}

/// What recording a probe did to one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub account: AccountId,
    pub owner: UserId,
    pub effect: ProbeEffect,
}

impl Store {
    /// Records `rec` for each of its accounts (ids that no longer exist are skipped) in ONE
    /// immediate transaction: a history row (trimmed to the configured bound), the last-probe
    /// fields, and the effect decided by [`apply_verdict`]; a restore also queues a
    /// [`Notice::Restored`] for an active owner in the same transaction.
    pub fn record_probe(&self, rec: &ProbeRecord) -> Result<Vec<Transition>, StoreError> {
        let keep = self.history_kept();
        self.write(|conn| record(conn, rec, keep))
    }

    /// [`Store::record_probe`] for many verdicts in ONE immediate transaction (a cycle's
    /// verdicts arrive faster than one commit each). When one of them fails, that transaction
    /// is rolled back and each record is written again in a transaction of its own, so a
    /// failure costs only its own verdict; the answer holds each record's result in order.
    pub fn record_probes(&self, recs: &[ProbeRecord]) -> Vec<Result<Vec<Transition>, StoreError>> {
        let keep = self.history_kept();
        let together = self.write(|conn| {
            recs.iter()
                .map(|rec| record(conn, rec, keep))
                .collect::<Result<Vec<_>, _>>()
        });
        match together {
            Ok(all) => all.into_iter().map(Ok).collect(),
            Err(_) => recs.iter().map(|rec| self.record_probe(rec)).collect(),
        }
    }

    fn history_kept(&self) -> i64 {
        i64::from(self.history_per_account.max(1))
    }
}

/// Applies one record inside the caller's transaction.
fn record(
    conn: &mut SqliteConnection,
    rec: &ProbeRecord,
    keep: i64,
) -> Result<Vec<Transition>, StoreError> {
    let at = ts(rec.at);
    let verdict = rec.verdict.kind();
    let reason = rec.verdict.reason().map(|r| r.as_str());
    let sources = encode_sources(&rec.sources);
    let last_source = rec.sources.last().map(|s| s.as_str());
    let required = i32::try_from(rec.confirmations_required).unwrap_or(i32::MAX);
    let mut transitions = Vec::with_capacity(rec.accounts.len());
    for &id in &rec.accounts {
        let found: Option<(AccountRow, bool)> = accounts::table
            .inner_join(users::table)
            .filter(accounts::id.eq(id.0))
            .select((AccountRow::as_select(), users::active))
            .first(conn)
            .optional()?;
        let Some((row, owner_active)) = found else {
            continue;
        };
        let account = Account::try_from(row)?;

        diesel::insert_into(probes::table)
            .values(NewProbe {
                account_id: id.0,
                at,
                verdict,
                reason,
                source: &sources,
                rule: rec.rule.as_deref(),
            })
            .execute(conn)?;
        // The newest `keep` rows stay; `cutoff` is the newest row beyond them.
        let cutoff: Option<i64> = probes::table
            .filter(probes::account_id.eq(id.0))
            .order(probes::id.desc())
            .offset(keep)
            .select(probes::id)
            .first(conn)
            .optional()?;
        if let Some(cutoff) = cutoff {
            diesel::delete(
                probes::table
                    .filter(probes::account_id.eq(id.0))
                    .filter(probes::id.le(cutoff)),
            )
            .execute(conn)?;
        }

        let so_far = i32::try_from(account.confirmations).unwrap_or(i32::MAX);
        let effect = apply_verdict(account.state, so_far, required, &rec.verdict);
        let last = (
            accounts::last_probe_at.eq(at),
            accounts::last_verdict.eq(verdict),
            accounts::last_reason.eq(reason),
            accounts::last_source.eq(last_source),
        );
        let target = accounts::table.find(id.0);
        // Only a restore changes the state: the other verdicts leave `state` (a column of two
        // indexes) out of the update, so SQLite does not rewrite those index entries.
        match effect {
            ProbeEffect::Restore => diesel::update(target)
                .set((
                    last,
                    accounts::state.eq(AccountState::Restored.as_str()),
                    accounts::confirmations.eq(i64::from(rec.confirmations_required)),
                    accounts::restored_at.eq(at),
                ))
                .execute(conn)?,
            ProbeEffect::Recorded => diesel::update(target).set(last).execute(conn)?,
            ProbeEffect::Confirming { so_far } => diesel::update(target)
                .set((last, accounts::confirmations.eq(i64::from(so_far))))
                .execute(conn)?,
            ProbeEffect::ResetConfirmations => diesel::update(target)
                .set((last, accounts::confirmations.eq(0i64)))
                .execute(conn)?,
        };

        if effect == ProbeEffect::Restore && owner_active {
            let notice = Notice::Restored {
                account: account.id,
                username: account.username.clone(),
                started_at: account.started_at,
                period_days: account.period_days,
                restored_at: rec.at,
                ends_at: account.ends_at,
                private: rec.verdict.is_private(),
                sources: rec.sources.clone(),
            };
            insert_notice_with_photo(conn, account.owner, &notice, rec.proof.as_deref(), rec.at)?;
        }
        transitions.push(Transition {
            account: account.id,
            owner: account.owner,
            effect,
        });
    }
    Ok(transitions)
}
