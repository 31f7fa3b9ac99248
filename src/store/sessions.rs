//! Owners' Instagram sessions: cookie sets stored as one encrypted JSON blob, handed out least
//! recently used first, marked invalid once (so the owner is told once).

use super::models::opt_ts;
use super::schema::instagram_sessions;
use super::users::ensure_user;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Cookie, SessionId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What may be shown about a session: never its cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub label: String,
    pub valid: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The stored form of one cookie, inside the encrypted blob only.
#[derive(Serialize, Deserialize)]
struct StoredCookie {
    name: String,
    value: String,
    path: Option<String>,
    http_only: bool,
    secure: bool,
    expires: Option<i64>,
}

impl Drop for StoredCookie {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

fn encode(cookies: &[Cookie]) -> Result<SecretString, StoreError> {
    let stored: Vec<StoredCookie> = cookies
        .iter()
        .map(|c| StoredCookie {
            name: c.name.clone(),
            value: c.value.expose_secret().to_owned(),
            path: c.path.clone(),
            http_only: c.http_only,
            secure: c.secure,
            expires: c.expires,
        })
        .collect();
    Ok(SecretString::from(serde_json::to_string(&stored)?))
}

fn decode(json: &SecretString) -> Result<Vec<Cookie>, StoreError> {
    let stored: Vec<StoredCookie> = serde_json::from_str(json.expose_secret())
        .map_err(|_| StoreError::CorruptRow("instagram session cookies".to_owned()))?;
    Ok(stored
        .iter()
        .map(|c| Cookie {
            name: c.name.clone(),
            value: SecretString::from(c.value.clone()),
            path: c.path.clone(),
            http_only: c.http_only,
            secure: c.secure,
            expires: c.expires,
        })
        .collect())
}

#[derive(Insertable)]
#[diesel(table_name = instagram_sessions)]
struct NewSession<'a> {
    owner_id: i64,
    cookies_enc: &'a [u8],
    label: &'a str,
    valid: bool,
    invalid_notified: bool,
    created_at: i64,
}

impl Store {
    /// Stores a validated cookie set (see `domain::parse_cookie_json`) for `owner`, encrypted as
    /// one blob. Refused with [`StoreError::NoCipher`] when no encryption key is configured.
    pub fn add_instagram_session(
        &self,
        owner: UserId,
        label: &str,
        cookies: &[Cookie],
        now: DateTime<Utc>,
    ) -> Result<SessionId, StoreError> {
        let cipher = self.cipher()?;
        let blob = cipher.encrypt(encode(cookies)?.expose_secret());
        self.write(|conn| {
            ensure_user(conn, owner)?;
            let id = diesel::insert_into(instagram_sessions::table)
                .values(NewSession {
                    owner_id: owner.0,
                    cookies_enc: &blob,
                    label: label.trim(),
                    valid: true,
                    invalid_notified: false,
                    created_at: ts(now),
                })
                .returning(instagram_sessions::id)
                .get_result(conn)?;
            Ok(SessionId(id))
        })
    }

    /// The owner's sessions in id order.
    pub fn instagram_sessions(&self, owner: UserId) -> Result<Vec<SessionInfo>, StoreError> {
        let rows: Vec<(i64, String, bool, i64, Option<i64>)> = instagram_sessions::table
            .filter(instagram_sessions::owner_id.eq(owner.0))
            .order(instagram_sessions::id)
            .select((
                instagram_sessions::id,
                instagram_sessions::label,
                instagram_sessions::valid,
                instagram_sessions::created_at,
                instagram_sessions::last_used_at,
            ))
            .load(&mut self.conn()?)?;
        rows.into_iter()
            .map(|(id, label, valid, created_at, last_used_at)| {
                Ok(SessionInfo {
                    id: SessionId(id),
                    label,
                    valid,
                    created_at: from_ts(created_at)?,
                    last_used_at: opt_ts(last_used_at)?,
                })
            })
            .collect()
    }

    /// A valid session of the owner, the least recently used (never used first), with its
    /// cookies decrypted. Call [`Store::touch_session`] when it is used.
    pub fn usable_session(
        &self,
        owner: UserId,
    ) -> Result<Option<(SessionId, Vec<Cookie>)>, StoreError> {
        let found: Option<(i64, Vec<u8>)> = instagram_sessions::table
            .filter(instagram_sessions::owner_id.eq(owner.0))
            .filter(instagram_sessions::valid.eq(true))
            // SQLite sorts NULL first: sessions never used come first.
            .order((
                instagram_sessions::last_used_at.asc(),
                instagram_sessions::id.asc(),
            ))
            .select((instagram_sessions::id, instagram_sessions::cookies_enc))
            .first(&mut self.conn()?)
            .optional()?;
        match found {
            None => Ok(None),
            Some((id, blob)) => {
                let json = self.cipher()?.decrypt(&blob)?;
                Ok(Some((SessionId(id), decode(&json)?)))
            }
        }
    }

    /// Marks a session invalid (login wall, checkpoint). `true` only the first time, so the
    /// owner is told once.
    pub fn mark_session_invalid(&self, id: SessionId) -> Result<bool, StoreError> {
        self.write(|conn| {
            let updated = diesel::update(
                instagram_sessions::table
                    .find(id.0)
                    .filter(instagram_sessions::invalid_notified.eq(false)),
            )
            .set((
                instagram_sessions::valid.eq(false),
                instagram_sessions::invalid_notified.eq(true),
            ))
            .execute(conn)?;
            Ok(updated == 1)
        })
    }

