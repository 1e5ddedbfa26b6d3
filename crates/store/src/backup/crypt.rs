//! The backup file format (described in the module above): its header, and encrypting and
//! decrypting the chunks that follow it, so that every chunk is authenticated before it is
//! written out.

use super::BackupError;
use crate::Backend;
use crate::keyring::{KeyRing, KeyRingError};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use rand::RngCore;
use secrecy::ExposeSecret;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"SZBACKUP";
const VERSION: u8 = 1;
/// Plaintext bytes per chunk.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const PREFIX: usize = 19;
/// What the data key is wrapped for (associated data of the wrap).
const PURPOSE: &str = "backup-v1";

fn backend_code(backend: Backend) -> u8 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

/// The readable start of a backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub backend: Backend,
    /// The master key that wrapped the data key.
    pub key_id: String,
    wrapped: Vec<u8>,
    prefix: [u8; PREFIX],
    /// The header as written: the associated data of every chunk.
    raw: Vec<u8>,
}

impl Header {
    fn new(backend: Backend, key_id: &str, wrapped: Vec<u8>) -> Result<Self, BackupError> {
        let mut prefix = [0u8; PREFIX];
        rand::rng().fill_bytes(&mut prefix);
        let id_len = u8::try_from(key_id.len()).map_err(|_| BackupError::NotABackup)?;
        let wrapped_len = u16::try_from(wrapped.len()).map_err(|_| BackupError::NotABackup)?;
        let mut raw = Vec::with_capacity(64 + key_id.len() + wrapped.len());
        raw.extend_from_slice(MAGIC);
        raw.push(VERSION);
        raw.push(backend_code(backend));
        raw.push(id_len);
        raw.extend_from_slice(key_id.as_bytes());
        raw.extend_from_slice(&wrapped_len.to_be_bytes());
        raw.extend_from_slice(&wrapped);
        raw.extend_from_slice(&prefix);
        Ok(Self {
            version: VERSION,
            backend,
            key_id: key_id.to_owned(),
            wrapped,
            prefix,
            raw,
        })
    }

