//! Egress (direct or one proxy): the SSRF guard on proxy hosts, the shared per-egress rate budget
//! (token bucket with jitter, back-off after rate limits, health), and the pool that picks one.
//!
//! Bookkeeping takes the time as an argument (`Instant`), so it is tested without sleeping; only
//! [`EgressPool::acquire`] sleeps.

use crate::config::Config;
use crate::domain::{ProxyId, ProxyScheme, ProxySpec};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Why an egress could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    #[error("failed to resolve the proxy host {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to resolve the proxy host {0}: no address")]
    NoAddress(String),
    #[error("refused the proxy host {host}: it resolves to {addr}, a {range} address")]
    Forbidden {
        host: String,
        addr: IpAddr,
        range: &'static str,
    },
    #[error("failed to configure the proxy {0}")]
    Proxy(String, #[source] reqwest::Error),
    #[error("failed to build the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Resolves a proxy host and refuses it when any address is in a range a user-supplied proxy must
/// not reach (loopback, private, link-local, CGNAT, documentation, ULA, …), unless
/// `allow_private`. Unspecified, multicast and broadcast addresses are refused always. Call it at
/// input time and again right before connecting (DNS can change in between); connect only to the
/// addresses it returns.
pub async fn check_proxy_host(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, EgressError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| EgressError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(EgressError::NoAddress(host.to_owned()));
    }
    for addr in &addrs {
        if let Some((range, always)) = forbidden_range(addr.ip()) {
            if always || !allow_private {
                return Err(EgressError::Forbidden {
                    host: host.to_owned(),
                    addr: addr.ip(),
                    range,
                });
            }
        }
    }
    Ok(addrs)
}

/// The special range an address falls in, and whether it is refused even with
/// `allow_private` (addresses no proxy can have). `None` for a global unicast address.
fn forbidden_range(ip: IpAddr) -> Option<(&'static str, bool)> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_range(v4);
            }
            let seg = v6.segments();
            if v6.is_unspecified() {
                Some(("unspecified", true))
            } else if v6.is_multicast() {
                Some(("multicast", true))
            } else if v6.is_loopback() {
                Some(("loopback", false))
            } else if v6.is_unique_local() {
                Some(("unique-local", false))
            } else if v6.is_unicast_link_local() {
                Some(("link-local", false))
            } else if seg[0] & 0xffc0 == 0xfec0 {
                Some(("site-local", false))
            } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                Some(("documentation", false))
            } else if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                // NAT64: judge the embedded IPv4 address.
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                v4_range(Ipv4Addr::new(a, b, c, d))
            } else if seg[..6] == [0, 0, 0, 0, 0, 0] {
                Some(("IPv4-compatible", false))
            } else {
                None
            }
        }
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<(&'static str, bool)> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some(("unspecified", true))
    } else if ip.is_broadcast() {
        Some(("broadcast", true))
    } else if ip.is_multicast() {
        Some(("multicast", true))
    } else if ip.is_loopback() {
        Some(("loopback", false))
    } else if ip.is_private() {
        Some(("private", false))
    } else if ip.is_link_local() {
        Some(("link-local", false))
    } else if a == 100 && (b & 0xc0) == 64 {
        Some(("CGNAT", false))
    } else if ip.is_documentation() {
        Some(("documentation", false))
    } else if a == 198 && (b & 0xfe) == 18 {
        Some(("benchmarking", false))
    } else if a == 192 && b == 0 && c == 0 {
        Some(("IETF protocol assignment", false))
    } else if a >= 240 {
        Some(("reserved", false))
    } else {
        None
    }
}

/// The proxy as reqwest takes it. `https` proxies are HTTP proxies used with `CONNECT` (see
/// `domain::ProxySpec`); SOCKS5 proxies resolve target names themselves (`socks5h`).
pub fn reqwest_proxy(spec: &ProxySpec) -> Result<reqwest::Proxy, EgressError> {
    proxy_for(spec, &spec.authority())
}

fn proxy_for(spec: &ProxySpec, authority: &str) -> Result<reqwest::Proxy, EgressError> {
    let scheme = match spec.scheme {
        ProxyScheme::Http | ProxyScheme::Https => "http",
        ProxyScheme::Socks5 => "socks5h",
    };
    let proxy = reqwest::Proxy::all(format!("{scheme}://{authority}"))
        .map_err(|err| EgressError::Proxy(spec.display_safe(), err.without_url()))?;
    Ok(match &spec.auth {
        Some(auth) => proxy.basic_auth(&auth.username, auth.password.expose_secret()),
        None => proxy,
    })
}

