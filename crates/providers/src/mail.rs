//! Outgoing e-mail: SMTP when configured, otherwise `.eml` files in an outbox folder, so that a
//! fresh install works with nothing else running.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::sync::Arc;

/// A message ready to send. Bodies are plain text: every client renders it, and links stay
/// readable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
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
        Some(config) => Arc::new(SmtpMailer::new(from, config)?),
        None => Arc::new(OutboxMailer::new(from, outbox)?),
    })
}

fn message(from: &Mailbox, email: &Email) -> Result<Message, MailError> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| MailError::Rejected(format!("recipient address: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| MailError::Rejected(e.to_string()))
}

/// Writes each message as an `.eml` file.
pub struct OutboxMailer {
    from: Mailbox,
    dir: PathBuf,
    transport: AsyncFileTransport<Tokio1Executor>,
}

impl OutboxMailer {
    pub fn new(from: Mailbox, dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            anyhow::anyhow!("could not create the mail outbox {}: {e}", dir.display())
        })?;
        let transport = AsyncFileTransport::new(&dir);
        Ok(Self {
            from,
            dir,
            transport,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let msg = message(&self.from, email)?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Transient(format!("writing to the outbox: {e}")))
    }

    fn describe(&self) -> String {
        format!("written as .eml files to {}", self.dir.display())
    }
}

pub struct SmtpMailer {
    from: Mailbox,
    host: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
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
        })
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
        };
        assert!(mailer.send(&email).await.unwrap_err().is_permanent());
        let _ = std::fs::remove_dir_all(&dir);
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
