//! Accounts: add one (name, then period), bulk add, lists with a pager, the account card and
//! its actions, false alarms, bulk delete and the CSV export. Every action names the owner in
//! its store query, so another owner's id changes nothing.

use super::callback::Callback;
use super::checks;
use super::conversation::Conversation;
use super::env::{BotError, Ctx};
use super::input::{BULK_MAX, accounts_csv, parse_days, parse_names, parse_shift};
use super::keyboard::{button, confirm, inline, pager, pages};
use super::router::{Answer, Toast};
use super::texts::{fill, state_name, username_error, verdict_name};
use crate::domain::{AccountId, AccountState, Username, UsernameError};
use crate::store::{Account, AccountCard, AccountFilter, ProbeRow};
use crate::telegram::{
    Unit, count, escape, escape_attr, format_date, format_datetime, reason_name,
};
use chrono::Utc;
use teloxide_core::types::InlineKeyboardMarkup;

/// Accounts per list page.
pub const PER_PAGE: u32 = 15;
/// Period quick buttons, in days.
const QUICK_PERIODS: [u32; 4] = [7, 14, 30, 60];

async fn set_state(ctx: &Ctx, state: Conversation) -> Result<(), BotError> {
    let json = state.to_json()?;
    let chat = ctx.chat();
    ctx.db(move |s| s.set_conversation(chat, &json, Utc::now()))
        .await
}

async fn clear_state(ctx: &Ctx) -> Result<(), BotError> {
    let chat = ctx.chat();
    ctx.db(move |s| s.clear_conversation(chat)).await
}

fn cancel_row(ctx: &Ctx) -> Vec<teloxide_core::types::InlineKeyboardButton> {
    vec![button(ctx.t().cancel, Callback::Cancel)]
}

/// The period quick buttons and Cancel, for single and bulk add alike.
fn period_keyboard(ctx: &Ctx) -> InlineKeyboardMarkup {
    let quick = QUICK_PERIODS
        .iter()
        .map(|d| {
            button(
                count(ctx.lang(), u64::from(*d), Unit::Day),
                Callback::Period(*d),
            )
        })
        .collect();
    inline(vec![quick, cancel_row(ctx)])
}

/// `/add` or `/add name`, and the name typed in the conversation.
pub async fn add(ctx: &Ctx, name: Option<&str>) -> Result<(), BotError> {
    let t = ctx.t();
    let Some(text) = name else {
        set_state(ctx, Conversation::AddName).await?;
        ctx.say_inline(t.ask_username, inline(vec![cancel_row(ctx)]))
            .await?;
        return Ok(());
    };
    let username = match Username::parse(text) {
        Ok(username) => username,
        Err(err) => {
            set_state(ctx, Conversation::AddName).await?;
            let reason = username_error(ctx.lang(), &err);
            ctx.say_inline(
                &fill(
                    t.invalid_username,
                    &[("input", text.trim()), ("reason", reason)],
                ),
                inline(vec![cancel_row(ctx)]),
            )
            .await?;
            return Ok(());
        }
    };
    let (owner, lookup) = (ctx.chat(), username.clone());
    if let Some(existing) = ctx.db(move |s| s.account_by_name(owner, &lookup)).await? {
        clear_state(ctx).await?;
        ctx.say_inline(
            &fill(t.duplicate, &[("name", username.as_str())]),
            inline(vec![vec![button(
                format!("@{}", existing.username.as_str()),
                Callback::Card(existing.id),
            )]]),
        )
        .await?;
        return Ok(());
    }
    set_state(
        ctx,
        Conversation::AddPeriod {
            username: username.clone(),
        },
    )
    .await?;
    let default = ctx.env.config.users.default_days.to_string();
    ctx.say_inline(
        &fill(
            t.ask_period,
            &[("name", username.as_str()), ("default", &default)],
        ),
        period_keyboard(ctx),
    )
    .await?;
    Ok(())
}

