//! Online backup (`VACUUM INTO`, verified) and a read-only inspection of a database file, for
//! `igwatch backup` and `igwatch doctor`: neither changes the live database.

use super::{MIGRATIONS, Store, StoreError};
use crate::domain::UserId;
use crate::secret::SecretCipher;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Text};
use diesel::sqlite::Sqlite;
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why `igwatch backup` failed. The destination is removed again on every failure after it was
/// created, so a failed backup never leaves a file that looks like a backup.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("failed to back up: {0} already exists (a backup never overwrites a file)")]
    Exists(PathBuf),
    #[error("failed to create the backup file {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to back up: there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("failed to back up: the path {0} is not valid UTF-8")]
    NonUtf8Path(PathBuf),
    #[error("failed to copy the database into {path}")]
    Copy {
        path: PathBuf,
        #[source]
        source: diesel::result::Error,
    },
    #[error("failed to flush the backup file {path} to disk")]
    Sync {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to verify the backup {path}")]
    Verify {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("failed to back up: the copy {path} fails the integrity check: {report}")]
    Integrity { path: PathBuf, report: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `igwatch doctor` learns from a database file without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Migrations already applied to the file.
    pub applied: usize,
    /// Migrations of this binary not yet applied (`igwatch run` applies them at start).
    pub pending: usize,
    /// Stored RapidAPI keys tried with the configured key: one per owner.
    pub secrets_checked: usize,
    /// Owners whose sampled key did not decrypt (wrong encryption key, or none configured).
    pub secrets_failed: Vec<UserId>,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct SecretRow {
    #[diesel(sql_type = BigInt)]
    owner_id: i64,
    #[diesel(sql_type = Binary)]
    key_enc: Vec<u8>,
}

#[derive(QueryableByName)]
struct IntegrityLine {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

impl Store {
    /// Writes a consistent copy of the live database to `dest` (which must not exist) and
    /// returns its size in bytes. Safe while the daemon runs: `VACUUM INTO` reads one snapshot
    /// (WAL readers do not block writers). The copy is created `0600`, flushed to disk, then
    /// reopened read-only and must pass `PRAGMA integrity_check`.
    pub fn backup(&self, dest: &Path) -> Result<u64, BackupError> {
        let mut conn = self.conn()?;
        backup_with(&mut conn, dest)
    }

    /// [`Store::backup`] of the database file at `src`, read through a read-only connection
    /// instead of an opened `Store`: no migration is applied first, so a backup taken with a
    /// newly installed binary before its first start still holds the old schema.
    pub fn backup_file(
        src: &Path,
        dest: &Path,
        busy_timeout: Duration,
    ) -> Result<u64, BackupError> {
        if !src.exists() {
            return Err(BackupError::NoDatabase(src.to_path_buf()));
        }
        backup_with(&mut read_only(src, busy_timeout)?, dest)
    }

    /// Looks at the database at `path` read-only: migrations applied and pending, and whether
    /// `cipher` decrypts one stored RapidAPI key of each owner. `None` when the file does not
    /// exist (`igwatch run` creates it). Never creates, migrates or writes anything.
    pub fn inspect(
        path: &Path,
        busy_timeout: Duration,
        cipher: Option<&SecretCipher>,
    ) -> Result<Option<Inspection>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let mut conn = read_only(path, busy_timeout)?;
        let known: Vec<String> = MigrationSource::<Sqlite>::migrations(&MIGRATIONS)
            .map_err(StoreError::Migration)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let applied: BTreeSet<String> = if table_exists(&mut conn, "__diesel_schema_migrations")? {
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
                .load::<VersionRow>(&mut conn)?
                .into_iter()
                .map(|r| r.version)
                .collect()
        } else {
            BTreeSet::new()
        };
        let pending = known.iter().filter(|v| !applied.contains(*v)).count();
        let mut inspection = Inspection {
            applied: applied.len(),
            pending,
            secrets_checked: 0,
            secrets_failed: Vec::new(),
        };
        if table_exists(&mut conn, "rapidapi_keys")? {
            let samples: Vec<SecretRow> = diesel::sql_query(
                "SELECT owner_id, key_enc FROM rapidapi_keys \
                 WHERE id IN (SELECT MIN(id) FROM rapidapi_keys GROUP BY owner_id) \
                 ORDER BY owner_id",
            )
            .load(&mut conn)?;
            for sample in samples {
                inspection.secrets_checked += 1;
                let decrypts = cipher.is_some_and(|c| c.decrypt(&sample.key_enc).is_ok());
                if !decrypts {
                    inspection.secrets_failed.push(UserId(sample.owner_id));
                }
            }
        }
        Ok(Some(inspection))
    }
}

/// Creates `dest` (never overwriting), copies the database of `conn` into it and verifies the
/// copy; removes `dest` again when anything fails.
fn backup_with(conn: &mut SqliteConnection, dest: &Path) -> Result<u64, BackupError> {
    let dest_text = dest
        .to_str()
        .ok_or_else(|| BackupError::NonUtf8Path(dest.to_path_buf()))?;
    // `create_new` is the atomic "never overwrite"; SQLite accepts an empty target file.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => BackupError::Exists(dest.to_path_buf()),
            _ => BackupError::Create {
                path: dest.to_path_buf(),
                source,
            },
        })?;
    let result = copy_and_verify(conn, dest, dest_text);
    if result.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    result
}

