//! The HTTP client every checker owns: TLS provider, timeouts, no redirects (a redirect is a signal).

use crate::config::Config;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

static CRYPTO: Once = Once::new();

/// Installs rustls' `ring` provider as the process default (reqwest is built without one).
pub fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        // Fails only when another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The TLS settings of every client built here, made once: left to itself, reqwest reads and
/// parses the system's root certificates again for each client it builds (one per checker,
/// per proxy and per browser session), each copy kept in memory. The same as reqwest's own
/// defaults: the platform's verifier, TLS 1.2 and 1.3, ALPN `http/1.1`. `None` when the system
/// has no usable root certificate: reqwest then builds its own and reports why it cannot.
fn shared_tls() -> Option<rustls::ClientConfig> {
    static TLS: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| {
        install_crypto_provider();
        let provider = rustls::crypto::CryptoProvider::get_default()?.clone();
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(tls)
    })
    .clone()
}

/// Builds the client used for Instagram and RapidAPI. Redirects are not followed: where a
/// request was sent matters (`/accounts/login/` is a login wall, not a profile).
pub fn build_client(config: &Config) -> Result<reqwest::Client, reqwest::Error> {
    client_builder(config).build()
}

/// The client a browser session talks to its WebDriver endpoint with (thirtyfour would build
/// one of its own, with its own copy of the root certificates, and panic if that failed).
pub(super) fn webdriver_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    tls_builder().timeout(timeout).build()
}

/// A client builder with the shared TLS settings (making them installs the crypto provider,
/// which reqwest's own fallback needs as well).
fn tls_builder() -> reqwest::ClientBuilder {
    match shared_tls() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    }
}

/// The settings of [`build_client`], for variants that add to them (a proxy: `egress.rs`).
pub(super) fn client_builder(config: &Config) -> reqwest::ClientBuilder {
    tls_builder()
        .user_agent(config.instagram.user_agent.clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10).min(config.checkers.probe_timeout))
        .timeout(config.checkers.probe_timeout)
        .pool_max_idle_per_host(2)
}
