//! `igwatch doctor`: checks the configuration, the database, the encryption key, every WebDriver
//! endpoint, the Telegram token and Instagram (the canary) and prints one `✓`/`✗` line each, a
//! `✗` line with a concrete hint. Exit 0 when all pass, 1 on any `✗`, 2 for an invalid config.

use super::exit;
use crate::check::{ApiProber, NoKeys, build_client, install_crypto_provider};
use crate::config::{Config, ConfigErrors, DEFAULT_CONFIG_PATH, Provider};
use crate::domain::{UnknownReason, Username, Verdict};
use crate::secret::SecretCipher;
use crate::store::{Inspection, Store};
use crate::telegram::{BotClient, SendError};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thirtyfour::common::capabilities::chromium::ChromiumLikeCapabilities;
use thirtyfour::{DesiredCapabilities, WebDriver};
use url::Url;

/// Longest wait for chromedriver's `/status`.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a browser session to start (Chromium's first start on a small VPS is slow).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// The switches the checkers start Chromium with; `--no-sandbox` because the systemd unit's
/// sandbox replaces Chromium's own (see systemd/igwatch-chromedriver.service).
const CHROMIUM_ARGS: [&str; 4] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
];

/// The outcome of one check: a line of text, with a hint when it failed.
enum Line {
    Pass(String),
    Fail { what: String, hint: String },
}

impl Line {
    fn fail(what: impl Into<String>, hint: impl Into<String>) -> Line {
        Line::Fail {
            what: what.into(),
            hint: hint.into(),
        }
    }
}

/// Prints lines as the checks finish and remembers whether any failed.
#[derive(Default)]
struct Report {
    failed: bool,
}

impl Report {
    fn print(&mut self, line: Line) {
        match line {
            Line::Pass(text) => say!("✓ {text}"),
            Line::Fail { what, hint } => {
                self.failed = true;
                say!("✗ {what} — {hint}");
            }
        }
    }
}

/// `doctor` when the configuration did not load: the `✗` line, every problem, exit 2.
pub(super) fn config_invalid(path: Option<&Path>, problems: &ConfigErrors) -> u8 {
    say!(
        "✗ Configuration: {} has problems — fix each one below (`igwatch check-config` lists the same):",
        config_name(path)
    );
    say!("{problems}");
    exit::INVALID
}

pub(super) fn doctor(config: &Config, path: Option<&Path>) -> u8 {
    let mut report = Report::default();
    report.print(Line::Pass(format!(
        "Configuration: {} is valid",
        config_name(path)
    )));

    let cipher = config.secret_key_bytes().map(SecretCipher::new);
    let db = &config.database.path;
    let inspection = Store::inspect(db, config.database.busy_timeout, cipher.as_ref());
    report.print(database_line(db, &inspection));
    report.print(key_line(cipher.is_some(), inspection.as_ref().ok()));

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            report.print(Line::fail(
                format!("Network checks: could not start the async runtime: {err}"),
                "the machine is out of threads or file descriptors; check `ulimit -n` and TasksMax=",
            ));
            return exit::FAILURE;
        }
    };
    install_crypto_provider();
    runtime.block_on(async {
        for url in &config.webdriver.urls {
            report.print(webdriver_line(url).await);
        }
        report.print(telegram_line(config).await);
        report.print(instagram_line(config).await);
    });
    if report.failed {
        exit::FAILURE
    } else {
        exit::OK
    }
}

fn config_name(path: Option<&Path>) -> String {
    match path {
        Some(path) => path.display().to_string(),
        None if Path::new(DEFAULT_CONFIG_PATH).exists() => DEFAULT_CONFIG_PATH.to_owned(),
        None => "the built-in defaults (no config file)".to_owned(),
    }
}

fn database_line(
    db: &Path,
    inspection: &Result<Option<Inspection>, crate::store::StoreError>,
) -> Line {
    let name = db.display();
    match inspection {
        Ok(None) => Line::Pass(format!(
            "Database: {name} does not exist yet; `igwatch run` creates it"
        )),
        Ok(Some(seen)) if seen.pending == 0 => Line::Pass(format!(
            "Database: {name} opens; schema current ({} migrations applied)",
            seen.applied
        )),
        Ok(Some(seen)) => Line::fail(
            format!(
                "Database: {name} has {} pending migration(s) ({} applied)",
                seen.pending, seen.applied
            ),
            "`igwatch run` applies them at start; take a backup first: `igwatch backup FILE`",
        ),
        Err(err) => Line::fail(
            format!("Database: cannot open {name}: {}", error_chain(err)),
            "check database.path (a relative path resolves against the working directory, \
             /var/lib/igwatch under systemd) and that this user may read the file and its directory",
        ),
    }
}

