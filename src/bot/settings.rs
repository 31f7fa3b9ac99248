//! Settings: check mode, language, and RapidAPI keys (added with a live test against the
//! canary, listed masked with today's usage, deleted); the entries of the proxy and Instagram
//! session screens (`proxies.rs`, `sessions.rs`).

use super::callback::Callback;
use super::conversation::Conversation;
use super::env::{BotError, Ctx, Env};
use super::keyboard::{button, inline};
use super::router::{Answer, Toast};
use super::texts::{fill, mode_name, ui};
use crate::check::{ApiProber, KeySource, build_client};
use crate::config::Provider;
use crate::domain::{KeyId, Lang, Mode, UnknownReason, UserId, Verdict};
use crate::store::StoreError;
use crate::telegram::reason_name;
use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use secrecy::{ExposeSecret, SecretString};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shortest text accepted as a RapidAPI key (real keys are 50 characters).
const KEY_MIN_LEN: usize = 16;

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Русский",
        Lang::En => "English",
    }
}

fn marked(current: bool, label: &str) -> String {
    if current {
        format!("• {label} •")
    } else {
        label.to_owned()
    }
}

async fn render(ctx: &Ctx, message: Option<i32>, lang: Lang, mode: Mode) -> Result<(), BotError> {
    let t = ui(lang);
    let text = format!(
        "{}\n{}: <b>{}</b>\n{}: <b>{}</b>",
        t.settings_title,
        crate::telegram::escape(t.settings_mode),
        mode_name(mode),
        crate::telegram::escape(t.settings_lang),
        lang_name(lang)
    );
    let modes = Mode::ALL
        .iter()
        .map(|m| button(marked(*m == mode, mode_name(*m)), Callback::SetMode(*m)))
        .collect();
    let langs = [Lang::Ru, Lang::En]
        .iter()
        .map(|l| button(marked(*l == lang, lang_name(*l)), Callback::SetLang(*l)))
        .collect();
    let keyboard = inline(vec![
        modes,
        langs,
        vec![button(t.keys_button, Callback::Keys)],
        vec![
            button(t.proxies_button, Callback::Proxies),
            button(t.sessions_button, Callback::Sessions),
        ],
    ]);
    ctx.show(message, &text, keyboard).await
}

pub async fn show(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    render(ctx, message, ctx.lang(), ctx.user.mode).await
}

pub async fn set_mode(ctx: &Ctx, message: Option<i32>, mode: Mode) -> Answer {
    let owner = ctx.chat();
    ctx.db(move |s| s.set_user_mode(owner, mode)).await?;
    log::info!("Chat={owner} switched to mode {mode}.");
    render(ctx, message, ctx.lang(), mode).await?;
    Ok(Toast::new(fill(
        ctx.t().mode_set,
        &[("mode", mode_name(mode))],
    )))
}

pub async fn set_lang(ctx: &Ctx, message: Option<i32>, lang: Lang) -> Answer {
    let owner = ctx.chat();
    ctx.db(move |s| s.set_user_lang(owner, lang)).await?;
    let mut user = ctx.user.clone();
    user.lang = lang;
    let switched = Ctx {
        env: ctx.env.clone(),
        user,
    };
    render(&switched, message, lang, ctx.user.mode).await?;
    // The reply keyboard is per message: send it again in the new language.
    switched.say_menu(ui(lang).lang_set).await?;
    Ok(None)
}

/// The key list: masked, with today's usage, a delete button each.
pub async fn keys(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let keys = ctx.db(move |s| s.rapidapi_keys(owner, Utc::now())).await?;
    let mut lines = vec![fill(t.keys_title, &[("n", &keys.len().to_string())])];
    if keys.is_empty() {
        lines.push(crate::telegram::escape(t.keys_empty));
    }
    let mut rows = Vec::new();
    for key in &keys {
        let exhausted = if key.exhausted_today {
            t.key_exhausted
        } else {
            ""
        };
        lines.push(fill(
            t.key_line,
            &[
                ("id", &key.id.to_string()),
                ("hint", &key.hint),
                ("used", &key.used_today.to_string()),
                ("exhausted", exhausted),
            ],
        ));
        rows.push(vec![button(
            format!("🗑 #{} {}", key.id, key.hint),
            Callback::DeleteKey(key.id),
        )]);
    }
    rows.push(vec![
        button(t.add_key, Callback::AddKey),
        button(t.back, Callback::Settings),
    ]);
    ctx.show(message, &lines.join("\n"), inline(rows)).await
}

pub async fn delete_key(ctx: &Ctx, message: Option<i32>, key: KeyId) -> Answer {
    let owner = ctx.chat();
    if !ctx.db(move |s| s.remove_rapidapi_key(owner, key)).await? {
        log::info!("Refused key={key} to chat={owner}: not theirs or gone.");
        return Ok(Toast::alert(ctx.t().stale));
    }
    log::info!("Chat={owner} deleted RapidAPI key={key}.");
    keys(ctx, message).await?;
    Ok(Toast::new(ctx.t().key_deleted))
}

