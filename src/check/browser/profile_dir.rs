//! The temporary Chromium profile (`--user-data-dir`) of one session: private, fresh, always removed.
//!
//! A fresh directory per session keeps sessions independent (no cookies or pinned proxy settings
//! carried over, protocol-facts §3.3). It holds the owner's Instagram cookies, so it is created with
//! mode 0700 and removed when the session quits, or on drop if it never did.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Attempts at a fresh random name before giving up (a collision of 64 random bits is already rare).
const CREATE_ATTEMPTS: u32 = 8;

/// Chromium may still be flushing files for a moment after the session is deleted.
const REMOVE_ATTEMPTS: u32 = 5;
const REMOVE_PAUSE: Duration = Duration::from_millis(100);

/// A directory under the system temp dir, removed on [`ProfileDir::remove`] or drop.
#[derive(Debug)]
pub(super) struct ProfileDir {
    path: Option<PathBuf>,
}

impl ProfileDir {
    /// Creates `$TMPDIR/igwatch-chromium-<random>` with mode 0700.
    pub(super) fn create() -> io::Result<ProfileDir> {
        let mut last = io::Error::other("no attempt made");
        for _ in 0..CREATE_ATTEMPTS {
            let path = std::env::temp_dir()
                .join(format!("igwatch-chromium-{:016x}", rand::random::<u64>()));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(ProfileDir { path: Some(path) }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    pub(super) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Removes the directory, retrying briefly while the browser finishes writing into it.
    pub(super) async fn remove(mut self) {
        let Some(path) = self.path.take() else {
            return;
        };
        for attempt in 1..=REMOVE_ATTEMPTS {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => return,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                Err(e) if attempt == REMOVE_ATTEMPTS => {
                    log::warn!(
                        "Failed to remove the browser profile directory {}: {e}.",
                        path.display()
                    );
                }
                Err(_) => tokio::time::sleep(REMOVE_PAUSE).await,
            }
        }
    }
}

impl Drop for ProfileDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            if let Err(e) = std::fs::remove_dir_all(&path) {
                if e.kind() != io::ErrorKind::NotFound {
                    log::warn!(
                        "Failed to remove the browser profile directory {}: {e}.",
                        path.display()
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn created_private_and_removed() {
        let dir = ProfileDir::create().expect("create");
        let path = dir.path().expect("path").to_owned();
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(path.join("Cookies"), b"x").expect("write");
        dir.remove().await;
        assert!(!path.exists());
    }

    #[test]
    fn removed_on_drop() {
        let dir = ProfileDir::create().expect("create");
        let path = dir.path().expect("path").to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
