//! Loopback fake of Instagram (web JSON API, profile pages) and of the RapidAPI `ig_profile` endpoint.
//!
//! Routes, all on one origin:
//! - `GET /api/v1/users/web_profile_info/?username=NAME` (needs `x-ig-app-id`, else 400 "useragent mismatch");
//! - `GET /ig_profile?ig=NAME` (RapidAPI style, needs `x-rapidapi-key`);
//! - `GET /NAME/` profile page, `GET /NAME` (301 to `/NAME/`), `GET /` origin page,
//!   `GET /accounts/login/` login wall, `GET /challenge/` checkpoint page.
//!
//! Each username follows a scripted [`Behavior`] (default [`Behavior::NotFound`]). For behaviours that
//! only make sense for Instagram itself (login wall, challenge, please-wait), the RapidAPI route forwards
//! Instagram's answer as a provider would.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use super::loopback::{Conn, Server};

/// What the fake answers for one username.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// The profile exists (web JSON 200 with `data.user`, RapidAPI `[{..}]`, a profile page).
    Exists { private: bool },
    /// Web JSON 404, RapidAPI `[]`, page "Sorry, this page isn't available." (404).
    NotFound,
    /// 429 everywhere (RapidAPI: a burst 429 with `Retry-After`, not a quota message).
    RateLimited,
    /// 401 `{"message":"Please wait a few minutes before you try again.","require_login":true,"status":"fail"}`;
    /// the page shows the same sentence.
    PleaseWait,
    /// Web JSON 200 `{"data":{"user":null},"status":"ok"}`; page 302 to `/accounts/login/?next=/NAME/`.
    LoginWall,
    /// 400 `{"message":"challenge_required","status":"fail"}`; page 302 to `/challenge/`.
    Challenge,
    /// This status code with a short error body.
    ServerError(u16),
    /// 200 `application/json` whose body stops in the middle (page: HTML cut in `<head>`).
    TruncatedJson,
    /// 200 `text/html` (the logged-out origin page) where JSON was expected.
    HtmlInsteadOfJson,
    /// 200 that is neither a profile nor a not-found: web `{"status":"ok"}`, RapidAPI an empty
    /// body, page a bare Instagram shell.
    SoftNotFound,
    /// Waits, then behaves like the inner behaviour.
    Slow(Duration, Box<Behavior>),
    /// Never answers (until the fake is dropped).
    Hang,
    /// RapidAPI 429 "You have exceeded the DAILY quota …"; elsewhere like [`Behavior::RateLimited`].
    Quota,
    /// Closes the socket with a TCP RST and no HTTP response.
    ResetConnection,
    /// The profile exists for the APIs, but its page renders blank: the head names the profile
    /// (title, `og:url`, canonical) and the body stays white, as a client-rendered page that never
    /// rendered does.
    BlankPage,
}

/// Which of the fake's endpoints a request hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/api/v1/users/web_profile_info/`.
    Web,
    /// `/ig_profile`.
    RapidApi,
    /// Any HTML page (`/NAME/`, `/`, `/accounts/login/`, `/challenge/`).
    Page,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct IgRequest {
    /// Path and query, e.g. `/api/v1/users/web_profile_info/?username=alice`.
    pub path: String,
    /// The username the request is about, when there is one.
    pub username: Option<String>,
    pub endpoint: Endpoint,
    /// The `x-rapidapi-key` sent, if any.
    pub key: Option<String>,
    pub at: Instant,
    /// Header names are lower case; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
}

