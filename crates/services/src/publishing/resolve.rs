//! A person's actions on a target that did not go out: try a failed one again, or settle one
//! whose outcome was unknown as they found it on the platform.

use super::enqueue;
use super::{AttemptOutcome, update_post_state};
use crate::posts::{self, log_post};
use crate::workspaces::{Membership, lock_as_editor};
use store::entities::states::PostState;

use crate::{Result, ServiceError, Services};
use domain::{Platform, PostId, TargetId, WorkspaceId};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use store::entities::{post, post_target, publish_attempt, social_account, user};

/// What a person says about a target whose outcome was unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// It is on the platform (with its link, when given).
    WasPublished { permalink: Option<String> },
    /// It is not there: publish it again.
    NotPublished,
}

impl Services {
    /// Tries a failed target again now.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0, target = target_id.0))]
    pub async fn retry_target(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        target_id: TargetId,
    ) -> Result<()> {
        self.requeue(
            ctx,
            actor,
            post_id.0,
            target_id.0,
            PostState::Failed,
            "retried",
        )
        .await
    }

    /// Settles a target whose outcome was unknown, as the person found it on the platform.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0, target = target_id.0))]
    pub async fn resolve_unconfirmed(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        target_id: TargetId,
        resolution: Resolution,
    ) -> Result<()> {
        match resolution {
            Resolution::NotPublished => {
                self.requeue(
                    ctx,
                    actor,
                    post_id.0,
                    target_id.0,
                    PostState::Unconfirmed,
                    "publishes again, after checking it was not posted,",
                )
                .await
            }
            Resolution::WasPublished { permalink } => {
                let ws = ctx.workspace_id();
                let txn = store::begin_write(&self.db).await?;
                lock_as_editor(&txn, ctx).await?;
                let (post, target) = target_in(&txn, ws, post_id.0, target_id.0).await?;
                if target.state != PostState::Unconfirmed {
                    return Err(ServiceError::Forbidden(
                        "This account's outcome is already settled.".into(),
                    ));
                }
                let now = crate::now();
                let mut row: post_target::ActiveModel = target.into();
                row.state = Set(PostState::Published);
                row.permalink = Set(permalink);
                row.last_error = Set(None);
                row.published_at = Set(Some(now));
                row.updated_at = Set(now);
                row.update(&txn).await?;
                let post = update_post_state(&txn, &post).await?;
                log_post(
                    &txn,
                    ws,
                    Some(actor),
                    "post.confirmed",
                    PostId(post.id),
                    format!(
                        "confirmed a post went out: “{}”",
                        posts::excerpt(&post.body)
                    ),
                )
                .await?;
                txn.commit().await?;
                Ok(())
            }
        }
    }

    async fn requeue(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: i64,
        target_id: i64,
        from: PostState,
        verb: &str,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let (post, target) = target_in(&txn, ws, post_id, target_id).await?;
        if target.state != from {
            return Err(ServiceError::Forbidden(format!(
                "This account's post is {}, so there is nothing to retry.",
                target.state.label().to_lowercase()
            )));
        }
        let account = social_account::Entity::find_by_id(target.account_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        // Close an attempt left open, so that the new run starts fresh instead of reconciling.
        super::close_open_attempts(
            &txn,
            sea_orm::Condition::all().add(publish_attempt::Column::TargetId.eq(target.id)),
            AttemptOutcome::Failed,
            None,
        )
        .await?;
        let mut row: post_target::ActiveModel = target.clone().into();
        row.state = Set(PostState::Scheduled);
        row.last_error = Set(None);
        row.updated_at = Set(crate::now());
        let target = row.update(&txn).await?;
        let post = update_post_state(&txn, &post).await?;
        enqueue(&txn, &post, &target, &account.platform, crate::now()).await?;
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.retried",
            PostId(post.id),
            format!(
                "{verb} the post to {} @{}",
                Platform::label_of(&account.platform),
                account.username
            ),
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }
}

async fn target_in<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    post_id: i64,
    target_id: i64,
) -> Result<(post::Model, post_target::Model)> {
    let post = posts::locked_post_in(conn, ws, PostId(post_id)).await?;
    let target = post_target::Entity::find_by_id(target_id)
        .filter(post_target::Column::PostId.eq(post.id))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok((post, target))
}
