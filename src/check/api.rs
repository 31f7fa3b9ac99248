//! Profile API probes: Instagram's web JSON and RapidAPI with per-owner key rotation.

use super::observe::fetch;
use crate::config::{Config, Provider};
use crate::detect::{Classified, classify_instagram_web, classify_rapidapi};
use crate::domain::{KeyId, Source, UnknownReason, UserId, Username, Verdict};
use futures_util::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use url::Url;

/// Where RapidAPI keys come from: the store, through the StoreActor or directly (CLI).
pub trait KeySource {
    /// Takes one request's worth of quota from the first usable key of `owners`, in order.
    fn acquire(
        &self,
        owners: Vec<UserId>,
    ) -> LocalBoxFuture<'static, Result<Option<(KeyId, SecretString)>, String>>;
    /// The key answered with a quota error or was refused: skip it until the next UTC day.
    fn exhausted(&self, key: KeyId) -> LocalBoxFuture<'static, Result<(), String>>;
}

/// The key source of providers that need no keys (and of one-shot checks without a database).
pub struct NoKeys;

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

/// Most keys tried for one probe before giving up with `Unknown(quota)`.
const MAX_KEYS_PER_PROBE: usize = 5;

/// What an API probe concluded and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVerdict {
    pub verdict: Verdict,
    pub source: Source,
    pub rule: Option<String>,
}

/// Probes the configured profile API.
pub struct ApiProber {
    config: Arc<Config>,
    keys: Arc<dyn KeySource>,
    /// `{base_url}/api/v1/users/web_profile_info/`, parsed once rather than for every probe.
    web_profile: Url,
    /// `{base_url}/`, the `referer` of the web JSON requests.
    referer: String,
}

impl ApiProber {
    pub fn new(config: Arc<Config>, keys: Arc<dyn KeySource>) -> Self {
        let base = &config.instagram.base_url;
        let mut web_profile = base.clone();
        // Config validation admits only http(s) URLs, which always have a path to extend.
        if let Ok(mut path) = web_profile.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "v1", "users", "web_profile_info", ""]);
        }
        let referer = format!("{}/", base.as_str().trim_end_matches('/'));
        ApiProber {
            config,
            keys,
            web_profile,
            referer,
        }
    }

    /// Whether the configured API is Instagram itself (so requests count against the egress's
    /// budget and go through the owner's proxy) rather than a third party.
    pub fn talks_to_instagram(&self) -> bool {
        self.config.instagram.provider == Provider::InstagramWeb
    }

    /// Probes `username` over `client`; RapidAPI keys are taken from `owners` in order.
    pub async fn probe(
        &self,
        client: &reqwest::Client,
        username: &Username,
        owners: &[UserId],
    ) -> ApiVerdict {
        match self.config.instagram.provider {
            Provider::InstagramWeb => self.instagram_web(client, username).await,
            Provider::Rapidapi => self.rapidapi(client, username, owners).await,
        }
    }

    async fn instagram_web(&self, client: &reqwest::Client, username: &Username) -> ApiVerdict {
        let request = client
            .get(self.web_profile.clone())
            .query(&[("username", username.as_str())])
            .header("x-ig-app-id", &self.config.instagram.app_id)
            .header("accept", "application/json")
            .header("accept-language", "en-US,en;q=0.9")
            .header("referer", &self.referer);
        match fetch(request).await {
            Ok(fetched) => decided(
                classify_instagram_web(username, &fetched.observation()),
                Source::InstagramWeb,
            ),
            Err(reason) => failed(reason, Source::InstagramWeb),
        }
    }

    async fn rapidapi(
        &self,
        client: &reqwest::Client,
        username: &Username,
        owners: &[UserId],
    ) -> ApiVerdict {
        let api = &self.config.rapidapi;
        for _ in 0..MAX_KEYS_PER_PROBE {
            let (key_id, key) = match self.keys.acquire(owners.to_vec()).await {
                Ok(Some(found)) => found,
                Ok(None) => break,
                Err(err) => {
                    log::error!("Could not take a RapidAPI key from the store: {err}.");
                    return failed(UnknownReason::Quota, Source::Rapidapi);
                }
            };
            let request = client
                .get(api.url.clone())
                .query(&[("ig", username.as_str())])
                .header("x-rapidapi-key", key.expose_secret())
                .header("x-rapidapi-host", &api.host);
            let classified = match fetch(request).await {
                Ok(fetched) => classify_rapidapi(username, &fetched.observation()),
                Err(reason) => return failed(reason, Source::Rapidapi),
            };
            match classified.verdict.reason() {
                Some(UnknownReason::Quota | UnknownReason::KeyRejected) => {
                    log::warn!(
                        "RapidAPI key {key_id} answered `{}`; trying the next key.",
                        classified.rule
                    );
                    if let Err(err) = self.keys.exhausted(key_id).await {
                        log::error!("Could not mark RapidAPI key {key_id} exhausted: {err}.");
                        return failed(UnknownReason::Quota, Source::Rapidapi);
                    }
                }
                _ => return decided(classified, Source::Rapidapi),
            }
        }
        failed(UnknownReason::Quota, Source::Rapidapi)
    }
}

fn decided(classified: Classified, source: Source) -> ApiVerdict {
    ApiVerdict {
        verdict: classified.verdict,
        source,
        rule: Some(classified.rule.to_string()),
    }
}

fn failed(reason: UnknownReason, source: Source) -> ApiVerdict {
    ApiVerdict {
        verdict: Verdict::unknown(reason),
        source,
        rule: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web_profile(base: &str) -> String {
        let config =
            crate::config::from_toml_str(&format!("[instagram]\nbase_url = {base:?}\n"), &|_| None)
                .expect("a valid config");
        let prober = ApiProber::new(Arc::new(config), Arc::new(NoKeys));
        format!("{} {}", prober.web_profile, prober.referer)
    }

    #[test]
    fn the_web_json_address_extends_the_base_url_and_keeps_its_path() {
        assert_eq!(
            web_profile("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/api/v1/users/web_profile_info/ http://127.0.0.1:8080/"
        );
        assert_eq!(
            web_profile("https://www.instagram.com/"),
            "https://www.instagram.com/api/v1/users/web_profile_info/ https://www.instagram.com/"
        );
        assert_eq!(
            web_profile("http://h:1/mirror"),
            "http://h:1/mirror/api/v1/users/web_profile_info/ http://h:1/mirror/"
        );
        assert_eq!(
            web_profile("http://h:1/mirror/"),
            "http://h:1/mirror/api/v1/users/web_profile_info/ http://h:1/mirror/"
        );
    }
}