/// A client like [`super::build_client`] that sends everything through `spec`. The proxy host is
/// checked with [`check_proxy_host`] and pinned to the checked address, so a DNS change after the
/// check cannot redirect the traffic.
pub async fn build_proxied_client(
    config: &Config,
    spec: &ProxySpec,
    allow_private: bool,
) -> Result<reqwest::Client, EgressError> {
    let addrs = check_proxy_host(&spec.host, spec.port, allow_private).await?;
    let first = addrs
        .first()
        .ok_or_else(|| EgressError::NoAddress(spec.host.clone()))?;
    let proxy = proxy_for(spec, &first.to_string())?;
    super::http::client_builder(config)
        .proxy(proxy)
        .build()
        .map_err(EgressError::Client)
}

/// Which way a request leaves the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Egress {
    Direct,
    Proxy(ProxyId),
}

/// Limits of one egress. Defaults: 20 requests a minute with a burst of 3, up to 1.5 s of jitter,
/// back-off 60 s doubling to 30 min, deactivation after 5 consecutive failures, re-test after
/// 15 minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    pub per_minute: u32,
    pub burst: u32,
    pub jitter: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub fail_limit: u32,
    pub retest_after: Duration,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            per_minute: 20,
            burst: 3,
            jitter: Duration::from_millis(1500),
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(30 * 60),
            fail_limit: 5,
            retest_after: Duration::from_secs(15 * 60),
        }
    }
}

impl BudgetConfig {
    /// The budget an operator configured (`[egress]`); health limits keep their defaults.
    pub fn from_config(egress: &crate::config::EgressConfig) -> Self {
        BudgetConfig {
            per_minute: egress.per_minute,
            burst: egress.burst,
            jitter: egress.jitter,
            backoff_base: egress.backoff_base,
            backoff_max: egress.backoff_max,
            ..BudgetConfig::default()
        }
    }
}

/// What [`EgressBudget::take`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// A token was taken: send now.
    Ready,
    /// No token (or cooling down / deactivated): ask again after this long.
    Wait(Duration),
}

/// Where an egress stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EgressState {
    Ready,
    /// Backing off after a rate limit or login wall, until the instant.
    CoolingDown(Instant),
    /// Deactivated after repeated failures; tried again (one probe) from the instant.
    Deactivated(Instant),
}

/// What a failure did to the egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    /// Failing, still in use.
    Failing {
        streak: u32,
    },
    /// This failure reached the limit: the egress was just deactivated (tell the owner).
    JustDeactivated {
        retest_at: Instant,
    },
    /// Already deactivated; the re-test failed too.
    StillDeactivated {
        retest_at: Instant,
    },
}

/// Rate budget and health of one egress, shared by every user and checker that uses it.
#[derive(Debug, Clone)]
pub struct EgressBudget {
    config: BudgetConfig,
    tokens: f64,
    refilled_at: Instant,
    cooldown_until: Option<Instant>,
    backoff_level: u32,
    fail_streak: u32,
    deactivated_until: Option<Instant>,
    last_used: Option<Instant>,
}

impl EgressBudget {
    /// A full bucket at `now`.
    pub fn new(config: BudgetConfig, now: Instant) -> Self {
        EgressBudget {
            tokens: f64::from(config.burst.max(1)),
            config,
            refilled_at: now,
            cooldown_until: None,
            backoff_level: 0,
            fail_streak: 0,
            deactivated_until: None,
            last_used: None,
        }
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.config.per_minute.max(1)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        let gained = elapsed.as_secs_f64() / self.interval().as_secs_f64();
        self.tokens = (self.tokens + gained).min(f64::from(self.config.burst.max(1)));
        self.refilled_at = now;
    }

    /// Where the egress stands at `now`.
    pub fn state(&self, now: Instant) -> EgressState {
        match (self.deactivated_until, self.cooldown_until) {
            (Some(until), _) if until > now => EgressState::Deactivated(until),
            (_, Some(until)) if until > now => EgressState::CoolingDown(until),
            _ => EgressState::Ready,
        }
    }

