//! Settings → proxies: the owner's list (never a password), add one or many in a conversation
//! (the message with passwords is deleted), a card with test against the canary (in the
//! background), enable/disable, priority 1–10 and delete with confirmation. Every press is
//! re-authorised: the store calls are scoped to the presser.

use super::callback::Callback;
use super::conversation::Conversation;
use super::env::{BotError, Ctx, Env};
use super::keyboard::{button, confirm, inline};
use super::router::{Answer, Toast};
use super::texts::{Ui, fill, ui};
use crate::check::{ProxyFailure, guard_proxy, trial_proxy};
use crate::domain::{Lang, ProxyId, ProxySpec, UserId, parse_bulk};
use crate::store::{ProxyInfo, StoreError};
use crate::telegram::{format_datetime, reason_name};
use chrono::Utc;
use std::rc::Rc;

/// The status of a proxy in the owner's words, as plain text (escaped where it is filled in).
fn status(ctx: &Ctx, proxy: &ProxyInfo) -> String {
    let t = ctx.t();
    match (proxy.enabled, proxy.cooldown_until) {
        (true, _) => t.proxy_on.to_owned(),
        (false, Some(at)) => {
            let at = at.with_timezone(&ctx.env.config.users.utc_offset);
            t.proxy_resting
                .replace("{at}", &format_datetime(ctx.lang(), at))
        }
        (false, None) => t.proxy_off.to_owned(),
    }
}

/// One of the presser's proxies, or `None` when it is not theirs (or gone).
async fn owned(ctx: &Ctx, id: ProxyId) -> Result<Option<ProxyInfo>, BotError> {
    let owner = ctx.chat();
    ctx.db(move |s| Ok(s.proxies(owner)?.into_iter().find(|p| p.id == id)))
        .await
}

fn refuse(ctx: &Ctx, id: ProxyId) -> Answer {
    log::info!(
        "Refused proxy={id} to chat={}: not theirs or gone.",
        ctx.chat()
    );
    Ok(Toast::alert(ctx.t().stale))
}

/// The list: one line and one card button per proxy.
pub async fn list(ctx: &Ctx, message: Option<i32>) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let proxies = ctx.db(move |s| s.proxies(owner)).await?;
    let enabled = proxies.iter().filter(|p| p.enabled).count();
    let mut lines = vec![fill(
        t.proxies_title,
        &[
            ("n", &proxies.len().to_string()),
            ("enabled", &enabled.to_string()),
        ],
    )];
    if proxies.is_empty() {
        lines.push(crate::telegram::escape(t.proxies_empty));
    }
    let mut rows = Vec::new();
    for proxy in &proxies {
        lines.push(fill(
            t.proxy_line,
            &[
                ("id", &proxy.id.to_string()),
                ("proxy", &proxy.spec_safe),
                ("status", &status(ctx, proxy)),
                ("priority", &proxy.priority.to_string()),
                ("fails", &proxy.fail_streak.to_string()),
            ],
        ));
        let mark = if proxy.enabled { "✅" } else { "⏸" };
        rows.push(vec![button(
            format!("{mark} #{} {}", proxy.id, proxy.spec_safe),
            Callback::ProxyCard(proxy.id),
        )]);
    }
    rows.push(vec![
        button(t.add_proxies, Callback::AddProxy),
        button(t.back, Callback::Settings),
    ]);
    ctx.show(message, &lines.join("\n"), inline(rows)).await
}

async fn render_card(ctx: &Ctx, message: Option<i32>, proxy: &ProxyInfo) -> Result<(), BotError> {
    let t = ctx.t();
    let text = fill(
        t.proxy_card,
        &[
            ("id", &proxy.id.to_string()),
            ("proxy", &proxy.spec_safe),
            ("status", &status(ctx, proxy)),
            ("priority", &proxy.priority.to_string()),
            ("fails", &proxy.fail_streak.to_string()),
        ],
    );
    let toggle = if proxy.enabled {
        button(t.proxy_disable, Callback::ProxyEnabled(proxy.id, false))
    } else {
        button(t.proxy_enable, Callback::ProxyEnabled(proxy.id, true))
    };
    let priority = |n: u8| {
        let label = if n == proxy.priority {
            format!("• {n} •")
        } else {
            n.to_string()
        };
        button(label, Callback::ProxyPriority(proxy.id, n))
    };
    let keyboard = inline(vec![
        vec![button(t.proxy_test, Callback::TestProxy(proxy.id)), toggle],
        (1..=5).map(priority).collect(),
        (6..=10).map(priority).collect(),
        vec![
            button(t.delete, Callback::DeleteProxy(proxy.id)),
            button(t.back, Callback::Proxies),
        ],
    ]);
    ctx.show(message, &text, keyboard).await
}

