//! The Bot API client: teloxide's `Bot` behind a few sending methods, and the one place that
//! classifies Telegram failures into what the notifier should do about them.

use super::html::strip_tags;
use crate::domain::UserId;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;
use teloxide_core::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, GetUpdatesSetters, SendDocumentSetters,
    SendMessageSetters, SendPhotoSetters, SetMyCommandsSetters,
};
use teloxide_core::requests::Requester;
use teloxide_core::types::{
    AllowedUpdate, BotCommand, BotCommandScope, CallbackQueryId, ChatId, InlineKeyboardMarkup,
    InputFile, LinkPreviewOptions, MessageId, ParseMode, ReplyMarkup, Update,
};
use teloxide_core::{ApiError, Bot, RequestError};
use url::Url;

/// A Telegram Bot API client bound to one token and one API URL.
///
/// `Debug` shows only the API URL: teloxide's `Bot` would print the token.
#[derive(Clone)]
pub struct BotClient {
    bot: Bot,
}

/// Why a `BotClient` could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BotClientError {
    #[error("failed to build the Telegram HTTP client: {0}")]
    Http(String),
    #[error("the Bot API URL `{0}` cannot have path segments")]
    BadApiUrl(Url),
}

/// What went wrong with one Bot API call, classified by what to do next.
///
/// Messages never contain the bot token or a request URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Flood control (429): wait this long, then retry.
    #[error("flood control asks to retry after {} s", .0.as_secs())]
    RetryAfter(Duration),
    /// 400 "can't parse entities": the HTML is broken; resend as plain text.
    #[error("Telegram could not parse the message entities")]
    CantParseEntities,
    /// 403 family: the user blocked the bot, was deactivated or never started it.
    #[error("the bot cannot write to this chat (blocked, deactivated or never started)")]
    Blocked,
    /// 400 "chat not found" / "user not found".
    #[error("the chat was not found")]
    ChatNotFound,
    /// The text or caption is over Telegram's limit.
    #[error("the message or caption is too long")]
    TooLong,
    /// The token is invalid (401/404): fatal.
    #[error("the bot token was refused")]
    Unauthorized,
    /// 409: another poller or an active webhook uses this token.
    #[error("another getUpdates consumer or a webhook uses this token")]
    Conflict,
    /// Network failures, timeouts, 5xx and unknown server-side errors: retry with back-off.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Anything else: retrying will not help.
    #[error("Telegram refused the request: {0}")]
    Other(String),
}

impl SendError {
    /// Whether sending the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::RetryAfter(_) | SendError::Transient(_))
    }

    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            SendError::RetryAfter(_) => "retry_after",
            SendError::CantParseEntities => "cant_parse_entities",
            SendError::Blocked => "blocked",
            SendError::ChatNotFound => "chat_not_found",
            SendError::TooLong => "too_long",
            SendError::Unauthorized => "unauthorized",
            SendError::Conflict => "conflict",
            SendError::Transient(_) => "transient",
            SendError::Other(_) => "other",
        }
    }
}

impl BotClient {
    /// Builds a client with teloxide's default HTTP settings (connect 5 s, total 17 s) talking to
    /// `api_url` (`https://api.telegram.org` in production, a loopback fake in tests).
    pub fn new(token: &SecretString, api_url: &Url) -> Result<BotClient, BotClientError> {
        let http = teloxide_core::net::default_reqwest_settings()
            .build()
            .map_err(|err| BotClientError::Http(err.to_string()))?;
        let mut url = api_url.clone();
        // teloxide appends `/bot<token>/<method>`; a trailing slash would double it.
        url.path_segments_mut()
            .map_err(|()| BotClientError::BadApiUrl(api_url.clone()))?
            .pop_if_empty();
        let bot = Bot::with_client(token.expose_secret(), http).set_api_url(url);
        Ok(BotClient { bot })
    }

