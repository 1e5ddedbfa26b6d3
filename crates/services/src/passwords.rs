//! argon2id hashing, always off the async threads, and never more at once than the machine
//! has room for: each hash takes about 19 MiB and a core for a moment, so a burst of log-in
//! attempts waits its turn instead of exhausting memory.

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use domain::Password;

static PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    tokio::sync::Semaphore::new(cores * 2)
});

/// Runs one hashing job in a blocking thread once a permit is free.
async fn hashing<T: Send + 'static>(
    job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = PERMITS
        .acquire()
        .await
        .context("the password hashing pool is closed")?;
    tokio::task::spawn_blocking(job)
        .await
        .context("the password hashing task failed")?
}

/// Hashes a new password (argon2id, default parameters, random salt) in a blocking thread.
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.expose().to_owned();
    hashing(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
    })
    .await
}

/// A hash of no password at all, checked when the account does not exist so that a failed log-in
/// takes as long for an unknown address as for a known one.
static DUMMY: std::sync::LazyLock<Option<String>> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no account has this password")
        .map(|h| h.to_string())
        .ok()
});

/// Checks `candidate` against `stored` in a blocking thread. With no stored hash it still does
/// the work, and answers false.
pub async fn verify(candidate: &str, stored: Option<&str>) -> anyhow::Result<bool> {
    let candidate = candidate.to_owned();
    let known = stored.is_some();
    let stored = stored.map(str::to_owned);
    hashing(move || {
        let Some(stored) = stored.or_else(|| DUMMY.clone()) else {
            return Ok(false);
        };
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("a stored password hash is malformed: {e}"))?;
        let ok = Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let p = Password::parse("correct horse battery", None).unwrap();
        let h1 = hash(&p).await.unwrap();
        let h2 = hash(&p).await.unwrap();
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2);
        assert!(verify("correct horse battery", Some(&h1)).await.unwrap());
        assert!(!verify("wrong horse battery", Some(&h1)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(!verify("anything", None).await.unwrap());
    }
}
