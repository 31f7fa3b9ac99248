//! Configuration: the TOML file and environment turned into a validated `Config`, or every problem listed.
//!
//! Loading never stops at the first problem: the file is parsed into a `toml::Table`, every known
//! section and key is read with its own check, unknown names are reported with a suggestion, and all
//! problems come back together in `ConfigErrors`. Secrets are resolved in this order (first found
//! wins): environment variable, systemd credential (`$CREDENTIALS_DIRECTORY`), then the file keys.

use crate::domain::{Lang, Mode, UserId, Username};
use base64::Engine as _;
use chrono::{FixedOffset, Offset, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::{Table, Value};
use url::Url;

/// Where `load` looks for the configuration when no path is given.
pub const DEFAULT_CONFIG_PATH: &str = "config/igwatch.toml";
/// Environment variable holding the Telegram bot token; beats every other source.
pub const ENV_TELEGRAM_TOKEN: &str = "IGWATCH_TELEGRAM_TOKEN";
/// Environment variable holding the 32-byte encryption key; beats every other source.
pub const ENV_SECRET_KEY: &str = "IGWATCH_SECRET_KEY";
/// Set by systemd when the unit has `LoadCredential=`/`SetCredential=`.
pub const ENV_CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";
/// Credential file name of the Telegram bot token.
pub const CREDENTIAL_TELEGRAM_TOKEN: &str = "igwatch-telegram-token";
/// Credential file name of the encryption key.
pub const CREDENTIAL_SECRET_KEY: &str = "igwatch-secret-key";

/// Every section and its keys, in the order of the example file.
const SCHEMA: &[(&str, &[&str])] = &[
    (
        "scheduler",
        &[
            "interval",
            "run_on_start",
            "confirmations",
            "digest",
            "canary",
        ],
    ),
    ("checkers", &["count", "probe_timeout"]),
    ("database", &["path", "busy_timeout", "history_per_account"]),
    (
        "telegram",
        &["enabled", "token", "token_file", "api_url", "admin_ids"],
    ),
    (
        "instagram",
        &[
            "provider",
            "base_url",
            "app_id",
            "user_agent",
            "allow_private_proxies",
        ],
    ),
    ("rapidapi", &["url", "host", "daily_limit"]),
    ("webdriver", &["urls", "recycle_after"]),
    (
        "egress",
        &[
            "per_minute",
            "burst",
            "jitter",
            "backoff_base",
            "backoff_max",
        ],
    ),
    (
        "users",
        &["default_mode", "default_days", "default_lang", "utc_offset"],
    ),
    ("reminders", &["time", "days_before"]),
    (
        "notifier",
        &["global_per_second", "per_chat_interval", "max_backoff"],
    ),
    ("secrets", &["key_file"]),
    ("logging", &["config", "level"]),
    ("metrics", &["listen"]),
];

const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
const DEFAULT_INSTAGRAM_BASE_URL: &str = "https://www.instagram.com";
const DEFAULT_RAPIDAPI_URL: &str = "https://instagram210.p.rapidapi.com/ig_profile";
const DEFAULT_WEBDRIVER_URL: &str = "http://127.0.0.1:9515";
const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                                  (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const MILLISECOND: Duration = Duration::from_millis(1);

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
    pub egress: EgressConfig,
    pub users: UsersConfig,
    pub notifier: NotifierConfig,
    pub secrets: SecretsConfig,
    pub logging: LoggingConfig,
    pub metrics: MetricsConfig,
    pub reminders: RemindersConfig,
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
    /// A known-live account probed per egress each cycle (default `instagram`); when it is not
    /// `Exists`, that egress's `NotFound`s of the cycle are not trusted.
    pub canary: Username,
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
    /// Accept proxies whose host resolves to loopback or private ranges (default false; tests).
    pub allow_private_proxies: bool,
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

/// The shared budget of each egress (the direct connection or one proxy) towards Instagram.
#[derive(Debug, Clone)]
pub struct EgressConfig {
    /// Requests per minute per egress (default 30).
    pub per_minute: u32,
    /// Requests that may go at once before the rate applies (default 5).
    pub burst: u32,
    /// Random extra wait of up to this before each request (default 1s).
    pub jitter: Duration,
    /// First cool-down after a rate limit or login wall (default 1m), doubling per repeat.
    pub backoff_base: Duration,
    /// Longest cool-down (default 30m).
    pub backoff_max: Duration,
}

#[derive(Debug, Clone)]
pub struct UsersConfig {
    /// Mode of new users (default `api+browser`).
    pub default_mode: Mode,
    /// Period of a new account when none is given (default 30).
    pub default_days: u32,
    /// Language of users created from the CLI (default `ru`).
    pub default_lang: Lang,
    /// Offset used to show dates to operators in their local time (default `+00:00`).
    pub utc_offset: FixedOffset,
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
pub struct RemindersConfig {
    /// Local time of day (in `users.utc_offset`) of the daily expiry reminder (default 10:00).
    pub time: chrono::NaiveTime,
    /// Remind about pending accounts whose period ends within this many days (default 3;
    /// 0 turns the reminder off).
    pub days_before: u32,
}

#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Address of the `/metrics` and `/healthz` listener; `None` (the default) turns it off.
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct LoggingConfig {
    /// log4rs YAML file (default `config/log4rs.yaml`); console logging when absent.
    pub config: PathBuf,
    /// Level used when no log4rs file is found (default `info`).
    pub level: log::LevelFilter,
}

/// One thing wrong with the configuration: the key (or source) it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `section.key`, an environment variable, a credential path or the file itself.
    pub key: String,
    /// What is wrong, never containing a secret value.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found while loading the configuration, displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_problems(.problems))]
pub struct ConfigErrors {
    /// Never empty.
    pub problems: Vec<ConfigProblem>,
}

impl ConfigErrors {
    fn single(key: impl Into<String>, message: impl Into<String>) -> ConfigErrors {
        ConfigErrors {
            problems: vec![ConfigProblem {
                key: key.into(),
                message: message.into(),
            }],
        }
    }
}

fn render_problems(problems: &[ConfigProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Parses a built-in URL constant.
fn builtin_url(text: &'static str) -> Url {
    // Invariant: only called with the `DEFAULT_*_URL` constants above, which are valid absolute
    // URLs; `defaults_are_used_when_there_is_no_file` parses every one of them.
    Url::parse(text).expect("built-in URL constants are valid")
}

impl Default for Config {
    fn default() -> Config {
        let rapidapi_url = builtin_url(DEFAULT_RAPIDAPI_URL);
        let rapidapi_host = rapidapi_url.host_str().unwrap_or_default().to_owned();
        Config {
            scheduler: SchedulerConfig {
                interval: 5 * MINUTE,
                run_on_start: true,
                confirmations: 1,
                digest: true,
                canary: Username::parse("instagram").expect("`instagram` is a valid username"),
            },
            checkers: CheckersConfig {
                count: 3,
                probe_timeout: 30 * SECOND,
            },
            database: DatabaseConfig {
                path: PathBuf::from("./data/igwatch.db"),
                busy_timeout: 5 * SECOND,
                history_per_account: 50,
            },
            telegram: TelegramConfig {
                token: None,
                api_url: builtin_url(DEFAULT_TELEGRAM_API_URL),
                admin_ids: Vec::new(),
            },
            instagram: InstagramConfig {
                provider: Provider::InstagramWeb,
                base_url: builtin_url(DEFAULT_INSTAGRAM_BASE_URL),
                app_id: "936619743392459".to_owned(),
                user_agent: DEFAULT_USER_AGENT.to_owned(),
                allow_private_proxies: false,
            },
            rapidapi: RapidApiConfig {
                url: rapidapi_url,
                host: rapidapi_host,
                daily_limit: 950,
            },
            webdriver: WebDriverConfig {
                urls: vec![builtin_url(DEFAULT_WEBDRIVER_URL)],
                recycle_after: 100,
            },
            egress: EgressConfig {
                per_minute: 30,
                burst: 5,
                jitter: SECOND,
                backoff_base: MINUTE,
                backoff_max: 30 * MINUTE,
            },
            users: UsersConfig {
                default_mode: Mode::ApiBrowser,
                default_days: 30,
                default_lang: Lang::Ru,
                utc_offset: Utc.fix(),
            },
            notifier: NotifierConfig {
                global_per_second: 30,
                per_chat_interval: SECOND,
                max_backoff: 5 * MINUTE,
            },
            secrets: SecretsConfig { key: None },
            logging: LoggingConfig {
                config: PathBuf::from("config/log4rs.yaml"),
                level: log::LevelFilter::Info,
            },
            metrics: MetricsConfig { listen: None },
            reminders: RemindersConfig {
                time: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default(),
                days_before: 3,
            },
        }
    }
}

impl Config {
    /// The 32-byte encryption key, or `None` when no key was configured.
    ///
    /// `load` has already checked that the key decodes, so a configured key is never `None`
    /// here unless the field was replaced by hand with an invalid value.
    pub fn secret_key_bytes(&self) -> Option<[u8; 32]> {
        let key = self.secrets.key.as_ref()?;
        decode_secret_key(key.expose_secret()).ok()
    }

    /// Whether the bot runs (`false` is local mode: accounts from the CLI, alerts to the log).
    pub fn telegram_enabled(&self) -> bool {
        self.telegram.token.is_some()
    }
}

/// Loads the configuration from `path`, or from `config/igwatch.toml` when `path` is `None`
/// (built-in defaults when that file does not exist), then applies environment variables and
/// systemd credentials read through `env`.
pub fn load(
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    load_with_default_path(path, Path::new(DEFAULT_CONFIG_PATH), env)
}

fn load_with_default_path(
    path: Option<&Path>,
    default_path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let (path, required) = match path {
        Some(path) => (path, true),
        None => (default_path, false),
    };
    match std::fs::read_to_string(path) {
        Ok(text) => from_toml_text(&text, &path.display().to_string(), env),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !required => {
            from_toml_text("", &path.display().to_string(), env)
        }
        Err(e) => Err(ConfigErrors::single(
            path.display().to_string(),
            format!("cannot read the configuration file: {e}"),
        )),
    }
}

/// Builds the configuration from TOML text instead of a file (tests, embedded configs).
pub fn from_toml_str(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    from_toml_text(text, "config", env)
}

fn from_toml_text(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigErrors::single(origin, syntax_message(text, &e)))?;
    let mut walk = Walk {
        file: &table,
        problems: Vec::new(),
    };
    walk.check_names();
    let config = walk.config(env);
    if walk.problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors {
            problems: walk.problems,
        })
    }
}

/// "syntax error at line L, column C: what" from a TOML parse error.
fn syntax_message(text: &str, error: &toml::de::Error) -> String {
    let what = error.message().lines().next().unwrap_or("invalid TOML");
    match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("syntax error at line {line}, column {column}: {what}")
        }
        None => format!("syntax error: {what}"),
    }
}

