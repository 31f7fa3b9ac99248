//! The command line (clap): the commands and their arguments; each group runs in its own file.

/// `println!` for a command's output. When the reader has gone (`igwatch doctor | head -3`)
/// the command ends quietly with [`exit::CLOSED_OUTPUT`] instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::common::say(format_args!($($arg)*))
    };
}

mod accounts;
mod backup;
mod check;
mod common;
mod doctor;
mod entry;
mod keys;
mod proxies;
mod rotate_key;
mod sessions;
mod users;

pub use accounts::AccountsCommand;
pub use backup::BackupArgs;
pub use check::CheckArgs;
pub use entry::main;
pub use keys::KeysCommand;
pub use proxies::ProxiesCommand;
pub use rotate_key::RotateKeyArgs;
pub use sessions::SessionsCommand;
pub use users::UsersCommand;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success; for `check`, every username got `exists` or `not_found`.
    pub const OK: u8 = 0;
    /// A runtime failure (database, network setup, daemon error).
    pub const FAILURE: u8 = 1;
    /// Invalid configuration, arguments or input; nothing was changed.
    pub const INVALID: u8 = 2;
    /// `check`: at least one username could not be classified (`unknown`).
    pub const UNCLASSIFIED: u8 = 3;
    /// `run`: the daemon stopped because an admin asked for a restart (the bot's restart
    /// command). EX_TEMPFAIL; the systemd unit lists it in `RestartForceExitStatus=` (restart
    /// even though it is not a failure) and `SuccessExitStatus=` (not counted as a failure).
    pub const RESTART: u8 = 75;
    /// Standard output was closed before the command finished writing (a pipe into `head`):
    /// the status a shell reports for a tool ended by SIGPIPE.
    pub const CLOSED_OUTPUT: u8 = 141;
}

#[derive(Parser, Debug)]
#[command(
    name = "igwatch",
    version,
    about = "Watches banned Instagram accounts and alerts through Telegram when they are live again."
)]
pub struct Cli {
    /// Configuration file [default: config/igwatch.toml if present, else built-in defaults].
    #[arg(long, short, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon until SIGTERM/SIGINT.
    Run,
    /// Validate the configuration and list every problem (exit 2), or exit 0.
    CheckConfig,
    /// Probe usernames once and print the verdicts (exit 3 if any is unknown).
    Check(CheckArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage watched accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Manage RapidAPI keys (stored encrypted; needs IGWATCH_SECRET_KEY).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage Instagram sessions (cookie exports, stored encrypted; needs IGWATCH_SECRET_KEY).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Manage proxies (passwords stored encrypted; needs IGWATCH_SECRET_KEY for those).
    #[command(subcommand)]
    Proxies(ProxiesCommand),
    /// Check config, database, encryption key, WebDriver, Telegram and Instagram (exit 1 on any ✗).
    Doctor,
    /// Write a consistent copy of the database to a new file, safe while the daemon runs.
    Backup(BackupArgs),
    /// Re-encrypt every stored secret with a new key (read from --new-key-file or stdin); the
    /// old key is the configured one. Stop the daemon first.
    RotateKey(RotateKeyArgs),
}
