//! Callback data of inline buttons: a compact text codec that always fits Telegram's 64 bytes.
//!
//! Data is untrusted input: decoding only says what was asked, never that it is allowed. Every
//! handler re-checks the presser's rights and the object's owner on the server.

use crate::domain::{AccountId, AccountState, KeyId, Lang, Mode, ProxyId, SessionId, UserId};
use crate::store::UserFilter;

/// Telegram's limit on `callback_data`, in bytes.
pub const MAX_LEN: usize = 64;

/// What an inline button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    /// The pager's page-number button.
    Noop,
    /// Period quick button while adding one account.
    Period(u32),
    /// A page of the owner's accounts in a state.
    List(AccountState, u32),
    Card(AccountId),
    /// Move the end of the period by this many days (expired: extends and re-activates).
    Days(AccountId, i32),
    /// Ask for a typed number of days to move the end of the period by.
    DaysTyped(AccountId),
    Pause(AccountId),
    Resume(AccountId),
    CheckOne(AccountId),
    /// Ask to delete (shows the confirmation).
    Delete(AccountId),
    DeleteConfirmed(AccountId),
    /// The owner says a restore alert was wrong.
    FalseAlarm(AccountId),
    BulkDeleteConfirmed,
    /// The conversation's cancel button.
    Cancel,
    Settings,
    SetMode(Mode),
    SetLang(Lang),
    Keys,
    AddKey,
    DeleteKey(KeyId),
    /// The owner's proxy list.
    Proxies,
    /// Start the add-proxies conversation.
    AddProxy,
    ProxyCard(ProxyId),
    /// Enable (`true`) or disable a proxy.
    ProxyEnabled(ProxyId, bool),
    /// Set a proxy's priority (1 best … 10).
    ProxyPriority(ProxyId, u8),
    /// Probe the canary through the proxy in the background.
    TestProxy(ProxyId),
    DeleteProxy(ProxyId),
    DeleteProxyConfirmed(ProxyId),
    /// The owner's Instagram sessions.
    Sessions,
    /// Start the add-session conversation.
    AddSession,
    DeleteSession(SessionId),
    DeleteSessionConfirmed(SessionId),
    // ---- admin ----
    Admin,
    /// New user's registration: approve or reject.
    Approve(UserId),
    Reject(UserId),
    Users(UserFilter, u32),
    UserCard(UserId),
    /// An action on a user; the confirmed variant runs it.
    UserAction(UserAction, UserId),
    UserActionConfirmed(UserAction, UserId),
    Interval,
    /// Ask for a new canary.
    Canary,
    /// Forget the canary set at run time: the config's applies again.
    CanaryReset,
    DefaultMode(Mode),
    Confirmations(u32),
    Digest(bool),
    Stats,
    Restart,
    RestartConfirmed,
}

/// What an admin may do to a user from the user card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Approve,
    Revoke,
    Promote,
    Demote,
    Delete,
}

impl UserAction {
    pub const ALL: [UserAction; 5] = [
        UserAction::Approve,
        UserAction::Revoke,
        UserAction::Promote,
        UserAction::Demote,
        UserAction::Delete,
    ];

    fn code(self) -> &'static str {
        match self {
            UserAction::Approve => "a",
            UserAction::Revoke => "r",
            UserAction::Promote => "p",
            UserAction::Demote => "d",
            UserAction::Delete => "x",
        }
    }

    fn from_code(code: &str) -> Option<UserAction> {
        UserAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

fn state_code(state: AccountState) -> &'static str {
    match state {
        AccountState::Pending => "p",
        AccountState::Restored => "r",
        AccountState::Expired => "e",
        AccountState::Paused => "z",
    }
}

fn state_from(code: &str) -> Option<AccountState> {
    AccountState::ALL
        .into_iter()
        .find(|s| state_code(*s) == code)
}

fn filter_code(filter: UserFilter) -> &'static str {
    match filter {
        UserFilter::All => "all",
        UserFilter::Active => "act",
        UserFilter::Pending => "pen",
        UserFilter::Admins => "adm",
    }
}

const FILTERS: [UserFilter; 4] = [
    UserFilter::All,
    UserFilter::Active,
    UserFilter::Pending,
    UserFilter::Admins,
];

fn filter_from(code: &str) -> Option<UserFilter> {
    FILTERS.into_iter().find(|f| filter_code(*f) == code)
}

