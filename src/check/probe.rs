//! One probe end to end: the owner's mode decides which signals run (profile API, browser) and how
//! they combine; the egress (direct or a proxy) carries every Instagram request.

use super::api::ApiProber;
use super::browser::{BrowserOptions, BrowserProbe, BrowserSession};
use super::egress::{Egress, EgressPool, build_proxied_client};
use super::forwarder::{Forwarder, ForwarderEvent};
use super::http::build_client;
use crate::config::Config;
use crate::domain::{
    Cookie, Mode, ProxyId, ProxySpec, Source, UnknownReason, UserId, Username, Verdict,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// What one probe needs to know about the job.
pub struct ProbeInput<'a> {
    pub username: &'a Username,
    /// Owners whose RapidAPI keys may be used, in order.
    pub owners: &'a [UserId],
    pub mode: Mode,
    /// The owner's Instagram session cookies; empty for an anonymous browser.
    pub cookies: &'a [Cookie],
    /// The owner's proxy, or `None` for the direct egress.
    pub proxy: Option<(ProxyId, &'a ProxySpec)>,
}

/// What a probe found, with the proof image and what it learned about the egress and session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub verdict: Verdict,
    /// The signals that decided, in order.
    pub sources: Vec<Source>,
    pub rule: Option<String>,
    /// A non-blank PNG of the live profile, when one was taken.
    pub screenshot: Option<Vec<u8>>,
    /// The session was refused (login wall or checkpoint with cookies): stop using it.
    pub session_refused: bool,
    /// `Some(ok)` when a proxy was used: whether it carried the requests.
    pub proxy_ok: Option<bool>,
}

/// The probe could not finish and has no verdict: the job goes back to the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("the browser session was lost: {0}")]
    SessionLost(String),
}

/// The shared, stateless parts of probing for one checker: configuration, API prober, HTTP
/// clients per egress, and the egress budgets shared by every checker.
pub struct ProbeContext {
    config: Arc<Config>,
    api: ApiProber,
    egress: Arc<EgressPool>,
    direct: reqwest::Client,
    proxied: std::cell::RefCell<HashMap<ProxyId, reqwest::Client>>,
}

/// The checker's browser: one WebDriver session, bound to one egress, created lazily.
pub struct BrowserSlot {
    webdriver_url: Url,
    session: Option<BrowserSession>,
    egress: Egress,
    forwarder: Option<Forwarder>,
    /// After a failed connect, browser work is answered `Unknown(browser)` until then.
    retry_at: Option<Instant>,
    failures: u32,
}

impl ProbeContext {
    pub fn new(
        config: Arc<Config>,
        api: ApiProber,
        egress: Arc<EgressPool>,
    ) -> Result<ProbeContext, reqwest::Error> {
        let direct = build_client(&config)?;
        Ok(ProbeContext {
            config,
            api,
            egress,
            direct,
            proxied: Default::default(),
        })
    }

    /// The HTTP client for an egress (built once per proxy and kept).
    async fn client(
        &self,
        proxy: Option<(ProxyId, &ProxySpec)>,
    ) -> Result<reqwest::Client, UnknownReason> {
        let Some((id, spec)) = proxy else {
            return Ok(self.direct.clone());
        };
        if let Some(client) = self.proxied.borrow().get(&id) {
            return Ok(client.clone());
        }
        let allow_private = self.config.instagram.allow_private_proxies;
        match build_proxied_client(&self.config, spec, allow_private).await {
            Ok(client) => {
                self.proxied.borrow_mut().insert(id, client.clone());
                Ok(client)
            }
            Err(err) => {
                log::warn!("Proxy {id} cannot be used: {err}.");
                Err(UnknownReason::Proxy)
            }
        }
    }

