//! Envelope encryption for secrets kept in the database (platform tokens).
//!
//! Each value gets its own random data key; the value is sealed with it (XChaCha20-Poly1305),
//! and the data key is sealed with a master key of the key ring. Both seals take the table,
//! column and row id as associated data, so a value copied to another row, column or table no
//! longer opens. The master keys never enter the database: they come from the settings or a key
//! file, and each stored value names the key that wrapped its data key, so keys can be rotated
//! by re-wrapping data keys alone.
//!
//! Stored form: `v1.<key id>.<wrapped data key>.<sealed value>`, both parts base64 (URL-safe,
//! no padding) of a 24-byte nonce followed by the ciphertext.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use std::sync::Arc;

const NONCE: usize = 24;
const KEY: usize = 32;

/// Where a value lives; sealed into it so that it opens only there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: i64,
}

impl Place<'_> {
    fn bytes(&self, what: &str) -> Vec<u8> {
        format!("{what}:{}:{}:{}", self.table, self.column, self.row).into_bytes()
    }
}

/// A named master key.
#[derive(Clone)]
struct MasterKey {
    id: String,
    key: Arc<SecretSlice<u8>>,
}

/// The master keys: the first seals new values, all of them open old ones.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("the key ring has no master key")]
    Empty,
    #[error(
        "master key {0:?} is not usable: write it as <id>:<64 hex digits> (32 random bytes), \
         for example from `openssl rand -hex 32`"
    )]
    BadKey(String),
    #[error("the stored value was sealed with master key {0:?}, which the key ring does not hold")]
    UnknownKey(String),
    #[error("the stored value does not open here (damaged, or moved from another place)")]
    Sealed,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// Reads keys written as `<id>:<64 hex digits>`, one per line or separated by commas; the
    /// first is the current key. Blank lines and `#` comments are ignored.
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let mut keys = Vec::new();
        for entry in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            // Never echo the entry: without its `id:` it may be a bare key.
            let (id, hex_key) = entry
                .split_once(':')
                .ok_or_else(|| KeyRingError::BadKey("(a line without id:)".into()))?;
            let id = id.trim();
            let bytes = hex::decode(hex_key.trim()).map_err(|_| KeyRingError::BadKey(id.into()))?;
            let valid_id = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if bytes.len() != KEY || !valid_id || keys.iter().any(|k: &MasterKey| k.id == id) {
                return Err(KeyRingError::BadKey(id.into()));
            }
            keys.push(MasterKey {
                id: id.to_owned(),
                key: Arc::new(SecretSlice::from(bytes)),
            });
        }
        if keys.is_empty() {
            return Err(KeyRingError::Empty);
        }
        Ok(Self { keys })
    }

    /// A new key line, `<id>:<64 hex digits>`, for a key file.
    pub fn generate_line(id: &str) -> String {
        let mut key = [0u8; KEY];
        rand::rng().fill_bytes(&mut key);
        format!("{id}:{}", hex::encode(key))
    }

    /// The id of the key that seals new values.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    fn key(&self, id: &str) -> Result<&MasterKey, KeyRingError> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| KeyRingError::UnknownKey(id.to_owned()))
    }

    /// Seals `value` for `place` under a fresh data key wrapped by the current master key.
    pub fn seal(&self, place: Place<'_>, value: &SecretString) -> Result<String, KeyRingError> {
        let mut data_key = [0u8; KEY];
        rand::rng().fill_bytes(&mut data_key);
        let sealed_value = seal_with(
            &data_key,
            &place.bytes("value"),
            value.expose_secret().as_bytes(),
        )?;
        let master = &self.keys[0];
        let wrapped = seal_with(
            master.key.expose_secret(),
            &wrap_context(place, &master.id),
            &data_key,
        );
        data_key.fill(0);
        let wrapped = wrapped?;
        Ok(format!(
            "v1.{}.{}.{}",
            master.id,
            B64.encode(wrapped),
            B64.encode(sealed_value)
        ))
    }

    /// Opens a value sealed for `place`.
    pub fn open(&self, place: Place<'_>, stored: &str) -> Result<SecretString, KeyRingError> {
        let (key_id, wrapped, sealed) = split(stored)?;
        let master = self.key(key_id)?;
        let mut data_key = open_with(
            master.key.expose_secret(),
            &wrap_context(place, key_id),
            &wrapped,
        )?;
        let value = open_with(&data_key, &place.bytes("value"), &sealed);
        data_key.fill(0);
        let value = value?;
        String::from_utf8(value)
            .map(SecretString::from)
            .map_err(|_| KeyRingError::Sealed)
    }

    /// Re-wraps the data key of a stored value with the current master key; the sealed value
    /// itself is unchanged. `None` when it already uses the current key.
    pub fn rewrap(&self, place: Place<'_>, stored: &str) -> Result<Option<String>, KeyRingError> {
        let (key_id, wrapped, sealed) = split(stored)?;
        let current = &self.keys[0];
        if key_id == current.id {
            return Ok(None);
        }
        let old = self.key(key_id)?;
        let mut data_key = open_with(
            old.key.expose_secret(),
            &wrap_context(place, key_id),
            &wrapped,
        )?;
        let rewrapped = seal_with(
            current.key.expose_secret(),
            &wrap_context(place, &current.id),
            &data_key,
        );
        data_key.fill(0);
        let rewrapped = rewrapped?;
        Ok(Some(format!(
            "v1.{}.{}.{}",
            current.id,
            B64.encode(rewrapped),
            B64.encode(sealed)
        )))
    }
}

