//! Renders a `Notice` into Telegram HTML (every interpolated value escaped) and its plain-text twin.

use super::html::{escape, escape_attr, strip_tags};
use super::i18n::{
    Unit, count, format_cycle_duration, format_date, format_datetime, format_elapsed, reason_name,
    source_name, texts,
};
use crate::bot::callback::Callback;
use crate::domain::{
    AccountId, CycleId, CycleStats, Lang, Notice, Source, UnknownReason, Username,
};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use std::collections::BTreeMap;
use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Longest message text Telegram accepts, in UTF-16 units after entity parsing.
pub const TEXT_LIMIT: usize = 4096;
/// Longest photo caption Telegram accepts, in UTF-16 units after entity parsing.
pub const CAPTION_LIMIT: usize = 1024;

/// A notice ready to send: HTML for `parse_mode=HTML`, and the same text without markup for the
/// "can't parse entities" fallback. `plain` is also what Telegram counts against its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub plain: String,
    /// Buttons under the message ("False alarm", "+7 days", …); the bot re-authorises every
    /// press on the server.
    pub keyboard: Option<InlineKeyboardMarkup>,
}

impl Rendered {
    fn from_html(html: String) -> Self {
        let plain = strip_tags(&html);
        Rendered {
            html,
            plain,
            keyboard: None,
        }
    }
}

fn callback_button(label: String, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label, callback.encode())
}

/// The buttons of a notice: "False alarm" under a restore alert, "+7 / +30 days" and "Remove"
/// under an expiry, "+7 days" per account of a reminder.
fn keyboard(notice: &Notice, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let t = texts(lang);
    let plus = |days: u32| format!("+{}", count(lang, u64::from(days), Unit::Day));
    let rows = match notice {
        Notice::Restored { account, .. } => vec![vec![callback_button(
            t.false_alarm_button.to_owned(),
            Callback::FalseAlarm(*account),
        )]],
        Notice::Expired { account, .. } => vec![
            vec![
                callback_button(plus(7), Callback::Days(*account, 7)),
                callback_button(plus(30), Callback::Days(*account, 30)),
            ],
            vec![callback_button(
                t.remove_button.to_owned(),
                Callback::Delete(*account),
            )],
        ],
        Notice::ExpiringSoon { accounts } => accounts
            .iter()
            .take(REMINDER_BUTTONS)
            .map(|(id, name, _)| {
                vec![callback_button(
                    format!("@{} {}", name.as_str(), plus(7)),
                    Callback::Days(*id, 7),
                )]
            })
            .collect(),
        Notice::NoSession { .. }
        | Notice::QuotaExhausted
        | Notice::Digest { .. }
        | Notice::SessionRefused { .. }
        | Notice::ProxyDisabled { .. }
        | Notice::CanaryFailed { .. } => return None,
    };
    Some(InlineKeyboardMarkup::new(rows))
}

/// Most accounts of a reminder that get a button (the text lists all of them).
const REMINDER_BUTTONS: usize = 20;

/// Whether the text fits in a photo caption (≤ 1024 characters after entity parsing).
pub fn caption_fits(rendered: &Rendered) -> bool {
    rendered.plain.encode_utf16().count() <= CAPTION_LIMIT
}

