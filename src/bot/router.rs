//! Routing of one update: who sent it (registered? active? admin?), then commands, main-menu
//! buttons, the conversation, or a callback. Every callback is answered exactly once.

use super::callback::Callback;
use super::command::{Command, ParseError, parse};
use super::conversation::Conversation;
use super::env::{BotError, Ctx, Env};
use super::keyboard::MenuButton;
use super::texts::ui;
use super::{accounts, admin, people, proxies, sessions, settings};
use crate::domain::{AccountState, Lang, Role, UserId};
use crate::store::Profile;
use chrono::Utc;
use std::rc::Rc;
use teloxide_core::types::{CallbackQuery, MaybeInaccessibleMessage, Message, Update, UpdateKind};

/// A short notice shown on the presser's screen when a callback is answered.
pub struct Toast {
    pub text: String,
    pub alert: bool,
}

impl Toast {
    pub fn new(text: impl Into<String>) -> Option<Toast> {
        Some(Toast {
            text: text.into(),
            alert: false,
        })
    }

    pub fn alert(text: impl Into<String>) -> Option<Toast> {
        Some(Toast {
            text: text.into(),
            alert: true,
        })
    }
}

/// What a callback handler returns: the toast to answer with (none: just stop the spinner).
pub type Answer = Result<Option<Toast>, BotError>;

/// Handles one update. Errors are logged (and the user told) here; nothing propagates, so one
/// bad update never stops the poller.
pub async fn handle_update(env: Rc<Env>, update: Update) {
    let id = update.id.0;
    let result = match update.kind {
        UpdateKind::Message(message) => on_message(env, message).await,
        UpdateKind::CallbackQuery(query) => on_callback(env, query).await,
        _ => Ok(()),
    };
    if let Err(err) = result {
        log::error!("Could not handle update={id}: {err}.");
    }
}

fn telegram_user_id(id: teloxide_core::types::UserId) -> Option<UserId> {
    i64::try_from(id.0).ok().map(UserId)
}

async fn on_message(env: Rc<Env>, message: Message) -> Result<(), BotError> {
    let Some(from) = message.from.as_ref() else {
        return Ok(());
    };
    let Some(id) = telegram_user_id(from.id) else {
        return Ok(());
    };
    // Private chats only: in a group the chat id is not the user's.
    if message.chat.id.0 != id.0 || from.is_bot {
        return Ok(());
    }
    let text = message.text().unwrap_or_default().to_owned();
    let profile = Profile {
        name: from.full_name(),
        handle: from.username.clone(),
    };
    let lang = Lang::from_language_code(from.language_code.as_deref());
    let command = parse(&text, &env.bot_name);
    let user = env.db(move |s| s.user(id)).await?;
    let user = match user {
        Some(user) if command != Ok(Some(Command::Start)) => user,
        // `/start`, or anything at all from someone we do not know yet, registers them.
        _ => return people::start(env, id, lang, profile).await,
    };
    if !user.active && !env.is_config_admin(id) {
        env.client.send(id, ui(user.lang).inactive, None).await?;
        return Ok(());
    }
    if !user.active {
        return people::start(env, id, lang, profile).await;
    }
    let ctx = Ctx { env, user };
    let result = on_text(&ctx, &message, &text, command).await;
    if let Err(err) = &result {
        log::error!("Could not handle a message of chat={id}: {err}.");
        let _ = ctx.say(ctx.t().failed).await;
    }
    Ok(())
}

async fn on_text(
    ctx: &Ctx,
    message: &Message,
    text: &str,
    command: Result<Option<Command>, ParseError>,
) -> Result<(), BotError> {
    let chat = ctx.chat();
    match command {
        Err(ParseError::OtherBot(_)) => Ok(()),
        Err(_) => {
            ctx.say(ctx.t().unknown_command).await?;
            Ok(())
        }
        Ok(Some(command)) => {
            ctx.db(move |s| s.clear_conversation(chat)).await?;
            run_command(ctx, command).await
        }
        Ok(None) => {
            if let Some(button) = MenuButton::recognise(text) {
                ctx.db(move |s| s.clear_conversation(chat)).await?;
                return run_button(ctx, button).await;
            }
            let stored = ctx.db(move |s| s.conversation(chat)).await?;
            match stored.as_deref().and_then(Conversation::from_json) {
                Some(state) => on_conversation(ctx, message, text, state).await,
                None => {
                    ctx.say_menu(ctx.t().use_menu).await?;
                    Ok(())
                }
            }
        }
    }
}

async fn run_command(ctx: &Ctx, command: Command) -> Result<(), BotError> {
    match command {
        Command::Start => ctx.say_menu(ctx.t().menu_title).await.map(|_| ()),
        Command::Help => ctx.say_menu(ctx.t().help).await.map(|_| ()),
        Command::Cancel => ctx.say_menu(ctx.t().cancelled).await.map(|_| ()),
        Command::Add(name) => accounts::add(ctx, name.as_deref()).await,
        Command::Bulk => accounts::ask_bulk(ctx).await,
        Command::List => accounts::show_list(ctx, None, AccountState::Pending, 0).await,
        Command::Check(name) => super::checks::check_command(ctx, name.as_deref()).await,
        Command::Export => accounts::export(ctx).await,
        Command::Settings => settings::show(ctx, None).await,
        Command::Admin | Command::Users | Command::Stats if !ctx.admin() => {
            ctx.say(ctx.t().admins_only).await.map(|_| ())
        }
        Command::Admin => admin::show(ctx, None).await,
        Command::Users => admin::users(ctx, None, crate::store::UserFilter::All, 0).await,
        Command::Stats => admin::stats(ctx, None).await,
    }
}

