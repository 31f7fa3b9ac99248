//! A local proxy without authentication on 127.0.0.1 that chains every connection to an upstream
//! proxy with credentials: Chromium takes no credentials in `--proxy-server` and offers no SOCKS5
//! authentication, so it talks to the forwarder and the forwarder authenticates upstream.
//!
//! Inbound it accepts `CONNECT host:port` (tunnels) and absolute-URI HTTP requests
//! (`GET http://host/path HTTP/1.1`, one per connection: it answers with `Connection: close`).
//! Upstream it speaks HTTP (`CONNECT` or the request itself, with `Proxy-Authorization: Basic`) or
//! SOCKS5 (RFC 1928 with RFC 1929 username/password). Failures reach the client as `502` with an
//! `X-Igwatch-Forwarder` header, and are counted so a probe can tell a refused password
//! ([`ForwarderEvent::AuthRejected`]) from a missing profile. Credentials are never logged.

use super::egress::{EgressError, check_proxy_host};
use crate::domain::{ProxyAuth, ProxySpec};
use secrecy::ExposeSecret;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

/// Connections served at once; further clients wait in the listen backlog.
const MAX_CONNECTIONS: usize = 64;
/// Largest request or response head read.
const MAX_HEAD: usize = 16 * 1024;
/// Time to read the client's request head and to set up the upstream connection.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Time to connect to one upstream address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time the upstream has to answer a plain HTTP request with a response head.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the forwarder could not start.
#[derive(Debug, thiserror::Error)]
pub enum ForwarderError {
    #[error("failed to start the proxy forwarder: it must be started inside a tokio runtime")]
    NoRuntime,
    #[error("failed to bind the proxy forwarder on 127.0.0.1")]
    Bind(#[source] io::Error),
}

/// What went wrong on a connection, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwarderEvent {
    /// The upstream refused the credentials (HTTP 407, SOCKS5 authentication failure).
    AuthRejected,
    /// The upstream host resolved to a refused range (SSRF guard).
    Forbidden,
    /// The upstream could not be resolved or reached, or broke the protocol.
    Unreachable,
    /// The upstream was reached but refused to connect onwards.
    Refused,
}

impl ForwarderEvent {
    /// The value of the `X-Igwatch-Forwarder` header on the `502` sent to the client.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwarderEvent::AuthRejected => "auth",
            ForwarderEvent::Forbidden => "forbidden",
            ForwarderEvent::Unreachable => "unreachable",
            ForwarderEvent::Refused => "refused",
        }
    }
}

/// Counters since the forwarder started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwarderCounters {
    /// Client connections accepted.
    pub connections: u64,
    /// Connections chained to the upstream successfully.
    pub chained: u64,
    pub auth_rejected: u64,
    pub forbidden: u64,
    pub unreachable: u64,
    pub refused: u64,
    /// Client requests the forwarder could not understand.
    pub bad_requests: u64,
}

impl ForwarderCounters {
    /// The most telling failure between `before` and `self`, if any: take a snapshot before a
    /// probe, and after it turn `AuthRejected` into `Unknown(proxy_auth)`, the others into
    /// `Unknown(proxy)`.
    pub fn since(&self, before: &ForwarderCounters) -> Option<ForwarderEvent> {
        [
            (
                self.auth_rejected,
                before.auth_rejected,
                ForwarderEvent::AuthRejected,
            ),
            (self.forbidden, before.forbidden, ForwarderEvent::Forbidden),
            (
                self.unreachable,
                before.unreachable,
                ForwarderEvent::Unreachable,
            ),
            (self.refused, before.refused, ForwarderEvent::Refused),
        ]
        .into_iter()
        .find(|(now, then, _)| now > then)
        .map(|(_, _, event)| event)
    }
}

#[derive(Debug, Default)]
struct Stats {
    connections: AtomicU64,
    chained: AtomicU64,
    auth_rejected: AtomicU64,
    forbidden: AtomicU64,
    unreachable: AtomicU64,
    refused: AtomicU64,
    bad_requests: AtomicU64,
}