impl Callback {
    /// The data put on the button.
    pub fn encode(self) -> String {
        use Callback as C;
        match self {
            C::Noop => "n".into(),
            C::Period(days) => format!("pd:{days}"),
            C::List(state, page) => format!("l:{}:{page}", state_code(state)),
            C::Card(a) => format!("c:{a}"),
            C::Days(a, d) => format!("d:{a}:{d}"),
            C::DaysTyped(a) => format!("dt:{a}"),
            C::Pause(a) => format!("ps:{a}"),
            C::Resume(a) => format!("rs:{a}"),
            C::CheckOne(a) => format!("ck:{a}"),
            C::Delete(a) => format!("x:{a}"),
            C::DeleteConfirmed(a) => format!("xy:{a}"),
            C::FalseAlarm(a) => format!("fa:{a}"),
            C::BulkDeleteConfirmed => "bdy".into(),
            C::Cancel => "cn".into(),
            C::Settings => "s".into(),
            C::SetMode(m) => format!("sm:{}", m.as_str()),
            C::SetLang(l) => format!("sl:{}", l.as_str()),
            C::Keys => "k".into(),
            C::AddKey => "ka".into(),
            C::DeleteKey(k) => format!("kx:{k}"),
            C::Proxies => "px".into(),
            C::AddProxy => "pxa".into(),
            C::ProxyCard(p) => format!("pc:{p}"),
            C::ProxyEnabled(p, on) => format!("pe:{p}:{}", u8::from(on)),
            C::ProxyPriority(p, n) => format!("pp:{p}:{n}"),
            C::TestProxy(p) => format!("pt:{p}"),
            C::DeleteProxy(p) => format!("pdx:{p}"),
            C::DeleteProxyConfirmed(p) => format!("pdy:{p}"),
            C::Sessions => "ig".into(),
            C::AddSession => "iga".into(),
            C::DeleteSession(id) => format!("igx:{id}"),
            C::DeleteSessionConfirmed(id) => format!("igy:{id}"),
            C::Admin => "ad".into(),
            C::Approve(u) => format!("ua:{u}"),
            C::Reject(u) => format!("ur:{u}"),
            C::Users(f, page) => format!("us:{}:{page}", filter_code(f)),
            C::UserCard(u) => format!("uc:{u}"),
            C::UserAction(a, u) => format!("uq:{}:{u}", a.code()),
            C::UserActionConfirmed(a, u) => format!("uy:{}:{u}", a.code()),
            C::Interval => "iv".into(),
            C::Canary => "cy".into(),
            C::CanaryReset => "cyx".into(),
            C::DefaultMode(m) => format!("dm:{}", m.as_str()),
            C::Confirmations(n) => format!("cf:{n}"),
            C::Digest(on) => format!("dg:{}", u8::from(on)),
            C::Stats => "st".into(),
            C::Restart => "rb".into(),
            C::RestartConfirmed => "rby".into(),
        }
    }