    /// Consecutive failures so far.
    pub fn fail_streak(&self) -> u32 {
        self.fail_streak
    }

    /// Takes a token when one is there and the egress is not cooling down or deactivated;
    /// otherwise says how long to wait. `jitter` in `[0, 1)` scales the configured jitter added
    /// to every wait, so throttled requests do not leave in lock-step.
    pub fn take(&mut self, now: Instant, jitter: f64) -> Take {
        let extra = self.config.jitter.mul_f64(jitter.clamp(0.0, 1.0));
        match self.state(now) {
            EgressState::Deactivated(until) | EgressState::CoolingDown(until) => {
                return Take::Wait(until - now + extra);
            }
            EgressState::Ready => {}
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.last_used = Some(now);
            Take::Ready
        } else {
            let missing = (1.0 - self.tokens) * self.interval().as_secs_f64();
            Take::Wait(Duration::from_secs_f64(missing) + extra)
        }
    }

    /// A 429, "please wait" or login wall: cool down for `base × 2^n` (capped), `n` the number of
    /// rate limits since the last success. Returns the cool-down applied.
    pub fn on_rate_limited(&mut self, now: Instant) -> Duration {
        let factor = 2u32.saturating_pow(self.backoff_level.min(16));
        let pause = self
            .config
            .backoff_base
            .saturating_mul(factor)
            .min(self.config.backoff_max);
        self.backoff_level = self.backoff_level.saturating_add(1);
        self.cooldown_until = Some(now + pause);
        self.tokens = 0.0;
        self.refilled_at = now + pause;
        pause
    }

    /// A request went through: back-off and failure streak reset, a deactivated egress is back.
    pub fn on_success(&mut self) {
        self.backoff_level = 0;
        self.fail_streak = 0;
        self.deactivated_until = None;
    }

    /// The egress itself failed (connect error, proxy error, proxy auth refused). After
    /// `fail_limit` consecutive failures it is deactivated for `retest_after`; once that passes it
    /// is usable for a re-test, and a failed re-test deactivates it again.
    pub fn on_failure(&mut self, now: Instant) -> Health {
        self.fail_streak = self.fail_streak.saturating_add(1);
        if self.fail_streak < self.config.fail_limit.max(1) {
            return Health::Failing {
                streak: self.fail_streak,
            };
        }
        let retest_at = now + self.config.retest_after;
        let was_deactivated = self.deactivated_until.is_some();
        self.deactivated_until = Some(retest_at);
        if was_deactivated {
            Health::StillDeactivated { retest_at }
        } else {
            Health::JustDeactivated { retest_at }
        }
    }

    /// The failure streak as a [`Health`] (`Healthy` at zero).
    pub fn health(&self) -> Health {
        match self.fail_streak {
            0 => Health::Healthy,
            streak => Health::Failing { streak },
        }
    }
}

/// One of an owner's enabled proxies, as the pool needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyChoice {
    pub id: ProxyId,
    /// 1 (best) … 10.
    pub priority: u8,
}

/// What [`EgressPool::pick`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Use(Egress),
    /// Every proxy of the owner is cooling down or deactivated; the first is usable again at the
    /// instant (the probe should be `Unknown`, not sent through another way).
    NoneUsable(Instant),
}

/// The budgets of every egress in use, shared by the checkers.
#[derive(Debug)]
pub struct EgressPool {
    config: BudgetConfig,
    budgets: Mutex<HashMap<Egress, EgressBudget>>,
}

impl EgressPool {
    pub fn new(config: BudgetConfig) -> Self {
        EgressPool {
            config,
            budgets: Mutex::new(HashMap::new()),
        }
    }

    fn budgets(&self) -> MutexGuard<'_, HashMap<Egress, EgressBudget>> {
        // A panic while holding the lock leaves plain counters behind, still usable.
        self.budgets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<T>(&self, egress: Egress, now: Instant, f: impl FnOnce(&mut EgressBudget) -> T) -> T {
        let mut budgets = self.budgets();
        let budget = budgets
            .entry(egress)
            .or_insert_with(|| EgressBudget::new(self.config.clone(), now));
        f(budget)
    }

