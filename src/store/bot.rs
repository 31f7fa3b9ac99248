//! What the Telegram bot needs from the database: registration and roles, paged lists, the
//! owner-checked account actions, false alarms, persisted conversations, the update offset,
//! statistics and the daily expiry reminders.
//!
//! Every account method takes the owner and matches it in the query itself, so a forged
//! account id of another owner finds nothing and changes nothing.

use super::accounts::{Account, ProbeRow};
use super::models::{AccountRow, NewUser, UserRow};
use super::outbox::insert_notice;
use super::schema::{accounts, outbox, probes, rapidapi_keys, users};
use super::users::{User, load_user};
use super::{Store, StoreError, ts, utc_day};
use crate::domain::{AccountId, AccountState, Lang, Mode, Notice, Role, UserId, Username};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

diesel::table! {
    bot_profiles (user_id) {
        user_id -> BigInt,
        name -> Text,
        handle -> Nullable<Text>,
    }
}

diesel::table! {
    bot_conversations (chat_id) {
        chat_id -> BigInt,
        state -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    false_alarms (id) {
        id -> BigInt,
        account_id -> BigInt,
        at -> BigInt,
        restored_at -> Nullable<BigInt>,
        evidence -> Text,
    }
}

diesel::table! {
    expiry_reminders (account_id, day) {
        account_id -> BigInt,
        day -> Text,
    }
}

/// Settings key of the next `getUpdates` offset (the last handled update id + 1).
pub const OFFSET_SETTING: &str = "telegram.offset";

/// Who a user is on Telegram, as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// The @username without the `@`.
    pub handle: Option<String>,
}

/// A user with what the admin screens show about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub user: User,
    pub profile: Profile,
    /// Listed in the config's `admin_ids` (cannot be demoted from the bot).
    pub config_admin: bool,
    pub accounts: u64,
}

impl UserSummary {
    pub fn is_admin(&self) -> bool {
        self.config_admin || self.user.role == Role::Admin
    }
}

/// Which users an admin list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserFilter {
    All,
    Active,
    /// Not active yet (waiting for approval) or revoked.
    Pending,
    Admins,
}

/// One page of a list and the total it was cut from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// The account card: the account and its latest probes, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCard {
    pub account: Account,
    pub history: Vec<ProbeRow>,
}

/// What a bulk delete did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveReport {
    pub removed: Vec<Username>,
    /// Not watched by this owner.
    pub missing: Vec<Username>,
}

/// Counts for the admin statistics screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotStats {
    pub users: u64,
    pub active_users: u64,
    pub admins: u64,
    pub accounts_by_state: HashMap<AccountState, u64>,
    /// Probes since the start of the UTC day, by verdict kind.
    pub probes_today: BTreeMap<String, u64>,
    pub outbox: u64,
    pub rapidapi_keys: u64,
}

/// How many probes the card shows.
pub const CARD_HISTORY: u32 = 5;

impl Store {
    /// `/start`: creates the user inactive when unknown (language and mode given), and records
    /// their Telegram name either way. Returns the user and whether it was created now.
    pub fn register_user(
        &self,
        id: UserId,
        lang: Lang,
        mode: Mode,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), StoreError> {
        self.write(|conn| {
            let inserted = diesel::insert_into(users::table)
                .values(NewUser {
                    id: id.0,
                    role: Role::User.as_str(),
                    active: false,
                    language: lang.as_str(),
                    mode: mode.as_str(),
                    created_at: ts(now),
                })
                .on_conflict_do_nothing()
                .execute(conn)?;
            save_profile(conn, id, profile)?;
            let user = load_user(conn, id)?.ok_or(StoreError::UnknownUser(id))?;
            Ok((user, inserted == 1))
        })
    }

    /// Updates the stored Telegram name of a known user (no-op for unknown ones).
    pub fn touch_profile(&self, id: UserId, profile: &Profile) -> Result<(), StoreError> {
        self.write(|conn| {
            if load_user(conn, id)?.is_some() {
                save_profile(conn, id, profile)?;
            }
            Ok(())
        })
    }

