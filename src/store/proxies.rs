//! Owners' proxies: stored with the password encrypted, listed without it, health recorded
//! (auto-disabled after repeated failures, re-tested later).
//!
//! A proxy with `enabled = false` and `fail_streak >= PROXY_FAIL_LIMIT` was disabled by its
//! health (re-tested from `cooldown_until`); one disabled by its owner has `fail_streak = 0`.

use super::schema::proxies;
use super::users::ensure_user;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{ProxyAuth, ProxyId, ProxyScheme, ProxySpec, UserId, proxy_safe_text};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use secrecy::ExposeSecret;

/// Consecutive failures after which a proxy is disabled.
pub const PROXY_FAIL_LIMIT: u32 = 5;
/// How long an auto-disabled proxy waits before it is re-tested.
pub const PROXY_RETEST_AFTER: TimeDelta = TimeDelta::hours(1);
/// Priority of a new proxy (1 is best, 10 worst).
pub const DEFAULT_PROXY_PRIORITY: u8 = 5;

/// What may be shown about a proxy: never its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyInfo {
    pub id: ProxyId,
    pub owner: UserId,
    /// `scheme://user:***@host:port`.
    pub spec_safe: String,
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    pub has_auth: bool,
    pub enabled: bool,
    /// 1 (best) … 10.
    pub priority: u8,
    pub fail_streak: u32,
    /// For a proxy disabled by its health: not re-tested before this time.
    pub cooldown_until: Option<DateTime<Utc>>,
}

/// Result of [`Store::add_proxies`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddProxiesReport {
    pub added: Vec<ProxyId>,
    /// Proxies skipped because the owner already has the same `scheme://host:port`.
    pub duplicates: usize,
}

/// What [`Store::record_proxy_result`] did to a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHealth {
    pub fail_streak: u32,
    pub enabled: bool,
    /// This failure disabled the proxy: tell the owner.
    pub just_disabled: bool,
    /// This success re-enabled a proxy its health had disabled: tell the owner.
    pub just_reenabled: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = proxies, check_for_backend(diesel::sqlite::Sqlite))]
struct ProxyRow {
    id: i64,
    owner_id: i64,
    scheme: String,
    host: String,
    port: i64,
    username: Option<String>,
    enabled: bool,
    priority: i64,
    fail_streak: i64,
    cooldown_until: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = proxies)]
struct NewProxy<'a> {
    owner_id: i64,
    scheme: &'a str,
    host: &'a str,
    port: i64,
    username: Option<&'a str>,
    password_enc: Option<Vec<u8>>,
    enabled: bool,
    priority: i64,
    fail_streak: i64,
    created_at: i64,
}

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRow(format!("proxy {what} `{value}`"))
}

impl ProxyRow {
    fn scheme(&self) -> Result<ProxyScheme, StoreError> {
        self.scheme
            .parse()
            .map_err(|_| corrupt("scheme", &self.scheme))
    }

    fn port(&self) -> Result<u16, StoreError> {
        u16::try_from(self.port).map_err(|_| corrupt("port", self.port))
    }

    fn info(self) -> Result<ProxyInfo, StoreError> {
        let scheme = self.scheme()?;
        let port = self.port()?;
        Ok(ProxyInfo {
            id: ProxyId(self.id),
            owner: UserId(self.owner_id),
            spec_safe: proxy_safe_text(scheme, &self.host, port, self.username.as_deref()),
            scheme,
            port,
            has_auth: self.username.is_some(),
            enabled: self.enabled,
            priority: u8::try_from(self.priority)
                .map_err(|_| corrupt("priority", self.priority))?,
            fail_streak: u32::try_from(self.fail_streak)
                .map_err(|_| corrupt("fail streak", self.fail_streak))?,
            cooldown_until: self.cooldown_until.map(from_ts).transpose()?,
            host: self.host,
        })
    }
}

