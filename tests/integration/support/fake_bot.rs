//! Loopback fake of the Telegram Bot API (`{url}/bot{token}/{method}`), faithful to its envelope,
//! limits, HTML parse mode, flood control, long polling and 409 conflicts.
//!
//! Deliberate choices, all documented where they happen:
//! - a bare `&` that starts no entity is rejected in HTML (stricter than Telegram, which keeps it
//!   as text), so escaping bugs surface;
//! - `Fault::ServerError(502)` answers like Telegram's nginx: an HTML page, not a JSON envelope;
//! - once a 429 told a chat to wait, every message call to that chat before the deadline is an
//!   early retry: counted, and answered 429 again with the seconds left (as Telegram does).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::loopback::{Conn, Server};

/// The token the fake accepts; any other gets 401.
pub const TOKEN: &str = "1234567890:AAFakeTokenForIgwatch_integration-tests";
const BOT_ID: i64 = 1_234_567_890;
const BOT_USERNAME: &str = "igwatch_test_bot";

/// Canonical method names served (matched case-insensitively).
const METHODS: &[&str] = &[
    "getMe",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageCaption",
    "deleteMessage",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteWebhook",
    "getWebhookInfo",
    "getUpdates",
    "getFile",
];

/// Largest file `getFile` hands out, like the real Bot API (20 MB).
const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

/// An error (or delay) the fake applies to one matching message call instead of its normal answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after` = N.
    RetryAfter(u64),
    /// 400 `Bad Request: can't parse entities: …`.
    CantParseEntities,
    /// 403 `Forbidden: bot was blocked by the user`.
    Blocked,
    /// 400 `Bad Request: chat not found`.
    ChatNotFound,
    /// 500 envelope `Internal Server Error`; 502/504 an nginx HTML page like the real front end.
    ServerError(u16),
    /// TCP RST, no response; nothing is delivered.
    ResetConnection,
    /// Waits this long, then handles the call normally (so a client that timed out may still
    /// have delivered the message: the duplicate case of at-least-once delivery).
    Hang(Duration),
}

/// Which message call an injected [`Fault`] hits (the first queued fault that matches is consumed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// Any `send*` call.
    AnySend,
    /// Calls of this method (any case), including edits.
    Method(String),
    /// Any message call (send or edit) to this chat.
    Chat(i64),
    /// The Nth `send*` call since start, 1-based (failed attempts count).
    NthSend(usize),
}

/// One message call (`send*`, `editMessage*`), whatever its outcome.
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// Canonical name, e.g. `sendPhoto`.
    pub method: String,
    /// 0 when absent or not numeric.
    pub chat_id: i64,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub parse_mode: Option<String>,
    /// Uploaded bytes (None when not uploaded, e.g. a file_id or URL string).
    pub photo: Option<Vec<u8>>,
    pub document: Option<Vec<u8>>,
    /// Filename of the uploaded photo or document part.
    pub file_name: Option<String>,
    pub reply_markup: Option<Value>,
    /// The `message_id` returned (sends) or targeted (edits).
    pub message_id: Option<i64>,
    pub at: Instant,
    /// HTTP status returned; 0 when the connection was reset.
    pub outcome: u16,
    /// `description` of an error answer.
    pub error: Option<String>,
}

/// Any API call, for methods that are not message calls (and those too).
#[derive(Clone, Debug)]
pub struct ApiCall {
    pub method: String,
    /// Parameters as received (form and multipart values are strings; files are left out).
    pub params: Value,
    pub at: Instant,
    /// HTTP status returned; 0 when the connection was reset.
    pub outcome: u16,
}

struct StoredMessage {
    text: Option<String>,
    caption: Option<String>,
    is_media: bool,
    reply_markup: Option<Value>,
}

#[derive(Default)]
struct BotState {
    next_message_id: i64,
    messages: HashMap<(i64, i64), StoredMessage>,
    sent: Vec<SentMessage>,
    calls: Vec<ApiCall>,
    faults: Vec<(Fault, Match)>,
    send_count: usize,
    blocked: HashSet<i64>,
    enforce: bool,
    last_send_to: HashMap<i64, Instant>,
    recent_sends: VecDeque<Instant>,
    wait_until: HashMap<i64, Instant>,
    early_retries: usize,
    too_many_requests: usize,
    updates: VecDeque<Value>,
    next_update_id: i64,
    poll_generation: u64,
    webhook_active: bool,
    /// Messages users sent (pushed updates): the bot may delete them in a private chat.
    user_messages: HashSet<(i64, i64)>,
    /// Registered files by `file_id`: (`file_path`, bytes).
    files: HashMap<String, (String, Vec<u8>)>,
    next_file: u64,
    /// `file_path`s downloaded through `/file/bot<token>/<file_path>`.
    downloads: Vec<String>,
}

