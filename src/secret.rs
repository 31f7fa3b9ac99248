//! Encryption at rest for stored secrets (API keys, proxy passwords, cookies): XChaCha20-Poly1305.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::SecretString;
use secrecy::zeroize::Zeroize;
use std::fmt;

/// Format version written as the first byte of every blob; also bound as associated data.
const VERSION: u8 = 1;
/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// Why a stored blob could not be turned back into a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("failed to decrypt a secret: the blob is {0} bytes, too short to hold one")]
    Truncated(usize),
    #[error("failed to decrypt a secret: unsupported format version {0}")]
    UnsupportedVersion(u8),
    #[error("failed to decrypt a secret: wrong key or tampered data")]
    Authentication,
    #[error("failed to decrypt a secret: the plaintext is not UTF-8")]
    NotUtf8,
}

/// Encrypts and decrypts secrets with one 32-byte master key.
///
/// A blob is `version (1 byte) ‖ nonce (24 bytes) ‖ ciphertext+tag`; every value gets a fresh
/// random nonce, so encrypting the same text twice gives different blobs.
pub struct SecretCipher {
    aead: XChaCha20Poly1305,
}

impl SecretCipher {
    pub fn new(key: [u8; 32]) -> Self {
        let mut key = key;
        let aead = XChaCha20Poly1305::new(&key.into());
        key.zeroize();
        SecretCipher { aead }
    }

    /// Encrypts `plaintext` under a fresh random nonce.
    pub fn encrypt(&self, plaintext: &str) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: &[VERSION],
        };
        // Invariant: encryption only fails for messages longer than the cipher's limit
        // (~256 GiB), which no `&str` stored here approaches.
        let ciphertext = self
            .aead
            .encrypt(&nonce, payload)
            .expect("XChaCha20-Poly1305 encryption of an in-memory string cannot fail");
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        blob.push(VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        blob
    }

    /// Decrypts a blob made by [`SecretCipher::encrypt`]; fails on a wrong key or any change.
    pub fn decrypt(&self, blob: &[u8]) -> Result<SecretString, SecretError> {
        let (&version, rest) = blob.split_first().ok_or(SecretError::Truncated(0))?;
        if version != VERSION {
            return Err(SecretError::UnsupportedVersion(version));
        }
        if rest.len() < NONCE_LEN {
            return Err(SecretError::Truncated(blob.len()));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: &[VERSION],
        };
        let plaintext = self
            .aead
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Authentication)?;
        match String::from_utf8(plaintext) {
            Ok(text) => Ok(SecretString::from(text)),
            Err(err) => {
                err.into_bytes().zeroize();
                Err(SecretError::NotUtf8)
            }
        }
    }
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretCipher { key: [redacted] }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn cipher(byte: u8) -> SecretCipher {
        SecretCipher::new([byte; 32])
    }

    #[test]
    fn round_trip() {
        let c = cipher(7);
        for text in ["", "abc", "sessionid=1234%3Axyz; csrftoken=q", "ключ"] {
            let blob = c.encrypt(text);
            assert_eq!(blob[0], VERSION);
            assert_eq!(c.decrypt(&blob).unwrap().expose_secret(), text);
        }
    }

    #[test]
    fn tampering_is_detected() {
        let c = cipher(7);
        let blob = c.encrypt("rapidapi-key-0123456789");
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(c.decrypt(&bad).is_err(), "flipped byte {i} went unnoticed");
        }
        assert!(matches!(
            c.decrypt(&blob[..blob.len() - 1]),
            Err(SecretError::Authentication)
        ));
        assert!(matches!(
            c.decrypt(&blob[..10]),
            Err(SecretError::Truncated(10))
        ));
        assert!(matches!(c.decrypt(&[]), Err(SecretError::Truncated(0))));
    }

    #[test]
    fn wrong_key_fails() {
        let blob = cipher(7).encrypt("secret");
        assert!(matches!(
            cipher(8).decrypt(&blob),
            Err(SecretError::Authentication)
        ));
    }

    #[test]
    fn two_encryptions_differ() {
        let c = cipher(7);
        let a = c.encrypt("same text");
        let b = c.encrypt("same text");
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let text = format!("{:?}", SecretCipher::new([0xAB; 32]));
        assert!(!text.to_lowercase().contains("ab, ab"));
        assert!(!text.contains("171"));
        assert!(text.contains("redacted"));
    }
}
