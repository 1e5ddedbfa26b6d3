//! Answering comments: a reply a member writes (or takes from an AI suggestion and edits) is
//! sent as the account, once; hiding and deleting where the platform allows.
//!
//! Two members replying at once get one reply posted: sending claims the comment (a reply row
//! in `sending`, written under the workspace's lock); the other is told who is replying, and
//! their text stays as a draft. A reply form also carries how many replies had been sent when
//! the page was drawn: a reply sent meanwhile is shown instead of posting a second one.
//!
//! Nothing is posted by the AI alone: a suggestion is kept as a draft for a person to edit and
//! send. The commenter's name is never sent to the AI provider, only the texts.

use super::{account_ref, editor, own_comment};
use crate::ai::{complete, failure, moderate};
use crate::plans::Need;
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services, activity};
use domain::Platform;
use domain::plans::{Feature, Limit};
use providers::ai::{Message, Request};
use providers::social::comments::{CommentError, Conversations};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use std::sync::Arc;
use store::entities::{comment, comment_reply, post, post_target, social_account, user};

/// States of a reply written here.
pub const DRAFT: &str = "draft";
pub const SENDING: &str = "sending";
/// Waiting for an approver (the workspace has replies approved).
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
/// The platform may have it: the request went out and no answer came back.
pub const UNCONFIRMED: &str = "unconfirmed";

/// How long a reply may be `sending` before it counts as unconfirmed (far longer than a call
/// with its timeout takes).
const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// The most tokens a suggested reply may take.
const MAX_SUGGESTION: u32 = 400;

/// How a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// At the platform, with its id there.
    Posted,
    /// The platform may have it; the page says to check the conversation after the next read.
    Unconfirmed,
    /// Waiting for an approver; nothing was sent.
    Pending,
}

/// A reply row written `sending` before its call.
struct Claim {
    id: i64,
}

/// How many replies have been sent to the comment from here.
pub(crate) async fn sent_count<C: ConnectionTrait>(conn: &C, comment_id: i64) -> Result<u64> {
    Ok(comment_reply::Entity::find()
        .filter(comment_reply::Column::CommentId.eq(comment_id))
        .filter(comment_reply::Column::State.is_in([SENT, UNCONFIRMED]))
        .count(conn)
        .await?)
}

