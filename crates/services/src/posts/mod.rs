//! Posts: writing, scheduling, rescheduling, duplicating and deleting them, and reading them
//! back for the composer (the list, the calendar and the dashboard read them in `list`).
//!
//! A post has a base text and one target per account, each with an optional variant of the
//! text. Scheduling a post writes one publish job per target, due at the post's time, in the same
//! transaction; a change of schedule withdraws the queued jobs and bumps the post's revision, so
//! a job that was already claimed for the old time does nothing.

pub mod approval;
pub mod input;
pub mod list;
pub mod notes;

pub use input::{Intent, MAX_TEXT, PostInput, TargetInput, effective_text, format_of};
use input::{check, set_media};
pub use list::{
    DAY_FIRST, DayCell, LIST_PAGE, ListCursor, Month, PostFilter, PostGroup, PostPage, PostSummary,
    TargetAccount, UNDATED_SHOWN,
};

use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services, activity, publishing, queue};
use chrono::NaiveDateTime;
use domain::content::Platform;
use domain::{PostId, SocialAccountId, TargetId, Timezone, WorkspaceId, schedule};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait, TryIntoModel,
};
use store::entities::{
    campaign, job, media_item, post, post_media, post_target, publish_attempt, social_account, user,
};

pub use store::entities::states::PostState;

/// A target with its account, for pages.
#[derive(Debug, Clone)]
pub struct TargetView {
    pub target: post_target::Model,
    pub account: social_account::Model,
}

impl TargetView {
    pub fn platform(&self) -> Option<Platform> {
        Platform::parse(&self.account.platform).ok()
    }
}

/// A post with everything its page shows.
#[derive(Debug, Clone)]
pub struct PostView {
    pub post: post::Model,
    pub targets: Vec<TargetView>,
    /// The post's files, in order.
    pub media: Vec<media_item::Model>,
    /// Files chosen for one account instead of the post's: (account id, file), in order.
    pub account_media: Vec<(i64, media_item::Model)>,
    pub campaign: Option<campaign::Model>,
    pub attempts: Vec<publish_attempt::Model>,
}

impl Services {
    /// The accounts of a workspace, by platform and name.
    pub async fn accounts_of(&self, ws: WorkspaceId) -> Result<Vec<social_account::Model>> {
        Ok(social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .order_by_asc(social_account::Column::Platform)
            .order_by_asc(social_account::Column::Username)
            .all(&self.db)
            .await?)
    }