/// Parses a duration such as `"30s"`, `"5m"`, `"1h 30m"` (humantime syntax).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| format!("invalid duration {text:?} (use e.g. \"30s\", \"5m\", \"1h\")"))
}

/// Decodes a 32-byte key given as standard base64 or as 64 hex digits.
///
/// The error message never contains the text, so it is safe to show.
pub fn decode_secret_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = match decode_hex(text) {
        Some(bytes) => bytes,
        None => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| "is neither base64 nor 64 hex digits".to_owned())?,
    };
    let len = bytes.len();
    <[u8; 32]>::try_from(bytes).map_err(|_| {
        format!("decodes to {len} bytes, expected exactly 32 (base64 or 64 hex digits)")
    })
}

/// Decodes exactly 64 hex digits; `None` for anything else.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

/// The walk over a parsed file: reads every known key and collects every problem.
struct Walk<'a> {
    file: &'a Table,
    problems: Vec<ConfigProblem>,
}

impl<'a> Walk<'a> {
    fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// Reports unknown sections, unknown keys and sections that are not tables.
    fn check_names(&mut self) {
        let sections: Vec<&str> = SCHEMA.iter().map(|(name, _)| *name).collect();
        for (name, value) in self.file {
            let Some((_, keys)) = SCHEMA.iter().find(|(section, _)| section == name) else {
                let message = match (closest(name, &sections), owner_section(name)) {
                    (Some(section), _) if value.is_table() => {
                        format!("unknown section (did you mean [{section}]?)")
                    }
                    (_, Some(section)) if !value.is_table() => {
                        format!("unknown key (did you mean {section}.{name}?)")
                    }
                    _ if value.is_table() => "unknown section".to_owned(),
                    _ => "unknown key (every key belongs in a [section])".to_owned(),
                };
                self.problem(name.as_str(), message);
                continue;
            };
            let Some(table) = value.as_table() else {
                self.problem(name.as_str(), type_error("a table", value));
                continue;
            };
            for key in table.keys() {
                if keys.contains(&key.as_str()) {
                    continue;
                }
                // A one-letter slip beats a key of another section, which beats a looser match.
                let near = closest(key, keys);
                let message = match (near, owner_section(key)) {
                    (Some(known), _) if edit_distance(key, known) <= 1 => {
                        format!("unknown key (did you mean \"{known}\"?)")
                    }
                    (_, Some(section)) => format!("unknown key (did you mean {section}.{key}?)"),
                    (Some(known), None) => format!("unknown key (did you mean \"{known}\"?)"),
                    (None, None) => format!("unknown key (known keys: {})", keys.join(", ")),
                };
                self.problem(format!("{name}.{key}"), message);
            }
        }
    }

