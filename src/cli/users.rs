//! `igwatch users …`: create, update and list users.

use super::common::{Failure, print_json};
use crate::config::Config;
use crate::domain::{Lang, Mode, Role, UserId};
use crate::store::Store;
use chrono::Utc;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Create or update an active user.
    Add {
        /// Telegram user id.
        id: i64,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        mode: Option<Mode>,
        #[arg(long)]
        lang: Option<Lang>,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn users(config: &Config, store: &Store, cmd: UsersCommand) -> Result<(), Failure> {
    match cmd {
        UsersCommand::Add {
            id,
            admin,
            mode,
            lang,
        } => {
            if id <= 0 {
                return Err(Failure::invalid("a Telegram user id is a positive number"));
            }
            let existing = store.user(UserId(id))?;
            let role = if admin {
                Role::Admin
            } else {
                existing.as_ref().map_or(Role::User, |u| u.role)
            };
            let mode = mode
                .or(existing.as_ref().map(|u| u.mode))
                .unwrap_or(config.users.default_mode);
            let lang = lang
                .or(existing.as_ref().map(|u| u.lang))
                .unwrap_or(config.users.default_lang);
            let user = store.upsert_user(UserId(id), role, true, lang, mode, Utc::now())?;
            say!(
                "User {} is active: role {}, mode {}, language {}.",
                user.id,
                user.role.as_str(),
                user.mode,
                user.lang
            );
            Ok(())
        }
        UsersCommand::List { json } => {
            let users = store.users()?;
            if json {
                let rows: Vec<_> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "id": u.id.0, "role": u.role.as_str(), "active": u.active,
                            "mode": u.mode.as_str(), "lang": u.lang.as_str(),
                        })
                    })
                    .collect();
                return print_json(&rows);
            }
            say!(
                "{:<14} {:<6} {:<7} {:<12} LANG",
                "ID",
                "ROLE",
                "ACTIVE",
                "MODE"
            );
            for u in users {
                say!(
                    "{:<14} {:<6} {:<7} {:<12} {}",
                    u.id.0,
                    u.role.as_str(),
                    u.active,
                    u.mode.as_str(),
                    u.lang
                );
            }
            Ok(())
        }
    }
}
