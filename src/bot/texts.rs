//! The bot's ru/en catalogue. A struct per language makes a missing translation a compile
//! error. Templates are HTML; their `{name}` slots are filled by [`fill`], which escapes every
//! value, so no handler ever interpolates by hand.

use crate::domain::{AccountState, Lang, Mode, UsernameError};
use crate::telegram::escape;

/// Every user-facing text of the bot in one language.
#[derive(Debug)]
pub struct Ui {
    // ---- people ----
    pub welcome_pending: &'static str,
    pub inactive: &'static str,
    pub admin_new_user: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub you_are_approved: &'static str,
    pub you_are_rejected: &'static str,
    pub approved: &'static str,
    pub rejected: &'static str,
    pub already_handled: &'static str,
    pub menu_title: &'static str,
    pub help: &'static str,
    pub use_menu: &'static str,
    pub unknown_command: &'static str,
    pub cancelled: &'static str,
    pub failed: &'static str,
    pub refused: &'static str,
    pub stale: &'static str,
    pub admins_only: &'static str,
    pub done: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub back: &'static str,
    pub cancel: &'static str,
    // ---- main menu ----
    pub menu_add: &'static str,
    pub menu_bulk: &'static str,
    pub menu_pending: &'static str,
    pub menu_restored: &'static str,
    pub menu_expired: &'static str,
    pub menu_check: &'static str,
    pub menu_bulk_delete: &'static str,
    pub menu_export: &'static str,
    pub menu_settings: &'static str,
    pub menu_admin: &'static str,
    // ---- accounts ----
    pub ask_username: &'static str,
    pub invalid_username: &'static str,
    pub ask_period: &'static str,
    pub bad_period: &'static str,
    pub added: &'static str,
    pub duplicate: &'static str,
    pub ask_bulk: &'static str,
    pub too_many: &'static str,
    pub bulk_added: &'static str,
    pub bulk_duplicates: &'static str,
    pub bulk_invalid: &'static str,
    pub bulk_item: &'static str,
    pub list_title: &'static str,
    pub list_empty: &'static str,
    pub paused_list: &'static str,
    pub card_status: &'static str,
    pub card_started: &'static str,
    pub card_period: &'static str,
    pub card_ends: &'static str,
    pub card_left: &'static str,
    pub card_restored: &'static str,
    pub card_last_check: &'static str,
    pub card_never: &'static str,
    pub card_history: &'static str,
    pub pause: &'static str,
    pub resume: &'static str,
    pub check_now: &'static str,
    pub delete: &'static str,
    pub ask_delete: &'static str,
    pub deleted: &'static str,
    pub gone: &'static str,
    pub period_now: &'static str,
    pub paused: &'static str,
    pub resumed: &'static str,
    pub ask_bulk_delete: &'static str,
    pub confirm_bulk_delete: &'static str,
    pub bulk_deleted: &'static str,
    pub bulk_missing: &'static str,
    pub export_caption: &'static str,
    pub nothing_to_export: &'static str,
    // ---- checks ----
    pub check_progress: &'static str,
    pub check_done: &'static str,
    pub check_nothing: &'static str,
    pub check_started: &'static str,
    pub check_unavailable: &'static str,
    pub check_one_result: &'static str,
    pub verdict_exists: &'static str,
    pub verdict_not_found: &'static str,
    pub verdict_unknown: &'static str,
    // ---- alerts ----
    pub false_alarm_done: &'static str,
    pub not_restored: &'static str,
    pub remove: &'static str,
    pub extended: &'static str,
    // ---- settings ----
    pub settings_title: &'static str,
    pub settings_mode: &'static str,
    pub settings_lang: &'static str,
    pub keys_button: &'static str,
    pub mode_set: &'static str,
    pub lang_set: &'static str,
    pub keys_title: &'static str,
    pub keys_empty: &'static str,
    pub key_line: &'static str,
    pub key_exhausted: &'static str,
    pub add_key: &'static str,
    pub ask_key: &'static str,
    pub key_too_short: &'static str,
    pub key_testing: &'static str,
    pub key_ok: &'static str,
    pub key_refused: &'static str,
    pub key_unsure: &'static str,
    pub key_deleted: &'static str,
    pub no_cipher: &'static str,
    // ---- proxies ----
    pub proxies_button: &'static str,
    pub proxies_title: &'static str,
    pub proxies_empty: &'static str,
    pub proxy_line: &'static str,
    pub proxy_on: &'static str,
    pub proxy_off: &'static str,
    pub proxy_resting: &'static str,
    pub add_proxies: &'static str,
    pub ask_proxies: &'static str,
    pub proxies_nothing: &'static str,
    pub proxies_added: &'static str,
    pub proxies_duplicates: &'static str,
    pub proxies_invalid: &'static str,
    pub proxy_error_item: &'static str,
    pub proxy_host_refused: &'static str,
    pub proxy_refused_item: &'static str,
    pub proxy_card: &'static str,
    pub proxy_test: &'static str,
    pub proxy_enable: &'static str,
    pub proxy_disable: &'static str,
    pub proxy_enabled: &'static str,
    pub proxy_disabled: &'static str,
    pub proxy_priority_set: &'static str,
    pub ask_delete_proxy: &'static str,
    pub proxy_deleted: &'static str,
    pub proxy_testing: &'static str,
    pub proxy_test_ok: &'static str,
    pub proxy_test_failed: &'static str,
    pub proxy_canary_not_found: &'static str,
    // ---- Instagram sessions ----
    pub sessions_button: &'static str,
    pub sessions_title: &'static str,
    pub sessions_empty: &'static str,
    pub session_line: &'static str,
    pub session_valid: &'static str,
    pub session_invalid: &'static str,
    pub session_never: &'static str,
    pub add_session: &'static str,
    pub ask_session: &'static str,
    pub session_bad: &'static str,
    pub session_bad_file: &'static str,
    pub session_download_failed: &'static str,
    pub session_testing: &'static str,
    pub session_ok: &'static str,
    pub session_refused: &'static str,
    pub session_unsure: &'static str,
    pub ask_delete_session: &'static str,
    pub session_deleted: &'static str,
    // ---- admin ----
    pub admin_title: &'static str,
    pub admin_interval: &'static str,
    pub admin_next: &'static str,
    pub admin_default_mode: &'static str,
    pub admin_confirmations: &'static str,
    pub admin_digest: &'static str,
    pub on: &'static str,
    pub off: &'static str,
    pub users_button: &'static str,
    pub interval_button: &'static str,
    pub stats_button: &'static str,
    pub restart_button: &'static str,
    pub users_title: &'static str,
    pub filter_all: &'static str,
    pub filter_active: &'static str,
    pub filter_pending: &'static str,
    pub filter_admins: &'static str,
    pub user_card: &'static str,
    pub user_active: &'static str,
    pub user_inactive: &'static str,
    pub role_admin: &'static str,
    pub role_user: &'static str,
    pub action_approve: &'static str,
    pub action_revoke: &'static str,
    pub action_promote: &'static str,
    pub action_demote: &'static str,
    pub action_delete: &'static str,
    pub confirm_action: &'static str,
    pub config_admin: &'static str,
    pub ask_interval: &'static str,
    pub bad_interval: &'static str,
    pub interval_set: &'static str,
    pub stats: &'static str,
    pub ask_restart: &'static str,
    pub restarting: &'static str,
    // ---- usernames ----
    pub name_empty: &'static str,
    pub name_too_long: &'static str,
    pub name_bad_char: &'static str,
    pub name_edge_dot: &'static str,
    pub name_double_dot: &'static str,
    pub name_reserved: &'static str,
    pub name_not_profile: &'static str,
}