    /// Reader of one section's keys.
    fn section<'w>(&'w mut self, name: &'static str) -> Section<'w, 'a> {
        Section { walk: self, name }
    }

    fn config(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Config {
        let mut c = Config::default();

        let mut sec = self.section("scheduler");
        let s = &mut c.scheduler;
        sec.read("interval", &mut s.interval, duration_in(SECOND, 7 * DAY));
        sec.read("run_on_start", &mut s.run_on_start, boolean);
        sec.read("confirmations", &mut s.confirmations, integer(1, Some(10)));
        sec.read("digest", &mut s.digest, boolean);
        sec.read("canary", &mut s.canary, |v| {
            Username::parse(string(v)?).map_err(|e| e.to_string())
        });

        let mut sec = self.section("checkers");
        let k = &mut c.checkers;
        sec.read("count", &mut k.count, integer(1, Some(64)));
        let timeout = duration_in(MILLISECOND, 10 * MINUTE);
        sec.read("probe_timeout", &mut k.probe_timeout, timeout);

        let mut sec = self.section("database");
        let d = &mut c.database;
        sec.read("path", &mut d.path, path);
        let timeout = duration_in(MILLISECOND, 10 * MINUTE);
        sec.read("busy_timeout", &mut d.busy_timeout, timeout);
        let rows = integer(1, Some(10_000));
        sec.read("history_per_account", &mut d.history_per_account, rows);

        c.telegram.token = self.telegram_token(env);
        let mut sec = self.section("telegram");
        let t = &mut c.telegram;
        sec.read("api_url", &mut t.api_url, |v| {
            http_url(v).map(trim_trailing_slash)
        });
        sec.read("admin_ids", &mut t.admin_ids, admin_ids);

        let mut sec = self.section("instagram");
        let i = &mut c.instagram;
        sec.read("provider", &mut i.provider, provider);
        sec.read("base_url", &mut i.base_url, http_url);
        sec.read("app_id", &mut i.app_id, non_empty_string);
        sec.read("user_agent", &mut i.user_agent, non_empty_string);
        sec.read(
            "allow_private_proxies",
            &mut i.allow_private_proxies,
            boolean,
        );

        let mut sec = self.section("rapidapi");
        let r = &mut c.rapidapi;
        sec.read("url", &mut r.url, http_url);
        match sec.optional("host", non_empty_string) {
            Some(host) => r.host = host,
            None => {
                if let Some(host) = r.url.host_str() {
                    r.host = host.to_owned();
                }
            }
        }
        sec.read("daily_limit", &mut r.daily_limit, integer(1, None));

        let mut sec = self.section("webdriver");
        let w = &mut c.webdriver;
        sec.read("urls", &mut w.urls, webdriver_urls);
        sec.read("recycle_after", &mut w.recycle_after, integer(1, None));

        let mut sec = self.section("egress");
        let e = &mut c.egress;
        sec.read("per_minute", &mut e.per_minute, integer(1, Some(100_000)));
        sec.read("burst", &mut e.burst, integer(1, Some(10_000)));
        sec.read("jitter", &mut e.jitter, duration_in(Duration::ZERO, MINUTE));
        sec.read(
            "backoff_base",
            &mut e.backoff_base,
            duration_in(SECOND, DAY),
        );
        sec.read("backoff_max", &mut e.backoff_max, duration_in(SECOND, DAY));

        let mut sec = self.section("users");
        let u = &mut c.users;
        sec.read("default_mode", &mut u.default_mode, |v| string(v)?.parse());
        sec.read("default_days", &mut u.default_days, integer(1, Some(3650)));
        sec.read("default_lang", &mut u.default_lang, |v| string(v)?.parse());
        sec.read("utc_offset", &mut u.utc_offset, utc_offset);

        let mut sec = self.section("notifier");
        let n = &mut c.notifier;
        let rate = integer(1, Some(1000));
        sec.read("global_per_second", &mut n.global_per_second, rate);
        let gap = duration_in(Duration::ZERO, HOUR);
        sec.read("per_chat_interval", &mut n.per_chat_interval, gap);
        sec.read("max_backoff", &mut n.max_backoff, duration_in(SECOND, DAY));

        c.secrets.key = self.secret_key(env);

        let mut sec = self.section("logging");
        let l = &mut c.logging;
        sec.read("config", &mut l.config, path);
        sec.read("level", &mut l.level, level);

        let mut sec = self.section("metrics");
        c.metrics.listen = sec.optional("listen", socket_addr);

        let mut sec = self.section("reminders");
        let r = &mut c.reminders;
        sec.read("time", &mut r.time, time_of_day);
        sec.read("days_before", &mut r.days_before, integer(0, Some(365)));

        c
    }

    /// The bot token: `IGWATCH_TELEGRAM_TOKEN`, then the credential, then `telegram.token` or
    /// `telegram.token_file`; `telegram.enabled = false` ignores all of them.
    fn telegram_token(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Option<SecretString> {
        let problems_before = self.problems.len();
        let mut sec = self.section("telegram");
        let enabled = sec.optional("enabled", boolean);
        let in_file = sec.optional("token", |v| string(v).map(str::to_owned));
        let file = sec.optional("token_file", path);
        if in_file.is_some() && file.is_some() {
            self.problem(
                "telegram.token_file",
                "set either telegram.token or telegram.token_file, not both",
            );
        }
        if enabled == Some(false) {
            return None;
        }
        let found = self.first_secret(
            env,
            ENV_TELEGRAM_TOKEN,
            CREDENTIAL_TELEGRAM_TOKEN,
            in_file.map(|token| ("telegram.token", token)),
            file.map(|file| ("telegram.token_file", file)),
        );
        let token = found.and_then(|(source, token)| {
            let problem = if token.is_empty() {
                Some("the token is empty")
            } else if token.chars().any(char::is_whitespace) {
                Some("the token contains whitespace")
            } else {
                None
            };
            match problem {
                Some(message) => {
                    self.problem(source, message);
                    None
                }
                None => Some(SecretString::from(token)),
            }
        });
        // A token source that is present but broken was reported already.
        if token.is_none() && enabled == Some(true) && self.problems.len() == problems_before {
            self.problem(
                "telegram.enabled",
                "telegram.enabled is true but no token was given: set telegram.token, \
                 telegram.token_file or IGWATCH_TELEGRAM_TOKEN",
            );
        }
        token
    }

    /// The encryption key: `IGWATCH_SECRET_KEY`, then the credential, then `secrets.key_file`.
    fn secret_key(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Option<SecretString> {
        let file = self.section("secrets").optional("key_file", path);
        let (source, key) = self.first_secret(
            env,
            ENV_SECRET_KEY,
            CREDENTIAL_SECRET_KEY,
            None,
            file.map(|file| ("secrets.key_file", file)),
        )?;
        match decode_secret_key(&key) {
            Ok(_) => Some(SecretString::from(key)),
            Err(message) => {
                self.problem(source, message);
                None
            }
        }
    }

    /// The first secret found, trimmed, with the name of its source; lower sources are not read
    /// once a higher one is found, so a stale lower source cannot fail the load.
    fn first_secret(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
        variable: &'static str,
        credential: &str,
        inline: Option<(&'static str, String)>,
        file: Option<(&'static str, PathBuf)>,
    ) -> Option<(String, String)> {
        if let Some(value) = env(variable).filter(|v| !v.trim().is_empty()) {
            return Some((variable.to_owned(), value.trim().to_owned()));
        }
        if let Some(dir) = env(ENV_CREDENTIALS_DIRECTORY).filter(|d| !d.is_empty()) {
            let path = Path::new(&dir).join(credential);
            let source = format!("${ENV_CREDENTIALS_DIRECTORY}/{credential}");
            match std::fs::read_to_string(&path) {
                Ok(value) => return Some((source, value.trim().to_owned())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    self.problem(source, format!("cannot read {}: {e}", path.display()));
                    return None;
                }
            }
        }
        if let Some((source, value)) = inline {
            return Some((source.to_owned(), value.trim().to_owned()));
        }
        let (source, path) = file?;
        match std::fs::read_to_string(&path) {
            Ok(value) => Some((source.to_owned(), value.trim().to_owned())),
            Err(e) => {
                self.problem(source, format!("cannot read {}: {e}", path.display()));
                None
            }
        }
    }
}

/// The keys of one section of the file, read through its `Walk`.
struct Section<'w, 'a> {
    walk: &'w mut Walk<'a>,
    name: &'static str,
}

impl<'a> Section<'_, 'a> {
    /// Converts `name.key` when present, recording a problem when it does not convert.
    /// `None` when absent, when it does not convert, or when the section is not a table.
    fn optional<T>(
        &mut self,
        key: &str,
        convert: impl FnOnce(&'a Value) -> Result<T, String>,
    ) -> Option<T> {
        let file: &'a Table = self.walk.file;
        let value = file.get(self.name)?.as_table()?.get(key)?;
        match convert(value) {
            Ok(converted) => Some(converted),
            Err(message) => {
                self.walk.problem(format!("{}.{key}", self.name), message);
                None
            }
        }
    }

    /// Like `optional`, but writes into `target`, which keeps its default otherwise.
    fn read<T>(
        &mut self,
        key: &str,
        target: &mut T,
        convert: impl FnOnce(&'a Value) -> Result<T, String>,
    ) {
        if let Some(value) = self.optional(key, convert) {
            *target = value;
        }
    }
}

/// The closest of `candidates` to `name`, if close enough to be a likely typo.
fn closest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// The section that owns a key named `key`, for keys written in the wrong place.
fn owner_section(key: &str) -> Option<&'static str> {
    SCHEMA
        .iter()
        .find(|(_, keys)| keys.contains(&key))
        .map(|(section, _)| *section)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// "expected a string, found an integer".
fn type_error(expected: &str, found: &Value) -> String {
    let article = match found.type_str() {
        "integer" | "array" => "an",
        _ => "a",
    };
    format!("expected {expected}, found {article} {}", found.type_str())
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| type_error("a string", value))
}

fn non_empty_string(value: &Value) -> Result<String, String> {
    let text = string(value)?.trim();
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(text.to_owned())
}

fn path(value: &Value) -> Result<PathBuf, String> {
    non_empty_string(value).map(PathBuf::from)
}

fn socket_addr(value: &Value) -> Result<std::net::SocketAddr, String> {
    let text = string(value)?;
    text.parse()
        .map_err(|_| format!("invalid listen address \"{text}\" (use e.g. \"127.0.0.1:9184\")"))
}

fn boolean(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| type_error("true or false", value))
}

/// An integer of at least `low` and at most `high` (or the largest `T`).
fn integer<T: TryFrom<i64>>(low: i64, high: Option<i64>) -> impl Fn(&Value) -> Result<T, String> {
    move |value| {
        let n = value
            .as_integer()
            .ok_or_else(|| type_error("an integer", value))?;
        let range = match high {
            Some(high) => format!("between {low} and {high}"),
            None => format!("at least {low}"),
        };
        if n < low || high.is_some_and(|high| n > high) {
            return Err(format!("must be {range}, found {n}"));
        }
        T::try_from(n).map_err(|_| format!("{n} is too large"))
    }
}

/// A humantime duration string between `low` and `high` inclusive.
fn duration_in(low: Duration, high: Duration) -> impl Fn(&Value) -> Result<Duration, String> {
    move |value| {
        let text = value
            .as_str()
            .ok_or_else(|| type_error("a duration string like \"5m\"", value))?;
        let duration = parse_duration(text)?;
        if duration < low || duration > high {
            return Err(format!(
                "{text:?} is out of range (must be between {} and {})",
                humantime::format_duration(low),
                humantime::format_duration(high)
            ));
        }
        Ok(duration)
    }
}

/// An absolute `http` or `https` URL. A password in the URL is never echoed.
fn http_url(value: &Value) -> Result<Url, String> {
    let text = string(value)?.trim();
    let shown = if text.contains('@') {
        "(hidden: contains credentials)"
    } else {
        text
    };
    let url = Url::parse(text).map_err(|e| format!("invalid URL {shown:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("URL {shown:?} must start with http:// or https://"));
    }
    Ok(url)
}

/// Removes trailing slashes from the path, so `{api_url}/bot…` never has `//`.
fn trim_trailing_slash(mut url: Url) -> Url {
    while url.path().len() > 1 && url.path().ends_with('/') {
        match url.path_segments_mut() {
            Ok(mut segments) => {
                segments.pop();
            }
            Err(()) => break,
        }
    }
    url
}

fn webdriver_urls(value: &Value) -> Result<Vec<Url>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| type_error("an array of URLs", value))?;
    if items.is_empty() {
        return Err("must list at least one WebDriver URL".to_owned());
    }
    let mut urls = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match http_url(item) {
            Ok(url) => urls.push(url),
            Err(e) => errors.push(format!("item {}: {e}", i + 1)),
        }
    }
    if errors.is_empty() {
        Ok(urls)
    } else {
        Err(errors.join("; "))
    }
}

fn admin_ids(value: &Value) -> Result<Vec<UserId>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| type_error("an array of Telegram user ids", value))?;
    let mut ids = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_integer() {
            Some(id) if id > 0 => ids.push(UserId(id)),
            Some(id) => errors.push(format!(
                "item {}: must be a positive integer, found {id}",
                i + 1
            )),
            None => errors.push(format!(
                "item {}: {}",
                i + 1,
                type_error("an integer", item)
            )),
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(errors.join("; "))
    }
}

