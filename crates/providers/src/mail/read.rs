//! Message files read back: what the outbox needs to find the messages to or about an address,
//! and what tests and benchmarks need to follow a message's link or open its attachment. It
//! reads what [`super::message`] writes (one text part, or a multipart message of a text part
//! and files), not every message the world sends.

use super::Attachment;
use std::collections::BTreeMap;

/// A message file read back: its header block, subject, text and attachments, decoded from
/// quoted-printable or base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMessage {
    pub head: String,
    pub subject: String,
    /// The text: the body, or a multipart message's text parts one after the other.
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// Reads a message file as the outbox writes it.
pub fn read_message(raw: &[u8]) -> ReadMessage {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = split_part(&text);
    let headers = Headers::of(head);
    let mut message = ReadMessage {
        head: head.to_owned(),
        subject: headers.get("Subject").unwrap_or_default(),
        body: String::new(),
        attachments: Vec::new(),
    };
    read_part(&headers, body, &mut message);
    message
}

/// A message or part: its header block and its body.
fn split_part(text: &str) -> (&str, &str) {
    if let Some(body) = text
        .strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
    {
        return ("", body);
    }
    text.split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text, ""))
}

/// Header lines, unfolded: a line starting with white space continues the one before.
struct Headers(Vec<String>);

impl Headers {
    fn of(head: &str) -> Self {
        let mut headers: Vec<String> = Vec::new();
        for line in head.lines() {
            match headers.last_mut() {
                Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
                _ => headers.push(line.to_owned()),
            }
        }
        Self(headers)
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find_map(|h| {
            let (key, value) = h.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// Adds a part's text to the message's text, or the part to its attachments; a multipart part
/// adds each of its parts.
fn read_part(headers: &Headers, body: &str, message: &mut ReadMessage) {
    let content_type = headers.get("Content-Type").unwrap_or_default();
    if content_type.to_ascii_lowercase().starts_with("multipart/")
        && let Some(boundary) = parameter(&content_type, "boundary")
    {
        for part in parts(body, &boundary) {
            let (head, body) = split_part(part);
            read_part(&Headers::of(head), body, message);
        }
        return;
    }
    let encoding = headers
        .get("Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => decode_base64(body).unwrap_or_else(|| body.as_bytes().to_vec()),
        _ => body.as_bytes().to_vec(),
    };
    let disposition = headers.get("Content-Disposition").unwrap_or_default();
    if disposition.to_ascii_lowercase().starts_with("attachment") {
        message.attachments.push(Attachment {
            name: parameter(&disposition, "filename").unwrap_or_default(),
            content_type: content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            bytes,
        });
    } else {
        message.body.push_str(&String::from_utf8_lossy(&bytes));
    }
}

/// The parts of a multipart body, between its `--boundary` lines; the text before the first
/// and after the last is not part of the message.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    body.split(delimiter.as_str())
        .skip(1)
        .take_while(|chunk| !chunk.starts_with("--"))
        .map(|chunk| {
            // The rest of the boundary line goes, and the line break before the next one.
            let part = chunk.split_once('\n').map_or("", |(_, part)| part);
            part.strip_suffix("\r\n")
                .or_else(|| part.strip_suffix('\n'))
                .unwrap_or(part)
        })
        .collect()
}

/// A parameter of a header's value: `boundary` in `multipart/mixed; boundary="b"`. A long or
/// non-ASCII value comes in pieces (`filename*0="…"; filename*1="…"`, RFC 2231), the pieces
/// marked `*` percent-encoded after a charset (`filename*0*=utf-8''%C3%A9`); they are put
/// together here, read as UTF-8.
fn parameter(value: &str, name: &str) -> Option<String> {
    let mut pieces: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for param in split_unquoted(value, ';').into_iter().skip(1) {
        let Some((key, raw)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(&name.to_ascii_lowercase()) else {
            continue;
        };
        let (index, encoded) = match rest.strip_suffix('*') {
            Some(index) => (index, true),
            None => (rest, false),
        };
        let index = match index {
            "" => 0,
            _ => match index.strip_prefix('*').map(str::parse::<u32>) {
                Some(Ok(index)) => index,
                _ => continue,
            },
        };
        let raw = raw.trim();
        let bytes = if encoded {
            // The first piece names its charset and language: `utf-8'en'…`.
            let raw = match index {
                0 => raw.splitn(3, '\'').nth(2).unwrap_or(raw),
                _ => raw,
            };
            percent_decoded(raw)
        } else {
            unquoted(raw).into_bytes()
        };
        pieces.insert(index, bytes);
    }
    if pieces.is_empty() {
        return None;
    }
    let bytes: Vec<u8> = pieces.into_values().flatten().collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `text` split at each `at` outside double quotes.
fn split_unquoted(text: &str, at: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == at && !quoted => {
                out.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// A parameter's value without its quotes and escapes.
fn unquoted(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `%XX` turned into its byte; everything else kept.
fn percent_decoded(raw: &str) -> Vec<u8> {
    hex_escapes(raw, b'%')
}

fn decode_quoted_printable(text: &str) -> Vec<u8> {
    hex_escapes(&text.replace("=\r\n", "").replace("=\n", ""), b'=')
}

/// `text` with each `marker` followed by two hex digits turned into that byte; everything else
/// kept as it is.
fn hex_escapes(text: &str, marker: u8) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == marker
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Standard base64, white space ignored; `None` when it is not base64.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_is_read_plain_quoted_or_in_pieces() {
        let name = |value: &str| parameter(value, "filename");
        assert_eq!(name("attachment; filename=a.pdf").unwrap(), "a.pdf");
        assert_eq!(
            name(r#"attachment; FileName="a \"b\"; c.pdf""#).unwrap(),
            r#"a "b"; c.pdf"#
        );
        assert_eq!(
            name(r#"attachment; filename*1="-2.pdf"; filename*0="report-1""#).unwrap(),
            "report-1-2.pdf"
        );
        assert_eq!(
            name("attachment; filename*0*=utf-8''Z%C3%B6; filename*1*=e%20.pdf").unwrap(),
            "Zöe .pdf"
        );
        assert_eq!(
            name("attachment; filename*=utf-8'de'f%C3%BCr.pdf").unwrap(),
            "für.pdf"
        );
        assert_eq!(name("attachment; size=3"), None);
        assert_eq!(name("attachment; filenames=x"), None);
    }

    #[test]
    fn long_and_non_ascii_file_names_come_back_whole() {
        use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
        for file_name in [
            "analytics-123456789-2026-11-24-2026-11-30.pdf".to_owned(),
            format!("Bericht für {}.pdf", "Zoë ".repeat(20)),
        ] {
            let from: Mailbox = "no-reply@example.com".parse().unwrap();
            let raw = lettre::Message::builder()
                .from(from.clone())
                .to(from)
                .subject("x")
                .multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain("Text".to_owned()))
                        .singlepart(lettre::message::Attachment::new(file_name.clone()).body(
                            vec![1u8, 2, 3],
                            ContentType::parse("application/pdf").unwrap(),
                        )),
                )
                .unwrap()
                .formatted();
            let read = read_message(&raw);
            assert_eq!(read.body, "Text");
            assert_eq!(
                read.attachments.len(),
                1,
                "{}",
                String::from_utf8_lossy(&raw)
            );
            assert_eq!(read.attachments[0].name, file_name);
            assert_eq!(read.attachments[0].bytes, [1, 2, 3]);
        }
    }
}