struct Shared {
    state: Mutex<BotState>,
    /// Bumped on every pushed update and every new getUpdates, to wake pending long polls.
    wake: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, BotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        self.wake.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// The fake Bot API server. Dropping it stops the server.
pub struct FakeBotApi {
    shared: Arc<Shared>,
    server: Server,
}

impl FakeBotApi {
    /// Starts on `127.0.0.1:0` on a background thread; accepts [`TOKEN`].
    pub fn start() -> FakeBotApi {
        let shared = Arc::new(Shared {
            state: Mutex::new(BotState {
                next_message_id: 1,
                next_update_id: 500_000_001,
                ..BotState::default()
            }),
            wake: watch::Sender::new(0),
        });
        let for_router = shared.clone();
        let server =
            Server::start(move |_base| Router::new().fallback(handle).with_state(for_router));
        FakeBotApi { shared, server }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash), the value of the API URL setting.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The accepted bot token ([`TOKEN`]).
    pub fn token(&self) -> String {
        TOKEN.to_owned()
    }

    /// Queues a fault for the first future message call that `when` matches.
    pub fn inject(&self, fault: Fault, when: Match) {
        self.shared.lock().faults.push((fault, when));
    }

    /// Every message call to `chat_id` gets 403 "bot was blocked by the user" until unblocked.
    pub fn block_chat(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    pub fn unblock_chat(&self, chat_id: i64) {
        self.shared.lock().blocked.remove(&chat_id);
    }

    /// Enforces flood control on `send*`: more than 30 accepted sends in a second overall, or a
    /// second send to one chat within a second, gets 429 with `retry_after`.
    pub fn enforce_limits(&self, on: bool) {
        self.shared.lock().enforce = on;
    }

    /// Queues an update (its `update_id` is assigned and returned) and wakes a pending getUpdates.
    pub fn push_update(&self, update: Value) -> i64 {
        let id = {
            let mut st = self.shared.lock();
            let id = st.next_update_id;
            st.next_update_id += 1;
            let mut update = match update {
                Value::Object(map) => map,
                other => {
                    let mut m = Map::new();
                    m.insert("message".to_owned(), other);
                    m
                }
            };
            if let Some(Value::Object(message)) = update.get("message") {
                if let (Some(chat), Some(message_id)) = (
                    message
                        .get("chat")
                        .and_then(|c| c.get("id"))
                        .and_then(Value::as_i64),
                    message.get("message_id").and_then(Value::as_i64),
                ) {
                    st.user_messages.insert((chat, message_id));
                }
            }
            update.insert("update_id".to_owned(), json!(id));
            st.updates.push_back(Value::Object(update));
            id
        };
        self.shared.wake();
        id
    }

    /// Stores a file a user "uploaded" (for a `document` in a pushed update) and returns its
    /// `file_id`; `getFile` then gives its `file_path` and `GET /file/bot<token>/<file_path>`
    /// serves the bytes, as the real Bot API does.
    pub fn register_file(&self, bytes: Vec<u8>) -> String {
        let mut st = self.shared.lock();
        st.next_file += 1;
        let n = st.next_file;
        let file_id = format!("BQACAgIAAxkBAAI{n:08}fake");
        let path = format!("documents/file_{n}.json");
        st.files.insert(file_id.clone(), (path, bytes));
        file_id
    }

    /// The `file_path`s downloaded so far, oldest first.
    pub fn downloads(&self) -> Vec<String> {
        self.shared.lock().downloads.clone()
    }

    /// While active, getUpdates answers 409 until deleteWebhook is called.
    pub fn set_webhook_active(&self, active: bool) {
        self.shared.lock().webhook_active = active;
    }

    /// Every message call (`send*`, `editMessage*`), failed ones included, oldest first.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Message calls answered `ok: true`.
    pub fn delivered(&self) -> Vec<SentMessage> {
        self.shared
            .lock()
            .sent
            .iter()
            .filter(|m| m.outcome == 200)
            .cloned()
            .collect()
    }

    /// Calls of `method` (any case), oldest first.
    pub fn calls(&self, method: &str) -> Vec<ApiCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Number of 429 answers given (injected, enforced, or repeated to an early retry).
    pub fn too_many_requests(&self) -> usize {
        self.shared.lock().too_many_requests
    }

    /// Message calls to a chat made before the `retry_after` a 429 gave it had expired.
    pub fn early_retries(&self) -> usize {
        self.shared.lock().early_retries
    }

    /// Polls `pred` every 10 ms until it holds (true) or `timeout` passes (false). Blocks the
    /// calling thread: from an async test whose runtime also runs the daemon, use
    /// [`FakeBotApi::wait_for_async`].
    pub fn wait_for(&self, pred: impl Fn(&FakeBotApi) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`FakeBotApi::wait_for`] that sleeps with tokio (works in tokio and actix tests).
    pub async fn wait_for_async(
        &self,
        pred: impl Fn(&FakeBotApi) -> bool,
        timeout: Duration,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Answers

struct Answer {
    status: u16,
    body: String,
    content_type: &'static str,
    reset: bool,
}

impl Answer {
    fn ok(result: Value) -> Answer {
        Answer {
            status: 200,
            body: json!({"ok": true, "result": result}).to_string(),
            content_type: "application/json",
            reset: false,
        }
    }

    fn err(code: u16, description: impl Into<String>) -> Answer {
        Answer {
            status: code,
            body: json!({"ok": false, "error_code": code, "description": description.into()})
                .to_string(),
            content_type: "application/json",
            reset: false,
        }
    }

    fn bad(description: &str) -> Answer {
        Answer::err(400, format!("Bad Request: {description}"))
    }

    fn retry_after(secs: u64) -> Answer {
        Answer {
            status: 429,
            body: json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {secs}"),
                "parameters": {"retry_after": secs},
            })
            .to_string(),
            content_type: "application/json",
            reset: false,
        }
    }

    fn reset() -> Answer {
        Answer {
            status: 0,
            body: String::new(),
            content_type: "text/plain",
            reset: true,
        }
    }

    fn description(&self) -> Option<String> {
        if self.status == 200 || self.reset {
            return None;
        }
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["description"].as_str().map(str::to_owned))
            .or_else(|| Some(self.body.clone()))
    }

