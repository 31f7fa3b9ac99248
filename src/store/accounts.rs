//! Watched accounts: adding, listing, removing, the due list of a cycle and expiry.

use super::models::{
    AccountRow, NewAccount, ProbeDbRow, StoredName, count, decode_sources, opt_ts, parse_reason,
    parse_source, parse_state, parse_text, parse_username,
};
use super::outbox::insert_notice;
use super::schema::{accounts, probes, users};
use super::users::ensure_user;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{
    AccountId, AccountState, Mode, Notice, Source, UnknownReason, UserId, Username,
};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::connection::DefaultLoadingMode;
use diesel::prelude::*;
use std::collections::HashMap;

/// One watched account of one owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub owner: UserId,
    pub username: Username,
    pub period_days: u32,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: AccountState,
    pub restored_at: Option<DateTime<Utc>>,
    pub last_probe_at: Option<DateTime<Utc>>,
    /// [`crate::domain::Verdict::kind`] of the last probe.
    pub last_verdict: Option<String>,
    pub last_reason: Option<UnknownReason>,
    /// The last (deciding) signal of the last probe.
    pub last_source: Option<Source>,
    pub confirmations: u32,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: AccountId(row.id),
            owner: UserId(row.owner_id),
            username: parse_username(&row.username)?,
            period_days: count("period_days", row.period_days)?,
            started_at: from_ts(row.started_at)?,
            ends_at: from_ts(row.ends_at)?,
            state: parse_state(&row.state)?,
            restored_at: opt_ts(row.restored_at)?,
            last_probe_at: opt_ts(row.last_probe_at)?,
            last_verdict: row.last_verdict,
            last_reason: row.last_reason.as_deref().map(parse_reason).transpose()?,
            last_source: row.last_source.as_deref().map(parse_source).transpose()?,
            confirmations: count("confirmations", row.confirmations)?,
        })
    }
}

/// Which accounts [`Store::accounts`] lists; `None` means any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub owner: Option<UserId>,
    pub state: Option<AccountState>,
}

/// Outcome of [`Store::add_accounts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddReport {
    pub added: Vec<Username>,
    /// Already watched by this owner (or repeated in the input).
    pub duplicates: Vec<Username>,
}

/// A pending account to probe in this cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAccount {
    pub account: AccountId,
    pub owner: UserId,
    pub username: Username,
    /// The owner's check mode.
    pub mode: Mode,
}

/// One recorded probe of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    pub at: DateTime<Utc>,
    /// [`crate::domain::Verdict::kind`].
    pub verdict: String,
    pub reason: Option<UnknownReason>,
    /// The signals that produced the verdict, in order.
    pub sources: Vec<Source>,
    /// Name of the detection rule that decided, when known.
    pub rule: Option<String>,
}

impl TryFrom<ProbeDbRow> for ProbeRow {
    type Error = StoreError;
    fn try_from(row: ProbeDbRow) -> Result<Self, StoreError> {
        Ok(ProbeRow {
            at: from_ts(row.at)?,
            verdict: row.verdict,
            reason: row.reason.as_deref().map(parse_reason).transpose()?,
            sources: decode_sources(&row.source)?,
            rule: row.rule,
        })
    }
}

impl Store {
    /// Adds `names` for `owner` as pending accounts with a `period_days` promise starting `now`,
    /// in one transaction. Names the owner already watches are reported as duplicates.
    pub fn add_accounts(
        &self,
        owner: UserId,
        names: &[Username],
        period_days: u32,
        now: DateTime<Utc>,
    ) -> Result<AddReport, StoreError> {
        let ends_at = TimeDelta::try_days(i64::from(period_days))
            .and_then(|period| now.checked_add_signed(period))
            .ok_or(StoreError::PeriodOutOfRange(period_days))?;
        self.write(|conn| {
            ensure_user(conn, owner)?;
            let mut report = AddReport::default();
            for name in names {
                let inserted = diesel::insert_into(accounts::table)
                    .values(NewAccount {
                        owner_id: owner.0,
                        username: name.as_str(),
                        period_days: i64::from(period_days),
                        started_at: ts(now),
                        ends_at: ts(ends_at),
                        state: AccountState::Pending.as_str(),
                    })
                    .on_conflict((accounts::owner_id, accounts::username))
                    .do_nothing()
                    .execute(conn)?;
                if inserted == 1 {
                    report.added.push(name.clone());
                } else {
                    report.duplicates.push(name.clone());
                }
            }
            Ok(report)
        })
    }

    /// Accounts matching `filter`, ordered by owner then username.
    pub fn accounts(&self, filter: &AccountFilter) -> Result<Vec<Account>, StoreError> {
        let mut query = accounts::table
            .select(AccountRow::as_select())
            .order((accounts::owner_id, accounts::username))
            .into_boxed();
        if let Some(owner) = filter.owner {
            query = query.filter(accounts::owner_id.eq(owner.0));
        }
        if let Some(state) = filter.state {
            query = query.filter(accounts::state.eq(state.as_str()));
        }
        query
            .load(&mut self.conn()?)?
            .into_iter()
            .map(Account::try_from)
            .collect()
    }

