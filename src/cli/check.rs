//! `igwatch check …`: one-shot probes with the daemon's own probe code, as a table or JSON.

use super::common::{Failure, parse_usernames, print_json};
use super::exit;
use crate::app::open_store;
use crate::check::{ApiProber, KeySource, build_client};
use crate::config::{Config, Provider};
use crate::domain::{KeyId, Mode, Source, UserId, Verdict};
use crate::store::Store;
use chrono::Utc;
use clap::Args;
use futures_util::future::LocalBoxFuture;
use futures_util::{StreamExt, stream};
use secrecy::SecretString;
use serde::Serialize;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Usernames, `@names` or profile links.
    #[arg(required = true)]
    pub usernames: Vec<String>,
    /// Check mode (only `api` can decide without an Instagram session).
    #[arg(long, default_value = "api")]
    pub mode: Mode,
    /// Whose RapidAPI keys to use (provider `rapidapi`); default: every owner's, in id order.
    #[arg(long)]
    pub owner: Option<i64>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One row of `check --json` (a stable, documented shape).
#[derive(Serialize)]
struct CheckRow {
    username: String,
    verdict: &'static str,
    private: bool,
    reason: Option<&'static str>,
    source: &'static str,
    rule: Option<String>,
}

/// RapidAPI keys read straight from the database (no daemon needed).
struct DirectKeys {
    store: Store,
    daily_limit: u32,
}

impl KeySource for DirectKeys {
    fn acquire(
        &self,
        owners: Vec<UserId>,
    ) -> LocalBoxFuture<'static, Result<Option<(KeyId, SecretString)>, String>> {
        let result = self
            .store
            .acquire_rapidapi_key(&owners, self.daily_limit, Utc::now())
            .map_err(|e| e.to_string());
        Box::pin(std::future::ready(result))
    }

    fn exhausted(&self, key: KeyId) -> LocalBoxFuture<'static, Result<(), String>> {
        let result = self
            .store
            .mark_rapidapi_key_exhausted(key, Utc::now())
            .map_err(|e| e.to_string());
        Box::pin(std::future::ready(result))
    }
}

pub(super) fn check(config: &Config, args: CheckArgs) -> u8 {
    match run_check(config, args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("igwatch: {}", failure.message);
            failure.code
        }
    }
}

fn run_check(config: &Config, args: CheckArgs) -> Result<u8, Failure> {
    let names = parse_usernames(&args.usernames)?;
    let failure = |message: String| Failure {
        code: exit::FAILURE,
        message,
    };
    let (store, owners) = if config.instagram.provider == Provider::Rapidapi {
        let store = open_store(config)?;
        let owners = match args.owner {
            Some(id) => vec![UserId(id)],
            None => store.users()?.into_iter().map(|u| u.id).collect(),
        };
        (Some(store), owners)
    } else {
        (None, Vec::new())
    };
    let client = build_client(config).map_err(|e| {
        failure(format!(
            "failed to build the HTTP client: {}",
            e.without_url()
        ))
    })?;
    let keys: Arc<dyn KeySource> = match store {
        Some(store) => Arc::new(DirectKeys {
            store,
            daily_limit: config.rapidapi.daily_limit,
        }),
        None => Arc::new(NoKeys),
    };
    let prober = ApiProber::new(client, Arc::new(config.clone()), keys);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failure(format!("failed to start the runtime: {e}")))?;
    let mode = args.mode;
    let rows: Vec<CheckRow> = runtime.block_on(async {
        stream::iter(names.iter())
            .map(|name| {
                let (prober, owners) = (&prober, &owners);
                async move {
                    let (verdict, source, rule) = if mode == Mode::Api {
                        let api = prober.probe(name, owners).await;
                        (api.verdict, api.source, api.rule)
                    } else {
                        (
                            Verdict::unknown(crate::domain::UnknownReason::NoSession),
                            Source::None,
                            None,
                        )
                    };
                    CheckRow {
                        username: name.to_string(),
                        verdict: verdict.kind(),
                        private: verdict.is_private(),
                        reason: verdict.reason().map(|r| r.as_str()),
                        source: source.as_str(),
                        rule,
                    }
                }
            })
            .buffered(config.checkers.count.max(1))
            .collect()
            .await
    });
    if args.json {
        print_json(&rows)?;
    } else {
        println!(
            "{:<30} {:<10} {:<8} {:<16} SOURCE",
            "USERNAME", "VERDICT", "PRIVATE", "REASON"
        );
        for r in &rows {
            println!(
                "{:<30} {:<10} {:<8} {:<16} {}",
                r.username,
                r.verdict,
                r.private,
                r.reason.unwrap_or("-"),
                r.source
            );
        }
    }
    let all_classified = rows.iter().all(|r| r.verdict != "unknown");
    Ok(if all_classified {
        exit::OK
    } else {
        exit::UNCLASSIFIED
    })
}

/// Key source for providers that need none.
struct NoKeys;

impl KeySource for NoKeys {
    fn acquire(
        &self,
        _: Vec<UserId>,
    ) -> LocalBoxFuture<'static, Result<Option<(KeyId, SecretString)>, String>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn exhausted(&self, _: KeyId) -> LocalBoxFuture<'static, Result<(), String>> {
        Box::pin(std::future::ready(Ok(())))
    }
}
