//! Settings → Instagram sessions: the owner's list with status (never a cookie), add from cookie
//! JSON sent as text or as a `.json` document (getFile + download), validated, probed against
//! the canary in the background and stored encrypted; the message with the cookies is deleted.
//! Delete with confirmation; every press is re-authorised (store calls scoped to the presser).

use super::callback::Callback;
use super::conversation::Conversation;
use super::env::{BotError, Ctx, Env};
use super::keyboard::{button, confirm, inline};
use super::router::{Answer, Toast};
use super::texts::{fill, ui};
use crate::check::{SessionTrial, trial_session};
use crate::domain::{Cookie, Lang, SessionId, UserId, parse_cookie_json};
use crate::store::{SessionInfo, StoreError};
use crate::telegram::{classify, format_datetime, reason_name};
use chrono::Utc;
use futures_util::StreamExt;
use std::rc::Rc;
use teloxide_core::net::Download;
use teloxide_core::requests::Requester;
use teloxide_core::types::{Document, Message};

/// Largest cookie file downloaded (as `parse_cookie_json` accepts).
const MAX_FILE: u32 = 256 * 1024;
/// Longest label kept.
const LABEL_MAX: usize = 64;

/// One of the presser's sessions, or `None` when it is not theirs (or gone).
async fn owned(ctx: &Ctx, id: SessionId) -> Result<Option<SessionInfo>, BotError> {
    let owner = ctx.chat();
    ctx.db(move |s| {
        Ok(s.instagram_sessions(owner)?
            .into_iter()
            .find(|x| x.id == id))
    })
    .await
}

fn refuse(ctx: &Ctx, id: SessionId) -> Answer {
    log::info!(
        "Refused session={id} to chat={}: not theirs or gone.",
        ctx.chat()
    );
    Ok(Toast::alert(ctx.t().stale))
}

/// The list: status, created and last used; a delete button each.
pub async fn list(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let sessions = ctx.db(move |s| s.instagram_sessions(owner)).await?;
    let offset = ctx.env.config.users.utc_offset;
    let when = |at: chrono::DateTime<Utc>| format_datetime(ctx.lang(), at.with_timezone(&offset));
    let mut lines = vec![fill(
        t.sessions_title,
        &[("n", &sessions.len().to_string())],
    )];
    if sessions.is_empty() {
        lines.push(crate::telegram::escape(t.sessions_empty));
    }
    let mut rows = Vec::new();
    for session in &sessions {
        let status = if session.valid {
            t.session_valid
        } else {
            t.session_invalid
        };
        lines.push(fill(
            t.session_line,
            &[
                ("id", &session.id.to_string()),
                ("label", &session.label),
                ("status", status),
                ("created", &when(session.created_at)),
                (
                    "used",
                    &session
                        .last_used_at
                        .map_or_else(|| t.session_never.to_owned(), when),
                ),
            ],
        ));
        rows.push(vec![button(
            format!("🗑 #{} {}", session.id, session.label),
            Callback::DeleteSession(session.id),
        )]);
    }
    rows.push(vec![
        button(t.add_session, Callback::AddSession),
        button(t.back, Callback::Settings),
    ]);
    ctx.show(message, &lines.join("\n"), inline(rows)).await
}

pub async fn ask_delete(ctx: &Ctx, message: Option<i32>, id: SessionId) -> Answer {
    let Some(session) = owned(ctx, id).await? else {
        return refuse(ctx, id);
    };
    let text = fill(
        ctx.t().ask_delete_session,
        &[("id", &id.to_string()), ("label", &session.label)],
    );
    let keyboard = confirm(
        ctx.lang(),
        Callback::DeleteSessionConfirmed(id),
        Callback::Sessions,
    );
    ctx.show(message, &text, keyboard).await?;
    Ok(None)
}

pub async fn delete(ctx: &Ctx, message: Option<i32>, id: SessionId) -> Answer {
    let owner = ctx.chat();
    if !ctx
        .db(move |s| s.remove_instagram_session(owner, id))
        .await?
    {
        return refuse(ctx, id);
    }
    log::info!("Chat={owner} deleted Instagram session={id}.");
    list(ctx, message).await?;
    Ok(Toast::new(ctx.t().session_deleted))
}

pub async fn ask_add(ctx: &Ctx) -> Answer {
    let json = Conversation::AddSession.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await?;
    ctx.say_inline(
        ctx.t().ask_session,
        inline(vec![vec![button(ctx.t().cancel, Callback::Cancel)]]),
    )
    .await?;
    Ok(None)
}

/// Why a document could not be read.
enum FileProblem {
    /// Not a `.json` file, or too large.
    Refused,
    /// getFile or the download failed.
    Download,
}

fn is_json_file(document: &Document) -> bool {
    let by_name = document
        .file_name
        .as_deref()
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".json"));
    let by_type = document
        .mime_type
        .as_ref()
        .is_some_and(|m| m.essence_str() == "application/json");
    (by_name || by_type) && document.file.size <= MAX_FILE
}