    /// Creates a post (`post_id` None) or changes a draft or scheduled one, then schedules it
    /// as `input.intent` says.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, author = author.id, post = ?post_id))]
    pub async fn save_post(
        &self,
        ctx: &Membership,
        author: &user::Model,
        post_id: Option<PostId>,
        input: PostInput,
    ) -> Result<post::Model> {
        let ws = ctx.workspace_id();
        let tz = Timezone::stored(&author.timezone);
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_editor(&txn, ctx).await?;
        let checked = check(&txn, ws, &input, tz, now).await?;
        let existing = match post_id {
            Some(id) => {
                let post = locked_post_in(&txn, ws, id).await?;
                if ![
                    PostState::Draft,
                    PostState::Scheduled,
                    PostState::PendingApproval,
                ]
                .contains(&post.state)
                {
                    return Err(ServiceError::Forbidden(format!(
                        "This post is {} and can no longer be changed. Duplicate it to post \
                         something similar.",
                        post.state.label().to_lowercase()
                    )));
                }
                withdraw_jobs(&txn, id.0).await?;
                post_target::Entity::delete_many()
                    .filter(post_target::Column::PostId.eq(id.0))
                    .exec(&txn)
                    .await?;
                Some(post)
            }
            None => None,
        };
        // Where posts need approval, a post given a time waits for an approver, unless its
        // author could approve it and asked for Auto-approve. A change to an approved post
        // sends it back for approval too.
        let rules = self.approval_rules_in(&txn, ws).await?;
        let member = approval::member_of(&me)?;
        if input.auto_approve && rules.required && !rules.may_skip_review(member) {
            return Err(ServiceError::Forbidden(
                "Auto-approve is for those who may approve their own posts here; send it for \
                 approval instead."
                    .into(),
            ));
        }
        let reviewed = rules.required && !input.auto_approve;
        let new_state = match (checked.scheduled_at.is_some(), reviewed) {
            (false, _) => PostState::Draft,
            (true, true) => PostState::PendingApproval,
            (true, false) => PostState::Scheduled,
        };
        let mut row = match &existing {
            Some(post) => {
                let mut row: post::ActiveModel = post.clone().into();
                row.revision = Set(post.revision + 1);
                row
            }
            None => post::ActiveModel {
                workspace_id: Set(ws.0),
                author_id: Set(Some(author.id)),
                revision: Set(1),
                created_at: Set(now),
                ..Default::default()
            },
        };
        row.body = Set(checked.body.clone());
        row.first_comment = Set(checked.first_comment.clone());
        row.campaign_id = Set(checked.campaign_id);
        row.state = Set(new_state);
        row.failure_reason = Set(None);
        row.scheduled_at = Set(checked.scheduled_at);
        row.schedule_tz = Set(checked.scheduled_at.map(|_| tz.name().to_owned()));
        // Approved by its author (Auto-approve), or by nobody yet.
        let self_approved = rules.required && new_state == PostState::Scheduled;
        row.approved_by = Set(self_approved.then_some(author.id));
        row.approved_at = Set(self_approved.then_some(now));
        if new_state == PostState::PendingApproval {
            row.review_note = Set(None);
        }
        // Whoever sends it (for approval, or past it with Auto-approve) counts as its author:
        // they may not approve what they changed unless approvers may approve their own.
        if rules.required && new_state != PostState::Draft {
            row.submitted_by = Set(Some(author.id));
        }
        if new_state == PostState::Scheduled {
            let counted_before = existing.as_ref().and_then(|p| p.counted_in.as_deref());
            if let Some(month) = self.count_post(&txn, ws, counted_before).await? {
                row.counted_in = Set(Some(month));
            }
        }
        let from_ai = match input.ai_suggestion {
            Some(id) => {
                let mut texts = vec![checked.body.as_str()];
                texts.extend(
                    checked
                        .targets
                        .iter()
                        .filter_map(|(_, v, _, _)| v.as_deref()),
                );
                let comment = checked.first_comment.as_deref().unwrap_or_default();
                crate::ai::provenance(&txn, ws, author, id, &texts, comment).await?
            }
            None => None,
        };
        if let Some(source) = &from_ai {
            row.ai_provider = Set(Some(source.provider.clone()));
            row.ai_model = Set(Some(source.model.clone()));
            row.ai_accepted_by = Set(Some(author.id));
            row.ai_accepted_at = Set(source.accepted_at);
        }
        row.updated_at = Set(now);
        let post = row.save(&txn).await?.try_into_model()?;
        let per_account: Vec<(i64, Vec<i64>)> = checked
            .targets
            .iter()
            .map(|(a, _, own, _)| (a.id, own.clone()))
            .collect();
        set_media(&txn, PostId(post.id), &checked.media, &per_account).await?;
        for (account, body, _, format) in &checked.targets {
            let options = input::options_of(*format);
            let target = post_target::ActiveModel {
                post_id: Set(post.id),
                account_id: Set(account.id),
                body: Set(body.clone()),
                options: Set(options),
                state: Set(new_state),
                attempts: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            if let Some(at) = checked.scheduled_at
                && new_state == PostState::Scheduled
            {
                publishing::enqueue(&txn, &post, &target, &account.platform, at).await?;
            }
        }
        let what = match (existing.is_some(), input.intent) {
            _ if new_state == PostState::PendingApproval => {
                ("post.approval_asked", "sent a post for approval")
            }
            (_, Intent::PublishNow) => ("post.publish_now", "asked to publish a post now"),
            (false, Intent::Draft) => ("post.created", "wrote a draft post"),
            (true, Intent::Draft) => ("post.updated", "changed a draft post"),
            (false, Intent::Schedule(_)) => ("post.scheduled", "scheduled a post"),
            (true, Intent::Schedule(_)) => ("post.rescheduled", "changed a scheduled post"),
        };
        let when = checked
            .scheduled_at
            .map(|at| format!(" for {}", schedule::describe(at, tz)))
            .unwrap_or_default();
        log_post(
            &txn,
            ws,
            Some(author),
            what.0,
            PostId(post.id),
            format!(
                "{}{when}{}: “{}”",
                what.1,
                if from_ai.is_some() {
                    ", with text suggested by AI"
                } else {
                    ""
                },
                excerpt(&post.body)
            ),
        )
        .await?;
        if self_approved {
            log_post(
                &txn,
                ws,
                Some(author),
                "post.approved",
                PostId(post.id),
                format!(
                    "approved their own post with Auto-approve: “{}”",
                    excerpt(&post.body)
                ),
            )
            .await?;
        }
        // Approvers hear of a post when it starts to wait, not again at each change while it
        // waits (the review page shows the latest version).
        let waited = existing
            .as_ref()
            .is_some_and(|p| p.state == PostState::PendingApproval);
        if new_state == PostState::PendingApproval && !waited {
            approval::tell_approvers(self, &txn, ctx, rules, author, &post).await?;
        }
        txn.commit().await?;
        if new_state == PostState::Scheduled {
            self.wake.notify_one();
        }
        Ok(post)
    }

    /// Starts a change to one post: the workspace's write lock with the actor's role read
    /// again, then the post's row lock (the one the worker takes).
    async fn change_post(
        &self,
        ctx: &Membership,
        post_id: i64,
    ) -> Result<(sea_orm::DatabaseTransaction, post::Model)> {
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let post = locked_post_in(&txn, ctx.workspace_id(), PostId(post_id)).await?;
        Ok((txn, post))
    }

    /// Moves a scheduled post to another time (the calendar's reschedule form).
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn reschedule_post(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        local: NaiveDateTime,
    ) -> Result<post::Model> {
        let ws = ctx.workspace_id();
        let tz = Timezone::stored(&actor.timezone);
        let at = schedule::schedule_at(local, tz, crate::now())
            .map_err(|e| ServiceError::invalid("scheduled_at", e.0))?
            .utc;
        let (txn, post) = self.change_post(ctx, post_id.0).await?;
        // A post waiting for approval moves too, and keeps waiting.
        if ![PostState::Scheduled, PostState::PendingApproval].contains(&post.state) {
            return Err(ServiceError::Forbidden(format!(
                "Only scheduled posts and posts waiting for approval can be moved; this one is \
                 {}.",
                post.state.label().to_lowercase()
            )));
        }
        withdraw_jobs(&txn, post.id).await?;
        // An approved post moved by someone who could not have approved it waits for an
        // approver again: nobody approved the new time.
        let rules = self.approval_rules_in(&txn, ws).await?;
        let me = store::entities::membership::Entity::find_by_id(ctx.id.0)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let back_for_approval = post.state == PostState::Scheduled
            && rules.required
            && !rules.may_skip_review(approval::member_of(&me)?);
        let mut row: post::ActiveModel = post.clone().into();
        row.revision = Set(post.revision + 1);
        row.scheduled_at = Set(Some(at));
        row.schedule_tz = Set(Some(tz.name().to_owned()));
        row.updated_at = Set(crate::now());
        if back_for_approval {
            row.state = Set(PostState::PendingApproval);
            row.approved_by = Set(None);
            row.approved_at = Set(None);
            row.submitted_by = Set(Some(actor.id));
            post_target::Entity::update_many()
                .col_expr(
                    post_target::Column::State,
                    Expr::value(PostState::PendingApproval),
                )
                .filter(post_target::Column::PostId.eq(post.id))
                .exec(&txn)
                .await?;
        }
        let post = row.update(&txn).await?;
        if back_for_approval {
            approval::tell_approvers(self, &txn, ctx, rules, actor, &post).await?;
        }
        if post.state == PostState::Scheduled {
            for view in targets_of(&txn, PostId(post.id)).await? {
                publishing::enqueue(&txn, &post, &view.target, &view.account.platform, at).await?;
            }
        }
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.rescheduled",
            PostId(post.id),
            format!(
                "moved a post to {}: “{}”",
                schedule::describe(at, tz),
                excerpt(&post.body)
            ),
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(post)
    }

    /// Takes a scheduled post off the calendar: it becomes a draft again.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn unschedule_post(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let (txn, post) = self.change_post(ctx, post_id.0).await?;
        if ![PostState::Scheduled, PostState::PendingApproval].contains(&post.state) {
            return Err(ServiceError::Forbidden(
                "Only a scheduled post, or one waiting for approval, can be turned back into a \
                 draft."
                    .into(),
            ));
        }
        withdraw_jobs(&txn, post.id).await?;
        post_target::Entity::update_many()
            .col_expr(post_target::Column::State, Expr::value(PostState::Draft))
            .filter(post_target::Column::PostId.eq(post.id))
            .exec(&txn)
            .await?;
        let mut row: post::ActiveModel = post.clone().into();
        row.revision = Set(post.revision + 1);
        row.state = Set(PostState::Draft);
        row.scheduled_at = Set(None);
        row.approved_by = Set(None);
        row.approved_at = Set(None);
        row.updated_at = Set(crate::now());
        row.update(&txn).await?;
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.unscheduled",
            PostId(post.id),
            format!("took a post off the schedule: “{}”", excerpt(&post.body)),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Copies a post, in any state, into a new draft with the same text, targets and campaign.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn duplicate_post(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
    ) -> Result<post::Model> {
        let ws = ctx.workspace_id();
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let original = post_in(&txn, ws, post_id).await?;
        let copy = post::ActiveModel {
            workspace_id: Set(ws.0),
            campaign_id: Set(original.campaign_id),
            author_id: Set(Some(actor.id)),
            body: Set(original.body.clone()),
            first_comment: Set(original.first_comment.clone()),
            ai_provider: Set(original.ai_provider.clone()),
            ai_model: Set(original.ai_model.clone()),
            ai_accepted_by: Set(original.ai_accepted_by),
            ai_accepted_at: Set(original.ai_accepted_at),
            state: Set(PostState::Draft),
            revision: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for row in post_media::Entity::find()
            .filter(post_media::Column::PostId.eq(original.id))
            .all(&txn)
            .await?
        {
            post_media::ActiveModel {
                post_id: Set(copy.id),
                media_id: Set(row.media_id),
                position: Set(row.position),
                account_id: Set(row.account_id),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        for view in targets_of(&txn, PostId(original.id)).await? {
            post_target::ActiveModel {
                post_id: Set(copy.id),
                account_id: Set(view.account.id),
                body: Set(view.target.body.clone()),
                options: Set(view.target.options.clone()),
                state: Set(PostState::Draft),
                attempts: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.duplicated",
            PostId(copy.id),
            format!("duplicated a post: “{}”", excerpt(&copy.body)),
        )
        .await?;
        txn.commit().await?;
        Ok(copy)
    }

    /// Deletes a post that is not being published right now. A published post is removed from
    /// Socializioz only; it stays on the platforms.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn delete_post(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let (txn, post) = self.change_post(ctx, post_id.0).await?;
        if post.state == PostState::Publishing {
            return Err(ServiceError::Forbidden(
                "This post is being published right now. Wait until it is done, then delete it."
                    .into(),
            ));
        }
        remove_post(&txn, PostId(post.id)).await?;
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.deleted",
            PostId(post.id),
            format!("deleted a post: “{}”", excerpt(&post.body)),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// A post of the workspace with its targets, campaign and publish attempts.
    pub async fn post_view(&self, ws: WorkspaceId, post_id: PostId) -> Result<PostView> {
        let txn = self.db.begin().await?;
        let post = post_in(&txn, ws, post_id).await?;
        let targets = targets_of(&txn, PostId(post.id)).await?;
        let campaign = match post.campaign_id {
            Some(id) => campaign::Entity::find_by_id(id).one(&txn).await?,
            None => None,
        };
        let ids: Vec<i64> = targets.iter().map(|t| t.target.id).collect();
        let attempts = publish_attempt::Entity::find()
            .filter(publish_attempt::Column::TargetId.is_in(ids))
            .order_by_asc(publish_attempt::Column::Id)
            .all(&txn)
            .await?;
        let media = media_of_post(&txn, PostId(post.id)).await?;
        let account_media = account_media_of_post(&txn, post.id).await?;
        txn.commit().await?;
        Ok(PostView {
            post,
            targets,
            media,
            account_media,
            campaign,
            attempts,
        })
    }
}

/// A post's files, in order.
pub(crate) async fn media_of_post<C: ConnectionTrait>(
    conn: &C,
    post_id: PostId,
) -> Result<Vec<media_item::Model>> {
    Ok(post_media::Entity::find()
        .filter(post_media::Column::PostId.eq(post_id.0))
        .filter(post_media::Column::AccountId.is_null())
        .order_by_asc(post_media::Column::Position)
        .find_also_related(media_item::Entity)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(_, m)| m)
        .collect())
}

/// The files chosen for single accounts of a post: (account id, file), in order.
async fn account_media_of_post<C: ConnectionTrait>(
    conn: &C,
    post_id: i64,
) -> Result<Vec<(i64, media_item::Model)>> {
    Ok(post_media::Entity::find()
        .filter(post_media::Column::PostId.eq(post_id))
        .filter(post_media::Column::AccountId.is_not_null())
        .order_by_asc(post_media::Column::Position)
        .find_also_related(media_item::Entity)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(row, m)| Some((row.account_id?, m?)))
        .collect())
}

/// The files one account of a post publishes: its own when chosen, else the post's.
pub(crate) async fn media_for_account<C: ConnectionTrait>(
    conn: &C,
    post_id: PostId,
    account_id: SocialAccountId,
) -> Result<Vec<media_item::Model>> {
    let files = post_media::Entity::find()
        .filter(post_media::Column::PostId.eq(post_id.0))
        .order_by_asc(post_media::Column::Position)
        .find_also_related(media_item::Entity)
        .all(conn)
        .await?;
    Ok(files_for_account(&files, post_id.0, account_id.0))
}

/// Among `files` (a post's rows in order, with their files), those post `post_id` publishes to
/// account `account_id`: the account's own when some were chosen for it, else the post's.
pub(crate) fn files_for_account(
    files: &[(post_media::Model, Option<media_item::Model>)],
    post_id: i64,
    account_id: i64,
) -> Vec<media_item::Model> {
    let of_post = |own: bool| -> Vec<media_item::Model> {
        files
            .iter()
            .filter(|(row, _)| row.post_id == post_id)
            .filter(|(row, _)| match row.account_id {
                Some(account) => own && account == account_id,
                None => !own,
            })
            .filter_map(|(_, item)| item.clone())
            .collect()
    };
    let own = of_post(true);
    if own.is_empty() { of_post(false) } else { own }
}

/// Writes a change to post `post_id` into its workspace's activity log.
pub(crate) async fn log_post<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    actor: Option<&user::Model>,
    action: &'static str,
    post_id: PostId,
    summary: String,
) -> Result<()> {
    activity::record(
        conn,
        ws,
        actor,
        activity::Entry {
            action,
            object_type: "post",
            object_id: Some(post_id.0),
            summary,
        },
    )
    .await
}

/// The post `id` of workspace `ws`, read after taking its row lock (as the worker does before
/// it starts an attempt), so a change and a publish never both act on the state they read.
pub(crate) async fn locked_post_in<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: PostId,
) -> Result<post::Model> {
    let res = post::Entity::update_many()
        .col_expr(post::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(post::Column::Id.eq(id.0))
        .filter(post::Column::WorkspaceId.eq(ws.0))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    post_in(conn, ws, id).await
}

/// The post `id` of workspace `ws`, or NotFound.
pub(crate) async fn post_in<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: PostId,
) -> Result<post::Model> {
    post::Entity::find_by_id(id)
        .filter(post::Column::WorkspaceId.eq(ws.0))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// A post's targets with their accounts.
pub(crate) async fn targets_of<C: ConnectionTrait>(
    conn: &C,
    post_id: PostId,
) -> Result<Vec<TargetView>> {
    let rows = post_target::Entity::find()
        .filter(post_target::Column::PostId.eq(post_id.0))
        .find_also_related(social_account::Entity)
        .order_by_asc(post_target::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(target, account)| account.map(|account| TargetView { target, account }))
        .collect())
}

/// Removes post `post_id`, with its targets, attempts and file links (they go with it), after
/// withdrawing its queued publish jobs: what a person's Delete does, and what an account
/// deletion does to the author's posts in workspaces others keep. The caller holds the post's
/// row lock and has made sure no platform call for it is under way.
pub(crate) async fn remove_post<C: ConnectionTrait>(conn: &C, post_id: PostId) -> Result<()> {
    withdraw_jobs(conn, post_id.0).await?;
    // Its notes go with it (by their foreign key), and so do the notifications about them.
    let notes: Vec<i64> = store::entities::post_note::Entity::find()
        .select_only()
        .column(store::entities::post_note::Column::Id)
        .filter(store::entities::post_note::Column::PostId.eq(post_id.0))
        .into_tuple::<i64>()
        .all(conn)
        .await?;
    crate::notifications::withdraw(conn, "post_note", notes).await?;
    crate::notifications::withdraw(conn, "post", [post_id.0]).await?;
    crate::analytics::kept::figures_of_post_changed(conn, post_id).await?;
    post::Entity::delete_by_id(post_id).exec(conn).await?;
    Ok(())
}

/// Removes the queued publish jobs of a post's targets. A job already running finds the post's
/// revision changed and does nothing.
async fn withdraw_jobs<C: ConnectionTrait>(conn: &C, post_id: i64) -> Result<()> {
    let subjects: Vec<String> = post_target::Entity::find()
        .select_only()
        .column(post_target::Column::Id)
        .filter(post_target::Column::PostId.eq(post_id))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .map(|t| publishing::subject(TargetId(t)))
        .collect();
    job::Entity::delete_many()
        .filter(job::Column::Subject.is_in(subjects))
        .filter(job::Column::State.eq(queue::JobState::Queued))
        .exec(conn)
        .await?;
    Ok(())
}

/// The first words of a text, for the activity log.
pub fn excerpt(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(60).collect();
    if line.chars().count() > 60 || text.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}
