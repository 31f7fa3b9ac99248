//! The ru/en catalogue of notice texts, plural rules, and date and duration formatting.
//!
//! Every user-facing word of a notice lives here; a struct per language makes a missing
//! translation a compile error.

use crate::domain::{Lang, Source, UnknownReason};
use chrono::{DateTime, Duration, FixedOffset};

/// The texts of one language. Values are plain text; the renderer escapes them.
#[derive(Debug)]
pub struct Texts {
    pub username: &'static str,
    pub started: &'static str,
    /// Joins date and time: "03.12.2026 в 10:15".
    pub at: &'static str,
    pub promised: &'static str,
    pub restored_in: &'static str,
    pub ends: &'static str,
    pub status: &'static str,
    pub status_restored: &'static str,
    pub private_profile: &'static str,
    pub checked_by: &'static str,
    pub expired_title: &'static str,
    pub expired_status: &'static str,
    pub expired_advice: &'static str,
    pub no_session_title: &'static str,
    pub no_session_accounts: &'static str,
    pub no_session_why: &'static str,
    pub no_session_advice: &'static str,
    pub quota_title: &'static str,
    pub quota_why: &'static str,
    pub quota_advice: &'static str,
    pub session_refused_title: &'static str,
    pub session_refused_why: &'static str,
    pub session_refused_advice: &'static str,
    pub proxy_disabled_title: &'static str,
    pub proxy_disabled_why: &'static str,
    pub proxy_disabled_advice: &'static str,
    pub canary_title: &'static str,
    pub canary_why: &'static str,
    pub canary_advice: &'static str,
    pub digest_title: &'static str,
    pub digest_checked: &'static str,
    pub digest_restored: &'static str,
    pub digest_exists: &'static str,
    pub digest_not_found: &'static str,
    pub digest_unknown: &'static str,
    pub digest_skipped: &'static str,
    pub digest_duration: &'static str,
    pub false_alarm_button: &'static str,
    pub remove_button: &'static str,
    pub expiring_title: &'static str,
    pub expiring_advice: &'static str,
}

const RU: Texts = Texts {
    username: "Имя пользователя",
    started: "Начало работ",
    at: "в",
    promised: "Заявлено",
    restored_in: "Завершено за",
    ends: "Конец работ",
    status: "Статус",
    status_restored: "Аккаунт разблокирован ✅",
    private_profile: "🔒 Профиль закрытый",
    checked_by: "Проверено",
    expired_title: "⚠️ Срок мониторинга истёк",
    expired_status: "Аккаунт не разблокирован за заявленный срок",
    expired_advice: "Продлите срок или удалите аккаунт из списка.",
    no_session_title: "🔑 Нет сессии Instagram",
    no_session_accounts: "Не проверяются",
    no_session_why: "Режим проверки требует сессию Instagram, а она не добавлена или перестала работать.",
    no_session_advice: "Что сделать: добавьте сессию Instagram в Настройках или переключите режим на api.",
    quota_title: "📉 Лимит API исчерпан",
    quota_why: "Все ключи RapidAPI исчерпаны или не добавлены, поэтому проверки через API приостановлены.",
    quota_advice: "Что сделать: добавьте ключ RapidAPI в Настройках или переключите режим на browser.",
    session_refused_title: "🔐 Instagram отклонил сессию",
    session_refused_why: "Сессия больше не работает (страница входа или проверка безопасности); она отключена. Другие ваши сессии используются дальше.",
    session_refused_advice: "Что сделать: войдите в Instagram в браузере и загрузите новые cookies в Настройках → Сессии.",
    proxy_disabled_title: "🔌 Прокси отключён",
    proxy_disabled_why: "Прокси несколько раз подряд не смог провести проверку; он отключён и будет проверен позже.",
    proxy_disabled_advice: "Что сделать: проверьте адрес, логин и пароль прокси в Настройках → Прокси.",
    canary_title: "🐤 Контрольная проверка не прошла",
    canary_why: "Известный живой аккаунт не подтвердился как существующий; ответы «не найден» через этот выход не учитываются, пока это не исправится.",
    canary_advice: "Что сделать: проверьте выход (IP или прокси) — вероятно, Instagram его ограничил.",
    digest_title: "📊 Итоги цикла проверки",
    digest_checked: "Проверено",
    digest_restored: "Разблокировано",
    digest_exists: "Существуют",
    digest_not_found: "Не найдено",
    digest_unknown: "Не определено",
    digest_skipped: "Пропущено",
    digest_duration: "Длительность",
    false_alarm_button: "🚫 Ложное срабатывание",
    remove_button: "🗑 Удалить",
    expiring_title: "⏰ Скоро заканчивается срок",
    expiring_advice: "Продлите срок кнопкой или в карточке аккаунта.",
};