impl IgRequest {
    /// Value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Default)]
struct IgState {
    scripts: HashMap<String, VecDeque<Behavior>>,
    /// Per-name behaviour of the profile page only (the APIs keep `scripts`).
    page_scripts: HashMap<String, Behavior>,
    latency: Duration,
    key_quota: HashMap<String, u32>,
    requests: Vec<IgRequest>,
}

struct Shared {
    base: String,
    state: Mutex<IgState>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, IgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Counts a request as in flight for as long as it lives (also when the client gives up).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The fake Instagram + RapidAPI server. Dropping it stops the server.
pub struct FakeInstagram {
    shared: Arc<Shared>,
    server: Server,
}

impl FakeInstagram {
    /// Starts on `127.0.0.1:0` on a background thread.
    pub fn start() -> FakeInstagram {
        let mut out = None;
        let server = Server::start(|base| {
            let shared = Arc::new(Shared {
                base,
                state: Mutex::default(),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
            });
            out = Some(shared.clone());
            Router::new().fallback(handle).with_state(shared)
        });
        let shared = out.expect("router built");
        FakeInstagram { shared, server }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the Instagram origin, and the RapidAPI
    /// endpoint is `{url}/ig_profile`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Scripts one behaviour for `name` (case-insensitive), replacing any earlier script.
    pub fn set(&self, name: &str, behavior: Behavior) {
        self.set_sequence(name, vec![behavior]);
    }

    /// Scripts behaviours consumed one per request; the last one then repeats.
    pub fn set_sequence(&self, name: &str, behaviors: Vec<Behavior>) {
        assert!(
            !behaviors.is_empty(),
            "a sequence needs at least one behaviour"
        );
        self.shared
            .lock()
            .scripts
            .insert(name.to_ascii_lowercase(), behaviors.into());
    }

    /// Scripts the profile page of `name` apart from its API answers (e.g. the API says it
    /// exists, the page says it is gone).
    pub fn set_page(&self, name: &str, behavior: Behavior) {
        self.shared
            .lock()
            .page_scripts
            .insert(name.to_ascii_lowercase(), behavior);
    }

    /// Delay added before every response.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Gives a RapidAPI key this many more successful answers; then it gets the quota 429.
    /// Keys never configured are unlimited.
    pub fn set_rapidapi_keys_quota(&self, key: &str, remaining: u32) {
        self.shared
            .lock()
            .key_quota
            .insert(key.to_owned(), remaining);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<IgRequest> {
        self.shared.lock().requests.clone()
    }

    /// Requests about `name` (any endpoint).
    pub fn count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.username.as_deref() == Some(name.as_str()))
            .count()
    }