    /// Runs the probe the mode asks for (DESIGN section 3):
    /// - `api`: the API decides; a live profile also gets a browser screenshot as proof;
    /// - `browser`: the browser with the owner's session decides;
    /// - `api+browser`: API `NotFound` ends it; API `Exists` must be confirmed by the browser;
    ///   API `Unknown` lets the browser decide alone.
    pub async fn run(
        &self,
        input: &ProbeInput<'_>,
        browser: &mut BrowserSlot,
    ) -> Result<ProbeResult, ProbeError> {
        let egress = input
            .proxy
            .map_or(Egress::Direct, |(id, _)| Egress::Proxy(id));
        let mut result = match input.mode {
            Mode::Api => {
                let mut result = self.api_step(input, egress).await;
                if matches!(result.verdict, Verdict::Exists { .. }) {
                    let proof = self.browser_step(input, egress, browser).await?;
                    result.session_refused |= proof.session_refused;
                    result.screenshot = proof.screenshot;
                }
                result
            }
            Mode::Browser => self.browser_step(input, egress, browser).await?,
            Mode::ApiBrowser => {
                let api = self.api_step(input, egress).await;
                match api.verdict {
                    Verdict::NotFound => api,
                    Verdict::Exists { .. } => {
                        let mut confirm = self.browser_step(input, egress, browser).await?;
                        confirm.sources = [api.sources, confirm.sources].concat();
                        if confirm.verdict == Verdict::NotFound {
                            // The API says live, the page says gone: no restore on that.
                            confirm.verdict = Verdict::unknown(UnknownReason::Mismatch);
                            confirm.screenshot = None;
                        }
                        confirm
                    }
                    Verdict::Unknown { .. } => self.browser_step(input, egress, browser).await?,
                }
            }
        };
        if input.proxy.is_some() {
            let proxy_failed = matches!(
                result.verdict.reason(),
                Some(UnknownReason::Proxy | UnknownReason::ProxyAuth)
            );
            result.proxy_ok = Some(!proxy_failed);
        }
        self.account_egress(egress, &result.verdict);
        Ok(result)
    }

    /// Feeds the egress budget: a rate limit or login wall cools the egress down.
    fn account_egress(&self, egress: Egress, verdict: &Verdict) {
        let now = Instant::now();
        match verdict.reason() {
            Some(UnknownReason::RateLimited | UnknownReason::LoginWall) => {
                let pause = self.egress.on_rate_limited(egress, now);
                log::warn!(
                    "Instagram limited egress {egress:?}; cooling it down for {} s.",
                    pause.as_secs()
                );
            }
            Some(UnknownReason::Proxy | UnknownReason::ProxyAuth) => {
                self.egress.on_failure(egress, now);
            }
            _ => self.egress.on_success(egress, now),
        }
    }

    async fn api_step(&self, input: &ProbeInput<'_>, egress: Egress) -> ProbeResult {
        let talks_to_instagram = self.api.talks_to_instagram();
        // RapidAPI is a third party with its own quota: it goes direct, outside the budgets.
        let client = if talks_to_instagram {
            self.egress.acquire(egress).await;
            self.client(input.proxy).await
        } else {
            Ok(self.direct.clone())
        };
        let (verdict, source, rule) = match client {
            Ok(client) => {
                let api = self.api.probe(&client, input.username, input.owners).await;
                (api.verdict, api.source, api.rule)
            }
            Err(reason) => (Verdict::unknown(reason), self.api_source(), None),
        };
        ProbeResult {
            verdict,
            sources: vec![source],
            rule,
            screenshot: None,
            session_refused: false,
            proxy_ok: None,
        }
    }

    fn api_source(&self) -> Source {
        if self.api.talks_to_instagram() {
            Source::InstagramWeb
        } else {
            Source::Rapidapi
        }
    }

    async fn browser_step(
        &self,
        input: &ProbeInput<'_>,
        egress: Egress,
        browser: &mut BrowserSlot,
    ) -> Result<ProbeResult, ProbeError> {
        let page = self.browser_probe(input, egress, browser).await?;
        let refused = !input.cookies.is_empty()
            && matches!(
                page.verdict.reason(),
                Some(UnknownReason::LoginWall | UnknownReason::SessionFlagged)
            );
        Ok(ProbeResult {
            verdict: page.verdict,
            sources: vec![Source::Browser],
            rule: Some(page.rule.to_string()),
            screenshot: page.screenshot,
            session_refused: refused,
            proxy_ok: None,
        })
    }