/// The period typed as text while adding one account or a bulk list.
pub async fn period_typed(ctx: &Ctx, adding: Adding, text: &str) -> Result<(), BotError> {
    match parse_days(text) {
        Some(days) => adding.finish(ctx, days).await,
        None => {
            ctx.say_inline(ctx.t().bad_period, inline(vec![cancel_row(ctx)]))
                .await?;
            Ok(())
        }
    }
}

/// What is waiting for its period.
pub enum Adding {
    One(Username),
    Bulk(Vec<Username>),
}

impl Adding {
    async fn finish(self, ctx: &Ctx, days: u32) -> Result<(), BotError> {
        match self {
            Adding::One(username) => finish_add(ctx, username, days).await,
            Adding::Bulk(names) => finish_bulk(ctx, names, days).await,
        }
    }
}

/// A period quick button: valid only while this chat is choosing a period.
pub async fn period_chosen(ctx: &Ctx, days: u32) -> Answer {
    let chat = ctx.chat();
    let stored = ctx.db(move |s| s.conversation(chat)).await?;
    let adding = match stored.as_deref().and_then(Conversation::from_json) {
        Some(Conversation::AddPeriod { username }) => Adding::One(username),
        Some(Conversation::BulkPeriod { names }) => Adding::Bulk(names),
        _ => return Ok(Toast::new(ctx.t().stale)),
    };
    if !(1..=3650).contains(&days) {
        return Ok(Toast::new(ctx.t().stale));
    }
    adding.finish(ctx, days).await?;
    Ok(None)
}

async fn finish_add(ctx: &Ctx, username: Username, days: u32) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let name = username.clone();
    let added = ctx
        .db(move |s| {
            let report = s.add_accounts(owner, std::slice::from_ref(&name), days, Utc::now())?;
            s.clear_conversation(owner)?;
            match report.added.first() {
                Some(_) => s.account_by_name(owner, &name),
                None => Ok(None),
            }
        })
        .await?;
    let Some(account) = added else {
        ctx.say_menu(&fill(t.duplicate, &[("name", username.as_str())]))
            .await?;
        return Ok(());
    };
    let offset = ctx.env.config.users.utc_offset;
    let text = fill(
        t.added,
        &[
            ("name", username.as_str()),
            ("days", &count(ctx.lang(), u64::from(days), Unit::Day)),
            ("ends", &format_date(account.ends_at.with_timezone(&offset))),
        ],
    );
    ctx.say_menu(&text).await?;
    log::info!("Chat={owner} added account={}.", account.id);
    checks::start_single(ctx, account.id, account.username).await
}

/// `/bulk`: asks for the list.
pub async fn ask_bulk(ctx: &Ctx) -> Result<(), BotError> {
    set_state(ctx, Conversation::BulkAdd).await?;
    ctx.say_inline(ctx.t().ask_bulk, inline(vec![cancel_row(ctx)]))
        .await?;
    Ok(())
}

/// The report lines of names that will not be added: already watched (or repeated in the
/// input) and invalid, with reasons.
fn skipped_lines(
    ctx: &Ctx,
    duplicates: &[&Username],
    invalid: &[(String, UsernameError)],
) -> Vec<String> {
    let t = ctx.t();
    let n = |v: usize| v.to_string();
    let mut lines = Vec::new();
    if !duplicates.is_empty() {
        lines.push(fill(t.bulk_duplicates, &[("n", &n(duplicates.len()))]));
        for name in duplicates {
            lines.push(format!("  • @{}", escape(name.as_str())));
        }
    }
    if !invalid.is_empty() {
        lines.push(fill(t.bulk_invalid, &[("n", &n(invalid.len()))]));
        for (item, err) in invalid {
            let reason = username_error(ctx.lang(), err);
            lines.push(fill(t.bulk_item, &[("item", item), ("reason", reason)]));
        }
    }
    lines
}