    /// Highest number of requests in flight at the same moment (latency included).
    pub fn max_concurrency(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Forgets recorded requests and the concurrency peak (scripts stay).
    pub fn reset_counters(&self) {
        self.shared.lock().requests.clear();
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.max_in_flight.store(now, Ordering::SeqCst);
    }
}

fn query_param(query: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let _gauge = InFlight::enter(&shared);
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let headers = req.headers().clone();

    // Which endpoint, which user.
    let (endpoint, username) = match path.as_str() {
        "/api/v1/users/web_profile_info/" | "/api/v1/users/web_profile_info" => {
            (Endpoint::Web, query_param(&query, "username"))
        }
        "/ig_profile" | "/ig_profile/" => (Endpoint::RapidApi, query_param(&query, "ig")),
        "/" | "/accounts/login/" | "/challenge/" | "/favicon.ico" | "/robots.txt" => {
            (Endpoint::Page, None)
        }
        p => {
            let seg = p.trim_matches('/');
            let name = (!seg.is_empty() && !seg.contains('/')).then(|| seg.to_owned());
            (Endpoint::Page, name)
        }
    };
    let username = username.map(|u| u.trim().trim_start_matches('@').to_ascii_lowercase());
    let key = header_str(&headers, "x-rapidapi-key");

    let (latency, behavior) = {
        let mut st = shared.lock();
        st.requests.push(IgRequest {
            path: if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            },
            username: username.clone(),
            endpoint,
            key: key.clone(),
            at: Instant::now(),
            headers: headers_map(&headers),
        });
        // Requests refused before any lookup do not consume the user's script.
        let refused = (endpoint == Endpoint::Web && header_str(&headers, "x-ig-app-id").is_none())
            || (endpoint == Endpoint::RapidApi && key.is_none())
            || (endpoint == Endpoint::Page && !path.ends_with('/'));
        let page_script = username
            .as_ref()
            .filter(|_| endpoint == Endpoint::Page && !refused)
            .and_then(|name| st.page_scripts.get(name).cloned());
        let behavior = page_script.or_else(|| {
            username
                .as_ref()
                .filter(|_| !refused)
                .map(|name| match st.scripts.get_mut(name) {
                    Some(seq) if seq.len() > 1 => seq.pop_front().expect("non-empty"),
                    Some(seq) => seq.front().cloned().unwrap_or(Behavior::NotFound),
                    None => Behavior::NotFound,
                })
        });
        (st.latency, behavior)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    // Fixed pages.
    match path.as_str() {
        "/" => return html(StatusCode::OK, origin_page()),
        "/accounts/login/" => return html(StatusCode::OK, login_page()),
        "/challenge/" => return html(StatusCode::OK, challenge_page()),
        _ => {}
    }
    if endpoint == Endpoint::Web && header_str(&headers, "x-ig-app-id").is_none() {
        return json_resp(
            StatusCode::BAD_REQUEST,
            json!({"message": "useragent mismatch", "status": "fail"}).to_string(),
        );
    }
    if endpoint == Endpoint::RapidApi && key.is_none() {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info."})
                .to_string(),
        );
    }
    if endpoint == Endpoint::Page && !path.ends_with('/') {
        if let Some(name) = &username {
            return redirect(StatusCode::MOVED_PERMANENTLY, &format!("/{name}/"));
        }
    }
    let (Some(name), Some(mut behavior)) = (username, behavior) else {
        return match endpoint {
            Endpoint::Page => html(StatusCode::NOT_FOUND, not_found_page()),
            _ => json_resp(
                StatusCode::BAD_REQUEST,
                json!({"message": "Missing username", "status": "fail"}).to_string(),
            ),
        };
    };

    loop {
        match behavior {
            Behavior::Slow(delay, inner) => {
                tokio::time::sleep(delay).await;
                behavior = *inner;
            }
            Behavior::Hang => std::future::pending::<()>().await,
            Behavior::ResetConnection => {
                conn.reset();
                return Response::new(Body::empty());
            }
            _ => break,
        }
    }

    if endpoint == Endpoint::RapidApi && behavior != Behavior::Quota {
        if let Some(key) = &key {
            let mut st = shared.lock();
            if let Some(left) = st.key_quota.get_mut(key) {
                if *left == 0 {
                    behavior = Behavior::Quota;
                } else {
                    *left -= 1;
                }
            }
        }
    }

