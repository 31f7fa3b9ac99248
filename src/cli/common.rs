//! What the commands share: the failure type, opening the store, usernames, JSON output.

use super::exit;
use crate::app::open_store;
use crate::config::Config;
use crate::domain::Username;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::io::{ErrorKind, Write};

/// A failed command: what to print and which exit code to use.
pub(super) struct Failure {
    pub(super) code: u8,
    pub(super) message: String,
}

impl Failure {
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Failure {
            code: exit::INVALID,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            // Owners exist once added here or once they pressed Start in the bot.
            StoreError::UnknownUser(id) => Failure::invalid(format!(
                "there is no user {id}: add them with `igwatch users add {id}`, or have them \
                 press Start in the bot"
            )),
            StoreError::NoCipher => Failure::invalid(err.to_string()),
            _ => Failure {
                code: exit::FAILURE,
                message: err.to_string(),
            },
        }
    }
}

pub(super) fn with_store(config: &Config, f: impl FnOnce(&Store) -> Result<(), Failure>) -> u8 {
    let result = open_store(config)
        .map_err(Failure::from)
        .and_then(|store| f(&store));
    match result {
        Ok(()) => exit::OK,
        Err(failure) => {
            eprintln!("igwatch: {}", failure.message);
            failure.code
        }
    }
}

/// Parses every username; on any invalid one, lists them all and changes nothing.
pub(super) fn parse_usernames(raw: &[String]) -> Result<Vec<Username>, Failure> {
    let mut names = Vec::new();
    let mut problems = Vec::new();
    for item in raw {
        match Username::parse(item) {
            Ok(name) if !names.contains(&name) => names.push(name),
            Ok(_) => {}
            Err(err) => problems.push(format!("  {item:?}: {err}")),
        }
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(Failure::invalid(format!(
            "invalid usernames (nothing was changed):\n{}",
            problems.join("\n")
        )))
    }
}

pub(super) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: exit::FAILURE,
        message: format!("failed to encode JSON: {e}"),
    })?;
    say!("{text}");
    Ok(())
}

/// Writes one line of a command's output (see the `say!` macro). A closed standard output
/// ends the process with [`exit::CLOSED_OUTPUT`]; any other write error with
/// [`exit::FAILURE`]. Commands print after their changes are committed, so nothing is left
/// half-done.
pub(super) fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::BrokenPipe => {
            std::process::exit(i32::from(exit::CLOSED_OUTPUT))
        }
        Err(err) => {
            eprintln!("igwatch: cannot write to standard output: {err}");
            std::process::exit(i32::from(exit::FAILURE))
        }
    }
}
