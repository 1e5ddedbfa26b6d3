//! Approvals before publishing: the workspace's rules, the decision on a post sent for
//! approval, and who is told.
//!
//! A post saved with a time in a workspace whose posts need approval waits as "pending
//! approval", with no publish job, until an approver approves the revision they reviewed. The
//! approval schedules it as saving would have (its publish jobs, its count against the month's
//! posts); a rejection or a request for changes sends it back to its author as a draft, keeping
//! its time and the reviewer's note. Every decision is a `post_reviews` row and an activity log
//! entry, and the author is e-mailed and notified in the app (as approvers are of a post that
//! waits for them).

use super::{PostView, locked_post_in, log_post, targets_of};
use crate::notifications::{self, Notice, NotificationKind};
use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_member, role_of};
use crate::{Result, ServiceError, Services, emails, publishing};
use domain::approval::{Approvers, Decision, Member, Rules};
use domain::plans::Feature;
use domain::{PostId, Role, UserId, WorkspaceId, schedule};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use store::entities::states::PostState;
use store::entities::{membership, post, post_review, post_target, user, workspace};

/// The rules as a workspace row stores them (whatever its plan).
pub fn stored_rules(ws: &workspace::Model) -> Rules {
    Rules {
        required: ws.approvals_required,
        approvers: Approvers::parse(&ws.approvers).unwrap_or(Approvers::AnyMember),
        own_posts: ws.approve_own_posts,
    }
}

/// Whether `user` counts as `post`'s author: they wrote it, or last sent it for approval.
fn authored(post: &post::Model, user: i64) -> bool {
    post.author_id == Some(user) || post.submitted_by == Some(user)
}

/// A member as the rules see them.
pub(crate) fn member_of(row: &membership::Model) -> Result<Member> {
    Ok(Member {
        role: role_of(&row.role)?,
        named: row.approver,
    })
}

/// `ctx`'s member as the rules see them, read again (a role or approver flag changed since the
/// page was loaded counts).
pub(crate) async fn member_now<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<Member> {
    let row = membership::Entity::find_by_id(ctx.id.0)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    member_of(&row)
}

/// A decision on a post, and what followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reviewed {
    /// Approved: scheduled for this time (now, when its time passed while it waited).
    Scheduled(chrono::DateTime<chrono::Utc>),
    /// Sent back to its author as a draft.
    BackToAuthor,
}

/// A past decision on a post, for its review page.
#[derive(Debug, Clone)]
pub struct ReviewLine {
    pub review: post_review::Model,
    /// The reviewer's name, or none when their account is gone.
    pub reviewer: Option<String>,
}