const RU: Ui = Ui {
    welcome_pending: "👋 Здравствуйте! Учётная запись создана. Администратор получил запрос на доступ — я напишу, когда он его рассмотрит.",
    inactive: "⛔ Доступ пока не выдан: дождитесь одобрения администратора.",
    admin_new_user: "🆕 Новый пользователь: <b>{name}</b>{handle} (id <code>{id}</code>). Выдать доступ?",
    approve: "✅ Одобрить",
    reject: "🚫 Отклонить",
    you_are_approved: "✅ Доступ выдан. Добро пожаловать!",
    you_are_rejected: "⛔ Администратор отклонил запрос на доступ.",
    approved: "✅ {name}: доступ выдан.",
    rejected: "🚫 {name}: запрос отклонён.",
    already_handled: "Этот запрос уже рассмотрен.",
    menu_title: "🏠 Главное меню. Выберите действие кнопкой ниже или командой (/help).",
    help: "<b>Что я умею</b>\n/add — добавить аккаунт (можно сразу: /add имя)\n/bulk — массовое добавление\n/list — списки аккаунтов\n/check — проверить все на проверке (или /check имя)\n/export — выгрузка CSV\n/settings — режим, язык, ключи API\n/cancel — отменить текущее действие",
    use_menu: "Выберите действие кнопками меню или командой (/help).",
    unknown_command: "Неизвестная команда. Список команд: /help",
    cancelled: "❌ Отменено.",
    failed: "⚠️ Что-то пошло не так. Попробуйте ещё раз.",
    refused: "⛔ Эта кнопка вам недоступна.",
    stale: "⌛ Кнопка устарела. Откройте меню заново.",
    admins_only: "⛔ Только для администраторов.",
    done: "✅ Готово",
    yes: "✅ Да",
    no: "❌ Нет",
    back: "⬅️ Назад",
    cancel: "❌ Отмена",
    menu_add: "➕ Добавить аккаунт",
    menu_bulk: "📥 Массовое добавление",
    menu_pending: "🕒 На проверке",
    menu_restored: "✅ Разблокированные",
    menu_expired: "⌛ Истёкшие",
    menu_check: "🔍 Проверить все",
    menu_bulk_delete: "🗑 Массовое удаление",
    menu_export: "📄 Экспорт CSV",
    menu_settings: "⚙️ Настройки",
    menu_admin: "🛠 Админка",
    ask_username: "🆔 Пришлите имя аккаунта Instagram: @имя, имя или ссылку на профиль.",
    invalid_username: "⚠️ {input}: {reason}.",
    ask_period: "📅 Срок для @{name} в днях (по умолчанию {default}). Выберите кнопкой или пришлите число.",
    bad_period: "⚠️ Пришлите число дней от 1 до 3650.",
    added: "✅ @{name} добавлен: {days}, до {ends}. Проверяю…",
    duplicate: "ℹ️ @{name} уже есть в вашем списке.",
    ask_bulk: "📥 Пришлите имена аккаунтов через перенос строки, пробел, «;» или «,». Срок: {days}.",
    too_many: "⚠️ Не больше {max} имён за одно сообщение.",
    bulk_added: "✅ Добавлено: {n}",
    bulk_duplicates: "ℹ️ Уже были в списке: {n}",
    bulk_invalid: "⚠️ С ошибками: {n}",
    bulk_item: "  • {item} — {reason}",
    list_title: "{state}: {n}",
    list_empty: "📭 Здесь пока пусто.",
    paused_list: "⏸ На паузе",
    card_status: "Статус",
    card_started: "Начало",
    card_period: "Срок",
    card_ends: "Конец",
    card_left: "Осталось",
    card_restored: "Разблокирован",
    card_last_check: "Последняя проверка",
    card_never: "ещё не проверялся",
    card_history: "История проверок",
    pause: "⏸ Пауза",
    resume: "▶️ Продолжить",
    check_now: "🔍 Проверить сейчас",
    delete: "🗑 Удалить",
    ask_delete: "🗑 Удалить @{name} безвозвратно?",
    deleted: "🗑 @{name} удалён.",
    gone: "Этого аккаунта больше нет в вашем списке.",
    period_now: "Срок: {days}",
    paused: "⏸ Проверки приостановлены.",
    resumed: "▶️ Проверки возобновлены.",
    ask_bulk_delete: "🗑 Пришлите имена аккаунтов для удаления (разделители как при массовом добавлении).",
    confirm_bulk_delete: "🗑 Удалить {count}?\n{names}",
    bulk_deleted: "🗑 Удалено: {n}",
    bulk_missing: "ℹ️ Не найдены в списке: {names}",
    export_caption: "📄 Аккаунтов: {n}",
    nothing_to_export: "📭 Выгружать пока нечего.",
    check_progress: "🔍 Проверено {checked}/{total} · разблокировано {restored} · не определено {unknown}",
    check_done: "✅ Проверка завершена: {checked}/{total} · разблокировано {restored} · не определено {unknown}",
    check_nothing: "📭 Нет аккаунтов на проверке.",
    check_started: "🔍 Проверяю @{name}…",
    check_unavailable: "⚠️ Сейчас проверку запустить нельзя, попробуйте позже.",
    check_one_result: "🔍 @{name}: {verdict}",
    verdict_exists: "найден ✅",
    verdict_not_found: "не найден ❌",
    verdict_unknown: "не определено ❓",
    false_alarm_done: "↩️ @{name} снова на проверке; данные ошибочной проверки сохранены.",
    not_restored: "Аккаунт уже не в статусе «разблокирован».",
    remove: "🗑 Удалить",
    extended: "✅ Срок продлён: {days}, до {ends}.",
    settings_title: "⚙️ <b>Настройки</b>",
    settings_mode: "Режим проверки",
    settings_lang: "Язык",
    keys_button: "🔑 Ключи RapidAPI",
    mode_set: "✅ Режим: {mode}",
    lang_set: "✅ Язык: русский",
    keys_title: "🔑 <b>Ключи RapidAPI</b>: {n}",
    keys_empty: "Ключей пока нет.",
    key_line: "#{id} <code>{hint}</code> — сегодня запросов: {used}{exhausted}",
    key_exhausted: " (лимит исчерпан)",
    add_key: "➕ Добавить ключ",
    ask_key: "🔑 Пришлите ключ RapidAPI. Сообщение с ключом я удалю из чата.",
    key_too_short: "⚠️ Это не похоже на ключ RapidAPI (слишком короткий).",
    key_testing: "🧪 Проверяю ключ…",
    key_ok: "✅ Ключ {hint} работает и сохранён.",
    key_refused: "❌ Ключ не прошёл проверку ({reason}) и не сохранён.",
    key_unsure: "⚠️ Ключ {hint} сохранён, но проверить его не удалось ({reason}).",
    key_deleted: "🗑 Ключ удалён.",
    no_cipher: "⚠️ Сервер не может хранить секреты: не настроен ключ шифрования. Сообщите администратору.",
    proxies_button: "🌐 Прокси",
    proxies_title: "🌐 <b>Прокси</b>: {n} (включено {enabled})",
    proxies_empty: "Прокси пока нет.",
    proxy_line: "#{id} <code>{proxy}</code> — {status} · приоритет {priority} · ошибок подряд {fails}",
    proxy_on: "✅ включён",
    proxy_off: "⏸ выключен",
    proxy_resting: "⛔ отключён после ошибок, повторная проверка {at}",
    add_proxies: "➕ Добавить прокси",
    ask_proxies: "🌐 Пришлите прокси — один или несколько, по одному в строке (или через «;»). Форматы: <code>scheme://[user:pass@]host:port</code>, <code>host:port</code>, <code>host:port:user:pass</code> (http, https, socks5). Сообщение с паролями я удалю из чата.",
    proxies_nothing: "⚠️ В сообщении нет ни одного прокси. Пришлите прокси или нажмите «Отмена».",
    proxies_added: "✅ Добавлено прокси: {n}",
    proxies_duplicates: "ℹ️ Уже были в списке: {n}",
    proxies_invalid: "⚠️ С ошибками (не добавлены): {n}",
    proxy_error_item: "  • #{line} <code>{item}</code> — {reason}",
    proxy_host_refused: "адрес прокси запрещён или не найден ({detail})",
    proxy_refused_item: "  • <code>{item}</code> — {reason}",
    proxy_card: "🌐 <b>Прокси #{id}</b>\n<code>{proxy}</code>\nСтатус: {status}\nПриоритет: {priority}/10 (1 — самый высокий)\nОшибок подряд: {fails}",
    proxy_test: "🧪 Проверить",
    proxy_enable: "✅ Включить",
    proxy_disable: "⏸ Выключить",
    proxy_enabled: "✅ Прокси включён.",
    proxy_disabled: "⏸ Прокси выключен.",
    proxy_priority_set: "✅ Приоритет: {priority}",
    ask_delete_proxy: "🗑 Удалить прокси #{id} <code>{proxy}</code>?",
    proxy_deleted: "🗑 Прокси удалён.",
    proxy_testing: "🧪 Проверяю прокси #{id} на @{canary}…",
    proxy_test_ok: "✅ Прокси #{id} <code>{proxy}</code> работает: @{canary} найден.",
    proxy_test_failed: "❌ Прокси #{id} <code>{proxy}</code> не прошёл проверку: {reason}.",
    proxy_canary_not_found: "контрольный аккаунт не найден — ответам через этот прокси нельзя доверять",
    sessions_button: "🍪 Сессии Instagram",
    sessions_title: "🍪 <b>Сессии Instagram</b>: {n}",
    sessions_empty: "Сессий пока нет.",
    session_line: "#{id} {label} — {status} · создана {created} · использована {used}",
    session_valid: "✅ действует",
    session_invalid: "❌ недействительна",
    session_never: "ещё нет",
    add_session: "➕ Добавить сессию",
    ask_session: "🍪 Пришлите cookies Instagram в формате JSON (массив из расширения EditThisCookie или Cookie-Editor, с <code>sessionid</code>) — текстом или файлом .json. Сообщение с cookies я удалю из чата.",
    session_bad: "⚠️ Эти cookies не подходят: {reason}. Ничего не сохранено. Пришлите другие или нажмите «Отмена».",
    session_bad_file: "⚠️ Пришлите cookies файлом .json (до 256 КБ) или текстом.",
    session_download_failed: "⚠️ Не удалось получить файл. Пришлите его ещё раз.",
    session_testing: "🧪 Проверяю сессию в браузере на @{canary}…",
    session_ok: "✅ Сессия #{id} «{label}» работает и сохранена.",
    session_refused: "❌ Instagram не принял эту сессию ({reason}): экспортируйте cookies заново, войдя в аккаунт. Ничего не сохранено.",
    session_unsure: "⚠️ Сессия #{id} «{label}» сохранена, но проверить её не удалось ({reason}).",
    ask_delete_session: "🗑 Удалить сессию #{id} «{label}»?",
    session_deleted: "🗑 Сессия удалена.",
    admin_title: "🛠 <b>Админка</b>",
    admin_interval: "Интервал проверки",
    admin_next: "Следующий цикл",
    admin_default_mode: "Режим новых пользователей",
    admin_confirmations: "Подтверждений для разблокировки",
    admin_digest: "Сводка после цикла",
    on: "вкл",
    off: "выкл",
    users_button: "👥 Пользователи",
    interval_button: "⏱ Интервал",
    stats_button: "📈 Статистика",
    restart_button: "🔄 Перезапуск",
    users_title: "👥 <b>Пользователи</b> ({filter}): {n}",
    filter_all: "все",
    filter_active: "активные",
    filter_pending: "ожидают",
    filter_admins: "админы",
    user_card: "👤 <b>{name}</b> {handle}\nid: <code>{id}</code>\nСтатус: {status}\nРоль: {role}\nРежим: {mode}\nЯзык: {lang}\nАккаунтов: {accounts}",
    user_active: "активен",
    user_inactive: "без доступа",
    role_admin: "администратор",
    role_user: "пользователь",
    action_approve: "✅ Выдать доступ",
    action_revoke: "⛔ Отозвать доступ",
    action_promote: "👑 Сделать админом",
    action_demote: "👤 Снять админа",
    action_delete: "🗑 Удалить пользователя",
    confirm_action: "Подтвердите: {action} — {name}?",
    config_admin: "Этот администратор задан в файле конфигурации.",
    ask_interval: "⏱ Сейчас: {current}. Пришлите новый интервал, например 5m, 30m, 1h (от 1s до 7d).",
    bad_interval: "⚠️ Не понял интервал. Примеры: 5m, 30m, 1h (от 1s до 7d).",
    interval_set: "✅ Интервал: {interval}. Следующий цикл: {next}.",
    stats: "📈 <b>Статистика</b>\nПользователи: {users} (активных {active}, админов {admins})\nАккаунты: на проверке {pending}, разблокировано {restored}, истекло {expired}, на паузе {paused}\nПроверок сегодня: найден {exists}, не найден {not_found}, не определено {unknown}\nОчередь сообщений: {outbox}\nКлючей RapidAPI: {keys}\nПерезапусков проверяющих: {restarts}\nСледующий цикл: {next}",
    ask_restart: "🔄 Перезапустить демон? Текущие проверки сначала завершатся.",
    restarting: "🔄 Перезапускаюсь…",
    name_empty: "пустое имя",
    name_too_long: "длиннее 30 символов",
    name_bad_char: "допустимы только латинские буквы, цифры, «.» и «_»",
    name_edge_dot: "не может начинаться или заканчиваться точкой",
    name_double_dot: "не может содержать две точки подряд",
    name_reserved: "это служебная страница Instagram, а не профиль",
    name_not_profile: "это не ссылка на профиль Instagram",
};

