//! `igwatch` entry: parse arguments, load the configuration, set up logging, run one command.

use super::common::with_store;
use super::{
    Cli, Command, accounts, backup, check, doctor, exit, keys, proxies, rotate_key, sessions, users,
};
use crate::app;
use crate::config::{self, LoggingConfig};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    let config = match config::load(cli.config.as_deref(), &env) {
        Ok(config) => config,
        Err(problems) if matches!(cli.command, Command::Doctor) => {
            return ExitCode::from(doctor::config_invalid(cli.config.as_deref(), &problems));
        }
        Err(problems) => {
            eprintln!("igwatch: the configuration has problems:\n{problems}");
            return ExitCode::from(exit::INVALID);
        }
    };
    if let Command::CheckConfig = cli.command {
        say!("Configuration is valid.");
        return ExitCode::from(exit::OK);
    }
    // The daemon logs as configured; one-shot commands log warnings to stderr only.
    let logging = match cli.command {
        Command::Run => config.logging.clone(),
        _ => LoggingConfig {
            config: PathBuf::new(),
            level: log::LevelFilter::Warn,
        },
    };
    let _logger = match crate::logging::init(&logging) {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("igwatch: {err}");
            return ExitCode::from(exit::INVALID);
        }
    };
    let code = match cli.command {
        Command::Run => match app::run(config) {
            Ok(app::Exit::Stopped) => exit::OK,
            Ok(app::Exit::Restart) => exit::RESTART,
            Err(err) => {
                log::error!("The daemon stopped: {err}.");
                exit::FAILURE
            }
        },
        Command::CheckConfig => exit::OK,
        Command::Check(args) => check::check(&config, args),
        Command::Users(cmd) => with_store(&config, |store| users::users(&config, store, cmd)),
        Command::Accounts(cmd) => {
            with_store(&config, |store| accounts::accounts(&config, store, cmd))
        }
        Command::Keys(cmd) => with_store(&config, |store| keys::keys(store, cmd)),
        Command::Sessions(cmd) => {
            with_store(&config, |store| sessions::sessions(&config, store, cmd))
        }
        Command::Proxies(cmd) => with_store(&config, |store| proxies::proxies(&config, store, cmd)),
        Command::Doctor => doctor::doctor(&config, cli.config.as_deref()),
        Command::Backup(args) => backup::backup(&config, args),
        Command::RotateKey(args) => with_store(&config, |store| {
            rotate_key::rotate_key(&config, store, args)
        }),
    };
    ExitCode::from(code)
}
