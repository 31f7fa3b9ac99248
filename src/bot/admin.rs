//! Admin screens: users (filters, pages, approve/revoke/promote/demote/delete with
//! confirmation), interval, canary, default mode, confirmation policy, digest, statistics,
//! restart.
//! The router has already checked that the presser is an admin.

use super::callback::{Callback, UserAction};
use super::conversation::Conversation;
use super::env::{BotError, Ctx};
use super::keyboard::{button, confirm, inline, main_menu, pager, pages};
use super::people::display_name;
use super::router::{Answer, Toast};
use super::texts::{fill, mode_name, ui, username_error};
use crate::actors::messages::{GetDispatcherStatus, GetSchedule, SetInterval};
use crate::actors::{CANARY_SETTING, CONFIRMATIONS_SETTING, DIGEST_SETTING, INTERVAL_BOUNDS};
use crate::config::parse_duration;
use crate::domain::{AccountState, Mode, Role, UserId, Username};
use crate::store::{UserFilter, UserSummary};
use crate::telegram::{escape, format_datetime};
use chrono::{DateTime, Utc};
use teloxide_core::types::{BotCommandScope, ChatId, Recipient};

/// Settings key of the mode given to new users (`api`, `browser`, `api+browser`).
pub const DEFAULT_MODE_SETTING: &str = "users.default_mode";
/// Users per admin list page.
pub const USERS_PER_PAGE: u32 = 10;

fn when(ctx: &Ctx, at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "—".to_owned(),
        |at| {
            format_datetime(
                ctx.lang(),
                at.with_timezone(&ctx.env.config.users.utc_offset),
            )
        },
    )
}

/// The effective admin settings: stored values over the config.
struct Policy {
    default_mode: Mode,
    confirmations: u32,
    digest: bool,
    /// The canary set at run time; `None`: the config's.
    canary: Option<Username>,
}

async fn policy(ctx: &Ctx) -> Result<Policy, BotError> {
    let c = &ctx.env.config;
    let (mode, confirmations, digest) = (
        c.users.default_mode,
        c.scheduler.confirmations,
        c.scheduler.digest,
    );
    ctx.db(move |s| {
        Ok(Policy {
            default_mode: s
                .setting(DEFAULT_MODE_SETTING)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(mode),
            confirmations: s
                .setting(CONFIRMATIONS_SETTING)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(confirmations),
            digest: s.setting(DIGEST_SETTING)?.map_or(digest, |v| v == "on"),
            // As the dispatcher reads it: a value that does not parse is no canary.
            canary: s
                .setting(CANARY_SETTING)?
                .and_then(|v| Username::parse(&v).ok()),
        })
    })
    .await
}

pub async fn show(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    let t = ctx.t();
    let schedule = ctx.env.peers.schedule.send(GetSchedule).await?;
    let p = policy(ctx).await?;
    let row = |label: &str, value: &str| format!("{}: <b>{}</b>", escape(label), escape(value));
    let text = [
        t.admin_title.to_owned(),
        row(
            t.admin_interval,
            &humantime::format_duration(schedule.interval).to_string(),
        ),
        row(t.admin_next, &when(ctx, schedule.next_run_at)),
        row(t.admin_default_mode, mode_name(p.default_mode)),
        row(t.admin_confirmations, &p.confirmations.to_string()),
        row(t.admin_digest, if p.digest { t.on } else { t.off }),
        row(t.admin_canary, &canary_label(ctx, p.canary.as_ref())),
    ]
    .join("\n");
    let mark = |on: bool, label: String| {
        if on {
            format!("• {label} •")
        } else {
            label
        }
    };
    let modes = Mode::ALL
        .iter()
        .map(|m| {
            button(
                mark(*m == p.default_mode, mode_name(*m).to_owned()),
                Callback::DefaultMode(*m),
            )
        })
        .collect();
    let confirmations = (1..=3)
        .map(|n| {
            button(
                mark(n == p.confirmations, format!("✔️ {n}")),
                Callback::Confirmations(n),
            )
        })
        .collect();
    let digest = format!(
        "{}: {}",
        t.admin_digest,
        if p.digest { t.on } else { t.off }
    );
    let keyboard = inline(vec![
        vec![
            button(t.users_button, Callback::Users(UserFilter::All, 0)),
            button(t.interval_button, Callback::Interval),
        ],
        vec![button(t.canary_button, Callback::Canary)],
        modes,
        confirmations,
        vec![button(digest, Callback::Digest(!p.digest))],
        vec![
            button(t.stats_button, Callback::Stats),
            button(t.restart_button, Callback::Restart),
        ],
    ]);
    ctx.show(message, &text, keyboard).await
}