const EN: Ui = Ui {
    welcome_pending: "👋 Hello! Your account is created. An administrator has been asked for your access — I will write as soon as they decide.",
    inactive: "⛔ You have no access yet: please wait for an administrator's approval.",
    admin_new_user: "🆕 New user: <b>{name}</b>{handle} (id <code>{id}</code>). Grant access?",
    approve: "✅ Approve",
    reject: "🚫 Reject",
    you_are_approved: "✅ Access granted. Welcome!",
    you_are_rejected: "⛔ An administrator declined your access request.",
    approved: "✅ {name}: access granted.",
    rejected: "🚫 {name}: request declined.",
    already_handled: "This request was already handled.",
    menu_title: "🏠 Main menu. Choose an action with the buttons below or a command (/help).",
    help: "<b>What I can do</b>\n/add — add an account (or at once: /add name)\n/bulk — add many accounts\n/list — account lists\n/check — check every pending account (or /check name)\n/export — CSV export\n/settings — mode, language, API keys\n/cancel — cancel the current action",
    use_menu: "Choose an action with the menu buttons or a command (/help).",
    unknown_command: "Unknown command. See /help",
    cancelled: "❌ Cancelled.",
    failed: "⚠️ Something went wrong. Please try again.",
    refused: "⛔ This button is not available to you.",
    stale: "⌛ This button is out of date. Please open the menu again.",
    admins_only: "⛔ Administrators only.",
    done: "✅ Done",
    yes: "✅ Yes",
    no: "❌ No",
    back: "⬅️ Back",
    cancel: "❌ Cancel",
    menu_add: "➕ Add account",
    menu_bulk: "📥 Bulk add",
    menu_pending: "🕒 Pending",
    menu_restored: "✅ Restored",
    menu_expired: "⌛ Expired",
    menu_check: "🔍 Check all",
    menu_bulk_delete: "🗑 Bulk delete",
    menu_export: "📄 Export CSV",
    menu_settings: "⚙️ Settings",
    menu_admin: "🛠 Admin",
    ask_username: "🆔 Send the Instagram account: @name, name or a profile link.",
    invalid_username: "⚠️ {input}: {reason}.",
    ask_period: "📅 Period for @{name} in days (default {default}). Pick a button or send a number.",
    bad_period: "⚠️ Send a number of days from 1 to 3650.",
    added: "✅ @{name} added: {days}, until {ends}. Checking it now…",
    duplicate: "ℹ️ @{name} is already in your list.",
    ask_bulk: "📥 Send the account names separated by new lines, spaces, “;” or “,”. Period: {days}.",
    too_many: "⚠️ At most {max} names per message.",
    bulk_added: "✅ Added: {n}",
    bulk_duplicates: "ℹ️ Already in your list: {n}",
    bulk_invalid: "⚠️ Invalid: {n}",
    bulk_item: "  • {item} — {reason}",
    list_title: "{state}: {n}",
    list_empty: "📭 Nothing here yet.",
    paused_list: "⏸ Paused",
    card_status: "Status",
    card_started: "Started",
    card_period: "Period",
    card_ends: "Ends",
    card_left: "Left",
    card_restored: "Restored",
    card_last_check: "Last check",
    card_never: "not checked yet",
    card_history: "Recent checks",
    pause: "⏸ Pause",
    resume: "▶️ Resume",
    check_now: "🔍 Check now",
    delete: "🗑 Delete",
    ask_delete: "🗑 Delete @{name} for good?",
    deleted: "🗑 @{name} deleted.",
    gone: "This account is no longer in your list.",
    period_now: "Period: {days}",
    paused: "⏸ Checks paused.",
    resumed: "▶️ Checks resumed.",
    ask_bulk_delete: "🗑 Send the account names to delete (same separators as bulk add).",
    confirm_bulk_delete: "🗑 Delete {count}?\n{names}",
    bulk_deleted: "🗑 Deleted: {n}",
    bulk_missing: "ℹ️ Not in your list: {names}",
    export_caption: "📄 Accounts: {n}",
    nothing_to_export: "📭 Nothing to export yet.",
    check_progress: "🔍 Checked {checked}/{total} · restored {restored} · unknown {unknown}",
    check_done: "✅ Check finished: {checked}/{total} · restored {restored} · unknown {unknown}",
    check_nothing: "📭 No pending accounts to check.",
    check_started: "🔍 Checking @{name}…",
    check_unavailable: "⚠️ A check cannot start right now; please try again later.",
    check_one_result: "🔍 @{name}: {verdict}",
    verdict_exists: "found ✅",
    verdict_not_found: "not found ❌",
    verdict_unknown: "unknown ❓",
    false_alarm_done: "↩️ @{name} is being checked again; the misleading check was recorded.",
    not_restored: "The account is no longer restored.",
    remove: "🗑 Remove",
    extended: "✅ Period extended: {days}, until {ends}.",
    settings_title: "⚙️ <b>Settings</b>",
    settings_mode: "Check mode",
    settings_lang: "Language",
    keys_button: "🔑 RapidAPI keys",
    mode_set: "✅ Mode: {mode}",
    lang_set: "✅ Language: English",
    keys_title: "🔑 <b>RapidAPI keys</b>: {n}",
    keys_empty: "No keys yet.",
    key_line: "#{id} <code>{hint}</code> — requests today: {used}{exhausted}",
    key_exhausted: " (quota exhausted)",
    add_key: "➕ Add key",
    ask_key: "🔑 Send your RapidAPI key. I will delete the message with the key from the chat.",
    key_too_short: "⚠️ That does not look like a RapidAPI key (too short).",
    key_testing: "🧪 Testing the key…",
    key_ok: "✅ Key {hint} works and is saved.",
    key_refused: "❌ The key failed the test ({reason}) and was not saved.",
    key_unsure: "⚠️ Key {hint} is saved, but the test was inconclusive ({reason}).",
    key_deleted: "🗑 Key deleted.",
    no_cipher: "⚠️ The server cannot store secrets: no encryption key is configured. Tell the administrator.",
    proxies_button: "🌐 Proxies",
    proxies_title: "🌐 <b>Proxies</b>: {n} ({enabled} enabled)",
    proxies_empty: "No proxies yet.",
    proxy_line: "#{id} <code>{proxy}</code> — {status} · priority {priority} · failures in a row {fails}",
    proxy_on: "✅ enabled",
    proxy_off: "⏸ disabled",
    proxy_resting: "⛔ disabled after failures, re-tested {at}",
    add_proxies: "➕ Add proxies",
    ask_proxies: "🌐 Send one proxy or many, one per line (or separated by “;”). Formats: <code>scheme://[user:pass@]host:port</code>, <code>host:port</code>, <code>host:port:user:pass</code> (http, https, socks5). I will delete the message with passwords from the chat.",
    proxies_nothing: "⚠️ There is no proxy in this message. Send proxies or press Cancel.",
    proxies_added: "✅ Proxies added: {n}",
    proxies_duplicates: "ℹ️ Already in your list: {n}",
    proxies_invalid: "⚠️ Invalid (not added): {n}",
    proxy_error_item: "  • #{line} <code>{item}</code> — {reason}",
    proxy_host_refused: "the proxy address is refused or unknown ({detail})",
    proxy_refused_item: "  • <code>{item}</code> — {reason}",
    proxy_card: "🌐 <b>Proxy #{id}</b>\n<code>{proxy}</code>\nStatus: {status}\nPriority: {priority}/10 (1 is the highest)\nFailures in a row: {fails}",
    proxy_test: "🧪 Test",
    proxy_enable: "✅ Enable",
    proxy_disable: "⏸ Disable",
    proxy_enabled: "✅ Proxy enabled.",
    proxy_disabled: "⏸ Proxy disabled.",
    proxy_priority_set: "✅ Priority: {priority}",
    ask_delete_proxy: "🗑 Delete proxy #{id} <code>{proxy}</code>?",
    proxy_deleted: "🗑 Proxy deleted.",
    proxy_testing: "🧪 Testing proxy #{id} on @{canary}…",
    proxy_test_ok: "✅ Proxy #{id} <code>{proxy}</code> works: @{canary} was found.",
    proxy_test_failed: "❌ Proxy #{id} <code>{proxy}</code> failed the test: {reason}.",
    proxy_canary_not_found: "the canary account was not found — answers through this proxy cannot be trusted",
    sessions_button: "🍪 Instagram sessions",
    sessions_title: "🍪 <b>Instagram sessions</b>: {n}",
    sessions_empty: "No sessions yet.",
    session_line: "#{id} {label} — {status} · created {created} · last used {used}",
    session_valid: "✅ valid",
    session_invalid: "❌ invalid",
    session_never: "never",
    add_session: "➕ Add session",
    ask_session: "🍪 Send your Instagram cookies as JSON (the array EditThisCookie or Cookie-Editor exports, with <code>sessionid</code>) — as text or as a .json file. I will delete the message with the cookies from the chat.",
    session_bad: "⚠️ These cookies cannot be used: {reason}. Nothing was saved. Send other cookies or press Cancel.",
    session_bad_file: "⚠️ Send the cookies as a .json file (up to 256 KB) or as text.",
    session_download_failed: "⚠️ I could not get the file. Please send it again.",
    session_testing: "🧪 Testing the session in a browser on @{canary}…",
    session_ok: "✅ Session #{id} “{label}” works and is saved.",
    session_refused: "❌ Instagram refused this session ({reason}): export the cookies again while logged in. Nothing was saved.",
    session_unsure: "⚠️ Session #{id} “{label}” is saved, but it could not be verified ({reason}).",
    ask_delete_session: "🗑 Delete session #{id} “{label}”?",
    session_deleted: "🗑 Session deleted.",
    admin_title: "🛠 <b>Admin</b>",
    admin_interval: "Check interval",
    admin_next: "Next cycle",
    admin_default_mode: "Mode of new users",
    admin_confirmations: "Confirmations to restore",
    admin_digest: "Digest after each cycle",
    on: "on",
    off: "off",
    users_button: "👥 Users",
    interval_button: "⏱ Interval",
    stats_button: "📈 Statistics",
    restart_button: "🔄 Restart",
    users_title: "👥 <b>Users</b> ({filter}): {n}",
    filter_all: "all",
    filter_active: "active",
    filter_pending: "pending",
    filter_admins: "admins",
    user_card: "👤 <b>{name}</b> {handle}\nid: <code>{id}</code>\nStatus: {status}\nRole: {role}\nMode: {mode}\nLanguage: {lang}\nAccounts: {accounts}",
    user_active: "active",
    user_inactive: "no access",
    role_admin: "administrator",
    role_user: "user",
    action_approve: "✅ Grant access",
    action_revoke: "⛔ Revoke access",
    action_promote: "👑 Make admin",
    action_demote: "👤 Remove admin",
    action_delete: "🗑 Delete user",
    confirm_action: "Please confirm: {action} — {name}?",
    config_admin: "This administrator is set in the configuration file.",
    ask_interval: "⏱ Now: {current}. Send a new interval, e.g. 5m, 30m, 1h (1s to 7d).",
    bad_interval: "⚠️ I did not understand the interval. Examples: 5m, 30m, 1h (1s to 7d).",
    interval_set: "✅ Interval: {interval}. Next cycle: {next}.",
    stats: "📈 <b>Statistics</b>\nUsers: {users} (active {active}, admins {admins})\nAccounts: pending {pending}, restored {restored}, expired {expired}, paused {paused}\nChecks today: found {exists}, not found {not_found}, unknown {unknown}\nMessage queue: {outbox}\nRapidAPI keys: {keys}\nChecker restarts: {restarts}\nNext cycle: {next}",
    ask_restart: "🔄 Restart the daemon? Checks in progress finish first.",
    restarting: "🔄 Restarting…",
    name_empty: "the name is empty",
    name_too_long: "longer than 30 characters",
    name_bad_char: "only latin letters, digits, “.” and “_” are allowed",
    name_edge_dot: "cannot start or end with a dot",
    name_double_dot: "cannot contain two dots in a row",
    name_reserved: "this is an Instagram page, not a profile",
    name_not_profile: "this is not an Instagram profile link",
};