    fn into_response(self, conn: &Conn) -> Response {
        if self.reset {
            conn.reset();
            return Response::new(Body::empty());
        }
        Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK))
            .header(header::CONTENT_TYPE, self.content_type)
            .body(Body::from(self.body))
            .expect("valid response")
    }
}

fn fault_answer(fault: &Fault) -> Answer {
    match fault {
        Fault::RetryAfter(secs) => Answer::retry_after(*secs),
        Fault::CantParseEntities => {
            Answer::bad("can't parse entities: Unsupported start tag \"blink\" at byte offset 0")
        }
        Fault::Blocked => Answer::err(403, "Forbidden: bot was blocked by the user"),
        Fault::ChatNotFound => Answer::bad("chat not found"),
        Fault::ServerError(code @ (502 | 504)) => {
            let reason = if *code == 502 {
                "Bad Gateway"
            } else {
                "Gateway Time-out"
            };
            Answer {
                status: *code,
                body: format!(
                    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n\
<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
                ),
                content_type: "text/html",
                reset: false,
            }
        }
        Fault::ServerError(code) => Answer::err(*code, "Internal Server Error"),
        Fault::ResetConnection => Answer::reset(),
        Fault::Hang(_) => unreachable!("a delay, not an answer"),
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters

#[derive(Clone)]
struct Part {
    bytes: Vec<u8>,
    file_name: Option<String>,
    is_file: bool,
}

#[derive(Default)]
struct Params {
    fields: Map<String, Value>,
    parts: HashMap<String, Part>,
}

enum FileParam {
    Upload(Part),
    Reference(String),
}

impl Params {
    fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn i64(&self, key: &str) -> Option<i64> {
        match self.fields.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn bool(&self, key: &str) -> bool {
        match self.fields.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true" || s == "1",
            _ => false,
        }
    }

    /// A JSON-valued parameter (objects arrive as JSON text in form/multipart requests).
    fn json(&self, key: &str) -> Result<Option<Value>, ()> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    fn file(&self, key: &str) -> Option<FileParam> {
        if let Some(part) = self.parts.get(key).filter(|p| p.is_file) {
            return Some(FileParam::Upload(part.clone()));
        }
        let value = self.str(key)?;
        if let Some(id) = value.strip_prefix("attach://") {
            return self.parts.get(id).cloned().map(FileParam::Upload);
        }
        Some(FileParam::Reference(value))
    }
}

async fn parse_params(req: Request) -> Result<Params, String> {
    let mut params = Params::default();
    if let Some(query) = req.uri().query() {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params
                .fields
                .insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| e.body_text())?;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let is_file = file_name.is_some()
                || field
                    .content_type()
                    .is_some_and(|ct| !ct.starts_with("text/"));
            let bytes = field.bytes().await.map_err(|e| e.body_text())?.to_vec();
            if !is_file {
                params.fields.insert(
                    name.clone(),
                    Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                );
            }
            params.parts.insert(
                name,
                Part {
                    bytes,
                    file_name,
                    is_file,
                },
            );
        }
        return Ok(params);
    }
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024)
        .await
        .map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Ok(params);
    }
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => params.fields.extend(map),
            _ => return Err("Bad Request: invalid JSON in request body".to_owned()),
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(&bytes) {
            params
                .fields
                .insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    Ok(params)
}