    /// The underlying teloxide bot, for calls this wrapper does not cover (updates, keyboards).
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Sends `html` with `parse_mode=HTML` and link previews off; returns the message id.
    pub async fn send_html(&self, chat: UserId, html: &str) -> Result<i32, SendError> {
        self.bot
            .send_message(ChatId(chat.0), html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview())
            .await
            .map(|message| message.id.0)
            .map_err(|err| self.classify(&err))
    }

    /// Sends `text` without any parse mode (the fallback after "can't parse entities").
    pub async fn send_plain(&self, chat: UserId, text: &str) -> Result<i32, SendError> {
        self.bot
            .send_message(ChatId(chat.0), text)
            .link_preview_options(no_preview())
            .await
            .map(|message| message.id.0)
            .map_err(|err| self.classify(&err))
    }

    /// Uploads a PNG (multipart) with an optional HTML caption and keyboard; when Telegram
    /// cannot parse the caption, uploads it again with the caption as plain text. Returns the
    /// message id.
    pub async fn send_photo(
        &self,
        chat: UserId,
        png: Vec<u8>,
        caption_html: Option<&str>,
        markup: Option<ReplyMarkup>,
    ) -> Result<i32, SendError> {
        let attempt = |caption: Option<(String, bool)>| {
            let photo = InputFile::memory(png.clone()).file_name("profile.png");
            let request = self.bot.send_photo(ChatId(chat.0), photo);
            let request = match caption {
                Some((text, true)) => request.caption(text).parse_mode(ParseMode::Html),
                Some((text, false)) => request.caption(text),
                None => request,
            };
            match markup.clone() {
                Some(markup) => request.reply_markup(markup),
                None => request,
            }
        };
        match attempt(caption_html.map(|c| (c.to_owned(), true))).await {
            Ok(message) => Ok(message.id.0),
            Err(err) => match self.classify(&err) {
                SendError::CantParseEntities => {
                    log::warn!(
                        "Telegram could not parse a photo caption for chat={chat}; resending it as plain text."
                    );
                    attempt(caption_html.map(|c| (strip_tags(c), false)))
                        .await
                        .map(|message| message.id.0)
                        .map_err(|err| self.classify(&err))
                }
                other => Err(other),
            },
        }
    }