    /// Reads the header from the start of a backup.
    pub fn read(input: &mut impl Read) -> Result<Self, BackupError> {
        let mut raw = Vec::new();
        let mut take = |n: usize, raw: &mut Vec<u8>| -> Result<Vec<u8>, BackupError> {
            let mut buf = vec![0u8; n];
            match input.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(BackupError::NotABackup);
                }
                Err(e) => return Err(e.into()),
            }
            raw.extend_from_slice(&buf);
            Ok(buf)
        };
        if take(MAGIC.len(), &mut raw)? != MAGIC {
            return Err(BackupError::NotABackup);
        }
        // Past the magic, a file that ends is a backup cut short.
        let mut take = |n: usize, raw: &mut Vec<u8>| {
            take(n, raw).map_err(|e| match e {
                BackupError::NotABackup => BackupError::Truncated,
                other => other,
            })
        };
        let fixed = take(3, &mut raw)?;
        let (version, code, id_len) = (fixed[0], fixed[1], fixed[2]);
        if version != VERSION {
            return Err(BackupError::UnsupportedVersion(version));
        }
        let backend = match code {
            1 => Backend::Sqlite,
            2 => Backend::Postgres,
            _ => return Err(BackupError::NotABackup),
        };
        let key_id = String::from_utf8(take(usize::from(id_len), &mut raw)?)
            .map_err(|_| BackupError::NotABackup)?;
        let len = take(2, &mut raw)?;
        let wrapped = take(usize::from(u16::from_be_bytes([len[0], len[1]])), &mut raw)?;
        let prefix: [u8; PREFIX] = take(PREFIX, &mut raw)?
            .try_into()
            .map_err(|_| BackupError::NotABackup)?;
        Ok(Self {
            version,
            backend,
            key_id,
            wrapped,
            prefix,
            raw,
        })
    }

    fn nonce(&self, counter: u32, last: bool) -> [u8; 24] {
        let mut nonce = [0u8; 24];
        nonce[..PREFIX].copy_from_slice(&self.prefix);
        nonce[PREFIX..PREFIX + 4].copy_from_slice(&counter.to_be_bytes());
        nonce[23] = u8::from(last);
        nonce
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(super) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn cipher(key: &secrecy::SecretSlice<u8>) -> Result<XChaCha20Poly1305, BackupError> {
    let key: [u8; 32] = key
        .expose_secret()
        .try_into()
        .map_err(|_| BackupError::Damaged)?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

/// Encrypts `input` into `output` as a backup of a `backend` database, under a fresh data key
/// wrapped with the ring's current master key. Returns the number of plaintext bytes.
pub fn encrypt(
    ring: &KeyRing,
    backend: Backend,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<u64, BackupError> {
    let data_key = ring.new_data_key(PURPOSE).map_err(|e| match e {
        KeyRingError::UnknownKey(id) => BackupError::UnknownKey(id),
        _ => BackupError::WrongKey(ring.current_id().to_owned()),
    })?;
    let header = Header::new(backend, &data_key.key_id, data_key.wrapped)?;
    let cipher = cipher(&data_key.key)?;
    output.write_all(&header.raw)?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + TAG);
    let mut counter: u32 = 0;
    let mut total: u64 = 0;
    loop {
        buf.resize(CHUNK, 0);
        let n = read_full(input, &mut buf)?;
        buf.truncate(n);
        total += n as u64;
        // The final chunk is the first one shorter than CHUNK (empty when the input is a
        // multiple of CHUNK), so a reader knows the last one by its length.
        let last = n < CHUNK;
        cipher
            .encrypt_in_place(&header.nonce(counter, last).into(), &header.raw, &mut buf)
            .map_err(|_| BackupError::Damaged)?;
        output.write_all(&buf)?;
        if last {
            break;
        }
        counter = counter.checked_add(1).ok_or(std::io::Error::other(
            "the database is too large for one backup file",
        ))?;
    }
    output.flush()?;
    Ok(total)
}

/// Opens the data key of a backup whose header was just read.
pub(super) fn open_key(ring: &KeyRing, header: &Header) -> Result<XChaCha20Poly1305, BackupError> {
    let key = ring
        .open_data_key(&header.key_id, PURPOSE, &header.wrapped)
        .map_err(|e| match e {
            KeyRingError::UnknownKey(id) => BackupError::UnknownKey(id),
            _ => BackupError::WrongKey(header.key_id.clone()),
        })?;
    cipher(&key)
}

/// Decrypts a backup from `input` into `output`, writing each chunk only once it has been
/// authenticated. An error part-way means `output` holds a prefix of the data that must be
/// thrown away: the caller writes to a temporary place, or inside a transaction it rolls back.
pub fn decrypt(
    ring: &KeyRing,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<Header, BackupError> {
    let header = Header::read(input)?;
    let cipher = open_key(ring, &header)?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + TAG);
    let mut counter: u32 = 0;
    loop {
        buf.resize(CHUNK + TAG, 0);
        let n = read_full(input, &mut buf)?;
        if n < TAG {
            return Err(BackupError::Truncated);
        }
        buf.truncate(n);
        let last = n < CHUNK + TAG;
        cipher
            .decrypt_in_place(&header.nonce(counter, last).into(), &header.raw, &mut buf)
            .map_err(|_| BackupError::Damaged)?;
        output.write_all(&buf)?;
        if last {
            let mut extra = [0u8; 1];
            if read_full(input, &mut extra)? != 0 {
                return Err(BackupError::Damaged);
            }
            break;
        }
        counter = counter.checked_add(1).ok_or(BackupError::Damaged)?;
    }
    output.flush()?;
    Ok(header)
}

/// Checks that a backup file decrypts to its end with `ring`; reads it without writing
/// anything.
pub fn verify(ring: &KeyRing, path: &Path) -> Result<Header, BackupError> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    decrypt(ring, &mut file, &mut std::io::sink())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backup::testing::{A, data, ring, sealed};

    const A2: &str = "a:00000000000000000000000000000000000000000000000000000000000000ff";
    const B: &str = "b:0000000000000000000000000000000000000000000000000000000000000002";

    fn open(ring: &KeyRing, file: &[u8]) -> Result<Vec<u8>, BackupError> {
        let mut out = Vec::new();
        decrypt(ring, &mut &file[..], &mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_every_chunk_boundary() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            let plain = data(len);
            let file = sealed(&plain);
            if len >= 32 {
                assert!(
                    !file.windows(32).any(|w| w == &plain[..32]),
                    "no plaintext in the file"
                );
            }
            assert_eq!(open(&ring(A), &file).unwrap(), plain, "length {len}");
        }
    }

    #[test]
    fn the_header_names_key_and_backend() {
        let file = sealed(b"hello");
        let header = Header::read(&mut &file[..]).unwrap();
        assert_eq!(header.key_id, "a");
        assert_eq!(header.backend, Backend::Sqlite);
        assert_eq!(header.version, VERSION);
    }

    #[test]
    fn truncation_at_any_point_is_refused() {
        let file = sealed(&data(2 * CHUNK + 100));
        let header_len = Header::read(&mut &file[..]).unwrap().raw.len();
        // At a chunk boundary (the final chunk dropped), inside a chunk, inside the header.
        for cut in [
            header_len + 2 * (CHUNK + TAG),
            header_len + CHUNK + TAG,
            header_len + 10,
            file.len() - 1,
            5,
        ] {
            let err = open(&ring(A), &file[..cut]).unwrap_err();
            assert!(
                matches!(
                    err,
                    BackupError::Truncated | BackupError::Damaged | BackupError::NotABackup
                ),
                "cut at {cut}: {err:?}"
            );
        }
        // Data appended after the last chunk.
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(open(&ring(A), &longer), Err(BackupError::Damaged)));
    }

    #[test]
    fn a_changed_byte_anywhere_is_refused() {
        let file = sealed(&data(CHUNK + 10));
        let header_len = Header::read(&mut &file[..]).unwrap().raw.len();
        for at in [9, header_len - 1, header_len + 5, file.len() - 1] {
            let mut bad = file.clone();
            bad[at] ^= 0x40;
            assert!(open(&ring(A), &bad).is_err(), "byte {at} changed");
        }
    }

    #[test]
    fn a_missing_or_different_key_is_named() {
        let file = sealed(b"secret rows");
        assert!(matches!(
            open(&ring(B), &file),
            Err(BackupError::UnknownKey(id)) if id == "a"
        ));
        assert!(matches!(
            open(&ring(A2), &file),
            Err(BackupError::WrongKey(id)) if id == "a"
        ));
        // An older key kept in the ring still opens it.
        let both = KeyRing::parse(&format!("{B}\n{A}")).unwrap();
        assert_eq!(open(&both, &file).unwrap(), b"secret rows");
        assert!(matches!(
            open(&ring(A), b"not a backup at all"),
            Err(BackupError::NotABackup)
        ));
    }
}
