//! `igwatch backup <file>`: a consistent, verified online copy of the database, safe while the
//! daemon runs; the live database is read only (no migration is applied before the copy).

use super::doctor::error_chain;
use super::exit;
use crate::config::Config;
use crate::store::{BackupError, Store};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy; must not exist (a backup never overwrites a file).
    pub file: PathBuf,
}

pub(super) fn backup(config: &Config, args: BackupArgs) -> u8 {
    let db = &config.database.path;
    match Store::backup_file(db, &args.file, config.database.busy_timeout) {
        Ok(bytes) => {
            say!(
                "Backed up {} to {} ({bytes} bytes, integrity ok).",
                db.display(),
                args.file.display()
            );
            exit::OK
        }
        Err(err) => {
            eprintln!("igwatch: {}", error_chain(&err));
            match err {
                BackupError::Exists(_) | BackupError::NonUtf8Path(_) => exit::INVALID,
                _ => exit::FAILURE,
            }
        }
    }
}
