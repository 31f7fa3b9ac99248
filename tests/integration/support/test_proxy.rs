//! Loopback upstream proxies that demand credentials: HTTP (`CONNECT` and absolute-URI requests,
//! Basic auth, 407 on wrong credentials) and SOCKS5 (RFC 1929, failure status on wrong
//! credentials). Every request is recorded with its target and whether the credentials were right.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The protocol a [`TestProxy`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Http,
    Socks5,
}

/// How a request reached the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// HTTP `CONNECT host:port`.
    Connect,
    /// HTTP absolute-URI request (`GET http://host/path`).
    Plain,
    /// SOCKS5 `CONNECT`.
    Socks,
}

/// One request as the proxy saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub via: Via,
    /// `host:port` the client asked for (empty when authentication failed before it was sent).
    pub target: String,
    pub auth_ok: bool,
}

struct Shared {
    username: String,
    password: String,
    log: Mutex<Vec<ProxiedRequest>>,
}

impl Shared {
    fn record(&self, via: Via, target: String, auth_ok: bool) {
        self.log
            .lock()
            .expect("proxy log lock")
            .push(ProxiedRequest {
                via,
                target,
                auth_ok,
            });
    }
}

/// A proxy on `127.0.0.1:0`, run by its own thread and runtime; stops on drop.
pub struct TestProxy {
    kind: ProxyKind,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestProxy {
    /// An HTTP proxy that accepts only `username`/`password` (Basic).
    pub fn http(username: &str, password: &str) -> TestProxy {
        TestProxy::start(ProxyKind::Http, username, password)
    }

    /// A SOCKS5 proxy that accepts only `username`/`password` (RFC 1929).
    pub fn socks5(username: &str, password: &str) -> TestProxy {
        TestProxy::start(ProxyKind::Socks5, username, password)
    }

    fn start(kind: ProxyKind, username: &str, password: &str) -> TestProxy {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            username: username.to_owned(),
            password: password.to_owned(),
            log: Mutex::new(Vec::new()),
        });
        let (tx, rx) = oneshot::channel::<()>();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-proxy-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("test proxy runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                    let accept = async {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else {
                                continue;
                            };
                            let shared = serving.clone();
                            tokio::spawn(async move {
                                let _ = stream.set_nodelay(true);
                                match kind {
                                    ProxyKind::Http => serve_http(stream, &shared).await,
                                    ProxyKind::Socks5 => serve_socks(stream, &shared).await,
                                }
                            });
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })
            .expect("spawn the test proxy thread");
        TestProxy {
            kind,
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The proxy as an operator would type it, with the given credentials.
    pub fn url_with(&self, username: &str, password: &str) -> String {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        };
        format!("{scheme}://{username}:{password}@{}", self.addr)
    }

    /// The proxy with the right credentials.
    pub fn url(&self) -> String {
        self.url_with(&self.shared.username, &self.shared.password)
    }

    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.shared.log.lock().expect("proxy log lock").clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads up to the end of the head; returns the head text and the bytes after it.
async fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8(buf).ok()?, rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve_http(mut client: TcpStream, shared: &Shared) {
    let Some((head, early)) = read_head(&mut client).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", shared.username, shared.password))
    );
    let auth_ok = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("proxy-authorization") && *v == expected);
    let connect = method.eq_ignore_ascii_case("CONNECT");
    let (via, authority, path) = if connect {
        (Via::Connect, target.to_owned(), String::new())
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let split = rest.find('/').unwrap_or(rest.len());
        let path = if split == rest.len() {
            "/"
        } else {
            &rest[split..]
        };
        (Via::Plain, rest[..split].to_owned(), path.to_owned())
    };
    shared.record(via, authority.clone(), auth_ok);
    if !auth_ok {
        let _ = client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\
                  Connection: close\r\n\r\n",
            )
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(authority.as_str()).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    if connect {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else {
        let mut forwarded = format!("{method} {path} {version}\r\n");
        for (name, value) in &headers {
            let lower = name.to_ascii_lowercase();
            if !lower.starts_with("proxy-") && lower != "connection" {
                forwarded.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        forwarded.push_str("Connection: close\r\n\r\n");
        if upstream.write_all(forwarded.as_bytes()).await.is_err() {
            return;
        }
    }
    if upstream.write_all(&early).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

async fn serve_socks(mut client: TcpStream, shared: &Shared) {
    let mut greeting = [0u8; 2];
    if client.read_exact(&mut greeting).await.is_err() || greeting[0] != 0x05 {
        return;
    }
    let mut methods = vec![0u8; usize::from(greeting[1])];
    if client.read_exact(&mut methods).await.is_err() {
        return;
    }
    if !methods.contains(&0x02) {
        shared.record(Via::Socks, String::new(), false);
        let _ = client.write_all(&[0x05, 0xff]).await;
        return;
    }
    if client.write_all(&[0x05, 0x02]).await.is_err() {
        return;
    }
    let Some(username) = read_field(&mut client, true).await else {
        return;
    };
    let Some(password) = read_field(&mut client, false).await else {
        return;
    };
    let auth_ok = username == shared.username.as_bytes() && password == shared.password.as_bytes();
    if !auth_ok {
        shared.record(Via::Socks, String::new(), false);
        let _ = client.write_all(&[0x01, 0x01]).await;
        return;
    }
    if client.write_all(&[0x01, 0x00]).await.is_err() {
        return;
    }
    let mut request = [0u8; 4];
    if client.read_exact(&mut request).await.is_err() || request[1] != 0x01 {
        return;
    }
    let host = match request[3] {
        0x01 => {
            let mut octets = [0u8; 4];
            if client.read_exact(&mut octets).await.is_err() {
                return;
            }
            IpAddr::V4(Ipv4Addr::from(octets)).to_string()
        }
        0x04 => {
            let mut octets = [0u8; 16];
            if client.read_exact(&mut octets).await.is_err() {
                return;
            }
            IpAddr::V6(Ipv6Addr::from(octets)).to_string()
        }
        0x03 => {
            let Some(name) = read_field(&mut client, false).await else {
                return;
            };
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return,
    };
    let mut port = [0u8; 2];
    if client.read_exact(&mut port).await.is_err() {
        return;
    }
    let port = u16::from_be_bytes(port);
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    shared.record(Via::Socks, target.clone(), true);
    let Ok(mut upstream) = TcpStream::connect(target.as_str()).await else {
        let _ = client
            .write_all(&[0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
            .await;
        return;
    };
    if client
        .write_all(&[0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0])
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A length-prefixed field; the RFC 1929 version byte first when `with_version`.
async fn read_field(client: &mut TcpStream, with_version: bool) -> Option<Vec<u8>> {
    if with_version {
        let mut version = [0u8; 1];
        client.read_exact(&mut version).await.ok()?;
        if version[0] != 0x01 {
            return None;
        }
    }
    let mut len = [0u8; 1];
    client.read_exact(&mut len).await.ok()?;
    let mut field = vec![0u8; usize::from(len[0])];
    client.read_exact(&mut field).await.ok()?;
    Some(field)
}
