//! The conversation under published posts: reading the comments (and replies) people leave,
//! replying as the account, hiding and deleting, on the platforms whose APIs allow it
//! (`API_FACTS.md`, "Comments and messages"). One trait each platform's adapter implements; its
//! failures mapped into the few kinds the comments workspace acts on.
//!
//! Each platform's implementation is in its own file here. TikTok has no comment endpoints for
//! the scopes the product asks (counts only, through its metrics), so it implements nothing.

mod facebook;
mod instagram;
mod linkedin;
mod x;

use super::{AccountRef, Registry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::time::Duration;

/// One comment (or reply) under a post, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment's id at the platform (X: the reply's post id; LinkedIn: its URN).
    pub id: String,
    /// The comment this one answers; none for a comment on the post itself.
    pub parent_id: Option<String>,
    /// The author's id at the platform, where it says.
    pub author_id: Option<String>,
    /// The author's name or handle as the platform shows it.
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// Hidden at the platform (by the account).
    pub hidden: bool,
    /// Written by the connected account itself (its own replies).
    pub by_account: bool,
}

/// What one read of a post's conversation gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    /// Oldest first.
    pub comments: Vec<Comment>,
    /// Calls made (X bills each read).
    pub calls: u32,
    /// The whole conversation as the platform has it now: no page left unread, no time limit,
    /// so a comment stored earlier and missing here is gone at the platform. False whenever
    /// the read stopped early or the platform cannot give everything.
    pub complete: bool,
}

/// What a platform's API lets the product do with the comments of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Abilities {
    pub read: bool,
    pub reply: bool,
    pub hide: bool,
    pub delete: bool,
}

/// Why a comment could not be read or acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// The token is no longer accepted: renew it or ask for a reconnection.
    #[error("the platform no longer accepts this account's authorisation")]
    TokenExpired,
    /// The account was connected without the permission this needs: connect it again (the
    /// reason says which permission).
    #[error("the account must be connected again: {0}")]
    MissingPermission(String),
    #[error("the platform's rate limit was reached")]
    RateLimited { retry_after: Duration },
    /// The post or the comment is no longer at the platform.
    #[error("the comment or its post is gone at the platform")]
    Gone,
    /// The platform refused this action; its reason is shown to the person (a reply to a
    /// hidden comment, a reply to a reply where only top-level comments take replies).
    #[error("the platform refused: {0}")]
    Refused(String),
    /// A failure that may pass. `maybe_done` is true when the request may have reached the
    /// platform (a reply may exist).
    #[error("the platform could not be reached: {reason}")]
    Unavailable { reason: String, maybe_done: bool },
}

/// Reads and answers the comments under an account's posts on one platform.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// The permissions reading and answering comments need beyond publishing's; asked only
    /// when a workspace turns the comments workspace on.
    fn comment_scopes(&self) -> &'static [&'static str];

    /// What the API allows for `account` (LinkedIn: organisation pages only; a member's
    /// comments cannot be read without a restricted permission).
    fn abilities(&self, account: &AccountRef) -> Abilities;

    /// The comments and replies under the account's post `post_id` (the platform's id), oldest
    /// first; where the platform filters by time, those since `since`.
    async fn comments(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Thread, CommentError>;

    /// Replies as the account to the comment `comment_id` under `post_id`; returns the reply's
    /// id at the platform.
    async fn reply(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        comment_id: &str,
        text: &str,
    ) -> Result<String, CommentError>;

    /// Hides (or shows again) a comment.
    async fn hide(
        &self,
        account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
        hidden: bool,
    ) -> Result<(), CommentError>;

    /// Deletes a comment (the platforms allow it on the account's own posts).
    async fn delete(
        &self,
        account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
    ) -> Result<(), CommentError>;
}

/// A call that got no answer (or an unreadable one): it may have reached the platform when it
/// was a write and the connection was made.
fn send_failed(err: &reqwest::Error, write: bool) -> CommentError {
    CommentError::Unavailable {
        reason: super::without_url(err),
        maybe_done: write && !err.is_connect(),
    }
}

/// Where an answer stopped making sense, never what it held (a serde message quotes the value,
/// which may be a commenter's words).
fn unreadable(err: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {}, column {}",
        err.classify(),
        err.line(),
        err.column()
    )
}

/// Oldest first; comments of the same moment by id, so that the order is stable.
fn oldest_first(comments: &mut [Comment]) {
    comments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
}

/// The comment adapters of each platform that is configured.
pub type CommentAdapters = Registry<dyn Conversations>;