fn filter_name(ctx: &Ctx, filter: UserFilter) -> &'static str {
    let t = ctx.t();
    match filter {
        UserFilter::All => t.filter_all,
        UserFilter::Active => t.filter_active,
        UserFilter::Pending => t.filter_pending,
        UserFilter::Admins => t.filter_admins,
    }
}

pub async fn users(
    ctx: &Ctx,
    message: Option<i32>,
    filter: UserFilter,
    page: u32,
) -> Result<(), BotError> {
    let admins = ctx.env.config.telegram.admin_ids.clone();
    let found = ctx
        .db(move |s| s.users_page(filter, &admins, page, USERS_PER_PAGE))
        .await?;
    let text = fill(
        ctx.t().users_title,
        &[
            ("filter", filter_name(ctx, filter)),
            ("n", &found.total.to_string()),
        ],
    );
    let mut rows: Vec<Vec<_>> = found
        .items
        .iter()
        .map(|u| {
            let status = if u.user.active { "✅" } else { "⛔" };
            let role = if u.is_admin() { "👑" } else { "👤" };
            let name = display_name(&u.profile, u.user.id);
            vec![button(
                format!("{status} {role} {name}"),
                Callback::UserCard(u.user.id),
            )]
        })
        .collect();
    let total_pages = pages(found.total, USERS_PER_PAGE);
    let nav = pager(page.min(total_pages - 1), total_pages, |p| {
        Callback::Users(filter, p)
    });
    if !nav.is_empty() {
        rows.push(nav);
    }
    rows.push(
        [
            UserFilter::All,
            UserFilter::Active,
            UserFilter::Pending,
            UserFilter::Admins,
        ]
        .into_iter()
        .map(|f| {
            let label = filter_name(ctx, f);
            let label = if f == filter {
                format!("• {label} •")
            } else {
                label.to_owned()
            };
            button(label, Callback::Users(f, 0))
        })
        .collect(),
    );
    rows.push(vec![button(ctx.t().back, Callback::Admin)]);
    ctx.show(message, &text, inline(rows)).await
}

async fn summary(ctx: &Ctx, target: UserId) -> Result<Option<UserSummary>, BotError> {
    let admins = ctx.env.config.telegram.admin_ids.clone();
    ctx.db(move |s| s.user_summary(target, &admins)).await
}

fn action_label(ctx: &Ctx, action: UserAction) -> &'static str {
    let t = ctx.t();
    match action {
        UserAction::Approve => t.action_approve,
        UserAction::Revoke => t.action_revoke,
        UserAction::Promote => t.action_promote,
        UserAction::Demote => t.action_demote,
        UserAction::Delete => t.action_delete,
    }
}

async fn render_user(ctx: &Ctx, message: Option<i32>, u: &UserSummary) -> Result<(), BotError> {
    let t = ctx.t();
    let handle = u
        .profile
        .handle
        .as_ref()
        .map(|h| format!("@{h}"))
        .unwrap_or_default();
    let name = if u.profile.name.is_empty() {
        u.user.id.to_string()
    } else {
        u.profile.name.clone()
    };
    let text = fill(
        t.user_card,
        &[
            ("name", &name),
            ("handle", &handle),
            ("id", &u.user.id.to_string()),
            (
                "status",
                if u.user.active {
                    t.user_active
                } else {
                    t.user_inactive
                },
            ),
            (
                "role",
                if u.is_admin() {
                    t.role_admin
                } else {
                    t.role_user
                },
            ),
            ("mode", mode_name(u.user.mode)),
            ("lang", u.user.lang.as_str()),
            ("accounts", &u.accounts.to_string()),
        ],
    );
    let id = u.user.id;
    let access = if u.user.active {
        UserAction::Revoke
    } else {
        UserAction::Approve
    };
    let mut rows = vec![vec![button(
        action_label(ctx, access),
        Callback::UserAction(access, id),
    )]];
    if !u.config_admin {
        let role = if u.user.role == Role::Admin {
            UserAction::Demote
        } else {
            UserAction::Promote
        };
        rows.push(vec![button(
            action_label(ctx, role),
            Callback::UserAction(role, id),
        )]);
        rows.push(vec![button(
            action_label(ctx, UserAction::Delete),
            Callback::UserAction(UserAction::Delete, id),
        )]);
    }
    rows.push(vec![button(t.back, Callback::Users(UserFilter::All, 0))]);
    ctx.show(message, &text, inline(rows)).await
}