impl Stats {
    fn snapshot(&self) -> ForwarderCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ForwarderCounters {
            connections: get(&self.connections),
            chained: get(&self.chained),
            auth_rejected: get(&self.auth_rejected),
            forbidden: get(&self.forbidden),
            unreachable: get(&self.unreachable),
            refused: get(&self.refused),
            bad_requests: get(&self.bad_requests),
        }
    }

    fn count(&self, event: ForwarderEvent) {
        let counter = match event {
            ForwarderEvent::AuthRejected => &self.auth_rejected,
            ForwarderEvent::Forbidden => &self.forbidden,
            ForwarderEvent::Unreachable => &self.unreachable,
            ForwarderEvent::Refused => &self.refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A running forwarder; stops (and drops every connection) when dropped.
#[derive(Debug)]
pub struct Forwarder {
    addr: SocketAddr,
    upstream: String,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Binds `127.0.0.1:0` and serves in the background of the current tokio runtime. The
    /// upstream host is checked with [`check_proxy_host`] on every connection (refused ranges
    /// unless `allow_private`).
    pub fn start(upstream: ProxySpec, allow_private: bool) -> Result<Forwarder, ForwarderError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ForwarderError::NoRuntime)?;
        let std_listener =
            std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(ForwarderError::Bind)?;
        std_listener
            .set_nonblocking(true)
            .map_err(ForwarderError::Bind)?;
        let addr = std_listener.local_addr().map_err(ForwarderError::Bind)?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(std_listener).map_err(ForwarderError::Bind)?
        };
        let safe = upstream.display_safe();
        let stats = Arc::new(Stats::default());
        let shared = Arc::new(Shared {
            upstream,
            allow_private,
            stats: stats.clone(),
        });
        let task = runtime.spawn(serve(listener, shared));
        log::debug!("Proxy forwarder listening. addr={addr} upstream={safe}");
        Ok(Forwarder {
            addr,
            upstream: safe,
            stats,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, for `--proxy-server` or `reqwest::Proxy::all`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The upstream without its password.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    pub fn counters(&self) -> ForwarderCounters {
        self.stats.snapshot()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    upstream: ProxySpec,
    allow_private: bool,
    stats: Arc<Stats>,
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Dropping the set (when the task is aborted) aborts every connection task.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let client = match accepted {
                    Ok((client, _)) => client,
                    Err(err) => {
                        log::warn!("Proxy forwarder failed to accept a connection: {err}.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    return;
                };
                let shared = shared.clone();
                connections.spawn(async move {
                    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                    handle(client, &shared).await;
                    drop(permit);
                });
            }
        }
    }
}

/// Where the client wants to go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
}

impl Target {
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A parsed client request head.
#[derive(Debug)]
struct Request {
    connect: bool,
    target: Target,
    method: String,
    /// Origin-form path and query (`/x?y`), for plain requests.
    path: String,
    version: String,
    headers: Vec<(String, String)>,
}

enum Failure {
    /// The client sent something that is not a proxy request.
    BadRequest,
    /// The client went away; nothing to answer.
    ClientGone,
    Upstream(ForwarderEvent),
}

impl From<ForwarderEvent> for Failure {
    fn from(event: ForwarderEvent) -> Self {
        Failure::Upstream(event)
    }
}

async fn handle(mut client: TcpStream, shared: &Shared) {
    let _ = client.set_nodelay(true);
    let setup = tokio::time::timeout(SETUP_TIMEOUT, setup(&mut client, shared)).await;
    let outcome = match setup {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Upstream(ForwarderEvent::Unreachable)),
    };
    match outcome {
        Ok(Chained::Tunnel(mut upstream)) => {
            shared.stats.chained.fetch_add(1, Ordering::Relaxed);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
        Ok(Chained::Plain {
            upstream,
            response_head,
        }) => {
            shared.stats.chained.fetch_add(1, Ordering::Relaxed);
            relay_response(client, upstream, response_head).await;
        }
        Err(Failure::ClientGone) => {}
        Err(Failure::BadRequest) => {
            shared.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
            let _ = client
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
        Err(Failure::Upstream(event)) => {
            shared.stats.count(event);
            log::debug!(
                "Proxy forwarder could not chain a connection. upstream={} failure={}",
                shared.upstream.display_safe(),
                event.as_str()
            );
            let body = match event {
                ForwarderEvent::AuthRejected => "the upstream proxy refused the credentials\n",
                ForwarderEvent::Forbidden => "the upstream proxy host is not allowed\n",
                ForwarderEvent::Unreachable => "the upstream proxy could not be reached\n",
                ForwarderEvent::Refused => "the upstream proxy refused the connection\n",
            };
            let answer = format!(
                "HTTP/1.1 502 Bad Gateway\r\nX-Igwatch-Forwarder: {}\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                event.as_str(),
                body.len()
            );
            let _ = client.write_all(answer.as_bytes()).await;
        }
    }
}

/// A connection ready to be relayed.
enum Chained {
    /// Both sides may now talk freely (tunnel, or a plain request sent through SOCKS5).
    Tunnel(TcpStream),
    /// A plain request went to an HTTP upstream; its response head (and what followed it) was
    /// read to see a 407 and must go to the client first.
    Plain {
        upstream: TcpStream,
        response_head: Vec<u8>,
    },
}

async fn setup(client: &mut TcpStream, shared: &Shared) -> Result<Chained, Failure> {
    let mut buf = Vec::new();
    let head_len = read_head(client, &mut buf).await.map_err(|err| match err {
        HeadError::Io | HeadError::Closed => Failure::ClientGone,
        HeadError::TooLarge => Failure::BadRequest,
    })?;
    let request = parse_request(&buf[..head_len]).ok_or(Failure::BadRequest)?;
    let early = buf[head_len..].to_vec();
    let up = &shared.upstream;
    let mut upstream = connect_upstream(up, shared.allow_private).await?;
    if up.scheme.is_http() {
        if request.connect {
            let from_upstream =
                http_connect(&mut upstream, up.auth.as_ref(), &request.target).await?;
            finish_tunnel(client, &mut upstream, &early).await?;
            client
                .write_all(&from_upstream)
                .await
                .map_err(|_| Failure::ClientGone)?;
            Ok(Chained::Tunnel(upstream))
        } else {
            let head = plain_head(&request, true, up.auth.as_ref());
            write_upstream(&mut upstream, head.as_bytes()).await?;
            write_upstream(&mut upstream, &early).await?;
            let response_head = plain_response(client, &mut upstream).await?;
            Ok(Chained::Plain {
                upstream,
                response_head,
            })
        }
    } else {
        socks5_connect(&mut upstream, up.auth.as_ref(), &request.target).await?;
        if request.connect {
            finish_tunnel(client, &mut upstream, &early).await?;
        } else {
            let head = plain_head(&request, false, None);
            write_upstream(&mut upstream, head.as_bytes()).await?;
            write_upstream(&mut upstream, &early).await?;
        }
        Ok(Chained::Tunnel(upstream))
    }
}

async fn write_upstream(upstream: &mut TcpStream, bytes: &[u8]) -> Result<(), Failure> {
    upstream
        .write_all(bytes)
        .await
        .map_err(|_| Failure::Upstream(ForwarderEvent::Unreachable))
}

/// Tells the client its tunnel is open and passes on what it already sent.
async fn finish_tunnel(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    early: &[u8],
) -> Result<(), Failure> {
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .map_err(|_| Failure::ClientGone)?;
    write_upstream(upstream, early).await
}

async fn connect_upstream(up: &ProxySpec, allow_private: bool) -> Result<TcpStream, Failure> {
    let addrs = check_proxy_host(&up.host, up.port, allow_private)
        .await
        .map_err(|err| match err {
            EgressError::Forbidden { .. } => ForwarderEvent::Forbidden,
            _ => ForwarderEvent::Unreachable,
        })?;
    for addr in addrs {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
        {
            let _ = stream.set_nodelay(true);
            return Ok(stream);
        }
    }
    Err(ForwarderEvent::Unreachable.into())
}

/// `CONNECT` through an HTTP upstream; any 2xx opens the tunnel.
/// Returns what the upstream sent after its answer (normally nothing).
async fn http_connect(
    upstream: &mut TcpStream,
    auth: Option<&ProxyAuth>,
    target: &Target,
) -> Result<Vec<u8>, Failure> {
    let authority = target.authority();
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = auth {
        head.push_str(&format!(
            "Proxy-Authorization: {}\r\n",
            auth.basic_header().expose_secret()
        ));
    }
    head.push_str("\r\n");
    write_upstream(upstream, head.as_bytes()).await?;
    let mut buf = Vec::new();
    let len = read_head(upstream, &mut buf)
        .await
        .map_err(|_| ForwarderEvent::Unreachable)?;
    match response_status(&buf[..len]) {
        Some(200..=299) => Ok(buf.split_off(len)),
        Some(407) => Err(ForwarderEvent::AuthRejected.into()),
        Some(_) => Err(ForwarderEvent::Refused.into()),
        None => Err(ForwarderEvent::Unreachable.into()),
    }
}

/// Reads the response head of a plain request; a 407 becomes `AuthRejected`, anything else is
/// returned (head and what came with it) for the client.
async fn plain_response(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    // The upstream may wait for the request body before answering: pass it on meanwhile.
    let len = tokio::time::timeout(RESPONSE_TIMEOUT, async {
        let (mut up_read, mut up_write) = upstream.split();
        let (mut cl_read, _) = client.split();
        let body = tokio::io::copy(&mut cl_read, &mut up_write);
        tokio::pin!(body);
        tokio::select! {
            head = read_head(&mut up_read, &mut buf) => head,
            _ = &mut body => read_head(&mut up_read, &mut buf).await,
        }
    })
    .await
    .map_err(|_| ForwarderEvent::Unreachable)?
    .map_err(|_| ForwarderEvent::Unreachable)?;
    match response_status(&buf[..len]) {
        Some(407) => Err(ForwarderEvent::AuthRejected.into()),
        Some(_) => Ok(buf),
        None => Err(ForwarderEvent::Unreachable.into()),
    }
}

/// Sends the response head already read, then the rest of the response, and closes.
async fn relay_response(mut client: TcpStream, mut upstream: TcpStream, head: Vec<u8>) {
    if client.write_all(&head).await.is_err() {
        return;
    }
    {
        let (mut cl_read, mut cl_write) = client.split();
        let forward = tokio::io::copy(&mut upstream, &mut cl_write);
        tokio::pin!(forward);
        // Drain (and drop) whatever the client still sends: it was told `Connection: close`.
        // A client that half-closes still gets the whole response; one that resets does not.
        let mut sink = tokio::io::sink();
        let drain = tokio::io::copy(&mut cl_read, &mut sink);
        tokio::select! {
            _ = &mut forward => {}
            drained = drain => {
                if drained.is_ok() {
                    let _ = forward.await;
                }
            }
        }
    }
    let _ = client.shutdown().await;
}

/// The head sent upstream for a plain request: absolute-URI with `Proxy-Authorization` for an
/// HTTP upstream, origin-form with `Host` for SOCKS5; hop-by-hop headers replaced by
/// `Connection: close`.
fn plain_head(request: &Request, absolute: bool, auth: Option<&ProxyAuth>) -> String {
    let target = if absolute {
        format!("http://{}{}", request.target.authority(), request.path)
    } else {
        request.path.clone()
    };
    let mut head = format!("{} {} {}\r\n", request.method, target, request.version);
    let mut has_host = false;
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            continue;
        }
        has_host |= lower == "host";
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_host {
        head.push_str(&format!("Host: {}\r\n", request.target.authority()));
    }
    if let Some(auth) = auth {
        head.push_str(&format!(
            "Proxy-Authorization: {}\r\n",
            auth.basic_header().expose_secret()
        ));
    }
    head.push_str("Connection: close\r\n\r\n");
    head
}

/// SOCKS5 greeting, optional RFC 1929 authentication, and `CONNECT` (names resolved upstream).
async fn socks5_connect(
    upstream: &mut TcpStream,
    auth: Option<&ProxyAuth>,
    target: &Target,
) -> Result<(), Failure> {
    let io_err = |_| Failure::Upstream(ForwarderEvent::Unreachable);
    let method = if auth.is_some() { 0x02 } else { 0x00 };
    write_upstream(upstream, &[0x05, 0x01, method]).await?;
    let mut choice = [0u8; 2];
    upstream.read_exact(&mut choice).await.map_err(io_err)?;
    if choice[0] != 0x05 {
        return Err(ForwarderEvent::Unreachable.into());
    }
    if choice[1] != method {
        // 0xFF: the proxy wants a method we do not offer (e.g. credentials we do not have).
        return Err(if auth.is_none() && choice[1] == 0x02 {
            ForwarderEvent::AuthRejected
        } else {
            ForwarderEvent::Refused
        }
        .into());
    }
    if let Some(auth) = auth {
        let user = auth.username.as_bytes();
        let pass = auth.password.expose_secret().as_bytes();
        let (Ok(user_len), Ok(pass_len)) = (u8::try_from(user.len()), u8::try_from(pass.len()))
        else {
            return Err(ForwarderEvent::AuthRejected.into());
        };
        let mut message = Vec::with_capacity(3 + user.len() + pass.len());
        message.push(0x01);
        message.push(user_len);
        message.extend_from_slice(user);
        message.push(pass_len);
        message.extend_from_slice(pass);
        let written = write_upstream(upstream, &message).await;
        secrecy::zeroize::Zeroize::zeroize(&mut message);
        written?;
        let mut status = [0u8; 2];
        upstream.read_exact(&mut status).await.map_err(io_err)?;
        if status[1] != 0x00 {
            return Err(ForwarderEvent::AuthRejected.into());
        }
    }
    let mut request = vec![0x05, 0x01, 0x00];
    match target.host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            request.push(0x01);
            request.extend_from_slice(&v4.octets());
        }
        Ok(IpAddr::V6(v6)) => {
            request.push(0x04);
            request.extend_from_slice(&v6.octets());
        }
        Err(_) => {
            let name = target.host.as_bytes();
            let len = u8::try_from(name.len()).map_err(|_| Failure::BadRequest)?;
            request.push(0x03);
            request.push(len);
            request.extend_from_slice(name);
        }
    }
    request.extend_from_slice(&target.port.to_be_bytes());
    write_upstream(upstream, &request).await?;
    let mut reply = [0u8; 4];
    upstream.read_exact(&mut reply).await.map_err(io_err)?;
    if reply[0] != 0x05 {
        return Err(ForwarderEvent::Unreachable.into());
    }
    if reply[1] != 0x00 {
        return Err(ForwarderEvent::Refused.into());
    }
    let bound_len = match reply[3] {
        0x01 => 4,
        0x04 => 16,
        0x03 => {
            let mut len = [0u8; 1];
            upstream.read_exact(&mut len).await.map_err(io_err)?;
            usize::from(len[0])
        }
        _ => return Err(ForwarderEvent::Unreachable.into()),
    };
    let mut bound = vec![0u8; bound_len + 2];
    upstream.read_exact(&mut bound).await.map_err(io_err)?;
    Ok(())
}

