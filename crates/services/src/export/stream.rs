//! Writing the ZIP as a stream: the build sends pieces (a file's start, its bytes) through a
//! bounded channel to a blocking thread that deflates them, and the thread's output goes in
//! chunks through another bounded channel to the media store's upload, so neither side holds
//! the whole archive.

use crate::Result;
use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use std::io::Write;
use tokio::sync::mpsc;

/// Bytes gathered before they are handed on, in both channels.
pub(crate) const CHUNK: usize = 256 * 1024;

/// What the ZIP writer is told: start a file, here are its bytes, the end.
pub(crate) enum Piece {
    File {
        name: String,
        deflate: bool,
        large: bool,
    },
    Data(Bytes),
    End,
}

/// The async side of the ZIP writer: gathers small writes into chunks.
pub(crate) struct Sink {
    tx: mpsc::Sender<Piece>,
    buf: Vec<u8>,
}

impl Sink {
    pub(crate) fn new(tx: mpsc::Sender<Piece>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    pub(crate) async fn send(&self, piece: Piece) -> Result<()> {
        self.tx
            .send(piece)
            .await
            .map_err(|_| anyhow::anyhow!("the ZIP writer stopped").into())
    }

    /// Starts the next file. `size` when known (a file over 4 GiB needs ZIP64).
    pub(crate) async fn file(
        &mut self,
        name: String,
        deflate: bool,
        size: Option<u64>,
    ) -> Result<()> {
        self.flush().await?;
        let large = size.is_some_and(|s| s >= u64::from(u32::MAX));
        self.send(Piece::File {
            name,
            deflate,
            large,
        })
        .await
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// Hands a chunk on as it is (a piece of a media file).
    pub(crate) async fn chunk(&mut self, bytes: Bytes) -> Result<()> {
        self.flush().await?;
        self.send(Piece::Data(bytes)).await
    }

    pub(crate) async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.send(Piece::Data(chunk)).await
    }

    /// Writes one value of a JSON array opened with `[`: `first` says whether it is the first.
    pub(crate) async fn item(&mut self, first: &mut bool, value: &serde_json::Value) -> Result<()> {
        self.write(if *first { b"\n" } else { b",\n" }).await?;
        *first = false;
        let text = serde_json::to_vec_pretty(value).context("could not write JSON")?;
        self.write(&text).await
    }

    pub(crate) async fn finish(mut self) -> Result<()> {
        self.flush().await?;
        self.send(Piece::End).await
    }
}

/// The blocking side's output: chunks into the upload's channel.
pub(crate) struct Outlet {
    out: mpsc::Sender<Result<Bytes, String>>,
    buf: Vec<u8>,
}

impl Outlet {
    pub(crate) fn hand_on(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.out
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

impl Write for Outlet {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.hand_on()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs on a blocking thread: writes the pieces into a streamed ZIP. Without its `End` (the
/// builder failed), the upload is told to abandon what it has.
pub(crate) fn zip_pieces(
    mut pieces: mpsc::Receiver<Piece>,
    out: mpsc::Sender<Result<Bytes, String>>,
    stamp: zip::DateTime,
) -> anyhow::Result<()> {
    let abandon = out.clone();
    let mut zip = zip::ZipWriter::new_stream(Outlet {
        out,
        buf: Vec::with_capacity(CHUNK),
    });
    let failed = |why: String| {
        let _ = abandon.blocking_send(Err(why.clone()));
        anyhow::anyhow!(why)
    };
    loop {
        let Some(piece) = pieces.blocking_recv() else {
            return Err(failed("the export stopped before its end".into()));
        };
        let step = match piece {
            Piece::File {
                name,
                deflate,
                large,
            } => {
                let method = if deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(method)
                    .last_modified_time(stamp)
                    .unix_permissions(0o644)
                    .large_file(large);
                zip.start_file(name, options).map_err(anyhow::Error::from)
            }
            Piece::Data(bytes) => zip.write_all(&bytes).map_err(anyhow::Error::from),
            Piece::End => {
                return match zip.finish() {
                    Ok(stream) => {
                        let mut outlet = stream.into_inner();
                        outlet
                            .hand_on()
                            .map_err(|e| failed(format!("could not write the ZIP: {e}")))
                    }
                    Err(e) => Err(failed(format!("could not write the ZIP: {e}"))),
                };
            }
        };
        if let Err(e) = step {
            return Err(failed(format!("could not write the ZIP: {e:#}")));
        }
    }
}

pub(crate) fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

/// A name safe as one part of a path in the ZIP: no separators, no dots alone, not empty.
pub(crate) fn path_part(raw: &str, max: usize) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        "unnamed".to_owned()
    } else {
        cleaned
    }
}