async fn run_button(ctx: &Ctx, button: MenuButton) -> Result<(), BotError> {
    match button {
        MenuButton::Add => run_command(ctx, Command::Add(None)).await,
        MenuButton::Bulk => run_command(ctx, Command::Bulk).await,
        MenuButton::Pending => accounts::show_list(ctx, None, AccountState::Pending, 0).await,
        MenuButton::Restored => accounts::show_list(ctx, None, AccountState::Restored, 0).await,
        MenuButton::Expired => accounts::show_list(ctx, None, AccountState::Expired, 0).await,
        MenuButton::CheckAll => run_command(ctx, Command::Check(None)).await,
        MenuButton::BulkDelete => accounts::ask_bulk_delete(ctx).await,
        MenuButton::Export => run_command(ctx, Command::Export).await,
        MenuButton::Settings => run_command(ctx, Command::Settings).await,
        MenuButton::Admin => run_command(ctx, Command::Admin).await,
        MenuButton::Cancel => run_command(ctx, Command::Cancel).await,
    }
}

async fn on_conversation(
    ctx: &Ctx,
    message: &Message,
    text: &str,
    state: Conversation,
) -> Result<(), BotError> {
    match state {
        Conversation::AddName => accounts::add(ctx, Some(text)).await,
        Conversation::AddPeriod { username } => {
            accounts::period_typed(ctx, accounts::Adding::One(username), text).await
        }
        Conversation::BulkAdd => accounts::bulk_add(ctx, text).await,
        Conversation::BulkPeriod { names } => {
            accounts::period_typed(ctx, accounts::Adding::Bulk(names), text).await
        }
        Conversation::BulkDelete => accounts::bulk_delete_list(ctx, text).await,
        Conversation::BulkDeleteConfirm { .. } => {
            // Waiting for a button; a new list replaces the old one.
            accounts::bulk_delete_list(ctx, text).await
        }
        Conversation::AddKey => settings::key_received(ctx, message.id.0, text).await,
        Conversation::AddProxies => proxies::received(ctx, message.id.0, text).await,
        Conversation::AddSession => sessions::received(ctx, message, text).await,
        Conversation::SetInterval => admin::interval_received(ctx, text).await,
        Conversation::SetCanary => admin::canary_received(ctx, text).await,
        Conversation::ShiftDays { account } => accounts::shift_typed(ctx, account, text).await,
    }
}

async fn on_callback(env: Rc<Env>, query: CallbackQuery) -> Result<(), BotError> {
    let Some(id) = telegram_user_id(query.from.id) else {
        return Ok(());
    };
    let lang = Lang::from_language_code(query.from.language_code.as_deref());
    // The screen the button was on, when it is in this user's private chat.
    let message = match &query.message {
        Some(MaybeInaccessibleMessage::Regular(m)) if m.chat.id.0 == id.0 => Some(m.id.0),
        _ => None,
    };
    let data = query.data.clone().unwrap_or_default();
    let for_answer = env.clone();
    let answer = |text: Option<&str>, alert: bool| {
        let env = for_answer.clone();
        let query_id = query.id.0.clone();
        let text = text.map(str::to_owned);
        async move {
            if let Err(err) = env
                .client
                .answer_callback(&query_id, text.as_deref(), alert)
                .await
            {
                log::warn!("Could not answer a callback of chat={id}: {err}.");
            }
        }
    };
    let user = env.db(move |s| s.user(id)).await?;
    // A configured admin may press a button before ever writing to the bot.
    let user = match user {
        Some(user) if user.active || !env.is_config_admin(id) => Some(user),
        _ if env.is_config_admin(id) => {
            let (mode, lang) = (env.config.users.default_mode, user.map_or(lang, |u| u.lang));
            let admin = env
                .db(move |s| s.upsert_user(id, Role::Admin, true, lang, mode, Utc::now()))
                .await?;
            Some(admin)
        }
        other => other,
    };
    let Some(user) = user.filter(|u| u.active) else {
        let lang = user_lang(&env, id, lang).await;
        answer(Some(ui(lang).inactive), true).await;
        return Ok(());
    };
    let Some(callback) = Callback::decode(&data) else {
        log::info!("Refused unknown callback data from chat={id}.");
        answer(Some(ui(user.lang).stale), false).await;
        return Ok(());
    };
    let ctx = Ctx { env, user };
    match route_callback(&ctx, message, callback).await {
        Ok(toast) => {
            answer(
                toast.as_ref().map(|t| t.text.as_str()),
                toast.as_ref().is_some_and(|t| t.alert),
            )
            .await
        }
        Err(err) => {
            log::error!("Could not handle a callback of chat={id}: {err}.");
            answer(Some(ctx.t().failed), false).await;
        }
    }
    Ok(())
}

