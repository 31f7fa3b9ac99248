//! `igwatch rotate-key`: re-encrypts every stored secret from the configured key to a new one.

use super::common::Failure;
use crate::config::{Config, decode_secret_key};
use crate::secret::SecretCipher;
use crate::store::Store;
use clap::Args;
use secrecy::zeroize::Zeroize;
use std::io::Read;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RotateKeyArgs {
    /// File holding the new key (32 bytes, base64 or 64 hex digits); standard input when absent.
    /// The old key is the configured one (`IGWATCH_SECRET_KEY`, the credential, or
    /// `secrets.key_file`). Stop the daemon first, and start it with the new key after.
    #[arg(long, value_name = "FILE")]
    pub new_key_file: Option<PathBuf>,
}

pub(super) fn rotate_key(
    config: &Config,
    store: &Store,
    args: RotateKeyArgs,
) -> Result<(), Failure> {
    let Some(old) = config.secret_key_bytes() else {
        return Err(Failure::invalid(
            "no current encryption key is configured (IGWATCH_SECRET_KEY, the igwatch-secret-key credential or secrets.key_file)",
        ));
    };
    let mut text = match &args.new_key_file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Failure::invalid(format!(
                "failed to read the new key from {}: {e}",
                path.display()
            ))
        })?,
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::invalid(format!("failed to read the new key from stdin: {e}"))
            })?;
            text
        }
    };
    let decoded = decode_secret_key(text.trim());
    text.zeroize();
    let new = decoded
        .map_err(|problem| Failure::invalid(format!("the new key is invalid: {problem}")))?;
    if new == old {
        return Err(Failure::invalid(
            "the new key is the current key; nothing to rotate",
        ));
    }
    let report = store
        .rotate_key(&SecretCipher::new(old), &SecretCipher::new(new))
        .map_err(|err| {
            let mut failure = Failure::from(err);
            failure.message = format!(
                "{} (the current key does not decrypt every stored secret; nothing was changed)",
                failure.message
            );
            failure
        })?;
    say!(
        "Re-encrypted {} secrets ({} RapidAPI keys, {} proxy passwords, {} Instagram sessions). Start the daemon with the new key.",
        report.total(),
        report.rapidapi_keys,
        report.proxy_passwords,
        report.session_cookies
    );
    Ok(())
}
