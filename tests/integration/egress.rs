//! Proxies with credentials over real loopback sockets: reqwest straight through HTTP and SOCKS5
//! upstreams, the local forwarder chained to each (plain requests and `CONNECT` tunnels), wrong
//! passwords reported as `AuthRejected`, and the SSRF guard on proxy hosts.

use std::net::SocketAddr;

use igwatch::check::{
    EgressError, Forwarder, ForwarderCounters, ForwarderEvent, build_proxied_client,
    check_proxy_host, reqwest_proxy,
};
use igwatch::config::Config;
use igwatch::domain::ProxySpec;
use reqwest::{Client, StatusCode, redirect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::fake_instagram::{Behavior, FakeInstagram};
use crate::support::test_proxy::{ProxiedRequest, TestProxy, Via};

const APP_ID: &str = "936619743392459";
/// A password with the characters that break naive URL handling.
const PASSWORD: &str = "pa:ss@w%rd";

fn spec(text: &str) -> ProxySpec {
    ProxySpec::parse(text).expect("valid proxy")
}

fn client_via(proxy: reqwest::Proxy) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(redirect::Policy::none())
        .proxy(proxy)
        .build()
        .expect("client")
}

fn fake_with_alice() -> FakeInstagram {
    let ig = FakeInstagram::start();
    ig.set("alice", Behavior::Exists { private: false });
    ig
}

async fn profile(client: &Client, ig: &FakeInstagram) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("{}/api/v1/users/web_profile_info/", ig.url()))
        .query(&[("username", "alice")])
        .header("x-ig-app-id", APP_ID)
        .send()
        .await
}

fn fake_authority(ig: &FakeInstagram) -> String {
    ig.url().trim_start_matches("http://").to_owned()
}