// ---------------------------------------------------------------------------------------------
// Routing

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/") {
        return download(&shared, rest).into_response(&conn);
    }
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let (Some(first), Some(method)) = (segments.next(), segments.next()) else {
        return Answer::err(404, "Not Found").into_response(&conn);
    };
    let Some(token) = first.strip_prefix("bot") else {
        return Answer::err(404, "Not Found").into_response(&conn);
    };
    if token != TOKEN {
        return Answer::err(401, "Unauthorized").into_response(&conn);
    }
    let Some(method) = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method.trim_end_matches('/')))
    else {
        return Answer::err(404, "Not Found").into_response(&conn);
    };
    let params = match parse_params(req).await {
        Ok(p) => p,
        Err(e) => return Answer::bad(&e).into_response(&conn),
    };
    // Detached, like the real server: a client that gives up does not cancel the call.
    let method = (*method).to_owned();
    let task = tokio::spawn(async move {
        let answer = match method.as_str() {
            "sendMessage" | "sendPhoto" | "sendDocument" | "editMessageText"
            | "editMessageCaption" => message_call(&shared, &method, &params).await,
            "getUpdates" => get_updates(&shared, &params).await,
            other => simple_call(&shared, other, &params),
        };
        shared.lock().calls.push(ApiCall {
            method,
            params: Value::Object(params.fields),
            at: Instant::now(),
            outcome: answer.status,
        });
        answer
    });
    let answer = task
        .await
        .unwrap_or_else(|e| Answer::err(500, format!("Internal Server Error: {e}")));
    answer.into_response(&conn)
}

fn bot_user() -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "igwatch test",
        "username": BOT_USERNAME,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    })
}

fn chat_object(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({"id": chat_id, "type": "private", "first_name": "Tester", "username": format!("user{chat_id}")})
    } else if chat_id <= -1_000_000_000_000 {
        json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"})
    } else {
        json!({"id": chat_id, "type": "group", "title": "Test group", "all_members_are_administrators": true})
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `GET /file/bot<token>/<file_path>`: the bytes of a registered file; 401 for another token and
/// 404 for an unknown path, as the real file endpoint answers.
fn download(shared: &Shared, rest: &str) -> Answer {
    let Some((first, path)) = rest.split_once('/') else {
        return Answer::err(404, "Not Found");
    };
    if first.strip_prefix("bot") != Some(TOKEN) {
        return Answer::err(401, "Unauthorized");
    }
    // teloxide pushes the whole `file_path` as one URL segment (`documents%2Ffile_1.json`);
    // the real front end decodes it, and so does the fake.
    let path = percent_decode(path);
    let path = path.as_str();
    let mut st = shared.lock();
    let Some(bytes) = st
        .files
        .values()
        .find(|(p, _)| p == path)
        .map(|(_, b)| b.clone())
    else {
        return Answer::err(404, "Not Found");
    };
    st.downloads.push(path.to_owned());
    Answer {
        status: 200,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        content_type: "application/octet-stream",
        reset: false,
    }
}

/// `%XX` escapes decoded (a malformed escape is kept as it is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn simple_call(shared: &Shared, method: &str, params: &Params) -> Answer {
    match method {
        "getMe" => Answer::ok(bot_user()),
        "deleteWebhook" => {
            let mut st = shared.lock();
            st.webhook_active = false;
            if params.bool("drop_pending_updates") {
                st.updates.clear();
            }
            Answer::ok(json!(true))
        }
        "getWebhookInfo" => {
            let st = shared.lock();
            let url = if st.webhook_active {
                "https://example.invalid/hook"
            } else {
                ""
            };
            Answer::ok(json!({
                "url": url,
                "has_custom_certificate": false,
                "pending_update_count": st.updates.len(),
            }))
        }
        "getFile" => {
            let Some(file_id) = params.str("file_id").filter(|s| !s.is_empty()) else {
                return Answer::bad("file_id not specified");
            };
            let st = shared.lock();
            match st.files.get(&file_id) {
                Some((_, bytes)) if bytes.len() > MAX_DOWNLOAD => Answer::bad("file is too big"),
                Some((path, bytes)) => Answer::ok(json!({
                    "file_id": file_id,
                    "file_unique_id": format!("u{}", file_id.len()),
                    "file_size": bytes.len(),
                    "file_path": path,
                })),
                None => Answer::bad("wrong file_id or the file is temporarily unavailable"),
            }
        }
        "deleteMessage" => {
            let (Some(chat), Some(id)) = (params.i64("chat_id"), params.i64("message_id")) else {
                return Answer::bad("message identifier is not specified");
            };
            let mut st = shared.lock();
            if st.user_messages.remove(&(chat, id)) || st.messages.remove(&(chat, id)).is_some() {
                Answer::ok(json!(true))
            } else {
                Answer::bad("message to delete not found")
            }
        }
        "answerCallbackQuery" => {
            if params.str("callback_query_id").is_none_or(|s| s.is_empty()) {
                return Answer::bad(
                    "query is too old and response timeout expired or query ID is invalid",
                );
            }
            if params
                .str("text")
                .is_some_and(|t| t.encode_utf16().count() > 200)
            {
                return Answer::bad("MESSAGE_TOO_LONG");
            }
            Answer::ok(json!(true))
        }
        "setMyCommands" => {
            let Ok(Some(Value::Array(commands))) = params.json("commands") else {
                return Answer::bad("can't parse commands JSON object");
            };
            if commands.len() > 100 {
                return Answer::bad("BOT_COMMANDS_TOO_MUCH");
            }
            for c in &commands {
                let name = c["command"].as_str().unwrap_or("");
                let valid = !name.is_empty()
                    && name.len() <= 32
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !valid {
                    return Answer::bad("BOT_COMMAND_INVALID");
                }
                let description = c["description"].as_str().unwrap_or("");
                if description.is_empty() || description.chars().count() > 256 {
                    return Answer::bad("BOT_COMMAND_DESCRIPTION_INVALID");
                }
            }
            Answer::ok(json!(true))
        }
        _ => Answer::err(404, "Not Found"),
    }
}