    /// Sends `html` with an optional keyboard; when Telegram cannot parse the HTML, sends the
    /// same text without markup instead (and logs it). Returns the message id.
    pub async fn send(
        &self,
        chat: UserId,
        html: &str,
        markup: Option<ReplyMarkup>,
    ) -> Result<i32, SendError> {
        let request = self
            .bot
            .send_message(ChatId(chat.0), html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        let request = match markup.clone() {
            Some(markup) => request.reply_markup(markup),
            None => request,
        };
        match request.await {
            Ok(message) => Ok(message.id.0),
            Err(err) => match self.classify(&err) {
                SendError::CantParseEntities => {
                    log::warn!(
                        "Telegram could not parse a bot reply to chat={chat}; resending it as plain text."
                    );
                    let request = self
                        .bot
                        .send_message(ChatId(chat.0), strip_tags(html))
                        .link_preview_options(no_preview());
                    let request = match markup {
                        Some(markup) => request.reply_markup(markup),
                        None => request,
                    };
                    request
                        .await
                        .map(|message| message.id.0)
                        .map_err(|err| self.classify(&err))
                }
                other => Err(other),
            },
        }
    }

    /// Replaces the text (and inline keyboard) of a message the bot sent. An edit to identical
    /// content is not an error.
    pub async fn edit(
        &self,
        chat: UserId,
        message: i32,
        html: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<(), SendError> {
        let request = self
            .bot
            .edit_message_text(ChatId(chat.0), MessageId(message), html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        let request = match keyboard {
            Some(keyboard) => request.reply_markup(keyboard),
            None => request,
        };
        match request.await {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(err) => Err(self.classify(&err)),
        }
    }

    /// Deletes a message in a private chat (e.g. one that carried a secret).
    pub async fn delete_message(&self, chat: UserId, message: i32) -> Result<(), SendError> {
        self.bot
            .delete_message(ChatId(chat.0), MessageId(message))
            .await
            .map(|_| ())
            .map_err(|err| self.classify(&err))
    }

    /// Answers a callback query (stops the button's spinner), with an optional toast.
    pub async fn answer_callback(
        &self,
        id: &str,
        text: Option<&str>,
        alert: bool,
    ) -> Result<(), SendError> {
        let request = self
            .bot
            .answer_callback_query(CallbackQueryId(id.to_owned()));
        let request = match text {
            Some(text) => request.text(text).show_alert(alert),
            None => request,
        };
        request.await.map(|_| ()).map_err(|err| self.classify(&err))
    }

    /// Uploads a document (multipart) with an optional HTML caption; returns the message id.
    pub async fn send_document(
        &self,
        chat: UserId,
        file_name: &str,
        bytes: Vec<u8>,
        caption_html: Option<&str>,
    ) -> Result<i32, SendError> {
        let file = InputFile::memory(bytes).file_name(file_name.to_owned());
        let request = self.bot.send_document(ChatId(chat.0), file);
        let request = match caption_html {
            Some(caption) => request.caption(caption).parse_mode(ParseMode::Html),
            None => request,
        };
        request
            .await
            .map(|message| message.id.0)
            .map_err(|err| self.classify(&err))
    }

    /// One long poll for messages and callback queries. `timeout` must stay below the HTTP
    /// client's 17 s total timeout.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
    ) -> Result<Vec<Update>, SendError> {
        let secs = u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX);
        let request = self
            .bot
            .get_updates()
            .timeout(secs)
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        let request = match offset.and_then(|o| i32::try_from(o).ok()) {
            Some(offset) => request.offset(offset),
            None => request,
        };
        request.await.map_err(|err| self.classify(&err))
    }

    /// Removes any webhook, so `getUpdates` works (pending updates are kept).
    pub async fn delete_webhook(&self) -> Result<(), SendError> {
        self.bot
            .delete_webhook()
            .await
            .map(|_| ())
            .map_err(|err| self.classify(&err))
    }

    /// Registers the command menu for a scope and language (`None`: every language).
    pub async fn set_commands(
        &self,
        commands: Vec<BotCommand>,
        scope: BotCommandScope,
        language: Option<&str>,
    ) -> Result<(), SendError> {
        let request = self.bot.set_my_commands(commands).scope(scope);
        let request = match language {
            Some(language) => request.language_code(language),
            None => request,
        };
        request.await.map(|_| ()).map_err(|err| self.classify(&err))
    }

    /// The bot's username; also the cheapest check that the token works.
    pub async fn get_me(&self) -> Result<String, SendError> {
        let me = self.bot.get_me().await.map_err(|err| self.classify(&err))?;
        me.user
            .username
            .ok_or_else(|| SendError::Other("getMe returned a bot without a username".into()))
    }

    /// Classifies, then removes the token from the message should a transport error ever carry it.
    fn classify(&self, err: &RequestError) -> SendError {
        let token = self.bot.token();
        let redact = |s: String| {
            if token.is_empty() {
                s
            } else {
                s.replace(token, "<token>")
            }
        };
        match classify(err) {
            SendError::Transient(s) => SendError::Transient(redact(s)),
            SendError::Other(s) => SendError::Other(redact(s)),
            other => other,
        }
    }
}

impl fmt::Debug for BotClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotClient")
            .field("api_url", &self.bot.api_url().as_str())
            .finish_non_exhaustive()
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Maps a teloxide error to what the caller should do.
///
/// teloxide ignores `error_code` and the HTTP status: it turns `parameters.retry_after` into
/// `RetryAfter`, known descriptions into `ApiError` variants, any other description into
/// `ApiError::Unknown`, and a non-JSON body (a proxy's 502 page) into `InvalidJson`. So 5xx
/// arrive as `Unknown("Internal Server Error")`-like descriptions or as `InvalidJson`.
pub fn classify(err: &RequestError) -> SendError {
    match err {
        RequestError::RetryAfter(after) => SendError::RetryAfter(after.duration()),
        RequestError::Api(api) => classify_api(api),
        RequestError::MigrateToChatId(to) => {
            SendError::Other(format!("the group moved to supergroup {to}"))
        }
        // reqwest's Display includes the URL, and the URL includes the token: describe the
        // kind and the causes only.
        RequestError::Network(net) => {
            let kind = if net.is_timeout() {
                "timed out"
            } else if net.is_connect() {
                "connection failed"
            } else if net.is_body() || net.is_decode() {
                "reading the response failed"
            } else {
                "request failed"
            };
            match describe_source_chain(&**net) {
                causes if causes.is_empty() => SendError::Transient(kind.to_string()),
                causes => SendError::Transient(format!("{kind}: {causes}")),
            }
        }
        RequestError::InvalidJson { .. } => {
            SendError::Transient("the Bot API answered with something that is not JSON".into())
        }
        RequestError::Io(io) => SendError::Other(format!("I/O error: {io}")),
    }
}

fn classify_api(api: &ApiError) -> SendError {
    match api {
        ApiError::CantParseEntities(_) => SendError::CantParseEntities,
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::GroupDeactivated => SendError::Blocked,
        ApiError::ChatNotFound | ApiError::UserNotFound => SendError::ChatNotFound,
        ApiError::MessageIsTooLong | ApiError::EditedMessageIsTooLong => SendError::TooLong,
        ApiError::InvalidToken => SendError::Unauthorized,
        ApiError::TerminatedByOtherGetUpdates | ApiError::CantGetUpdates => SendError::Conflict,
        ApiError::Unknown(description) => classify_description(description),
        other => SendError::Other(other.to_string()),
    }
}

/// Descriptions teloxide does not know (or knows only under an older wording).
fn classify_description(description: &str) -> SendError {
    let lower = description.to_ascii_lowercase();
    if lower.starts_with("forbidden") {
        // "Forbidden: bot can't initiate conversation with a user", "…: bot is not a member…".
        SendError::Blocked
    } else if lower.starts_with("conflict") {
        // "Conflict: can't use getUpdates method while webhook is active; …".
        SendError::Conflict
    } else if lower.contains("can't parse entities") {
        SendError::CantParseEntities
    } else if lower.contains("too long") || lower.contains("message_too_long") {
        // "Bad Request: message caption is too long", "Bad Request: text is too long".
        SendError::TooLong
    } else if lower.contains("chat not found") || lower.contains("user not found") {
        SendError::ChatNotFound
    } else if lower.starts_with("unauthorized") {
        SendError::Unauthorized
    } else if lower.starts_with("too many requests") {
        // A 429 without `parameters.retry_after`: the number, if any, is in the text.
        let secs = lower
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(1);
        SendError::RetryAfter(Duration::from_secs(secs))
    } else if lower.starts_with("bad request") {
        SendError::Other(description.to_string())
    } else {
        // "Internal Server Error", "Bad Gateway", "Gateway Timeout", restarts…
        SendError::Transient(description.to_string())
    }
}

/// The causes below an error, joined by `: `. Lower layers (hyper, io) never carry the URL.
fn describe_source_chain(err: &dyn std::error::Error) -> String {
    let mut causes = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        causes.push(cause.to_string());
        next = cause.source();
    }
    causes.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use teloxide_core::types::Seconds;