const EN: Texts = Texts {
    username: "Username",
    started: "Started",
    at: "at",
    promised: "Promised",
    restored_in: "Restored in",
    ends: "Ends",
    status: "Status",
    status_restored: "account restored ✅",
    private_profile: "🔒 The profile is private",
    checked_by: "Checked by",
    expired_title: "⚠️ The monitoring period has ended",
    expired_status: "the account was not restored within the promised period",
    expired_advice: "Extend the period or remove the account from the list.",
    no_session_title: "🔑 No Instagram session",
    no_session_accounts: "Not checked",
    no_session_why: "Your check mode needs an Instagram session, and there is none or it stopped working.",
    no_session_advice: "What to do: add an Instagram session in Settings, or switch mode to api.",
    quota_title: "📉 API quota exhausted",
    quota_why: "Every RapidAPI key is exhausted or none was added, so API checks are paused.",
    quota_advice: "What to do: add a RapidAPI key in Settings, or switch mode to browser.",
    session_refused_title: "🔐 Instagram refused a session",
    session_refused_why: "The session no longer works (login page or security check); it is switched off. Your other sessions are used meanwhile.",
    session_refused_advice: "What to do: log in to Instagram in a browser and upload fresh cookies in Settings → Sessions.",
    proxy_disabled_title: "🔌 Proxy disabled",
    proxy_disabled_why: "The proxy failed several checks in a row; it is switched off and will be re-tested later.",
    proxy_disabled_advice: "What to do: check the proxy's address, login and password in Settings → Proxies.",
    canary_title: "🐤 Canary check failed",
    canary_why: "A known-live account was not confirmed as existing; \"not found\" answers through this egress are not trusted until it is.",
    canary_advice: "What to do: check the egress (IP or proxy); Instagram has probably limited it.",
    digest_title: "📊 Check cycle summary",
    digest_checked: "Checked",
    digest_restored: "Restored",
    digest_exists: "Exist",
    digest_not_found: "Not found",
    digest_unknown: "Unknown",
    digest_skipped: "Skipped",
    digest_duration: "Duration",
    false_alarm_button: "🚫 False alarm",
    remove_button: "🗑 Remove",
    expiring_title: "⏰ Periods ending soon",
    expiring_advice: "Extend with a button or on the account card.",
};

/// The catalogue of `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// A countable noun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Hour,
    Minute,
    Second,
    Account,
}

impl Unit {
    /// Russian forms for 1, 2 and 5; English singular and plural.
    fn forms(self, lang: Lang) -> [&'static str; 3] {
        match (lang, self) {
            (Lang::Ru, Unit::Day) => ["день", "дня", "дней"],
            (Lang::Ru, Unit::Hour) => ["час", "часа", "часов"],
            (Lang::Ru, Unit::Minute) => ["минута", "минуты", "минут"],
            (Lang::Ru, Unit::Second) => ["секунда", "секунды", "секунд"],
            (Lang::Ru, Unit::Account) => ["аккаунт", "аккаунта", "аккаунтов"],
            (Lang::En, Unit::Day) => ["day", "days", "days"],
            (Lang::En, Unit::Hour) => ["hour", "hours", "hours"],
            (Lang::En, Unit::Minute) => ["minute", "minutes", "minutes"],
            (Lang::En, Unit::Second) => ["second", "seconds", "seconds"],
            (Lang::En, Unit::Account) => ["account", "accounts", "accounts"],
        }
    }
}

/// Which of the three forms `n` takes in `lang`.
fn plural_index(lang: Lang, n: u64) -> usize {
    match lang {
        Lang::En => usize::from(n != 1),
        Lang::Ru => match (n % 10, n % 100) {
            (1, r) if r != 11 => 0,
            (2..=4, r) if !(12..=14).contains(&r) => 1,
            _ => 2,
        },
    }
}

/// `n` with its noun in the right form: "21 день", "5 дней", "1 day".
pub fn count(lang: Lang, n: u64, unit: Unit) -> String {
    format!("{n} {}", unit.forms(lang)[plural_index(lang, n)])
}

fn join(parts: &[(u64, Unit)], lang: Lang) -> String {
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|&(n, unit)| count(lang, n, unit))
        .collect();
    shown.join(" ")
}