/// A data key for something kept outside the database (a backup file), and its seal.
pub struct DataKey {
    /// The master key that wrapped it.
    pub key_id: String,
    /// The data key sealed with that master key: a 24-byte nonce and the ciphertext.
    pub wrapped: Vec<u8>,
    /// The data key itself, 32 bytes.
    pub key: SecretSlice<u8>,
}

impl KeyRing {
    /// A fresh random data key, wrapped with the current master key under `purpose` (the
    /// associated data, so that a key wrapped for one use does not open for another).
    pub fn new_data_key(&self, purpose: &str) -> Result<DataKey, KeyRingError> {
        let mut key = vec![0u8; KEY];
        rand::rng().fill_bytes(&mut key);
        let master = &self.keys[0];
        let wrapped = seal_with(
            master.key.expose_secret(),
            &purpose_context(purpose, &master.id),
            &key,
        )?;
        Ok(DataKey {
            key_id: master.id.clone(),
            wrapped,
            key: SecretSlice::from(key),
        })
    }

    /// Opens a data key that [`KeyRing::new_data_key`] wrapped with master key `key_id` for
    /// `purpose`: `UnknownKey` when the ring lacks that key, `Sealed` when it does not open
    /// (another key of the same name, or a damaged seal).
    pub fn open_data_key(
        &self,
        key_id: &str,
        purpose: &str,
        wrapped: &[u8],
    ) -> Result<SecretSlice<u8>, KeyRingError> {
        let master = self.key(key_id)?;
        let key = open_with(
            master.key.expose_secret(),
            &purpose_context(purpose, key_id),
            wrapped,
        )?;
        if key.len() != KEY {
            return Err(KeyRingError::Sealed);
        }
        Ok(SecretSlice::from(key))
    }
}

fn purpose_context(purpose: &str, key_id: &str) -> Vec<u8> {
    format!("data-key:{purpose}:{key_id}").into_bytes()
}

/// The associated data of a wrapped data key: where it belongs and which key wrapped it.
fn wrap_context(place: Place<'_>, key_id: &str) -> Vec<u8> {
    let mut context = place.bytes("data-key");
    context.extend_from_slice(b":");
    context.extend_from_slice(key_id.as_bytes());
    context
}

fn split(stored: &str) -> Result<(&str, Vec<u8>, Vec<u8>), KeyRingError> {
    let mut parts = stored.split('.');
    let (Some("v1"), Some(key_id), Some(wrapped), Some(sealed), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(KeyRingError::Sealed);
    };
    let wrapped = B64.decode(wrapped).map_err(|_| KeyRingError::Sealed)?;
    let sealed = B64.decode(sealed).map_err(|_| KeyRingError::Sealed)?;
    Ok((key_id, wrapped, sealed))
}

