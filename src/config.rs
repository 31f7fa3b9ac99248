//! Configuration: the TOML file and environment turned into a validated `Config`, or every problem listed.

use crate::domain::{Lang, Mode, UserId};
use secrecy::SecretString;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The validated configuration of one deployment. Every field has a default.
#[derive(Debug, Clone)]
pub struct Config {
    pub scheduler: SchedulerConfig,
    pub checkers: CheckersConfig,
    pub database: DatabaseConfig,
    pub telegram: TelegramConfig,
    pub instagram: InstagramConfig,
    pub rapidapi: RapidApiConfig,
    pub webdriver: WebDriverConfig,
    pub users: UsersConfig,
    pub notifier: NotifierConfig,
    pub secrets: SecretsConfig,
    pub logging: LoggingConfig,
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Time between the starts of two cycles (`scheduler.interval`, default 5m).
    pub interval: Duration,
    /// Run a cycle immediately at start (default true).
    pub run_on_start: bool,
    /// Consecutive `Exists` cycles needed before an account is restored (default 1).
    pub confirmations: u32,
    /// Send the admin a digest after each cycle (default true).
    pub digest: bool,
}

#[derive(Debug, Clone)]
pub struct CheckersConfig {
    /// Number of CheckerActors (default 3).
    pub count: usize,
    /// Hard limit for one probe (default 30s).
    pub probe_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// SQLite file (default `./data/igwatch.db`).
    pub path: PathBuf,
    /// SQLite busy_timeout (default 5s).
    pub busy_timeout: Duration,
    /// Probe history rows kept per account (default 50).
    pub history_per_account: u32,
}

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// Bot token; `None` means local mode (alerts go to the log).
    pub token: Option<SecretString>,
    /// Bot API base URL without a trailing slash (default `https://api.telegram.org`).
    pub api_url: Url,
    /// Telegram ids that are admins regardless of the database.
    pub admin_ids: Vec<UserId>,
}

/// Which profile API decides in `api` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    InstagramWeb,
    Rapidapi,
}

#[derive(Debug, Clone)]
pub struct InstagramConfig {
    /// Profile API used by `api` mode (default `instagram_web`).
    pub provider: Provider,
    /// Instagram origin (default `https://www.instagram.com`).
    pub base_url: Url,
    /// Value of `x-ig-app-id` (default `936619743392459`).
    pub app_id: String,
    /// User-Agent sent by the HTTP client.
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct RapidApiConfig {
    /// Endpoint called as `GET {url}?ig={username}` (default `https://instagram210.p.rapidapi.com/ig_profile`).
    pub url: Url,
    /// Value of `x-rapidapi-host` (default: the host of `url`).
    pub host: String,
    /// Requests per key per UTC day (default 950).
    pub daily_limit: u32,
}

#[derive(Debug, Clone)]
pub struct WebDriverConfig {
    /// WebDriver endpoints; checkers spread over them (default `http://127.0.0.1:9515`).
    pub urls: Vec<Url>,
    /// Pages before a session is recycled (default 100).
    pub recycle_after: u32,
}

#[derive(Debug, Clone)]
pub struct UsersConfig {
    /// Mode of new users (default `api+browser`).
    pub default_mode: Mode,
    /// Period of a new account when none is given (default 30).
    pub default_days: u32,
    /// Language of users created from the CLI (default `ru`).
    pub default_lang: Lang,
}

#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Messages per second across all chats (default 30).
    pub global_per_second: u32,
    /// Minimum gap between two messages to one chat (default 1s).
    pub per_chat_interval: Duration,
    /// Longest wait between two delivery attempts (default 5m).
    pub max_backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct SecretsConfig {
    /// 32-byte key (base64 or 64 hex digits) from `IGWATCH_SECRET_KEY`, `secrets.key_file`
    /// or `$CREDENTIALS_DIRECTORY/igwatch-secret-key`.
    pub key: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct LoggingConfig {
    /// log4rs YAML file (default `config/log4rs.yaml`); console logging when absent.
    pub config: PathBuf,
    /// Level used when no log4rs file is found (default `info`).
    pub level: log::LevelFilter,
}