impl Store {
    /// Adds proxies for `owner` with priority 5, passwords encrypted. A proxy the owner already
    /// has (same `scheme://host:port`) is skipped and counted. Refused with
    /// [`StoreError::NoCipher`] when a proxy has a password and no encryption key is configured.
    pub fn add_proxies(
        &self,
        owner: UserId,
        specs: &[ProxySpec],
        now: DateTime<Utc>,
    ) -> Result<AddProxiesReport, StoreError> {
        let encrypted: Vec<Option<Vec<u8>>> = specs
            .iter()
            .map(|spec| match &spec.auth {
                Some(auth) => Ok(Some(self.cipher()?.encrypt(auth.password.expose_secret()))),
                None => Ok(None),
            })
            .collect::<Result<_, StoreError>>()?;
        self.write(|conn| {
            ensure_user(conn, owner)?;
            let mut report = AddProxiesReport::default();
            for (spec, password_enc) in specs.iter().zip(encrypted) {
                let port = i64::from(spec.port);
                let exists: i64 = proxies::table
                    .filter(proxies::owner_id.eq(owner.0))
                    .filter(proxies::scheme.eq(spec.scheme.as_str()))
                    .filter(proxies::host.eq(&spec.host))
                    .filter(proxies::port.eq(port))
                    .count()
                    .get_result(conn)?;
                if exists > 0 {
                    report.duplicates += 1;
                    continue;
                }
                let id = diesel::insert_into(proxies::table)
                    .values(NewProxy {
                        owner_id: owner.0,
                        scheme: spec.scheme.as_str(),
                        host: &spec.host,
                        port,
                        username: spec.auth.as_ref().map(|a| a.username.as_str()),
                        password_enc,
                        enabled: true,
                        priority: i64::from(DEFAULT_PROXY_PRIORITY),
                        fail_streak: 0,
                        created_at: ts(now),
                    })
                    .returning(proxies::id)
                    .get_result(conn)?;
                report.added.push(ProxyId(id));
            }
            Ok(report)
        })
    }

    /// The owner's proxies, best priority first, then in id order.
    pub fn proxies(&self, owner: UserId) -> Result<Vec<ProxyInfo>, StoreError> {
        proxies::table
            .filter(proxies::owner_id.eq(owner.0))
            .order((proxies::priority, proxies::id))
            .select(ProxyRow::as_select())
            .load(&mut self.conn()?)?
            .into_iter()
            .map(ProxyRow::info)
            .collect()
    }

    /// One of the owner's proxies with its password decrypted, for use.
    pub fn proxy_spec(&self, owner: UserId, id: ProxyId) -> Result<Option<ProxySpec>, StoreError> {
        let found: Option<(ProxyRow, Option<Vec<u8>>)> = proxies::table
            .find(id.0)
            .filter(proxies::owner_id.eq(owner.0))
            .select((ProxyRow::as_select(), proxies::password_enc))
            .first(&mut self.conn()?)
            .optional()?;
        found
            .map(|(row, blob)| self.spec_of(&row, blob))
            .transpose()
    }

    /// The owner's enabled proxies with passwords decrypted, best priority first: the
    /// candidates for `EgressPool::pick`.
    pub fn enabled_proxy_specs(
        &self,
        owner: UserId,
    ) -> Result<Vec<(ProxyInfo, ProxySpec)>, StoreError> {
        let rows: Vec<(ProxyRow, Option<Vec<u8>>)> = proxies::table
            .filter(proxies::owner_id.eq(owner.0))
            .filter(proxies::enabled.eq(true))
            .order((proxies::priority, proxies::id))
            .select((ProxyRow::as_select(), proxies::password_enc))
            .load(&mut self.conn()?)?;
        rows.into_iter()
            .map(|(row, blob)| {
                let spec = self.spec_of(&row, blob)?;
                Ok((row.info()?, spec))
            })
            .collect()
    }

    fn spec_of(&self, row: &ProxyRow, blob: Option<Vec<u8>>) -> Result<ProxySpec, StoreError> {
        let auth = match (&row.username, blob) {
            (Some(username), Some(blob)) => Some(ProxyAuth {
                username: username.clone(),
                password: self.cipher()?.decrypt(&blob)?,
            }),
            (None, None) => None,
            _ => return Err(corrupt("credentials of", row.id)),
        };
        Ok(ProxySpec {
            scheme: row.scheme()?,
            host: row.host.clone(),
            port: row.port()?,
            auth,
        })
    }