fn provider(value: &Value) -> Result<Provider, String> {
    match string(value)?.trim() {
        "instagram_web" => Ok(Provider::InstagramWeb),
        "rapidapi" => Ok(Provider::Rapidapi),
        other => Err(format!(
            "unknown provider {other:?} (expected \"instagram_web\" or \"rapidapi\")"
        )),
    }
}

fn utc_offset(value: &Value) -> Result<FixedOffset, String> {
    let text = string(value)?.trim();
    text.parse::<FixedOffset>()
        .map_err(|_| format!("invalid UTC offset {text:?} (use e.g. \"+03:00\" or \"-05:30\")"))
}

/// A time of day written `"HH:MM"`.
fn time_of_day(value: &Value) -> Result<chrono::NaiveTime, String> {
    let text = string(value)?.trim();
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("invalid time {text:?} (use 24-hour \"HH:MM\", e.g. \"10:00\")"))
}

fn level(value: &Value) -> Result<log::LevelFilter, String> {
    parse_level(string(value)?)
}

/// Parses a log level name: `error`, `warn`, `info`, `debug` or `trace` (any case).
pub fn parse_level(text: &str) -> Result<log::LevelFilter, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(log::LevelFilter::Error),
        "warn" => Ok(log::LevelFilter::Warn),
        "info" => Ok(log::LevelFilter::Info),
        "debug" => Ok(log::LevelFilter::Debug),
        "trace" => Ok(log::LevelFilter::Trace),
        _ => Err(format!(
            "unknown level {text:?} (expected error, warn, info, debug or trace)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const EXAMPLE: &str = include_str!("../config/igwatch.example.toml");
    /// 32 bytes of 0x01, base64 and hex.
    const KEY_B64: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    const KEY_HEX: &str = "0101010101010101010101010101010101010101010101010101010101010101";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn problems(text: &str) -> Vec<ConfigProblem> {
        from_toml_str(text, &no_env).unwrap_err().problems
    }

    fn keys(problems: &[ConfigProblem]) -> Vec<&str> {
        let mut keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        keys.sort_unstable();
        keys
    }

    fn token(config: &Config) -> Option<&str> {
        config.telegram.token.as_ref().map(|t| t.expose_secret())
    }

    #[test]
    fn defaults_are_used_when_there_is_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("igwatch.toml");
        let config = load_with_default_path(None, &missing, &no_env).unwrap();
        assert_eq!(format!("{config:#?}"), format!("{:#?}", Config::default()));
        assert_eq!(config.scheduler.interval, Duration::from_secs(300));
        assert_eq!(config.database.path, PathBuf::from("./data/igwatch.db"));
        assert_eq!(
            config.telegram.api_url.as_str(),
            "https://api.telegram.org/"
        );
        assert_eq!(
            config.instagram.base_url.as_str(),
            "https://www.instagram.com/"
        );
        assert_eq!(config.rapidapi.host, "instagram210.p.rapidapi.com");
        assert_eq!(config.webdriver.urls[0].as_str(), "http://127.0.0.1:9515/");
        assert_eq!(config.users.utc_offset.local_minus_utc(), 0);
        assert!(config.telegram.token.is_none(), "no token means local mode");
        assert!(!config.telegram_enabled());
        assert!(config.secret_key_bytes().is_none());
    }

    #[test]
    fn default_path_is_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("igwatch.toml");
        std::fs::write(&file, "[checkers]\ncount = 7\n").unwrap();
        let config = load_with_default_path(None, &file, &no_env).unwrap();
        assert_eq!(config.checkers.count, 7);
    }

    #[test]
    fn an_explicit_path_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let errors = load(Some(&missing), &no_env).unwrap_err();
        assert_eq!(errors.problems.len(), 1);
        assert_eq!(errors.problems[0].key, missing.display().to_string());
        assert!(errors.problems[0].message.contains("cannot read"));
    }

    #[test]
    fn the_example_file_parses_and_equals_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/igwatch.example.toml");
        let config = load(Some(&path), &no_env).unwrap();
        assert_eq!(format!("{config:#?}"), format!("{:#?}", Config::default()));
    }

    #[test]
    fn the_example_file_documents_every_key() {
        let table: Table = EXAMPLE.parse().unwrap();
        let sections: Vec<&String> = table.keys().collect();
        let mut expected: Vec<&str> = SCHEMA.iter().map(|(s, _)| *s).collect();
        expected.sort_unstable();
        assert_eq!(sections, expected, "every section, nothing else");
        for (section, keys) in SCHEMA {
            for key in *keys {
                let set = table[*section].as_table().unwrap().contains_key(*key);
                let commented = EXAMPLE.contains(&format!("\n# {key} = "));
                assert!(set || commented, "{section}.{key} is not in the example");
            }
        }
        // Secrets stay commented out so the example never carries one.
        for secret in ["token", "token_file", "key_file"] {
            assert!(
                !table
                    .values()
                    .any(|s| s.as_table().unwrap().contains_key(secret))
            );
        }
    }

    #[test]
    fn a_broken_file_lists_every_problem() {
        let text = r#"
[scheduler]
intervall = "5m"
interval = "5 parsecs"
confirmations = "two"

[checkers]
count = 0

[telegram]
enabled = true
api_url = "ftp://example.org"

[webdriver]
urls = ["http://127.0.0.1:9515", "not a url"]

[shceduler]
digest = true
"#;
        let problems = problems(text);
        assert_eq!(
            keys(&problems),
            [
                "checkers.count",
                "scheduler.confirmations",
                "scheduler.interval",
                "scheduler.intervall",
                "shceduler",
                "telegram.api_url",
                "telegram.enabled",
                "webdriver.urls",
            ],
            "{problems:#?}"
        );
        let message = |key: &str| {
            problems
                .iter()
                .find(|p| p.key == key)
                .map(|p| p.message.clone())
                .unwrap()
        };
        assert_eq!(
            message("scheduler.interval"),
            r#"invalid duration "5 parsecs" (use e.g. "30s", "5m", "1h")"#
        );
        assert_eq!(
            message("scheduler.intervall"),
            r#"unknown key (did you mean "interval"?)"#
        );
        assert_eq!(
            message("shceduler"),
            "unknown section (did you mean [scheduler]?)"
        );
        assert_eq!(
            message("scheduler.confirmations"),
            "expected an integer, found a string"
        );
        assert_eq!(
            message("checkers.count"),
            "must be between 1 and 64, found 0"
        );
        assert!(message("telegram.api_url").contains("http:// or https://"));
        assert!(message("webdriver.urls").starts_with("item 2: invalid URL \"not a url\""));
        assert_eq!(
            message("telegram.enabled"),
            "telegram.enabled is true but no token was given: set telegram.token, \
             telegram.token_file or IGWATCH_TELEGRAM_TOKEN"
        );
    }

    #[test]
    fn errors_display_one_problem_per_line() {
        let errors = from_toml_str(
            "[scheduler]\ninterval = \"5 parsecs\"\nbogus = 1\n",
            &no_env,
        )
        .unwrap_err();
        let text = errors.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines.contains(
            &r#"scheduler.interval: invalid duration "5 parsecs" (use e.g. "30s", "5m", "1h")"#
        ));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("scheduler.bogus: unknown key"))
        );
    }

    #[test]
    fn a_syntax_error_is_one_problem_with_its_line() {
        let problems = problems("[scheduler]\ninterval = \"5m\"\ndigest = tru\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "config");
        assert!(
            problems[0]
                .message
                .starts_with("syntax error at line 3, column"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn misplaced_and_wrongly_typed_names_are_explained() {
        let check = |text: &str, key: &str, message: &str| {
            let problems = problems(text);
            assert_eq!(problems.len(), 1, "{text}: {problems:#?}");
            assert_eq!(
                (problems[0].key.as_str(), problems[0].message.as_str()),
                (key, message)
            );
        };
        check(
            "token = \"x\"",
            "token",
            "unknown key (did you mean telegram.token?)",
        );
        check(
            "[rapidapi]\nurls = \"u\"",
            "rapidapi.urls",
            "unknown key (did you mean \"url\"?)",
        );
        check(
            "[telegram]\nkey_file = \"k\"",
            "telegram.key_file",
            "unknown key (did you mean secrets.key_file?)",
        );
        check(
            "scheduler = 5",
            "scheduler",
            "expected a table, found an integer",
        );
        check("[stats]\nport = 1", "stats", "unknown section");
        check(
            "[scheduler]\ndigest = \"yes\"",
            "scheduler.digest",
            "expected true or false, found a string",
        );
        check(
            "[scheduler]\ninterval = 300",
            "scheduler.interval",
            "expected a duration string like \"5m\", found an integer",
        );
        check(
            "[telegram]\nadmin_ids = [1, -5, \"x\"]",
            "telegram.admin_ids",
            "item 2: must be a positive integer, found -5; item 3: expected an integer, found a string",
        );
        check(
            "[webdriver]\nurls = []",
            "webdriver.urls",
            "must list at least one WebDriver URL",
        );
        check(
            "[instagram]\nprovider = \"graphql\"",
            "instagram.provider",
            "unknown provider \"graphql\" (expected \"instagram_web\" or \"rapidapi\")",
        );
        check(
            "[users]\ndefault_mode = \"fast\"",
            "users.default_mode",
            "unknown mode `fast` (expected api, browser or api+browser)",
        );
        check(
            "[users]\ndefault_lang = \"de\"",
            "users.default_lang",
            "unknown language `de` (expected ru or en)",
        );
        check(
            "[users]\nutc_offset = \"MSK\"",
            "users.utc_offset",
            "invalid UTC offset \"MSK\" (use e.g. \"+03:00\" or \"-05:30\")",
        );
        check(
            "[logging]\nlevel = \"loud\"",
            "logging.level",
            "unknown level \"loud\" (expected error, warn, info, debug or trace)",
        );
        check(
            "[rapidapi]\ndaily_limit = 0",
            "rapidapi.daily_limit",
            "must be at least 1, found 0",
        );
        check(
            "[database]\nhistory_per_account = 10001",
            "database.history_per_account",
            "must be between 1 and 10000, found 10001",
        );
    }

    #[test]
    fn interval_bounds() {
        let cases = [
            ("1s", Some(1)),
            ("90s", Some(90)),
            ("1h 30m", Some(5400)),
            ("7days", Some(7 * 86400)),
            ("0s", None),
            ("500ms", None),
            ("8days", None),
            ("10 years", None),
            ("-5m", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let result = from_toml_str(&format!("[scheduler]\ninterval = {text:?}"), &no_env);
            match expected {
                Some(secs) => assert_eq!(
                    result.unwrap().scheduler.interval,
                    Duration::from_secs(secs),
                    "{text}"
                ),
                None => {
                    let problems = result.unwrap_err().problems;
                    assert_eq!(keys(&problems), ["scheduler.interval"], "{text}");
                }
            }
        }
        assert_eq!(
            problems("[scheduler]\ninterval = \"10 years\"")[0].message,
            "\"10 years\" is out of range (must be between 1s and 7days)"
        );
    }

    #[test]
    fn values_from_the_file_are_used() {
        let text = r#"
[telegram]
token = "123:abc"
api_url = "http://127.0.0.1:8081/custom//"
admin_ids = [42, 7]

[rapidapi]
url = "http://127.0.0.1:9000/ig_profile"

[users]
utc_offset = "+05:30"
default_mode = "api"
default_lang = "en"

[logging]
level = "debug"
"#;
        let config = from_toml_str(text, &no_env).unwrap();
        assert_eq!(token(&config), Some("123:abc"));
        assert!(config.telegram_enabled());
        assert_eq!(
            config.telegram.api_url.as_str(),
            "http://127.0.0.1:8081/custom"
        );
        assert_eq!(config.telegram.admin_ids, [UserId(42), UserId(7)]);
        assert_eq!(config.rapidapi.host, "127.0.0.1", "host follows the url");
        assert_eq!(
            config.users.utc_offset.local_minus_utc(),
            5 * 3600 + 30 * 60
        );
        assert_eq!(config.users.default_mode, Mode::Api);
        assert_eq!(config.users.default_lang, Lang::En);
        assert_eq!(config.logging.level, log::LevelFilter::Debug);
    }

    #[test]
    fn environment_beats_credentials_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::write(creds.join(CREDENTIAL_TELEGRAM_TOKEN), "2:cred\n").unwrap();
        std::fs::write(creds.join(CREDENTIAL_SECRET_KEY), format!("{KEY_HEX}\n")).unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "not a key").unwrap();
        let text = format!(
            "[telegram]\ntoken = \"1:file\"\n[secrets]\nkey_file = {:?}\n",
            key_file.display().to_string()
        );
        let creds_dir = creds.display().to_string();

        let file_only = from_toml_str(&text.replace("not", ""), &no_env);
        assert_eq!(
            keys(&file_only.unwrap_err().problems),
            ["secrets.key_file"],
            "the file key is read when nothing beats it"
        );

        let with_creds = env_of(&[(ENV_CREDENTIALS_DIRECTORY, &creds_dir)]);
        let config = from_toml_str(&text, &with_creds).unwrap();
        assert_eq!(token(&config), Some("2:cred"));
        assert_eq!(config.secret_key_bytes(), Some([1; 32]));

        let with_env = env_of(&[
            (ENV_CREDENTIALS_DIRECTORY, &creds_dir),
            (ENV_TELEGRAM_TOKEN, "3:env"),
            (ENV_SECRET_KEY, KEY_B64),
        ]);
        let config = from_toml_str(&text, &with_env).unwrap();
        assert_eq!(token(&config), Some("3:env"));
        assert_eq!(config.secret_key_bytes(), Some([1; 32]));
    }

    #[test]
    fn file_keys_read_files() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        let key_file = dir.path().join("key");
        std::fs::write(&token_file, "  4:from-file\n").unwrap();
        std::fs::write(&key_file, format!("{KEY_B64}\n")).unwrap();
        let text = format!(
            "[telegram]\ntoken_file = {:?}\n[secrets]\nkey_file = {:?}\n",
            token_file.display().to_string(),
            key_file.display().to_string()
        );
        let config = from_toml_str(&text, &no_env).unwrap();
        assert_eq!(token(&config), Some("4:from-file"));
        assert_eq!(config.secret_key_bytes(), Some([1; 32]));

        let missing = dir.path().join("missing");
        let text = format!(
            "[telegram]\nenabled = true\ntoken_file = {:?}\n",
            missing.display().to_string()
        );
        let problems = problems(&text);
        assert_eq!(
            keys(&problems),
            ["telegram.token_file"],
            "one problem, not two"
        );
    }

    #[test]
    fn an_empty_credentials_directory_falls_through() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(&[(ENV_CREDENTIALS_DIRECTORY, &dir.path().display().to_string())]);
        let config = from_toml_str("[telegram]\ntoken = \"5:file\"", &env).unwrap();
        assert_eq!(token(&config), Some("5:file"));
    }

    #[test]
    fn telegram_enabled_decides_local_mode() {
        let env = env_of(&[(ENV_TELEGRAM_TOKEN, "6:env")]);
        let on = from_toml_str("", &env).unwrap();
        assert!(on.telegram_enabled(), "absent: on when a token is found");
        let off = from_toml_str("[telegram]\nenabled = false\ntoken = \"1:x\"", &env).unwrap();
        assert!(off.telegram.token.is_none(), "false: local mode");
        let forced = from_toml_str("[telegram]\nenabled = true", &env).unwrap();
        assert_eq!(token(&forced), Some("6:env"));
        assert_eq!(
            keys(&problems("[telegram]\nenabled = true")),
            ["telegram.enabled"]
        );
        assert_eq!(
            keys(&problems("[telegram]\ntoken = \"1:a\"\ntoken_file = \"t\"")),
            ["telegram.token_file"]
        );
        assert_eq!(
            keys(&problems("[telegram]\ntoken = \"1: a\"")),
            ["telegram.token"]
        );
    }

    #[test]
    fn secrets_never_appear_in_problems_or_debug() {
        let bad_key = "c2VjcmV0LWJ1dC1zaG9ydA==";
        let env = env_of(&[
            (ENV_SECRET_KEY, bad_key),
            (ENV_TELEGRAM_TOKEN, "7:supersecret"),
        ]);
        let errors = from_toml_str("[telegram]\ntoken = 12", &env).unwrap_err();
        let shown = errors.to_string();
        assert!(
            shown.contains("IGWATCH_SECRET_KEY: decodes to 16 bytes"),
            "{shown}"
        );
        assert!(
            !shown.contains(bad_key) && !shown.contains("supersecret"),
            "{shown}"
        );

        let env = env_of(&[
            (ENV_SECRET_KEY, KEY_HEX),
            (ENV_TELEGRAM_TOKEN, "7:supersecret"),
        ]);
        let config = from_toml_str("", &env).unwrap();
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("supersecret") && !debug.contains(KEY_HEX),
            "{debug}"
        );

        let problems =
            problems("[webdriver]\nurls = [\"http://user:pw@host:9515\", \"ftp://user:pw@h\"]");
        assert!(!problems[0].message.contains("pw"), "{problems:?}");
    }

    #[test]
    fn secret_keys_decode_from_base64_or_hex() {
        assert_eq!(decode_secret_key(KEY_B64), Ok([1; 32]));
        assert_eq!(decode_secret_key(&format!(" {KEY_HEX}\n")), Ok([1; 32]));
        assert_eq!(decode_secret_key(&KEY_HEX.to_uppercase()), Ok([1; 32]));
        let mut hex = KEY_HEX.to_owned();
        hex.replace_range(0..2, "fF");
        assert_eq!(decode_secret_key(&hex).map(|k| k[0]), Ok(0xff));
        assert!(
            decode_secret_key(&KEY_HEX[2..]).is_err(),
            "31 bytes of hex is not base64 of 32"
        );
        assert!(decode_secret_key("AQID").unwrap_err().contains("3 bytes"));
        assert!(decode_secret_key("%%%").is_err());
        assert!(decode_secret_key("").is_err());
    }

    #[test]
    fn durations_parse_like_operators_write_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 5m "), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(
            parse_duration("5 parsecs"),
            Err(r#"invalid duration "5 parsecs" (use e.g. "30s", "5m", "1h")"#.to_owned())
        );
    }

    #[test]
    fn suggestions_only_for_close_names() {
        assert_eq!(
            closest("intervall", &["interval", "digest"]),
            Some("interval")
        );
        assert_eq!(closest("dgest", &["interval", "digest"]), Some("digest"));
        assert_eq!(closest("port", &["interval", "digest"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