// ---------------------------------------------------------------------------------------------
// Message calls

fn is_send(method: &str) -> bool {
    method.starts_with("send")
}

fn matches(when: &Match, method: &str, chat: i64, nth_send: Option<usize>) -> bool {
    match when {
        Match::AnySend => is_send(method),
        Match::Method(m) => m.eq_ignore_ascii_case(method),
        Match::Chat(c) => *c == chat,
        Match::NthSend(n) => nth_send == Some(*n),
    }
}

fn secs_left(until: Instant, now: Instant) -> u64 {
    let left = until.saturating_duration_since(now);
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

async fn message_call(shared: &Shared, method: &str, params: &Params) -> Answer {
    let chat_id = params.i64("chat_id").unwrap_or(0);
    let photo = params.file("photo");
    let document = params.file("document");
    let upload = |f: &Option<FileParam>| match f {
        Some(FileParam::Upload(p)) => Some(p.clone()),
        _ => None,
    };
    let mut record = SentMessage {
        method: method.to_owned(),
        chat_id,
        text: params.str("text"),
        caption: params.str("caption"),
        parse_mode: params.str("parse_mode"),
        photo: upload(&photo).map(|p| p.bytes),
        document: upload(&document).map(|p| p.bytes),
        file_name: upload(&photo)
            .or_else(|| upload(&document))
            .and_then(|p| p.file_name),
        reply_markup: params.json("reply_markup").ok().flatten(),
        message_id: params.i64("message_id"),
        at: Instant::now(),
        outcome: 0,
        error: None,
    };

    // Phase 1: server-side state that answers before the request is even looked at.
    let delay = {
        let mut st = shared.lock();
        let now = Instant::now();
        let nth = if is_send(method) {
            st.send_count += 1;
            Some(st.send_count)
        } else {
            None
        };
        let early = st.wait_until.get(&chat_id).copied().filter(|u| now < *u);
        let fault = if early.is_some() {
            None
        } else {
            st.faults
                .iter()
                .position(|(_, when)| matches(when, method, chat_id, nth))
                .map(|i| st.faults.remove(i).0)
        };
        let early_answer = if let Some(until) = early {
            st.early_retries += 1;
            Some(Answer::retry_after(secs_left(until, now).max(1)))
        } else if st.blocked.contains(&chat_id) {
            Some(fault_answer(&Fault::Blocked))
        } else {
            match &fault {
                Some(Fault::Hang(_)) | None => None,
                Some(Fault::RetryAfter(secs)) => {
                    st.wait_until
                        .insert(chat_id, now + Duration::from_secs(*secs));
                    Some(fault_answer(&Fault::RetryAfter(*secs)))
                }
                Some(f) => Some(fault_answer(f)),
            }
        };
        if let Some(answer) = early_answer {
            return finish(&mut st, record, answer);
        }
        match fault {
            Some(Fault::Hang(d)) => d,
            _ => Duration::ZERO,
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    // Phase 2: flood control, validation, delivery.
    let mut st = shared.lock();
    let now = Instant::now();
    record.at = now;
    if st.enforce && is_send(method) {
        while st
            .recent_sends
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            st.recent_sends.pop_front();
        }
        let per_chat = st
            .last_send_to
            .get(&chat_id)
            .map(|t| now.duration_since(*t))
            .filter(|d| *d < Duration::from_secs(1));
        let retry = if let Some(since) = per_chat {
            Some(secs_left(now + (Duration::from_secs(1) - since), now).max(1))
        } else if st.recent_sends.len() >= 30 {
            Some(1)
        } else {
            None
        };
        if let Some(secs) = retry {
            st.wait_until
                .insert(chat_id, now + Duration::from_secs(secs));
            return finish(&mut st, record, Answer::retry_after(secs));
        }
    }
    let answer = match deliver(&mut st, method, params, &record, photo, document) {
        Ok((message_id, result)) => {
            record.message_id = Some(message_id);
            if is_send(method) {
                st.recent_sends.push_back(now);
                st.last_send_to.insert(chat_id, now);
            }
            Answer::ok(result)
        }
        Err(answer) => answer,
    };
    finish(&mut st, record, answer)
}

fn finish(st: &mut BotState, mut record: SentMessage, answer: Answer) -> Answer {
    record.outcome = answer.status;
    record.error = answer.description();
    if answer.status == 429 {
        st.too_many_requests += 1;
    }
    st.sent.push(record);
    answer
}

/// Parses text/caption with the request's parse mode; returns the visible text.
fn visible(raw: &str, parse_mode: Option<&str>) -> Result<String, Answer> {
    match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(raw.trim().to_owned()),
        Some("html") => {
            parse_html(raw).map_err(|e| Answer::bad(&format!("can't parse entities: {e}")))
        }
        Some("markdownv2") | Some("markdown") => Ok(raw.trim().to_owned()),
        Some(_) => Err(Answer::bad("unsupported parse_mode")),
    }
}

fn check_markup(markup: &Result<Option<Value>, ()>) -> Result<(), Answer> {
    let markup = match markup {
        Err(()) => return Err(Answer::bad("can't parse reply keyboard markup JSON object")),
        Ok(None) => return Ok(()),
        Ok(Some(m)) => m,
    };
    if let Some(rows) = markup.get("inline_keyboard") {
        let Some(rows) = rows.as_array() else {
            return Err(Answer::bad("field \"inline_keyboard\" must be an Array"));
        };
        for button in rows.iter().filter_map(Value::as_array).flatten() {
            if let Some(data) = button.get("callback_data") {
                let len = data.as_str().map_or(0, str::len);
                if len == 0 || len > 64 {
                    return Err(Answer::bad("BUTTON_DATA_INVALID"));
                }
            }
        }
    }
    Ok(())
}

fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) && bytes.len() >= 24 {
        let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
        let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
        return Some((w, h));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some((1280, 720));
    }
    None
}

