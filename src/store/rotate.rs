//! Key rotation: every stored secret re-encrypted from the old key to the new one, all or nothing.

use super::schema::{instagram_sessions, proxies, rapidapi_keys};
use super::{Store, StoreError};
use crate::secret::SecretCipher;
use diesel::prelude::*;
use secrecy::ExposeSecret;

/// How many secrets of each kind [`Store::rotate_key`] re-encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateReport {
    pub rapidapi_keys: usize,
    pub proxy_passwords: usize,
    pub session_cookies: usize,
}

impl RotateReport {
    /// Secrets re-encrypted in all.
    pub fn total(&self) -> usize {
        self.rapidapi_keys + self.proxy_passwords + self.session_cookies
    }
}

/// Decrypts a blob with `old` and encrypts the plaintext with `new`.
fn reencrypt(old: &SecretCipher, new: &SecretCipher, blob: &[u8]) -> Result<Vec<u8>, StoreError> {
    let plain = old.decrypt(blob)?;
    Ok(new.encrypt(plain.expose_secret()))
}

impl Store {
    /// Re-encrypts every stored secret (RapidAPI keys, proxy passwords, Instagram session
    /// cookies) from `old` to `new` in one immediate transaction: when any blob does not
    /// decrypt with `old`, nothing is changed and [`StoreError::Crypto`] is returned.
    ///
    /// The store's own cipher is not used: a daemon holding the old key must be stopped before
    /// and started with the new key after.
    pub fn rotate_key(
        &self,
        old: &SecretCipher,
        new: &SecretCipher,
    ) -> Result<RotateReport, StoreError> {
        self.write(|conn| {
            let mut report = RotateReport::default();
            let keys: Vec<(i64, Vec<u8>)> = rapidapi_keys::table
                .select((rapidapi_keys::id, rapidapi_keys::key_enc))
                .order(rapidapi_keys::id)
                .load(conn)?;
            for (id, blob) in keys {
                let blob = reencrypt(old, new, &blob)?;
                diesel::update(rapidapi_keys::table.find(id))
                    .set(rapidapi_keys::key_enc.eq(blob))
                    .execute(conn)?;
                report.rapidapi_keys += 1;
            }
            let passwords: Vec<(i64, Option<Vec<u8>>)> = proxies::table
                .select((proxies::id, proxies::password_enc))
                .order(proxies::id)
                .load(conn)?;
            for (id, blob) in passwords {
                let Some(blob) = blob else { continue };
                let blob = reencrypt(old, new, &blob)?;
                diesel::update(proxies::table.find(id))
                    .set(proxies::password_enc.eq(Some(blob)))
                    .execute(conn)?;
                report.proxy_passwords += 1;
            }
            let sessions: Vec<(i64, Vec<u8>)> = instagram_sessions::table
                .select((instagram_sessions::id, instagram_sessions::cookies_enc))
                .order(instagram_sessions::id)
                .load(conn)?;
            for (id, blob) in sessions {
                let blob = reencrypt(old, new, &blob)?;
                diesel::update(instagram_sessions::table.find(id))
                    .set(instagram_sessions::cookies_enc.eq(blob))
                    .execute(conn)?;
                report.session_cookies += 1;
            }
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Lang, Mode, Role, UserId};
    use chrono::Utc;
    use secrecy::SecretString;

    #[test]
    fn rotate_key_reencrypts_every_key_and_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let old = || SecretCipher::new([1; 32]);
        let new = || SecretCipher::new([2; 32]);
        let store = Store::open(&path, std::time::Duration::from_secs(5), 10, Some(old())).unwrap();
        let now = Utc::now();
        for id in [1, 2] {
            store
                .upsert_user(UserId(id), Role::User, true, Lang::En, Mode::Api, now)
                .unwrap();
        }
        store
            .add_rapidapi_key(UserId(1), &SecretString::from("key-one-0123456789"), now)
            .unwrap();
        store
            .add_rapidapi_key(UserId(2), &SecretString::from("key-two-0123456789"), now)
            .unwrap();
        // A wrong "old" key changes nothing.
        let err = store.rotate_key(&new(), &old()).unwrap_err();
        assert!(matches!(err, StoreError::Crypto(_)), "{err}");
        let report = store.rotate_key(&old(), &new()).unwrap();
        assert_eq!(report.rapidapi_keys, 2);
        assert_eq!(report.total(), 2);
        let rotated =
            Store::open(&path, std::time::Duration::from_secs(5), 10, Some(new())).unwrap();
        let got = rotated
            .acquire_rapidapi_key(&[UserId(1)], 100, now)
            .unwrap()
            .unwrap();
        assert_eq!(got.1.expose_secret(), "key-one-0123456789");
        // The old key no longer opens anything.
        assert!(store.rotate_key(&old(), &new()).is_err());
    }
}
