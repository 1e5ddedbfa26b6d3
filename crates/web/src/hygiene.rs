//! Control characters are refused at the door. No field, path segment or query value of this
//! site takes a NUL byte or any other control character (tab, line feed and carriage return
//! aside): the one layer here answers such a request with a 400 page before any handler,
//! service or database sees it.
//!
//! What is checked, after percent-decoding: every segment of the path; every name and value of
//! the query; every name and value of a form body (`application/x-www-form-urlencoded`, and any
//! other non-multipart body, which handlers read as a form); and the headers and text of every
//! part of a `multipart/form-data` body that is not a file. File contents are not checked.
//! Multipart bodies stream: the text parts that come before the first file (as a browser sends
//! our upload form) are read ahead and refused with the page; a text part after a file ends the
//! stream with an error, which the upload reports as unreadable.

use crate::error::AppError;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

/// What the person is told.
pub const REFUSAL: &str = "The request contained a control character (such as a NUL byte), \
     which no form field or address of this site accepts. Remove it and try again.";

/// Form bodies larger than this are not forms of ours (the pages' body limit is the same).
const FORM_LIMIT: usize = 1024 * 1024;
/// How long a body may take to arrive while it is read here.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How much of a multipart body is read ahead to check the text parts before its first file.
const MULTIPART_PEEK: usize = 128 * 1024;

/// Every control character is refused but tab and the line breaks (line feed, carriage return
/// and next line, U+0085), which text areas and pasted text carry (the X counter counts a next
/// line as a line break).
pub fn refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}')
}

/// Whether percent-encoded `input` (a path, a query or a form body) decodes to a refused
/// character. Invalid UTF-8 is read leniently, as the form and query extractors read it.
fn encoded_refused(input: &[u8]) -> bool {
    form_urlencoded::parse(input).any(|(k, v)| k.chars().any(refused) || v.chars().any(refused))
}

/// The layer: checks the address, then the body.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let address_refused = encoded_refused(uri.path().as_bytes())
        || uri.query().is_some_and(|q| encoded_refused(q.as_bytes()));
    if address_refused {
        return refusal();
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let req = match multipart_boundary(&content_type) {
        Some(boundary) => check_multipart(req, &boundary).await,
        None => check_form(req).await,
    };
    match req {
        Ok(req) => next.run(req).await,
        Err(res) => res,
    }
}

fn refusal() -> Response {
    tracing::info!("request refused: a control character in its address or form");
    AppError::BadRequest(REFUSAL.to_owned()).into_response()
}

/// Reads a form body, checks it, and puts it back for the handler.
async fn check_form(req: Request) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, FORM_LIMIT)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                AppError::TooLarge.into_response()
            } else {
                AppError::BadRequest(
                    "The form did not arrive whole. Go back and send it again.".to_owned(),
                )
                .into_response()
            });
        }
        Err(_) => return Err(StatusCode::REQUEST_TIMEOUT.into_response()),
    };
    if encoded_refused(&bytes) {
        return Err(refusal());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The boundary of a `multipart/form-data` body.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.starts_with("multipart/") {
        return None;
    }
    content_type
        .split(';')
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_owned())
        })
        .find(|b| !b.is_empty())
}

/// Reads a multipart body up to its first file, checks what it read, and lets the rest stream
/// on through the same check.
async fn check_multipart(req: Request, boundary: &str) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut scan = MultipartScan::new(boundary);
    // What was read ahead, handed on as it came (a failure of the body included).
    let mut head: Vec<Result<Bytes, std::io::Error>> = Vec::new();
    let mut read = 0;
    let mut ended = false;
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    while read < MULTIPART_PEEK && !scan.in_file() && !scan.done() {
        let Ok(next) = tokio::time::timeout_at(deadline, stream.next()).await else {
            return Err(StatusCode::REQUEST_TIMEOUT.into_response());
        };
        match next {
            Some(Ok(chunk)) => {
                if scan.feed(&chunk).is_err() {
                    return Err(refusal());
                }
                read += chunk.len();
                head.push(Ok(chunk));
            }
            // The handler meets the same failure when it reads on.
            Some(Err(err)) => {
                head.push(Err(std::io::Error::other(err)));
                ended = true;
            }
            None => ended = true,
        }
        if ended {
            break;
        }
    }
    let head = futures_util::stream::iter(head);
    let body = if ended {
        Body::from_stream(head)
    } else {
        let rest = stream.map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            scan.feed(&chunk)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, REFUSAL))?;
            Ok(chunk)
        });
        Body::from_stream(head.chain(rest))
    };
    Ok(Request::from_parts(parts, body))
}