    match endpoint {
        Endpoint::Web => web_answer(&name, &behavior),
        Endpoint::RapidApi => rapid_answer(&name, &behavior),
        Endpoint::Page => page_answer(&shared.base, &name, &behavior),
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn headers_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        map.entry(k.as_str().to_owned())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    map
}

fn response(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("valid response")
}

fn json_resp(status: StatusCode, body: String) -> Response {
    response(status, "application/json; charset=utf-8", body)
}

fn html(status: StatusCode, body: String) -> Response {
    response(status, "text/html; charset=utf-8", body)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::empty())
        .expect("valid redirect")
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

const PLEASE_WAIT: &str = "Please wait a few minutes before you try again.";

fn please_wait_json() -> String {
    json!({"message": PLEASE_WAIT, "require_login": true, "status": "fail"}).to_string()
}

fn challenge_json() -> String {
    json!({"message": "challenge_required", "status": "fail"}).to_string()
}

fn quota_json() -> String {
    json!({"message": "You have exceeded the DAILY quota for Requests on your current plan, BASIC. Upgrade your plan at https://rapidapi.com/instagram210/api/instagram210"}).to_string()
}

/// Stable pseudo-random number derived from a username (FNV-1a).
fn seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `john_doe.x` → `John Doe X`.
fn full_name(name: &str) -> String {
    name.split(['_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

struct Profile {
    id: String,
    full_name: String,
    biography: String,
    followers: u64,
    following: u64,
    posts: u64,
    pic: String,
}

fn profile(name: &str) -> Profile {
    let s = seed(name);
    Profile {
        id: format!("{}", 1_000_000_000 + s % 8_000_000_000),
        full_name: full_name(name),
        biography: format!("Hi, I am {name}. Photos & stories."),
        followers: 100 + s % 50_000,
        following: 10 + (s >> 16) % 900,
        posts: (s >> 32) % 400,
        pic: format!(
            "https://scontent.cdninstagram.com/v/t51.2885-19/{}_n.jpg",
            s % 100_000_000
        ),
    }
}

fn web_answer(name: &str, behavior: &Behavior) -> Response {
    match behavior {
        Behavior::BlankPage => web_answer(name, &Behavior::Exists { private: false }),
        Behavior::Exists { private } => {
            let p = profile(name);
            let body = json!({
                "data": {"user": {
                    "id": p.id,
                    "username": name,
                    "full_name": p.full_name,
                    "biography": p.biography,
                    "external_url": null,
                    "is_private": private,
                    "is_verified": false,
                    "is_business_account": false,
                    "business_category_name": null,
                    "edge_followed_by": {"count": p.followers},
                    "edge_follow": {"count": p.following},
                    "edge_owner_to_timeline_media": {"count": p.posts, "edges": []},
                    "followed_by_viewer": false,
                    "has_blocked_viewer": false,
                    "blocked_by_viewer": false,
                    "profile_pic_url": p.pic,
                    "profile_pic_url_hd": p.pic,
                }},
                "status": "ok"
            });
            json_resp(StatusCode::OK, body.to_string())
        }
        Behavior::NotFound => html(StatusCode::NOT_FOUND, String::new()),
        Behavior::RateLimited | Behavior::Quota => json_resp(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "rate limited", "status": "fail"}).to_string(),
        ),
        Behavior::PleaseWait => json_resp(StatusCode::UNAUTHORIZED, please_wait_json()),
        Behavior::LoginWall => json_resp(
            StatusCode::OK,
            json!({"data": {"user": null}, "status": "ok"}).to_string(),
        ),
        Behavior::Challenge => json_resp(StatusCode::BAD_REQUEST, challenge_json()),
        Behavior::ServerError(code) => html(status(*code), server_error_page(*code)),
        Behavior::TruncatedJson => json_resp(
            StatusCode::OK,
            format!(r#"{{"data":{{"user":{{"id":"1234","username":"{name}","full_na"#),
        ),
        Behavior::HtmlInsteadOfJson => html(StatusCode::OK, origin_page()),
        Behavior::SoftNotFound => json_resp(StatusCode::OK, json!({"status": "ok"}).to_string()),
        Behavior::Slow(..) | Behavior::Hang | Behavior::ResetConnection => {
            unreachable!("handled before")
        }
    }
}

fn rapid_answer(name: &str, behavior: &Behavior) -> Response {
    match behavior {
        Behavior::Exists { private } => {
            let p = profile(name);
            let body = json!([{
                "username": name,
                "full_name": p.full_name,
                "is_private": private,
                "is_verified": false,
                "profile_pic_url": p.pic,
                "profile_pic_url_hd": p.pic,
                "follower_count": p.followers,
                "following_count": p.following,
                "media_count": p.posts,
                "biography": p.biography,
                "fbid": format!("1784{}", p.id),
            }]);
            json_resp(StatusCode::OK, body.to_string())
        }
        Behavior::NotFound => json_resp(StatusCode::OK, "[]".to_owned()),
        Behavior::RateLimited => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::RETRY_AFTER, "1")
            .body(Body::from(
                json!({"message": "Too many requests"}).to_string(),
            ))
            .expect("valid response"),
        Behavior::Quota => json_resp(StatusCode::TOO_MANY_REQUESTS, quota_json()),
        Behavior::ServerError(code) => json_resp(
            status(*code),
            json!({"messages": "The API is unreachable, please contact the API provider", "info": "Your Client (working) ---> Gateway (working) ---> API (not working)"}).to_string(),
        ),
        Behavior::SoftNotFound => json_resp(StatusCode::OK, String::new()),
        // Instagram-side conditions, forwarded as the provider got them.
        other => web_answer(name, other),
    }
}

fn page_answer(base: &str, name: &str, behavior: &Behavior) -> Response {
    match behavior {
        Behavior::Exists { private } => html(StatusCode::OK, profile_page(base, name, *private)),
        Behavior::BlankPage => html(StatusCode::OK, blank_profile_page(base, name)),
        Behavior::NotFound => html(StatusCode::NOT_FOUND, not_found_page()),
        Behavior::RateLimited | Behavior::Quota => {
            html(StatusCode::TOO_MANY_REQUESTS, rate_limited_page())
        }
        Behavior::PleaseWait => html(StatusCode::OK, please_wait_page()),
        Behavior::LoginWall => redirect(
            StatusCode::FOUND,
            &format!("/accounts/login/?next=%2F{name}%2F"),
        ),
        Behavior::Challenge => redirect(StatusCode::FOUND, "/challenge/"),
        Behavior::ServerError(code) => html(status(*code), server_error_page(*code)),
        Behavior::TruncatedJson => html(
            StatusCode::OK,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Insta"
                .to_owned(),
        ),
        Behavior::HtmlInsteadOfJson => html(StatusCode::OK, origin_page()),
        Behavior::SoftNotFound => html(StatusCode::OK, shell_page("Instagram", "")),
        Behavior::Slow(..) | Behavior::Hang | Behavior::ResetConnection => {
            unreachable!("handled before")
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "<style>\
body{margin:0;font-family:-apple-system,Helvetica,Arial,sans-serif;background:#fafafa;color:#262626}\
nav{height:60px;background:#fff;border-bottom:1px solid #dbdbdb;display:flex;align-items:center;padding:0 24px}\
nav .logo{font-size:26px;font-weight:600;color:#262626}\
main{max-width:935px;margin:30px auto;padding:0 20px}\
header{display:flex;align-items:center;gap:60px;padding:20px}\
.pic{width:150px;height:150px;border-radius:50%;background:conic-gradient(#feda75,#fa7e1e,#d62976,#962fbf,#4f5bd5,#feda75);display:flex;align-items:center;justify-content:center}\
.pic span{width:136px;height:136px;border-radius:50%;background:#3897f0;color:#fff;font-size:64px;display:flex;align-items:center;justify-content:center}\
h2{font-size:28px;font-weight:300;margin:0 0 16px}\
.stats span{margin-right:32px}\
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:4px;margin-top:40px}\
.grid div{aspect-ratio:1;background:linear-gradient(135deg,#4f5bd5,#d62976)}\
.box{background:#fff;border:1px solid #dbdbdb;padding:40px;text-align:center;margin-top:40px}\
</style>";

fn shell_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\" class=\"_9dls\"><head><meta charset=\"utf-8\">\
<title>{title}</title>{STYLE}</head><body><nav><span class=\"logo\">Instagram</span></nav>\
<main>{body}</main></body></html>"
    )
}

fn profile_page(base: &str, name: &str, private: bool) -> String {
    let p = profile(name);
    let n = esc(name);
    let full = esc(&p.full_name);
    let initial = n.chars().next().unwrap_or('?').to_ascii_uppercase();
    let content = if private {
        "<div class=\"box\"><h2>This account is private</h2>\
<p>Follow to see their photos and videos.</p></div>"
            .to_owned()
    } else {
        format!(
            "<div class=\"grid\">{}</div>",
            "<div></div>".repeat(p.posts.clamp(1, 9) as usize)
        )
    };
    let body = format!(
        "<header><div class=\"pic\"><span>{initial}</span></div>\
<section><h2>{n}</h2><div class=\"stats\"><span><b>{posts}</b> posts</span>\
<span><b>{followers}</b> followers</span><span><b>{following}</b> following</span></div>\
<p><b>{full}</b><br>{bio}</p></section></header>{content}",
        posts = p.posts,
        followers = p.followers,
        following = p.following,
        bio = esc(&p.biography),
    );
    format!(
        "<!DOCTYPE html><html lang=\"en\" class=\"_9dls\"><head><meta charset=\"utf-8\">\
<title>{full} (@{n}) • Instagram photos and videos</title>\
<meta property=\"og:title\" content=\"{full} (@{n}) • Instagram photos and videos\">\
<meta property=\"og:url\" content=\"{base}/{n}/\">\
<link rel=\"canonical\" href=\"{base}/{n}/\">{STYLE}</head>\
<body><nav><span class=\"logo\">Instagram</span></nav><main>{body}</main>\
<script type=\"application/json\">{{\"routePath\":\"\\/{n}\\/{{tab?}}\",\"username\":\"{n}\"}}</script>\
</body></html>"
    )
}

/// A profile page whose head names the profile and whose body is empty and white.
fn blank_profile_page(base: &str, name: &str) -> String {
    let n = esc(name);
    let full = esc(&profile(name).full_name);
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{full} (@{n}) • Instagram photos and videos</title>\
<meta property=\"og:url\" content=\"{base}/{n}/\">\
<link rel=\"canonical\" href=\"{base}/{n}/\">\
<style>html,body{{margin:0;background:#fff}}</style></head>\
<body><div id=\"react-root\"></div></body></html>"
    )
}

fn not_found_page() -> String {
    shell_page(
        "Page not found • Instagram",
        "<div class=\"box dialog-404\"><h2>Sorry, this page isn&#39;t available.</h2>\
<p>The link you followed may be broken, or the page may have been removed. \
<a href=\"/\">Go back to Instagram.</a></p></div>",
    )
}

fn login_page() -> String {
    shell_page(
        "Login • Instagram",
        "<div class=\"box\"><form id=\"loginForm\" method=\"post\">\
<input name=\"username\" aria-label=\"Phone number, username, or email\">\
<input name=\"password\" type=\"password\" aria-label=\"Password\">\
<button type=\"submit\">Log in</button></form></div>\
<script type=\"application/json\">{\"routePath\":\"\\/accounts\\/login\\/\"}</script>",
    )
}

fn origin_page() -> String {
    shell_page(
        "Instagram",
        "<div class=\"box\"><p>Sign up to see photos and videos from your friends.</p>\
<a href=\"/accounts/login/\">Log in</a></div>\
<script type=\"application/json\">{\"routePath\":\"\\/\"}</script>",
    )
}

fn challenge_page() -> String {
    shell_page(
        "Instagram",
        "<div class=\"box\"><h2>We suspect automated behavior on your account</h2>\
<p>To continue, confirm it's you.</p></div>\
<script type=\"application/json\">{\"routePath\":\"\\/challenge\\/\"}</script>",
    )
}

fn please_wait_page() -> String {
    shell_page(
        "Instagram",
        "<div class=\"box\"><h2>Please wait a few minutes before you try again.</h2></div>",
    )
}

fn rate_limited_page() -> String {
    shell_page(
        "Instagram",
        "<div class=\"box\"><h2>Take a quick pause</h2>\
<p>We're seeing more requests than usual. Please wait a few minutes before you try again.</p></div>",
    )
}

fn server_error_page(code: u16) -> String {
    shell_page(
        "Instagram",
        &format!("<div class=\"box\"><h2>Error {code}</h2><p>Something went wrong.</p></div>"),
    )
}
