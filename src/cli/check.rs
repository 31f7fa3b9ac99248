//! `igwatch check …`: one-shot probes with the daemon's own probe code, as a table or JSON.

use super::common::{Failure, parse_usernames, print_json};
use super::exit;
use crate::app::open_store;
use crate::check::{
    ApiProber, BrowserSlot, BudgetConfig, EgressPool, KeySource, NoKeys, ProbeContext, ProbeInput,
};
use crate::config::{Config, Provider};
use crate::domain::{
    KeyId, Mode, ProxyId, ProxySpec, Source, UnknownReason, UserId, parse_cookie_json,
};
use crate::store::Store;
use chrono::Utc;
use clap::Args;
use futures_util::future::LocalBoxFuture;
use secrecy::SecretString;
use serde::Serialize;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Usernames, `@names` or profile links.
    #[arg(required = true)]
    pub usernames: Vec<String>,
    /// Check mode: `api`, `browser` (needs --session) or `api+browser`.
    #[arg(long, default_value = "api")]
    pub mode: Mode,
    /// Instagram session cookies (a JSON array as cookie export extensions write it).
    #[arg(long, value_name = "COOKIES.JSON")]
    pub session: Option<std::path::PathBuf>,
    /// Send the checks through this proxy: `scheme://[user:pass@]host:port`, `host:port` or
    /// `host:port:user:pass`.
    #[arg(long, value_name = "PROXY")]
    pub proxy: Option<String>,
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
    let cookies = match &args.session {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::invalid(format!("failed to read {}: {e}", path.display())))?;
            parse_cookie_json(&text).map_err(|e| {
                Failure::invalid(format!("{} is not a usable session: {e}", path.display()))
            })?
        }
        None => Vec::new(),
    };
    if args.mode == Mode::Browser && cookies.is_empty() {
        return Err(Failure::invalid(
            "--mode browser needs an Instagram session: give --session cookies.json",
        ));
    }
    let proxy = match &args.proxy {
        Some(text) => {
            Some(ProxySpec::parse(text).map_err(|e| Failure::invalid(format!("--proxy: {e}")))?)
        }
        None => None,
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
    let keys: Arc<dyn KeySource> = match store {
        Some(store) => Arc::new(DirectKeys {
            store,
            daily_limit: config.rapidapi.daily_limit,
        }),
        None => Arc::new(NoKeys),
    };
    let config = Arc::new(config.clone());
    let api = ApiProber::new(config.clone(), keys);
    let egress = Arc::new(EgressPool::new(BudgetConfig::from_config(&config.egress)));
    let prober = ProbeContext::new(config.clone(), api, egress).map_err(|e| {
        failure(format!(
            "failed to build the HTTP client: {}",
            e.without_url()
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failure(format!("failed to start the runtime: {e}")))?;
    // The browser is one session, so names are probed one after another (as a checker does).
    let rows: Vec<CheckRow> = runtime.block_on(async {
        let mut browser = BrowserSlot::new(config.webdriver.urls[0].clone());
        let mut rows = Vec::new();
        for name in &names {
            let input = ProbeInput {
                username: name,
                owners: &owners,
                mode: args.mode,
                cookies: &cookies,
                proxy: proxy.as_ref().map(|spec| (ProxyId(0), spec)),
            };
            let row = match prober.run(&input, &mut browser).await {
                Ok(result) => CheckRow {
                    username: name.to_string(),
                    verdict: result.verdict.kind(),
                    private: result.verdict.is_private(),
                    reason: result.verdict.reason().map(|r| r.as_str()),
                    source: result
                        .sources
                        .last()
                        .copied()
                        .unwrap_or(Source::None)
                        .as_str(),
                    rule: result.rule,
                },
                Err(err) => CheckRow {
                    username: name.to_string(),
                    verdict: "unknown",
                    private: false,
                    reason: Some(UnknownReason::Browser.as_str()),
                    source: Source::Browser.as_str(),
                    rule: Some(err.to_string()),
                },
            };
            rows.push(row);
        }
        browser.close().await;
        rows
    });
    if args.json {
        print_json(&rows)?;
    } else {
        say!(
            "{:<30} {:<10} {:<8} {:<16} SOURCE",
            "USERNAME",
            "VERDICT",
            "PRIVATE",
            "REASON"
        );
        for r in &rows {
            say!(
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