/// The list of a bulk add: duplicates and invalid names are reported with reasons, then the
/// period of the new ones is asked for. Nothing is stored before the period is chosen.
pub async fn bulk_add(ctx: &Ctx, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let list = parse_names(text);
    if list.valid.len() + list.invalid.len() > BULK_MAX {
        ctx.say(&fill(t.too_many, &[("max", &BULK_MAX.to_string())]))
            .await?;
        return Ok(());
    }
    let owner = ctx.chat();
    let names = list.valid.clone();
    let (fresh, known) = ctx
        .db(move |s| {
            let (mut fresh, mut known) = (Vec::new(), Vec::new());
            for name in names {
                match s.account_by_name(owner, &name)? {
                    Some(_) => known.push(name),
                    None => fresh.push(name),
                }
            }
            Ok((fresh, known))
        })
        .await?;
    let duplicates: Vec<&Username> = known.iter().chain(&list.repeated).collect();
    let mut lines = skipped_lines(ctx, &duplicates, &list.invalid);
    if fresh.is_empty() {
        clear_state(ctx).await?;
        lines.insert(0, fill(t.bulk_added, &[("n", "0")]));
        ctx.say_menu(&lines.join("\n")).await?;
        return Ok(());
    }
    let n = fresh.len().to_string();
    set_state(ctx, Conversation::BulkPeriod { names: fresh }).await?;
    let default = ctx.env.config.users.default_days.to_string();
    lines.push(fill(t.bulk_ask_period, &[("n", &n), ("default", &default)]));
    ctx.say_inline(&lines.join("\n"), period_keyboard(ctx))
        .await?;
    Ok(())
}

/// The period of a bulk add was chosen: the names are added and checked in the background.
async fn finish_bulk(ctx: &Ctx, names: Vec<Username>, days: u32) -> Result<(), BotError> {
    let t = ctx.t();
    let owner = ctx.chat();
    let (report, ids) = ctx
        .db(move |s| {
            let report = s.add_accounts(owner, &names, days, Utc::now())?;
            s.clear_conversation(owner)?;
            let mut ids = Vec::new();
            for name in &report.added {
                if let Some(account) = s.account_by_name(owner, name)? {
                    ids.push(account.id);
                }
            }
            Ok((report, ids))
        })
        .await?;
    let added = fill(t.bulk_added, &[("n", &report.added.len().to_string())]);
    let period = fill(
        t.period_now,
        &[("days", &count(ctx.lang(), u64::from(days), Unit::Day))],
    );
    // Added by another message meanwhile: reported, never added twice.
    let late: Vec<&Username> = report.duplicates.iter().collect();
    let mut lines = vec![format!("{added} · {period}")];
    lines.extend(skipped_lines(ctx, &late, &[]));
    ctx.say_menu(&lines.join("\n")).await?;
    log::info!(
        "Chat={owner} bulk-added {} accounts for {days} days.",
        ids.len()
    );
    if !ids.is_empty() {
        checks::start_batch(ctx, ids).await?;
    }
    Ok(())
}

/// A list page of the owner's accounts in `state`.
pub async fn show_list(
    ctx: &Ctx,
    message: Option<i32>,
    state: AccountState,
    page: u32,
) -> Result<(), BotError> {
    let owner = ctx.chat();
    let found = ctx
        .db(move |s| s.accounts_page(owner, state, page, PER_PAGE))
        .await?;
    let total_pages = pages(found.total, PER_PAGE);
    let t = ctx.t();
    let mut text = fill(
        t.list_title,
        &[
            ("state", state_name(ctx.lang(), state)),
            ("n", &found.total.to_string()),
        ],
    );
    if found.items.is_empty() {
        text.push('\n');
        text.push_str(&escape(t.list_empty));
    }
    let mut rows: Vec<Vec<_>> = found
        .items
        .iter()
        .map(|a| {
            vec![button(
                format!("@{} →", a.username.as_str()),
                Callback::Card(a.id),
            )]
        })
        .collect();
    let nav = pager(page.min(total_pages - 1), total_pages, |p| {
        Callback::List(state, p)
    });
    if !nav.is_empty() {
        rows.push(nav);
    }
    if state == AccountState::Pending {
        rows.push(vec![button(
            t.paused_list,
            Callback::List(AccountState::Paused, 0),
        )]);
    }
    ctx.show(message, &text, inline(rows)).await
}