fn copy_and_verify(
    conn: &mut SqliteConnection,
    dest: &Path,
    dest_text: &str,
) -> Result<u64, BackupError> {
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(dest_text)
        .execute(conn)
        .map_err(|source| BackupError::Copy {
            path: dest.to_path_buf(),
            source,
        })?;
    let sync = |source| BackupError::Sync {
        path: dest.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(dest).map_err(sync)?;
    file.sync_all().map_err(sync)?;
    let verify = |source| BackupError::Verify {
        path: dest.to_path_buf(),
        source,
    };
    let mut copy = read_only(dest, Duration::from_secs(5)).map_err(verify)?;
    let lines: Vec<IntegrityLine> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .map_err(|e| verify(StoreError::Query(e)))?;
    let report = lines
        .into_iter()
        .map(|l| l.integrity_check)
        .collect::<Vec<_>>()
        .join("; ");
    if report != "ok" {
        return Err(BackupError::Integrity {
            path: dest.to_path_buf(),
            report,
        });
    }
    Ok(file.metadata().map_err(sync)?.len())
}

/// A read-only connection (`mode=ro` URI): reads and the WAL, never a write.
fn read_only(path: &Path, busy_timeout: Duration) -> Result<SqliteConnection, StoreError> {
    let text = path
        .to_str()
        .ok_or_else(|| StoreError::NonUtf8Path(path.to_path_buf()))?;
    // In a URI filename `%`, `?` and `#` are syntax; escape them so any path works.
    let escaped = text
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let mut conn =
        SqliteConnection::establish(&format!("file:{escaped}?mode=ro")).map_err(|source| {
            StoreError::Connect {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let ms = busy_timeout.as_millis().min(i32::MAX as u128);
    conn.batch_execute(&format!("PRAGMA busy_timeout = {ms}"))
        .map_err(StoreError::Pragma)?;
    Ok(conn)
}

fn table_exists(conn: &mut SqliteConnection, name: &str) -> Result<bool, StoreError> {
    let row: CountRow = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .bind::<Text, _>(name)
    .get_result(conn)?;
    Ok(row.n > 0)
}

#[cfg(test)]
mod tests {
    use super::{BackupError, Inspection};
    use crate::domain::{Lang, Mode, Role, UserId};
    use crate::secret::SecretCipher;
    use crate::store::Store;
    use chrono::Utc;
    use secrecy::SecretString;
    use std::time::Duration;

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn open(path: &std::path::Path, key: Option<[u8; 32]>) -> Store {
        Store::open(path, TIMEOUT, 50, key.map(SecretCipher::new)).expect("open store")
    }

    fn add_key(store: &Store, owner: i64, key: &str) {
        let now = Utc::now();
        store
            .upsert_user(UserId(owner), Role::User, true, Lang::En, Mode::Api, now)
            .expect("add user");
        store
            .add_rapidapi_key(UserId(owner), &SecretString::from(key), now)
            .expect("add key");
    }

    #[test]
    fn backup_refuses_an_existing_file_and_leaves_it_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir.path().join("live.db"), None);
        let dest = dir.path().join("backup.db");
        std::fs::write(&dest, b"precious").expect("write");
        let err = store.backup(&dest).expect_err("existing file");
        assert!(matches!(err, BackupError::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&dest).expect("read"), b"precious");
    }

    #[test]
    fn backup_is_private_verified_and_current() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir.path().join("live.db"), Some([7; 32]));
        add_key(&store, 1, &"k".repeat(20));
        let dest = dir.path().join("copy.db");
        let bytes = store.backup(&dest).expect("backup");
        let meta = std::fs::metadata(&dest).expect("metadata");
        assert_eq!(bytes, meta.len());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let seen = Store::inspect(&dest, TIMEOUT, Some(&SecretCipher::new([7; 32])))
            .expect("inspect")
            .expect("exists");
        assert_eq!(seen.pending, 0);
        assert!(seen.applied > 0);
        assert_eq!((seen.secrets_checked, seen.secrets_failed.len()), (1, 0));
    }

    #[test]
    fn inspect_changes_nothing_and_finds_a_wrong_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("live.db");
        assert_eq!(Store::inspect(&path, TIMEOUT, None).expect("inspect"), None);
        assert!(!path.exists(), "inspect must not create the database");

        let store = open(&path, Some([1; 32]));
        for owner in [10, 20] {
            add_key(&store, owner, &"x".repeat(24));
        }
        let wrong = SecretCipher::new([2; 32]);
        let seen = Store::inspect(&path, TIMEOUT, Some(&wrong))
            .expect("inspect")
            .expect("exists");
        assert_eq!(
            seen,
            Inspection {
                applied: seen.applied,
                pending: 0,
                secrets_checked: 2,
                secrets_failed: vec![UserId(10), UserId(20)],
            }
        );
        let without_key = Store::inspect(&path, TIMEOUT, None)
            .expect("inspect")
            .expect("exists");
        assert_eq!(without_key.secrets_failed.len(), 2);
    }

    #[test]
    fn inspect_counts_every_migration_pending_in_a_foreign_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty.db");
        {
            use diesel::connection::SimpleConnection;
            use diesel::prelude::*;
            let mut conn =
                SqliteConnection::establish(path.to_str().expect("utf-8")).expect("create");
            conn.batch_execute("CREATE TABLE t (x INTEGER)")
                .expect("table");
        }
        let seen = Store::inspect(&path, TIMEOUT, None)
            .expect("inspect")
            .expect("exists");
        assert_eq!((seen.applied, seen.secrets_checked), (0, 0));
        assert!(seen.pending > 0);
    }
}
