//! What the commands share: the failure type, opening the store, usernames, JSON output.

use super::exit;
use crate::app::open_store;
use crate::config::Config;
use crate::domain::Username;
use crate::store::{Store, StoreError};
use serde::Serialize;

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
        let code = match err {
            StoreError::UnknownUser(_) | StoreError::NoCipher => exit::INVALID,
            _ => exit::FAILURE,
        };
        Failure {
            code,
            message: err.to_string(),
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
    println!("{text}");
    Ok(())
}
