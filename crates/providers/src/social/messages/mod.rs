//! Direct messages: the conversations people start with an account (Instagram's, for
//! professional accounts), read back, and text replies sent as the account within the
//! platform's reply window (`API_FACTS.md`, "Comments and messages").
//!
//! One trait the platform's adapter implements; its failures mapped into the kinds the inbox
//! acts on. Only Instagram has one.

mod instagram;

use super::{AccountRef, Registry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::time::Duration;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id at the platform.
    pub id: String,
    /// Sent by the account (a reply), or by the other person.
    pub by_account: bool,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// A conversation between the account and one other person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Its id at the platform.
    pub id: String,
    /// The other person's id at the platform (where a reply is sent to).
    pub person_id: String,
    /// The other person's name or handle as the platform shows it.
    pub person_name: String,
    /// When its last message was sent.
    pub updated_at: DateTime<Utc>,
    /// Its messages, oldest first (the latest ones, as many as the platform gives).
    pub messages: Vec<Message>,
}

/// What one read of an account's inbox gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbox {
    /// Most recently active first.
    pub conversations: Vec<Conversation>,
    pub calls: u32,
}

/// Why the inbox could not be read or a reply sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the platform no longer accepts this account's authorisation")]
    TokenExpired,
    /// The account was connected without the messaging permission: connect it again.
    #[error("the account must be connected again: {0}")]
    MissingPermission(String),
    #[error("the platform's rate limit was reached")]
    RateLimited { retry_after: Duration },
    /// The reply window has closed (Instagram: 24 hours after the person's last message).
    #[error("the platform's reply window has closed")]
    WindowClosed,
    /// The platform refused; its reason is shown to the person.
    #[error("the platform refused: {0}")]
    Refused(String),
    /// A failure that may pass; `maybe_done` when the message may have been sent.
    #[error("the platform could not be reached: {reason}")]
    Unavailable { reason: String, maybe_done: bool },
}

/// Reads an account's direct messages and sends text replies.
#[async_trait]
pub trait Messages: Send + Sync {
    /// The permissions the inbox needs beyond publishing's; asked only when a workspace turns
    /// the inbox on.
    fn message_scopes(&self) -> &'static [&'static str];

    /// How long after the person's last message the account may reply.
    fn reply_window(&self) -> chrono::Duration;

    /// The account's conversations updated since `since` (all the platform gives without it),
    /// each with its latest messages.
    async fn conversations(
        &self,
        account: &AccountRef,
        token: &SecretString,
        since: Option<DateTime<Utc>>,
    ) -> Result<Inbox, MessageError>;

    /// Sends `text` to `person_id` as the account; returns the message's id at the platform.
    async fn send(
        &self,
        account: &AccountRef,
        token: &SecretString,
        person_id: &str,
        text: &str,
    ) -> Result<String, MessageError>;
}

/// The messaging adapters of each platform that is configured.
pub type MessageAdapters = Registry<dyn Messages>;
