//! IO adapters the checkers use: the HTTP client, profile API probes, and (later) browser sessions.

mod api;
mod browser;
mod egress;
mod forwarder;
mod http;
mod observe;
mod probe;
mod screenshot;
mod trial;

pub use api::{ApiProber, ApiVerdict, KeySource, NoKeys};
pub use browser::{BrowserError, BrowserOptions, BrowserProbe, BrowserSession};
pub use egress::{
    BudgetConfig, Egress, EgressBudget, EgressError, EgressPool, EgressState, Health, Pick,
    ProxyChoice, Take, build_proxied_client, check_proxy_host, reqwest_proxy,
};
pub use forwarder::{Forwarder, ForwarderCounters, ForwarderError, ForwarderEvent};
pub use http::{build_client, install_crypto_provider};
pub use probe::{BrowserSlot, ProbeContext, ProbeError, ProbeInput, ProbeResult};
pub use screenshot::is_blank;
pub use trial::{ProxyFailure, ProxyTrial, SessionTrial, guard_proxy, trial_proxy, trial_session};