fn days_left(account: &Account) -> u64 {
    let left = account.ends_at - Utc::now();
    u64::try_from(left.num_seconds().max(0))
        .unwrap_or(0)
        .div_ceil(86_400)
}

fn probe_line(ctx: &Ctx, probe: &ProbeRow) -> String {
    let offset = ctx.env.config.users.utc_offset;
    let mut line = format!(
        "{} — {}",
        format_datetime(ctx.lang(), probe.at.with_timezone(&offset)),
        verdict_name(ctx.lang(), &probe.verdict)
    );
    if let Some(reason) = probe.reason {
        line.push_str(&format!(" ({})", reason_name(ctx.lang(), reason)));
    }
    line
}

/// The card text: link, status, dates, days left, last check and the recent probes.
pub fn card_text(ctx: &Ctx, card: &AccountCard) -> String {
    let t = ctx.t();
    let lang = ctx.lang();
    let offset = ctx.env.config.users.utc_offset;
    let a = &card.account;
    let name = a.username.as_str();
    let row = |label: &str, value: &str| format!("{}: {}", escape(label), escape(value));
    let mut lines = vec![format!(
        "<b><a href=\"https://www.instagram.com/{}/\">@{}</a></b>",
        escape_attr(name),
        escape(name)
    )];
    lines.push(row(t.card_status, state_name(lang, a.state)));
    lines.push(row(
        t.card_started,
        &format_datetime(lang, a.started_at.with_timezone(&offset)),
    ));
    lines.push(row(
        t.card_period,
        &count(lang, u64::from(a.period_days), Unit::Day),
    ));
    lines.push(row(
        t.card_ends,
        &format_date(a.ends_at.with_timezone(&offset)),
    ));
    if matches!(a.state, AccountState::Pending | AccountState::Paused) {
        lines.push(row(t.card_left, &count(lang, days_left(a), Unit::Day)));
    }
    if let Some(restored) = a.restored_at {
        lines.push(row(
            t.card_restored,
            &format_datetime(lang, restored.with_timezone(&offset)),
        ));
    }
    match card.history.first() {
        Some(last) => lines.push(row(t.card_last_check, &probe_line(ctx, last))),
        None => lines.push(row(t.card_last_check, t.card_never)),
    }
    if card.history.len() > 1 {
        lines.push(format!("{}:", escape(t.card_history)));
        for probe in &card.history {
            lines.push(format!("  • {}", escape(&probe_line(ctx, probe))));
        }
    }
    lines.join("\n")
}

fn card_keyboard(ctx: &Ctx, account: &Account) -> InlineKeyboardMarkup {
    let t = ctx.t();
    let lang = ctx.lang();
    let id = account.id;
    let day = |n: i32| {
        let label = count(lang, u64::from(n.unsigned_abs()), Unit::Day);
        let sign = if n < 0 { "−" } else { "+" };
        button(format!("{sign}{label}"), Callback::Days(id, n))
    };
    let mut rows = vec![
        vec![day(-1), day(1), day(7), day(30)],
        vec![button(t.days_typed, Callback::DaysTyped(id))],
    ];
    let mut second = Vec::new();
    match account.state {
        AccountState::Pending => {
            second.push(button(t.pause, Callback::Pause(id)));
            second.push(button(t.check_now, Callback::CheckOne(id)));
        }
        AccountState::Paused => second.push(button(t.resume, Callback::Resume(id))),
        AccountState::Restored | AccountState::Expired => {}
    }
    if !second.is_empty() {
        rows.push(second);
    }
    rows.push(vec![
        button(t.delete, Callback::Delete(id)),
        button(t.back, Callback::List(account.state, 0)),
    ]);
    inline(rows)
}

