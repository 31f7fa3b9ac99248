//! One WebDriver session driving headless Chromium, and the browser probe of a profile page.
//!
//! A checker owns one [`BrowserSession`]: it is created with [`BrowserSession::connect`], reused for
//! many probes (a session costs ~0.5–1 s to create), replaced when [`BrowserError::session_lost`]
//! says so or after `recycle_after` pages ([`BrowserSession::pages`]), and closed with
//! [`BrowserSession::quit`]. A probe opens the Instagram origin, installs the owner's cookies, opens
//! `/{username}/`, classifies the page with `detect`'s page rules and, only for `Exists`, takes a
//! proof screenshot that is never blank.

mod error;
mod profile_dir;

pub use error::BrowserError;

use super::screenshot::is_blank;
use crate::detect::{Classified, PageObservation, classify_profile_page};
use crate::domain::{Cookie, UnknownReason, Username, Verdict};
use error::{error_page_code, is_driver_timeout, navigation_net_error, net_error_reason};
use profile_dir::ProfileDir;
use secrecy::ExposeSecret;
use serde_json::json;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;
use thirtyfour::error::WebDriverResult;
use thirtyfour::{
    By, ChromeCapabilities, ChromiumLikeCapabilities, TimeoutConfiguration, WebDriver,
};
use tokio::time::{Instant, sleep, timeout};
use url::{Host, Url};

/// Debian's Chromium. Set as the binary only when the WebDriver endpoint is on this machine and the
/// file exists; a Selenium Grid node or a remote chromedriver picks its own browser.
const CHROMIUM_BINARY: &str = "/usr/bin/chromium";

/// W3C script timeout (default 30 s); our scripts are one-liners.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Our own deadline for starting a browser (chromedriver has its own, ~60 s, too long for a checker).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Our own deadline for one WebDriver command other than a navigation (screenshots included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// A navigation may take the page-load timeout plus this before we call the endpoint unresponsive.
const NAVIGATION_MARGIN: Duration = Duration::from_secs(10);
/// After a page-load timeout, the session is kept only if it answers a trivial command within this.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline for deleting the session at quit; after it the session is abandoned to the driver.
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);
/// A page that no rule recognises is re-read for this long (Instagram renders client-side).
const SETTLE: Duration = Duration::from_secs(3);
/// How long to wait for the profile `<header>` before falling back to a viewport screenshot.
const HEADER_WAIT: Duration = Duration::from_secs(3);
/// Pause between two polls of the page.
const POLL: Duration = Duration::from_millis(250);

/// How to reach a WebDriver endpoint and how the browser behind it is configured.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// A chromedriver or a Selenium Grid (4.x: no `/wd/hub` path needed).
    pub webdriver_url: Url,
    /// A proxy without credentials Chromium can use as is, e.g. `http://127.0.0.1:40123` (a local
    /// forwarder when the real proxy needs a password: Chromium cannot send one).
    pub proxy: Option<String>,
    /// W3C page-load timeout of every navigation.
    pub page_load_timeout: Duration,
    /// UI and `Accept-Language` language, e.g. `en-US`, so Instagram's texts match the rules.
    pub lang: String,
}

/// What a browser probe concluded, the rule that decided, and the proof image for `Exists`.
#[derive(Clone)]
pub struct BrowserProbe {
    pub verdict: Verdict,
    /// A `PROFILE_PAGE_RULES` name, or one of the browser's own: `page_load_timeout`,
    /// `blank_screenshot`, `proxy_error`, `proxy_auth_error`, `network_error`, `network_timeout`,
    /// `error_page`.
    pub rule: &'static str,
    /// A non-blank PNG of the profile header (or the viewport); only with `Exists`.
    pub screenshot: Option<Vec<u8>>,
    /// The URL the browser ended on.
    pub final_url: String,
}

impl fmt::Debug for BrowserProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserProbe")
            .field("verdict", &self.verdict)
            .field("rule", &self.rule)
            .field("screenshot_bytes", &self.screenshot.as_ref().map(Vec::len))
            .field("final_url", &self.final_url)
            .finish()
    }
}

impl BrowserProbe {
    pub(crate) fn unknown(reason: UnknownReason, rule: &'static str, final_url: String) -> Self {
        BrowserProbe {
            verdict: Verdict::unknown(reason),
            rule,
            screenshot: None,
            final_url,
        }
    }
}