    /// What the data asks for; `None` for anything this version did not produce.
    pub fn decode(data: &str) -> Option<Callback> {
        use Callback as C;
        if data.len() > MAX_LEN {
            return None;
        }
        let mut parts = data.split(':');
        let tag = parts.next()?;
        let a: Vec<&str> = parts.collect();
        let id = |i: usize| a.get(i)?.parse::<i64>().ok().filter(|n| *n > 0);
        let account = |i: usize| id(i).map(AccountId);
        let user = |i: usize| id(i).map(UserId);
        let num = |i: usize| a.get(i)?.parse::<u32>().ok();
        let decoded = match (tag, a.len()) {
            ("n", 0) => C::Noop,
            ("pd", 1) => C::Period(num(0)?),
            ("l", 2) => C::List(state_from(a[0])?, num(1)?),
            ("c", 1) => C::Card(account(0)?),
            ("d", 2) => C::Days(account(0)?, a[1].parse().ok()?),
            ("dt", 1) => C::DaysTyped(account(0)?),
            ("ps", 1) => C::Pause(account(0)?),
            ("rs", 1) => C::Resume(account(0)?),
            ("ck", 1) => C::CheckOne(account(0)?),
            ("x", 1) => C::Delete(account(0)?),
            ("xy", 1) => C::DeleteConfirmed(account(0)?),
            ("fa", 1) => C::FalseAlarm(account(0)?),
            ("bdy", 0) => C::BulkDeleteConfirmed,
            ("cn", 0) => C::Cancel,
            ("s", 0) => C::Settings,
            ("sm", 1) => C::SetMode(a[0].parse().ok()?),
            ("sl", 1) => C::SetLang(a[0].parse().ok()?),
            ("k", 0) => C::Keys,
            ("ka", 0) => C::AddKey,
            ("kx", 1) => C::DeleteKey(KeyId(id(0)?)),
            ("px", 0) => C::Proxies,
            ("pxa", 0) => C::AddProxy,
            ("pc", 1) => C::ProxyCard(ProxyId(id(0)?)),
            ("pe", 2) => match a[1] {
                "0" => C::ProxyEnabled(ProxyId(id(0)?), false),
                "1" => C::ProxyEnabled(ProxyId(id(0)?), true),
                _ => return None,
            },
            ("pp", 2) => C::ProxyPriority(
                ProxyId(id(0)?),
                a[1].parse::<u8>().ok().filter(|n| (1..=10).contains(n))?,
            ),
            ("pt", 1) => C::TestProxy(ProxyId(id(0)?)),
            ("pdx", 1) => C::DeleteProxy(ProxyId(id(0)?)),
            ("pdy", 1) => C::DeleteProxyConfirmed(ProxyId(id(0)?)),
            ("ig", 0) => C::Sessions,
            ("iga", 0) => C::AddSession,
            ("igx", 1) => C::DeleteSession(SessionId(id(0)?)),
            ("igy", 1) => C::DeleteSessionConfirmed(SessionId(id(0)?)),
            ("ad", 0) => C::Admin,
            ("ua", 1) => C::Approve(user(0)?),
            ("ur", 1) => C::Reject(user(0)?),
            ("us", 2) => C::Users(filter_from(a[0])?, num(1)?),
            ("uc", 1) => C::UserCard(user(0)?),
            ("uq", 2) => C::UserAction(UserAction::from_code(a[0])?, user(1)?),
            ("uy", 2) => C::UserActionConfirmed(UserAction::from_code(a[0])?, user(1)?),
            ("iv", 0) => C::Interval,
            ("cy", 0) => C::Canary,
            ("cyx", 0) => C::CanaryReset,
            ("dm", 1) => C::DefaultMode(a[0].parse().ok()?),
            ("cf", 1) => C::Confirmations(num(0)?),
            ("dg", 1) => match a[0] {
                "0" => C::Digest(false),
                "1" => C::Digest(true),
                _ => return None,
            },
            ("st", 0) => C::Stats,
            ("rb", 0) => C::Restart,
            ("rby", 0) => C::RestartConfirmed,
            _ => return None,
        };
        // Canonical form only: `c:007` or `pd:+7` are not what we produce.
        (decoded.encode() == data).then_some(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<Callback> {
        use Callback as C;
        let big = AccountId(i64::MAX);
        let user = UserId(i64::MAX);
        let mut all = vec![
            C::Noop,
            C::Period(u32::MAX),
            C::Card(big),
            C::Days(big, i32::MIN),
            C::Days(big, 30),
            C::DaysTyped(big),
            C::Pause(big),
            C::Resume(big),
            C::CheckOne(big),
            C::Delete(big),
            C::DeleteConfirmed(big),
            C::FalseAlarm(big),
            C::BulkDeleteConfirmed,
            C::Cancel,
            C::Settings,
            C::Keys,
            C::AddKey,
            C::DeleteKey(KeyId(i64::MAX)),
            C::Proxies,
            C::AddProxy,
            C::ProxyCard(ProxyId(i64::MAX)),
            C::ProxyEnabled(ProxyId(i64::MAX), true),
            C::ProxyEnabled(ProxyId(i64::MAX), false),
            C::ProxyPriority(ProxyId(i64::MAX), 1),
            C::ProxyPriority(ProxyId(i64::MAX), 10),
            C::TestProxy(ProxyId(i64::MAX)),
            C::DeleteProxy(ProxyId(i64::MAX)),
            C::DeleteProxyConfirmed(ProxyId(i64::MAX)),
            C::Sessions,
            C::AddSession,
            C::DeleteSession(SessionId(i64::MAX)),
            C::DeleteSessionConfirmed(SessionId(i64::MAX)),
            C::Admin,
            C::Approve(user),
            C::Reject(user),
            C::UserCard(user),
            C::Interval,
            C::Canary,
            C::CanaryReset,
            C::Confirmations(u32::MAX),
            C::Digest(true),
            C::Digest(false),
            C::Stats,
            C::Restart,
            C::RestartConfirmed,
        ];
        for state in AccountState::ALL {
            all.push(C::List(state, u32::MAX));
        }
        for mode in Mode::ALL {
            all.push(C::SetMode(mode));
            all.push(C::DefaultMode(mode));
        }
        for lang in [Lang::Ru, Lang::En] {
            all.push(C::SetLang(lang));
        }
        for filter in FILTERS {
            all.push(C::Users(filter, u32::MAX));
        }
        for action in UserAction::ALL {
            all.push(C::UserAction(action, user));
            all.push(C::UserActionConfirmed(action, user));
        }
        all
    }

    #[test]
    fn every_callback_round_trips_within_64_bytes() {
        let all = every_variant();
        let mut seen = std::collections::HashSet::new();
        for cb in all {
            let data = cb.encode();
            assert!(!data.is_empty() && data.len() <= MAX_LEN, "{data}");
            assert_eq!(Callback::decode(&data), Some(cb), "{data}");
            assert!(seen.insert(data.clone()), "duplicate encoding {data}");
        }
    }

    #[test]
    fn forged_or_foreign_data_is_refused() {
        for data in [
            "",
            "c",
            "c:",
            "c:abc",
            "c:-5",
            "c:0",
            "c:007",
            "c:1:2",
            "x:1;drop",
            "pd:+7",
            "l:q:0",
            "us:everyone:0",
            "uq:z:5",
            "dg:2",
            "pp:1:0",
            "pp:1:11",
            "pe:1:2",
            "pc:-1",
            "dt:0",
            "dt:1:2",
            "cy:1",
            "cyx:",
            "igx:0",
            "sm:fast",
            "zz:1",
            &"c:1".repeat(30),
        ] {
            assert_eq!(Callback::decode(data), None, "{data:?}");
        }
    }
}