pub async fn user_card(ctx: &Ctx, message: Option<i32>, target: UserId) -> Answer {
    match summary(ctx, target).await? {
        Some(u) => {
            render_user(ctx, message, &u).await?;
            Ok(None)
        }
        None => Ok(Toast::alert(ctx.t().stale)),
    }
}

pub async fn ask_action(
    ctx: &Ctx,
    message: Option<i32>,
    action: UserAction,
    target: UserId,
) -> Answer {
    let Some(u) = summary(ctx, target).await? else {
        return Ok(Toast::alert(ctx.t().stale));
    };
    let text = fill(
        ctx.t().confirm_action,
        &[
            ("action", action_label(ctx, action)),
            ("name", &display_name(&u.profile, target)),
        ],
    );
    let keyboard = confirm(
        ctx.lang(),
        Callback::UserActionConfirmed(action, target),
        Callback::UserCard(target),
    );
    ctx.show(message, &text, keyboard).await?;
    Ok(None)
}

pub async fn run_action(
    ctx: &Ctx,
    message: Option<i32>,
    action: UserAction,
    target: UserId,
) -> Answer {
    let t = ctx.t();
    let Some(u) = summary(ctx, target).await? else {
        return Ok(Toast::alert(t.stale));
    };
    let protected = u.config_admin || target == ctx.chat();
    if protected
        && matches!(
            action,
            UserAction::Revoke | UserAction::Demote | UserAction::Delete
        )
    {
        return Ok(Toast::alert(t.config_admin));
    }
    log::info!(
        "Admin chat={} runs {action:?} on chat={target}.",
        ctx.chat()
    );
    match action {
        UserAction::Approve => {
            ctx.db(move |s| s.set_user_active(target, true)).await?;
            if !u.user.active {
                let menu = main_menu(u.user.lang, u.is_admin());
                let told = ui(u.user.lang).you_are_approved;
                if let Err(err) = ctx.env.client.send(target, told, Some(menu)).await {
                    log::warn!("Could not tell chat={target} it was approved: {err}.");
                }
            }
        }
        UserAction::Revoke => {
            ctx.db(move |s| s.set_user_active(target, false)).await?;
        }
        UserAction::Promote => {
            ctx.db(move |s| s.set_user_role(target, Role::Admin))
                .await?;
            let commands = super::command::bot_commands(u.user.lang, true);
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(ChatId(target.0)),
            };
            if let Err(err) = ctx.env.client.set_commands(commands, scope, None).await {
                log::warn!("Could not set the admin commands of chat={target}: {err}.");
            }
        }
        UserAction::Demote => {
            ctx.db(move |s| s.set_user_role(target, Role::User)).await?;
        }
        UserAction::Delete => {
            ctx.db(move |s| s.delete_user(target)).await?;
            users(ctx, message, UserFilter::All, 0).await?;
            return Ok(Toast::new(t.done));
        }
    }
    if let Some(u) = summary(ctx, target).await? {
        render_user(ctx, message, &u).await?;
    }
    Ok(Toast::new(t.done))
}

pub async fn ask_interval(ctx: &Ctx) -> Answer {
    let schedule = ctx.env.peers.schedule.send(GetSchedule).await?;
    let json = Conversation::SetInterval.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await?;
    let current = humantime::format_duration(schedule.interval).to_string();
    ctx.say_inline(
        &fill(ctx.t().ask_interval, &[("current", &current)]),
        inline(vec![vec![button(ctx.t().cancel, Callback::Cancel)]]),
    )
    .await?;
    Ok(None)
}

