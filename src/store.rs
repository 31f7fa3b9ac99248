//! The SQLite store: the only code that touches Diesel. Opens the database, applies the embedded
//! migrations and exposes domain-typed queries; every write is one `BEGIN IMMEDIATE` transaction.
//!
//! Timestamps are stored as INTEGER unix seconds (UTC), calendar days as TEXT `YYYY-MM-DD` (UTC).
//! The store never reads the clock: callers pass `now`.

mod accounts;
mod backup;
mod bot;
mod cycles;
mod keys;
mod models;
mod outbox;
mod probes;
mod proxies;
mod rotate;
mod schema;
mod sessions;
mod users;

#[cfg(test)]
mod tests;

pub use accounts::{Account, AccountFilter, AddReport, DueAccount, ProbeRow};
pub use backup::{BackupError, Inspection};
pub use bot::{
    AccountCard, BotStats, CARD_HISTORY, OFFSET_SETTING, Page, Profile, RemoveReport, UserFilter,
    UserSummary,
};
pub use keys::KeyInfo;
pub use outbox::OutboxItem;
pub use probes::{ProbeRecord, Transition};
pub use proxies::{
    AddProxiesReport, DEFAULT_PROXY_PRIORITY, PROXY_FAIL_LIMIT, PROXY_RETEST_AFTER, ProxyHealth,
    ProxyInfo,
};
pub use rotate::RotateReport;
pub use sessions::SessionInfo;
pub use users::User;

use crate::domain::UserId;
use crate::secret::{SecretCipher, SecretError};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PoolError, PooledConnection};
use diesel::sql_types::Text;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The schema, compiled into the binary and applied by [`Store::open`].
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Connections in the pool: one writer at a time plus a few readers.
const POOL_SIZE: u32 = 4;

/// Page cache of each connection, KiB (a used connection grows to it, an idle one does not).
const CACHE_KIB: u32 = 4096;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to create the database directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to open the database: the path {0} is not valid UTF-8")]
    NonUtf8Path(PathBuf),
    #[error("failed to open the database {path}")]
    Connect {
        path: PathBuf,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("failed to prepare the database connection")]
    Pragma(#[source] diesel::result::Error),
    #[error("failed to apply the database migrations")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("failed to get a database connection")]
    Pool(#[from] PoolError),
    #[error("failed to run a database query")]
    Query(#[from] diesel::result::Error),
    #[error("failed to handle a stored secret")]
    Crypto(#[from] SecretError),
    #[error(
        "failed to handle a secret: no encryption key is configured and secrets are never stored in plaintext"
    )]
    NoCipher,
    #[error("failed to find user {0}")]
    UnknownUser(UserId),
    #[error("failed to read a stored value: {0}")]
    CorruptRow(String),
    #[error("failed to encode a notice")]
    Encode(#[from] serde_json::Error),
    #[error("failed to compute the end of a {0}-day period")]
    PeriodOutOfRange(u32),
}

/// Handle to the database: a small connection pool plus the secret cipher. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    cipher: Option<Arc<SecretCipher>>,
    history_per_account: u32,
    path: Arc<PathBuf>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("history_per_account", &self.history_per_account)
            .field("cipher", &self.cipher.is_some())
            .finish_non_exhaustive()
    }
}

/// Per-connection settings, applied to every pooled connection when it is created.
#[derive(Debug)]
struct ConnectionSetup {
    busy_timeout_ms: u32,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // One statement each, in this order: the busy timeout must be in place first. A page
        // cache of 4 MiB (SQLite's default is 2) holds the whole due index of 100 000 accounts,
        // so a cycle's due query does not read half of it from the file again.
        let pragmas = [
            format!("PRAGMA busy_timeout = {}", self.busy_timeout_ms),
            "PRAGMA synchronous = NORMAL".to_owned(),
            "PRAGMA foreign_keys = ON".to_owned(),
            format!("PRAGMA cache_size = -{CACHE_KIB}"),
        ];
        for pragma in pragmas {
            conn.batch_execute(&pragma)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, switches it to WAL, applies pending
    /// migrations, then builds the connection pool.
    pub fn open(
        path: &Path,
        busy_timeout: Duration,
        history_per_account: u32,
        cipher: Option<SecretCipher>,
    ) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let url = path
            .to_str()
            .ok_or_else(|| StoreError::NonUtf8Path(path.to_path_buf()))?;
        let busy_timeout_ms = u32::try_from(busy_timeout.as_millis())
            .unwrap_or(u32::MAX)
            .min(i32::MAX.unsigned_abs());

        {
            let mut conn =
                SqliteConnection::establish(url).map_err(|source| StoreError::Connect {
                    path: path.to_path_buf(),
                    source,
                })?;
            conn.batch_execute(&format!("PRAGMA busy_timeout = {busy_timeout_ms}"))
                .map_err(StoreError::Pragma)?;
            conn.batch_execute("PRAGMA journal_mode = WAL")
                .map_err(StoreError::Pragma)?;
            conn.run_pending_migrations(MIGRATIONS)
                .map_err(StoreError::Migration)?;
        }

        // A connection to a local file does not go stale, so r2d2's defaults for network
        // databases only cost here: a `SELECT 1` before every use, and every connection
        // closed and opened again after 10 idle minutes and after 30 (the soak saw the
        // daemon's resident set step up by 6.5 MiB when the idle ones were replaced).
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .test_on_check_out(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connection_customizer(Box::new(ConnectionSetup { busy_timeout_ms }))
            .build(ConnectionManager::<SqliteConnection>::new(url))?;
        Ok(Store {
            pool,
            cipher: cipher.map(Arc::new),
            history_per_account,
            path: Arc::new(path.to_path_buf()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Result of `PRAGMA integrity_check` (`ok` when the database is sound).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let rows: Vec<IntegrityRow> =
            diesel::sql_query("PRAGMA integrity_check").load(&mut self.conn()?)?;
        Ok(rows
            .into_iter()
            .map(|r| r.integrity_check)
            .collect::<Vec<_>>()
            .join("\n"))
    }

    fn conn(&self) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction (rolled back when `f` fails).
    fn write<T>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn()?.immediate_transaction(f)
    }

    fn cipher(&self) -> Result<&SecretCipher, StoreError> {
        self.cipher.as_deref().ok_or(StoreError::NoCipher)
    }
}

/// A timestamp as stored.
fn ts(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// A stored timestamp back as a `DateTime`.
fn from_ts(secs: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| StoreError::CorruptRow(format!("timestamp {secs} is out of range")))
}

/// The UTC calendar day of `at`, as stored (`YYYY-MM-DD`).
fn utc_day(at: DateTime<Utc>) -> String {
    at.date_naive().to_string()
}