/// How long something took, at a useful precision: "2 дня 4 часа", "5 hours 12 minutes",
/// "35 minutes". Zero or negative is "0 minutes".
pub fn format_elapsed(lang: Lang, elapsed: Duration) -> String {
    let minutes = u64::try_from(elapsed.num_minutes()).unwrap_or(0);
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    if days > 0 {
        join(&[(days, Unit::Day), (hours, Unit::Hour)], lang)
    } else if hours > 0 {
        join(&[(hours, Unit::Hour), (mins, Unit::Minute)], lang)
    } else {
        count(lang, mins, Unit::Minute)
    }
}

/// Wall time of a cycle: "45 секунд", "3 minutes 12 seconds", "1 hour 5 minutes".
pub fn format_cycle_duration(lang: Lang, millis: u64) -> String {
    let secs = millis / 1000;
    let (hours, mins, secs) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if hours > 0 {
        join(&[(hours, Unit::Hour), (mins, Unit::Minute)], lang)
    } else if mins > 0 {
        join(&[(mins, Unit::Minute), (secs, Unit::Second)], lang)
    } else {
        count(lang, secs, Unit::Second)
    }
}

/// "03.12.2026".
pub fn format_date(at: DateTime<FixedOffset>) -> String {
    at.format("%d.%m.%Y").to_string()
}

/// "03.12.2026 в 10:15" / "03.12.2026 at 10:15".
pub fn format_datetime(lang: Lang, at: DateTime<FixedOffset>) -> String {
    format!(
        "{} {} {}",
        format_date(at),
        texts(lang).at,
        at.format("%H:%M")
    )
}

/// The localized name of a reason a probe could not decide.
pub fn reason_name(lang: Lang, reason: UnknownReason) -> &'static str {
    use UnknownReason as R;
    match (lang, reason) {
        (Lang::Ru, R::RateLimited) => "лимит запросов Instagram",
        (Lang::Ru, R::LoginWall) => "Instagram требует вход",
        (Lang::Ru, R::SessionFlagged) => "сессия помечена Instagram",
        (Lang::Ru, R::Quota) => "лимит API исчерпан",
        (Lang::Ru, R::KeyRejected) => "ключ API отклонён",
        (Lang::Ru, R::Mismatch) => "ответ о другом пользователе",
        (Lang::Ru, R::ServerError) => "ошибка сервера",
        (Lang::Ru, R::Timeout) => "превышено время ожидания",
        (Lang::Ru, R::Network) => "сетевая ошибка",
        (Lang::Ru, R::Unclassified) => "нераспознанный ответ",
        (Lang::Ru, R::NoSession) => "нет сессии Instagram",
        (Lang::Ru, R::CanaryFailed) => "контрольная проверка не прошла",
        (Lang::Ru, R::BlankScreenshot) => "пустой скриншот",
        (Lang::Ru, R::Browser) => "ошибка браузера",
        (Lang::Ru, R::ProxyAuth) => "прокси отклонил логин/пароль",
        (Lang::Ru, R::Proxy) => "прокси недоступен",
        (Lang::En, R::RateLimited) => "Instagram rate limit",
        (Lang::En, R::LoginWall) => "Instagram asked to log in",
        (Lang::En, R::SessionFlagged) => "session flagged by Instagram",
        (Lang::En, R::Quota) => "API quota exhausted",
        (Lang::En, R::KeyRejected) => "API key rejected",
        (Lang::En, R::Mismatch) => "response named another user",
        (Lang::En, R::ServerError) => "server error",
        (Lang::En, R::Timeout) => "timed out",
        (Lang::En, R::Network) => "network error",
        (Lang::En, R::Unclassified) => "unrecognised response",
        (Lang::En, R::NoSession) => "no Instagram session",
        (Lang::En, R::CanaryFailed) => "canary check failed",
        (Lang::En, R::BlankScreenshot) => "blank screenshot",
        (Lang::En, R::Browser) => "browser error",
        (Lang::En, R::ProxyAuth) => "proxy rejected the credentials",
        (Lang::En, R::Proxy) => "proxy unreachable",
    }
}