pub async fn interval_received(ctx: &Ctx, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let cancel = || inline(vec![vec![button(t.cancel, Callback::Cancel)]]);
    if !ctx.admin() {
        ctx.db({
            let chat = ctx.chat();
            move |s| s.clear_conversation(chat)
        })
        .await?;
        ctx.say(t.admins_only).await?;
        return Ok(());
    }
    let interval = match parse_duration(text) {
        Ok(d) if d >= INTERVAL_BOUNDS.0 && d <= INTERVAL_BOUNDS.1 => d,
        _ => {
            ctx.say_inline(t.bad_interval, cancel()).await?;
            return Ok(());
        }
    };
    match ctx
        .env
        .peers
        .set_interval
        .send(SetInterval(interval))
        .await?
    {
        Ok(info) => {
            let chat = ctx.chat();
            ctx.db(move |s| s.clear_conversation(chat)).await?;
            log::info!(
                "Admin chat={chat} set the interval to {}.",
                humantime::format_duration(info.interval)
            );
            let text = fill(
                t.interval_set,
                &[
                    (
                        "interval",
                        &humantime::format_duration(info.interval).to_string(),
                    ),
                    ("next", &when(ctx, info.next_run_at)),
                ],
            );
            ctx.say_menu(&text).await?;
        }
        Err(reason) => {
            log::warn!("The scheduler refused an interval: {reason}.");
            ctx.say_inline(t.bad_interval, cancel()).await?;
        }
    }
    Ok(())
}

/// `@name`, marked when it is the config's.
fn canary_label(ctx: &Ctx, stored: Option<&Username>) -> String {
    match stored {
        Some(name) => format!("@{}", name.as_str()),
        None => format!(
            "@{} ({})",
            ctx.env.config.scheduler.canary.as_str(),
            ctx.t().canary_from_config
        ),
    }
}

pub async fn ask_canary(ctx: &Ctx) -> Answer {
    let t = ctx.t();
    let stored = policy(ctx).await?.canary;
    let default = ctx.env.config.scheduler.canary.as_str();
    let current = stored.as_ref().map_or(default, Username::as_str);
    let json = Conversation::SetCanary.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await?;
    let mut rows = Vec::new();
    if stored.is_some() {
        rows.push(vec![button(
            format!("{} (@{default})", t.canary_reset),
            Callback::CanaryReset,
        )]);
    }
    rows.push(vec![button(t.cancel, Callback::Cancel)]);
    ctx.say_inline(
        &fill(t.ask_canary, &[("current", current), ("default", default)]),
        inline(rows),
    )
    .await?;
    Ok(None)
}

/// The canary typed by an admin: a valid username is stored (the dispatcher reads it at the
/// start of the next cycle); anything else is explained and nothing is stored.
pub async fn canary_received(ctx: &Ctx, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let chat = ctx.chat();
    if !ctx.admin() {
        ctx.db(move |s| s.clear_conversation(chat)).await?;
        ctx.say(t.admins_only).await?;
        return Ok(());
    }
    let name = match Username::parse(text) {
        Ok(name) => name,
        Err(err) => {
            let input: String = text.trim().chars().take(64).collect();
            ctx.say_inline(
                &fill(
                    t.bad_canary,
                    &[
                        ("input", &input),
                        ("reason", username_error(ctx.lang(), &err)),
                    ],
                ),
                inline(vec![vec![button(t.cancel, Callback::Cancel)]]),
            )
            .await?;
            return Ok(());
        }
    };
    let value = name.as_str().to_owned();
    ctx.db(move |s| {
        s.set_setting(CANARY_SETTING, &value)?;
        s.clear_conversation(chat)
    })
    .await?;
    log::info!("Admin chat={chat} set the canary to {}.", name.as_str());
    ctx.say_menu(&fill(t.canary_set, &[("name", name.as_str())]))
        .await?;
    Ok(())
}

