//! IO adapters the checkers use: the HTTP client, profile API probes, and (later) browser sessions.

mod api;
mod http;
mod observe;

pub use api::{ApiProber, ApiVerdict, KeySource};
pub use http::{build_client, install_crypto_provider};