    pub fn profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        let row: Option<(String, Option<String>)> = bot_profiles::table
            .find(id.0)
            .select((bot_profiles::name, bot_profiles::handle))
            .first(&mut self.conn()?)
            .optional()?;
        Ok(row.map(|(name, handle)| Profile { name, handle }))
    }

    /// Sets a user's role; `false` when there is no such user.
    pub fn set_user_role(&self, id: UserId, role: Role) -> Result<bool, StoreError> {
        let n = diesel::update(users::table.find(id.0))
            .set(users::role.eq(role.as_str()))
            .execute(&mut self.conn()?)?;
        Ok(n == 1)
    }

    pub fn set_user_lang(&self, id: UserId, lang: Lang) -> Result<bool, StoreError> {
        let n = diesel::update(users::table.find(id.0))
            .set(users::language.eq(lang.as_str()))
            .execute(&mut self.conn()?)?;
        Ok(n == 1)
    }

    pub fn set_user_mode(&self, id: UserId, mode: Mode) -> Result<bool, StoreError> {
        let n = diesel::update(users::table.find(id.0))
            .set(users::mode.eq(mode.as_str()))
            .execute(&mut self.conn()?)?;
        Ok(n == 1)
    }

    /// Deletes a user with everything they own (accounts, keys, sessions, queued messages).
    pub fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        self.write(|conn| {
            diesel::delete(outbox::table.filter(outbox::chat_id.eq(id.0))).execute(conn)?;
            diesel::delete(bot_conversations::table.find(id.0)).execute(conn)?;
            let n = diesel::delete(users::table.find(id.0)).execute(conn)?;
            Ok(n == 1)
        })
    }

    /// A user with their profile, account count and whether the config makes them admin.
    pub fn user_summary(
        &self,
        id: UserId,
        config_admins: &[UserId],
    ) -> Result<Option<UserSummary>, StoreError> {
        let mut conn = self.conn()?;
        let Some(user) = load_user(&mut conn, id)? else {
            return Ok(None);
        };
        let accounts: i64 = accounts::table
            .filter(accounts::owner_id.eq(id.0))
            .select(count_star())
            .first(&mut conn)?;
        drop(conn);
        let profile = self.profile(id)?.unwrap_or_default();
        Ok(Some(UserSummary {
            config_admin: config_admins.contains(&id),
            user,
            profile,
            accounts: accounts.unsigned_abs(),
        }))
    }

    /// One page of users matching `filter`, by id.
    pub fn users_page(
        &self,
        filter: UserFilter,
        config_admins: &[UserId],
        page: u32,
        per_page: u32,
    ) -> Result<Page<UserSummary>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<UserRow> = users::table
            .order(users::id)
            .select(UserRow::as_select())
            .load(&mut conn)?;
        let profiles: BTreeMap<i64, (String, Option<String>)> = bot_profiles::table
            .select((
                bot_profiles::user_id,
                bot_profiles::name,
                bot_profiles::handle,
            ))
            .load::<(i64, String, Option<String>)>(&mut conn)?
            .into_iter()
            .map(|(id, name, handle)| (id, (name, handle)))
            .collect();
        let counts: BTreeMap<i64, i64> = accounts::table
            .group_by(accounts::owner_id)
            .select((accounts::owner_id, count_star()))
            .load::<(i64, i64)>(&mut conn)?
            .into_iter()
            .collect();
        let mut all = Vec::new();
        for row in rows {
            let user = User::try_from(row)?;
            let (name, handle) = profiles.get(&user.id.0).cloned().unwrap_or_default();
            let summary = UserSummary {
                config_admin: config_admins.contains(&user.id),
                accounts: counts.get(&user.id.0).map_or(0, |n| n.unsigned_abs()),
                profile: Profile { name, handle },
                user,
            };
            let keep = match filter {
                UserFilter::All => true,
                UserFilter::Active => summary.user.active,
                UserFilter::Pending => !summary.user.active,
                UserFilter::Admins => summary.is_admin(),
            };
            if keep {
                all.push(summary);
            }
        }
        Ok(paginate(all, page, per_page))
    }

    /// One page of the owner's accounts in `state`, by username.
    pub fn accounts_page(
        &self,
        owner: UserId,
        state: AccountState,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Account>, StoreError> {
        let mut conn = self.conn()?;
        let base = accounts::table
            .filter(accounts::owner_id.eq(owner.0))
            .filter(accounts::state.eq(state.as_str()));
        let total: i64 = base.select(count_star()).first(&mut conn)?;
        let items = base
            .order(accounts::username)
            .offset(i64::from(page) * i64::from(per_page))
            .limit(i64::from(per_page))
            .select(AccountRow::as_select())
            .load(&mut conn)?
            .into_iter()
            .map(Account::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total: total.unsigned_abs(),
        })
    }

    /// The owner's account `id`, or `None` when it does not exist or belongs to someone else.
    pub fn owned_account(
        &self,
        owner: UserId,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let mut conn = self.conn()?;
        load_owned(&mut conn, owner, id)
    }

    /// The account card of the owner's account `id` with its last [`CARD_HISTORY`] probes.
    pub fn account_card(
        &self,
        owner: UserId,
        id: AccountId,
    ) -> Result<Option<AccountCard>, StoreError> {
        let Some(account) = self.owned_account(owner, id)? else {
            return Ok(None);
        };
        let history = self.account_history(id, CARD_HISTORY)?;
        Ok(Some(AccountCard { account, history }))
    }

    /// The owner's account by name.
    pub fn account_by_name(
        &self,
        owner: UserId,
        name: &Username,
    ) -> Result<Option<Account>, StoreError> {
        accounts::table
            .filter(accounts::owner_id.eq(owner.0))
            .filter(accounts::username.eq(name.as_str()))
            .select(AccountRow::as_select())
            .first(&mut self.conn()?)
            .optional()?
            .map(Account::try_from)
            .transpose()
    }

    /// Pauses a pending account (`pause`) or resumes a paused one; any other state is left as
    /// it is. `None` when the owner has no such account.
    pub fn set_account_paused(
        &self,
        owner: UserId,
        id: AccountId,
        pause: bool,
    ) -> Result<Option<Account>, StoreError> {
        let (from, to) = if pause {
            (AccountState::Pending, AccountState::Paused)
        } else {
            (AccountState::Paused, AccountState::Pending)
        };
        self.write(|conn| {
            diesel::update(
                accounts::table
                    .find(id.0)
                    .filter(accounts::owner_id.eq(owner.0))
                    .filter(accounts::state.eq(from.as_str())),
            )
            .set(accounts::state.eq(to.as_str()))
            .execute(conn)?;
            load_owned(conn, owner, id)
        })
    }

    /// Moves the end of the period by `days` (negative shortens; the period stays ≥ 1 day).
    /// Extending an expired account counts from now when its end is past, and makes it
    /// pending again. `None` when the owner has no such account.
    pub fn shift_account_days(
        &self,
        owner: UserId,
        id: AccountId,
        days: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        self.write(|conn| {
            let Some(account) = load_owned(conn, owner, id)? else {
                return Ok(None);
            };
            let old = i64::from(account.period_days);
            let out_of_range = || StoreError::PeriodOutOfRange(account.period_days);
            let (period, ends_at, state) = if account.state == AccountState::Expired && days > 0 {
                let base = account.ends_at.max(now);
                let ends = TimeDelta::try_days(i64::from(days))
                    .and_then(|d| base.checked_add_signed(d))
                    .ok_or_else(out_of_range)?;
                (old + i64::from(days), ends, AccountState::Pending)
            } else {
                let period = (old + i64::from(days)).max(1);
                let ends = TimeDelta::try_days(period - old)
                    .and_then(|d| account.ends_at.checked_add_signed(d))
                    .ok_or_else(out_of_range)?;
                (period, ends, account.state)
            };
            diesel::update(accounts::table.find(id.0))
                .set((
                    accounts::period_days.eq(period),
                    accounts::ends_at.eq(ts(ends_at)),
                    accounts::state.eq(state.as_str()),
                ))
                .execute(conn)?;
            load_owned(conn, owner, id)
        })
    }

    /// The owner says a restore alert was wrong: a restored account goes back to pending and
    /// the probes that restored it are kept as evidence. `None` when the owner has no such
    /// account; an account that is not restored is returned unchanged (pressing twice is
    /// harmless).
    pub fn false_alarm(
        &self,
        owner: UserId,
        id: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        let evidence = self.account_history(id, CARD_HISTORY)?;
        let evidence = serde_json::to_string(
            &evidence
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "at": p.at.to_rfc3339(),
                        "verdict": p.verdict,
                        "reason": p.reason.map(|r| r.as_str()),
                        "sources": p.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                        "rule": p.rule,
                    })
                })
                .collect::<Vec<_>>(),
        )?;
        self.write(|conn| {
            let Some(account) = load_owned(conn, owner, id)? else {
                return Ok(None);
            };
            if account.state != AccountState::Restored {
                return Ok(Some(account));
            }
            diesel::insert_into(false_alarms::table)
                .values((
                    false_alarms::account_id.eq(id.0),
                    false_alarms::at.eq(ts(now)),
                    false_alarms::restored_at.eq(account.restored_at.map(ts)),
                    false_alarms::evidence.eq(&evidence),
                ))
                .execute(conn)?;
            diesel::update(accounts::table.find(id.0))
                .set((
                    accounts::state.eq(AccountState::Pending.as_str()),
                    accounts::restored_at.eq(None::<i64>),
                    accounts::confirmations.eq(0),
                ))
                .execute(conn)?;
            load_owned(conn, owner, id)
        })
    }

    /// How many false alarms were recorded for an account (the evidence stays in the table).
    pub fn false_alarm_count(&self, id: AccountId) -> Result<u64, StoreError> {
        let n: i64 = false_alarms::table
            .filter(false_alarms::account_id.eq(id.0))
            .select(count_star())
            .first(&mut self.conn()?)?;
        Ok(n.unsigned_abs())
    }

    /// Deletes one of the owner's accounts; its name, or `None` when there was none.
    pub fn remove_owned_account(
        &self,
        owner: UserId,
        id: AccountId,
    ) -> Result<Option<Username>, StoreError> {
        self.write(|conn| {
            let Some(account) = load_owned(conn, owner, id)? else {
                return Ok(None);
            };
            diesel::delete(accounts::table.find(id.0)).execute(conn)?;
            Ok(Some(account.username))
        })
    }

    /// Bulk delete by name, in one transaction, reporting which names were not watched.
    pub fn remove_accounts_by_name(
        &self,
        owner: UserId,
        names: &[Username],
    ) -> Result<RemoveReport, StoreError> {
        self.write(|conn| {
            let mut report = RemoveReport::default();
            let mut seen = BTreeSet::new();
            for name in names {
                if !seen.insert(name.as_str().to_owned()) {
                    continue;
                }
                let n = diesel::delete(
                    accounts::table
                        .filter(accounts::owner_id.eq(owner.0))
                        .filter(accounts::username.eq(name.as_str())),
                )
                .execute(conn)?;
                if n == 1 {
                    report.removed.push(name.clone());
                } else {
                    report.missing.push(name.clone());
                }
            }
            Ok(report)
        })
    }

    /// The persisted conversation of a chat (JSON written by the bot).
    pub fn conversation(&self, chat: UserId) -> Result<Option<String>, StoreError> {
        Ok(bot_conversations::table
            .find(chat.0)
            .select(bot_conversations::state)
            .first(&mut self.conn()?)
            .optional()?)
    }

    pub fn set_conversation(
        &self,
        chat: UserId,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::insert_into(bot_conversations::table)
                .values((
                    bot_conversations::chat_id.eq(chat.0),
                    bot_conversations::state.eq(state),
                    bot_conversations::updated_at.eq(ts(now)),
                ))
                .on_conflict(bot_conversations::chat_id)
                .do_update()
                .set((
                    bot_conversations::state.eq(state),
                    bot_conversations::updated_at.eq(ts(now)),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    pub fn clear_conversation(&self, chat: UserId) -> Result<(), StoreError> {
        diesel::delete(bot_conversations::table.find(chat.0)).execute(&mut self.conn()?)?;
        Ok(())
    }

    /// The next `getUpdates` offset, if one was stored.
    pub fn update_offset(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .setting(OFFSET_SETTING)?
            .and_then(|v| v.trim().parse().ok()))
    }

    pub fn set_update_offset(&self, offset: i64) -> Result<(), StoreError> {
        self.set_setting(OFFSET_SETTING, &offset.to_string())
    }

    /// Counts for the admin statistics.
    pub fn bot_stats(
        &self,
        config_admins: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<BotStats, StoreError> {
        let mut conn = self.conn()?;
        let users: Vec<(i64, bool, String)> = users::table
            .select((users::id, users::active, users::role))
            .load(&mut conn)?;
        let mut stats = BotStats {
            users: users.len() as u64,
            active_users: users.iter().filter(|u| u.1).count() as u64,
            admins: users
                .iter()
                .filter(|u| u.2 == Role::Admin.as_str() || config_admins.contains(&UserId(u.0)))
                .count() as u64,
            ..BotStats::default()
        };
        for state in AccountState::ALL {
            stats.accounts_by_state.insert(state, 0);
        }
        stats.accounts_by_state.extend(self.account_counts()?);
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |d| d.and_utc());
        let probes_today: Vec<(String, i64)> = probes::table
            .filter(probes::at.ge(ts(midnight)))
            .group_by(probes::verdict)
            .select((probes::verdict, count_star()))
            .load(&mut conn)?;
        stats.probes_today = probes_today
            .into_iter()
            .map(|(v, n)| (v, n.unsigned_abs()))
            .collect();
        let outbox_len: i64 = outbox::table.select(count_star()).first(&mut conn)?;
        stats.outbox = outbox_len.unsigned_abs();
        let keys: i64 = rapidapi_keys::table.select(count_star()).first(&mut conn)?;
        stats.rapidapi_keys = keys.unsigned_abs();
        Ok(stats)
    }

    /// The daily expiry reminder: pending accounts of active owners ending within
    /// `within_days` that were not reminded on the UTC day of `now` are marked reminded and one
    /// [`Notice::ExpiringSoon`] per owner is queued, all in one transaction (so a restart never
    /// sends the same day's reminder twice). Returns how many accounts were included.
    pub fn queue_expiry_reminders(
        &self,
        within_days: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let today = utc_day(now);
        let horizon = TimeDelta::try_days(i64::from(within_days))
            .and_then(|d| now.checked_add_signed(d))
            .ok_or(StoreError::PeriodOutOfRange(within_days))?;
        self.write(|conn| {
            let reminded: Vec<i64> = expiry_reminders::table
                .filter(expiry_reminders::day.eq(&today))
                .select(expiry_reminders::account_id)
                .load(conn)?;
            let rows: Vec<AccountRow> = accounts::table
                .inner_join(users::table)
                .filter(users::active.eq(true))
                .filter(accounts::state.eq(AccountState::Pending.as_str()))
                .filter(accounts::ends_at.gt(ts(now)))
                .filter(accounts::ends_at.le(ts(horizon)))
                .filter(accounts::id.ne_all(&reminded))
                .order((accounts::owner_id, accounts::ends_at))
                .select(AccountRow::as_select())
                .load(conn)?;
            type Expiring = (AccountId, Username, DateTime<Utc>);
            let mut per_owner: BTreeMap<UserId, Vec<Expiring>> = BTreeMap::new();
            for row in rows {
                let account = Account::try_from(row)?;
                diesel::insert_into(expiry_reminders::table)
                    .values((
                        expiry_reminders::account_id.eq(account.id.0),
                        expiry_reminders::day.eq(&today),
                    ))
                    .execute(conn)?;
                per_owner.entry(account.owner).or_default().push((
                    account.id,
                    account.username,
                    account.ends_at,
                ));
            }
            let mut total = 0;
            for (owner, accounts) in per_owner {
                total += accounts.len();
                insert_notice(conn, owner, &Notice::ExpiringSoon { accounts }, now)?;
            }
            Ok(total)
        })
    }
}

fn save_profile(
    conn: &mut SqliteConnection,
    id: UserId,
    profile: &Profile,
) -> Result<(), StoreError> {
    diesel::insert_into(bot_profiles::table)
        .values((
            bot_profiles::user_id.eq(id.0),
            bot_profiles::name.eq(&profile.name),
            bot_profiles::handle.eq(&profile.handle),
        ))
        .on_conflict(bot_profiles::user_id)
        .do_update()
        .set((
            bot_profiles::name.eq(&profile.name),
            bot_profiles::handle.eq(&profile.handle),
        ))
        .execute(conn)?;
    Ok(())
}

fn load_owned(
    conn: &mut SqliteConnection,
    owner: UserId,
    id: AccountId,
) -> Result<Option<Account>, StoreError> {
    accounts::table
        .find(id.0)
        .filter(accounts::owner_id.eq(owner.0))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

fn paginate<T>(all: Vec<T>, page: u32, per_page: u32) -> Page<T> {
    let total = all.len() as u64;
    let start = (page as usize).saturating_mul(per_page as usize);
    let items = all
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    Page { items, total }
}
