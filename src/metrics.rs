//! Prometheus metrics of the daemon and the optional `/metrics` + `/healthz` listener.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

/// Every metric the daemon exports; one instance per daemon, shared by its actors.
pub struct Metrics {
    registry: Registry,
    /// Probes by verdict (`exists|not_found|unknown`) and reason (`-` unless unknown).
    pub probes: IntCounterVec,
    pub probe_seconds: Histogram,
    pub cycle_seconds: Histogram,
    /// Accounts skipped without a probe, by reason.
    pub skipped: IntCounterVec,
    pub queue_depth: IntGauge,
    pub in_flight: IntGauge,
    pub checker_restarts: IntCounter,
    pub outbox_backlog: IntGauge,
    /// Delivery attempts by result (`delivered|retry|blocked|dropped`).
    pub deliveries: IntCounterVec,
    /// Failed delivery attempts by reason.
    pub delivery_failures: IntCounterVec,
    pub telegram_429: IntCounter,
    pub egress_cooldowns: IntCounter,
    pub accounts: IntGaugeVec,
}

/// Building the metrics failed (a programming error: duplicate or invalid names).
#[derive(Debug, thiserror::Error)]
#[error("failed to register metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    pub fn new() -> Result<Arc<Metrics>, MetricsError> {
        let registry = Registry::new_custom(Some("igwatch".into()), None)?;
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))?;
            registry.register(Box::new(h.clone()))?;
            Ok::<_, prometheus::Error>(h)
        };
        let accounts = IntGaugeVec::new(
            Opts::new("accounts", "Watched accounts by state."),
            &["state"],
        )?;
        registry.register(Box::new(accounts.clone()))?;
        Ok(Arc::new(Metrics {
            probes: counter_vec(
                "probes_total",
                "Probes finished, by verdict and unknown reason.",
                &["verdict", "reason"],
            )?,
            probe_seconds: histogram(
                "probe_duration_seconds",
                "Wall time of one probe.",
                vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            )?,
            cycle_seconds: histogram(
                "cycle_duration_seconds",
                "Wall time of one check cycle.",
                vec![1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0],
            )?,
            skipped: counter_vec(
                "skipped_total",
                "Accounts skipped without a probe, by reason.",
                &["reason"],
            )?,
            queue_depth: gauge("queue_depth", "Probe jobs waiting for a checker.")?,
            in_flight: gauge("probes_in_flight", "Probes running now.")?,
            checker_restarts: counter(
                "checker_restarts_total",
                "Checkers restarted or replaced after a failure.",
            )?,
            outbox_backlog: gauge("outbox_backlog", "Notices waiting for delivery.")?,
            deliveries: counter_vec(
                "deliveries_total",
                "Telegram delivery attempts by result.",
                &["result"],
            )?,
            delivery_failures: counter_vec(
                "delivery_failures_total",
                "Failed Telegram deliveries by reason.",
                &["reason"],
            )?,
            telegram_429: counter(
                "telegram_flood_waits_total",
                "Telegram 429 answers (flood control).",
            )?,
            egress_cooldowns: counter(
                "egress_cooldowns_total",
                "Egress cool-downs after rate limits or login walls.",
            )?,
            accounts,
            registry,
        }))
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("Could not encode the metrics: {err}.");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Answers whether the actor system is healthy (the scheduler and the dispatcher respond).
pub type HealthCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Serves `/metrics` and `/healthz` on `addr` until the process ends.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: HealthCheck,
) -> Result<(), std::io::Error> {
    use axum::http::StatusCode;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    log::info!("Metrics listening on http://{addr}/metrics and /healthz.");
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4")],
                        metrics.render(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let health = health.clone();
                async move {
                    if health().await {
                        (StatusCode::OK, "ok\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy\n")
                    }
                }
            }),
        );
    axum::serve(listener, app).await
}