/// The localized name of a signal, or `None` for "no probe ran".
pub fn source_name(lang: Lang, source: Source) -> Option<&'static str> {
    match (lang, source) {
        (_, Source::InstagramWeb) => Some("Instagram"),
        (_, Source::Rapidapi) => Some("API"),
        (Lang::Ru, Source::Browser) => Some("браузер"),
        (Lang::En, Source::Browser) => Some("browser"),
        (_, Source::None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals() {
        for (n, expected) in [
            (0, "0 дней"),
            (1, "1 день"),
            (2, "2 дня"),
            (4, "4 дня"),
            (5, "5 дней"),
            (11, "11 дней"),
            (12, "12 дней"),
            (14, "14 дней"),
            (21, "21 день"),
            (22, "22 дня"),
            (25, "25 дней"),
            (101, "101 день"),
            (111, "111 дней"),
            (112, "112 дней"),
            (122, "122 дня"),
        ] {
            assert_eq!(count(Lang::Ru, n, Unit::Day), expected);
        }
        for (n, unit, expected) in [
            (1, Unit::Hour, "1 час"),
            (3, Unit::Hour, "3 часа"),
            (11, Unit::Hour, "11 часов"),
            (21, Unit::Minute, "21 минута"),
            (23, Unit::Minute, "23 минуты"),
            (13, Unit::Minute, "13 минут"),
            (1, Unit::Account, "1 аккаунт"),
            (2, Unit::Account, "2 аккаунта"),
            (15, Unit::Account, "15 аккаунтов"),
            (31, Unit::Second, "31 секунда"),
        ] {
            assert_eq!(count(Lang::Ru, n, unit), expected);
        }
    }

    #[test]
    fn english_plurals() {
        for (n, unit, expected) in [
            (0, Unit::Day, "0 days"),
            (1, Unit::Day, "1 day"),
            (2, Unit::Day, "2 days"),
            (21, Unit::Day, "21 days"),
            (1, Unit::Account, "1 account"),
            (1, Unit::Hour, "1 hour"),
            (11, Unit::Minute, "11 minutes"),
        ] {
            assert_eq!(count(Lang::En, n, unit), expected);
        }
    }

    #[test]
    fn elapsed_is_shown_at_a_useful_precision() {
        let m = Duration::minutes;
        for (elapsed, ru, en) in [
            (m(-5), "0 минут", "0 minutes"),
            (Duration::zero(), "0 минут", "0 minutes"),
            (Duration::seconds(59), "0 минут", "0 minutes"),
            (m(1), "1 минута", "1 minute"),
            (m(35), "35 минут", "35 minutes"),
            (m(60), "1 час", "1 hour"),
            (m(5 * 60 + 12), "5 часов 12 минут", "5 hours 12 minutes"),
            (m(21 * 60 + 22), "21 час 22 минуты", "21 hours 22 minutes"),
            (m(24 * 60), "1 день", "1 day"),
            (m(24 * 60 + 59), "1 день", "1 day"),
            (m(2 * 1440 + 4 * 60 + 30), "2 дня 4 часа", "2 days 4 hours"),
            (m(11 * 1440 + 60), "11 дней 1 час", "11 days 1 hour"),
            (
                m(111 * 1440 + 2 * 60),
                "111 дней 2 часа",
                "111 days 2 hours",
            ),
        ] {
            assert_eq!(format_elapsed(Lang::Ru, elapsed), ru, "{elapsed:?}");
            assert_eq!(format_elapsed(Lang::En, elapsed), en, "{elapsed:?}");
        }
    }

    #[test]
    fn cycle_durations() {
        for (ms, ru, en) in [
            (0, "0 секунд", "0 seconds"),
            (1_500, "1 секунда", "1 second"),
            (45_000, "45 секунд", "45 seconds"),
            (60_000, "1 минута", "1 minute"),
            (192_000, "3 минуты 12 секунд", "3 minutes 12 seconds"),
            (3_900_000, "1 час 5 минут", "1 hour 5 minutes"),
        ] {
            assert_eq!(format_cycle_duration(Lang::Ru, ms), ru);
            assert_eq!(format_cycle_duration(Lang::En, ms), en);
        }
    }

    #[test]
    fn dates_in_the_operators_format() {
        let offset = FixedOffset::east_opt(3 * 3600).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-03T07:15:00Z")
            .unwrap()
            .with_timezone(&offset);
        assert_eq!(format_datetime(Lang::Ru, at), "03.12.2026 в 10:15");
        assert_eq!(format_datetime(Lang::En, at), "03.12.2026 at 10:15");
        assert_eq!(format_date(at), "03.12.2026");
    }

    #[test]
    fn every_reason_has_a_distinct_name_in_each_language() {
        for lang in [Lang::Ru, Lang::En] {
            let mut names: Vec<_> = UnknownReason::ALL
                .into_iter()
                .map(|r| reason_name(lang, r))
                .collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), UnknownReason::ALL.len(), "{lang}");
        }
    }
}
