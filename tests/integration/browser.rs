//! Browser probes with real headless Chromium and chromedriver against the fake Instagram: verdicts,
//! proof screenshots, cookies, timeouts, proxy failures, crash recovery and session reuse.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use igwatch::check::{BrowserOptions, BrowserProbe, BrowserSession, is_blank};
use igwatch::domain::{Cookie, UnknownReason, Username, Verdict};
use secrecy::SecretString;
use url::Url;

use crate::support::chrome::ChromeDriver;
use crate::support::fake_instagram::{Behavior, Endpoint, FakeInstagram};
use crate::support::loopback::Server;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn options(driver: &ChromeDriver, proxy: Option<String>, page_load: Duration) -> BrowserOptions {
    BrowserOptions {
        webdriver_url: driver.url(),
        proxy,
        page_load_timeout: page_load,
        lang: "en-US".to_owned(),
    }
}

async fn connect(driver: &ChromeDriver) -> BrowserSession {
    BrowserSession::connect(&options(driver, None, Duration::from_secs(10)))
        .await
        .expect("a browser session")
}

fn user(name: &str) -> Username {
    Username::parse(name).expect("a valid username")
}

fn base(fake: &FakeInstagram) -> Url {
    Url::parse(&fake.url()).expect("the fake's URL")
}

fn cookie(name: &str, value: &str, secure: bool, http_only: bool) -> Cookie {
    Cookie {
        name: name.to_owned(),
        value: SecretString::from(value.to_owned()),
        path: Some("/".to_owned()),
        http_only,
        secure,
        expires: Some(4_102_444_800),
    }
}

fn assert_unknown(probe: &BrowserProbe, reason: UnknownReason, case: &str) {
    assert_eq!(probe.verdict, Verdict::unknown(reason), "{case}: {probe:?}");
    assert!(
        probe.screenshot.is_none(),
        "{case}: no proof without Exists"
    );
}

fn assert_proof(probe: &BrowserProbe, case: &str) {
    let png = probe
        .screenshot
        .as_deref()
        .expect("a screenshot of a live profile");
    assert!(png.starts_with(PNG_SIGNATURE), "{case}: not a PNG");
    assert!(!is_blank(png), "{case}: blank proof");
}