pub async fn card(ctx: &Ctx, message: Option<i32>, id: ProxyId) -> Answer {
    match owned(ctx, id).await? {
        Some(proxy) => {
            render_card(ctx, message, &proxy).await?;
            Ok(None)
        }
        None => refuse(ctx, id),
    }
}

pub async fn set_enabled(ctx: &Ctx, message: Option<i32>, id: ProxyId, on: bool) -> Answer {
    let owner = ctx.chat();
    if !ctx.db(move |s| s.set_proxy_enabled(owner, id, on)).await? {
        return refuse(ctx, id);
    }
    log::info!("Chat={owner} set proxy={id} enabled={on}.");
    if let Some(proxy) = owned(ctx, id).await? {
        render_card(ctx, message, &proxy).await?;
    }
    let t = ctx.t();
    Ok(Toast::new(if on {
        t.proxy_enabled
    } else {
        t.proxy_disabled
    }))
}

pub async fn set_priority(ctx: &Ctx, message: Option<i32>, id: ProxyId, priority: u8) -> Answer {
    let owner = ctx.chat();
    if !ctx
        .db(move |s| s.set_proxy_priority(owner, id, priority))
        .await?
    {
        return refuse(ctx, id);
    }
    log::info!("Chat={owner} set proxy={id} priority={priority}.");
    if let Some(proxy) = owned(ctx, id).await? {
        render_card(ctx, message, &proxy).await?;
    }
    Ok(Toast::new(fill(
        ctx.t().proxy_priority_set,
        &[("priority", &priority.to_string())],
    )))
}

pub async fn ask_delete(ctx: &Ctx, message: Option<i32>, id: ProxyId) -> Answer {
    let Some(proxy) = owned(ctx, id).await? else {
        return refuse(ctx, id);
    };
    let text = fill(
        ctx.t().ask_delete_proxy,
        &[("id", &id.to_string()), ("proxy", &proxy.spec_safe)],
    );
    let keyboard = confirm(
        ctx.lang(),
        Callback::DeleteProxyConfirmed(id),
        Callback::ProxyCard(id),
    );
    ctx.show(message, &text, keyboard).await?;
    Ok(None)
}

pub async fn delete(ctx: &Ctx, message: Option<i32>, id: ProxyId) -> Answer {
    let owner = ctx.chat();
    if !ctx.db(move |s| s.remove_proxy(owner, id)).await? {
        return refuse(ctx, id);
    }
    log::info!("Chat={owner} deleted proxy={id}.");
    list(ctx, message).await?;
    Ok(Toast::new(ctx.t().proxy_deleted))
}

pub async fn ask_add(ctx: &Ctx) -> Answer {
    let json = Conversation::AddProxies.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await?;
    ctx.say_inline(
        ctx.t().ask_proxies,
        inline(vec![vec![button(ctx.t().cancel, Callback::Cancel)]]),
    )
    .await?;
    Ok(None)
}