    fn api(description: &str) -> RequestError {
        let json = serde_json::to_string(description).unwrap();
        RequestError::Api(serde_json::from_str::<ApiError>(&json).unwrap())
    }

    #[test]
    fn telegram_descriptions_are_classified() {
        use SendError as E;
        for (description, expected) in [
            (
                "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3",
                E::CantParseEntities,
            ),
            ("Forbidden: bot was blocked by the user", E::Blocked),
            ("Forbidden: user is deactivated", E::Blocked),
            (
                "Forbidden: bot can't initiate conversation with a user",
                E::Blocked,
            ),
            (
                "Unauthorized: bot can't initiate conversation with a user",
                E::Blocked,
            ),
            ("Forbidden: bot was kicked from the group chat", E::Blocked),
            ("Bad Request: chat not found", E::ChatNotFound),
            ("Bad Request: user not found", E::ChatNotFound),
            ("Bad Request: message is too long", E::TooLong),
            ("Bad Request: message caption is too long", E::TooLong),
            ("Bad Request: MESSAGE_TOO_LONG", E::TooLong),
            ("Unauthorized", E::Unauthorized),
            ("Not Found", E::Unauthorized),
            (
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                E::Conflict,
            ),
            (
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                E::Conflict,
            ),
            (
                "Too Many Requests: retry after 9",
                E::RetryAfter(Duration::from_secs(9)),
            ),
            (
                "Internal Server Error",
                E::Transient("Internal Server Error".into()),
            ),
            ("Bad Gateway", E::Transient("Bad Gateway".into())),
            (
                "Bad Request: IMAGE_PROCESS_FAILED",
                E::Other("Bad Request: IMAGE_PROCESS_FAILED".into()),
            ),
            (
                "Bad Request: something new",
                E::Other("Bad Request: something new".into()),
            ),
        ] {
            assert_eq!(classify(&api(description)), expected, "{description}");
        }
    }