    async fn browser_probe(
        &self,
        input: &ProbeInput<'_>,
        egress: Egress,
        browser: &mut BrowserSlot,
    ) -> Result<BrowserProbe, ProbeError> {
        if let Some(at) = browser.retry_at
            && Instant::now() < at
        {
            return Ok(BrowserProbe::unknown(
                UnknownReason::Browser,
                "browser_backoff",
                String::new(),
            ));
        }
        if let Err(reason) = self.ensure_session(input, egress, browser).await {
            return Ok(BrowserProbe::unknown(
                reason,
                "browser_unavailable",
                String::new(),
            ));
        }
        let before = browser.forwarder.as_ref().map(Forwarder::counters);
        self.egress.acquire(egress).await;
        let Some(session) = browser.session.as_mut() else {
            return Ok(BrowserProbe::unknown(
                UnknownReason::Browser,
                "browser_unavailable",
                String::new(),
            ));
        };
        let base = &self.config.instagram.base_url;
        match session.probe(base, input.username, input.cookies).await {
            Ok(mut page) => {
                if let (Some(before), Some(forwarder)) = (before, &browser.forwarder)
                    && let Some(event) = forwarder.counters().since(&before)
                    && page.verdict.reason().is_some()
                {
                    let reason = match event {
                        ForwarderEvent::AuthRejected => UnknownReason::ProxyAuth,
                        _ => UnknownReason::Proxy,
                    };
                    page.verdict = Verdict::unknown(reason);
                }
                Ok(page)
            }
            Err(err) if err.session_lost() => {
                log::warn!(
                    "The browser session of {} was lost: {err}.",
                    browser.webdriver_url
                );
                if let Some(session) = browser.session.take() {
                    session.quit().await;
                }
                Err(ProbeError::SessionLost(err.to_string()))
            }
            Err(err) => {
                log::warn!("Browser probe of @{} failed: {err}.", input.username);
                Ok(BrowserProbe::unknown(
                    UnknownReason::Browser,
                    "browser_error",
                    String::new(),
                ))
            }
        }
    }

    /// Makes sure the slot holds a live session on `egress`, recycling an old or worn one.
    async fn ensure_session(
        &self,
        input: &ProbeInput<'_>,
        egress: Egress,
        browser: &mut BrowserSlot,
    ) -> Result<(), UnknownReason> {
        let recycle = self.config.webdriver.recycle_after;
        let worn = browser
            .session
            .as_ref()
            .is_some_and(|s| s.pages() >= recycle);
        if browser.session.is_some() && browser.egress == egress && !worn {
            return Ok(());
        }
        if let Some(old) = browser.session.take() {
            old.quit().await;
        }
        if browser.egress != egress {
            browser.forwarder = None;
        }
        if let Some((_, spec)) = input.proxy
            && browser.forwarder.is_none()
        {
            let allow_private = self.config.instagram.allow_private_proxies;
            match Forwarder::start(spec.clone(), allow_private) {
                Ok(forwarder) => browser.forwarder = Some(forwarder),
                Err(err) => {
                    log::warn!("Could not start the local proxy forwarder: {err}.");
                    return Err(UnknownReason::Proxy);
                }
            }
        }
        let options = BrowserOptions {
            webdriver_url: browser.webdriver_url.clone(),
            proxy: browser.forwarder.as_ref().map(Forwarder::url),
            page_load_timeout: self.config.checkers.probe_timeout,
            lang: "en-US".into(),
        };
        match BrowserSession::connect(&options).await {
            Ok(session) => {
                browser.session = Some(session);
                browser.egress = egress;
                browser.failures = 0;
                browser.retry_at = None;
                Ok(())
            }
            Err(err) => {
                browser.failures += 1;
                let pause = connect_backoff(browser.failures);
                browser.retry_at = Some(Instant::now() + pause);
                log::warn!(
                    "Could not start a browser at {}: {err}; browser checks wait {} s.",
                    browser.webdriver_url,
                    pause.as_secs()
                );
                Err(UnknownReason::Browser)
            }
        }
    }
}

impl BrowserSlot {
    pub fn new(webdriver_url: Url) -> BrowserSlot {
        BrowserSlot {
            webdriver_url,
            session: None,
            egress: Egress::Direct,
            forwarder: None,
            retry_at: None,
            failures: 0,
        }
    }

    /// Closes the session (if any) and removes its profile; awaited at shutdown.
    pub async fn close(&mut self) {
        if let Some(session) = self.session.take() {
            session.quit().await;
        }
        self.forwarder = None;
    }
}

/// Wait after a failed browser start: 1 s doubling to 60 s.
fn connect_backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_backoff_doubles_and_caps() {
        assert_eq!(connect_backoff(1), Duration::from_secs(1));
        assert_eq!(connect_backoff(2), Duration::from_secs(2));
        assert_eq!(connect_backoff(7), Duration::from_secs(60));
        assert_eq!(connect_backoff(40), Duration::from_secs(60));
    }
}
