//! RapidAPI keys: stored encrypted, shown only as a hint, rotated under a per-UTC-day limit.

use super::models::{KeyRow, NewKey, count};
use super::schema::rapidapi_keys;
use super::users::ensure_user;
use super::{Store, StoreError, ts, utc_day};
use crate::domain::{KeyId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

/// What may be shown about a key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: KeyId,
    pub owner: UserId,
    /// `abcd…wxyz` for long keys, `…` for short ones.
    pub hint: String,
    /// Requests made with the key on the current UTC day.
    pub used_today: u32,
    /// The provider refused the key for quota on the current UTC day.
    pub exhausted_today: bool,
}

/// The first and last four characters of a key, only when that leaves most of it hidden.
fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 16 {
        return "…".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

impl Store {
    /// Stores a key for `owner`, encrypted. Refused with [`StoreError::NoCipher`] when no
    /// encryption key is configured.
    pub fn add_rapidapi_key(
        &self,
        owner: UserId,
        key: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<KeyId, StoreError> {
        let cipher = self.cipher()?;
        let key = key.expose_secret().trim();
        let blob = cipher.encrypt(key);
        let hint = key_hint(key);
        let today = utc_day(now);
        self.write(|conn| {
            ensure_user(conn, owner)?;
            let id = diesel::insert_into(rapidapi_keys::table)
                .values(NewKey {
                    owner_id: owner.0,
                    key_enc: &blob,
                    key_hint: &hint,
                    used_today: 0,
                    usage_day: &today,
                    created_at: ts(now),
                })
                .returning(rapidapi_keys::id)
                .get_result(conn)?;
            Ok(KeyId(id))
        })
    }

    /// The owner's keys in id order, with usage on the UTC day of `now`.
    pub fn rapidapi_keys(
        &self,
        owner: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyInfo>, StoreError> {
        let today = utc_day(now);
        rapidapi_keys::table
            .filter(rapidapi_keys::owner_id.eq(owner.0))
            .order(rapidapi_keys::id)
            .select(KeyRow::as_select())
            .load(&mut self.conn()?)?
            .into_iter()
            .map(|row| {
                Ok(KeyInfo {
                    id: KeyId(row.id),
                    owner: UserId(row.owner_id),
                    hint: row.key_hint,
                    used_today: if row.usage_day == today {
                        count("used_today", row.used_today)?
                    } else {
                        0
                    },
                    exhausted_today: row.exhausted_day.as_deref() == Some(today.as_str()),
                })
            })
            .collect()
    }

    /// Deletes one of the owner's keys; `false` when the owner has no such key.
    pub fn remove_rapidapi_key(&self, owner: UserId, id: KeyId) -> Result<bool, StoreError> {
        self.write(|conn| {
            let deleted = diesel::delete(
                rapidapi_keys::table
                    .find(id.0)
                    .filter(rapidapi_keys::owner_id.eq(owner.0)),
            )
            .execute(conn)?;
            Ok(deleted == 1)
        })
    }

    /// Takes one request's worth of quota in one transaction: the first usable key (not
    /// exhausted today, under `daily_limit`) of the first owner in `owners` order that has one,
    /// in id order. Counters of a past UTC day reset lazily. `None` when every key is used up.
    pub fn acquire_rapidapi_key(
        &self,
        owners: &[UserId],
        daily_limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<(KeyId, SecretString)>, StoreError> {
        let today = utc_day(now);
        let owner_ids: Vec<i64> = owners.iter().map(|o| o.0).collect();
        self.write(|conn| {
            diesel::update(
                rapidapi_keys::table
                    .filter(rapidapi_keys::owner_id.eq_any(&owner_ids))
                    .filter(rapidapi_keys::usage_day.ne(&today)),
            )
            .set((
                rapidapi_keys::used_today.eq(0),
                rapidapi_keys::usage_day.eq(&today),
            ))
            .execute(conn)?;
            for owner in owners {
                let usable: Option<(i64, Vec<u8>)> = rapidapi_keys::table
                    .filter(rapidapi_keys::owner_id.eq(owner.0))
                    .filter(
                        rapidapi_keys::exhausted_day
                            .is_null()
                            .or(rapidapi_keys::exhausted_day.ne(&today)),
                    )
                    .filter(rapidapi_keys::used_today.lt(i64::from(daily_limit)))
                    .order(rapidapi_keys::id)
                    .select((rapidapi_keys::id, rapidapi_keys::key_enc))
                    .first(conn)
                    .optional()?;
                if let Some((id, blob)) = usable {
                    let key = self.cipher()?.decrypt(&blob)?;
                    diesel::update(rapidapi_keys::table.find(id))
                        .set(rapidapi_keys::used_today.eq(rapidapi_keys::used_today + 1))
                        .execute(conn)?;
                    return Ok(Some((KeyId(id), key)));
                }
            }
            Ok(None)
        })
    }

    /// The provider refused the key for quota: skip it for the rest of the UTC day of `now`.
    pub fn mark_rapidapi_key_exhausted(
        &self,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let today = utc_day(now);
        self.write(|conn| {
            diesel::update(
                rapidapi_keys::table
                    .find(id.0)
                    .filter(rapidapi_keys::usage_day.ne(&today)),
            )
            .set((
                rapidapi_keys::used_today.eq(0),
                rapidapi_keys::usage_day.eq(&today),
            ))
            .execute(conn)?;
            diesel::update(rapidapi_keys::table.find(id.0))
                .set(rapidapi_keys::exhausted_day.eq(&today))
                .execute(conn)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::key_hint;

    #[test]
    fn hints_hide_most_of_the_key() {
        assert_eq!(key_hint("abcd0123456789wxyz"), "abcd…wxyz");
        assert_eq!(key_hint("short"), "…");
        assert_eq!(key_hint(""), "…");
    }
}