/// Downloads a document from `{api_url}/file/bot<token>/<file_path>`, at most [`MAX_FILE`]
/// bytes. Errors are logged by kind only (teloxide hides the token from its errors).
async fn download(ctx: &Ctx, document: &Document) -> Result<String, FileProblem> {
    if !is_json_file(document) {
        return Err(FileProblem::Refused);
    }
    let bot = ctx.env.client.bot();
    let file = bot
        .get_file(document.file.id.clone())
        .await
        .map_err(|err| {
            log::warn!(
                "Could not get a cookie file of chat={}: {}.",
                ctx.chat(),
                classify(&err)
            );
            FileProblem::Download
        })?;
    if file.meta.size > MAX_FILE {
        return Err(FileProblem::Refused);
    }
    let mut stream = bot.download_file_stream(&file.path);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            let kind = if err.is_timeout() {
                "timed out"
            } else {
                "failed"
            };
            log::warn!("Downloading a cookie file of chat={} {kind}.", ctx.chat());
            FileProblem::Download
        })?;
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_FILE as usize {
            return Err(FileProblem::Refused);
        }
    }
    String::from_utf8(bytes).map_err(|_| FileProblem::Refused)
}

/// The cookies sent in the conversation, as text or as a document: the message is deleted
/// first (it holds the cookies whatever they are worth), then they are validated and probed in
/// the background; stored unless Instagram refused them.
pub async fn received(ctx: &Ctx, message: &Message, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let again = || inline(vec![vec![button(t.cancel, Callback::Cancel)]]);
    if let Err(err) = ctx.env.client.delete_message(owner, message.id.0).await {
        log::warn!("Could not delete the message with cookies in chat={owner}: {err}.");
    }
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let (json, label) = match message.document() {
        Some(document) => match download(ctx, document).await {
            Ok(json) => {
                let name = document.file_name.as_deref().unwrap_or_default();
                let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem).trim();
                let label = if stem.is_empty() {
                    format!("cookies {today}")
                } else {
                    stem.chars().take(LABEL_MAX).collect()
                };
                (json, label)
            }
            Err(FileProblem::Refused) => {
                ctx.say_inline(t.session_bad_file, again()).await?;
                return Ok(());
            }
            Err(FileProblem::Download) => {
                ctx.say_inline(t.session_download_failed, again()).await?;
                return Ok(());
            }
        },
        None => (text.to_owned(), format!("cookies {today}")),
    };
    let cookies = match parse_cookie_json(&json) {
        Ok(cookies) => cookies,
        Err(err) => {
            log::info!("Refused a cookie export of chat={owner}: {err}.");
            ctx.say_inline(
                &fill(t.session_bad, &[("reason", &err.to_string())]),
                again(),
            )
            .await?;
            return Ok(());
        }
    };
    drop(json);
    ctx.db(move |s| s.clear_conversation(owner)).await?;
    if ctx.env.config.secret_key_bytes().is_none() {
        ctx.say(t.no_cipher).await?;
        return Ok(());
    }
    ctx.say(&fill(
        t.session_testing,
        &[("canary", ctx.env.config.scheduler.canary.as_str())],
    ))
    .await?;
    let env = ctx.env.clone();
    let lang = ctx.lang();
    actix::spawn(async move {
        if let Err(err) = probe_and_save(&env, owner, lang, label, cookies).await {
            log::error!("Could not add an Instagram session for chat={owner}: {err}.");
            let _ = env.client.send(owner, ui(lang).failed, None).await;
        }
    });
    Ok(())
}

async fn probe_and_save(
    env: &Rc<Env>,
    owner: UserId,
    lang: Lang,
    label: String,
    cookies: Vec<Cookie>,
) -> Result<(), BotError> {
    let t = ui(lang);
    let trial = trial_session(&env.config, &cookies).await;
    if let SessionTrial::Refused(reason) = trial {
        log::info!("Instagram refused a new session of chat={owner}; not saved.");
        let text = fill(t.session_refused, &[("reason", reason_name(lang, reason))]);
        env.client.send(owner, &text, None).await?;
        return Ok(());
    }
    let stored_label = label.clone();
    let saved = env
        .db(move |s| s.add_instagram_session(owner, &stored_label, &cookies, Utc::now()))
        .await;
    let id = match saved {
        Ok(id) => id,
        Err(BotError::Store(StoreError::NoCipher)) => {
            env.client.send(owner, t.no_cipher, None).await?;
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    log::info!("Chat={owner} added Instagram session={id}.");
    let text = match trial {
        SessionTrial::Inconclusive(reason) => fill(
            t.session_unsure,
            &[
                ("id", &id.to_string()),
                ("label", &label),
                ("reason", reason_name(lang, reason)),
            ],
        ),
        _ => fill(t.session_ok, &[("id", &id.to_string()), ("label", &label)]),
    };
    env.client.send(owner, &text, None).await?;
    Ok(())
}