/// The proxies typed in the conversation: parsed in every format, each host checked by the SSRF
/// guard, the valid ones stored; the message is deleted when it may hold a password.
pub async fn received(ctx: &Ctx, message: i32, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let report = parse_bulk(text);
    let may_hold_secrets =
        !report.errors.is_empty() || report.parsed.iter().any(|s| s.auth.is_some());
    if may_hold_secrets {
        if let Err(err) = ctx.env.client.delete_message(owner, message).await {
            log::warn!("Could not delete the message with proxies in chat={owner}: {err}.");
        }
    }
    if report.parsed.is_empty() && report.errors.is_empty() {
        ctx.say_inline(
            t.proxies_nothing,
            inline(vec![vec![button(t.cancel, Callback::Cancel)]]),
        )
        .await?;
        return Ok(());
    }
    let mut errors: Vec<String> = report
        .errors
        .iter()
        .map(|e| {
            fill(
                t.proxy_error_item,
                &[
                    ("line", &e.line.to_string()),
                    ("item", &e.text),
                    ("reason", &e.error.to_string()),
                ],
            )
        })
        .collect();
    let mut specs: Vec<ProxySpec> = Vec::new();
    for spec in report.parsed {
        match guard_proxy(&ctx.env.config, &spec).await {
            Ok(()) => specs.push(spec),
            Err(err) => {
                let reason = t.proxy_host_refused.replace("{detail}", &err.to_string());
                errors.push(fill(
                    t.proxy_refused_item,
                    &[("item", &spec.display_safe()), ("reason", &reason)],
                ));
            }
        }
    }
    let added = if specs.is_empty() {
        Ok(Default::default())
    } else {
        ctx.db(move |s| s.add_proxies(owner, &specs, Utc::now()))
            .await
    };
    let added = match added {
        Ok(added) => added,
        Err(BotError::Store(StoreError::NoCipher)) => {
            ctx.db(move |s| s.clear_conversation(owner)).await?;
            ctx.say(t.no_cipher).await?;
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    ctx.db(move |s| s.clear_conversation(owner)).await?;
    log::info!(
        "Chat={owner} added {} proxies ({} refused).",
        added.added.len(),
        errors.len()
    );
    let mut lines = vec![fill(
        t.proxies_added,
        &[("n", &added.added.len().to_string())],
    )];
    let duplicates = added.duplicates + report.duplicates;
    if duplicates > 0 {
        lines.push(fill(
            t.proxies_duplicates,
            &[("n", &duplicates.to_string())],
        ));
    }
    if !errors.is_empty() {
        lines.push(fill(t.proxies_invalid, &[("n", &errors.len().to_string())]));
        lines.extend(errors);
    }
    ctx.say_inline(
        &lines.join("\n"),
        inline(vec![vec![button(t.proxies_button, Callback::Proxies)]]),
    )
    .await?;
    Ok(())
}

/// Starts a test of the presser's proxy; the result comes as a message when it is done.
pub async fn test(ctx: &Ctx, id: ProxyId) -> Answer {
    let owner = ctx.chat();
    let Some(spec) = ctx.db(move |s| s.proxy_spec(owner, id)).await? else {
        return refuse(ctx, id);
    };
    let env = ctx.env.clone();
    let lang = ctx.lang();
    let text = fill(
        ctx.t().proxy_testing,
        &[
            ("id", &id.to_string()),
            ("canary", ctx.env.config.scheduler.canary.as_str()),
        ],
    );
    actix::spawn(async move {
        if let Err(err) = test_and_report(&env, owner, lang, id, spec).await {
            log::error!("Could not test proxy={id} of chat={owner}: {err}.");
            let _ = env.client.send(owner, ui(lang).failed, None).await;
        }
    });
    Ok(Toast::new(text))
}

fn failure_reason(t: &Ui, lang: Lang, failure: &ProxyFailure) -> String {
    match failure {
        ProxyFailure::Host(detail) => t.proxy_host_refused.replace("{detail}", detail),
        ProxyFailure::Verdict(reason) => reason_name(lang, *reason).to_owned(),
        ProxyFailure::CanaryNotFound => t.proxy_canary_not_found.to_owned(),
    }
}

async fn test_and_report(
    env: &Rc<Env>,
    owner: UserId,
    lang: Lang,
    id: ProxyId,
    spec: ProxySpec,
) -> Result<(), BotError> {
    let t = ui(lang);
    let trial = trial_proxy(&env.config, &spec).await;
    let ok = trial.proxy_ok;
    env.db(move |s| s.record_proxy_result(id, ok, Utc::now()))
        .await?;
    log::info!(
        "Proxy={id} of chat={owner} tested: {}.",
        if trial.failure.is_none() {
            "ok"
        } else {
            "failed"
        }
    );
    let canary = env.config.scheduler.canary.as_str();
    let safe = spec.display_safe();
    let text = match &trial.failure {
        None => fill(
            t.proxy_test_ok,
            &[
                ("id", &id.to_string()),
                ("proxy", &safe),
                ("canary", canary),
            ],
        ),
        Some(failure) => fill(
            t.proxy_test_failed,
            &[
                ("id", &id.to_string()),
                ("proxy", &safe),
                ("reason", &failure_reason(t, lang, failure)),
            ],
        ),
    };
    env.client.send(owner, &text, None).await?;
    Ok(())
}
