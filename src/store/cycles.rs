//! Check cycles (start, finish with stats and digests) and the key/value settings.

use super::outbox::insert_notice;
use super::schema::{cycles, outbox, settings};
use super::{Store, StoreError, ts};
use crate::domain::{CycleId, CycleStats, Notice, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Cycles kept in the `cycles` table (the newest); older rows are deleted when a cycle ends, so
/// a short interval cannot grow the database without bound.
pub const CYCLES_KEPT: i64 = 2_000;

impl Store {
    /// Records the start of a cycle.
    pub fn begin_cycle(&self, now: DateTime<Utc>) -> Result<CycleId, StoreError> {
        self.write(|conn| {
            let id = diesel::insert_into(cycles::table)
                .values(cycles::started_at.eq(ts(now)))
                .returning(cycles::id)
                .get_result(conn)?;
            Ok(CycleId(id))
        })
    }

    /// Records the end of a cycle with its stats and queues its notices (the admin digests) in
    /// the same transaction.
    pub fn finish_cycle(
        &self,
        id: CycleId,
        stats: &CycleStats,
        notices: &[(UserId, Notice)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let stats_json = serde_json::to_string(stats)?;
        self.write(|conn| {
            diesel::update(cycles::table.find(id.0))
                .set((
                    cycles::finished_at.eq(ts(now)),
                    cycles::stats_json.eq(&stats_json),
                ))
                .execute(conn)?;
            for (chat, notice) in notices {
                if let Notice::Digest { .. } = notice {
                    // A digest still waiting describes an older cycle: the new one replaces it,
                    // so digests cannot pile up when cycles end faster than Telegram takes
                    // messages to one chat (once a second).
                    diesel::delete(
                        outbox::table
                            .filter(outbox::chat_id.eq(chat.0))
                            .filter(outbox::kind.eq(notice.kind())),
                    )
                    .execute(conn)?;
                }
                insert_notice(conn, *chat, notice, now)?;
            }
            diesel::delete(cycles::table.filter(cycles::id.le(id.0 - CYCLES_KEPT)))
                .execute(conn)?;
            Ok(())
        })
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(settings::table
            .find(key)
            .select(settings::value)
            .first(&mut self.conn()?)
            .optional()?)
    }

    /// Removes a setting (absent keys are fine).
    pub fn delete_setting(&self, key: &str) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::delete(settings::table.find(key)).execute(conn)?;
            Ok(())
        })
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(value)))
                .on_conflict(settings::key)
                .do_update()
                .set(settings::value.eq(value))
                .execute(conn)?;
            Ok(())
        })
    }
}