/// Opens a `CONNECT` tunnel through `proxy` to the fake and fetches alice's profile inside it;
/// returns the proxy's answer to `CONNECT` and, when it was 200, the fake's response.
async fn tunnel_profile(proxy: SocketAddr, ig: &FakeInstagram) -> (String, String) {
    let authority = fake_authority(ig);
    let mut stream = TcpStream::connect(proxy)
        .await
        .expect("connect the forwarder");
    stream
        .write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .await
        .expect("send CONNECT");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.expect("read the answer") == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with("HTTP/1.1 200") {
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest).await;
        return (head + rest.as_str(), String::new());
    }
    stream
        .write_all(
            format!(
                "GET /api/v1/users/web_profile_info/?username=alice HTTP/1.1\r\nHost: {authority}\r\n\
                 x-ig-app-id: {APP_ID}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("send the request in the tunnel");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    (head, response)
}

fn granted(requests: &[ProxiedRequest], via: Via, target: &str) -> bool {
    requests
        .iter()
        .any(|r| r.via == via && r.target == target && r.auth_ok)
}

#[tokio::test]
async fn reqwest_uses_an_http_proxy_with_credentials() {
    let ig = fake_with_alice();
    let proxy = TestProxy::http("user", PASSWORD);
    let client = client_via(reqwest_proxy(&spec(&proxy.url())).expect("proxy"));
    let response = profile(&client, &ig)
        .await
        .expect("answer through the proxy");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(granted(&proxy.requests(), Via::Plain, &fake_authority(&ig)));
    assert_eq!(ig.count("alice"), 1);

    let wrong = client_via(reqwest_proxy(&spec(&proxy.url_with("user", "nope"))).expect("proxy"));
    let response = profile(&wrong, &ig)
        .await
        .expect("an answer from the proxy");
    assert_eq!(response.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
    assert_eq!(
        ig.count("alice"),
        1,
        "a refused request never reaches Instagram"
    );
}

#[tokio::test]
async fn reqwest_uses_a_socks5_proxy_with_credentials() {
    let ig = fake_with_alice();
    let proxy = TestProxy::socks5("user", PASSWORD);
    let client = client_via(reqwest_proxy(&spec(&proxy.url())).expect("proxy"));
    let response = profile(&client, &ig)
        .await
        .expect("answer through the proxy");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(granted(&proxy.requests(), Via::Socks, &fake_authority(&ig)));

    let wrong = client_via(reqwest_proxy(&spec(&proxy.url_with("user", "nope"))).expect("proxy"));
    assert!(profile(&wrong, &ig).await.is_err());
    assert!(proxy.requests().iter().any(|r| !r.auth_ok));
    assert_eq!(ig.count("alice"), 1);
}

#[tokio::test]
async fn the_proxied_client_is_guarded_and_works_when_allowed() {
    let ig = fake_with_alice();
    let proxy = TestProxy::http("user", PASSWORD);
    let config = Config::default();
    let refused = build_proxied_client(&config, &spec(&proxy.url()), false).await;
    assert!(matches!(refused, Err(EgressError::Forbidden { .. })));
    let client = build_proxied_client(&config, &spec(&proxy.url()), true)
        .await
        .expect("client");
    let response = profile(&client, &ig)
        .await
        .expect("answer through the proxy");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(granted(&proxy.requests(), Via::Plain, &fake_authority(&ig)));
}

/// The forwarder (no credentials inbound) chained to an upstream that demands them.
async fn forwarder_reaches_the_fake(proxy: &TestProxy, via_plain: Via) {
    let ig = fake_with_alice();
    let forwarder = Forwarder::start(spec(&proxy.url()), true).expect("start the forwarder");
    let before = forwarder.counters();

    // A plain HTTP request, as Chromium sends for http:// pages.
    let client = client_via(reqwest::Proxy::all(forwarder.url()).expect("forwarder proxy"));
    let response = profile(&client, &ig)
        .await
        .expect("answer through the forwarder");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.expect("body");
    assert!(body.contains("\"alice\""), "{body}");
    assert!(granted(&proxy.requests(), via_plain, &fake_authority(&ig)));

    // A CONNECT tunnel, as Chromium opens for https:// pages.
    let (head, response) = tunnel_profile(forwarder.addr(), &ig).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let tunnel_via = if via_plain == Via::Plain {
        Via::Connect
    } else {
        Via::Socks
    };
    assert!(granted(&proxy.requests(), tunnel_via, &fake_authority(&ig)));

    assert_eq!(ig.count("alice"), 2);
    assert_eq!(forwarder.counters().since(&before), None);
    assert!(forwarder.counters().chained >= 2);
}

#[tokio::test]
async fn forwarder_chains_to_an_http_proxy_with_credentials() {
    let proxy = TestProxy::http("user", PASSWORD);
    forwarder_reaches_the_fake(&proxy, Via::Plain).await;
}

#[tokio::test]
async fn forwarder_chains_to_a_socks5_proxy_with_credentials() {
    let proxy = TestProxy::socks5("user", PASSWORD);
    forwarder_reaches_the_fake(&proxy, Via::Socks).await;
}

/// A wrong password upstream: the client gets a 502 marked `auth`, the counters say
/// `AuthRejected` (→ `Unknown(proxy_auth)`), and Instagram sees nothing.
async fn forwarder_reports_auth_rejected(proxy: &TestProxy) {
    let ig = fake_with_alice();
    let forwarder = Forwarder::start(spec(&proxy.url_with("user", "wrong")), true)
        .expect("start the forwarder");
    let before = forwarder.counters();

    let client = client_via(reqwest::Proxy::all(forwarder.url()).expect("forwarder proxy"));
    let response = profile(&client, &ig)
        .await
        .expect("an answer from the forwarder");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        response
            .headers()
            .get("x-igwatch-forwarder")
            .and_then(|v| v.to_str().ok()),
        Some("auth")
    );
    assert_eq!(
        forwarder.counters().since(&before),
        Some(ForwarderEvent::AuthRejected)
    );

    let mid = forwarder.counters();
    let (head, _) = tunnel_profile(forwarder.addr(), &ig).await;
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
    assert!(head.contains("X-Igwatch-Forwarder: auth"), "{head}");
    assert_eq!(
        forwarder.counters().since(&mid),
        Some(ForwarderEvent::AuthRejected)
    );
    assert_eq!(forwarder.counters().auth_rejected, 2);
    assert!(proxy.requests().iter().all(|r| !r.auth_ok));
    assert_eq!(ig.count("alice"), 0);
}

#[tokio::test]
async fn forwarder_reports_a_refused_http_password() {
    forwarder_reports_auth_rejected(&TestProxy::http("user", PASSWORD)).await;
}

#[tokio::test]
async fn forwarder_reports_a_refused_socks5_password() {
    forwarder_reports_auth_rejected(&TestProxy::socks5("user", PASSWORD)).await;
}

#[tokio::test]
async fn ssrf_guard_refuses_private_ranges_unless_allowed() {
    for host in [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
    ] {
        let refused = check_proxy_host(host, 8080, false).await;
        assert!(
            matches!(refused, Err(EgressError::Forbidden { .. })),
            "{host}: {refused:?}"
        );
        let allowed = check_proxy_host(host, 8080, true).await.expect("allowed");
        assert_eq!(allowed[0].port(), 8080);
    }

    // The forwarder re-checks at connect time: a loopback upstream is never contacted.
    let proxy = TestProxy::http("user", PASSWORD);
    let ig = fake_with_alice();
    let forwarder = Forwarder::start(spec(&proxy.url()), false).expect("start the forwarder");
    let client = client_via(reqwest::Proxy::all(forwarder.url()).expect("forwarder proxy"));
    let response = profile(&client, &ig)
        .await
        .expect("an answer from the forwarder");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        forwarder.counters().since(&ForwarderCounters::default()),
        Some(ForwarderEvent::Forbidden)
    );
    assert!(proxy.requests().is_empty());
    assert_eq!(ig.count("alice"), 0);
}
