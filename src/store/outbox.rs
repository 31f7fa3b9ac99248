//! The outbox: notices written with the state change that caused them, drained by the notifier.

use super::models::{NewOutbox, OutboxRow, count};
use super::schema::{accounts, outbox};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Notice, OutboxId, UserId};
use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;

/// One queued message, due for (re)delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: OutboxId,
    pub chat: UserId,
    pub notice: Notice,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// Proof PNG to send with the notice (restore alerts).
    pub photo: Option<Vec<u8>>,
}

/// Queues `notice` for `chat`, due at `now`, inside the caller's transaction. A notice about an
/// account is linked to it, so deleting the account drops the undelivered notice.
pub(super) fn insert_notice(
    conn: &mut SqliteConnection,
    chat: UserId,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert_notice_with_photo(conn, chat, notice, None, now)
}

/// [`insert_notice`] with a proof image sent along (a restore alert's screenshot).
pub(super) fn insert_notice_with_photo(
    conn: &mut SqliteConnection,
    chat: UserId,
    notice: &Notice,
    photo: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let account = match notice {
        Notice::Restored { account, .. } | Notice::Expired { account, .. } => Some(account.0),
        Notice::NoSession { .. }
        | Notice::SessionRefused { .. }
        | Notice::ProxyDisabled { .. }
        | Notice::CanaryFailed { .. }
        | Notice::QuotaExhausted
        | Notice::Digest { .. }
        | Notice::ExpiringSoon { .. } => None,
    };
    // Link only to an account that still exists: the foreign key would refuse anything else.
    let account_id = match account {
        Some(id) => accounts::table
            .find(id)
            .select(accounts::id)
            .first::<i64>(conn)
            .optional()?,
        None => None,
    };
    let payload = serde_json::to_string(notice)?;
    diesel::insert_into(outbox::table)
        .values(NewOutbox {
            chat_id: chat.0,
            kind: notice.kind(),
            payload: &payload,
            account_id,
            attempts: 0,
            next_attempt_at: ts(now),
            created_at: ts(now),
            photo,
        })
        .execute(conn)?;
    Ok(())
}

impl Store {
    /// Queues notices, all due at `now`, in one transaction.
    pub fn enqueue(
        &self,
        items: &[(UserId, Notice)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(|conn| {
            for (chat, notice) in items {
                insert_notice(conn, *chat, notice, now)?;
            }
            Ok(())
        })
    }

    /// Up to `limit` messages due at `now`, oldest due first. A row whose payload no longer
    /// parses as a [`Notice`] is logged and deleted, so it cannot block the queue.
    pub fn due_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<OutboxRow> = outbox::table
            .filter(outbox::next_attempt_at.le(ts(now)))
            .order((outbox::next_attempt_at, outbox::id))
            .limit(i64::from(limit))
            .select(OutboxRow::as_select())
            .load(&mut conn)?;
        let mut items = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in rows {
            match serde_json::from_str::<Notice>(&row.payload) {
                Ok(notice) => items.push(OutboxItem {
                    id: OutboxId(row.id),
                    chat: UserId(row.chat_id),
                    notice,
                    attempts: count("attempts", row.attempts)?,
                    created_at: from_ts(row.created_at)?,
                    photo: row.photo,
                }),
                Err(err) => {
                    log::error!(
                        "Dropped an unreadable outbox message outbox={} chat={}: {err}.",
                        row.id,
                        row.chat_id
                    );
                    unreadable.push(row.id);
                }
            }
        }
        if !unreadable.is_empty() {
            conn.immediate_transaction(|conn| {
                diesel::delete(outbox::table.filter(outbox::id.eq_any(&unreadable))).execute(conn)
            })?;
        }
        Ok(items)
    }

    /// The message was delivered: delete it.
    pub fn outbox_delivered(&self, id: OutboxId) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::delete(outbox::table.find(id.0)).execute(conn)?;
            Ok(())
        })
    }

    /// Delivery failed: count the attempt, remember the error and try again at `next_attempt_at`.
    pub fn outbox_reschedule(
        &self,
        id: OutboxId,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::update(outbox::table.find(id.0))
                .set((
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::next_attempt_at.eq(ts(next_attempt_at)),
                    outbox::last_error.eq(error),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Drops every queued message for `chat` (e.g. the bot was blocked); returns how many.
    pub fn outbox_drop_chat(&self, chat: UserId) -> Result<usize, StoreError> {
        self.write(|conn| {
            Ok(diesel::delete(outbox::table.filter(outbox::chat_id.eq(chat.0))).execute(conn)?)
        })
    }

    /// Number of queued messages.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let n: i64 = outbox::table
            .select(count_star())
            .first(&mut self.conn()?)?;
        Ok(n.unsigned_abs())
    }

    /// When the earliest queued message is due, if any.
    pub fn next_outbox_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = outbox::table
            .select(diesel::dsl::min(outbox::next_attempt_at))
            .first(&mut self.conn()?)?;
        next.map(from_ts).transpose()
    }
}
