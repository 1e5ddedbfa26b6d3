//! Outgoing e-mail: SMTP when configured, otherwise `.eml` files in an outbox folder, so that a
//! fresh install works with nothing else running.
//!
//! The outbox folder is data like the database: its folder and files are readable by the
//! server's user only, and [`Outbox`] lets the layers above find the messages to or about an
//! address (an account deletion removes them) and purge those past their retention period.
//!
//! A message with files is `multipart/mixed`: its text, then each file in base64. SMTP and the
//! outbox carry the same message; one without files stays a single text part. The addresses a
//! stored message names are looked for in its headers and text, not inside its files.

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

mod read;
pub use read::{ReadMessage, read_message};

/// A message ready to send. Bodies are plain text: every client renders it, and links stay
/// readable. Files go along as attachments (the weekly analytics report's PDF).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Left out of a queued job's payload when there are none, so that payloads queued before
    /// messages had attachments still read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file sent with a message.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The file name the recipient sees.
    pub name: String,
    /// Its media type, such as `application/pdf`.
    pub content_type: String,
    /// Base64 in a queued job's payload: as a JSON list of numbers it would be nearly three
    /// times the size.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// The file's size, not its bytes: a message in a log or a failed assertion stays readable.
impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

/// Bytes as one standard base64 string.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The address or content cannot be sent as it is; retrying will not help.
    #[error("the message was refused: {0}")]
    Rejected(String),
    /// The server could not be reached or answered with a temporary failure.
    #[error("the mail server failed for now: {0}")]
    Transient(String),
}

impl MailError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Rejected(_))
    }
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<(), MailError>;
    /// Where messages go, for the start-up log ("outbox ./data/outbox", "smtp mail.example.com").
    fn describe(&self) -> String;
    /// The folder that keeps the messages written while no mail server is configured (with
    /// one, what an earlier configuration left there), for deletions and purges.
    fn outbox(&self) -> Option<Outbox> {
        None
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// No encryption: only for a relay on the same machine.
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub security: SmtpSecurity,
}

/// Builds the mailer: SMTP when `smtp` is given, otherwise an outbox folder.
pub fn build(
    from: &str,
    smtp: Option<&SmtpConfig>,
    outbox: PathBuf,
) -> anyhow::Result<Arc<dyn Mailer>> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| anyhow::anyhow!("mail.from {from:?} is not a valid sender address ({e}); write it like \"Socializioz <no-reply@example.com>\""))?;
    Ok(match smtp {
        Some(config) => Arc::new(SmtpMailer::new(from, config)?.with_outbox(outbox)),
        None => Arc::new(OutboxMailer::new(from, outbox)?),
    })
}

fn message(from: &Mailbox, email: &Email) -> Result<Message, MailError> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| MailError::Rejected(format!("recipient address: {e}")))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone());
    // Without attachments, one text part as always: the simplest message every client reads.
    let built = if email.attachments.is_empty() {
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(email.body.clone()));
        for file in &email.attachments {
            let kind = ContentType::parse(&file.content_type)
                .map_err(|e| MailError::Rejected(format!("an attachment's content type: {e}")))?;
            // Bytes, not text: lettre encodes them as base64.
            parts = parts.singlepart(
                lettre::message::Attachment::new(file.name.clone()).body(file.bytes.clone(), kind),
            );
        }
        builder.multipart(parts)
    };
    built.map_err(|e| MailError::Rejected(e.to_string()))
}

/// Writes each message as an `.eml` file, readable by the server's user only.
pub struct OutboxMailer {
    from: Mailbox,
    outbox: Outbox,
}

impl OutboxMailer {
    pub fn new(from: Mailbox, dir: PathBuf) -> anyhow::Result<Self> {
        private_dir(&dir).map_err(|e| {
            anyhow::anyhow!("could not create the mail outbox {}: {e}", dir.display())
        })?;
        Ok(Self {
            from,
            outbox: Outbox { dir },
        })
    }
}

