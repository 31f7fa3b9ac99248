//! `igwatch accounts …`: add, list (table or stable JSON) and remove watched accounts.

use super::common::{Failure, parse_usernames, print_json};
use crate::config::Config;
use crate::domain::{AccountState, Source, UserId};
use crate::store::{AccountFilter, Store};
use chrono::Utc;
use clap::Subcommand;
use serde::Serialize;

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Watch usernames for an owner.
    Add {
        #[arg(long)]
        owner: i64,
        /// Promised period in days [default: users.default_days].
        #[arg(long)]
        days: Option<u32>,
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// List watched accounts.
    List {
        #[arg(long)]
        owner: Option<i64>,
        #[arg(long)]
        state: Option<AccountState>,
        #[arg(long)]
        json: bool,
    },
    /// Stop watching usernames.
    Remove {
        #[arg(long)]
        owner: i64,
        #[arg(required = true)]
        usernames: Vec<String>,
    },
}

/// One row of `accounts list --json` (a stable, documented shape).
#[derive(Serialize)]
struct AccountRow {
    id: i64,
    username: String,
    owner: i64,
    state: &'static str,
    period_days: u32,
    started_at: String,
    ends_at: String,
    restored_at: Option<String>,
    last_probe_at: Option<String>,
    last_verdict: Option<String>,
    last_reason: Option<&'static str>,
    last_source: Option<&'static str>,
}

pub(super) fn accounts(
    config: &Config,
    store: &Store,
    cmd: AccountsCommand,
) -> Result<(), Failure> {
    match cmd {
        AccountsCommand::Add {
            owner,
            days,
            usernames,
        } => {
            let days = days.unwrap_or(config.users.default_days);
            if !(1..=3650).contains(&days) {
                return Err(Failure::invalid("--days must be between 1 and 3650"));
            }
            let names = parse_usernames(&usernames)?;
            let report = store.add_accounts(UserId(owner), &names, days, Utc::now())?;
            say!(
                "Added {} account(s) for owner {owner} ({days} days); {} already watched.",
                report.added.len(),
                report.duplicates.len()
            );
            for name in &report.duplicates {
                say!("  already watched: {name}");
            }
            Ok(())
        }
        AccountsCommand::List { owner, state, json } => {
            let filter = AccountFilter {
                owner: owner.map(UserId),
                state,
            };
            let list = store.accounts(&filter)?;
            if json {
                let rows: Vec<AccountRow> = list
                    .iter()
                    .map(|a| AccountRow {
                        id: a.id.0,
                        username: a.username.to_string(),
                        owner: a.owner.0,
                        state: a.state.as_str(),
                        period_days: a.period_days,
                        started_at: a.started_at.to_rfc3339(),
                        ends_at: a.ends_at.to_rfc3339(),
                        restored_at: a.restored_at.map(|t| t.to_rfc3339()),
                        last_probe_at: a.last_probe_at.map(|t| t.to_rfc3339()),
                        last_verdict: a.last_verdict.clone(),
                        last_reason: a.last_reason.map(|r| r.as_str()),
                        last_source: a.last_source.map(Source::as_str),
                    })
                    .collect();
                return print_json(&rows);
            }
            say!(
                "{:<30} {:<14} {:<9} {:<10} {:<16} LAST PROBE",
                "USERNAME",
                "OWNER",
                "STATE",
                "VERDICT",
                "REASON"
            );
            for a in list {
                say!(
                    "{:<30} {:<14} {:<9} {:<10} {:<16} {}",
                    a.username.as_str(),
                    a.owner.0,
                    a.state.as_str(),
                    a.last_verdict.as_deref().unwrap_or("-"),
                    a.last_reason.map_or("-", |r| r.as_str()),
                    a.last_probe_at.map_or_else(
                        || "-".to_string(),
                        |t| t.format("%Y-%m-%d %H:%M:%S").to_string()
                    )
                );
            }
            Ok(())
        }
        AccountsCommand::Remove { owner, usernames } => {
            let names = parse_usernames(&usernames)?;
            let removed = store.remove_accounts(UserId(owner), &names)?;
            say!("Removed {removed} account(s) of owner {owner}.");
            Ok(())
        }
    }
}