/// The catalogue of `lang`.
pub fn ui(lang: Lang) -> &'static Ui {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// Both catalogues (menu buttons of either language are recognised).
pub const ALL: [&Ui; 2] = [&RU, &EN];

/// Fills the `{key}` slots of an HTML template with escaped values. A slot without a value is
/// left as it is (a catalogue test makes sure that never happens).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match values.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => out.push_str(&escape(value)),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The localized reason a text is not a username.
pub fn username_error(lang: Lang, err: &UsernameError) -> &'static str {
    let t = ui(lang);
    match err {
        UsernameError::Empty => t.name_empty,
        UsernameError::TooLong => t.name_too_long,
        UsernameError::BadCharacter(_) => t.name_bad_char,
        UsernameError::EdgeDot => t.name_edge_dot,
        UsernameError::DoubleDot => t.name_double_dot,
        UsernameError::Reserved(_) => t.name_reserved,
        UsernameError::NotProfileLink => t.name_not_profile,
    }
}

/// The description of a slash command in the menu (`setMyCommands`).
pub fn command_description(lang: Lang, command: &str) -> &'static str {
    match (lang, command) {
        (Lang::Ru, "start") => "Главное меню",
        (Lang::Ru, "help") => "Что умеет бот",
        (Lang::Ru, "add") => "Добавить аккаунт",
        (Lang::Ru, "bulk") => "Массовое добавление",
        (Lang::Ru, "list") => "Списки аккаунтов",
        (Lang::Ru, "check") => "Проверить сейчас",
        (Lang::Ru, "export") => "Выгрузка CSV",
        (Lang::Ru, "settings") => "Настройки",
        (Lang::Ru, "cancel") => "Отменить действие",
        (Lang::Ru, "admin") => "Админка",
        (Lang::Ru, "users") => "Пользователи",
        (Lang::Ru, "stats") => "Статистика",
        (Lang::En, "start") => "Main menu",
        (Lang::En, "help") => "What the bot can do",
        (Lang::En, "add") => "Add an account",
        (Lang::En, "bulk") => "Add many accounts",
        (Lang::En, "list") => "Account lists",
        (Lang::En, "check") => "Check now",
        (Lang::En, "export") => "CSV export",
        (Lang::En, "settings") => "Settings",
        (Lang::En, "cancel") => "Cancel the current action",
        (Lang::En, "admin") => "Admin",
        (Lang::En, "users") => "Users",
        (Lang::En, "stats") => "Statistics",
        (_, _) => "—",
    }
}