async fn render_card(ctx: &Ctx, message: Option<i32>, id: AccountId) -> Result<bool, BotError> {
    let owner = ctx.chat();
    let Some(card) = ctx.db(move |s| s.account_card(owner, id)).await? else {
        return Ok(false);
    };
    let text = card_text(ctx, &card);
    ctx.show(message, &text, card_keyboard(ctx, &card.account))
        .await?;
    Ok(true)
}

fn gone(ctx: &Ctx, id: AccountId) -> Answer {
    log::info!(
        "Refused account={id} to chat={}: not theirs or gone.",
        ctx.chat()
    );
    Ok(Toast::alert(ctx.t().gone))
}

pub async fn card(ctx: &Ctx, message: Option<i32>, id: AccountId) -> Answer {
    if render_card(ctx, message, id).await? {
        Ok(None)
    } else {
        gone(ctx, id)
    }
}

pub async fn shift_days(ctx: &Ctx, message: Option<i32>, id: AccountId, days: i32) -> Answer {
    if !(-3650..=3650).contains(&days) || days == 0 {
        return Ok(Toast::new(ctx.t().stale));
    }
    let owner = ctx.chat();
    let Some(account) = ctx
        .db(move |s| s.shift_account_days(owner, id, days, Utc::now()))
        .await?
    else {
        return gone(ctx, id);
    };
    let t = ctx.t();
    let period = count(ctx.lang(), u64::from(account.period_days), Unit::Day);
    // Pressed on an expiry notice: confirm below it; on a card: refresh the card.
    match message {
        Some(_) if !render_card(ctx, message, id).await? => return gone(ctx, id),
        Some(_) => {}
        None => {
            let offset = ctx.env.config.users.utc_offset;
            let ends = format_date(account.ends_at.with_timezone(&offset));
            ctx.say(&fill(t.extended, &[("days", &period), ("ends", &ends)]))
                .await?;
        }
    }
    Ok(Toast::new(fill(t.period_now, &[("days", &period)])))
}

/// "±N days" on the card: asks for a signed number of days.
pub async fn ask_shift(ctx: &Ctx, id: AccountId) -> Answer {
    let owner = ctx.chat();
    let Some(account) = ctx.db(move |s| s.owned_account(owner, id)).await? else {
        return gone(ctx, id);
    };
    set_state(ctx, Conversation::ShiftDays { account: id }).await?;
    let period = count(ctx.lang(), u64::from(account.period_days), Unit::Day);
    ctx.say_inline(
        &fill(
            ctx.t().ask_days_typed,
            &[("name", account.username.as_str()), ("days", &period)],
        ),
        inline(vec![cancel_row(ctx)]),
    )
    .await?;
    Ok(None)
}

/// What became of a typed shift.
enum Shift {
    Gone,
    OutOfRange(i64),
    Done(Account),
}