pub async fn ask_key(ctx: &Ctx) -> Answer {
    let json = Conversation::AddKey.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await?;
    ctx.say_inline(
        ctx.t().ask_key,
        inline(vec![vec![button(ctx.t().cancel, Callback::Cancel)]]),
    )
    .await?;
    Ok(None)
}

/// The key typed in the conversation: the message is deleted from the chat, the key tested
/// in the background and saved unless the provider refused it.
pub async fn key_received(ctx: &Ctx, message: i32, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    if let Err(err) = ctx.env.client.delete_message(owner, message).await {
        log::warn!("Could not delete the message with a RapidAPI key in chat={owner}: {err}.");
    }
    let key = text.trim().to_owned();
    if key.chars().count() < KEY_MIN_LEN || key.contains(char::is_whitespace) {
        ctx.say_inline(
            t.key_too_short,
            inline(vec![vec![button(t.cancel, Callback::Cancel)]]),
        )
        .await?;
        return Ok(());
    }
    ctx.db(move |s| s.clear_conversation(owner)).await?;
    ctx.say(t.key_testing).await?;
    let env = ctx.env.clone();
    let lang = ctx.lang();
    actix::spawn(async move {
        if let Err(err) = test_and_save(&env, owner, lang, SecretString::from(key)).await {
            log::error!("Could not add a RapidAPI key for chat={owner}: {err}.");
            let _ = env.client.send(owner, ui(lang).failed, None).await;
        }
    });
    Ok(())
}

/// Hands out one key, once; remembers whether the provider refused it.
struct OneKey {
    key: std::sync::Mutex<Option<SecretString>>,
    refused: AtomicBool,
}

impl KeySource for OneKey {
    fn acquire(
        &self,
        _: Vec<UserId>,
    ) -> LocalBoxFuture<'static, Result<Option<(KeyId, SecretString)>, String>> {
        let key = self.key.lock().map(|mut k| k.take()).unwrap_or(None);
        Box::pin(async move { Ok(key.map(|k| (KeyId(0), k))) })
    }

    fn exhausted(&self, _: KeyId) -> LocalBoxFuture<'static, Result<(), String>> {
        self.refused.store(true, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

async fn test_and_save(
    env: &Rc<Env>,
    owner: UserId,
    lang: Lang,
    key: SecretString,
) -> Result<(), BotError> {
    let t = ui(lang);
    let mut config = (*env.config).clone();
    config.instagram.provider = Provider::Rapidapi;
    let canary = config.scheduler.canary.clone();
    let source = Arc::new(OneKey {
        key: std::sync::Mutex::new(Some(SecretString::from(key.expose_secret().to_owned()))),
        refused: AtomicBool::new(false),
    });
    let verdict = match build_client(&config) {
        Ok(client) => {
            let prober = ApiProber::new(Arc::new(config), source.clone());
            prober.probe(&client, &canary, &[owner]).await.verdict
        }
        Err(err) => {
            log::error!("Could not build the HTTP client for a key test: {err}.");
            Verdict::unknown(UnknownReason::Network)
        }
    };
    let refused = source.refused.load(Ordering::SeqCst);
    let reason = match &verdict {
        Verdict::Unknown { reason } => Some(*reason),
        _ => None,
    };
    if refused
        || matches!(
            reason,
            Some(UnknownReason::Quota | UnknownReason::KeyRejected)
        )
    {
        let why = reason_name(lang, reason.unwrap_or(UnknownReason::KeyRejected));
        log::info!("A RapidAPI key of chat={owner} failed its test; not saved.");
        env.client
            .send(owner, &fill(t.key_refused, &[("reason", why)]), None)
            .await?;
        return Ok(());
    }
    let saved = env
        .db(move |s| {
            let id = s.add_rapidapi_key(owner, &key, Utc::now())?;
            let hint = s
                .rapidapi_keys(owner, Utc::now())?
                .into_iter()
                .find(|k| k.id == id)
                .map(|k| k.hint)
                .unwrap_or_default();
            Ok((id, hint))
        })
        .await;
    let (id, hint) = match saved {
        Ok(saved) => saved,
        Err(BotError::Store(StoreError::NoCipher)) => {
            env.client.send(owner, t.no_cipher, None).await?;
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    log::info!("Chat={owner} added RapidAPI key={id}.");
    let text = match reason {
        None => fill(t.key_ok, &[("hint", &hint)]),
        Some(reason) => fill(
            t.key_unsure,
            &[("hint", &hint), ("reason", reason_name(lang, reason))],
        ),
    };
    env.client.send(owner, &text, None).await?;
    Ok(())
}