    /// Enables or disables one of the owner's proxies; either way its failure streak and
    /// re-test time are cleared. `false` when the owner has no such proxy.
    pub fn set_proxy_enabled(
        &self,
        owner: UserId,
        id: ProxyId,
        enabled: bool,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            let updated = diesel::update(
                proxies::table
                    .find(id.0)
                    .filter(proxies::owner_id.eq(owner.0)),
            )
            .set((
                proxies::enabled.eq(enabled),
                proxies::fail_streak.eq(0),
                proxies::cooldown_until.eq(None::<i64>),
            ))
            .execute(conn)?;
            Ok(updated == 1)
        })
    }

    /// Sets the priority (1 best … 10; other values are clamped). `false` when the owner has no
    /// such proxy.
    pub fn set_proxy_priority(
        &self,
        owner: UserId,
        id: ProxyId,
        priority: u8,
    ) -> Result<bool, StoreError> {
        let priority = i64::from(priority.clamp(1, 10));
        self.write(|conn| {
            let updated = diesel::update(
                proxies::table
                    .find(id.0)
                    .filter(proxies::owner_id.eq(owner.0)),
            )
            .set(proxies::priority.eq(priority))
            .execute(conn)?;
            Ok(updated == 1)
        })
    }

    /// Records whether using the proxy worked (the proxy itself, not the profile). The
    /// [`PROXY_FAIL_LIMIT`]th consecutive failure disables it and sets a re-test time
    /// [`PROXY_RETEST_AFTER`] ahead (a failed re-test moves it on); a success re-enables a proxy
    /// its health disabled, never one its owner disabled. `None` for an unknown id.
    pub fn record_proxy_result(
        &self,
        id: ProxyId,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<ProxyHealth>, StoreError> {
        let limit = i64::from(PROXY_FAIL_LIMIT);
        self.write(|conn| {
            let found: Option<(bool, i64)> = proxies::table
                .find(id.0)
                .select((proxies::enabled, proxies::fail_streak))
                .first(conn)
                .optional()?;
            let Some((enabled, streak)) = found else {
                return Ok(None);
            };
            let health_disabled = !enabled && streak >= limit;
            if !enabled && !health_disabled {
                // Disabled by the owner: results of stray uses change nothing.
                return Ok(Some(ProxyHealth {
                    fail_streak: u32::try_from(streak).unwrap_or(u32::MAX),
                    enabled,
                    just_disabled: false,
                    just_reenabled: false,
                }));
            }
            let health = if ok {
                diesel::update(proxies::table.find(id.0))
                    .set((
                        proxies::enabled.eq(true),
                        proxies::fail_streak.eq(0),
                        proxies::cooldown_until.eq(None::<i64>),
                    ))
                    .execute(conn)?;
                ProxyHealth {
                    fail_streak: 0,
                    enabled: true,
                    just_disabled: false,
                    just_reenabled: health_disabled,
                }
            } else {
                let streak = streak.saturating_add(1);
                let disable = streak >= limit;
                let retest = disable.then(|| ts(now + PROXY_RETEST_AFTER));
                diesel::update(proxies::table.find(id.0))
                    .set((
                        proxies::enabled.eq(!disable),
                        proxies::fail_streak.eq(streak),
                        proxies::cooldown_until.eq(retest),
                    ))
                    .execute(conn)?;
                ProxyHealth {
                    fail_streak: u32::try_from(streak).unwrap_or(u32::MAX),
                    enabled: !disable,
                    just_disabled: disable && enabled,
                    just_reenabled: false,
                }
            };
            Ok(Some(health))
        })
    }

    /// Proxies (of every owner) disabled by their health whose re-test time has come.
    pub fn proxies_due_for_retest(&self, now: DateTime<Utc>) -> Result<Vec<ProxyInfo>, StoreError> {
        proxies::table
            .filter(proxies::enabled.eq(false))
            .filter(proxies::fail_streak.ge(i64::from(PROXY_FAIL_LIMIT)))
            .filter(proxies::cooldown_until.le(ts(now)))
            .order(proxies::id)
            .select(ProxyRow::as_select())
            .load(&mut self.conn()?)?
            .into_iter()
            .map(ProxyRow::info)
            .collect()
    }

    /// Deletes one of the owner's proxies; `false` when the owner has no such proxy.
    pub fn remove_proxy(&self, owner: UserId, id: ProxyId) -> Result<bool, StoreError> {
        self.write(|conn| {
            let deleted = diesel::delete(
                proxies::table
                    .find(id.0)
                    .filter(proxies::owner_id.eq(owner.0)),
            )
            .execute(conn)?;
            Ok(deleted == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Lang, Mode, Role};
    use crate::secret::SecretCipher;
    use chrono::TimeZone;
    use std::time::Duration;
    use tempfile::TempDir;

    const ALICE: UserId = UserId(100);
    const BOB: UserId = UserId(200);

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap() + TimeDelta::seconds(secs)
    }

    fn open(dir: &TempDir, cipher: Option<SecretCipher>) -> Store {
        let store = Store::open(
            &dir.path().join("igwatch.db"),
            Duration::from_secs(5),
            10,
            cipher,
        )
        .unwrap();
        for user in [ALICE, BOB] {
            store
                .upsert_user(user, Role::User, true, Lang::En, Mode::Api, t(0))
                .unwrap();
        }
        store
    }

    fn specs(texts: &[&str]) -> Vec<ProxySpec> {
        texts.iter().map(|t| ProxySpec::parse(t).unwrap()).collect()
    }

    #[test]
    fn add_list_decrypt_and_dedupe() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([7; 32])));
        let report = store
            .add_proxies(
                ALICE,
                &specs(&[
                    "socks5://bob:Sup3rSecretPw@proxy.example:1080",
                    "1.2.3.4:8080",
                    "1.2.3.4:8080",
                ]),
                t(0),
            )
            .unwrap();
        assert_eq!(report.added.len(), 2);
        assert_eq!(report.duplicates, 1);
        let again = store
            .add_proxies(
                ALICE,
                &specs(&["SOCKS5://x:y@proxy.example:1080", "1.2.3.4:8081"]),
                t(1),
            )
            .unwrap();
        assert_eq!((again.added.len(), again.duplicates), (1, 1));
        // Another owner may add the same proxy.
        let bob = store
            .add_proxies(BOB, &specs(&["1.2.3.4:8080"]), t(1))
            .unwrap();
        assert_eq!(bob.added.len(), 1);

        let list = store.proxies(ALICE).unwrap();
        assert_eq!(list.len(), 3);
        let socks = &list[0];
        assert_eq!(socks.spec_safe, "socks5://bob:***@proxy.example:1080");
        assert_eq!(
            (
                socks.scheme,
                socks.port,
                socks.has_auth,
                socks.enabled,
                socks.priority
            ),
            (ProxyScheme::Socks5, 1080, true, true, 5)
        );
        assert!(!format!("{list:?}").contains("Sup3rSecretPw"));

        let spec = store.proxy_spec(ALICE, socks.id).unwrap().unwrap();
        let auth = spec.auth.unwrap();
        assert_eq!(auth.username, "bob");
        assert_eq!(auth.password.expose_secret(), "Sup3rSecretPw");
        assert!(store.proxy_spec(BOB, socks.id).unwrap().is_none());
        let plain = store.proxy_spec(ALICE, list[1].id).unwrap().unwrap();
        assert!(plain.auth.is_none());
    }

    #[test]
    fn the_database_holds_no_plaintext_password() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([7; 32])));
        store
            .add_proxies(
                ALICE,
                &specs(&["http://user:PlainTextNeverStored@h.example:3128"]),
                t(0),
            )
            .unwrap();
        drop(store);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes
                    .windows(b"PlainTextNeverStored".len())
                    .any(|w| w == b"PlainTextNeverStored")
            );
        }
    }

    #[test]
    fn passwords_need_a_cipher() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, None);
        let err = store
            .add_proxies(ALICE, &specs(&["1.2.3.4:80", "1.2.3.4:81:u:p"]), t(0))
            .unwrap_err();
        assert!(matches!(err, StoreError::NoCipher));
        assert!(store.proxies(ALICE).unwrap().is_empty());
        // Proxies without credentials need no key.
        let ok = store
            .add_proxies(ALICE, &specs(&["1.2.3.4:80"]), t(0))
            .unwrap();
        assert_eq!(ok.added.len(), 1);
        assert!(store.proxy_spec(ALICE, ok.added[0]).unwrap().is_some());
    }

    #[test]
    fn enable_priority_remove_belong_to_the_owner() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([7; 32])));
        let ids = store
            .add_proxies(ALICE, &specs(&["a.example:1", "b.example:2"]), t(0))
            .unwrap()
            .added;
        assert!(!store.set_proxy_priority(BOB, ids[1], 1).unwrap());
        assert!(store.set_proxy_priority(ALICE, ids[1], 1).unwrap());
        assert!(store.set_proxy_priority(ALICE, ids[0], 99).unwrap());
        let list = store.proxies(ALICE).unwrap();
        assert_eq!((list[0].id, list[0].priority), (ids[1], 1));
        assert_eq!((list[1].id, list[1].priority), (ids[0], 10));

        assert!(!store.set_proxy_enabled(BOB, ids[0], false).unwrap());
        assert!(store.set_proxy_enabled(ALICE, ids[0], false).unwrap());
        let enabled = store.enabled_proxy_specs(ALICE).unwrap();
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].0.id, ids[1]);
        assert_eq!(enabled[0].1.host, "b.example");

        assert!(!store.remove_proxy(BOB, ids[0]).unwrap());
        assert!(store.remove_proxy(ALICE, ids[0]).unwrap());
        assert!(!store.remove_proxy(ALICE, ids[0]).unwrap());
        assert_eq!(store.proxies(ALICE).unwrap().len(), 1);
    }

    #[test]
    fn health_disables_after_five_failures_and_retests() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([7; 32])));
        let id = store
            .add_proxies(ALICE, &specs(&["a.example:1"]), t(0))
            .unwrap()
            .added[0];
        for n in 1..PROXY_FAIL_LIMIT {
            let h = store.record_proxy_result(id, false, t(0)).unwrap().unwrap();
            assert_eq!(
                (h.fail_streak, h.enabled, h.just_disabled),
                (n, true, false)
            );
        }
        let h = store
            .record_proxy_result(id, false, t(10))
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.fail_streak, h.enabled, h.just_disabled),
            (5, false, true)
        );
        let info = &store.proxies(ALICE).unwrap()[0];
        assert_eq!(info.cooldown_until, Some(t(10) + PROXY_RETEST_AFTER));
        assert!(store.enabled_proxy_specs(ALICE).unwrap().is_empty());

        assert!(store.proxies_due_for_retest(t(11)).unwrap().is_empty());
        let due = store
            .proxies_due_for_retest(t(10) + PROXY_RETEST_AFTER)
            .unwrap();
        assert_eq!(due.len(), 1);
        // A failed re-test: still disabled, told only once, re-test moved on.
        let later = t(10) + PROXY_RETEST_AFTER;
        let h = store
            .record_proxy_result(id, false, later)
            .unwrap()
            .unwrap();
        assert_eq!((h.enabled, h.just_disabled), (false, false));
        assert!(store.proxies_due_for_retest(later).unwrap().is_empty());
        // A successful re-test brings it back.
        let h = store.record_proxy_result(id, true, later).unwrap().unwrap();
        assert_eq!(
            h,
            ProxyHealth {
                fail_streak: 0,
                enabled: true,
                just_disabled: false,
                just_reenabled: true
            }
        );
        // The owner's choice wins: a proxy disabled by hand stays disabled.
        store.set_proxy_enabled(ALICE, id, false).unwrap();
        let h = store.record_proxy_result(id, true, later).unwrap().unwrap();
        assert!(!h.enabled && !h.just_reenabled);
        assert!(
            store
                .record_proxy_result(ProxyId(999), true, later)
                .unwrap()
                .is_none()
        );
    }
}
