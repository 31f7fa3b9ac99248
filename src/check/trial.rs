//! One-off probes of the canary (`scheduler.canary`) that vet a new Instagram session (browser
//! mode, the daemon's own probe pipeline) or test a proxy (the profile API through it), shared by
//! the bot's settings screens and the `sessions` / `proxies` CLI commands.

use super::{
    ApiProber, BrowserSlot, BudgetConfig, EgressError, EgressPool, NoKeys, ProbeContext,
    ProbeInput, build_proxied_client, check_proxy_host,
};
use crate::config::{Config, Provider};
use crate::domain::{Cookie, Mode, ProxySpec, UnknownReason, Verdict};
use std::sync::Arc;
use std::time::Duration;

/// Time a browser gets to start on top of the probe timeout.
const BROWSER_START: Duration = Duration::from_secs(30);

/// What the canary probe said about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTrial {
    /// The canary's profile was shown with the cookies: the session works.
    Accepted,
    /// Instagram answered with a login wall or a checkpoint: the session is not logged in.
    Refused(UnknownReason),
    /// The probe did not get an answer about the session (browser unavailable, rate limit, …).
    Inconclusive(UnknownReason),
}

/// What a proxy test found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTrial {
    /// The proxy carried the request (the value to record with `record_proxy_result`).
    pub proxy_ok: bool,
    /// `None` when the canary was seen through the proxy; else why the test failed.
    pub failure: Option<ProxyFailure>,
}

/// Why a proxy test failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyFailure {
    /// The proxy host is refused by the SSRF guard or does not resolve.
    Host(String),
    /// The probe answered something else than `exists` for the canary.
    Verdict(UnknownReason),
    /// The canary read as not found: the egress cannot be trusted.
    CanaryNotFound,
}

/// Probes the canary in `browser` mode with `cookies` over the direct egress.
pub async fn trial_session(config: &Config, cookies: &[Cookie]) -> SessionTrial {
    let config = Arc::new(config.clone());
    let api = ApiProber::new(config.clone(), Arc::new(NoKeys));
    let egress = Arc::new(EgressPool::new(BudgetConfig::from_config(&config.egress)));
    let context = match ProbeContext::new(config.clone(), api, egress) {
        Ok(context) => context,
        Err(err) => {
            log::warn!(
                "Could not build the HTTP client for a session test: {}.",
                err.without_url()
            );
            return SessionTrial::Inconclusive(UnknownReason::Network);
        }
    };
    let Some(webdriver) = config.webdriver.urls.first().cloned() else {
        return SessionTrial::Inconclusive(UnknownReason::Browser);
    };
    let mut browser = BrowserSlot::new(webdriver);
    let canary = config.scheduler.canary.clone();
    let input = ProbeInput {
        username: &canary,
        owners: &[],
        mode: Mode::Browser,
        cookies,
        proxy: None,
    };
    let limit = config.checkers.probe_timeout + BROWSER_START;
    let outcome = tokio::time::timeout(limit, context.run(&input, &mut browser)).await;
    browser.close().await;
    match outcome {
        Err(_) => SessionTrial::Inconclusive(UnknownReason::Timeout),
        Ok(Err(err)) => {
            log::warn!("A session test lost its browser: {err}.");
            SessionTrial::Inconclusive(UnknownReason::Browser)
        }
        Ok(Ok(result)) => match result.verdict {
            Verdict::Exists { .. } => SessionTrial::Accepted,
            _ if result.session_refused => SessionTrial::Refused(
                result
                    .verdict
                    .reason()
                    .unwrap_or(UnknownReason::SessionFlagged),
            ),
            Verdict::NotFound => SessionTrial::Inconclusive(UnknownReason::CanaryFailed),
            Verdict::Unknown { reason } => SessionTrial::Inconclusive(reason),
        },
    }
}

/// The SSRF guard at input time: the host must resolve, and to public addresses only unless
/// `instagram.allow_private_proxies`. The error names the host and the address, never a password.
pub async fn guard_proxy(config: &Config, spec: &ProxySpec) -> Result<(), EgressError> {
    check_proxy_host(
        &spec.host,
        spec.port,
        config.instagram.allow_private_proxies,
    )
    .await
    .map(|_| ())
}

/// Probes the canary through `spec` with the profile API (Instagram's web JSON, whatever the
/// configured provider: a RapidAPI request would not go through the proxy).
pub async fn trial_proxy(config: &Config, spec: &ProxySpec) -> ProxyTrial {
    let mut config = config.clone();
    config.instagram.provider = Provider::InstagramWeb;
    let allow_private = config.instagram.allow_private_proxies;
    let client = match build_proxied_client(&config, spec, allow_private).await {
        Ok(client) => client,
        Err(err) => {
            return ProxyTrial {
                proxy_ok: false,
                failure: Some(ProxyFailure::Host(err.to_string())),
            };
        }
    };
    let canary = config.scheduler.canary.clone();
    let limit = config.checkers.probe_timeout;
    let prober = ApiProber::new(Arc::new(config), Arc::new(NoKeys));
    let verdict = match tokio::time::timeout(limit, prober.probe(&client, &canary, &[])).await {
        Ok(answer) => answer.verdict,
        Err(_) => Verdict::unknown(UnknownReason::Timeout),
    };
    let proxy_failed = matches!(
        verdict.reason(),
        Some(UnknownReason::Proxy | UnknownReason::ProxyAuth)
    );
    let failure = match verdict {
        Verdict::Exists { .. } => None,
        Verdict::NotFound => Some(ProxyFailure::CanaryNotFound),
        Verdict::Unknown { reason } => Some(ProxyFailure::Verdict(reason)),
    };
    ProxyTrial {
        proxy_ok: !proxy_failed,
        failure,
    }
}