/// Renders `notice` in `lang`, showing times in `offset`.
pub fn render(notice: &Notice, lang: Lang, offset: FixedOffset) -> Rendered {
    let html = match notice {
        Notice::Restored {
            username,
            started_at,
            period_days,
            restored_at,
            ends_at,
            private,
            sources,
            ..
        } => {
            let period = Period {
                name: username.as_str(),
                started_at: *started_at,
                days: *period_days,
            };
            let end = Restore {
                restored_at: *restored_at,
                ends_at: *ends_at,
                private: *private,
                sources,
            };
            restored(lang, offset, &period, &end)
        }
        Notice::Expired {
            username,
            started_at,
            period_days,
            ..
        } => {
            let period = Period {
                name: username.as_str(),
                started_at: *started_at,
                days: *period_days,
            };
            expired(lang, offset, &period)
        }
        Notice::NoSession { accounts } => no_session(lang, *accounts),
        Notice::QuotaExhausted => quota_exhausted(lang),
        Notice::SessionRefused { session } => advice(
            lang,
            |t| {
                (
                    t.session_refused_title,
                    t.session_refused_why,
                    t.session_refused_advice,
                )
            },
            Some(format!("#{session}")),
        ),
        Notice::ProxyDisabled { address, .. } => advice(
            lang,
            |t| {
                (
                    t.proxy_disabled_title,
                    t.proxy_disabled_why,
                    t.proxy_disabled_advice,
                )
            },
            Some(address.clone()),
        ),
        Notice::CanaryFailed {
            canary,
            egress,
            verdict,
        } => advice(
            lang,
            |t| (t.canary_title, t.canary_why, t.canary_advice),
            Some(format!("@{canary} · {egress} · {verdict}")),
        ),
        Notice::Digest { cycle, stats } => digest(lang, *cycle, stats),
        Notice::ExpiringSoon { accounts } => expiring_soon(lang, offset, accounts),
    };
    let mut rendered = Rendered::from_html(html);
    rendered.keyboard = keyboard(notice, lang);
    rendered
}

/// What the restored and expired notices share.
struct Period<'a> {
    name: &'a str,
    started_at: DateTime<Utc>,
    days: u32,
}

/// What only the restored notice has.
struct Restore<'a> {
    restored_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    private: bool,
    sources: &'a [Source],
}

/// `label: value`, with the label escaped and `value_html` already HTML.
fn line(label: &str, value_html: &str) -> String {
    format!("{}: {value_html}", escape(label))
}

fn title(text: &str) -> String {
    format!("<b>{}</b>", escape(text))
}

fn profile_link(name: &str) -> String {
    format!(
        "<a href=\"https://www.instagram.com/{}/\">{}</a>",
        escape_attr(name),
        escape(name)
    )
}

/// Username, start and promised period: the head of the operators' familiar format.
fn period_lines(lang: Lang, offset: FixedOffset, period: &Period<'_>) -> Vec<String> {
    let t = texts(lang);
    vec![
        line(t.username, &profile_link(period.name)),
        line(
            t.started,
            &escape(&format_datetime(
                lang,
                period.started_at.with_timezone(&offset),
            )),
        ),
        line(
            t.promised,
            &escape(&count(lang, u64::from(period.days), Unit::Day)),
        ),
    ]
}

fn restored(lang: Lang, offset: FixedOffset, period: &Period<'_>, end: &Restore<'_>) -> String {
    let t = texts(lang);
    let mut lines = period_lines(lang, offset, period);
    let took = format_elapsed(lang, end.restored_at - period.started_at);
    lines.push(line(t.restored_in, &escape(&took)));
    lines.push(line(
        t.ends,
        &escape(&format_date(end.ends_at.with_timezone(&offset))),
    ));
    lines.push(line(t.status, &escape(t.status_restored)));
    if end.private {
        lines.push(escape(t.private_profile));
    }
    let mut names: Vec<&str> = Vec::new();
    for name in end.sources.iter().filter_map(|s| source_name(lang, *s)) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if !names.is_empty() {
        lines.push(line(t.checked_by, &escape(&names.join(" + "))));
    }
    lines.join("\n")
}

fn expired(lang: Lang, offset: FixedOffset, period: &Period<'_>) -> String {
    let t = texts(lang);
    let mut lines = vec![title(t.expired_title)];
    lines.extend(period_lines(lang, offset, period));
    // An absurd period (validated elsewhere) must not panic here; it only loses the end date.
    let ends = TimeDelta::try_days(i64::from(period.days))
        .and_then(|days| period.started_at.checked_add_signed(days));
    if let Some(ends) = ends {
        lines.push(line(
            t.ends,
            &escape(&format_date(ends.with_timezone(&offset))),
        ));
    }
    lines.push(line(t.status, &escape(t.expired_status)));
    lines.push(escape(t.expired_advice));
    lines.join("\n")
}

