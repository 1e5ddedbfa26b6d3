//! What a destructive action would touch, counted before anyone confirms it: read-only counts
//! for the pages (and dialogs) that ask first. Nothing here changes a row; the actions
//! themselves stay in their own services (`connections::disconnect_account`,
//! `posts::delete_post`, `media::delete_media`).

use crate::posts::PostView;
use crate::{Result, ServiceError, Services};
use domain::{MediaId, PostId, SocialAccountId, WorkspaceId};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use store::entities::states::PostState;
use store::entities::{media_item, post_target, social_account};

/// What disconnecting an account touches.
#[derive(Debug, Clone)]
pub struct DisconnectImpact {
    pub account: social_account::Model,
    /// Posts with a target of the account that is still to go out (scheduled, being
    /// published, or waiting for a reconnection) and not published.
    pub scheduled_posts: u64,
    /// Other connected accounts sharing the account's authorisation (pages of one Facebook
    /// login): while they exist, the authorisation is kept at the platform.
    pub sharing: usize,
}

/// What deleting a file touches.
#[derive(Debug, Clone)]
pub struct MediaImpact {
    pub item: media_item::Model,
    /// Posts that carry the file.
    pub posts: u64,
    /// Of those, the ones that have not all gone out (drafts, scheduled, failed, …): while
    /// there are any, the file cannot be deleted.
    pub not_published: u64,
}

impl Services {
    /// What disconnecting `account_id` of `ws` would touch.
    pub async fn disconnect_impact(
        &self,
        ws: WorkspaceId,
        account_id: SocialAccountId,
    ) -> Result<DisconnectImpact> {
        let account = social_account::Entity::find_by_id(account_id)
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let scheduled_posts = post_target::Entity::find()
            .select_only()
            .column(post_target::Column::PostId)
            .distinct()
            .filter(post_target::Column::AccountId.eq(account.id))
            .filter(post_target::Column::State.is_in([
                PostState::Scheduled,
                PostState::PendingApproval,
                PostState::Publishing,
                PostState::Waiting,
            ]))
            .filter(post_target::Column::PublishedAt.is_null())
            .count(&self.db)
            .await?;
        let sharing = self.sharing_authorisation(&account, &[]).await?;
        Ok(DisconnectImpact {
            account,
            scheduled_posts,
            sharing,
        })
    }

    /// What deleting the file `id` of `ws` would touch.
    pub async fn media_impact(&self, ws: WorkspaceId, id: MediaId) -> Result<MediaImpact> {
        let item = self.media_item(ws, id).await?;
        let usage = self.media_usage(ws, MediaId(item.id)).await?;
        let posts = u64::try_from(usage.len()).unwrap_or(u64::MAX);
        let not_published = u64::try_from(
            usage
                .iter()
                .filter(|p| p.state != PostState::Published)
                .count(),
        )
        .unwrap_or(u64::MAX);
        Ok(MediaImpact {
            item,
            posts,
            not_published,
        })
    }

    /// What deleting the post `post_id` of `ws` would touch: the post with its targets.
    pub async fn post_impact(&self, ws: WorkspaceId, post_id: PostId) -> Result<PostView> {
        self.post_view(ws, post_id).await
    }
}