async fn user_lang(env: &Env, id: UserId, fallback: Lang) -> Lang {
    match env.db(move |s| s.user(id)).await {
        Ok(Some(user)) => user.lang,
        _ => fallback,
    }
}

async fn route_callback(ctx: &Ctx, message: Option<i32>, callback: Callback) -> Answer {
    use Callback as C;
    match callback {
        C::Noop => Ok(None),
        C::Cancel => {
            let chat = ctx.chat();
            ctx.db(move |s| s.clear_conversation(chat)).await?;
            ctx.say_menu(ctx.t().cancelled).await?;
            Ok(None)
        }
        C::Period(days) => accounts::period_chosen(ctx, days).await,
        C::List(state, page) => accounts::show_list(ctx, message, state, page)
            .await
            .map(|()| None),
        C::Card(account) => accounts::card(ctx, message, account).await,
        C::Days(account, days) => accounts::shift_days(ctx, message, account, days).await,
        C::DaysTyped(account) => accounts::ask_shift(ctx, account).await,
        C::Pause(account) => accounts::pause(ctx, message, account, true).await,
        C::Resume(account) => accounts::pause(ctx, message, account, false).await,
        C::CheckOne(account) => super::checks::check_one(ctx, account).await,
        C::Delete(account) => accounts::ask_delete(ctx, message, account).await,
        C::DeleteConfirmed(account) => accounts::delete(ctx, message, account).await,
        C::FalseAlarm(account) => accounts::false_alarm(ctx, account).await,
        C::BulkDeleteConfirmed => accounts::bulk_delete_confirmed(ctx, message).await,
        C::Settings => settings::show(ctx, message).await.map(|()| None),
        C::SetMode(mode) => settings::set_mode(ctx, message, mode).await,
        C::SetLang(lang) => settings::set_lang(ctx, message, lang).await,
        C::Keys => settings::keys(ctx, message).await.map(|()| None),
        C::AddKey => settings::ask_key(ctx).await,
        C::DeleteKey(key) => settings::delete_key(ctx, message, key).await,
        // Proxies and sessions: each handler checks the object belongs to the presser.
        C::Proxies => proxies::list(ctx, message).await.map(|()| None),
        C::AddProxy => proxies::ask_add(ctx).await,
        C::ProxyCard(id) => proxies::card(ctx, message, id).await,
        C::ProxyEnabled(id, on) => proxies::set_enabled(ctx, message, id, on).await,
        C::ProxyPriority(id, n) => proxies::set_priority(ctx, message, id, n).await,
        C::TestProxy(id) => proxies::test(ctx, id).await,
        C::DeleteProxy(id) => proxies::ask_delete(ctx, message, id).await,
        C::DeleteProxyConfirmed(id) => proxies::delete(ctx, message, id).await,
        C::Sessions => sessions::list(ctx, message).await.map(|()| None),
        C::AddSession => sessions::ask_add(ctx).await,
        C::DeleteSession(id) => sessions::ask_delete(ctx, message, id).await,
        C::DeleteSessionConfirmed(id) => sessions::delete(ctx, message, id).await,
        // Everything below is for administrators only, checked here on every press.
        C::Admin
        | C::Approve(_)
        | C::Reject(_)
        | C::Users(..)
        | C::UserCard(_)
        | C::UserAction(..)
        | C::UserActionConfirmed(..)
        | C::Interval
        | C::Canary
        | C::CanaryReset
        | C::DefaultMode(_)
        | C::Confirmations(_)
        | C::Digest(_)
        | C::Stats
        | C::Restart
        | C::RestartConfirmed
            if !ctx.admin() =>
        {
            log::warn!(
                "Refused an admin button pressed by non-admin chat={}.",
                ctx.chat()
            );
            Ok(Toast::alert(ctx.t().admins_only))
        }
        C::Approve(user) => people::decide(ctx, message, user, true).await,
        C::Reject(user) => people::decide(ctx, message, user, false).await,
        C::Admin => admin::show(ctx, message).await.map(|()| None),
        C::Users(filter, page) => admin::users(ctx, message, filter, page)
            .await
            .map(|()| None),
        C::UserCard(user) => admin::user_card(ctx, message, user).await,
        C::UserAction(action, user) => admin::ask_action(ctx, message, action, user).await,
        C::UserActionConfirmed(action, user) => admin::run_action(ctx, message, action, user).await,
        C::Interval => admin::ask_interval(ctx).await,
        C::Canary => admin::ask_canary(ctx).await,
        C::CanaryReset => admin::reset_canary(ctx, message).await,
        C::DefaultMode(mode) => admin::set_default_mode(ctx, message, mode).await,
        C::Confirmations(n) => admin::set_confirmations(ctx, message, n).await,
        C::Digest(on) => admin::set_digest(ctx, message, on).await,
        C::Stats => admin::stats(ctx, message).await.map(|()| None),
        C::Restart => admin::ask_restart(ctx, message).await,
        C::RestartConfirmed => admin::restart(ctx, message).await,
    }
}