fn key_line(configured: bool, inspection: Option<&Option<Inspection>>) -> Line {
    let seen = inspection.and_then(Option::as_ref);
    let checked = seen.map_or(0, |s| s.secrets_checked);
    let failed: Vec<String> = seen
        .map(|s| s.secrets_failed.iter().map(|o| o.0.to_string()).collect())
        .unwrap_or_default();
    if !configured {
        let what = if checked > 0 {
            format!("Encryption key: none configured, but {checked} owner(s) have stored secrets")
        } else {
            "Encryption key: none configured".to_owned()
        };
        return Line::fail(
            what,
            "generate one with `head -c 32 /dev/urandom | base64 > /etc/igwatch/secret-key` \
             (chmod 600) and pass it as the igwatch-secret-key credential or IGWATCH_SECRET_KEY; \
             RapidAPI keys, cookies and proxy passwords are only stored encrypted",
        );
    }
    if !failed.is_empty() {
        return Line::fail(
            format!(
                "Encryption key: the key does not decrypt stored secrets (owners {})",
                failed.join(", ")
            ),
            "this is not the key they were stored with: restore the original igwatch-secret-key, \
             or remove and re-add those owners' RapidAPI keys (`igwatch keys remove/add`)",
        );
    }
    match (inspection, checked) {
        (None, _) => Line::Pass(
            "Encryption key: present (stored secrets not checked: the database did not open)"
                .to_owned(),
        ),
        (Some(_), 0) => Line::Pass("Encryption key: present (no stored secrets yet)".to_owned()),
        (Some(_), n) => Line::Pass(format!(
            "Encryption key: present; decrypts the stored secrets ({n} owner(s) checked)"
        )),
    }
}

async fn webdriver_line(url: &Url) -> Line {
    let name = format!("WebDriver {url}");
    let unreachable_hint = format!(
        "chromedriver not reachable at {url}: start igwatch-chromedriver.service \
         (`systemctl status igwatch-chromedriver`) or set webdriver.urls"
    );
    let status_url = format!("{}/status", url.as_str().trim_end_matches('/'));
    let client = match reqwest::Client::builder().timeout(STATUS_TIMEOUT).build() {
        Ok(client) => client,
        Err(err) => {
            return Line::fail(
                format!(
                    "{name}: failed to build an HTTP client: {}",
                    err.without_url()
                ),
                "this is a bug in igwatch; please report it",
            );
        }
    };
    let status: serde_json::Value = match client.get(&status_url).send().await {
        Ok(response) => match response.json().await {
            Ok(value) => value,
            Err(err) => {
                return Line::fail(
                    format!(
                        "{name}: /status is not WebDriver JSON: {}",
                        err.without_url()
                    ),
                    format!(
                        "{url} is not chromedriver; set webdriver.urls to chromedriver's address"
                    ),
                );
            }
        },
        Err(err) => {
            return Line::fail(
                format!(
                    "{name}: not reachable ({})",
                    error_chain(&err.without_url())
                ),
                unreachable_hint,
            );
        }
    };
    let ready = status["value"]["ready"].as_bool().unwrap_or(false);
    if !ready {
        let message = status["value"]["message"].as_str().unwrap_or("no message");
        return Line::fail(
            format!("{name}: not ready ({message})"),
            "chromedriver answers but refuses sessions; restart igwatch-chromedriver.service",
        );
    }
    let mut caps = DesiredCapabilities::chrome();
    for arg in CHROMIUM_ARGS {
        if let Err(err) = caps.add_arg(arg) {
            return Line::fail(
                format!("{name}: failed to build the capabilities: {err}"),
                "this is a bug in igwatch; please report it",
            );
        }
    }
    let started = Instant::now();
    let session = tokio::time::timeout(
        SESSION_TIMEOUT,
        WebDriver::builder(url.as_str(), caps).request_timeout(SESSION_TIMEOUT),
    )
    .await;
    let hint = "chromedriver cannot start Chromium: install it (`apt install chromium`, the same \
                version as chromium-driver) and read `journalctl -u igwatch-chromedriver`";
    match session {
        Ok(Ok(driver)) => {
            let took = started.elapsed();
            match driver.quit().await {
                Ok(()) => Line::Pass(format!(
                    "{name}: ready; a headless Chromium session started in {:.1} s and quit",
                    took.as_secs_f64()
                )),
                Err(err) => Line::fail(
                    format!(
                        "{name}: the session started but did not quit: {}",
                        first_line(&err.to_string())
                    ),
                    "restart igwatch-chromedriver.service; stray Chromium processes die with it",
                ),
            }
        }
        Ok(Err(err)) => Line::fail(
            format!("{name}: no session: {}", first_line(&err.to_string())),
            hint,
        ),
        Err(_) => Line::fail(
            format!("{name}: no session within {} s", SESSION_TIMEOUT.as_secs()),
            hint,
        ),
    }
}

