//! `igwatch keys …`: RapidAPI keys, read from stdin, stored encrypted, listed masked.

use super::common::Failure;
use crate::domain::{KeyId, UserId};
use crate::store::Store;
use chrono::Utc;
use clap::Subcommand;
use secrecy::SecretString;
use std::io::Read;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a key read from standard input (so it stays out of shell history).
    Add {
        #[arg(long)]
        owner: i64,
    },
    /// List an owner's keys, masked, with today's usage.
    List {
        #[arg(long)]
        owner: i64,
    },
    /// Delete a key by id.
    Remove {
        #[arg(long)]
        owner: i64,
        id: i64,
    },
}

pub(super) fn keys(store: &Store, cmd: KeysCommand) -> Result<(), Failure> {
    match cmd {
        KeysCommand::Add { owner } => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::invalid(format!("failed to read the key from stdin: {e}")))?;
            let key = text.trim();
            if key.is_empty() || key.len() > 200 || key.chars().any(char::is_whitespace) {
                return Err(Failure::invalid(
                    "give exactly one RapidAPI key on standard input",
                ));
            }
            let id = store.add_rapidapi_key(UserId(owner), &SecretString::from(key), Utc::now())?;
            say!("Added RapidAPI key {id} for owner {owner}.");
            Ok(())
        }
        KeysCommand::List { owner } => {
            for k in store.rapidapi_keys(UserId(owner), Utc::now())? {
                say!(
                    "{:<6} {:<12} used today {:<5}{}",
                    k.id.0,
                    k.hint,
                    k.used_today,
                    if k.exhausted_today { " exhausted" } else { "" }
                );
            }
            Ok(())
        }
        KeysCommand::Remove { owner, id } => {
            if store.remove_rapidapi_key(UserId(owner), KeyId(id))? {
                say!("Removed key {id}.");
                Ok(())
            } else {
                Err(Failure::invalid(format!("owner {owner} has no key {id}")))
            }
        }
    }
}