    /// Records that the session was used at `now`.
    pub fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::update(instagram_sessions::table.find(id.0))
                .set(instagram_sessions::last_used_at.eq(ts(now)))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Deletes one of the owner's sessions; `false` when the owner has no such session.
    pub fn remove_instagram_session(
        &self,
        owner: UserId,
        id: SessionId,
    ) -> Result<bool, StoreError> {
        self.write(|conn| {
            let deleted = diesel::delete(
                instagram_sessions::table
                    .find(id.0)
                    .filter(instagram_sessions::owner_id.eq(owner.0)),
            )
            .execute(conn)?;
            Ok(deleted == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Lang, Mode, Role, parse_cookie_json};
    use crate::secret::SecretCipher;
    use chrono::{TimeDelta, TimeZone};
    use std::time::Duration;
    use tempfile::TempDir;

    const ALICE: UserId = UserId(100);
    const BOB: UserId = UserId(200);
    const SESSION_VALUE: &str = "4242%3AVerySecretSessionValue%3A28";

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
                .upsert_user(user, Role::User, true, Lang::En, Mode::Browser, t(0))
                .unwrap();
        }
        store
    }

    fn cookies(session: &str) -> Vec<Cookie> {
        parse_cookie_json(&format!(
            r#"[{{"name":"sessionid","value":"{session}","domain":".instagram.com","path":"/",
                 "httpOnly":true,"secure":true,"expirationDate":1798000000.7}},
                {{"name":"csrftoken","value":"csrfTokenValue"}}]"#
        ))
        .unwrap()
    }

    #[test]
    fn round_trip_and_least_recently_used_first() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([9; 32])));
        assert!(store.usable_session(ALICE).unwrap().is_none());
        let first = store
            .add_instagram_session(ALICE, " main ", &cookies(SESSION_VALUE), t(0))
            .unwrap();
        let second = store
            .add_instagram_session(ALICE, "spare", &cookies("other"), t(1))
            .unwrap();

        let (id, got) = store.usable_session(ALICE).unwrap().unwrap();
        assert_eq!(id, first);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "sessionid");
        assert_eq!(got[0].value.expose_secret(), SESSION_VALUE);
        assert_eq!(got[0].path.as_deref(), Some("/"));
        assert!(got[0].http_only && got[0].secure);
        assert_eq!(got[0].expires, Some(1_798_000_000));
        assert_eq!(got[1].value.expose_secret(), "csrfTokenValue");

        store.touch_session(first, t(10)).unwrap();
        assert_eq!(store.usable_session(ALICE).unwrap().unwrap().0, second);
        store.touch_session(second, t(20)).unwrap();
        assert_eq!(store.usable_session(ALICE).unwrap().unwrap().0, first);
        assert!(store.usable_session(BOB).unwrap().is_none());

        let list = store.instagram_sessions(ALICE).unwrap();
        assert_eq!(
            list[0],
            SessionInfo {
                id: first,
                label: "main".into(),
                valid: true,
                created_at: t(0),
                last_used_at: Some(t(10)),
            }
        );
        assert_eq!(list[1].last_used_at, Some(t(20)));
    }

    #[test]
    fn invalid_sessions_are_skipped_and_reported_once() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([9; 32])));
        let first = store
            .add_instagram_session(ALICE, "a", &cookies("one"), t(0))
            .unwrap();
        let second = store
            .add_instagram_session(ALICE, "b", &cookies("two"), t(0))
            .unwrap();
        assert!(store.mark_session_invalid(first).unwrap());
        assert!(!store.mark_session_invalid(first).unwrap());
        assert_eq!(store.usable_session(ALICE).unwrap().unwrap().0, second);
        assert!(store.mark_session_invalid(second).unwrap());
        assert!(store.usable_session(ALICE).unwrap().is_none());
        assert!(!store.mark_session_invalid(SessionId(999)).unwrap());
        let valid: Vec<bool> = store
            .instagram_sessions(ALICE)
            .unwrap()
            .iter()
            .map(|s| s.valid)
            .collect();
        assert_eq!(valid, [false, false]);
    }

    #[test]
    fn removal_belongs_to_the_owner() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([9; 32])));
        let id = store
            .add_instagram_session(ALICE, "a", &cookies("one"), t(0))
            .unwrap();
        assert!(!store.remove_instagram_session(BOB, id).unwrap());
        assert!(store.remove_instagram_session(ALICE, id).unwrap());
        assert!(!store.remove_instagram_session(ALICE, id).unwrap());
        assert!(store.instagram_sessions(ALICE).unwrap().is_empty());
    }

    #[test]
    fn sessions_need_a_cipher_and_an_owner() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, None);
        assert!(matches!(
            store.add_instagram_session(ALICE, "a", &cookies("one"), t(0)),
            Err(StoreError::NoCipher)
        ));
        let other = TempDir::new().unwrap();
        let store = open(&other, Some(SecretCipher::new([9; 32])));
        assert!(matches!(
            store.add_instagram_session(UserId(5), "a", &cookies("one"), t(0)),
            Err(StoreError::UnknownUser(UserId(5)))
        ));
    }

    #[test]
    fn the_database_holds_no_plaintext_cookie() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir, Some(SecretCipher::new([9; 32])));
        store
            .add_instagram_session(ALICE, "a", &cookies(SESSION_VALUE), t(0))
            .unwrap();
        let (_, got) = store.usable_session(ALICE).unwrap().unwrap();
        assert_eq!(got[0].value.expose_secret(), SESSION_VALUE);
        let mut files = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            files += 1;
            for secret in [
                SESSION_VALUE.as_bytes(),
                b"VerySecretSessionValue",
                b"csrfTokenValue",
            ] {
                assert!(!bytes.windows(secret.len()).any(|w| w == secret));
            }
        }
        assert!(files >= 1);
    }
}
