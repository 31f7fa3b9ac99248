//! `igwatch sessions …`: Instagram sessions (cookie exports) vetted by a browser probe of the
//! canary, stored encrypted, listed without their cookies, removed.

use super::common::{Failure, print_json};
use super::exit;
use crate::check::{SessionTrial, trial_session};
use crate::config::Config;
use crate::domain::{SessionId, UserId, parse_cookie_json};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;

/// Longest label kept.
const LABEL_MAX: usize = 64;

#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// Add a session from a cookie export (a JSON array as EditThisCookie or Cookie-Editor write
    /// it); it is probed once against the canary with a browser unless --no-probe.
    Add {
        #[arg(long)]
        owner: i64,
        /// The exported cookies.
        #[arg(value_name = "COOKIES.JSON")]
        file: PathBuf,
        /// A name to recognise the session by [default: the file name].
        #[arg(long)]
        label: Option<String>,
        /// Store without probing (when no browser is available); the session is not verified.
        #[arg(long)]
        no_probe: bool,
    },
    /// List an owner's sessions (never their cookies).
    List {
        #[arg(long)]
        owner: i64,
        #[arg(long)]
        json: bool,
    },
    /// Delete a session by id.
    Remove {
        #[arg(long)]
        owner: i64,
        id: i64,
    },
}

/// One row of `sessions list --json`.
#[derive(Serialize)]
struct SessionRow {
    id: i64,
    label: String,
    valid: bool,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

/// What `add` answers when no encryption key is configured.
pub(super) fn no_cipher() -> Failure {
    Failure::invalid(
        "no encryption key is configured: set IGWATCH_SECRET_KEY (or secrets.key_file); \
         secrets are never stored in plaintext. Nothing was stored.",
    )
}

/// Maps a store failure of an `add`, turning a missing key into the actionable answer.
pub(super) fn add_failure(err: StoreError) -> Failure {
    match err {
        StoreError::NoCipher => no_cipher(),
        other => Failure::from(other),
    }
}

/// Refuses an owner that is not a user, before any probe is spent.
pub(super) fn known_owner(store: &Store, owner: i64) -> Result<UserId, Failure> {
    let id = UserId(owner);
    match store.user(id)? {
        Some(_) => Ok(id),
        None => Err(Failure::invalid(format!(
            "there is no user {owner}: add it first with `igwatch users add {owner}`"
        ))),
    }
}

pub(super) fn sessions(
    config: &Config,
    store: &Store,
    cmd: SessionsCommand,
) -> Result<(), Failure> {
    match cmd {
        SessionsCommand::Add {
            owner,
            file,
            label,
            no_probe,
        } => add(config, store, owner, &file, label, no_probe),
        SessionsCommand::List { owner, json } => {
            let rows: Vec<SessionRow> = store
                .instagram_sessions(UserId(owner))?
                .into_iter()
                .map(|s| SessionRow {
                    id: s.id.0,
                    label: s.label,
                    valid: s.valid,
                    created_at: s.created_at,
                    last_used_at: s.last_used_at,
                })
                .collect();
            if json {
                return print_json(&rows);
            }
            say!(
                "{:<6} {:<24} {:<8} {:<20} LAST USED",
                "ID",
                "LABEL",
                "VALID",
                "CREATED"
            );
            let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
            for r in rows {
                say!(
                    "{:<6} {:<24} {:<8} {:<20} {}",
                    r.id,
                    r.label,
                    r.valid,
                    time(r.created_at),
                    r.last_used_at.map_or_else(|| "never".to_owned(), time)
                );
            }
            Ok(())
        }
        SessionsCommand::Remove { owner, id } => {
            if store.remove_instagram_session(UserId(owner), SessionId(id))? {
                say!("Removed session {id}.");
                Ok(())
            } else {
                Err(Failure::invalid(format!(
                    "owner {owner} has no session {id}"
                )))
            }
        }
    }
}

fn add(
    config: &Config,
    store: &Store,
    owner: i64,
    file: &std::path::Path,
    label: Option<String>,
    no_probe: bool,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::invalid(format!("failed to read {}: {e}", file.display())))?;
    let cookies = parse_cookie_json(&text).map_err(|e| {
        Failure::invalid(format!(
            "{} is not a usable session: {e}. Nothing was stored.",
            file.display()
        ))
    })?;
    drop(text);
    let owner = known_owner(store, owner)?;
    if config.secret_key_bytes().is_none() {
        return Err(no_cipher());
    }
    let label = label
        .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let label: String = label.trim().chars().take(LABEL_MAX).collect();
    if label.is_empty() {
        return Err(Failure::invalid("give the session a --label"));
    }
    let note = if no_probe {
        "not probed (--no-probe): it is used as valid until Instagram refuses it"
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure {
                code: exit::FAILURE,
                message: format!("failed to start the runtime: {e}"),
            })?;
        let canary = &config.scheduler.canary;
        match runtime.block_on(trial_session(config, &cookies)) {
            SessionTrial::Accepted => "probed: the canary's profile was shown",
            SessionTrial::Refused(reason) => {
                return Err(Failure::invalid(format!(
                    "Instagram refused this session ({}: a login wall or checkpoint instead of \
                     @{canary}'s profile); export the cookies again while logged in. Nothing \
                     was stored.",
                    reason.as_str()
                )));
            }
            SessionTrial::Inconclusive(reason) => {
                return Err(Failure {
                    code: exit::FAILURE,
                    message: format!(
                        "could not verify the session: the probe of @{canary} gave no answer \
                         ({}). Nothing was stored; retry, or add it with --no-probe.",
                        reason.as_str()
                    ),
                });
            }
        }
    };
    let id = store
        .add_instagram_session(owner, &label, &cookies, Utc::now())
        .map_err(add_failure)?;
    say!("Added session {id} ({label}) for owner {owner}: {note}.");
    Ok(())
}