/// A navigation that ended without a page to classify.
struct Failed {
    reason: UnknownReason,
    rule: &'static str,
}

/// One profile page as read from the browser.
struct Observed {
    final_url: String,
    classified: Classified,
}

/// One WebDriver session with one Chromium. Not shared: one probe at a time.
///
/// Always end it with [`BrowserSession::quit`]: dropping it instead makes thirtyfour delete the
/// session synchronously (blocking the executor for up to the request timeout). A probe whose
/// future was cancelled mid-command leaves the browser in an unknown state: quit that session.
pub struct BrowserSession {
    // Field order matters: the driver (whose drop deletes the session) goes before the profile dir.
    driver: WebDriver,
    profile: Option<ProfileDir>,
    pages: u32,
    proxied: bool,
    navigation_timeout: Duration,
    /// An owner's cookies are in the browser: the next anonymous probe must clear them first.
    has_owner_cookies: bool,
}

impl fmt::Debug for BrowserSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrowserSession")
            .field("session", &self.driver.session_id().to_string())
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl BrowserSession {
    /// Starts a browser session on `options.webdriver_url`.
    ///
    /// # Errors
    /// The profile directory cannot be created, or the endpoint refuses, fails or does not answer
    /// within 30 s (then `session_lost()` is true: back off and retry).
    pub async fn connect(options: &BrowserOptions) -> Result<BrowserSession, BrowserError> {
        let navigation_timeout = options.page_load_timeout + NAVIGATION_MARGIN;
        let request_timeout = navigation_timeout + NAVIGATION_MARGIN;
        let client = super::http::webdriver_client(request_timeout)
            .map_err(|e| BrowserError::Client(e.without_url().to_string()))?;
        let local = is_loopback(&options.webdriver_url);
        // A remote driver's browser cannot use a directory on this machine; chromedriver then
        // creates and removes its own temporary profile.
        let profile = if local {
            Some(ProfileDir::create().map_err(BrowserError::Profile)?)
        } else {
            None
        };
        let binary = local && Path::new(CHROMIUM_BINARY).exists();
        let caps = capabilities(options, profile.as_ref().and_then(ProfileDir::path), binary)
            .map_err(|e| BrowserError::driver("build the browser capabilities", &e))?;
        let builder = WebDriver::builder(options.webdriver_url.as_str(), caps)
            .request_timeout(request_timeout)
            .client(client);
        let driver = match timeout(CONNECT_TIMEOUT, builder.connect()).await {
            Ok(Ok(driver)) => driver,
            Ok(Err(e)) => {
                let error = BrowserError::driver("start a browser session", &e);
                if let Some(profile) = profile {
                    profile.remove().await;
                }
                return Err(error);
            }
            Err(_) => {
                if let Some(profile) = profile {
                    profile.remove().await;
                }
                return Err(BrowserError::Unresponsive {
                    action: "start a browser session",
                    after: CONNECT_TIMEOUT,
                });
            }
        };
        // thirtyfour resets the timeouts to 60 s after creating a session, so a `timeouts`
        // capability would not survive: set them on the session.
        let timeouts = TimeoutConfiguration::new(
            Some(SCRIPT_TIMEOUT),
            Some(options.page_load_timeout),
            Some(Duration::ZERO),
        );
        if let Err(error) = command("set the timeouts", driver.update_timeouts(timeouts)).await {
            let session = BrowserSession {
                driver,
                profile,
                pages: 0,
                proxied: false,
                navigation_timeout,
                has_owner_cookies: false,
            };
            session.quit().await;
            return Err(error);
        }
        log::info!(
            "Browser session started on {}{}.",
            endpoint(&options.webdriver_url),
            if options.proxy.is_some() {
                " through a proxy"
            } else {
                ""
            }
        );
        Ok(BrowserSession {
            driver,
            profile,
            pages: 0,
            proxied: options.proxy.is_some(),
            navigation_timeout,
            has_owner_cookies: false,
        })
    }

    /// Page loads so far (origin pages and reloads included), for recycling the session.
    #[must_use]
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// The temporary Chromium profile directory, when this machine runs the browser.
    #[must_use]
    pub fn profile_dir(&self) -> Option<&Path> {
        self.profile.as_ref().and_then(ProfileDir::path)
    }

    /// Deletes the session and removes the profile directory. Await it before the process exits;
    /// a dead endpoint is given up on after 10 s.
    pub async fn quit(self) {
        let BrowserSession {
            driver, profile, ..
        } = self;
        let abandon = driver.clone();
        let failure = match timeout(QUIT_TIMEOUT, driver.quit()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(BrowserError::driver("close the browser session", &e).to_string()),
            Err(_) => Some(
                BrowserError::Unresponsive {
                    action: "close the browser session",
                    after: QUIT_TIMEOUT,
                }
                .to_string(),
            ),
        };
        match failure {
            Some(failure) => {
                log::warn!("Browser session abandoned: {failure}.");
                // Without this the last handle's drop would retry the DELETE synchronously, blocking
                // the executor on an endpoint known to be dead. `Err` means it did quit after all.
                let _ = abandon.leak();
            }
            None => drop(abandon),
        }
        if let Some(profile) = profile {
            profile.remove().await;
        }
    }

    /// Probes `{base_url}/{username}/` with the owner's `cookies` (none: an anonymous browser).
    ///
    /// # Errors
    /// Only failures of the session itself; check [`BrowserError::session_lost`]. Everything the page
    /// says, including timeouts, proxy and network errors, is a verdict.
    pub async fn probe(
        &mut self,
        base_url: &Url,
        username: &Username,
        cookies: &[Cookie],
    ) -> Result<BrowserProbe, BrowserError> {
        let base = base_url.as_str().trim_end_matches('/');
        // Cookies of an earlier owner must not follow the session into this probe.
        if !cookies.is_empty() || self.has_owner_cookies {
            // Any document of the origin lets us set its cookies; robots.txt is a few hundred bytes
            // where the home page is megabytes of script through a paid proxy.
            let origin = format!("{base}/robots.txt");
            if let Err(failed) = self.open(&origin).await? {
                return Ok(BrowserProbe::unknown(failed.reason, failed.rule, origin));
            }
            self.install_cookies(base_url, cookies).await?;
        }
        let profile_url = format!("{base}/{username}/");
        let mut final_url = profile_url.clone();
        // A blank screenshot earns one reload; a second blank one is no proof at all.
        for attempt in 0..2 {
            if attempt > 0 {
                log::info!(
                    "Blank screenshot of account={username}, reloading the profile page once."
                );
            }
            if let Err(failed) = self.open(&profile_url).await? {
                return Ok(BrowserProbe::unknown(
                    failed.reason,
                    failed.rule,
                    profile_url,
                ));
            }
            let observed = match self.observe(base_url, username).await? {
                Ok(observed) => observed,
                Err(failed) => {
                    return Ok(BrowserProbe::unknown(
                        failed.reason,
                        failed.rule,
                        profile_url,
                    ));
                }
            };
            if !matches!(observed.classified.verdict, Verdict::Exists { .. }) {
                return Ok(self.without_screenshot(observed));
            }
            let png = self.capture().await?;
            if !is_blank(&png) {
                return Ok(with_screenshot(observed, png));
            }
            final_url = observed.final_url;
        }
        log::warn!("Blank screenshot of account={username} twice, no proof taken.");
        Ok(BrowserProbe::unknown(
            UnknownReason::BlankScreenshot,
            "blank_screenshot",
            final_url,
        ))
    }

    fn without_screenshot(&self, observed: Observed) -> BrowserProbe {
        BrowserProbe {
            verdict: observed.classified.verdict,
            rule: observed.classified.rule,
            screenshot: None,
            final_url: observed.final_url,
        }
    }

    /// Navigates to `url`. The outer error is a session failure; the inner one a page that could
    /// not be loaded (a timeout while the session still answers, a proxy or network error).
    async fn open(&mut self, url: &str) -> Result<Result<(), Failed>, BrowserError> {
        self.pages += 1;
        let action = "open a page";
        let error = match timeout(self.navigation_timeout, self.driver.goto(url)).await {
            Ok(Ok(())) => return Ok(Ok(())),
            Ok(Err(error)) => error,
            Err(_) => {
                return Err(BrowserError::Unresponsive {
                    action,
                    after: self.navigation_timeout,
                });
            }
        };
        if let Some(code) = navigation_net_error(&error) {
            let (reason, rule) = net_error_reason(&code);
            log::info!("Page load failed with {code}.");
            return Ok(Err(Failed { reason, rule }));
        }
        if is_driver_timeout(&error) {
            return if self.responsive().await {
                Ok(Err(Failed {
                    reason: UnknownReason::Timeout,
                    rule: "page_load_timeout",
                }))
            } else {
                Err(BrowserError::Unresponsive {
                    action: "recover from a page-load timeout",
                    after: PING_TIMEOUT,
                })
            };
        }
        Err(BrowserError::driver(action, &error))
    }

    /// Whether the session still answers a trivial command.
    async fn responsive(&self) -> bool {
        matches!(
            timeout(PING_TIMEOUT, self.driver.current_url()).await,
            Ok(Ok(_))
        )
    }

    /// On a page of the origin: deletes the origin's cookies and adds the owner's, their domain
    /// rewritten to `base_url`'s host (W3C Add Cookie refuses a domain other than the document's).
    async fn install_cookies(
        &mut self,
        base_url: &Url,
        cookies: &[Cookie],
    ) -> Result<(), BrowserError> {
        command("delete the cookies", self.driver.delete_all_cookies()).await?;
        self.has_owner_cookies = !cookies.is_empty();
        // An IP address cannot carry a domain attribute: the cookie stays host-only, which is what
        // the default domain (the current document's) gives.
        let domain = match base_url.host() {
            Some(Host::Domain(host)) => Some(host.to_owned()),
            _ => None,
        };
        let https = base_url.scheme() == "https";
        for cookie in cookies {
            let mut out =
                thirtyfour::Cookie::new(cookie.name.clone(), cookie.value.expose_secret());
            if let Some(domain) = &domain {
                out.set_domain(domain.clone());
            }
            out.set_path(cookie.path.clone().unwrap_or_else(|| "/".to_owned()));
            // A `secure` cookie cannot be set on a plain-http origin (the loopback fake).
            out.set_secure(cookie.secure && https);
            out.set_http_only(cookie.http_only);
            if let Some(expires) = cookie.expires {
                out.set_expiry(expires);
            }
            command("add a session cookie", self.driver.add_cookie(out)).await?;
        }
        Ok(())
    }

    /// Reads the current page and classifies it; an unclassified page is re-read for up to
    /// [`SETTLE`] while the page's scripts render it.
    async fn observe(
        &self,
        base_url: &Url,
        username: &Username,
    ) -> Result<Result<Observed, Failed>, BrowserError> {
        let deadline = Instant::now() + SETTLE;
        loop {
            let document: Vec<String> = command(
                "read the page state",
                self.driver
                    .execute("return [document.URL, document.readyState];", Vec::new()),
            )
            .await?
            .convert()
            .map_err(|e| BrowserError::driver("read the page state", &e))?;
            let (document_url, ready) = match document.as_slice() {
                [url, ready] => (url.as_str(), ready.as_str()),
                _ => ("", ""),
            };
            let html = command("read the page source", self.driver.source()).await?;
            if document_url.starts_with("chrome-error:") {
                return Ok(Err(self.error_page(&html)));
            }
            let final_url = command("read the page URL", self.driver.current_url()).await?;
            let title = command("read the page title", self.driver.title()).await?;
            let classified = classify_profile_page(
                username,
                &PageObservation {
                    final_url: &relative_to(base_url, &final_url),
                    title: &title,
                    html: &html,
                },
            );
            let unsettled = ready != "complete"
                || classified.verdict == Verdict::unknown(UnknownReason::Unclassified);
            if !unsettled || Instant::now() >= deadline {
                return Ok(Ok(Observed {
                    final_url: final_url.into(),
                    classified,
                }));
            }
            sleep(POLL).await;
        }
    }

    /// Classifies Chromium's own error page. Measured with Chromium 156: a 407 from the proxy that
    /// the browser cannot answer leaves an empty error document with no error code.
    fn error_page(&self, html: &str) -> Failed {
        match error_page_code(html) {
            Some(code) => {
                let (reason, rule) = net_error_reason(&code);
                log::info!("Page load failed with {code}.");
                Failed { reason, rule }
            }
            None if self.proxied => Failed {
                reason: UnknownReason::ProxyAuth,
                rule: "proxy_auth_error",
            },
            None => Failed {
                reason: UnknownReason::Network,
                rule: "error_page",
            },
        }
    }

    /// A PNG of the profile `<header>` once it is rendered, else of the viewport.
    async fn capture(&self) -> Result<Vec<u8>, BrowserError> {
        let deadline = Instant::now() + HEADER_WAIT;
        loop {
            match timeout(COMMAND_TIMEOUT, self.driver.find(By::Tag("header"))).await {
                Ok(Ok(header)) => {
                    match command(
                        "take a screenshot of the header",
                        header.screenshot_as_png(),
                    )
                    .await
                    {
                        Ok(png) => return Ok(png),
                        Err(e) if e.session_lost() => return Err(e),
                        // A zero-size or detached header: the viewport still shows the page.
                        Err(_) => break,
                    }
                }
                Ok(Err(e)) => {
                    let error = BrowserError::driver("find the profile header", &e);
                    if error.session_lost() {
                        return Err(error);
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                    sleep(POLL).await;
                }
                Err(_) => {
                    return Err(BrowserError::Unresponsive {
                        action: "find the profile header",
                        after: COMMAND_TIMEOUT,
                    });
                }
            }
        }
        command("take a screenshot", self.driver.screenshot_as_png()).await
    }
}

fn with_screenshot(observed: Observed, png: Vec<u8>) -> BrowserProbe {
    BrowserProbe {
        verdict: observed.classified.verdict,
        rule: observed.classified.rule,
        screenshot: Some(png),
        final_url: observed.final_url,
    }
}

/// Runs one WebDriver command under [`COMMAND_TIMEOUT`].
async fn command<T>(
    action: &'static str,
    run: impl Future<Output = WebDriverResult<T>>,
) -> Result<T, BrowserError> {
    match timeout(COMMAND_TIMEOUT, run).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(BrowserError::driver(action, &e)),
        Err(_) => Err(BrowserError::Unresponsive {
            action,
            after: COMMAND_TIMEOUT,
        }),
    }
}