/// The signed number of days typed after "±N days": the period must stay within 1..=3650.
pub async fn shift_typed(ctx: &Ctx, id: AccountId, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let Some(days) = parse_shift(text) else {
        ctx.say_inline(t.bad_days_typed, inline(vec![cancel_row(ctx)]))
            .await?;
        return Ok(());
    };
    let owner = ctx.chat();
    let outcome = ctx
        .db(move |s| {
            let Some(account) = s.owned_account(owner, id)? else {
                s.clear_conversation(owner)?;
                return Ok(Shift::Gone);
            };
            let total = i64::from(account.period_days) + i64::from(days);
            if !(1..=3650).contains(&total) {
                return Ok(Shift::OutOfRange(total));
            }
            let shifted = s.shift_account_days(owner, id, days, Utc::now())?;
            s.clear_conversation(owner)?;
            Ok(shifted.map_or(Shift::Gone, Shift::Done))
        })
        .await?;
    match outcome {
        Shift::Gone => {
            log::info!("Refused account={id} to chat={owner}: not theirs or gone.");
            ctx.say_menu(t.gone).await?;
        }
        Shift::OutOfRange(total) => {
            ctx.say_inline(
                &fill(t.days_out_of_range, &[("total", &total.to_string())]),
                inline(vec![cancel_row(ctx)]),
            )
            .await?;
        }
        Shift::Done(account) => {
            log::info!("Chat={owner} moved account={id} by {days} days.");
            let offset = ctx.env.config.users.utc_offset;
            let text = fill(
                t.days_shifted,
                &[
                    ("name", account.username.as_str()),
                    (
                        "days",
                        &count(ctx.lang(), u64::from(account.period_days), Unit::Day),
                    ),
                    ("ends", &format_date(account.ends_at.with_timezone(&offset))),
                ],
            );
            ctx.say_menu(&text).await?;
            render_card(ctx, None, id).await?;
        }
    }
    Ok(())
}

pub async fn pause(ctx: &Ctx, message: Option<i32>, id: AccountId, on: bool) -> Answer {
    let owner = ctx.chat();
    if ctx
        .db(move |s| s.set_account_paused(owner, id, on))
        .await?
        .is_none()
    {
        return gone(ctx, id);
    }
    render_card(ctx, message, id).await?;
    let t = ctx.t();
    Ok(Toast::new(if on { t.paused } else { t.resumed }))
}

pub async fn ask_delete(ctx: &Ctx, message: Option<i32>, id: AccountId) -> Answer {
    let owner = ctx.chat();
    let Some(account) = ctx.db(move |s| s.owned_account(owner, id)).await? else {
        return gone(ctx, id);
    };
    let text = fill(ctx.t().ask_delete, &[("name", account.username.as_str())]);
    let keyboard = confirm(
        ctx.lang(),
        Callback::DeleteConfirmed(id),
        Callback::Card(id),
    );
    ctx.show(message, &text, keyboard).await?;
    Ok(None)
}

pub async fn delete(ctx: &Ctx, message: Option<i32>, id: AccountId) -> Answer {
    let owner = ctx.chat();
    let Some(name) = ctx.db(move |s| s.remove_owned_account(owner, id)).await? else {
        return gone(ctx, id);
    };
    log::info!("Chat={owner} deleted account={id}.");
    let text = fill(ctx.t().deleted, &[("name", name.as_str())]);
    match message {
        Some(m) => ctx.env.client.edit(owner, m, &text, None).await?,
        None => {
            ctx.say(&text).await?;
        }
    }
    Ok(Toast::new(text_plain(&text)))
}

fn text_plain(html: &str) -> String {
    crate::telegram::strip_tags(html)
}

/// "False alarm" under a restore alert: back to pending, with the evidence kept.
pub async fn false_alarm(ctx: &Ctx, id: AccountId) -> Answer {
    let owner = ctx.chat();
    let before = ctx.db(move |s| s.owned_account(owner, id)).await?;
    let Some(before) = before else {
        return gone(ctx, id);
    };
    if before.state != AccountState::Restored {
        return Ok(Toast::alert(ctx.t().not_restored));
    }
    if ctx
        .db(move |s| s.false_alarm(owner, id, Utc::now()))
        .await?
        .is_none()
    {
        return gone(ctx, id);
    }
    log::warn!("Chat={owner} reported a false alarm for account={id}; it is pending again.");
    let text = fill(
        ctx.t().false_alarm_done,
        &[("name", before.username.as_str())],
    );
    ctx.say(&text).await?;
    Ok(Toast::new(ctx.t().done))
}