/// The `Cookie` header of the last request for `/{name}/`.
fn profile_cookie_header(fake: &FakeInstagram, name: &str) -> String {
    fake.requests()
        .iter()
        .rev()
        .find(|r| r.endpoint == Endpoint::Page && r.path == format!("/{name}/"))
        .and_then(|r| r.header("cookie").map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test]
async fn browser_probe_classifies_pages_and_proves_only_live_profiles() {
    let fake = FakeInstagram::start();
    fake.set("alice", Behavior::Exists { private: false });
    fake.set("bob", Behavior::Exists { private: true });
    fake.set("carol", Behavior::NotFound);
    fake.set("dave", Behavior::LoginWall);
    fake.set("erin", Behavior::Challenge);
    fake.set("frank", Behavior::RateLimited);
    fake.set("grace", Behavior::PleaseWait);
    fake.set("blanche", Behavior::BlankPage);
    let driver = ChromeDriver::start().await;
    // One session for every case: reuse is what production does, and each case is a fresh page.
    let mut session = connect(&driver).await;
    let profile_dir = session
        .profile_dir()
        .expect("a local profile dir")
        .to_owned();
    assert!(
        profile_dir.is_dir(),
        "the profile dir exists while the session runs"
    );
    let base = base(&fake);

    let alice = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe");
    assert!(
        matches!(alice.verdict, Verdict::Exists { private: false, .. }),
        "{alice:?}"
    );
    assert_eq!(alice.rule, "profile_markers");
    assert_eq!(alice.final_url, format!("{}/alice/", fake.url()));
    assert_proof(&alice, "public profile");

    let bob = session
        .probe(&base, &user("bob"), &[])
        .await
        .expect("probe");
    assert!(bob.verdict.is_private(), "{bob:?}");
    assert_proof(&bob, "private profile");

    let carol = session
        .probe(&base, &user("carol"), &[])
        .await
        .expect("probe");
    assert_eq!(carol.verdict, Verdict::NotFound, "{carol:?}");
    assert!(carol.screenshot.is_none());

    let walls = [
        ("dave", UnknownReason::LoginWall),
        ("erin", UnknownReason::SessionFlagged),
        ("frank", UnknownReason::RateLimited),
        ("grace", UnknownReason::RateLimited),
    ];
    for (name, reason) in walls {
        let probe = session.probe(&base, &user(name), &[]).await.expect("probe");
        assert_unknown(&probe, reason, name);
    }

    // The head says "profile", the body renders nothing: retried once after a reload, never sent.
    fake.reset_counters();
    let blank = session
        .probe(&base, &user("blanche"), &[])
        .await
        .expect("probe");
    assert_unknown(&blank, UnknownReason::BlankScreenshot, "blank page");
    assert_eq!(blank.rule, "blank_screenshot");
    assert_eq!(
        fake.count("blanche"),
        2,
        "one reload after the blank screenshot"
    );

    assert_eq!(
        session.pages(),
        9,
        "eight probes and one reload, no origin page without cookies"
    );
    session.quit().await;
    assert!(!profile_dir.exists(), "quit removes the profile dir");
}

#[tokio::test]
async fn browser_probe_sends_the_owner_cookies_and_clears_them_afterwards() {
    let fake = FakeInstagram::start();
    fake.set("alice", Behavior::Exists { private: false });
    let driver = ChromeDriver::start().await;
    let mut session = connect(&driver).await;
    let base = base(&fake);
    let cookies = [
        // Stored secure and httpOnly as Instagram sets it; the fake is plain http.
        cookie("sessionid", "42%3AsEcReT%3A7", true, true),
        cookie("csrftoken", "tok123", true, false),
    ];

    let probe = session
        .probe(&base, &user("alice"), &cookies)
        .await
        .expect("probe");
    assert!(matches!(probe.verdict, Verdict::Exists { .. }), "{probe:?}");
    let sent = profile_cookie_header(&fake, "alice");
    assert!(
        sent.contains("sessionid=42%3AsEcReT%3A7"),
        "cookie header: {sent:?}"
    );
    assert!(sent.contains("csrftoken=tok123"), "cookie header: {sent:?}");
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths.first().map(String::as_str),
        Some("/robots.txt"),
        "{paths:?}"
    );

    // The next probe is anonymous: the previous owner's session must not go with it.
    fake.reset_counters();
    let anonymous = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe");
    assert!(matches!(anonymous.verdict, Verdict::Exists { .. }));
    let sent = profile_cookie_header(&fake, "alice");
    assert!(!sent.contains("sessionid"), "cookie header: {sent:?}");
    session.quit().await;
}

#[tokio::test]
async fn page_that_never_loads_is_a_timeout_and_the_session_survives() {
    let fake = FakeInstagram::start();
    fake.set("stuck", Behavior::Hang);
    fake.set("alice", Behavior::Exists { private: false });
    let driver = ChromeDriver::start().await;
    let page_load = Duration::from_secs(3);
    let mut session = BrowserSession::connect(&options(&driver, None, page_load))
        .await
        .expect("a browser session");
    let base = base(&fake);

    let started = Instant::now();
    let probe = session
        .probe(&base, &user("stuck"), &[])
        .await
        .expect("not a session failure");
    let took = started.elapsed();
    assert_unknown(&probe, UnknownReason::Timeout, "hanging page");
    assert_eq!(probe.rule, "page_load_timeout");
    // The page-load timeout plus chromedriver's own overhead (measured ~0.1 s).
    assert!(took < page_load + Duration::from_secs(3), "took {took:?}");

    let alice = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe");
    assert!(matches!(alice.verdict, Verdict::Exists { .. }), "{alice:?}");
    assert_proof(&alice, "after a timeout");
    session.quit().await;
}