fn expiring_soon(
    lang: Lang,
    offset: FixedOffset,
    accounts: &[(AccountId, Username, DateTime<Utc>)],
) -> String {
    let t = texts(lang);
    let mut lines = vec![title(t.expiring_title)];
    for (_, name, ends_at) in accounts {
        lines.push(format!(
            "• {} — {}",
            profile_link(name.as_str()),
            escape(&format_date(ends_at.with_timezone(&offset)))
        ));
    }
    lines.push(escape(t.expiring_advice));
    lines.join("\n")
}

fn no_session(lang: Lang, accounts: u32) -> String {
    let t = texts(lang);
    [
        title(t.no_session_title),
        line(
            t.no_session_accounts,
            &escape(&count(lang, u64::from(accounts), Unit::Account)),
        ),
        escape(t.no_session_why),
        escape(t.no_session_advice),
    ]
    .join("\n")
}

/// A notice that is a title, what it concerns (escaped), why, and what to do.
fn advice(
    lang: Lang,
    pick: impl Fn(&super::i18n::Texts) -> (&'static str, &'static str, &'static str),
    subject: Option<String>,
) -> String {
    let (head, why, what) = pick(texts(lang));
    let mut lines = vec![title(head)];
    if let Some(subject) = subject {
        lines.push(format!("<code>{}</code>", escape(&subject)));
    }
    lines.push(escape(why));
    lines.push(escape(what));
    lines.join("\n")
}

fn quota_exhausted(lang: Lang) -> String {
    let t = texts(lang);
    [
        title(t.quota_title),
        escape(t.quota_why),
        escape(t.quota_advice),
    ]
    .join("\n")
}

fn digest(lang: Lang, cycle: CycleId, stats: &CycleStats) -> String {
    let t = texts(lang);
    let mut lines = vec![title(&format!("{} #{cycle}", t.digest_title))];
    for (label, n) in [
        (t.digest_checked, stats.checked),
        (t.digest_restored, stats.restored),
        (t.digest_exists, stats.exists),
        (t.digest_not_found, stats.not_found),
    ] {
        lines.push(line(label, &n.to_string()));
    }
    push_breakdown(&mut lines, lang, t.digest_unknown, &stats.unknown);
    push_breakdown(&mut lines, lang, t.digest_skipped, &stats.skipped);
    lines.push(line(
        t.digest_duration,
        &escape(&format_cycle_duration(lang, stats.duration_ms)),
    ));
    lines.join("\n")
}

/// A total line followed by one bullet per non-zero reason.
fn push_breakdown(
    lines: &mut Vec<String>,
    lang: Lang,
    label: &str,
    by_reason: &BTreeMap<UnknownReason, u32>,
) {
    let total: u64 = by_reason.values().map(|&n| u64::from(n)).sum();
    lines.push(line(label, &total.to_string()));
    for (reason, n) in by_reason.iter().filter(|(_, n)| **n > 0) {
        lines.push(format!("  • {}: {n}", escape(reason_name(lang, *reason))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, Username};
    use crate::telegram::html::check_balanced;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn msk() -> FixedOffset {
        FixedOffset::east_opt(3 * 3600).unwrap()
    }

    fn restored_notice(private: bool, sources: Vec<Source>) -> Notice {
        Notice::Restored {
            account: AccountId(7),
            username: Username::parse("john.doe_1").unwrap(),
            started_at: utc("2026-12-03T07:15:00Z"),
            period_days: 30,
            restored_at: utc("2026-12-05T11:45:00Z"),
            ends_at: utc("2027-01-02T07:15:00Z"),
            private,
            sources,
        }
    }

    fn check(notice: &Notice, lang: Lang, expected_html: &str) {
        let got = render(notice, lang, msk());
        assert_eq!(got.html, expected_html);
        assert_eq!(check_balanced(&got.html), Ok(()));
        assert!(got.plain.encode_utf16().count() <= TEXT_LIMIT);
        assert!(!got.plain.contains(['<', '>']), "{}", got.plain);
    }

    #[test]
    fn restored_in_russian_follows_the_legacy_format() {
        check(
            &restored_notice(false, vec![Source::Rapidapi]),
            Lang::Ru,
            "Имя пользователя: <a href=\"https://www.instagram.com/john.doe_1/\">john.doe_1</a>\n\
             Начало работ: 03.12.2026 в 10:15\n\
             Заявлено: 30 дней\n\
             Завершено за: 2 дня 4 часа\n\
             Конец работ: 02.01.2027\n\
             Статус: Аккаунт разблокирован ✅\n\
             Проверено: API",
        );
    }

    #[test]
    fn restored_in_english_with_private_note_and_sources() {
        let notice = restored_notice(
            true,
            vec![
                Source::Rapidapi,
                Source::Browser,
                Source::Rapidapi,
                Source::None,
            ],
        );
        check(
            &notice,
            Lang::En,
            "Username: <a href=\"https://www.instagram.com/john.doe_1/\">john.doe_1</a>\n\
             Started: 03.12.2026 at 10:15\n\
             Promised: 30 days\n\
             Restored in: 2 days 4 hours\n\
             Ends: 02.01.2027\n\
             Status: account restored ✅\n\
             🔒 The profile is private\n\
             Checked by: API + browser",
        );
        let plain = render(&notice, Lang::En, msk()).plain;
        assert!(plain.starts_with("Username: john.doe_1\nStarted: 03.12.2026 at 10:15\n"));
        assert!(caption_fits(&render(&notice, Lang::En, msk())));
    }

    #[test]
    fn restored_without_a_deciding_source_omits_the_line() {
        let got = render(&restored_notice(false, vec![Source::None]), Lang::Ru, msk());
        assert!(!got.html.contains("Проверено"));
        assert!(got.html.ends_with("Статус: Аккаунт разблокирован ✅"));
    }

    #[test]
    fn hostile_values_are_escaped_in_text_and_attribute() {
        let period = Period {
            name: "a<b>&\"c",
            started_at: utc("2026-12-03T07:15:00Z"),
            days: 21,
        };
        let end = Restore {
            restored_at: utc("2026-12-03T07:50:00Z"),
            ends_at: utc("2026-12-24T07:15:00Z"),
            private: false,
            sources: &[Source::InstagramWeb],
        };
        for lang in [Lang::Ru, Lang::En] {
            for html in [
                restored(lang, msk(), &period, &end),
                expired(lang, msk(), &period),
            ] {
                assert_eq!(check_balanced(&html), Ok(()), "{html}");
                assert!(html.contains(
                    "<a href=\"https://www.instagram.com/a&lt;b&gt;&amp;&quot;c/\">a&lt;b&gt;&amp;\"c</a>"
                ));
                assert!(strip_tags(&html).contains("a<b>&\"c"));
            }
        }
        let ru = restored(Lang::Ru, msk(), &period, &end);
        assert!(ru.contains("Заявлено: 21 день\nЗавершено за: 35 минут\n"));
    }

    #[test]
    fn expired_in_both_languages() {
        let notice = Notice::Expired {
            account: AccountId(7),
            username: Username::parse("natgeo").unwrap(),
            started_at: utc("2026-12-03T22:30:00Z"),
            period_days: 22,
        };
        check(
            &notice,
            Lang::Ru,
            "<b>⚠️ Срок мониторинга истёк</b>\n\
             Имя пользователя: <a href=\"https://www.instagram.com/natgeo/\">natgeo</a>\n\
             Начало работ: 04.12.2026 в 01:30\n\
             Заявлено: 22 дня\n\
             Конец работ: 26.12.2026\n\
             Статус: Аккаунт не разблокирован за заявленный срок\n\
             Продлите срок или удалите аккаунт из списка.",
        );
        check(
            &notice,
            Lang::En,
            "<b>⚠️ The monitoring period has ended</b>\n\
             Username: <a href=\"https://www.instagram.com/natgeo/\">natgeo</a>\n\
             Started: 04.12.2026 at 01:30\n\
             Promised: 22 days\n\
             Ends: 26.12.2026\n\
             Status: the account was not restored within the promised period\n\
             Extend the period or remove the account from the list.",
        );
    }

    #[test]
    fn no_session_says_what_to_do() {
        let notice = Notice::NoSession { accounts: 3 };
        check(
            &notice,
            Lang::Ru,
            "<b>🔑 Нет сессии Instagram</b>\n\
             Не проверяются: 3 аккаунта\n\
             Режим проверки требует сессию Instagram, а она не добавлена или перестала работать.\n\
             Что сделать: добавьте сессию Instagram в Настройках или переключите режим на api.",
        );
        check(
            &notice,
            Lang::En,
            "<b>🔑 No Instagram session</b>\n\
             Not checked: 3 accounts\n\
             Your check mode needs an Instagram session, and there is none or it stopped working.\n\
             What to do: add an Instagram session in Settings, or switch mode to api.",
        );
        let one = render(&Notice::NoSession { accounts: 21 }, Lang::Ru, msk());
        assert!(one.plain.contains("Не проверяются: 21 аккаунт\n"));
    }

    #[test]
    fn quota_exhausted_in_both_languages() {
        check(
            &Notice::QuotaExhausted,
            Lang::Ru,
            "<b>📉 Лимит API исчерпан</b>\n\
             Все ключи RapidAPI исчерпаны или не добавлены, поэтому проверки через API приостановлены.\n\
             Что сделать: добавьте ключ RapidAPI в Настройках или переключите режим на browser.",
        );
        check(
            &Notice::QuotaExhausted,
            Lang::En,
            "<b>📉 API quota exhausted</b>\n\
             Every RapidAPI key is exhausted or none was added, so API checks are paused.\n\
             What to do: add a RapidAPI key in Settings, or switch mode to browser.",
        );
    }

    fn stats() -> CycleStats {
        CycleStats {
            checked: 40,
            restored: 2,
            exists: 1,
            not_found: 35,
            unknown: BTreeMap::from([
                (UnknownReason::RateLimited, 1),
                (UnknownReason::LoginWall, 1),
                (UnknownReason::Timeout, 0),
            ]),
            skipped: BTreeMap::from([(UnknownReason::NoSession, 5)]),
            duration_ms: 192_400,
        }
    }

    #[test]
    fn digest_in_both_languages() {
        let notice = Notice::Digest {
            cycle: CycleId(12),
            stats: stats(),
        };
        check(
            &notice,
            Lang::Ru,
            "<b>📊 Итоги цикла проверки #12</b>\n\
             Проверено: 40\n\
             Разблокировано: 2\n\
             Существуют: 1\n\
             Не найдено: 35\n\
             Не определено: 2\n  \
             • лимит запросов Instagram: 1\n  \
             • Instagram требует вход: 1\n\
             Пропущено: 5\n  \
             • нет сессии Instagram: 5\n\
             Длительность: 3 минуты 12 секунд",
        );
        check(
            &notice,
            Lang::En,
            "<b>📊 Check cycle summary #12</b>\n\
             Checked: 40\n\
             Restored: 2\n\
             Exist: 1\n\
             Not found: 35\n\
             Unknown: 2\n  \
             • Instagram rate limit: 1\n  \
             • Instagram asked to log in: 1\n\
             Skipped: 5\n  \
             • no Instagram session: 5\n\
             Duration: 3 minutes 12 seconds",
        );
    }

    #[test]
    fn empty_digest_has_only_totals() {
        let notice = Notice::Digest {
            cycle: CycleId(1),
            stats: CycleStats::default(),
        };
        let got = render(&notice, Lang::En, msk());
        assert_eq!(
            got.plain,
            "📊 Check cycle summary #1\nChecked: 0\nRestored: 0\nExist: 0\nNot found: 0\n\
             Unknown: 0\nSkipped: 0\nDuration: 0 seconds"
        );
    }

    #[test]
    fn the_largest_notices_fit_telegram_limits() {
        let every_reason: BTreeMap<_, _> = UnknownReason::ALL
            .into_iter()
            .map(|r| (r, u32::MAX))
            .collect();
        let big = Notice::Digest {
            cycle: CycleId(i64::MAX),
            stats: CycleStats {
                checked: u32::MAX,
                restored: u32::MAX,
                exists: u32::MAX,
                not_found: u32::MAX,
                unknown: every_reason.clone(),
                skipped: every_reason,
                duration_ms: u64::MAX,
            },
        };
        let long_name = Notice::Restored {
            account: AccountId(1),
            username: Username::parse(&"a".repeat(30)).unwrap(),
            started_at: utc("2026-01-01T00:00:00Z"),
            period_days: u32::MAX,
            restored_at: utc("2126-01-01T00:00:00Z"),
            ends_at: utc("2226-01-01T00:00:00Z"),
            private: true,
            sources: vec![Source::InstagramWeb, Source::Rapidapi, Source::Browser],
        };
        let expired = Notice::Expired {
            account: AccountId(1),
            username: Username::parse(&"a".repeat(30)).unwrap(),
            started_at: utc("2026-01-01T00:00:00Z"),
            period_days: u32::MAX,
        };
        for lang in [Lang::Ru, Lang::En] {
            for notice in [
                &big,
                &long_name,
                &expired,
                &Notice::NoSession { accounts: u32::MAX },
            ] {
                let got = render(notice, lang, msk());
                assert_eq!(check_balanced(&got.html), Ok(()));
                assert!(got.plain.encode_utf16().count() <= TEXT_LIMIT);
                assert!(got.html.encode_utf16().count() <= TEXT_LIMIT);
            }
            // The restored alert is the caption of the profile screenshot.
            assert!(caption_fits(&render(&long_name, lang, msk())));
        }
    }

    #[test]
    fn caption_limit_counts_utf16_units_of_the_plain_text() {
        let fits = Rendered {
            html: format!("<b>{}</b>", "я".repeat(1024)),
            plain: "я".repeat(1024),
            keyboard: None,
        };
        assert!(caption_fits(&fits));
        let emoji = Rendered {
            html: String::new(),
            plain: "✅".repeat(600) + "🔒".repeat(300).as_str(),
            keyboard: None,
        };
        assert!(!caption_fits(&emoji));
    }

    #[test]
    fn notices_carry_their_buttons() {
        let data = |n: &Notice| -> Vec<String> {
            render(n, Lang::En, msk())
                .keyboard
                .map(|k| {
                    k.inline_keyboard
                        .into_iter()
                        .flatten()
                        .filter_map(|b| match b.kind {
                            teloxide_core::types::InlineKeyboardButtonKind::CallbackData(d) => {
                                Some(d)
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            data(&restored_notice(false, vec![Source::Rapidapi])),
            ["fa:7"]
        );
        let expired = Notice::Expired {
            account: AccountId(7),
            username: Username::parse("gone").unwrap(),
            started_at: utc("2026-12-03T07:15:00Z"),
            period_days: 30,
        };
        assert_eq!(data(&expired), ["d:7:7", "d:7:30", "x:7"]);
        assert!(data(&Notice::QuotaExhausted).is_empty());
        let soon = Notice::ExpiringSoon {
            accounts: vec![(
                AccountId(9),
                Username::parse("soon").unwrap(),
                utc("2026-12-05T07:15:00Z"),
            )],
        };
        assert_eq!(data(&soon), ["d:9:7"]);
        let got = render(&soon, Lang::Ru, msk());
        assert_eq!(check_balanced(&got.html), Ok(()));
        assert!(got.plain.contains("soon — 05.12.2026"), "{}", got.plain);
    }
}