impl Services {
    /// The approval rules that apply to `ws` now, read in `conn`: off on a plan without
    /// approval workflows, whatever is stored.
    pub(crate) async fn approval_rules_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        ws: WorkspaceId,
    ) -> Result<Rules> {
        let row = workspace::Entity::find_by_id(ws.0)
            .one(conn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let rules = stored_rules(&row);
        if !rules.required {
            return Ok(rules);
        }
        match self
            .entitle(conn, ws, Need::Feature(Feature::Approvals))
            .await
        {
            Ok(()) => Ok(rules),
            Err(ServiceError::PlanLimit { .. }) => Ok(Rules {
                required: false,
                ..rules
            }),
            Err(e) => Err(e),
        }
    }

    /// Refuses, naming the plan that has them, when the workspace's plan has no approval
    /// workflows (nothing is refused without plans).
    pub async fn require_approvals(&self, ws: WorkspaceId) -> Result<()> {
        self.entitle(&self.db, ws, Need::Feature(Feature::Approvals))
            .await
    }

    /// The approval rules that apply to `ws` now.
    pub async fn approval_rules(&self, ws: WorkspaceId) -> Result<Rules> {
        self.approval_rules_in(&self.db, ws).await
    }

    /// The rules that apply to `ctx`'s workspace now, and its member as they see them.
    pub async fn approval_of(&self, ctx: &Membership) -> Result<(Rules, Member)> {
        let rules = self.approval_rules(ctx.workspace_id()).await?;
        Ok((rules, member_now(&self.db, ctx).await?))
    }

    /// Whether `ctx`'s member (`reader`) may decide on `post`, pending approval: `Err` says
    /// why not. The workspace's stored rules apply (a plan that lost approvals still lets its
    /// pending posts be decided on).
    pub async fn may_review(
        &self,
        ctx: &Membership,
        reader: &user::Model,
        post: &post::Model,
    ) -> Result<std::result::Result<(), String>> {
        let rules = stored_rules(&ctx.workspace);
        Ok(rules
            .may_approve(member_now(&self.db, ctx).await?, authored(post, reader.id))
            .map_err(|e| e.0))
    }

    /// Sets the workspace's approval rules and, when approvers are named, who they are
    /// (`named`: user ids of members). Owners only; turning approvals on needs a plan with
    /// approval workflows. Turning them off leaves pending posts pending (an approver still
    /// decides on them), so nothing goes out that nobody approved.
    pub async fn set_approval_rules(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        rules: Rules,
        named: &[i64],
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        if role_of(&me.role)? != Role::Owner {
            return Err(ServiceError::Forbidden(
                "Only owners decide how posts are approved.".into(),
            ));
        }
        if rules.required {
            self.entitle(&txn, ws, Need::Feature(Feature::Approvals))
                .await?;
        }
        let members = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .all(&txn)
            .await?;
        if let Some(stranger) = named
            .iter()
            .find(|id| !members.iter().any(|m| m.user_id == **id))
        {
            return Err(ServiceError::invalid(
                "approvers",
                format!("User {stranger} is not a member of this workspace."),
            ));
        }
        if rules.required
            && rules.approvers == Approvers::Named
            && !members.iter().any(|m| {
                named.contains(&m.user_id) && role_of(&m.role).is_ok_and(|r| r.can_publish())
            })
        {
            return Err(ServiceError::invalid(
                "approvers",
                "Name at least one approver who can publish (viewers cannot approve).",
            ));
        }
        let now = crate::now();
        workspace::Entity::update_many()
            .col_expr(
                workspace::Column::ApprovalsRequired,
                Expr::value(rules.required),
            )
            .col_expr(
                workspace::Column::Approvers,
                Expr::value(rules.approvers.as_str()),
            )
            .col_expr(
                workspace::Column::ApproveOwnPosts,
                Expr::value(rules.own_posts),
            )
            .col_expr(workspace::Column::UpdatedAt, Expr::value(now))
            .filter(workspace::Column::Id.eq(ws.0))
            .exec(&txn)
            .await?;
        for m in &members {
            let approver = named.contains(&m.user_id);
            if m.approver != approver {
                membership::Entity::update_many()
                    .col_expr(membership::Column::Approver, Expr::value(approver))
                    .filter(membership::Column::Id.eq(m.id))
                    .exec(&txn)
                    .await?;
            }
        }
        let summary = if rules.required {
            format!(
                "made posts wait for approval ({}; {})",
                rules.approvers.label().to_lowercase(),
                if rules.own_posts {
                    "approvers may approve their own posts"
                } else {
                    "approvers may not approve their own posts"
                }
            )
        } else {
            "let posts be scheduled without approval".to_owned()
        };
        crate::activity::record(
            &txn,
            ws,
            Some(actor),
            crate::activity::Entry {
                action: "workspace.approvals_changed",
                object_type: "workspace",
                object_id: Some(ws.0),
                summary,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Decides on a post pending approval. `seen` is the revision the reviewer was shown: a
    /// post changed since is refused (the page shows the new version). Approved, it is
    /// scheduled for its time (now, when that passed while it waited); otherwise it goes back
    /// to its author as a draft with `note`.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn review_post(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        seen: i32,
        decision: Decision,
        note: &str,
    ) -> Result<Reviewed> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        let post = locked_post_in(&txn, ws, post_id).await?;
        if post.state != PostState::PendingApproval {
            return Err(ServiceError::Forbidden(format!(
                "This post is no longer waiting for approval: it is {}.",
                post.state.label().to_lowercase()
            )));
        }
        if post.revision != seen {
            return Err(ServiceError::invalid(
                "revision",
                "This post changed after you opened it. Review the version below.",
            ));
        }
        let rules = stored_rules(
            &workspace::Entity::find_by_id(ws.0)
                .one(&txn)
                .await?
                .ok_or(ServiceError::NotFound)?,
        );
        rules
            .may_approve(member_of(&me)?, authored(&post, actor.id))
            .map_err(|e| ServiceError::Forbidden(e.0))?;
        let note = domain::approval::note(note, decision)
            .map_err(|e| ServiceError::invalid("note", e.0))?;
        let now = crate::now();
        post_review::ActiveModel {
            workspace_id: Set(ws.0),
            post_id: Set(post.id),
            revision: Set(post.revision),
            reviewer_id: Set(Some(actor.id)),
            decision: Set(decision.as_str().to_owned()),
            note: Set(note.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut row: post::ActiveModel = post.clone().into();
        row.review_note = Set(note.clone());
        row.reviewed_by = Set(Some(actor.id));
        row.reviewed_at = Set(Some(now));
        row.updated_at = Set(now);
        let tz = domain::Timezone::stored(&actor.timezone);
        let (outcome, next_state, said) = match decision {
            Decision::Approved => {
                let at = post.scheduled_at.map_or(now, |t| t.max(now));
                row.scheduled_at = Set(Some(at));
                row.approved_by = Set(Some(actor.id));
                row.approved_at = Set(Some(now));
                if let Some(month) = self
                    .count_post(&txn, ws, post.counted_in.as_deref())
                    .await?
                {
                    row.counted_in = Set(Some(month));
                }
                let late = post.scheduled_at.is_some_and(|t| t < now);
                let when = if late {
                    "now (its time passed while it waited)".to_owned()
                } else {
                    schedule::describe(at, tz)
                };
                (
                    Reviewed::Scheduled(at),
                    PostState::Scheduled,
                    format!("approved a post, to go out {when}"),
                )
            }
            Decision::Rejected | Decision::ChangesRequested => (
                Reviewed::BackToAuthor,
                PostState::Draft,
                format!("{} a post", decision.verb()),
            ),
        };
        row.state = Set(next_state);
        let post = row.update(&txn).await?;
        post_target::Entity::update_many()
            .col_expr(post_target::Column::State, Expr::value(next_state))
            .filter(post_target::Column::PostId.eq(post.id))
            .exec(&txn)
            .await?;
        if let Reviewed::Scheduled(at) = outcome {
            for view in targets_of(&txn, PostId(post.id)).await? {
                publishing::enqueue(&txn, &post, &view.target, &view.account.platform, at).await?;
            }
        }
        log_post(
            &txn,
            ws,
            Some(actor),
            match decision {
                Decision::Approved => "post.approved",
                Decision::Rejected => "post.rejected",
                Decision::ChangesRequested => "post.changes_requested",
            },
            PostId(post.id),
            format!(
                "{said}: “{}”{}",
                super::excerpt(&post.body),
                note.as_deref()
                    .map(|n| format!(" (note: {})", super::excerpt(n)))
                    .unwrap_or_default()
            ),
        )
        .await?;
        // The approvers' requests are settled: nobody needs to act on them any more.
        notifications::settle(&txn, NotificationKind::ApprovalAsked, "post", post.id).await?;
        // The author hears of it (unless they decided themself, or left the workspace).
        let still_member = |id: i64| {
            membership::Entity::find()
                .filter(membership::Column::WorkspaceId.eq(ws.0))
                .filter(membership::Column::UserId.eq(id))
                .one(&txn)
        };
        if let Some(author_id) = post.author_id.filter(|id| *id != actor.id)
            && still_member(author_id).await?.is_some()
            && let Some(author) = user::Entity::find_by_id(author_id).one(&txn).await?
        {
            let link = format!("{}/w/{}/posts/{}", self.base_url, ws.0, post.id);
            let email = emails::post_reviewed(
                &author.email,
                &author.name,
                &actor.name,
                &ctx.workspace.name,
                decision,
                &super::excerpt(&post.body),
                note.as_deref(),
                &link,
            );
            emails::queue(&txn, email, Some(UserId(author.id))).await?;
            let notice = Notice {
                kind: NotificationKind::PostReviewed,
                actor: Some(UserId(actor.id)),
                summary: format!(
                    "{} your post “{}”",
                    decision.verb(),
                    super::excerpt(&post.body)
                ),
                link: format!("/w/{}/posts/{}#review", ws.0, post.id),
                object_type: "post",
                object_id: post.id,
            };
            notifications::notify(&txn, UserId(author.id), ws, &notice).await?;
        }
        txn.commit().await?;
        if matches!(outcome, Reviewed::Scheduled(_)) {
            self.wake.notify_one();
        }
        Ok(outcome)
    }

    /// The decisions on a post, oldest first.
    pub async fn reviews_of(&self, ws: WorkspaceId, post_id: PostId) -> Result<Vec<ReviewLine>> {
        let reviews = post_review::Entity::find()
            .filter(post_review::Column::WorkspaceId.eq(ws.0))
            .filter(post_review::Column::PostId.eq(post_id.0))
            .order_by_asc(post_review::Column::Id)
            .all(&self.db)
            .await?;
        let names =
            crate::workspaces::names_of(&self.db, reviews.iter().filter_map(|r| r.reviewer_id))
                .await?;
        Ok(reviews
            .into_iter()
            .map(|review| ReviewLine {
                reviewer: review.reviewer_id.and_then(|id| names.get(&id).cloned()),
                review,
            })
            .collect())
    }

    /// Those of `posts` that no member may approve under the workspace's rules as they stand
    /// (its only approvers wrote or sent them, or left, or became viewers): they would wait
    /// for ever, so the Approvals page says so.
    pub async fn unapprovable(
        &self,
        ws: WorkspaceId,
        posts: &[post::Model],
    ) -> Result<std::collections::HashSet<i64>> {
        let row = workspace::Entity::find_by_id(ws.0)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let rules = stored_rules(&row);
        let members = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?;
        Ok(posts
            .iter()
            .filter(|p| {
                !members.iter().any(|m| {
                    member_of(m)
                        .is_ok_and(|who| rules.may_approve(who, authored(p, m.user_id)).is_ok())
                })
            })
            .map(|p| p.id)
            .collect())
    }

    /// The files with a thumbnail of each of `posts` (the post's own, in order): post id →
    /// (file id, file name). One query for them all.
    pub async fn thumbs_of(
        &self,
        ws: WorkspaceId,
        posts: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<(i64, String)>>> {
        use store::entities::{media_item, post_media};
        let rows = post_media::Entity::find()
            .filter(post_media::Column::PostId.is_in(posts.iter().copied()))
            .filter(post_media::Column::AccountId.is_null())
            .order_by_asc(post_media::Column::PostId)
            .order_by_asc(post_media::Column::Position)
            .find_also_related(media_item::Entity)
            .all(&self.db)
            .await?;
        let mut out: std::collections::HashMap<i64, Vec<(i64, String)>> = Default::default();
        for (link, item) in rows {
            if let Some(item) = item.filter(|i| i.workspace_id == ws.0 && i.thumb_key.is_some()) {
                out.entry(link.post_id)
                    .or_default()
                    .push((item.id, item.filename));
            }
        }
        Ok(out)
    }

    /// The post for its review page, with the decisions on it so far.
    pub async fn review_view(
        &self,
        ws: WorkspaceId,
        post_id: PostId,
    ) -> Result<(PostView, Vec<ReviewLine>)> {
        let view = self.post_view(ws, post_id).await?;
        let reviews = self.reviews_of(ws, post_id).await?;
        Ok((view, reviews))
    }
}

/// Tells the workspace's approvers that a post waits for them, in `conn` (the transaction
/// that sent it for approval): all but `sender` and the post's author, who may not approve it.
pub(crate) async fn tell_approvers<C: ConnectionTrait>(
    services: &Services,
    conn: &C,
    ctx: &Membership,
    rules: Rules,
    sender: &user::Model,
    post: &post::Model,
) -> Result<()> {
    let members = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(ctx.workspace.id))
        .filter(membership::Column::UserId.ne(sender.id))
        .all(conn)
        .await?;
    let approvers: Vec<i64> = members
        .iter()
        .filter(|m| Some(m.user_id) != post.author_id || rules.own_posts)
        .filter(|m| member_of(m).is_ok_and(|who| rules.is_approver(who)))
        .map(|m| m.user_id)
        .collect();
    if approvers.is_empty() {
        return Ok(());
    }
    let link = format!(
        "{}/w/{}/posts/{}#review",
        services.base_url, ctx.workspace.id, post.id
    );
    let notice = Notice {
        kind: NotificationKind::ApprovalAsked,
        actor: Some(UserId(sender.id)),
        summary: format!("sent a post for approval: “{}”", super::excerpt(&post.body)),
        link: format!("/w/{}/posts/{}#review", ctx.workspace.id, post.id),
        object_type: "post",
        object_id: post.id,
    };
    for person in user::Entity::find()
        .filter(user::Column::Id.is_in(approvers))
        .all(conn)
        .await?
    {
        let email = emails::approval_asked(
            &person.email,
            &person.name,
            &sender.name,
            &ctx.workspace.name,
            &super::excerpt(&post.body),
            &link,
        );
        emails::queue(conn, email, Some(UserId(person.id))).await?;
        notifications::notify(conn, UserId(person.id), ctx.workspace_id(), &notice).await?;
    }
    Ok(())
}
