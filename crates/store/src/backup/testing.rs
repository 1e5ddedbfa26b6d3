//! What the backup tests share: a key ring, data of any length, and a way to seal it.

#![allow(clippy::unwrap_used)]

use super::encrypt;
use crate::Backend;
use crate::keyring::KeyRing;

/// A key ring line whose key is named `a`.
pub(super) const A: &str = "a:0000000000000000000000000000000000000000000000000000000000000001";

pub(super) fn ring(line: &str) -> KeyRing {
    KeyRing::parse(line).unwrap()
}

/// `data` sealed as a SQLite backup with key `a`.
pub(super) fn sealed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encrypt(&ring(A), Backend::Sqlite, &mut &data[..], &mut out).unwrap();
    out
}

/// `len` bytes of a repeating pattern.
pub(super) fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