    #[test]
    fn typed_teloxide_errors_are_classified() {
        let after = RequestError::RetryAfter(Seconds::from_seconds(9));
        assert_eq!(
            classify(&after),
            SendError::RetryAfter(Duration::from_secs(9))
        );

        let source = serde_json::from_str::<serde_json::Value>("<html>502</html>").unwrap_err();
        let invalid = RequestError::InvalidJson {
            source: Arc::new(source),
            raw: "<html>502 Bad Gateway</html>".into(),
        };
        let got = classify(&invalid);
        assert!(got.is_retryable());
        assert!(!got.to_string().contains("html"), "{got}");

        let io = RequestError::Io(Arc::new(std::io::Error::other("disk")));
        assert!(matches!(classify(&io), SendError::Other(_)));
    }

    #[test]
    fn only_flood_control_and_transient_failures_are_retryable() {
        let all = [
            SendError::RetryAfter(Duration::from_secs(1)),
            SendError::Transient("x".into()),
            SendError::CantParseEntities,
            SendError::Blocked,
            SendError::ChatNotFound,
            SendError::TooLong,
            SendError::Unauthorized,
            SendError::Conflict,
            SendError::Other("x".into()),
        ];
        let retryable: Vec<_> = all
            .iter()
            .filter(|e| e.is_retryable())
            .map(SendError::reason)
            .collect();
        assert_eq!(retryable, ["retry_after", "transient"]);
        let mut reasons: Vec<_> = all.iter().map(SendError::reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), all.len());
    }

    mod stub {
        use axum::Router;
        use axum::body::Bytes;
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode, Uri};
        use std::sync::{Arc, Mutex};

        /// One recorded call: path, content type, body.
        pub type Call = (String, String, Vec<u8>);

        const ME: &str = r#"{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"W","username":"igwatch_bot","can_join_groups":false,"can_read_all_group_messages":false,"supports_inline_queries":false,"has_main_web_app":false}}"#;

        fn message(id: i32) -> String {
            format!(
                r#"{{"ok":true,"result":{{"message_id":{id},"date":0,"chat":{{"id":42,"type":"private","first_name":"A"}},"text":"x"}}}}"#
            )
        }

        async fn handle(
            State(calls): State<Arc<Mutex<Vec<Call>>>>,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, String) {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let text = String::from_utf8_lossy(&body).to_string();
            calls
                .lock()
                .unwrap()
                .push((uri.path().to_string(), content_type, body.to_vec()));
            // Telegram method names are case-insensitive; teloxide sends `GetMe`, `SendMessage`.
            let method = uri.path().rsplit('/').next().unwrap_or_default();
            match method.to_ascii_lowercase().as_str() {
                "getme" => (StatusCode::OK, ME.to_string()),
                "sendphoto" => (StatusCode::OK, message(78)),
                "sendmessage" if text.contains(r#""chat_id":403"#) => (
                    StatusCode::FORBIDDEN,
                    r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#.into(),
                ),
                "sendmessage" if text.contains(r#""chat_id":429"#) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#.into(),
                ),
                "sendmessage" => (StatusCode::OK, message(77)),
                _ => (
                    StatusCode::NOT_FOUND,
                    r#"{"ok":false,"error_code":404,"description":"Not Found"}"#.into(),
                ),
            }
        }

        /// Serves the stub on an ephemeral loopback port; returns its base URL and the call log.
        pub async fn start() -> (url::Url, Arc<Mutex<Vec<Call>>>) {
            let calls = Arc::new(Mutex::new(Vec::new()));
            let app = Router::new().fallback(handle).with_state(calls.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            (url::Url::parse(&format!("http://{addr}/")).unwrap(), calls)
        }
    }

    const TOKEN: &str = "123456:SECRET-token";

    #[tokio::test]
    async fn talks_to_a_bot_api_over_loopback() {
        let (url, calls) = stub::start().await;
        let client = BotClient::new(&SecretString::from(TOKEN), &url).unwrap();

        assert_eq!(client.get_me().await.unwrap(), "igwatch_bot");
        assert_eq!(
            client.send_html(UserId(42), "<b>hi</b> &amp;").await,
            Ok(77)
        );
        assert_eq!(client.send_plain(UserId(42), "hi").await, Ok(77));
        let png = vec![0x89, b'P', b'N', b'G'];
        assert_eq!(
            client
                .send_photo(UserId(42), png, Some("<b>cap</b>"), None)
                .await,
            Ok(78)
        );
        assert_eq!(
            client.send_html(UserId(403), "x").await,
            Err(SendError::Blocked)
        );
        assert_eq!(
            client.send_html(UserId(429), "x").await,
            Err(SendError::RetryAfter(Duration::from_secs(3)))
        );

        let calls = calls.lock().unwrap().clone();
        let paths: Vec<_> = calls
            .iter()
            .map(|(p, _, _)| p.to_ascii_lowercase())
            .collect();
        assert_eq!(paths[0], format!("/bot{TOKEN}/getme").to_ascii_lowercase());
        assert_eq!(
            paths[3],
            format!("/bot{TOKEN}/sendphoto").to_ascii_lowercase()
        );

        let html: serde_json::Value = serde_json::from_slice(&calls[1].2).unwrap();
        assert_eq!(html["chat_id"], 42);
        assert_eq!(html["text"], "<b>hi</b> &amp;");
        assert_eq!(html["parse_mode"], "HTML");
        assert_eq!(html["link_preview_options"]["is_disabled"], true);
        let plain: serde_json::Value = serde_json::from_slice(&calls[2].2).unwrap();
        assert!(plain.get("parse_mode").is_none(), "{plain}");

        let (_, content_type, body) = &calls[3];
        assert!(
            content_type.starts_with("multipart/form-data"),
            "{content_type}"
        );
        let body = String::from_utf8_lossy(body);
        assert!(body.contains("name=\"photo\""), "{body}");
        assert!(body.contains("<b>cap</b>"));
        assert!(body.contains("PNG"));
    }

    #[tokio::test]
    async fn network_errors_are_transient_and_never_show_the_token() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = Url::parse(&format!("http://{addr}/")).unwrap();
        let client = BotClient::new(&SecretString::from(TOKEN), &url).unwrap();
        let err = client.send_html(UserId(42), "x").await.unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("connection failed"), "{shown}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("/bot"),
            "{shown}"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = SecretString::from("123456:SECRET-token");
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        let client = BotClient::new(&token, &url).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("127.0.0.1:9"), "{debug}");
    }

    #[test]
    fn a_cannot_be_a_base_api_url_is_refused() {
        let token = SecretString::from("1:x");
        let url = Url::parse("mailto:bot@example.com").unwrap();
        assert!(matches!(
            BotClient::new(&token, &url),
            Err(BotClientError::BadApiUrl(_))
        ));
    }
}