fn seal_with(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyRingError> {
    let mut nonce = [0u8; NONCE];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher(key)?
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| KeyRingError::Sealed)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_with(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, KeyRingError> {
    if sealed.len() < NONCE {
        return Err(KeyRingError::Sealed);
    }
    let (nonce, body) = sealed.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| KeyRingError::Sealed)?;
    cipher(key)?
        .decrypt(&nonce.into(), Payload { msg: body, aad })
        .map_err(|_| KeyRingError::Sealed)
}

/// The cipher for a 32-byte key; any other length is refused, never padded.
fn cipher(key: &[u8]) -> Result<XChaCha20Poly1305, KeyRingError> {
    let key: [u8; KEY] = key.try_into().map_err(|_| KeyRingError::Sealed)?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ring(lines: &[&str]) -> KeyRing {
        KeyRing::parse(&lines.join("\n")).unwrap()
    }

    const A: &str = "a:0000000000000000000000000000000000000000000000000000000000000001";
    const B: &str = "b:0000000000000000000000000000000000000000000000000000000000000002";

    fn here(row: i64) -> Place<'static> {
        Place {
            table: "account_tokens",
            column: "access_token",
            row,
        }
    }

    #[test]
    fn a_value_opens_only_where_it_was_sealed() {
        let ring = ring(&[A]);
        let stored = ring.seal(here(7), &SecretString::from("tok-123")).unwrap();
        assert!(!stored.contains("tok-123"));
        assert!(stored.starts_with("v1.a."));
        assert_eq!(
            ring.open(here(7), &stored).unwrap().expose_secret(),
            "tok-123"
        );
        assert!(matches!(
            ring.open(here(8), &stored),
            Err(KeyRingError::Sealed)
        ));
        let other_column = Place {
            column: "refresh_token",
            ..here(7)
        };
        assert!(ring.open(other_column, &stored).is_err());
        let mut tampered = stored.clone();
        tampered.pop();
        tampered.push(if stored.ends_with('A') { 'B' } else { 'A' });
        assert!(ring.open(here(7), &tampered).is_err());
        // Two seals of the same value differ (fresh data key and nonces).
        assert_ne!(
            stored,
            ring.seal(here(7), &SecretString::from("tok-123")).unwrap()
        );
    }

    #[test]
    fn rotation_rewraps_the_data_key_only() {
        let old = ring(&[A]);
        let stored = old
            .seal(here(1), &SecretString::from("refresh-xyz"))
            .unwrap();
        let both = ring(&[B, A]);
        let rewrapped = both.rewrap(here(1), &stored).unwrap().unwrap();
        assert!(rewrapped.starts_with("v1.b."));
        assert_eq!(
            rewrapped.rsplit('.').next(),
            stored.rsplit('.').next(),
            "the sealed value is untouched"
        );
        assert_eq!(both.rewrap(here(1), &rewrapped).unwrap(), None);
        let new_only = ring(&[B]);
        assert_eq!(
            new_only.open(here(1), &rewrapped).unwrap().expose_secret(),
            "refresh-xyz"
        );
        assert!(matches!(
            new_only.open(here(1), &stored),
            Err(KeyRingError::UnknownKey(id)) if id == "a"
        ));
    }

    #[test]
    fn key_lines_are_checked() {
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse("a:00ff").is_err());
        assert!(KeyRing::parse("nocolon").is_err());
        assert!(
            KeyRing::parse(&format!("{A}\n{A}")).is_err(),
            "ids are unique"
        );
        let generated = KeyRing::generate_line("k1");
        let ring = KeyRing::parse(&format!("# comment, with a comma\n{generated}\n{B}")).unwrap();
        let bare = "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff";
        let err = KeyRing::parse(bare).unwrap_err().to_string();
        assert!(!err.contains("00ff"), "no key material in errors: {err}");
        assert_eq!(ring.current_id(), "k1");
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["k1", "b"]);
        assert!(
            !format!("{ring:?}").contains(&generated[3..]),
            "no key in Debug"
        );
    }
}
