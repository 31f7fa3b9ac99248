//! `igwatch proxies …`: an owner's proxies, added in the operators' formats behind the SSRF
//! guard (passwords encrypted), listed without passwords, tested against the canary, removed.

use super::common::{Failure, print_json};
use super::exit;
use super::sessions::{add_failure, known_owner, no_cipher};
use crate::check::{ProxyFailure, guard_proxy, trial_proxy};
use crate::config::Config;
use crate::domain::{ProxyId, ProxySpec, UserId};
use crate::store::Store;
use chrono::Utc;
use clap::Subcommand;
use serde::Serialize;

#[derive(Subcommand, Debug)]
pub enum ProxiesCommand {
    /// Add proxies: `scheme://[user:pass@]host:port`, `host:port` or `host:port:user:pass`
    /// (schemes http, https, socks5). If any is invalid, none is added.
    Add {
        #[arg(long)]
        owner: i64,
        #[arg(required = true, value_name = "PROXY")]
        proxies: Vec<String>,
    },
    /// List an owner's proxies (passwords are never shown).
    List {
        #[arg(long)]
        owner: i64,
        #[arg(long)]
        json: bool,
    },
    /// Probe the canary through one proxy, or every proxy of the owner; records the result.
    Test {
        #[arg(long)]
        owner: i64,
        id: Option<i64>,
    },
    /// Delete a proxy by id.
    Remove {
        #[arg(long)]
        owner: i64,
        id: i64,
    },
}

/// One row of `proxies list --json`.
#[derive(Serialize)]
struct ProxyRow {
    id: i64,
    proxy: String,
    enabled: bool,
    priority: u8,
    fail_streak: u32,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: exit::FAILURE,
            message: format!("failed to start the runtime: {e}"),
        })
}

pub(super) fn proxies(config: &Config, store: &Store, cmd: ProxiesCommand) -> Result<(), Failure> {
    match cmd {
        ProxiesCommand::Add { owner, proxies } => add(config, store, owner, &proxies),
        ProxiesCommand::List { owner, json } => {
            let rows: Vec<ProxyRow> = store
                .proxies(UserId(owner))?
                .into_iter()
                .map(|p| ProxyRow {
                    id: p.id.0,
                    proxy: p.spec_safe,
                    enabled: p.enabled,
                    priority: p.priority,
                    fail_streak: p.fail_streak,
                })
                .collect();
            if json {
                return print_json(&rows);
            }
            say!(
                "{:<6} {:<44} {:<8} {:<9} FAILS",
                "ID",
                "PROXY",
                "ENABLED",
                "PRIORITY"
            );
            for r in rows {
                say!(
                    "{:<6} {:<44} {:<8} {:<9} {}",
                    r.id,
                    r.proxy,
                    r.enabled,
                    r.priority,
                    r.fail_streak
                );
            }
            Ok(())
        }
        ProxiesCommand::Test { owner, id } => test(config, store, owner, id),
        ProxiesCommand::Remove { owner, id } => {
            if store.remove_proxy(UserId(owner), ProxyId(id))? {
                say!("Removed proxy {id}.");
                Ok(())
            } else {
                Err(Failure::invalid(format!("owner {owner} has no proxy {id}")))
            }
        }
    }
}

fn add(config: &Config, store: &Store, owner: i64, items: &[String]) -> Result<(), Failure> {
    let owner = known_owner(store, owner)?;
    let mut specs: Vec<ProxySpec> = Vec::new();
    let mut repeated = 0;
    let mut problems = Vec::new();
    let runtime = runtime()?;
    for (n, item) in items.iter().enumerate() {
        let spec = match ProxySpec::parse(item) {
            Ok(spec) => spec,
            Err(err) => {
                // The text itself is not echoed: it may hold a password.
                problems.push(format!("  proxy #{}: {err}", n + 1));
                continue;
            }
        };
        if specs.iter().any(|s| s.dedupe_key() == spec.dedupe_key()) {
            repeated += 1;
            continue;
        }
        if let Err(err) = runtime.block_on(guard_proxy(config, &spec)) {
            problems.push(format!("  {}: {err}", spec.display_safe()));
            continue;
        }
        specs.push(spec);
    }
    if !problems.is_empty() {
        return Err(Failure::invalid(format!(
            "invalid proxies (nothing was added):\n{}",
            problems.join("\n")
        )));
    }
    if specs.iter().any(|s| s.auth.is_some()) && config.secret_key_bytes().is_none() {
        return Err(no_cipher());
    }
    let report = store
        .add_proxies(owner, &specs, Utc::now())
        .map_err(add_failure)?;
    let ids: Vec<String> = report.added.iter().map(ToString::to_string).collect();
    say!(
        "Added {} prox{} for owner {owner}{}; duplicates skipped: {}.",
        report.added.len(),
        if report.added.len() == 1 { "y" } else { "ies" },
        if ids.is_empty() {
            String::new()
        } else {
            format!(" (ids {})", ids.join(", "))
        },
        report.duplicates + repeated
    );
    Ok(())
}

fn failure_text(failure: &ProxyFailure) -> String {
    match failure {
        ProxyFailure::Host(err) => err.clone(),
        ProxyFailure::Verdict(reason) => reason.as_str().to_owned(),
        ProxyFailure::CanaryNotFound => "the canary read as not found".to_owned(),
    }
}

fn test(config: &Config, store: &Store, owner: i64, id: Option<i64>) -> Result<(), Failure> {
    let owner = UserId(owner);
    let ids: Vec<ProxyId> = match id {
        Some(id) => vec![ProxyId(id)],
        None => store.proxies(owner)?.into_iter().map(|p| p.id).collect(),
    };
    if ids.is_empty() {
        return Err(Failure::invalid(format!("owner {owner} has no proxies")));
    }
    let runtime = runtime()?;
    let canary = &config.scheduler.canary;
    let mut failed = 0;
    for id in ids {
        let Some(spec) = store.proxy_spec(owner, id)? else {
            return Err(Failure::invalid(format!("owner {owner} has no proxy {id}")));
        };
        let trial = runtime.block_on(trial_proxy(config, &spec));
        store.record_proxy_result(id, trial.proxy_ok, Utc::now())?;
        match &trial.failure {
            None => say!("{id} {} ok: @{canary} exists", spec.display_safe()),
            Some(failure) => {
                failed += 1;
                say!(
                    "{id} {} failed: {}",
                    spec.display_safe(),
                    failure_text(failure)
                );
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure {
            code: exit::FAILURE,
            message: format!("{failed} proxy test(s) failed"),
        })
    }
}