/// Forgets the canary set at run time: the config's applies from the next cycle.
pub async fn reset_canary(ctx: &Ctx, message: Option<i32>) -> Answer {
    let chat = ctx.chat();
    ctx.db(move |s| {
        s.delete_setting(CANARY_SETTING)?;
        // Pressed under the question: that conversation is over.
        let asking = s
            .conversation(chat)?
            .as_deref()
            .and_then(Conversation::from_json)
            == Some(Conversation::SetCanary);
        if asking {
            s.clear_conversation(chat)?;
        }
        Ok(())
    })
    .await?;
    log::info!("Admin chat={chat} reset the canary to the config's.");
    show(ctx, message).await?;
    let done = fill(
        ctx.t().canary_reset_done,
        &[("name", ctx.env.config.scheduler.canary.as_str())],
    );
    Ok(Toast::new(crate::telegram::strip_tags(&done)))
}

async fn save_setting(ctx: &Ctx, key: &'static str, value: String) -> Result<(), BotError> {
    log::info!("Admin chat={} set {key} = {value}.", ctx.chat());
    ctx.db(move |s| s.set_setting(key, &value)).await
}

pub async fn set_default_mode(ctx: &Ctx, message: Option<i32>, mode: Mode) -> Answer {
    save_setting(ctx, DEFAULT_MODE_SETTING, mode.as_str().to_owned()).await?;
    show(ctx, message).await?;
    Ok(Toast::new(ctx.t().done))
}

pub async fn set_confirmations(ctx: &Ctx, message: Option<i32>, n: u32) -> Answer {
    if !(1..=10).contains(&n) {
        return Ok(Toast::new(ctx.t().stale));
    }
    save_setting(ctx, CONFIRMATIONS_SETTING, n.to_string()).await?;
    show(ctx, message).await?;
    Ok(Toast::new(ctx.t().done))
}

pub async fn set_digest(ctx: &Ctx, message: Option<i32>, on: bool) -> Answer {
    let value = if on { "on" } else { "off" };
    save_setting(ctx, DIGEST_SETTING, value.to_owned()).await?;
    show(ctx, message).await?;
    Ok(Toast::new(ctx.t().done))
}

pub async fn stats(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    let admins = ctx.env.config.telegram.admin_ids.clone();
    let stats = ctx.db(move |s| s.bot_stats(&admins, Utc::now())).await?;
    let status = ctx
        .env
        .peers
        .dispatcher_status
        .send(GetDispatcherStatus)
        .await?;
    let schedule = ctx.env.peers.schedule.send(GetSchedule).await?;
    let state = |s: AccountState| {
        stats
            .accounts_by_state
            .get(&s)
            .copied()
            .unwrap_or(0)
            .to_string()
    };
    let probes = |v: &str| stats.probes_today.get(v).copied().unwrap_or(0).to_string();
    let text = fill(
        ctx.t().stats,
        &[
            ("users", &stats.users.to_string()),
            ("active", &stats.active_users.to_string()),
            ("admins", &stats.admins.to_string()),
            ("pending", &state(AccountState::Pending)),
            ("restored", &state(AccountState::Restored)),
            ("expired", &state(AccountState::Expired)),
            ("paused", &state(AccountState::Paused)),
            ("exists", &probes("exists")),
            ("not_found", &probes("not_found")),
            ("unknown", &probes("unknown")),
            ("outbox", &stats.outbox.to_string()),
            ("keys", &stats.rapidapi_keys.to_string()),
            ("restarts", &status.checker_restarts.to_string()),
            ("next", &when(ctx, schedule.next_run_at)),
        ],
    );
    let keyboard = inline(vec![vec![button(ctx.t().back, Callback::Admin)]]);
    ctx.show(message, &text, keyboard).await
}

pub async fn ask_restart(ctx: &Ctx, message: Option<i32>) -> Answer {
    let keyboard = confirm(ctx.lang(), Callback::RestartConfirmed, Callback::Admin);
    ctx.show(message, ctx.t().ask_restart, keyboard).await?;
    Ok(None)
}

pub async fn restart(ctx: &Ctx, message: Option<i32>) -> Answer {
    let t = ctx.t();
    match message {
        Some(m) => {
            ctx.env
                .client
                .edit(ctx.chat(), m, t.restarting, None)
                .await?
        }
        None => {
            ctx.say(t.restarting).await?;
        }
    }
    log::warn!("Admin chat={} asked for a restart.", ctx.chat());
    ctx.env.peers.restart.notify_one();
    Ok(Toast::new(t.restarting))
}
