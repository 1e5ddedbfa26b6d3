//! Random tokens, their stored hashes, and keyed MACs.
//!
//! A token handed to a browser or put in an e-mail is 256 random bits; the database keeps only
//! its SHA-256, so a copy of the database cannot be used to sign in or reset a password.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A fresh random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form in which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The server's secret key, used to derive keyed MACs (CSRF tokens; later consent cookies and
/// the forget list). It never leaves the process.
#[derive(Clone)]
pub struct Keys {
    secret: Arc<SecretSlice<u8>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

impl Keys {
    pub fn new(secret: Vec<u8>) -> Self {
        Self {
            secret: Arc::new(SecretSlice::from(secret)),
        }
    }

    /// HMAC-SHA256 of `message` under a key derived for `purpose`, hex-encoded. Different
    /// purposes never produce interchangeable values.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> String {
        hex::encode(self.mac_bytes(purpose, message))
    }

    fn mac_bytes(&self, purpose: &str, message: &[u8]) -> Vec<u8> {
        let mut outer = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.expose_secret())
            .unwrap_or_else(|_| unreachable_hmac());
        outer.update(purpose.as_bytes());
        let derived = outer.finalize().into_bytes();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&derived).unwrap_or_else(|_| unreachable_hmac());
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// Checks a value produced by [`Keys::mac`] in constant time.
    pub fn verify(&self, purpose: &str, message: &[u8], candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        let Ok(candidate) = hex::decode(candidate) else {
            return false;
        };
        let expected = self.mac_bytes(purpose, message);
        candidate.len() == expected.len() && bool::from(candidate.ct_eq(&expected))
    }
}

/// HMAC accepts keys of any length, so building one cannot fail.
fn unreachable_hmac() -> ! {
    unreachable!("HMAC takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_are_stable() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn macs_depend_on_key_purpose_and_message() {
        let k1 = Keys::new(vec![1; 32]);
        let k2 = Keys::new(vec![2; 32]);
        let m = k1.mac("csrf", b"seed");
        assert!(k1.verify("csrf", b"seed", &m));
        assert!(!k1.verify("consent", b"seed", &m));
        assert!(!k1.verify("csrf", b"other", &m));
        assert!(!k2.verify("csrf", b"seed", &m));
        assert!(!k1.verify("csrf", b"seed", "not hex"));
        assert!(!k1.verify("csrf", b"seed", &m[..10]));
    }
}