fn file_ids(kind: &str, n: i64) -> (String, String) {
    (
        format!("{kind}ACAgIAAxkDAAIB{n:08}fake"),
        format!("AQAD{kind}{n:06}"),
    )
}

/// Validates and applies a message call; returns (message_id, result).
fn deliver(
    st: &mut BotState,
    method: &str,
    params: &Params,
    record: &SentMessage,
    photo: Option<FileParam>,
    document: Option<FileParam>,
) -> Result<(i64, Value), Answer> {
    let chat_id = record.chat_id;
    if params.fields.get("chat_id").is_none() {
        return Err(Answer::bad("chat_id is empty"));
    }
    if chat_id == 0 {
        return Err(Answer::bad("chat not found"));
    }
    let markup = params.json("reply_markup");
    check_markup(&markup)?;
    let markup = markup.ok().flatten();
    let parse_mode = record.parse_mode.as_deref();
    let caption = match &record.caption {
        Some(c) if method != "sendMessage" && method != "editMessageText" => {
            let shown = visible(c, parse_mode)?;
            if shown.encode_utf16().count() > 1024 {
                return Err(Answer::bad("message caption is too long"));
            }
            Some(shown)
        }
        _ => None,
    };
    let text = if method == "sendMessage" || method == "editMessageText" {
        let shown = visible(record.text.as_deref().unwrap_or(""), parse_mode)?;
        if shown.is_empty() {
            return Err(Answer::bad("message text is empty"));
        }
        if shown.encode_utf16().count() > 4096 {
            return Err(Answer::bad(if method == "sendMessage" {
                "message is too long"
            } else {
                "MESSAGE_TOO_LONG"
            }));
        }
        Some(shown)
    } else {
        None
    };

    if method.starts_with("edit") {
        let Some(message_id) = params.i64("message_id") else {
            return Err(Answer::bad("message identifier is not specified"));
        };
        let Some(stored) = st.messages.get_mut(&(chat_id, message_id)) else {
            return Err(Answer::bad("message to edit not found"));
        };
        if method == "editMessageText" && stored.is_media {
            return Err(Answer::bad("there is no text in the message to edit"));
        }
        if method == "editMessageCaption" && !stored.is_media {
            return Err(Answer::bad("there is no caption in the message to edit"));
        }
        let same = if method == "editMessageText" {
            stored.text == text
        } else {
            stored.caption == caption
        };
        if same && stored.reply_markup == markup {
            return Err(Answer::bad(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            ));
        }
        if method == "editMessageText" {
            stored.text = text.clone();
        } else {
            stored.caption = caption.clone();
        }
        stored.reply_markup = markup.clone();
        let mut msg = json!({
            "message_id": message_id,
            "from": bot_user(),
            "chat": chat_object(chat_id),
            "date": unix_now() - 5,
            "edit_date": unix_now(),
        });
        if let Some(t) = &stored.text {
            msg["text"] = json!(t);
        }
        if let Some(c) = &stored.caption {
            msg["caption"] = json!(c);
        }
        if let Some(m) = &markup {
            msg["reply_markup"] = m.clone();
        }
        return Ok((message_id, msg));
    }

    let message_id = st.next_message_id;
    let mut msg = json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat_object(chat_id),
        "date": unix_now(),
    });
    match method {
        "sendMessage" => msg["text"] = json!(text),
        "sendPhoto" => {
            let (w, h, size) = match photo {
                None => return Err(Answer::bad("there is no photo in the request")),
                Some(FileParam::Upload(part)) => {
                    if part.bytes.is_empty() {
                        return Err(Answer::bad("file must be non-empty"));
                    }
                    let Some((w, h)) = image_size(&part.bytes) else {
                        return Err(Answer::bad("IMAGE_PROCESS_FAILED"));
                    };
                    if part.bytes.len() > 10 * 1024 * 1024 {
                        return Err(Answer::err(413, "Request Entity Too Large"));
                    }
                    if w + h > 10_000 {
                        return Err(Answer::bad("PHOTO_INVALID_DIMENSIONS"));
                    }
                    (w, h, part.bytes.len())
                }
                Some(FileParam::Reference(_)) => (1280, 720, 100_000),
            };
            let (id_small, uid_small) = file_ids("AgAD", message_id * 2);
            let (id_big, uid_big) = file_ids("AgAD", message_id * 2 + 1);
            let scale = 90.0 / f64::from(w.max(h).max(1));
            msg["photo"] = json!([
                {"file_id": id_small, "file_unique_id": uid_small, "file_size": size / 20 + 1,
                 "width": (f64::from(w) * scale).round() as u32, "height": (f64::from(h) * scale).round() as u32},
                {"file_id": id_big, "file_unique_id": uid_big, "file_size": size, "width": w, "height": h},
            ]);
        }
        _ => {
            let (name, size) = match document {
                None => return Err(Answer::bad("there is no document in the request")),
                Some(FileParam::Upload(part)) => {
                    if part.bytes.is_empty() {
                        return Err(Answer::bad("file must be non-empty"));
                    }
                    if part.bytes.len() > 50 * 1024 * 1024 {
                        return Err(Answer::err(413, "Request Entity Too Large"));
                    }
                    (
                        part.file_name.unwrap_or_else(|| "document".to_owned()),
                        part.bytes.len(),
                    )
                }
                Some(FileParam::Reference(r)) => (r, 1000),
            };
            let (id, uid) = file_ids("BQAD", message_id);
            msg["document"] = json!({
                "file_name": name, "mime_type": "application/octet-stream",
                "file_id": id, "file_unique_id": uid, "file_size": size,
            });
        }
    }
    if let Some(c) = &caption {
        msg["caption"] = json!(c);
    }
    if let Some(m) = &markup {
        msg["reply_markup"] = m.clone();
    }
    st.next_message_id += 1;
    st.messages.insert(
        (chat_id, message_id),
        StoredMessage {
            text,
            caption,
            is_media: method != "sendMessage",
            reply_markup: markup,
        },
    );
    Ok((message_id, msg))
}

