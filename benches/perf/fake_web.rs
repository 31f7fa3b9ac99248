//! A loopback fake of Instagram's `web_profile_info` JSON with an exact, fixed latency.
//!
//! The fakes in `tests/integration/support/` sleep on a tokio timer, which rounds every delay up
//! to the next millisecond tick (50 ms becomes 50–51 ms, a 1–2 % error on exactly the ratio this
//! suite measures). This one serves each keep-alive connection on its own thread and holds each
//! answer with `std::thread::sleep`, which overshoots by tens of microseconds; the real service
//! time is measured and reported, so the ideal the daemon is compared with is checked, not
//! assumed. Only the canary exists; every other name gets the 404 that means "not found".

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Shared {
    latency: Duration,
    canary: String,
    requests: AtomicUsize,
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Sum of service times (request read → answer written), nanoseconds.
    service_ns: AtomicU64,
    /// Sum and count of client turnarounds: an answer written → the next request on the same
    /// connection received (the daemon's own time between two probes of one checker).
    turnaround_ns: AtomicU64,
    turnarounds: AtomicU64,
    first: Mutex<Option<Instant>>,
    /// When the canary's answer was written, and when the next request arrived.
    canary_done: Mutex<Option<Instant>>,
    after_canary: Mutex<Option<Instant>>,
    stop: AtomicBool,
}

/// The fake server; stops accepting on drop (open connections end with their clients).
pub struct LatencyFake {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the fake saw.
#[derive(Debug, Clone, Copy)]
pub struct FakeStats {
    pub max_in_flight: usize,
    /// Connections accepted: a client that keeps its connections alive opens one per checker.
    pub connections: usize,
    /// Mean time from a request's last header byte to its answer's last byte.
    pub mean_service: Duration,
    /// Canary answer written → the next request received (the cycle's jobs wait for the canary).
    pub canary_gap: Option<Duration>,
    /// Mean client turnaround on a keep-alive connection (see `Shared::turnaround_ns`).
    pub turnaround: Duration,
}

impl LatencyFake {
    pub fn start(latency: Duration, canary: &str) -> LatencyFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            latency,
            canary: canary.to_owned(),
            requests: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            service_ns: AtomicU64::new(0),
            turnaround_ns: AtomicU64::new(0),
            turnarounds: AtomicU64::new(0),
            first: Mutex::new(None),
            canary_done: Mutex::new(None),
            after_canary: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let accept = shared.clone();
        std::thread::Builder::new()
            .name("fake-web-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accept.connections.fetch_add(1, Ordering::SeqCst);
                    let conn = accept.clone();
                    let _ = std::thread::Builder::new()
                        .name("fake-web-conn".into())
                        .stack_size(128 * 1024)
                        .spawn(move || serve(stream, &conn));
                }
            })
            .expect("spawn the accept thread");
        LatencyFake { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// When the first request arrived.
    pub fn first_request(&self) -> Option<Instant> {
        *self.shared.first.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stats(&self) -> FakeStats {
        let requests = self.requests();
        let ns = self.shared.service_ns.load(Ordering::SeqCst);
        FakeStats {
            max_in_flight: self.shared.max_in_flight.load(Ordering::SeqCst),
            connections: self.shared.connections.load(Ordering::SeqCst),
            mean_service: Duration::from_nanos(ns / requests.max(1) as u64),
            canary_gap: lock(&self.shared.canary_done)
                .zip(lock(&self.shared.after_canary))
                .map(|(done, next)| next.saturating_duration_since(done)),
            turnaround: Duration::from_nanos(
                self.shared.turnaround_ns.load(Ordering::SeqCst)
                    / self.shared.turnarounds.load(Ordering::SeqCst).max(1),
            ),
        }
    }
}

impl Drop for LatencyFake {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn lock(m: &Mutex<Option<Instant>>) -> Option<Instant> {
    *m.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut answered: Option<Instant> = None;
    loop {
        // Request line, then headers up to the blank line (GETs: no body).
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut close = false;
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if header.to_ascii_lowercase().starts_with("connection:")
                && header.to_ascii_lowercase().contains("close")
            {
                close = true;
            }
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let arrived = Instant::now();
        if let Some(answered) = answered {
            let gap = arrived.saturating_duration_since(answered).as_nanos() as u64;
            shared.turnaround_ns.fetch_add(gap, Ordering::SeqCst);
            shared.turnarounds.fetch_add(1, Ordering::SeqCst);
        }
        shared.requests.fetch_add(1, Ordering::SeqCst);
        {
            let mut first = shared.first.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert(arrived);
        }
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if lock(&shared.canary_done).is_some() {
            let mut next = shared
                .after_canary
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            next.get_or_insert(arrived);
        }
        let (answer, is_canary) = answer(&target, &shared.canary);
        let left = shared.latency.saturating_sub(arrived.elapsed());
        if !left.is_zero() {
            std::thread::sleep(left);
        }
        let written = writer.write_all(answer.as_bytes()).is_ok();
        let done = Instant::now();
        answered = Some(done);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        shared
            .service_ns
            .fetch_add((done - arrived).as_nanos() as u64, Ordering::SeqCst);
        if is_canary {
            *shared.canary_done.lock().unwrap_or_else(|e| e.into_inner()) = Some(done);
        }
        if !written || close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The canary's profile JSON (200), or the 404 that is positive evidence of absence.
fn answer(target: &str, canary: &str) -> (String, bool) {
    let name = target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("username="))
        .unwrap_or("");
    if name == canary {
        let body = format!(
            r#"{{"data":{{"user":{{"id":"25025320","username":"{name}","full_name":"Instagram","is_private":false,"is_verified":true,"edge_followed_by":{{"count":1}},"edge_follow":{{"count":1}},"edge_owner_to_timeline_media":{{"count":1,"edges":[]}}}}}},"status":"ok"}}"#
        );
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8";
        (
            format!("{head}\r\ncontent-length: {}\r\n\r\n{body}", body.len()),
            true,
        )
    } else {
        let head = "HTTP/1.1 404 Not Found\r\ncontent-type: text/html; charset=utf-8";
        (format!("{head}\r\ncontent-length: 0\r\n\r\n"), false)
    }
}