    /// The best egress for an owner: direct when `proxies` is empty; otherwise the usable proxy
    /// with the best priority, then the shortest failure streak, then the least recently used.
    pub fn pick(&self, proxies: &[ProxyChoice], now: Instant) -> Pick {
        if proxies.is_empty() {
            return Pick::Use(Egress::Direct);
        }
        let budgets = self.budgets();
        let mut best: Option<(ProxyChoice, u32, Option<Instant>)> = None;
        let mut soonest: Option<Instant> = None;
        for choice in proxies {
            let (state, streak, last_used) = match budgets.get(&Egress::Proxy(choice.id)) {
                Some(b) => (b.state(now), b.fail_streak, b.last_used),
                None => (EgressState::Ready, 0, None),
            };
            match state {
                EgressState::Ready => {
                    let better = best.is_none_or(|(b, b_streak, b_used)| {
                        (choice.priority, streak, last_used) < (b.priority, b_streak, b_used)
                    });
                    if better {
                        best = Some((*choice, streak, last_used));
                    }
                }
                EgressState::CoolingDown(until) | EgressState::Deactivated(until) => {
                    soonest = Some(soonest.map_or(until, |s| s.min(until)));
                }
            }
        }
        match (best, soonest) {
            (Some((choice, _, _)), _) => Pick::Use(Egress::Proxy(choice.id)),
            (None, Some(at)) => Pick::NoneUsable(at),
            (None, None) => Pick::Use(Egress::Direct),
        }
    }

    /// Takes a token from `egress` at `now` (see [`EgressBudget::take`]).
    pub fn take(&self, egress: Egress, now: Instant, jitter: f64) -> Take {
        self.with(egress, now, |b| b.take(now, jitter))
    }

    /// Waits until `egress` has a token for this request, then takes it.
    pub async fn acquire(&self, egress: Egress) {
        loop {
            let jitter = rand::random::<f64>();
            // tokio's clock, so a paused test runtime controls it too.
            let now = tokio::time::Instant::now().into_std();
            match self.take(egress, now, jitter) {
                Take::Ready => return,
                Take::Wait(pause) => tokio::time::sleep(pause).await,
            }
        }
    }

    pub fn state(&self, egress: Egress, now: Instant) -> EgressState {
        self.with(egress, now, |b| b.state(now))
    }

    pub fn on_rate_limited(&self, egress: Egress, now: Instant) -> Duration {
        self.with(egress, now, |b| b.on_rate_limited(now))
    }

    pub fn on_success(&self, egress: Egress, now: Instant) {
        self.with(egress, now, EgressBudget::on_success);
    }

    pub fn on_failure(&self, egress: Egress, now: Instant) -> Health {
        self.with(egress, now, |b| b.on_failure(now))
    }