// ---------------------------------------------------------------------------------------------
// getUpdates

async fn get_updates(shared: &Shared, params: &Params) -> Answer {
    let timeout = Duration::from_secs(params.i64("timeout").unwrap_or(0).clamp(0, 50) as u64);
    let limit = params.i64("limit").unwrap_or(100).clamp(1, 100) as usize;
    let offset = params.i64("offset").unwrap_or(0);
    let deadline = Instant::now() + timeout;
    let mut rx = shared.wake.subscribe();
    let generation = {
        let mut st = shared.lock();
        if st.webhook_active {
            return Answer::err(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            );
        }
        st.poll_generation += 1;
        if offset > 0 {
            st.updates
                .retain(|u| u["update_id"].as_i64().is_some_and(|id| id >= offset));
        }
        st.poll_generation
    };
    rx.mark_unchanged();
    shared.wake(); // an older pending getUpdates is now terminated
    loop {
        {
            let st = shared.lock();
            if st.poll_generation != generation {
                return Answer::err(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                );
            }
            let batch: Vec<Value> = st.updates.iter().take(limit).cloned().collect();
            if !batch.is_empty() {
                return Answer::ok(Value::Array(batch));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Answer::ok(json!([]));
        }
        if tokio::time::timeout(deadline - now, rx.changed())
            .await
            .is_err()
        {
            return Answer::ok(json!([]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTML parse mode

const TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "tg-time",
    "code",
    "pre",
    "blockquote",
];

/// Decodes the entity at the start of `s` (which starts with `&`): (char, bytes consumed).
fn decode_entity(s: &str) -> Option<(char, usize)> {
    let end = s.find(';')?;
    let name = &s[1..end];
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                num.parse::<u32>().ok()?
            };
            char::from_u32(code)?
        }
    };
    Some((ch, end + 1))
}

/// Telegram's HTML parse mode (after tdlib's parser): returns the visible text, or the error
/// that follows "can't parse entities: ". Byte offsets count in the trimmed text, as Telegram does.
fn parse_html(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let b = s.as_bytes();
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'&' => match decode_entity(&s[i..]) {
                Some((ch, used)) => {
                    out.push(ch);
                    i += used;
                }
                // Stricter than Telegram, which keeps a stray '&' as text.
                None => return Err(format!("Unsupported HTML entity at byte offset {i}")),
            },
            b'<' if b.get(i + 1) == Some(&b'/') => {
                let begin = i;
                let Some(gt) = s[i..].find('>').map(|p| p + i) else {
                    return Err(format!("Unclosed end tag at byte offset {begin}"));
                };
                let name = s[i + 2..gt].trim().to_ascii_lowercase();
                let Some(top) = open.pop() else {
                    return Err(format!("Unexpected end tag at byte offset {begin}"));
                };
                if !name.is_empty() && name != top {
                    return Err(format!(
                        "Unmatched end tag at byte offset {begin}, expected \"</{top}>\", found \"</{name}>\""
                    ));
                }
                i = gt + 1;
            }
            b'<' => {
                let begin = i;
                let mut j = i + 1;
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                    j += 1;
                }
                if j >= b.len() {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let name = s[i + 1..j].to_ascii_lowercase();
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "Unsupported start tag \"{name}\" at byte offset {begin}"
                    ));
                }
                let mut spoiler = false;
                // Attributes: name[=value] with value quoted or a bare token.
                loop {
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j >= b.len() {
                        return Err(format!("Unclosed start tag at byte offset {begin}"));
                    }
                    if b[j] == b'>' {
                        break;
                    }
                    let attr_begin = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && !b"=>/\"'".contains(&b[j]) {
                        j += 1;
                    }
                    let attr = s[attr_begin..j].to_ascii_lowercase();
                    if attr.is_empty() {
                        return Err(format!(
                            "Empty attribute name in the tag \"{name}\" at byte offset {begin}"
                        ));
                    }
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if b.get(j) != Some(&b'=') {
                        continue;
                    }
                    j += 1;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    let value = match b.get(j) {
                        None => return Err(format!("Unclosed start tag at byte offset {begin}")),
                        Some(&q) if q == b'"' || q == b'\'' => {
                            let Some(close) = s[j + 1..].find(q as char).map(|p| p + j + 1) else {
                                return Err(format!("Unclosed start tag at byte offset {begin}"));
                            };
                            let v = &s[j + 1..close];
                            j = close + 1;
                            v
                        }
                        Some(_) => {
                            let start = j;
                            while j < b.len()
                                && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'-')
                            {
                                j += 1;
                            }
                            if j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                                return Err(format!(
                                    "Unexpected end of name token at byte offset {start}"
                                ));
                            }
                            &s[start..j]
                        }
                    };
                    if name == "span" && attr == "class" && value == "tg-spoiler" {
                        spoiler = true;
                    }
                }
                if name == "span" && !spoiler {
                    return Err(format!(
                        "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                    ));
                }
                open.push(name);
                i = j + 1;
            }
            _ => {
                let ch = s[i..].chars().next().expect("in bounds");
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if let Some(top) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{top}\""
        ));
    }
    Ok(out.trim().to_owned())
}