pub async fn ask_bulk_delete(ctx: &Ctx) -> Result<(), BotError> {
    set_state(ctx, Conversation::BulkDelete).await?;
    ctx.say_inline(ctx.t().ask_bulk_delete, inline(vec![cancel_row(ctx)]))
        .await?;
    Ok(())
}

pub async fn bulk_delete_list(ctx: &Ctx, text: &str) -> Result<(), BotError> {
    let t = ctx.t();
    let list = parse_names(text);
    if list.valid.is_empty() {
        set_state(ctx, Conversation::BulkDelete).await?;
        ctx.say_inline(t.ask_bulk_delete, inline(vec![cancel_row(ctx)]))
            .await?;
        return Ok(());
    }
    if list.valid.len() > BULK_MAX {
        ctx.say(&fill(t.too_many, &[("max", &BULK_MAX.to_string())]))
            .await?;
        return Ok(());
    }
    let shown: Vec<String> = list
        .valid
        .iter()
        .map(|n| format!("@{}", n.as_str()))
        .collect();
    let names = list.valid.clone();
    set_state(ctx, Conversation::BulkDeleteConfirm { names }).await?;
    let text = fill(
        t.confirm_bulk_delete,
        &[
            (
                "count",
                &count(
                    ctx.lang(),
                    list.valid.len() as u64,
                    crate::telegram::Unit::Account,
                ),
            ),
            ("names", &shown.join(", ")),
        ],
    );
    ctx.say_inline(
        &text,
        confirm(ctx.lang(), Callback::BulkDeleteConfirmed, Callback::Cancel),
    )
    .await?;
    Ok(())
}

pub async fn bulk_delete_confirmed(ctx: &Ctx, message: Option<i32>) -> Answer {
    let t = ctx.t();
    let owner = ctx.chat();
    let stored = ctx.db(move |s| s.conversation(owner)).await?;
    let Some(Conversation::BulkDeleteConfirm { names }) =
        stored.as_deref().and_then(Conversation::from_json)
    else {
        return Ok(Toast::new(t.stale));
    };
    let report = ctx
        .db(move |s| {
            let report = s.remove_accounts_by_name(owner, &names)?;
            s.clear_conversation(owner)?;
            Ok(report)
        })
        .await?;
    log::info!(
        "Chat={owner} bulk-deleted {} accounts.",
        report.removed.len()
    );
    let mut text = fill(t.bulk_deleted, &[("n", &report.removed.len().to_string())]);
    if !report.missing.is_empty() {
        let missing: Vec<String> = report
            .missing
            .iter()
            .map(|n| format!("@{}", n.as_str()))
            .collect();
        text.push('\n');
        text.push_str(&fill(t.bulk_missing, &[("names", &missing.join(", "))]));
    }
    match message {
        Some(m) if text.encode_utf16().count() < 4000 => {
            ctx.env.client.edit(owner, m, &text, None).await?
        }
        _ => {
            ctx.say(&text).await?;
        }
    }
    Ok(Toast::new(t.done))
}

/// `/export`: the owner's accounts as a CSV document.
pub async fn export(ctx: &Ctx) -> Result<(), BotError> {
    let owner = ctx.chat();
    let accounts = ctx
        .db(move |s| {
            s.accounts(&AccountFilter {
                owner: Some(owner),
                state: None,
            })
        })
        .await?;
    if accounts.is_empty() {
        ctx.say(ctx.t().nothing_to_export).await?;
        return Ok(());
    }
    let csv = accounts_csv(&accounts);
    let caption = fill(
        ctx.t().export_caption,
        &[("n", &accounts.len().to_string())],
    );
    let name = format!("igwatch-{}.csv", Utc::now().format("%Y-%m-%d"));
    ctx.env
        .client
        .send_document(owner, &name, csv.into_bytes(), Some(&caption))
        .await?;
    Ok(())
}