/// The name of a list / status.
pub fn state_name(lang: Lang, state: AccountState) -> &'static str {
    let t = ui(lang);
    match state {
        AccountState::Pending => t.menu_pending,
        AccountState::Restored => t.menu_restored,
        AccountState::Expired => t.menu_expired,
        AccountState::Paused => t.paused_list,
    }
}

/// The name of a verdict kind as stored (`exists`, `not_found`, `unknown`).
pub fn verdict_name(lang: Lang, kind: &str) -> &'static str {
    let t = ui(lang);
    match kind {
        "exists" => t.verdict_exists,
        "not_found" => t.verdict_not_found,
        _ => t.verdict_unknown,
    }
}

/// How a mode is shown: its stable name (operators know `api`, `browser`, `api+browser`).
pub fn mode_name(mode: Mode) -> &'static str {
    mode.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_escapes_every_value() {
        assert_eq!(
            fill("<b>{name}</b> {n}", &[("name", "<b>&"), ("n", "2")]),
            "<b>&lt;b&gt;&amp;</b> 2"
        );
        assert_eq!(fill("{missing} {", &[]), "{missing} {");
    }

    /// Every template of one language uses the same slots as the other, and the HTML of each
    /// is well formed once filled.
    #[test]
    fn both_languages_have_the_same_slots_and_valid_html() {
        let ru = format!("{RU:?}");
        let en = format!("{EN:?}");
        let fields = |s: &str| -> Vec<(String, Vec<String>)> {
            s.trim_start_matches("Ui {")
                .split("\", ")
                .filter_map(|f| f.split_once(": \""))
                .map(|(k, v)| {
                    let slots = v
                        .split('{')
                        .skip(1)
                        .filter_map(|p| p.split_once('}').map(|(s, _)| s.to_owned()))
                        .collect();
                    (k.trim().to_owned(), slots)
                })
                .collect()
        };
        let (ru, en) = (fields(&ru), fields(&en));
        assert_eq!(ru.len(), en.len());
        for ((k1, s1), (k2, s2)) in ru.iter().zip(&en) {
            assert_eq!(k1, k2);
            let (mut a, mut b) = (s1.clone(), s2.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b, "slots of {k1}");
        }
        for t in ALL {
            for template in [t.help, t.user_card, t.stats, t.key_line, t.admin_new_user] {
                let filled = fill(template, &[("name", "<b>&"), ("handle", "x"), ("id", "1")]);
                let mut rest = filled.as_str();
                while let Some(i) = rest.find('<') {
                    let tag = &rest[i..rest[i..].find('>').map_or(rest.len(), |e| i + e + 1)];
                    assert!(["<b>", "</b>", "<code>", "</code>"].contains(&tag), "{tag}");
                    rest = &rest[i + tag.len()..];
                }
            }
        }
    }

    #[test]
    fn menu_buttons_are_distinct_across_languages() {
        let mut labels: Vec<&str> = ALL
            .iter()
            .flat_map(|t| {
                [
                    t.menu_add,
                    t.menu_bulk,
                    t.menu_pending,
                    t.menu_restored,
                    t.menu_expired,
                    t.menu_check,
                    t.menu_bulk_delete,
                    t.menu_export,
                    t.menu_settings,
                    t.menu_admin,
                    t.cancel,
                ]
            })
            .collect();
        let n = labels.len();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), n);
    }
}
