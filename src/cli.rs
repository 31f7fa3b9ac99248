//! The command line (clap): parses arguments, runs one command, maps the result to an exit code.

use crate::app::{self, open_store};
use crate::check::{ApiProber, KeySource, build_client};
use crate::config::{self, Config, LoggingConfig, Provider};
use crate::domain::{AccountState, KeyId, Lang, Mode, Role, Source, UserId, Username, Verdict};
use crate::store::{AccountFilter, Store};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use futures_util::future::LocalBoxFuture;
use futures_util::{StreamExt, stream};
use secrecy::SecretString;
use serde::Serialize;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success; for `check`, every username got `exists` or `not_found`.
    pub const OK: u8 = 0;
    /// A runtime failure (database, network setup, daemon error).
    pub const FAILURE: u8 = 1;
    /// Invalid configuration, arguments or input; nothing was changed.
    pub const INVALID: u8 = 2;
    /// `check`: at least one username could not be classified (`unknown`).
    pub const UNCLASSIFIED: u8 = 3;
}

#[derive(Parser, Debug)]
#[command(
    name = "igwatch",
    version,
    about = "Watches banned Instagram accounts and alerts through Telegram when they are live again."
)]
pub struct Cli {
    /// Configuration file [default: config/igwatch.toml if present, else built-in defaults].
    #[arg(long, short, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon until SIGTERM/SIGINT.
    Run,
    /// Validate the configuration and list every problem (exit 2), or exit 0.
    CheckConfig,
    /// Probe usernames once and print the verdicts (exit 3 if any is unknown).
    Check(CheckArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage watched accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Manage RapidAPI keys (stored encrypted; needs IGWATCH_SECRET_KEY).
    #[command(subcommand)]
    Keys(KeysCommand),
}

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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |name: &str| std::env::var(name).ok();
    let config = match config::load(cli.config.as_deref(), &env) {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("igwatch: the configuration has problems:\n{problems}");
            return ExitCode::from(exit::INVALID);
        }
    };
    if let Command::CheckConfig = cli.command {
        println!("Configuration is valid.");
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
            Ok(()) => exit::OK,
            Err(err) => {
                log::error!("The daemon stopped: {err}.");
                exit::FAILURE
            }
        },
        Command::CheckConfig => exit::OK,
        Command::Check(args) => check(&config, args),
        Command::Users(cmd) => with_store(&config, |store| users(&config, store, cmd)),
        Command::Accounts(cmd) => with_store(&config, |store| accounts(&config, store, cmd)),
        Command::Keys(cmd) => with_store(&config, |store| keys(store, cmd)),
    };
    ExitCode::from(code)
}

/// A failed command: what to print and which exit code to use.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn invalid(message: impl Into<String>) -> Self {
        Failure {
            code: exit::INVALID,
            message: message.into(),
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(err: crate::store::StoreError) -> Self {
        let code = match err {
            crate::store::StoreError::UnknownUser(_) | crate::store::StoreError::NoCipher => {
                exit::INVALID
            }
            _ => exit::FAILURE,
        };
        Failure {
            code,
            message: err.to_string(),
        }
    }
}

fn with_store(config: &Config, f: impl FnOnce(&Store) -> Result<(), Failure>) -> u8 {
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
fn parse_usernames(raw: &[String]) -> Result<Vec<Username>, Failure> {
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

fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: exit::FAILURE,
        message: format!("failed to encode JSON: {e}"),
    })?;
    println!("{text}");
    Ok(())
}

fn users(config: &Config, store: &Store, cmd: UsersCommand) -> Result<(), Failure> {
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
            println!(
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
            println!(
                "{:<14} {:<6} {:<7} {:<12} LANG",
                "ID", "ROLE", "ACTIVE", "MODE"
            );
            for u in users {
                println!(
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

fn accounts(config: &Config, store: &Store, cmd: AccountsCommand) -> Result<(), Failure> {
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
            println!(
                "Added {} account(s) for owner {owner} ({days} days); {} already watched.",
                report.added.len(),
                report.duplicates.len()
            );
            for name in &report.duplicates {
                println!("  already watched: {name}");
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
            println!(
                "{:<30} {:<14} {:<9} {:<10} {:<16} LAST PROBE",
                "USERNAME", "OWNER", "STATE", "VERDICT", "REASON"
            );
            for a in list {
                println!(
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
            println!("Removed {removed} account(s) of owner {owner}.");
            Ok(())
        }
    }
}

fn keys(store: &Store, cmd: KeysCommand) -> Result<(), Failure> {
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
            println!("Added RapidAPI key {id} for owner {owner}.");
            Ok(())
        }
        KeysCommand::List { owner } => {
            for k in store.rapidapi_keys(UserId(owner), Utc::now())? {
                println!(
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
                println!("Removed key {id}.");
                Ok(())
            } else {
                Err(Failure::invalid(format!("owner {owner} has no key {id}")))
            }
        }
    }
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

fn check(config: &Config, args: CheckArgs) -> u8 {
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
