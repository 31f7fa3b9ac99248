//! Users (Telegram operators): registration, activation, roles and once-only notice flags.

use super::models::{NewUser, UserRow, parse_text};
use super::schema::{outbox, users};
use super::{Store, StoreError, from_ts, ts, utc_day};
use crate::domain::{Lang, Mode, Role, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::BTreeSet;

/// A bot user; `id` is also the private chat id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub role: Role,
    pub active: bool,
    pub lang: Lang,
    pub mode: Mode,
    pub created_at: DateTime<Utc>,
    /// The owner has already been told that their mode needs an Instagram session.
    pub no_session_notified: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(row.id),
            role: parse_text("role", &row.role)?,
            active: row.active,
            lang: parse_text("language", &row.language)?,
            mode: parse_text("mode", &row.mode)?,
            created_at: from_ts(row.created_at)?,
            no_session_notified: row.no_session_notified,
        })
    }
}

/// Loads one user inside the caller's connection or transaction.
pub(super) fn load_user(
    conn: &mut SqliteConnection,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// Fails with [`StoreError::UnknownUser`] unless the user exists.
pub(super) fn ensure_user(conn: &mut SqliteConnection, id: UserId) -> Result<(), StoreError> {
    let found: Option<i64> = users::table
        .find(id.0)
        .select(users::id)
        .first(conn)
        .optional()?;
    found.map(|_| ()).ok_or(StoreError::UnknownUser(id))
}

impl Store {
    /// Inserts the user, or updates role, activity, language and mode of an existing one
    /// (`created_at` keeps its first value).
    pub fn upsert_user(
        &self,
        id: UserId,
        role: Role,
        active: bool,
        lang: Lang,
        mode: Mode,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        self.write(|conn| {
            diesel::insert_into(users::table)
                .values(NewUser {
                    id: id.0,
                    role: role.as_str(),
                    active,
                    language: lang.as_str(),
                    mode: mode.as_str(),
                    created_at: ts(now),
                })
                .on_conflict(users::id)
                .do_update()
                .set((
                    users::role.eq(role.as_str()),
                    users::active.eq(active),
                    users::language.eq(lang.as_str()),
                    users::mode.eq(mode.as_str()),
                ))
                .execute(conn)?;
            load_user(conn, id)?.ok_or(StoreError::UnknownUser(id))
        })
    }

    pub fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        load_user(&mut *self.conn()?, id)
    }

    /// All users, by id.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        users::table
            .order(users::id)
            .select(UserRow::as_select())
            .load(&mut self.conn()?)?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// Activates or deactivates a user. Deactivating also drops the chat's pending outbox rows in
    /// the same transaction; returns how many were dropped.
    pub fn set_user_active(&self, id: UserId, active: bool) -> Result<usize, StoreError> {
        self.write(|conn| {
            let updated = diesel::update(users::table.find(id.0))
                .set(users::active.eq(active))
                .execute(conn)?;
            if updated == 0 {
                return Err(StoreError::UnknownUser(id));
            }
            if active {
                return Ok(0);
            }
            Ok(diesel::delete(outbox::table.filter(outbox::chat_id.eq(id.0))).execute(conn)?)
        })
    }

    /// Chats that receive admin messages: active admins of the database plus the configured
    /// admins, deduplicated and sorted.
    pub fn admin_chats(&self, config_admins: &[UserId]) -> Result<Vec<UserId>, StoreError> {
        let stored: Vec<i64> = users::table
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::active.eq(true))
            .select(users::id)
            .load(&mut self.conn()?)?;
        let all: BTreeSet<UserId> = stored
            .into_iter()
            .map(UserId)
            .chain(config_admins.iter().copied())
            .collect();
        Ok(all.into_iter().collect())
    }

    /// Sets the "told about the missing session" flag; `true` only when it was not set yet, so
    /// the caller enqueues that notice once.
    pub fn mark_no_session_notified(&self, owner: UserId) -> Result<bool, StoreError> {
        let changed = diesel::update(
            users::table
                .find(owner.0)
                .filter(users::no_session_notified.eq(false)),
        )
        .set(users::no_session_notified.eq(true))
        .execute(&mut self.conn()?)?;
        Ok(changed == 1)
    }

    /// Clears the flag again (a session was added), so a later loss is reported anew.
    pub fn clear_no_session_notified(&self, owner: UserId) -> Result<(), StoreError> {
        diesel::update(users::table.find(owner.0))
            .set(users::no_session_notified.eq(false))
            .execute(&mut self.conn()?)?;
        Ok(())
    }

    /// Records that the owner was told their RapidAPI keys are exhausted; `true` only for the
    /// first call on a UTC day, so the notice goes out at most once a day.
    pub fn mark_quota_notified(
        &self,
        owner: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let today = utc_day(now);
        let changed = diesel::update(
            users::table.find(owner.0).filter(
                users::quota_notified_on
                    .is_null()
                    .or(users::quota_notified_on.ne(&today)),
            ),
        )
        .set(users::quota_notified_on.eq(&today))
        .execute(&mut self.conn()?)?;
        Ok(changed == 1)
    }
}