    /// How many accounts are in each state (states without accounts are left out).
    pub fn account_counts(&self) -> Result<Vec<(AccountState, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = accounts::table
            .group_by(accounts::state)
            .select((accounts::state, diesel::dsl::count_star()))
            .load(&mut self.conn()?)?;
        rows.into_iter()
            .map(|(state, n)| {
                let state = state
                    .parse()
                    .map_err(|_| StoreError::CorruptRow(format!("account state `{state}`")))?;
                Ok((state, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Deletes the owner's accounts with these names (history and pending alerts go with them);
    /// returns how many were deleted.
    pub fn remove_accounts(&self, owner: UserId, names: &[Username]) -> Result<usize, StoreError> {
        let names: Vec<&str> = names.iter().map(Username::as_str).collect();
        self.write(|conn| {
            Ok(diesel::delete(
                accounts::table
                    .filter(accounts::owner_id.eq(owner.0))
                    .filter(accounts::username.eq_any(&names)),
            )
            .execute(conn)?)
        })
    }

    /// The latest `limit` probes of an account, newest first.
    pub fn account_history(&self, id: AccountId, limit: u32) -> Result<Vec<ProbeRow>, StoreError> {
        probes::table
            .filter(probes::account_id.eq(id.0))
            .order(probes::id.desc())
            .limit(i64::from(limit))
            .select(ProbeDbRow::as_select())
            .load(&mut self.conn()?)?
            .into_iter()
            .map(ProbeRow::try_from)
            .collect()
    }

    /// Pending accounts of active owners whose period has not ended, by owner then username.
    ///
    /// Read in one snapshot as two queries: the active owners' modes (few rows), then the
    /// accounts from the covering index `accounts_due` alone, without a join per row, each row
    /// turned into a [`DueAccount`] as it is read.
    pub fn due_accounts(&self, now: DateTime<Utc>) -> Result<Vec<DueAccount>, StoreError> {
        self.conn()?.transaction(|conn| {
            let modes: HashMap<i64, Mode> = users::table
                .filter(users::active.eq(true))
                .select((users::id, users::mode))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .map(|(id, mode)| Ok((id, parse_text("mode", &mode)?)))
                .collect::<Result<_, StoreError>>()?;
            let rows = accounts::table
                .filter(accounts::state.eq(AccountState::Pending.as_str()))
                .filter(accounts::ends_at.gt(ts(now)))
                .order((accounts::owner_id, accounts::username))
                .select((accounts::id, accounts::owner_id, accounts::username))
                .load_iter::<(i64, i64, StoredName), DefaultLoadingMode>(conn)?;
            let mut due = Vec::new();
            // Rows come grouped by owner: the mode is looked up once per owner.
            let mut owner_mode: Option<(i64, Option<Mode>)> = None;
            for row in rows {
                let (id, owner, StoredName(username)) = row?;
                let mode = match owner_mode {
                    Some((o, mode)) if o == owner => mode,
                    _ => {
                        let mode = modes.get(&owner).copied();
                        owner_mode = Some((owner, mode));
                        mode
                    }
                };
                if let Some(mode) = mode {
                    due.push(DueAccount {
                        account: AccountId(id),
                        owner: UserId(owner),
                        username: username?,
                        mode,
                    });
                }
            }
            Ok(due)
        })
    }

    /// Marks pending accounts whose period ended by `now` as expired and, in the same
    /// transaction, queues a [`Notice::Expired`] for each active owner. Returns the expired ids.
    pub fn expire_overdue(&self, now: DateTime<Utc>) -> Result<Vec<AccountId>, StoreError> {
        self.write(|conn| {
            let rows: Vec<(AccountRow, bool)> = accounts::table
                .inner_join(users::table)
                .filter(accounts::state.eq(AccountState::Pending.as_str()))
                .filter(accounts::ends_at.le(ts(now)))
                .order(accounts::id)
                .select((AccountRow::as_select(), users::active))
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|(row, _)| row.id).collect();
            diesel::update(accounts::table.filter(accounts::id.eq_any(&ids)))
                .set(accounts::state.eq(AccountState::Expired.as_str()))
                .execute(conn)?;
            for (row, owner_active) in rows {
                let account = Account::try_from(row)?;
                if owner_active {
                    let notice = Notice::Expired {
                        account: account.id,
                        username: account.username,
                        started_at: account.started_at,
                        period_days: account.period_days,
                    };
                    insert_notice(conn, account.owner, &notice, now)?;
                }
            }
            Ok(ids.into_iter().map(AccountId).collect())
        })
    }
}