async fn telegram_line(config: &Config) -> Line {
    let Some(token) = &config.telegram.token else {
        return Line::Pass("Telegram: local mode (no token)".to_owned());
    };
    let api = &config.telegram.api_url;
    let client = match BotClient::new(token, api) {
        Ok(client) => client,
        Err(err) => {
            return Line::fail(
                format!("Telegram: cannot build the client: {err}"),
                "set telegram.api_url to the Bot API origin, e.g. https://api.telegram.org",
            );
        }
    };
    match client.get_me().await {
        Ok(name) => Line::Pass(format!("Telegram: the token works (bot @{name} at {api})")),
        Err(SendError::Unauthorized) => Line::fail(
            format!("Telegram: {api} refused the bot token (getMe: 401/404)"),
            "copy the token from @BotFather (/mybots → API Token) into /etc/igwatch/telegram-token \
             (the igwatch-telegram-token credential) or IGWATCH_TELEGRAM_TOKEN; a revoked token \
             needs the new one",
        ),
        Err(err @ (SendError::Transient(_) | SendError::RetryAfter(_))) => Line::fail(
            format!("Telegram: getMe failed: {err}"),
            format!(
                "cannot reach {api}: check DNS, the firewall and outbound HTTPS, or telegram.api_url"
            ),
        ),
        Err(err) => Line::fail(
            format!("Telegram: getMe failed: {err}"),
            "check telegram.api_url and the token",
        ),
    }
}

async fn instagram_line(config: &Config) -> Line {
    let base = config.instagram.base_url.clone();
    // `scheduler.canary`: an account that must always read as `exists`; anything else means
    // probes from this egress cannot be trusted.
    let canary = config.scheduler.canary.clone();
    // Direct egress and Instagram's own web API: the check needs no RapidAPI quota.
    let mut direct = config.clone();
    direct.instagram.provider = Provider::InstagramWeb;
    let client = match build_client(&direct) {
        Ok(client) => client,
        Err(err) => {
            return Line::fail(
                format!(
                    "Instagram: failed to build the HTTP client: {}",
                    err.without_url()
                ),
                "check instagram.user_agent",
            );
        }
    };
    let prober = ApiProber::new(Arc::new(direct), Arc::new(NoKeys));
    let outcome = prober.probe(&client, &canary, &[]).await;
    // A network error or a timeout has no rule to name.
    let rule = outcome
        .rule
        .as_deref()
        .map(|rule| format!(" (rule {rule})"))
        .unwrap_or_default();
    let what = |verdict: &str| format!("Instagram: canary @{canary} at {base} is {verdict}{rule}");
    match outcome.verdict {
        Verdict::Exists { .. } => Line::Pass(format!(
            "Instagram: {base} reachable; canary @{canary} exists{rule}"
        )),
        Verdict::NotFound => Line::fail(
            what("not_found"),
            "Instagram says an account that exists does not: probes from this IP cannot be \
             trusted (a soft block); use another egress (proxy) or check instagram.base_url",
        ),
        Verdict::Unknown { reason } => Line::fail(
            what(&format!("unknown ({})", reason.as_str())),
            unknown_hint(reason, &base, &canary),
        ),
    }
}

fn unknown_hint(reason: UnknownReason, base: &Url, canary: &Username) -> String {
    match reason {
        UnknownReason::RateLimited => "Instagram rate-limits this IP: wait, lower checkers.count, \
             raise scheduler.interval, or add proxies"
            .to_owned(),
        UnknownReason::LoginWall | UnknownReason::SessionFlagged => {
            "Instagram shows a login wall to this IP: add an Instagram session (cookies) or \
             proxies, or set instagram.provider = \"rapidapi\""
                .to_owned()
        }
        UnknownReason::Network | UnknownReason::Timeout => format!(
            "cannot reach {base}: check DNS, the firewall and outbound HTTPS, or instagram.base_url"
        ),
        UnknownReason::ServerError => {
            "Instagram answered with a server error; retry later".to_owned()
        }
        _ => format!("`igwatch check {canary} --json` shows what was answered"),
    }
}

/// The error and its causes on one line (`a: b: c`), so the operator sees the root cause.
pub(super) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// chromedriver errors carry a stack trace after the first line.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