#[tokio::test]
async fn proxy_failures_are_unknown_proxy_never_a_verdict_on_the_profile() {
    let fake = FakeInstagram::start();
    fake.set("alice", Behavior::Exists { private: false });
    let driver = ChromeDriver::start().await;
    let base = base(&fake);

    // Nothing listens on the proxy port: ERR_PROXY_CONNECTION_FAILED.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    let proxy = Some(format!("http://{closed}"));
    let mut session = BrowserSession::connect(&options(&driver, proxy, Duration::from_secs(10)))
        .await
        .expect("a browser session");
    let probe = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe");
    assert_unknown(&probe, UnknownReason::Proxy, "proxy down");
    session.quit().await;

    // A proxy that wants credentials Chromium cannot give: 407 on every request.
    let demanding = Server::start(|_| {
        Router::new().fallback(|| async {
            (
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                [(header::PROXY_AUTHENTICATE, "Basic realm=\"proxy\"")],
                "proxy authentication required",
            )
                .into_response()
        })
    });
    let mut session = BrowserSession::connect(&options(
        &driver,
        Some(demanding.url()),
        Duration::from_secs(10),
    ))
    .await
    .expect("a browser session");
    let probe = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe");
    assert_unknown(&probe, UnknownReason::ProxyAuth, "proxy 407");
    assert_eq!(fake.count("alice"), 0, "the proxy was really used");
    session.quit().await;
}

#[tokio::test]
async fn killed_chromedriver_loses_the_session_and_a_new_one_works() {
    let fake = FakeInstagram::start();
    fake.set("alice", Behavior::Exists { private: false });
    let base = base(&fake);
    let mut driver = ChromeDriver::start().await;
    let mut session = connect(&driver).await;
    let profile_dir = session
        .profile_dir()
        .expect("a local profile dir")
        .to_owned();
    session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe before the crash");

    let pid = driver.pid();
    driver.kill();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "chromedriver is gone"
    );
    let error = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect_err("no verdict from a dead driver");
    assert!(error.session_lost(), "{error}");
    let started = Instant::now();
    session.quit().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "quit of a dead session is quick"
    );
    assert!(
        !profile_dir.exists(),
        "the profile dir is removed after a crash too"
    );

    let driver = ChromeDriver::start().await;
    let mut session = connect(&driver).await;
    let probe = session
        .probe(&base, &user("alice"), &[])
        .await
        .expect("probe after restart");
    assert!(matches!(probe.verdict, Verdict::Exists { .. }), "{probe:?}");
    assert_proof(&probe, "after restart");
    session.quit().await;
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn session_reuse_versus_a_browser_per_probe() {
    const PROBES: usize = 8;
    let fake = FakeInstagram::start();
    fake.set("alice", Behavior::Exists { private: false });
    let base = base(&fake);
    let driver = ChromeDriver::start().await;

    let mut reused = Vec::with_capacity(PROBES);
    let mut session = connect(&driver).await;
    for _ in 0..PROBES {
        let started = Instant::now();
        let probe = session
            .probe(&base, &user("alice"), &[])
            .await
            .expect("probe");
        reused.push(started.elapsed());
        assert!(probe.screenshot.is_some());
    }
    session.quit().await;

    // What the old bot did: a new browser for every check, closed afterwards.
    let mut fresh = Vec::with_capacity(PROBES);
    for _ in 0..PROBES {
        let started = Instant::now();
        let mut session = connect(&driver).await;
        let probe = session
            .probe(&base, &user("alice"), &[])
            .await
            .expect("probe");
        session.quit().await;
        fresh.push(started.elapsed());
        assert!(probe.screenshot.is_some());
    }

    let (reused, fresh) = (median(reused), median(fresh));
    let ratio = fresh.as_secs_f64() / reused.as_secs_f64();
    println!(
        "figure: median per-probe time over {PROBES} probes: reused session {} ms, new session per probe {} ms, ratio {ratio:.1}x",
        reused.as_millis(),
        fresh.as_millis()
    );
    assert!(
        ratio > 1.5,
        "reusing the session should be clearly faster (ratio {ratio:.2})"
    );
}
