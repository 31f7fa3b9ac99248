//! Diesel row types and their conversion to and from domain types (private to the store).

use super::schema::{accounts, outbox, probes, rapidapi_keys, users};
use super::{StoreError, from_ts};
use crate::domain::{AccountState, Source, UnknownReason, Username};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};
use std::str::FromStr;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) role: String,
    pub(super) active: bool,
    pub(super) language: String,
    pub(super) mode: String,
    pub(super) created_at: i64,
    pub(super) no_session_notified: bool,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(super) struct NewUser<'a> {
    pub(super) id: i64,
    pub(super) role: &'a str,
    pub(super) active: bool,
    pub(super) language: &'a str,
    pub(super) mode: &'a str,
    pub(super) created_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::sqlite::Sqlite))]
pub(super) struct AccountRow {
    pub(super) id: i64,
    pub(super) owner_id: i64,
    pub(super) username: String,
    pub(super) period_days: i64,
    pub(super) started_at: i64,
    pub(super) ends_at: i64,
    pub(super) state: String,
    pub(super) restored_at: Option<i64>,
    pub(super) last_probe_at: Option<i64>,
    pub(super) last_verdict: Option<String>,
    pub(super) last_reason: Option<String>,
    pub(super) last_source: Option<String>,
    pub(super) confirmations: i64,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub(super) struct NewAccount<'a> {
    pub(super) owner_id: i64,
    pub(super) username: &'a str,
    pub(super) period_days: i64,
    pub(super) started_at: i64,
    pub(super) ends_at: i64,
    pub(super) state: &'a str,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = probes, check_for_backend(diesel::sqlite::Sqlite))]
pub(super) struct ProbeDbRow {
    pub(super) at: i64,
    pub(super) verdict: String,
    pub(super) reason: Option<String>,
    pub(super) source: String,
    pub(super) rule: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = probes, treat_none_as_default_value = false)]
pub(super) struct NewProbe<'a> {
    pub(super) account_id: i64,
    pub(super) at: i64,
    pub(super) verdict: &'a str,
    pub(super) reason: Option<&'a str>,
    pub(super) source: &'a str,
    pub(super) rule: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rapidapi_keys, check_for_backend(diesel::sqlite::Sqlite))]
pub(super) struct KeyRow {
    pub(super) id: i64,
    pub(super) owner_id: i64,
    pub(super) key_hint: String,
    pub(super) used_today: i64,
    pub(super) usage_day: String,
    pub(super) exhausted_day: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = rapidapi_keys)]
pub(super) struct NewKey<'a> {
    pub(super) owner_id: i64,
    pub(super) key_enc: &'a [u8],
    pub(super) key_hint: &'a str,
    pub(super) used_today: i64,
    pub(super) usage_day: &'a str,
    pub(super) created_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite))]
pub(super) struct OutboxRow {
    pub(super) id: i64,
    pub(super) chat_id: i64,
    pub(super) payload: String,
    pub(super) attempts: i64,
    pub(super) created_at: i64,
    pub(super) photo: Option<Vec<u8>>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
pub(super) struct NewOutbox<'a> {
    pub(super) chat_id: i64,
    pub(super) kind: &'a str,
    pub(super) payload: &'a str,
    pub(super) account_id: Option<i64>,
    pub(super) attempts: i64,
    pub(super) next_attempt_at: i64,
    pub(super) created_at: i64,
    pub(super) photo: Option<&'a [u8]>,
}

/// Parses a stored text column with the domain type's `FromStr`.
pub(super) fn parse_text<T: FromStr>(column: &str, value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|err| StoreError::CorruptRow(format!("{column} `{value}`: {err}")))
}

/// A stored username: written only after [`Username::parse`], so it is checked, not normalised.
pub(super) fn parse_username(value: &str) -> Result<Username, StoreError> {
    Username::from_canonical(value)
        .map_err(|err| StoreError::CorruptRow(format!("username: {err}")))
}

/// A username column parsed straight from SQLite's buffer, with no `String` in between: the
/// due list of a cycle reads one per account. A corrupt value is kept as the error it is.
#[derive(FromSqlRow)]
pub(super) struct StoredName(pub(super) Result<Username, StoreError>);

impl FromSql<Text, Sqlite> for StoredName {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(StoredName(parse_username(value.read_text())))
    }
}

pub(super) fn parse_state(value: &str) -> Result<AccountState, StoreError> {
    parse_text("account state", value)
}

pub(super) fn parse_reason(value: &str) -> Result<UnknownReason, StoreError> {
    UnknownReason::parse(value)
        .ok_or_else(|| StoreError::CorruptRow(format!("unknown reason `{value}`")))
}

pub(super) fn parse_source(value: &str) -> Result<Source, StoreError> {
    [
        Source::InstagramWeb,
        Source::Rapidapi,
        Source::Browser,
        Source::None,
    ]
    .into_iter()
    .find(|s| s.as_str() == value)
    .ok_or_else(|| StoreError::CorruptRow(format!("source `{value}`")))
}

/// The signals of one probe as stored in `probes.source`: comma-separated, in order.
pub(super) fn encode_sources(sources: &[Source]) -> String {
    sources
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn decode_sources(value: &str) -> Result<Vec<Source>, StoreError> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(parse_source)
        .collect()
}

/// A stored non-negative count back as `u32`.
pub(super) fn count(column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::CorruptRow(format!("{column} {value}")))
}

pub(super) fn opt_ts(
    value: Option<i64>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
    value.map(from_ts).transpose()
}