/// A reply of the account found at the platform under the comment `parent` (of `account`):
/// a reply sent from here whose outcome was unknown, with the same text, is settled as sent.
pub(crate) async fn confirm<C: ConnectionTrait>(
    conn: &C,
    account: i64,
    parent: &str,
    reply_id: &str,
    text: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let Some(parent) = comment::Entity::find()
        .filter(comment::Column::AccountId.eq(account))
        .filter(comment::Column::PlatformId.eq(parent))
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    comment_reply::Entity::update_many()
        .col_expr(comment_reply::Column::State, Expr::value(SENT))
        .col_expr(comment_reply::Column::PlatformId, Expr::value(reply_id))
        .col_expr(comment_reply::Column::SentAt, Expr::value(at))
        .col_expr(
            comment_reply::Column::Error,
            Expr::value(Option::<String>::None),
        )
        .filter(comment_reply::Column::CommentId.eq(parent.id))
        .filter(comment_reply::Column::State.eq(UNCONFIRMED))
        .filter(comment_reply::Column::Body.eq(text.trim()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Replies left `sending` by a process that stopped mid-way become unconfirmed (the daily
/// upkeep; sending to the same comment does it too).
pub(crate) async fn settle_stale<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    Ok(comment_reply::Entity::update_many()
        .col_expr(comment_reply::Column::State, Expr::value(UNCONFIRMED))
        .col_expr(
            comment_reply::Column::Error,
            Expr::value(Some(
                "The sending stopped before the platform answered; the reply may be there. The \
                 next read of the conversation shows it if it is."
                    .to_owned(),
            )),
        )
        .filter(comment_reply::Column::State.eq(SENDING))
        .filter(comment_reply::Column::SentAt.lt(now - STALE_CLAIM))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Tells the members who may approve a reply of `actor`'s (not `actor`) that one waits, in
/// the app; in `conn`.
async fn tell_reply_approvers<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
    actor: &user::Model,
    comment: &comment::Model,
    reply_id: i64,
) -> Result<()> {
    use crate::notifications::{Notice, notify};
    use store::entities::membership;
    use store::entities::notification::NotificationKind;
    let rules = crate::posts::approval::stored_rules(&ctx.workspace);
    let members = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(ctx.workspace.id))
        .all(conn)
        .await?;
    for m in members {
        let Ok(who) = crate::posts::approval::member_of(&m) else {
            continue;
        };
        if m.user_id == actor.id || !rules.is_approver(who) {
            continue;
        }
        let notice = Notice {
            kind: NotificationKind::ApprovalAsked,
            actor: Some(domain::UserId(actor.id)),
            summary: format!(
                "wrote a reply to a comment that waits for your approval: “{}”",
                crate::posts::excerpt(&comment.body)
            ),
            link: format!("/w/{}/comments/{}#drafts", ctx.workspace.id, comment.id),
            object_type: "comment_reply",
            object_id: reply_id,
        };
        notify(conn, domain::UserId(m.user_id), ctx.workspace_id(), &notice).await?;
    }
    Ok(())
}

impl Services {
    /// Whether a reply `ctx`'s member sends must wait for an approver: the workspace has
    /// replies approved, on a plan with approvals, and the member may not approve their own.
    async fn reply_needs_approval<C: ConnectionTrait>(
        &self,
        conn: &C,
        ctx: &Membership,
    ) -> Result<bool> {
        let Some(ws) = store::entities::workspace::Entity::find_by_id(ctx.workspace.id)
            .one(conn)
            .await?
        else {
            return Err(ServiceError::NotFound);
        };
        if !ws.replies_need_approval {
            return Ok(false);
        }
        match self
            .entitle(conn, ctx.workspace_id(), Need::Feature(Feature::Approvals))
            .await
        {
            Ok(()) => {}
            Err(ServiceError::PlanLimit { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        let me = crate::posts::approval::member_now(conn, ctx).await?;
        let rules = crate::posts::approval::stored_rules(&ws);
        Ok(rules.may_approve(me, true).is_err())
    }

    /// Has replies to comments wait for an approver (the posts' approvers), or not. Owners
    /// only, on a plan with approvals; logged.
    pub async fn set_reply_approvals(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        on: bool,
    ) -> Result<()> {
        use store::entities::workspace;
        let txn = store::begin_write(&self.db).await?;
        let me = crate::workspaces::lock_as_member(&txn, ctx).await?;
        if crate::workspaces::role_of(&me.role)? != domain::Role::Owner {
            return Err(ServiceError::Forbidden(
                "Only owners decide how replies are approved.".into(),
            ));
        }
        if on {
            self.entitle(&txn, ctx.workspace_id(), Need::Feature(Feature::Approvals))
                .await?;
        }
        workspace::Entity::update_many()
            .col_expr(workspace::Column::RepliesNeedApproval, Expr::value(on))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comments.reply_approvals_changed",
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: if on {
                    "had replies to comments wait for an approver".to_owned()
                } else {
                    "had replies to comments sent without approval".to_owned()
                },
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Whether `ctx`'s member may decide on the reply `reply` (not their own unless the rules
    /// allow it): `Err` says why not.
    pub async fn may_decide_reply(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        reply: &comment_reply::Model,
    ) -> Result<std::result::Result<(), String>> {
        let me = crate::posts::approval::member_now(&self.db, ctx).await?;
        let rules = crate::posts::approval::stored_rules(&ctx.workspace);
        let own = reply.author_id == Some(actor.id);
        Ok(rules.may_approve(me, own).map_err(|_| {
            if own && rules.is_approver(me) {
                "You wrote this reply: in this workspace another approver reviews it.".to_owned()
            } else {
                "In this workspace only the posts' approvers approve replies.".to_owned()
            }
        }))
    }

    /// An approver's decision on the reply `reply_id` to comment `id`, waiting for approval:
    /// approved, it is sent at once (once); sent back, it returns to its writer as a draft with
    /// the approver's name.
    pub async fn decide_reply(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        reply_id: i64,
        approve: bool,
    ) -> Result<Sent> {
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        let reply = comment_reply::Entity::find_by_id(reply_id)
            .filter(comment_reply::Column::CommentId.eq(comment.id))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if reply.state != PENDING {
            return Err(ServiceError::invalid(
                "reply",
                "This reply no longer waits for approval: someone decided on it already.",
            ));
        }
        if let Err(why) = self.may_decide_reply(ctx, actor, &reply).await? {
            return Err(ServiceError::Forbidden(why));
        }
        let now = crate::now();
        if !approve {
            comment_reply::Entity::update_many()
                .col_expr(comment_reply::Column::State, Expr::value(DRAFT))
                .col_expr(comment_reply::Column::ReviewedBy, Expr::value(actor.id))
                .col_expr(
                    comment_reply::Column::Error,
                    Expr::value(Some(format!(
                        "{} sent this reply back: it was not sent. Edit it and send it again.",
                        actor.name
                    ))),
                )
                .filter(comment_reply::Column::Id.eq(reply.id))
                .exec(&txn)
                .await?;
            activity::record(
                &txn,
                ctx.workspace_id(),
                Some(actor),
                activity::Entry {
                    action: "comment.reply_sent_back",
                    object_type: "comment",
                    object_id: Some(comment.id),
                    summary: "sent a reply to a comment back to its writer".to_owned(),
                },
            )
            .await?;
            txn.commit().await?;
            return Ok(Sent::Pending);
        }
        comment_reply::Entity::update_many()
            .col_expr(comment_reply::Column::State, Expr::value(SENDING))
            .col_expr(comment_reply::Column::SentAt, Expr::value(now))
            .col_expr(comment_reply::Column::ReviewedBy, Expr::value(actor.id))
            .filter(comment_reply::Column::Id.eq(reply.id))
            .exec(&txn)
            .await?;
        crate::notifications::settle(
            &txn,
            store::entities::notification::NotificationKind::ApprovalAsked,
            "comment_reply",
            reply.id,
        )
        .await?;
        txn.commit().await?;
        self.deliver_reply(ctx, actor, &comment, reply.id, &reply.body)
            .await
    }

    /// The adapter, account and token for acting on `comment`.
    async fn comment_access(
        &self,
        comment: &comment::Model,
    ) -> Result<(
        Arc<dyn Conversations>,
        social_account::Model,
        Platform,
        secrecy::SecretString,
    )> {
        let account = social_account::Entity::find_by_id(comment.account_id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let platform = Platform::parse(&account.platform).map_err(|_| ServiceError::NotFound)?;
        let adapter = self.comments.get(platform).ok_or_else(|| {
            ServiceError::Forbidden(format!(
                "{} is not configured on this instance.",
                platform.label()
            ))
        })?;
        let tokens = self
            .tokens_of(domain::SocialAccountId(account.id))
            .await?
            .ok_or_else(|| {
                ServiceError::Forbidden(format!(
                    "{} is no longer connected. Connect it again to answer its comments.",
                    account.display_name
                ))
            })?;
        Ok((adapter, account, platform, tokens.access))
    }

    /// Keeps `body` as the person's draft reply to comment `id` (editors and up).
    pub async fn save_reply_draft(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        body: &str,
    ) -> Result<comment_reply::Model> {
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        let platform = platform_of(&txn, &comment).await?;
        let body = domain::comments::check_reply(platform, body)
            .map_err(|e| ServiceError::invalid("reply", e.0))?;
        let draft = upsert_draft(&txn, ctx, actor, &comment, &body, false, None).await?;
        txn.commit().await?;
        Ok(draft)
    }

    /// Sends `body` as the account's reply to comment `id` (editors and up), once. `seen` is
    /// how many replies had been sent when the person's page was drawn: when more have been
    /// since, or another member is sending one now, nothing is sent, the text stays as the
    /// person's draft, and the refusal says who answered.
    pub async fn send_reply(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        body: &str,
        seen: u64,
    ) -> Result<Sent> {
        // Claim: under the workspace's lock, no reply of someone else in flight, none sent
        // since the page was drawn; the reply row is written `sending` before the call.
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        if comment.gone_at.is_some() {
            return Err(ServiceError::invalid(
                "reply",
                "This comment was deleted, so it cannot be answered.",
            ));
        }
        let platform = platform_of(&txn, &comment).await?;
        let body = domain::comments::check_reply(platform, body)
            .map_err(|e| ServiceError::invalid("reply", e.0))?;
        // A claim older than any call takes was left by a process that stopped mid-way: its
        // reply may be at the platform, and it no longer holds the comment.
        comment_reply::Entity::update_many()
            .col_expr(comment_reply::Column::State, Expr::value(UNCONFIRMED))
            .filter(comment_reply::Column::CommentId.eq(comment.id))
            .filter(comment_reply::Column::State.eq(SENDING))
            .filter(comment_reply::Column::SentAt.lt(crate::now() - STALE_CLAIM))
            .exec(&txn)
            .await?;
        let in_flight = comment_reply::Entity::find()
            .filter(comment_reply::Column::CommentId.eq(comment.id))
            .filter(comment_reply::Column::State.is_in([SENDING, PENDING]))
            .one(&txn)
            .await?;
        let sent_now = sent_count(&txn, comment.id).await?;
        let other = match (&in_flight, sent_now > seen) {
            (Some(r), _) if r.state == PENDING => Some((
                r.author_id,
                "wrote a reply to this comment that waits for approval",
            )),
            (Some(r), _) => Some((r.author_id, "is sending a reply to this comment now")),
            (None, true) => {
                let last = comment_reply::Entity::find()
                    .filter(comment_reply::Column::CommentId.eq(comment.id))
                    .filter(comment_reply::Column::State.is_in([SENT, UNCONFIRMED]))
                    .all(&txn)
                    .await?
                    .into_iter()
                    .max_by_key(|r| r.id);
                Some((
                    last.and_then(|r| r.author_id),
                    "answered this comment while you were writing",
                ))
            }
            (None, false) => None,
        };
        if let Some((who, what)) = other {
            // The person's own reply, on its way or just sent (a second click): nothing more
            // is kept, so nothing is sent twice from the box.
            if who == Some(actor.id) {
                txn.commit().await?;
                return Err(ServiceError::invalid(
                    "reply",
                    if in_flight.as_ref().is_some_and(|r| r.state == PENDING) {
                        "Your reply to this comment already waits for approval."
                    } else if in_flight.is_some() {
                        "Your reply to this comment is being sent; this page shows it once it is."
                    } else {
                        "You answered this comment a moment ago; the conversation shows it."
                    },
                ));
            }
            upsert_draft(&txn, ctx, actor, &comment, &body, false, None).await?;
            let name = match who {
                Some(uid) if uid == actor.id => "You".to_owned(),
                Some(uid) => crate::workspaces::names_of(&txn, [uid])
                    .await?
                    .remove(&uid)
                    .unwrap_or_else(|| "Another member".to_owned()),
                None => "Another member".to_owned(),
            };
            txn.commit().await?;
            return Err(ServiceError::invalid(
                "reply",
                format!(
                    "{name} {what}. Your reply was not sent and is kept as your draft: read the \
                     conversation, then send it if it still needs saying."
                ),
            ));
        }
        // Replies that need an approver wait for one (unless the writer may approve their own).
        if self.reply_needs_approval(&txn, ctx).await? {
            let pending =
                upsert_draft(&txn, ctx, actor, &comment, &body, false, Some(PENDING)).await?;
            tell_reply_approvers(&txn, ctx, actor, &comment, pending.id).await?;
            txn.commit().await?;
            return Ok(Sent::Pending);
        }
        let claim = upsert_draft(&txn, ctx, actor, &comment, &body, false, Some(SENDING)).await?;
        txn.commit().await?;
        self.deliver_reply(ctx, actor, &comment, claim.id, &body)
            .await
    }

    /// Sends the reply `claim` (written `sending`) to `comment` and records how it went;
    /// `actor` is who sent it (or approved it).
    async fn deliver_reply(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        comment: &comment::Model,
        claim_id: i64,
        body: &str,
    ) -> Result<Sent> {
        let claim = Claim { id: claim_id };
        let comment = comment.clone();
        let body = body.to_owned();
        let (adapter, account, platform, token) = match self.comment_access(&comment).await {
            Ok(access) => access,
            Err(err) => {
                self.settle_reply(claim.id, DRAFT, None, Some(err.to_string()))
                    .await?;
                return Err(err);
            }
        };
        let post_id = post_target::Entity::find_by_id(comment.target_id)
            .one(&self.db)
            .await?
            .and_then(|t| t.platform_post_id)
            .unwrap_or_default();
        let who = account_ref(&account, platform);
        let answer = adapter
            .reply(&who, &token, &post_id, &comment.platform_id, &body)
            .await;
        let now = crate::now();
        match answer {
            Ok(reply_id) => {
                let txn = store::begin_write(&self.db).await?;
                comment_reply::Entity::update_many()
                    .col_expr(comment_reply::Column::State, Expr::value(SENT))
                    .col_expr(comment_reply::Column::PlatformId, Expr::value(&reply_id))
                    .col_expr(comment_reply::Column::SentAt, Expr::value(now))
                    .col_expr(
                        comment_reply::Column::Error,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(comment_reply::Column::Id.eq(claim.id))
                    .exec(&txn)
                    .await?;
                // The reply is part of the conversation at once (the next read finds it by
                // its id and leaves it as it is), and the comment is answered and done.
                comment::Entity::insert(comment::ActiveModel {
                    workspace_id: Set(comment.workspace_id),
                    account_id: Set(comment.account_id),
                    target_id: Set(comment.target_id),
                    platform_id: Set(reply_id),
                    parent_platform_id: Set(Some(comment.platform_id.clone())),
                    author_name: Set(account.display_name.clone()),
                    author_platform_id: Set(Some(account.external_id.clone())),
                    body: Set(body.clone()),
                    by_account: Set(true),
                    hidden: Set(false),
                    written_at: Set(now),
                    seen_at: Set(now),
                    gone_at: Set(None),
                    labels: Set(String::new()),
                    assigned_to: Set(None),
                    done: Set(true),
                    replied_at: Set(None),
                    ..Default::default()
                })
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        comment::Column::AccountId,
                        comment::Column::PlatformId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
                comment::Entity::update_many()
                    .col_expr(comment::Column::RepliedAt, Expr::value(now))
                    .col_expr(comment::Column::Done, Expr::value(true))
                    .filter(comment::Column::Id.eq(comment.id))
                    .exec(&txn)
                    .await?;
                activity::record(
                    &txn,
                    ctx.workspace_id(),
                    Some(actor),
                    activity::Entry {
                        action: "comment.replied",
                        object_type: "comment",
                        object_id: Some(comment.id),
                        summary: format!("replied to a comment on {}", platform.label()),
                    },
                )
                .await?;
                txn.commit().await?;
                Ok(Sent::Posted)
            }
            Err(CommentError::Unavailable {
                reason,
                maybe_done: true,
            }) => {
                tracing::warn!(
                    comment = comment.id,
                    "a reply's outcome is unknown: {reason}"
                );
                self.settle_reply(
                    claim.id,
                    UNCONFIRMED,
                    None,
                    Some(format!(
                        "{} did not answer ({reason}); the reply may be there. The next read \
                         of the conversation shows it if it is.",
                        platform.label()
                    )),
                )
                .await?;
                Ok(Sent::Unconfirmed)
            }
            Err(err) => {
                let why = refusal(platform, &err);
                self.settle_reply(claim.id, DRAFT, None, Some(why.clone()))
                    .await?;
                Err(ServiceError::invalid("reply", why))
            }
        }
    }

    /// Moves the reply `id` to `state` with `error`.
    async fn settle_reply(
        &self,
        id: i64,
        state: &str,
        platform_id: Option<String>,
        error: Option<String>,
    ) -> Result<()> {
        let mut update = comment_reply::Entity::update_many()
            .col_expr(comment_reply::Column::State, Expr::value(state))
            .col_expr(comment_reply::Column::PlatformId, Expr::value(platform_id))
            .col_expr(comment_reply::Column::Error, Expr::value(error));
        if state == DRAFT {
            update = update.col_expr(
                comment_reply::Column::SentAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            );
        }
        update
            .filter(comment_reply::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Hides a comment at the platform (or shows it again), where the platform allows it.
    pub async fn hide_comment(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        hidden: bool,
    ) -> Result<()> {
        let comment = {
            let txn = store::begin_write(&self.db).await?;
            editor(self, &txn, ctx).await?;
            let comment = own_comment(&txn, ctx, id).await?;
            txn.commit().await?;
            comment
        };
        let (adapter, account, platform, token) = self.comment_access(&comment).await?;
        let who = account_ref(&account, platform);
        if !adapter.abilities(&who).hide {
            return Err(ServiceError::Forbidden(format!(
                "{}'s API does not let an app hide comments.",
                platform.label()
            )));
        }
        adapter
            .hide(&who, &token, &comment.platform_id, hidden)
            .await
            .map_err(|e| ServiceError::invalid("comment", refusal(platform, &e)))?;
        let txn = store::begin_write(&self.db).await?;
        comment::Entity::update_many()
            .col_expr(comment::Column::Hidden, Expr::value(hidden))
            .filter(comment::Column::Id.eq(comment.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if hidden {
                    "comment.hidden"
                } else {
                    "comment.shown"
                },
                object_type: "comment",
                object_id: Some(comment.id),
                summary: format!(
                    "{} a comment on {}",
                    if hidden { "hid" } else { "showed again" },
                    platform.label()
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes a comment at the platform, where the platform allows it; it is kept here as
    /// deleted until its conversation is purged.
    pub async fn delete_comment(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<()> {
        let comment = {
            let txn = store::begin_write(&self.db).await?;
            editor(self, &txn, ctx).await?;
            let comment = own_comment(&txn, ctx, id).await?;
            txn.commit().await?;
            comment
        };
        if comment.gone_at.is_some() {
            return Ok(());
        }
        let (adapter, account, platform, token) = self.comment_access(&comment).await?;
        let who = account_ref(&account, platform);
        if !adapter.abilities(&who).delete && !comment.by_account {
            return Err(ServiceError::Forbidden(format!(
                "{}'s API does not let an app delete other people's comments.",
                platform.label()
            )));
        }
        match adapter.delete(&who, &token, &comment.platform_id).await {
            Ok(()) | Err(CommentError::Gone) => {}
            Err(e) => return Err(ServiceError::invalid("comment", refusal(platform, &e))),
        }
        let txn = store::begin_write(&self.db).await?;
        let now = crate::now();
        comment::Entity::update_many()
            .col_expr(comment::Column::GoneAt, Expr::value(now))
            .filter(comment::Column::Id.eq(comment.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comment.deleted",
                object_type: "comment",
                object_id: Some(comment.id),
                summary: format!("deleted a comment on {}", platform.label()),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Asks the AI for a reply to comment `id`, with the brand profile, checked by moderation
    /// before and after; the answer is kept as the person's draft, never sent. Only the texts
    /// of the post and the comment go to the provider, not who wrote the comment.
    pub async fn suggest_reply(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<comment_reply::Model> {
        let ai = self.assistant_for(ctx)?.clone();
        let ws = ctx.workspace_id();
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can read comments but not answer them.".into(),
            ));
        }
        self.entitle(&self.db, ws, Need::Feature(Feature::AiCaptions))
            .await?;
        self.require_comments(ws).await?;
        super::on(&self.db, ctx).await?;
        let comment = own_comment(&self.db, ctx, id).await?;
        let platform = platform_of(&self.db, &comment).await?;
        let post_text = match post_target::Entity::find_by_id(comment.target_id)
            .one(&self.db)
            .await?
        {
            Some(t) => match t.body {
                Some(body) => body,
                None => post::Entity::find_by_id(t.post_id)
                    .one(&self.db)
                    .await?
                    .map(|p| p.body)
                    .unwrap_or_default(),
            },
            None => String::new(),
        };
        let brand = crate::ai::brand::profile_of(&self.db, ws).await?.0;
        let limit = domain::comments::reply_limit(platform);
        let mut system = format!(
            "You draft a reply from a brand's social media account to a comment under one of \
             its posts on {}. Answer the comment helpfully and briefly, in the comment's \
             language, in the brand's voice. Do not invent facts, prices, dates or promises; \
             where the answer is not in the post, invite the person to send a direct message. \
             No hashtags. At most {limit} characters. Answer with the reply's text only.",
            platform.label()
        );
        if let Some(block) = crate::ai::prompts::brand_block(&brand) {
            system.push_str("\n\n");
            system.push_str(&block);
        }
        // Only the words: the handles mentioned (often the commenter's own, on X) are left out.
        let said = domain::comments::without_mentions(&comment.body);
        let user_text = format!(
            "<post>\n{}\n</post>\n<comment>\n{said}\n</comment>",
            domain::comments::without_mentions(&post_text),
        );
        moderate(&ai, "reply", std::slice::from_ref(&said)).await?;
        self.entitle(&self.db, ws, Need::More(Limit::AiTokens, 1))
            .await?;
        let reserved = self
            .reserve_tokens(ws, system.len() + user_text.len(), MAX_SUGGESTION)
            .await?;
        let request = Request {
            max_tokens: Some(MAX_SUGGESTION),
            ..Request::new(vec![Message::system(system), Message::user(user_text)])
        };
        let answer = complete(&ai, &request).await;
        let spent = answer
            .as_ref()
            .map_or(0, |a| a.usage.prompt_tokens + a.usage.completion_tokens);
        reserved.settle(&self.db, ws, spent).await?;
        let answer = answer.map_err(|e| failure("reply", e))?;
        let text = answer.text.unwrap_or_default();
        let text = crate::ai::fit::shorten(&[platform], text.trim());
        if text.trim().is_empty() {
            return Err(ServiceError::Unavailable(
                "The AI provider gave no reply. Try again, or write one.".into(),
            ));
        }
        moderate(&ai, "reply", std::slice::from_ref(&text)).await?;
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        let draft = upsert_draft(&txn, ctx, actor, &comment, &text, true, None).await?;
        txn.commit().await?;
        tracing::info!(comment = comment.id, tokens = spent, "reply suggested");
        Ok(draft)
    }
}

/// The platform of the account `comment` is under.
async fn platform_of<C: ConnectionTrait>(conn: &C, comment: &comment::Model) -> Result<Platform> {
    let account = social_account::Entity::find_by_id(comment.account_id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Platform::parse(&account.platform).map_err(|_| ServiceError::NotFound)
}

/// The person's draft reply to `comment` set to `body` (one draft per person and comment), or,
/// with `state`, that draft moved on (to `sending`).
async fn upsert_draft<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
    actor: &user::Model,
    comment: &comment::Model,
    body: &str,
    suggested: bool,
    state: Option<&str>,
) -> Result<comment_reply::Model> {
    let existing = comment_reply::Entity::find()
        .filter(comment_reply::Column::CommentId.eq(comment.id))
        .filter(comment_reply::Column::AuthorId.eq(actor.id))
        .filter(comment_reply::Column::State.eq(DRAFT))
        .one(conn)
        .await?;
    let state = state.unwrap_or(DRAFT).to_owned();
    let now = crate::now();
    let sent_at = (state == SENDING).then_some(now);
    match existing {
        Some(draft) => {
            let keep_suggested = draft.suggested || suggested;
            let mut row: comment_reply::ActiveModel = draft.into();
            row.body = Set(body.to_owned());
            row.suggested = Set(keep_suggested);
            row.sent_at = Set(sent_at);
            row.state = Set(state);
            row.error = Set(None);
            Ok(row.update(conn).await?)
        }
        None => Ok(comment_reply::ActiveModel {
            workspace_id: Set(ctx.workspace.id),
            comment_id: Set(comment.id),
            author_id: Set(Some(actor.id)),
            body: Set(body.to_owned()),
            state: Set(state),
            suggested: Set(suggested),
            platform_id: Set(None),
            error: Set(None),
            created_at: Set(now),
            sent_at: Set(sent_at),
            ..Default::default()
        }
        .insert(conn)
        .await?),
    }
}

/// What to tell the person when the platform refused or failed.
fn refusal(platform: Platform, err: &CommentError) -> String {
    let name = platform.label();
    match err {
        CommentError::Refused(reason) => format!("{name} refused: {reason}"),
        CommentError::Gone => format!("{name} no longer has this comment or its post."),
        CommentError::TokenExpired => format!(
            "{name} no longer accepts this account's authorisation. Connect the account again, \
             then retry."
        ),
        CommentError::MissingPermission(which) => format!(
            "The account was connected without the permission this needs ({which}). Connect it \
             again, then retry."
        ),
        CommentError::RateLimited { retry_after } => format!(
            "{name}'s rate limit was reached. Try again in {}.",
            crate::human_wait(*retry_after)
        ),
        CommentError::Unavailable { reason, .. } => {
            format!("{name} could not be reached ({reason}). Nothing was sent; try again.")
        }
    }
}