    /// Forgets a proxy's budget (it was removed or re-enabled by its owner).
    pub fn forget(&self, egress: Egress) {
        self.budgets().remove(&egress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BudgetConfig {
        BudgetConfig {
            per_minute: 60,
            burst: 2,
            jitter: Duration::from_millis(500),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(45),
            fail_limit: 3,
            retest_after: Duration::from_secs(100),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn ranges() {
        let cases: &[(&str, Option<(&str, bool)>)] = &[
            ("8.8.8.8", None),
            ("157.240.1.174", None),
            ("2a03:2880:f12f:83:face:b00c::25de", None),
            ("127.0.0.1", Some(("loopback", false))),
            ("127.8.9.10", Some(("loopback", false))),
            ("10.1.2.3", Some(("private", false))),
            ("172.16.0.1", Some(("private", false))),
            ("172.31.255.255", Some(("private", false))),
            ("192.168.1.1", Some(("private", false))),
            ("169.254.169.254", Some(("link-local", false))),
            ("100.64.0.1", Some(("CGNAT", false))),
            ("100.127.255.255", Some(("CGNAT", false))),
            ("100.128.0.1", None),
            ("192.0.2.1", Some(("documentation", false))),
            ("198.51.100.7", Some(("documentation", false))),
            ("203.0.113.9", Some(("documentation", false))),
            ("198.18.0.1", Some(("benchmarking", false))),
            ("192.0.0.8", Some(("IETF protocol assignment", false))),
            ("240.0.0.1", Some(("reserved", false))),
            ("0.0.0.0", Some(("unspecified", true))),
            ("0.1.2.3", Some(("unspecified", true))),
            ("255.255.255.255", Some(("broadcast", true))),
            ("224.0.0.1", Some(("multicast", true))),
            ("::", Some(("unspecified", true))),
            ("::1", Some(("loopback", false))),
            ("ff02::1", Some(("multicast", true))),
            ("fd00::1", Some(("unique-local", false))),
            ("fc00::1", Some(("unique-local", false))),
            ("fe80::1", Some(("link-local", false))),
            ("fec0::1", Some(("site-local", false))),
            ("2001:db8::1", Some(("documentation", false))),
            ("::ffff:127.0.0.1", Some(("loopback", false))),
            ("::ffff:169.254.169.254", Some(("link-local", false))),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::a00:1", Some(("private", false))),
            ("64:ff9b::808:808", None),
            ("::10.0.0.1", Some(("IPv4-compatible", false))),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_range(ip), *expected, "{ip}");
        }
    }

    #[tokio::test]
    async fn guard_refuses_private_unless_allowed() {
        for host in [
            "127.0.0.1",
            "10.0.0.5",
            "169.254.169.254",
            "::1",
            "localhost",
        ] {
            let err = check_proxy_host(host, 8080, false).await.unwrap_err();
            assert!(
                matches!(err, EgressError::Forbidden { .. }),
                "{host}: {err}"
            );
        }
        let addrs = check_proxy_host("127.0.0.1", 8080, true).await.unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        let err = check_proxy_host("0.0.0.0", 8080, true).await.unwrap_err();
        assert!(matches!(
            err,
            EgressError::Forbidden {
                range: "unspecified",
                ..
            }
        ));
        assert!(check_proxy_host("8.8.8.8", 80, false).await.is_ok());
    }

    #[test]
    fn bucket_allows_a_burst_then_paces() {
        let t0 = Instant::now();
        let mut b = EgressBudget::new(cfg(), t0);
        assert_eq!(b.take(t0, 0.0), Take::Ready);
        assert_eq!(b.take(t0, 0.0), Take::Ready);
        assert_eq!(b.take(t0, 0.0), Take::Wait(secs(1)));
        assert_eq!(b.take(t0, 0.5), Take::Wait(Duration::from_millis(1250)));
        assert_eq!(
            b.take(t0 + Duration::from_millis(400), 0.0),
            Take::Wait(Duration::from_millis(600))
        );
        assert_eq!(b.take(t0 + secs(1), 0.0), Take::Ready);
        // A long idle time refills up to the burst, not beyond.
        let later = t0 + secs(3600);
        assert_eq!(b.take(later, 0.0), Take::Ready);
        assert_eq!(b.take(later, 0.0), Take::Ready);
        assert!(matches!(b.take(later, 0.0), Take::Wait(_)));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let t0 = Instant::now();
        let mut b = EgressBudget::new(cfg(), t0);
        b.take(t0, 0.0);
        b.take(t0, 0.0);
        for j in [0.0, 0.3, 0.999, 7.0, -1.0] {
            match b.take(t0, j) {
                Take::Wait(d) => assert!(d >= secs(1) && d <= Duration::from_millis(1500), "{d:?}"),
                Take::Ready => panic!("no token expected"),
            }
        }
    }

    #[test]
    fn rate_limits_back_off_exponentially_with_a_cap() {
        let t0 = Instant::now();
        let mut b = EgressBudget::new(cfg(), t0);
        assert_eq!(b.on_rate_limited(t0), secs(10));
        assert_eq!(b.state(t0), EgressState::CoolingDown(t0 + secs(10)));
        assert_eq!(b.take(t0 + secs(4), 0.0), Take::Wait(secs(6)));
        assert_eq!(b.on_rate_limited(t0), secs(20));
        assert_eq!(b.on_rate_limited(t0), secs(40));
        assert_eq!(b.on_rate_limited(t0), secs(45));
        assert_eq!(b.on_rate_limited(t0), secs(45));
        let after = t0 + secs(45);
        assert_eq!(b.state(after), EgressState::Ready);
        assert_eq!(b.take(after + secs(1), 0.0), Take::Ready);
        b.on_success();
        assert_eq!(b.on_rate_limited(after), secs(10));
    }

    #[test]
    fn failures_deactivate_then_retest() {
        let t0 = Instant::now();
        let mut b = EgressBudget::new(cfg(), t0);
        assert_eq!(b.on_failure(t0), Health::Failing { streak: 1 });
        b.on_success();
        assert_eq!(b.health(), Health::Healthy);
        assert_eq!(b.on_failure(t0), Health::Failing { streak: 1 });
        assert_eq!(b.on_failure(t0), Health::Failing { streak: 2 });
        assert_eq!(
            b.on_failure(t0),
            Health::JustDeactivated {
                retest_at: t0 + secs(100)
            }
        );
        assert_eq!(
            b.state(t0 + secs(50)),
            EgressState::Deactivated(t0 + secs(100))
        );
        assert!(matches!(b.take(t0 + secs(50), 0.0), Take::Wait(d) if d == secs(50)));
        // Re-test time: usable for one probe; failing again keeps it deactivated.
        let retest = t0 + secs(100);
        assert_eq!(b.state(retest), EgressState::Ready);
        assert_eq!(
            b.on_failure(retest),
            Health::StillDeactivated {
                retest_at: retest + secs(100)
            }
        );
        // A successful re-test brings it back.
        let second = retest + secs(100);
        assert_eq!(b.take(second, 0.0), Take::Ready);
        b.on_success();
        assert_eq!(b.state(second), EgressState::Ready);
        assert_eq!(b.fail_streak(), 0);
    }

    #[test]
    fn pool_picks_by_priority_and_skips_cooling_proxies() {
        let t0 = Instant::now();
        let pool = EgressPool::new(cfg());
        assert_eq!(pool.pick(&[], t0), Pick::Use(Egress::Direct));
        let a = ProxyChoice {
            id: ProxyId(1),
            priority: 5,
        };
        let b = ProxyChoice {
            id: ProxyId(2),
            priority: 1,
        };
        let c = ProxyChoice {
            id: ProxyId(3),
            priority: 1,
        };
        let all = [a, b, c];
        assert_eq!(pool.pick(&all, t0), Pick::Use(Egress::Proxy(ProxyId(2))));
        // Equal priority: the least recently used goes next.
        assert_eq!(pool.take(Egress::Proxy(ProxyId(2)), t0, 0.0), Take::Ready);
        assert_eq!(pool.pick(&all, t0), Pick::Use(Egress::Proxy(ProxyId(3))));
        pool.on_rate_limited(Egress::Proxy(ProxyId(3)), t0);
        pool.on_rate_limited(Egress::Proxy(ProxyId(2)), t0);
        assert_eq!(pool.pick(&all, t0), Pick::Use(Egress::Proxy(ProxyId(1))));
        pool.on_rate_limited(Egress::Proxy(ProxyId(1)), t0 + secs(5));
        assert_eq!(
            pool.pick(&all, t0 + secs(6)),
            Pick::NoneUsable(t0 + secs(10))
        );
        // 2 and 3 are back; 3 was never used.
        assert_eq!(
            pool.pick(&all, t0 + secs(10)),
            Pick::Use(Egress::Proxy(ProxyId(3)))
        );
        // A failing proxy ranks after a healthy one of the same priority.
        pool.on_failure(Egress::Proxy(ProxyId(3)), t0 + secs(10));
        assert_eq!(
            pool.pick(&all, t0 + secs(10)),
            Pick::Use(Egress::Proxy(ProxyId(2)))
        );
        pool.forget(Egress::Proxy(ProxyId(2)));
        assert_eq!(
            pool.state(Egress::Proxy(ProxyId(2)), t0),
            EgressState::Ready
        );
    }

    /// On the wall clock (tokio's `test-util` is not enabled): 0.1 s per token, so the test
    /// waits about 0.2 s; the upper bound is loose for busy machines.
    #[tokio::test]
    async fn acquire_waits_for_a_token() {
        let pool = EgressPool::new(BudgetConfig {
            per_minute: 600,
            jitter: Duration::ZERO,
            ..cfg()
        });
        let start = Instant::now();
        for _ in 0..4 {
            pool.acquire(Egress::Direct).await;
        }
        // Two from the burst, then one every 0.1 s.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
        assert!(elapsed < secs(5), "{elapsed:?}");
    }

    #[test]
    fn reqwest_proxy_accepts_every_scheme() {
        for text in [
            "http://u:p@h.example:8080",
            "https://h.example:443",
            "socks5://u:p@10.0.0.1:1080",
            "[2001:db8::1]:3128:u:p",
        ] {
            let spec = ProxySpec::parse(text).unwrap();
            assert!(reqwest_proxy(&spec).is_ok(), "{text}");
        }
    }
}