/// Creates `dir` when missing; on Unix only its owner may enter it.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path`, readable by its owner only (Unix).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let bytes = message(&self.from, email)?.formatted();
        // Named by the time it was written, then at random.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = self
            .outbox
            .dir
            .join(format!("{nanos:020}-{:016x}.eml", rand::random::<u64>()));
        tokio::task::spawn_blocking(move || write_private(&path, &bytes))
            .await
            .map_err(|e| MailError::Transient(format!("writing to the outbox: {e}")))?
            .map_err(|e| MailError::Transient(format!("writing to the outbox: {e}")))
    }

    fn describe(&self) -> String {
        format!("written as .eml files to {}", self.outbox.dir.display())
    }

    fn outbox(&self) -> Option<Outbox> {
        Some(self.outbox.clone())
    }
}

/// The outbox folder: the `.eml` files written there.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

/// One message in the outbox, as far as deleting it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub path: PathBuf,
    /// When the file was last written.
    pub written: SystemTime,
    pub subject: String,
    /// Every e-mail address in its headers and its (decoded) text, lower-cased: the
    /// recipient's and any the text names.
    pub addresses: BTreeSet<String>,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every message in the folder (none when the folder does not exist).
    pub async fn messages(&self) -> std::io::Result<Vec<StoredMessage>> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || read_messages(&dir))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Deletes the messages `doomed` picks; returns how many went. A file already gone is
    /// not an error.
    pub async fn remove(&self, doomed: Vec<StoredMessage>) -> std::io::Result<u64> {
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            for message in doomed {
                match std::fs::remove_file(&message.path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(removed)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Deletes the messages written before `before`; returns how many went.
    pub async fn purge_before(&self, before: SystemTime) -> std::io::Result<u64> {
        let old = self
            .messages()
            .await?
            .into_iter()
            .filter(|m| m.written < before)
            .collect();
        self.remove(old).await
    }
}

fn read_messages(dir: &Path) -> std::io::Result<Vec<StoredMessage>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_file() || path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = match std::fs::read(&path) {
            Ok(raw) => raw,
            // Removed meanwhile (by a purge in another process).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let written = entry.metadata()?.modified()?;
        let (subject, addresses) = read_eml(&raw);
        out.push(StoredMessage {
            path,
            written,
            subject,
            addresses,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The subject of a message file and every address in it (headers, and the text decoded from
/// quoted-printable or base64).
fn read_eml(raw: &[u8]) -> (String, BTreeSet<String>) {
    let message = read_message(raw);
    let mut addresses = addresses_in(&message.head);
    addresses.extend(addresses_in(&message.body));
    (message.subject, addresses)
}

/// Every e-mail address in `text`, lower-cased.
pub fn addresses_in(text: &str) -> BTreeSet<String> {
    let local = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| local(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let end = text[at + 1..]
            .char_indices()
            .take_while(|(_, c)| domain(*c))
            .last()
            .map_or(at + 1, |(i, c)| at + 1 + i + c.len_utf8());
        let name = text[start..at].trim_start_matches('.');
        let host = text[at + 1..end].trim_end_matches(['.', '-']);
        if !name.is_empty() && !host.is_empty() {
            out.insert(format!("{name}@{host}").to_lowercase());
        }
    }
    out
}

pub struct SmtpMailer {
    from: Mailbox,
    host: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The outbox folder of the settings: messages written before a mail server was
    /// configured may still be there.
    outbox: Option<Outbox>,
}

impl SmtpMailer {
    pub fn new(from: Mailbox, config: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match config.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?
            }
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
        };
        let builder = match config.port {
            Some(port) => builder.port(port),
            None => builder,
        };
        let builder = match (&config.username, &config.password) {
            (Some(user), Some(password)) => builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            )),
            _ => builder,
        };
        Ok(Self {
            from,
            host: config.host.clone(),
            transport: builder.build(),
            outbox: None,
        })
    }

    /// Names the outbox folder that an earlier configuration without a mail server wrote to.
    pub fn with_outbox(mut self, dir: PathBuf) -> Self {
        self.outbox = Some(Outbox { dir });
        self
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let msg = message(&self.from, email)?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("sent over SMTP via {}", self.host)
    }

    fn outbox(&self) -> Option<Outbox> {
        self.outbox.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_writes_one_eml_file_per_message() {
        let dir = std::env::temp_dir().join(format!("sz-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mailer = build("Socializioz <no-reply@example.com>", None, dir.clone()).unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Hello".into(),
            body: "Line one\nhttps://example.com/link".into(),
            attachments: Vec::new(),
        };
        mailer.send(&email).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("Subject: Hello"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_bad_recipient_is_a_permanent_error() {
        let dir = std::env::temp_dir().join(format!("sz-outbox-bad-{}", std::process::id()));
        let mailer = build("no-reply@example.com", None, dir.clone()).unwrap();
        let email = Email {
            to: "not an address".into(),
            subject: "x".into(),
            body: "y".into(),
            attachments: Vec::new(),
        };
        assert!(mailer.send(&email).await.unwrap_err().is_permanent());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_outbox_finds_every_address_a_message_names_in_any_encoding() {
        let dir = std::env::temp_dir().join(format!("sz-outbox-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mailer = build("Socializioz <no-reply@example.com>", None, dir.clone()).unwrap();
        let long = "“Quoted” text that is long enough to be wrapped by the encoder. ".repeat(8);
        for (to, body) in [
            // Plain ASCII: 7bit.
            ("ada@example.com", "Hello".to_owned()),
            // Non-ASCII: quoted-printable or base64, whichever the encoder picks.
            (
                "bob@example.com",
                format!("{long}Ada (Ada.Lovelace+x@Example.org) invited you.\n{long}"),
            ),
            ("carol@example.com", format!("{long}{}", "é".repeat(400))),
        ] {
            mailer
                .send(&Email {
                    to: to.into(),
                    subject: "Hi".into(),
                    body,
                    attachments: Vec::new(),
                })
                .await
                .unwrap();
        }
        let outbox = mailer.outbox().unwrap();
        let messages = outbox.messages().await.unwrap();
        assert_eq!(messages.len(), 3);
        let naming = |a: &str| messages.iter().filter(|m| m.addresses.contains(a)).count();
        assert_eq!(naming("ada@example.com"), 1);
        assert_eq!(naming("ada.lovelace+x@example.org"), 1);
        assert_eq!(naming("carol@example.com"), 1);
        assert!(messages.iter().all(|m| m.subject == "Hi"));
        // Purging before a time: the messages written earlier go, the others stay.
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert_eq!(
            outbox.purge_before(SystemTime::UNIX_EPOCH).await.unwrap(),
            0
        );
        assert_eq!(outbox.purge_before(later).await.unwrap(), 3);
        assert!(outbox.messages().await.unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_outbox_and_its_messages_are_for_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sz-outbox-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mailer = build("no-reply@example.com", None, dir.clone()).unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "x".into(),
            body: "y".into(),
            attachments: Vec::new(),
        };
        mailer.send(&email).await.unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        let messages = mailer.outbox().unwrap().messages().await.unwrap();
        assert_eq!(mode(&messages[0].path), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A PDF-like file: text, then bytes that are not UTF-8.
    fn pdf_file() -> Attachment {
        let mut bytes = b"%PDF-1.7\n".to_vec();
        bytes.extend((0..=255u8).cycle().take(3000));
        Attachment {
            name: "analytics-7-2026-11-24-2026-11-30.pdf".into(),
            content_type: "application/pdf".into(),
            bytes,
        }
    }

    /// The parts of a multipart message, each as its unfolded header lines and its body.
    fn mime_parts(text: &str) -> Vec<(Vec<String>, String)> {
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let head = head.replace("\r\n ", " ");
        let boundary = head
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no boundary in {head}"));
        body.split(&format!("--{boundary}"))
            .skip(1)
            .filter(|part| !part.starts_with("--"))
            .map(|part| {
                let (head, body) = part.trim_start().split_once("\r\n\r\n").unwrap();
                let head = head.replace("\r\n ", " ");
                (
                    head.lines().map(str::to_owned).collect(),
                    body.trim_end_matches("\r\n").to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn an_attachment_makes_a_multipart_message_with_a_base64_part() {
        use base64::Engine;
        let from: Mailbox = "Socializioz <no-reply@example.com>".parse().unwrap();
        let file = pdf_file();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Acme: analytics".into(),
            body: "Hello Ada,\nthe report is attached.\n".into(),
            attachments: vec![file.clone()],
        };
        let raw = message(&from, &email).unwrap().formatted();
        let text = String::from_utf8(raw.clone()).unwrap();
        let (head, _) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("Content-Type: multipart/mixed;"),
            "the message is multipart/mixed: {head}"
        );
        let parts = mime_parts(&text);
        assert_eq!(parts.len(), 2, "{text}");
        let (plain_head, plain) = &parts[0];
        assert!(
            plain_head.contains(&"Content-Type: text/plain; charset=utf-8".to_owned()),
            "{plain_head:?}"
        );
        assert_eq!(plain, "Hello Ada,\r\nthe report is attached.");
        let (pdf_head, pdf) = &parts[1];
        let header = |name: &str| {
            pdf_head
                .iter()
                .find_map(|h| h.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} in {pdf_head:?}"))
        };
        // The name is one quoted value, as `filename=` or, being long, `filename*0=` (RFC 2231).
        let disposition = header("Content-Disposition");
        assert!(
            disposition.starts_with("attachment;")
                && disposition.contains("=\"analytics-7-2026-11-24-2026-11-30.pdf\""),
            "{disposition}"
        );
        assert_eq!(header("Content-Type"), "application/pdf");
        assert_eq!(header("Content-Transfer-Encoding"), "base64");
        let compact: String = pdf.split_whitespace().collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap();
        assert_eq!(decoded, file.bytes);
        // Read back, as the outbox and its deletions read it.
        let read = read_message(&raw);
        assert_eq!(read.subject, "Acme: analytics");
        assert_eq!(read.body, "Hello Ada,\r\nthe report is attached.\r\n");
        assert_eq!(read.attachments, vec![file]);
    }

    #[test]
    fn a_message_without_attachments_is_one_text_part() {
        let from: Mailbox = "no-reply@example.com".parse().unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Hello".into(),
            body: "Line one\n".into(),
            attachments: Vec::new(),
        };
        let raw = message(&from, &email).unwrap().formatted();
        let text = String::from_utf8(raw.clone()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("Content-Type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(!text.contains("multipart"), "{text}");
        assert_eq!(body, "Line one\r\n");
        assert!(read_message(&raw).attachments.is_empty());
    }

    #[test]
    fn a_queued_email_reads_with_or_without_attachments() {
        // A payload queued before messages had attachments.
        let old = r#"{"to":"ada@example.com","subject":"Hello","body":"Text"}"#;
        let email: Email = serde_json::from_str(old).unwrap();
        assert_eq!(
            email,
            Email {
                to: "ada@example.com".into(),
                subject: "Hello".into(),
                body: "Text".into(),
                attachments: Vec::new(),
            }
        );
        // Without attachments the payload keeps that shape.
        assert_eq!(serde_json::to_string(&email).unwrap(), old);
        // With one, its bytes are one base64 string, and come back whole.
        let with = Email {
            attachments: vec![pdf_file()],
            ..email
        };
        let json = serde_json::to_value(&with).unwrap();
        let bytes = json["attachments"][0]["bytes"].as_str().unwrap();
        assert!(
            bytes.starts_with("JVBERi0xLjcK"),
            "%PDF-1.7 in base64: {bytes}"
        );
        assert_eq!(serde_json::from_value::<Email>(json).unwrap(), with);
    }

    #[tokio::test]
    async fn the_outbox_writes_attachments_and_still_finds_the_addresses_in_the_text() {
        let dir = std::env::temp_dir().join(format!("sz-outbox-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mailer = build("Socializioz <no-reply@example.com>", None, dir.clone()).unwrap();
        let email = Email {
            to: "ada@example.com".into(),
            subject: "Report".into(),
            body: format!(
                "{}Ask grace@example.org about it.\n",
                "Zoë’s text. ".repeat(20)
            ),
            attachments: vec![pdf_file()],
        };
        mailer.send(&email).await.unwrap();
        let messages = mailer.outbox().unwrap().messages().await.unwrap();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].addresses.contains("ada@example.com"));
        assert!(
            messages[0].addresses.contains("grace@example.org"),
            "{:?}",
            messages[0].addresses
        );
        let read = read_message(&std::fs::read(&messages[0].path).unwrap());
        assert_eq!(read.body.replace("\r\n", "\n"), email.body);
        assert_eq!(read.attachments, email.attachments);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn addresses_are_found_in_text() {
        let found = addresses_in("To: Ada <Ada@Example.com>, (x@y). Mail me at bob@shop.example.");
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, ["ada@example.com", "bob@shop.example", "x@y"]);
    }

    #[test]
    fn a_bad_sender_is_refused_with_a_hint() {
        let err = build("nobody", None, std::env::temp_dir())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("mail.from"), "{err}");
    }
}