/// The Chromium capabilities: as few switches as work, each for a reason.
fn capabilities(
    options: &BrowserOptions,
    profile: Option<&Path>,
    binary: bool,
) -> WebDriverResult<ChromeCapabilities> {
    let mut caps = ChromeCapabilities::new();
    if binary {
        caps.set_binary(CHROMIUM_BINARY)?;
    }
    let lang = options.lang.as_str();
    let args = [
        // Chrome's one headless mode since 132 (the old one is a separate binary now).
        "--headless=new".to_owned(),
        // The sandbox needs user namespaces or a setuid helper, which systemd's hardening
        // (RestrictNamespaces=, NoNewPrivileges=) and containers deny, so Chromium would not start.
        // The process already runs as a dedicated unprivileged user inside systemd's sandbox.
        "--no-sandbox".to_owned(),
        // No GPU on servers; avoids the GPU process and its fallbacks.
        "--disable-gpu".to_owned(),
        // /dev/shm is 64 MB in containers and small under systemd; Chromium crashes tabs when full.
        "--disable-dev-shm-usage".to_owned(),
        // Instagram's texts in English, so the page rules match (with the accept_languages pref).
        format!("--lang={lang}"),
        // A fixed viewport: predictable screenshots, well under sendPhoto's size limits.
        "--window-size=1280,1024".to_owned(),
        // No first-run dialogs or default-browser checks in a fresh profile.
        "--no-first-run".to_owned(),
        // No update, metrics or time requests of Chromium's own through the operator's proxy.
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        // QUIC (UDP) would bypass an HTTP proxy and behaves differently from TCP through forwarders.
        "--disable-quic".to_owned(),
        // Debian's new-tab page is a DuckDuckGo search page that chromedriver waits for (1–6 s
        // offline, on every session start); an unresolvable host makes it fail at once.
        "--host-resolver-rules=MAP start.duckduckgo.com ~NOTFOUND".to_owned(),
    ];
    for arg in &args {
        caps.add_arg(arg)?;
    }
    if let Some(profile) = profile {
        // A fresh profile per session: no cookies carried over, no proxy pinned by an old profile.
        caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
    }
    if let Some(proxy) = &options.proxy {
        caps.add_arg(&format!("--proxy-server={proxy}"))?;
        // Chromium bypasses proxies for loopback unless told otherwise (the tests' fake is there).
        caps.add_arg("--proxy-bypass-list=<-loopback>")?;
    }
    caps.add_experimental_option(
        "prefs",
        json!({ "intl.accept_languages": accept_languages(lang) }),
    )?;
    Ok(caps)
}

