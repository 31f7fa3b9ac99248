//! The HTTP client every checker owns: TLS provider, timeouts, no redirects (a redirect is a signal).

use crate::config::Config;
use std::sync::Once;
use std::time::Duration;

static CRYPTO: Once = Once::new();

/// Installs rustls' `ring` provider as the process default (reqwest is built without one).
pub fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        // Fails only when another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds the client used for Instagram and RapidAPI. Redirects are not followed: where a
/// request was sent matters (`/accounts/login/` is a login wall, not a profile).
pub fn build_client(config: &Config) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(config).build()
}

/// The settings of [`build_client`], for variants that add to them (a proxy: `egress.rs`).
pub(super) fn client_builder(config: &Config) -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(config.instagram.user_agent.clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(config.checkers.probe_timeout))
        .timeout(config.checkers.probe_timeout)
        .pool_max_idle_per_host(2)
}