enum HeadError {
    Io,
    Closed,
    TooLarge,
}

/// Reads until the end of an HTTP head (`\r\n\r\n`); returns the head's length. Bytes after it
/// stay in `buf`.
async fn read_head<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Result<usize, HeadError> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(end + 4);
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let n = r.read(&mut chunk).await.map_err(|_| HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn response_status(head: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

fn parse_request(head: &[u8]) -> Option<Request> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    if first.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let connect = method.eq_ignore_ascii_case("CONNECT");
    let (target, path) = if connect {
        (split_authority(target, None)?, String::new())
    } else {
        let rest = target
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
            .map(|_| &target[7..])?;
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        (split_authority(authority, Some(80))?, path)
    };
    Some(Request {
        connect,
        target,
        method: method.to_owned(),
        path,
        version: version.to_owned(),
        headers,
    })
}

/// `host:port`, `[v6]:port`, or `host` when a default port is given. No user-info.
fn split_authority(text: &str, default_port: Option<u16>) -> Option<Target> {
    if text.is_empty() || text.contains(['@', ' ', '/']) {
        return None;
    }
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let (v6, rest) = inner.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        match rest {
            "" => (v6, None),
            r => (v6, Some(r.strip_prefix(':')?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?,
        None => default_port?,
    };
    if host.is_empty() || host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
        return None;
    }
    Some(Target {
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16) -> Target {
        Target {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn parses_connect_and_absolute_requests() {
        let r =
            parse_request(b"CONNECT www.instagram.com:443 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(r.connect);
        assert_eq!(r.target, target("www.instagram.com", 443));
        let r = parse_request(b"CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.target, target("2001:db8::1", 8443));
        assert_eq!(r.target.authority(), "[2001:db8::1]:8443");
        let r = parse_request(
            b"GET http://Example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n\
              Proxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        assert!(!r.connect);
        assert_eq!(r.target, target("example.com", 8080));
        assert_eq!(r.path, "/a/b?c=d");
        let r = parse_request(b"GET http://example.com HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!((r.target.port, r.path.as_str()), (80, "/"));
        let r = parse_request(b"GET http://example.com?q HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/?q");
    }

    #[test]
    fn refuses_what_is_not_a_proxy_request() {
        for head in [
            &b"GET /relative HTTP/1.1\r\n\r\n"[..],
            b"GET https://example.com/ HTTP/1.1\r\n\r\n",
            b"CONNECT example.com HTTP/1.1\r\n\r\n",
            b"CONNECT example.com:0 HTTP/1.1\r\n\r\n",
            b"CONNECT user@example.com:443 HTTP/1.1\r\n\r\n",
            b"GET http://example.com/ HTTP/2\r\n\r\n",
            b"GET http://example.com/ HTTP/1.1\r\nbad header\r\n\r\n",
            b"\xff\xfe\r\n\r\n",
            b"CONNECT [zz]:443 HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                parse_request(head).is_none(),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn plain_heads_replace_hop_by_hop_headers() {
        let r = parse_request(
            b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: keep-alive\r\n\
              Connection: keep-alive\r\nProxy-Authorization: Basic Zm9v\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        let auth = ProxyAuth {
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(
            plain_head(&r, true, Some(&auth)),
            "GET http://example.com:80/x HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\
             Proxy-Authorization: Basic dTpw\r\nConnection: close\r\n\r\n"
        );
        let r = parse_request(b"GET http://example.com:81/ HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            plain_head(&r, false, None),
            "GET / HTTP/1.1\r\nHost: example.com:81\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(
            response_status(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Some(407)
        );
        assert_eq!(response_status(b"HTTP/1.0 200\r\n\r\n"), Some(200));
        assert_eq!(response_status(b"SSH-2.0\r\n\r\n"), None);
    }

    #[test]
    fn counters_report_the_most_telling_event() {
        let before = ForwarderCounters::default();
        assert_eq!(before.since(&before), None);
        let after = ForwarderCounters {
            unreachable: 2,
            auth_rejected: 1,
            ..before
        };
        assert_eq!(after.since(&before), Some(ForwarderEvent::AuthRejected));
        assert_eq!(after.since(&after), None);
        let later = ForwarderCounters {
            refused: 1,
            ..after
        };
        assert_eq!(later.since(&after), Some(ForwarderEvent::Refused));
    }

    #[test]
    fn start_needs_a_runtime() {
        let spec = ProxySpec::parse("http://127.0.0.1:9").unwrap();
        assert!(matches!(
            Forwarder::start(spec, true),
            Err(ForwarderError::NoRuntime)
        ));
    }

    #[tokio::test]
    async fn unreachable_upstream_gives_502_and_stops_on_drop() {
        // A port that was just free: nothing listens there.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let spec = ProxySpec::parse(&format!("http://u:p@127.0.0.1:{port}")).unwrap();
        let forwarder = Forwarder::start(spec.clone(), true).unwrap();
        assert_eq!(
            forwarder.upstream(),
            format!("http://u:***@127.0.0.1:{port}")
        );
        let mut c = TcpStream::connect(forwarder.addr()).await.unwrap();
        c.write_all(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
        assert!(
            answer.contains("X-Igwatch-Forwarder: unreachable"),
            "{answer}"
        );
        let counters = forwarder.counters();
        assert_eq!(counters.unreachable, 1);
        assert_eq!(
            counters.since(&ForwarderCounters::default()),
            Some(ForwarderEvent::Unreachable)
        );

        // Loopback upstreams are refused without `allow_private`.
        let guarded = Forwarder::start(spec, false).unwrap();
        let mut c = TcpStream::connect(guarded.addr()).await.unwrap();
        c.write_all(b"GET http://example.com/ HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.contains("X-Igwatch-Forwarder: forbidden"),
            "{answer}"
        );

        // Garbage gets a 400.
        let mut c = TcpStream::connect(guarded.addr()).await.unwrap();
        c.write_all(b"HELLO\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert_eq!(guarded.counters().bad_requests, 1);

        let addr = forwarder.addr();
        drop(forwarder);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