/// `en-US` → `en-US,en`: the region first, the bare language as a fallback.
fn accept_languages(lang: &str) -> String {
    match lang.split_once('-') {
        Some((primary, _)) => format!("{lang},{primary}"),
        None => lang.to_owned(),
    }
}

/// The page URL as the page rules read it: on the configured Instagram origin (which tests point
/// at a loopback fake), only the path and query, as a `Location` header gives them to the HTTP
/// rules; elsewhere the full URL, which no rule takes for a profile.
fn relative_to(base_url: &Url, url: &Url) -> String {
    if url.origin() == base_url.origin() {
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    } else {
        url.to_string()
    }
}

/// Whether the WebDriver endpoint runs on this machine (then its browser can use our temp dir).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `host:port` of an endpoint, for logs (a Grid URL may carry credentials).
fn endpoint(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => "an unnamed endpoint".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(proxy: Option<&str>) -> BrowserOptions {
        BrowserOptions {
            webdriver_url: Url::parse("http://127.0.0.1:9515").expect("url"),
            proxy: proxy.map(str::to_owned),
            page_load_timeout: Duration::from_secs(20),
            lang: "en-US".to_owned(),
        }
    }

    #[test]
    fn capabilities_carry_the_flags_and_language() {
        let caps = capabilities(&options(None), Some(Path::new("/tmp/p")), true).expect("caps");
        let value = serde_json::to_value(&caps).expect("json");
        let chrome = &value["goog:chromeOptions"];
        assert_eq!(chrome["binary"], CHROMIUM_BINARY);
        let args: Vec<&str> = chrome["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        for expected in [
            "--headless=new",
            "--no-sandbox",
            "--lang=en-US",
            "--window-size=1280,1024",
            "--user-data-dir=/tmp/p",
            "--host-resolver-rules=MAP start.duckduckgo.com ~NOTFOUND",
        ] {
            assert!(args.contains(&expected), "{expected} missing from {args:?}");
        }
        assert!(!args.iter().any(|a| a.starts_with("--proxy")), "{args:?}");
        assert_eq!(chrome["prefs"]["intl.accept_languages"], "en-US,en");
    }

    #[test]
    fn proxy_adds_the_loopback_bypass_override() {
        let caps =
            capabilities(&options(Some("http://127.0.0.1:40123")), None, false).expect("caps");
        let value = serde_json::to_value(&caps).expect("json");
        let args = value["goog:chromeOptions"]["args"].to_string();
        assert!(
            args.contains("--proxy-server=http://127.0.0.1:40123"),
            "{args}"
        );
        assert!(args.contains("--proxy-bypass-list=<-loopback>"), "{args}");
        assert!(!args.contains("--user-data-dir"), "{args}");
        assert!(value["goog:chromeOptions"].get("binary").is_none());
    }

    #[test]
    fn page_urls_on_the_instagram_origin_are_read_as_paths() {
        let base = Url::parse("http://127.0.0.1:8080").expect("url");
        let at = |u: &str| relative_to(&base, &Url::parse(u).expect("url"));
        assert_eq!(at("http://127.0.0.1:8080/alice/"), "/alice/");
        assert_eq!(
            at("http://127.0.0.1:8080/accounts/login/?next=%2Falice%2F"),
            "/accounts/login/?next=%2Falice%2F"
        );
        assert_eq!(
            at("http://127.0.0.1:9999/alice/"),
            "http://127.0.0.1:9999/alice/"
        );
        assert_eq!(
            at("https://evil.example/alice/"),
            "https://evil.example/alice/"
        );
    }

    #[test]
    fn loopback_endpoints_are_local() {
        for (url, local) in [
            ("http://127.0.0.1:9515", true),
            ("http://localhost:4444", true),
            ("http://[::1]:9515", true),
            ("http://grid.internal:4444", false),
            ("http://10.0.0.5:9515", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).expect("url")), local, "{url}");
        }
    }

    #[test]
    fn endpoint_never_shows_credentials() {
        let url = Url::parse("http://user:secret@grid.internal:4444/wd/hub").expect("url");
        assert_eq!(endpoint(&url), "grid.internal:4444");
    }
}
