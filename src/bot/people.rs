//! People: `/start` registers an inactive user and asks the admins; admins approve or reject;
//! the user is told the outcome.

use super::admin::DEFAULT_MODE_SETTING;
use super::callback::Callback;
use super::env::{BotError, Ctx, Env};
use super::keyboard::{button, inline, main_menu};
use super::router::{Answer, Toast};
use super::texts::{fill, ui};
use crate::domain::{Lang, Mode, Role, UserId};
use crate::store::Profile;
use chrono::Utc;
use std::rc::Rc;
use teloxide_core::types::ReplyMarkup;

/// "Name (@handle)" or the id when Telegram gave no name.
pub fn display_name(profile: &Profile, id: UserId) -> String {
    let name = if profile.name.trim().is_empty() {
        id.to_string()
    } else {
        profile.name.clone()
    };
    match &profile.handle {
        Some(handle) => format!("{name} (@{handle})"),
        None => name,
    }
}

/// `/start` (or a first message): registers the user inactive, or activates a configured
/// admin, then greets. The admins hear about a new user once, when the row is created.
pub async fn start(env: Rc<Env>, id: UserId, lang: Lang, profile: Profile) -> Result<(), BotError> {
    let fallback_mode = env.config.users.default_mode;
    let config_admin = env.is_config_admin(id);
    let saved = profile.clone();
    let (user, created) = env
        .db(move |s| {
            let mode = s
                .setting(DEFAULT_MODE_SETTING)?
                .and_then(|m| m.parse::<Mode>().ok())
                .unwrap_or(fallback_mode);
            let (user, created) = s.register_user(id, lang, mode, &saved, Utc::now())?;
            if config_admin && (!user.active || user.role != Role::Admin) {
                let user =
                    s.upsert_user(id, Role::Admin, true, user.lang, user.mode, Utc::now())?;
                return Ok((user, created));
            }
            s.clear_conversation(id)?;
            Ok((user, created))
        })
        .await?;
    let t = ui(user.lang);
    if user.active {
        let menu = main_menu(user.lang, env.is_admin(&user));
        env.client.send(id, t.menu_title, Some(menu)).await?;
        return Ok(());
    }
    if !created {
        env.client.send(id, t.inactive, None).await?;
        return Ok(());
    }
    log::info!("New user chat={id} registered; asking the admins.");
    env.client.send(id, t.welcome_pending, None).await?;
    let admins = env.config.telegram.admin_ids.clone();
    let chats = env.db(move |s| s.admin_chats(&admins)).await?;
    for admin in chats {
        let admin_lang = match env.db(move |s| s.user(admin)).await? {
            Some(user) => user.lang,
            None => env.config.users.default_lang,
        };
        let a = ui(admin_lang);
        let handle = profile
            .handle
            .as_ref()
            .map(|h| format!(" @{h}"))
            .unwrap_or_default();
        let name = if profile.name.trim().is_empty() {
            id.to_string()
        } else {
            profile.name.clone()
        };
        let text = fill(
            a.admin_new_user,
            &[
                ("name", &name),
                ("handle", &handle),
                ("id", &id.to_string()),
            ],
        );
        let keyboard = inline(vec![vec![
            button(a.approve, Callback::Approve(id)),
            button(a.reject, Callback::Reject(id)),
        ]]);
        if let Err(err) = env
            .client
            .send(admin, &text, Some(ReplyMarkup::InlineKeyboard(keyboard)))
            .await
        {
            log::warn!("Could not tell admin chat={admin} about chat={id}: {err}.");
        }
    }
    Ok(())
}

/// An admin pressed Approve or Reject on a registration (the router checked the rights).
pub async fn decide(ctx: &Ctx, message: Option<i32>, target: UserId, approve: bool) -> Answer {
    let t = ctx.t();
    let admins = ctx.env.config.telegram.admin_ids.clone();
    let Some(summary) = ctx.db(move |s| s.user_summary(target, &admins)).await? else {
        return Ok(Toast::new(t.stale));
    };
    let name = display_name(&summary.profile, target);
    if summary.user.active {
        if let Some(id) = message {
            let text = fill(t.approved, &[("name", &name)]);
            ctx.env.client.edit(ctx.chat(), id, &text, None).await?;
        }
        return Ok(Toast::new(t.already_handled));
    }
    let told = ui(summary.user.lang);
    if approve {
        ctx.db(move |s| s.set_user_active(target, true)).await?;
        log::info!("Admin chat={} approved chat={target}.", ctx.chat());
        let admin = summary.is_admin();
        let menu = main_menu(summary.user.lang, admin);
        if let Err(err) = ctx
            .env
            .client
            .send(target, told.you_are_approved, Some(menu))
            .await
        {
            log::warn!("Could not tell chat={target} it was approved: {err}.");
        }
    } else {
        log::info!("Admin chat={} rejected chat={target}.", ctx.chat());
        if let Err(err) = ctx
            .env
            .client
            .send(target, told.you_are_rejected, None)
            .await
        {
            log::warn!("Could not tell chat={target} it was rejected: {err}.");
        }
    }
    let text = fill(
        if approve { t.approved } else { t.rejected },
        &[("name", &name)],
    );
    match message {
        Some(id) => ctx.env.client.edit(ctx.chat(), id, &text, None).await?,
        None => {
            ctx.say(&text).await?;
        }
    }
    Ok(Toast::new(t.done))
}