/// Where a multipart body is, as it streams past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Before the first boundary.
    Preamble,
    /// Right after a boundary: the closing `--`, or the line end before a part's headers.
    Boundary,
    Headers,
    /// The value of a part that is not a file.
    Text,
    /// The content of a file.
    File,
    /// After the closing boundary.
    Done,
}

/// A multipart body had a control character in a text part or a header (or headers too long
/// to be a browser's).
#[derive(Debug, PartialEq, Eq)]
pub struct Refused;

/// Follows a multipart body piece by piece and checks the text of every part that is not a
/// file, without holding more than a boundary's length of it.
pub struct MultipartScan {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    place: Place,
    pending: Vec<u8>,
    /// The last byte checked was 0xC2, which starts the UTF-8 form of U+0080–U+00BF.
    after_c2: bool,
}

/// The longest header block of one part.
const HEADERS_LIMIT: usize = 16 * 1024;

impl MultipartScan {
    pub fn new(boundary: &str) -> Self {
        Self {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            place: Place::Preamble,
            // The first boundary may open the body without a line end before it.
            pending: b"\r\n".to_vec(),
            after_c2: false,
        }
    }

    pub fn in_file(&self) -> bool {
        self.place == Place::File
    }

    pub fn done(&self) -> bool {
        self.place == Place::Done
    }

