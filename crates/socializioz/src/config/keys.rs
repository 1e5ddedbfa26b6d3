//! The server's secret key and the master keys: configured, or kept in the data folder and
//! generated there (readable only by the server's user) on first start.

use super::Settings;
use std::path::Path;

impl Settings {
    /// The server's secret key: the configured one, or the one in the data folder, created on
    /// first start.
    pub fn secret_key(&self) -> anyhow::Result<Vec<u8>> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        if let Some(secret) = &self.security.secret_key {
            return Ok(secret.expose_secret().as_bytes().to_vec());
        }
        let path = self.data.dir.join("secret.key");
        let text = self.data_file(&path, "secret key", || {
            let mut key = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            hex::encode(&key)
        })?;
        let key = hex::decode(text.trim()).with_context(|| {
            format!(
                "{} is damaged (it must hold 64 hex digits); restore it from a backup",
                path.display()
            )
        })?;
        anyhow::ensure!(
            key.len() >= 32,
            "{} is too short; restore it from a backup",
            path.display()
        );
        Ok(key)
    }

    /// The master keys that wrap the data keys of platform tokens: `security.master_keys`
    /// (or `master_keys_file`), else `<data.dir>/master.keys`, created on first start.
    /// Also says whether the key file was created just now (then no sealed value can exist).
    pub fn key_ring(&self) -> anyhow::Result<(store::keyring::KeyRing, bool)> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        if let Some(keys) = &self.security.master_keys {
            return store::keyring::KeyRing::parse(keys.expose_secret())
                .map(|ring| (ring, false))
                .context("security.master_keys is not usable");
        }
        let path = self.data.dir.join("master.keys");
        let created = !path.exists();
        let text = self.data_file(&path, "master key", || {
            format!(
                "# Socializioz master keys: the first line seals new tokens; keep older lines\n\
                 # until `socializioz admin keys rotate` has re-wrapped everything.\n{}\n",
                store::keyring::KeyRing::generate_line("k1")
            )
        })?;
        store::keyring::KeyRing::parse(&text)
            .map(|ring| (ring, created))
            .with_context(|| format!("{} is not usable; restore it from a backup", path.display()))
    }

    /// The contents of a file in the data folder, created by `make` (readable only by its
    /// owner) when missing, with a warning to back it up.
    fn data_file(
        &self,
        path: &Path,
        what: &str,
        make: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        use anyhow::Context;
        if let Ok(existing) = std::fs::read_to_string(path) {
            return Ok(existing);
        }
        std::fs::create_dir_all(&self.data.dir).with_context(|| {
            format!(
                "could not create the data folder {}",
                self.data.dir.display()
            )
        })?;
        let contents = make();
        write_private(path, &contents)
            .with_context(|| format!("could not write the {what} to {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "generated a new {what}; back this file up with the database: without it, what it \
             protects cannot be read"
        );
        Ok(contents)
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}