    /// Checks bytes of a text part: C0 controls and DEL as single bytes, C1 controls as their
    /// two-byte UTF-8 form (0xC2 0x80–0x9F), except the next-line character (0xC2 0x85), a line
    /// break as in the form-encoded check.
    fn check_text(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        for &b in bytes {
            let c1 = self.after_c2 && (0x80..=0x9f).contains(&b) && b != 0x85;
            if (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f || c1 {
                return Err(Refused);
            }
            self.after_c2 = b == 0xc2;
        }
        Ok(())
    }

    /// Takes the next piece of the body.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Refused> {
        if self.place == Place::Done {
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        loop {
            match self.place {
                Place::Preamble | Place::Text | Place::File => {
                    let pending = std::mem::take(&mut self.pending);
                    let text = self.place == Place::Text;
                    match find(&pending, &self.delimiter) {
                        Some(at) => {
                            if text {
                                self.check_text(&pending[..at])?;
                            }
                            self.pending = pending[at + self.delimiter.len()..].to_vec();
                            self.after_c2 = false;
                            self.place = Place::Boundary;
                        }
                        None => {
                            // Keep what may be the start of the next boundary.
                            let cut = pending.len().saturating_sub(self.delimiter.len() - 1);
                            if text {
                                self.check_text(&pending[..cut])?;
                            }
                            self.pending = pending[cut..].to_vec();
                            return Ok(());
                        }
                    }
                }
                Place::Boundary => {
                    if self.pending.len() < 2 {
                        return Ok(());
                    }
                    if self.pending.starts_with(b"--") {
                        self.place = Place::Done;
                        self.pending.clear();
                        return Ok(());
                    }
                    match find(&self.pending, b"\r\n") {
                        Some(at) => {
                            self.pending.drain(..at + 2);
                            self.place = Place::Headers;
                        }
                        None if self.pending.len() > HEADERS_LIMIT => return Err(Refused),
                        None => return Ok(()),
                    }
                }
                Place::Headers => {
                    let end = if self.pending.starts_with(b"\r\n") {
                        Some(0)
                    } else {
                        find(&self.pending, b"\r\n\r\n").map(|at| at + 2)
                    };
                    let Some(end) = end else {
                        if self.pending.len() > HEADERS_LIMIT {
                            return Err(Refused);
                        }
                        return Ok(());
                    };
                    let headers = String::from_utf8_lossy(&self.pending[..end]).into_owned();
                    self.pending.drain(..end + 2);
                    if headers.chars().any(refused) {
                        return Err(Refused);
                    }
                    self.place = if is_file(&headers) {
                        Place::File
                    } else {
                        Place::Text
                    };
                }
                Place::Done => return Ok(()),
            }
        }
    }
}

/// Whether a part's headers name a file (`filename=` in its `Content-Disposition`).
fn is_file(headers: &str) -> bool {
    headers.split("\r\n").any(|line| {
        let Some((name, value)) = line.split_once(':') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("content-disposition")
            && value.split(';').skip(1).any(|param| {
                param.split_once('=').is_some_and(|(k, _)| {
                    let k = k.trim();
                    k.eq_ignore_ascii_case("filename") || k.eq_ignore_ascii_case("filename*")
                })
            })
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::{MultipartScan, Refused, encoded_refused, find, multipart_boundary, refused};

    #[test]
    fn control_characters_are_refused_but_tab_and_line_breaks_pass() {
        for c in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{84}', '\u{9f}'] {
            assert!(refused(c), "{c:?}");
        }
        for c in [
            '\t', '\n', '\r', '\u{85}', ' ', 'é', '€', '\u{a0}', '\u{200b}',
        ] {
            assert!(!refused(c), "{c:?}");
        }
        assert!(encoded_refused(b"/legal/terms/v/%00"));
        assert!(encoded_refused(b"from=%00"));
        assert!(encoded_refused(b"a=1&b%00=2"));
        assert!(encoded_refused(b"body=bell%07"));
        assert!(encoded_refused(b"body=%C2%9F"));
        assert!(!encoded_refused(b"body=a%C2%85b"));
        assert!(encoded_refused(b"raw=a\0b"));
        assert!(!encoded_refused(b"body=line+one%0D%0A%09line+two"));
        assert!(!encoded_refused(b"/w/1/posts/2"));
        // Invalid UTF-8 is read leniently (as U+FFFD), as the extractors read it.
        assert!(!encoded_refused(b"q=%FF"));
    }

    fn body(parts: &[(&str, bool, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, value) in parts {
            out.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\"");
            if *file {
                out.extend_from_slice(b"; filename=\"a.png\"\r\nContent-Type: image/png");
            }
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    /// Feeds `bytes` in pieces of `size`.
    fn scan(bytes: &[u8], size: usize) -> Result<MultipartScan, Refused> {
        let mut scan = MultipartScan::new("XyZ");
        for piece in bytes.chunks(size) {
            scan.feed(piece)?;
        }
        Ok(scan)
    }

    #[test]
    fn multipart_text_parts_are_checked_and_files_are_not() {
        let clean = body(&[
            ("csrf", false, b"tok3n"),
            ("folder", false, b"spring\r\nbanners\t"),
            ("file", true, b"\x89PNG\0\x01\x02\xc2\x85--XyZ"),
            ("tags", false, "caf\u{e9} \u{20ac}".as_bytes()),
            ("name", false, "line\u{85}break".as_bytes()),
        ]);
        let nul = body(&[
            ("csrf", false, b"tok3n"),
            ("folder", false, b"ban\0ners"),
            ("file", true, b"\x89PNG"),
        ]);
        let late = body(&[
            ("file", true, b"\x89PNG\0"),
            ("tags", false, "a\u{9f}b".as_bytes()),
        ]);
        for size in [1, 2, 3, 7, 64, 4096] {
            let done = scan(&clean, size).expect("a clean body passes");
            assert!(done.done(), "the closing boundary is seen ({size})");
            assert_eq!(scan(&nul, size).err(), Some(Refused), "{size}");
            assert_eq!(scan(&late, size).err(), Some(Refused), "{size}");
        }
        // A control character in a part's headers (a file name) is refused too.
        let name = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\0.png\"\r\n\r\nx\r\n--XyZ--";
        assert_eq!(scan(name, 5).err(), Some(Refused));
        // The scan stops at the first file until more is fed.
        let mut partial = MultipartScan::new("XyZ");
        let png = find(&clean, b"\x89PNG").expect("the file");
        assert!(partial.feed(&clean[..png + 2]).is_ok());
        assert!(partial.in_file());
    }

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\""),
            Some("XyZ".to_owned())
        );
        assert_eq!(
            multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=a-b"),
            Some("a-b".to_owned())
        );
        assert_eq!(
            multipart_boundary("application/x-www-form-urlencoded"),
            None
        );
    }
}
