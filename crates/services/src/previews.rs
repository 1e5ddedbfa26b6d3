//! Client preview links: one post, or the posts scheduled in a range of days, shown read-only
//! to someone without an account, by an unguessable link that expires and that can be revoked.
//!
//! The link's secret is 256 random bits; only its SHA-256 is stored, so the link is shown once,
//! when it is made. An expired, revoked or altered link finds nothing, and the page says only
//! that it is no longer available. The page shows the posts' texts per account, their files
//! and times, and nothing else of the workspace. When the creator allows it, the client may
//! approve a post or leave a comment under a name they type; that is recorded as theirs (a
//! client's approval is a message to the team, not the workspace's approval), and the team
//! sees it on the post's page and in the activity log.

use crate::plans::Need;
use crate::posts::{effective_text, excerpt, format_of, log_post, post_in};
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services, tokens};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::plans::Feature;
use domain::{Platform, PostId, Timezone, WorkspaceId, schedule};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use store::entities::states::PostState;
use store::entities::{
    media_item, post, post_media, post_target, preview_feedback, preview_link, social_account, user,
};

/// The longest a link lasts.
pub const MAX_DAYS_VALID: i64 = 30;
/// The longest range of days a link shows.
pub const MAX_RANGE_DAYS: i64 = 62;
/// The longest name and comment a client may leave.
pub const MAX_NAME: usize = 80;
pub const MAX_COMMENT: usize = 2_000;

/// The states of the posts a range of days shows: on their way or out, and those waiting for
/// approval (what a client is asked to look at); never drafts, even dated ones, nor posts that
/// failed.
const SHOWN_IN_A_RANGE: [PostState; 5] = [
    PostState::PendingApproval,
    PostState::Scheduled,
    PostState::Publishing,
    PostState::Published,
    PostState::PartiallyPublished,
];
/// A client's responses through one link: at most this many an hour, and in all.
const RESPONSES_PER_HOUR: u64 = 20;
const RESPONSES_IN_ALL: u64 = 200;

/// What a link shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shows {
    Post(PostId),
    /// The posts scheduled on these days (both included) in the creator's time zone.
    Days {
        from: NaiveDate,
        to: NaiveDate,
    },
}

/// A link to make.
#[derive(Debug, Clone, Copy)]
pub struct NewLink {
    pub shows: Shows,
    pub days_valid: i64,
    pub client_may_respond: bool,
}

/// A link as the team sees it.
#[derive(Debug, Clone)]
pub struct LinkLine {
    pub link: preview_link::Model,
    pub creator: Option<String>,
}

/// A post as the client sees it.
#[derive(Debug, Clone)]
pub struct PreviewPost {
    pub id: i64,
    pub when: Option<DateTime<Utc>>,
    /// Per account: platform, account name, the text it goes out with, and its format.
    pub accounts: Vec<(Platform, String, String, &'static str)>,
    /// Files, in order: (id, file name, a video).
    pub files: Vec<(i64, String, bool)>,
    /// What clients said of it through this link.
    pub feedback: Vec<preview_feedback::Model>,
}

/// What an open link shows.
#[derive(Debug, Clone)]
pub struct Preview {
    pub workspace: String,
    pub zone: Timezone,
    pub posts: Vec<PreviewPost>,
    pub client_may_respond: bool,
    pub expires_at: DateTime<Utc>,
}

/// What a client does with a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Approve,
    Comment,
}

impl Services {
    /// Makes a link for `ctx`'s workspace; returns it with its secret (shown once). Members
    /// who can publish, on a plan with team collaboration.
    pub async fn create_preview_link(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        new: NewLink,
    ) -> Result<(preview_link::Model, String)> {
        let ws = ctx.workspace_id();
        if !(1..=MAX_DAYS_VALID).contains(&new.days_valid) {
            return Err(ServiceError::invalid(
                "days_valid",
                format!("A link lasts from 1 to {MAX_DAYS_VALID} days."),
            ));
        }
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        self.entitle(&txn, ws, Need::Feature(Feature::TeamCollaboration))
            .await?;
        let zone = Timezone::stored(&actor.timezone);
        let (post_id, from, to, what) = match new.shows {
            Shows::Post(id) => {
                let post = post_in(&txn, ws, id).await?;
                (
                    Some(post.id),
                    None,
                    None,
                    format!("a post: “{}”", excerpt(&post.body)),
                )
            }
            Shows::Days { from, to } => {
                use chrono::Datelike;
                if !(2000..=2100).contains(&from.year()) || !(2000..=2100).contains(&to.year()) {
                    return Err(ServiceError::invalid(
                        "from",
                        "Choose days between the years 2000 and 2100.",
                    ));
                }
                if to < from {
                    return Err(ServiceError::invalid(
                        "to",
                        "The range ends before it starts.",
                    ));
                }
                if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
                    return Err(ServiceError::invalid(
                        "to",
                        format!("A link shows at most {MAX_RANGE_DAYS} days."),
                    ));
                }
                (
                    None,
                    Some(from),
                    Some(to),
                    format!("the posts of {from} to {to}"),
                )
            }
        };
        let token = tokens::random_token();
        let now = crate::now();
        let link = preview_link::ActiveModel {
            workspace_id: Set(ws.0),
            created_by: Set(Some(actor.id)),
            token_hash: Set(tokens::hash_token(&token)),
            post_id: Set(post_id),
            from_day: Set(from),
            to_day: Set(to),
            time_zone: Set(zone.name().to_owned()),
            expires_at: Set(now + Duration::days(new.days_valid)),
            revoked_at: Set(None),
            client_may_respond: Set(new.client_may_respond),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::activity::record(
            &txn,
            ws,
            Some(actor),
            crate::activity::Entry {
                action: "preview.created",
                object_type: "preview_link",
                object_id: Some(link.id),
                summary: format!(
                    "made a client preview link to {what}, for {} days",
                    new.days_valid
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok((link, token))
    }

    /// The workspace's links that still work, newest first (for one post when `post` says).
    pub async fn preview_links(
        &self,
        ws: WorkspaceId,
        post: Option<PostId>,
    ) -> Result<Vec<LinkLine>> {
        let mut query = preview_link::Entity::find()
            .filter(preview_link::Column::WorkspaceId.eq(ws.0))
            .filter(preview_link::Column::RevokedAt.is_null())
            .filter(preview_link::Column::ExpiresAt.gt(crate::now()));
        if let Some(id) = post {
            query = query.filter(preview_link::Column::PostId.eq(id.0));
        }
        let links = query
            .order_by_desc(preview_link::Column::Id)
            .all(&self.db)
            .await?;
        let names =
            crate::workspaces::names_of(&self.db, links.iter().filter_map(|l| l.created_by))
                .await?;
        Ok(links
            .into_iter()
            .map(|link| LinkLine {
                creator: link.created_by.and_then(|id| names.get(&id).cloned()),
                link,
            })
            .collect())
    }

    /// Revokes a link of `ctx`'s workspace: it stops working at once.
    pub async fn revoke_preview_link(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        link_id: i64,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let done = preview_link::Entity::update_many()
            .col_expr(
                preview_link::Column::RevokedAt,
                Expr::value(Some(crate::now())),
            )
            .filter(preview_link::Column::Id.eq(link_id))
            .filter(preview_link::Column::WorkspaceId.eq(ws.0))
            .filter(preview_link::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(ServiceError::NotFound);
        }
        crate::activity::record(
            &txn,
            ws,
            Some(actor),
            crate::activity::Entry {
                action: "preview.revoked",
                object_type: "preview_link",
                object_id: Some(link_id),
                summary: "revoked a client preview link".to_owned(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The link `token` names, while it works.
    async fn live_link(&self, token: &str) -> Result<Option<preview_link::Model>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        Ok(preview_link::Entity::find()
            .filter(preview_link::Column::TokenHash.eq(tokens::hash_token(token)))
            .filter(preview_link::Column::RevokedAt.is_null())
            .filter(preview_link::Column::ExpiresAt.gt(crate::now()))
            .one(&self.db)
            .await?)
    }

    /// The posts of `link`: its post, or those scheduled in its days.
    async fn posts_of(&self, link: &preview_link::Model) -> Result<Vec<post::Model>> {
        let mut query =
            post::Entity::find().filter(post::Column::WorkspaceId.eq(link.workspace_id));
        match (link.post_id, link.from_day, link.to_day) {
            (Some(id), _, _) => query = query.filter(post::Column::Id.eq(id)),
            (None, Some(from), Some(to)) => {
                let zone = Timezone::stored(&link.time_zone);
                let Some(after) = to.checked_add_days(chrono::Days::new(1)) else {
                    return Ok(Vec::new());
                };
                query = query
                    .filter(post::Column::State.is_in(SHOWN_IN_A_RANGE))
                    .filter(post::Column::ScheduledAt.gte(schedule::start_of_day(from, zone)))
                    .filter(post::Column::ScheduledAt.lt(schedule::start_of_day(after, zone)));
            }
            _ => return Ok(Vec::new()),
        }
        Ok(query
            .order_by_asc(post::Column::ScheduledAt)
            .order_by_asc(post::Column::Id)
            .limit(200)
            .all(&self.db)
            .await?)
    }

    /// What the link `token` shows, or none when it is expired, revoked or altered.
    pub async fn open_preview(&self, token: &str) -> Result<Option<Preview>> {
        let Some(link) = self.live_link(token).await? else {
            return Ok(None);
        };
        let workspace = store::entities::workspace::Entity::find_by_id(link.workspace_id)
            .one(&self.db)
            .await?
            .map(|w| w.name)
            .unwrap_or_default();
        let posts = self.posts_of(&link).await?;
        let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
        let targets = post_target::Entity::find()
            .filter(post_target::Column::PostId.is_in(ids.iter().copied()))
            .order_by_asc(post_target::Column::Id)
            .find_also_related(social_account::Entity)
            .all(&self.db)
            .await?;
        let files = post_media::Entity::find()
            .filter(post_media::Column::PostId.is_in(ids.iter().copied()))
            .filter(post_media::Column::AccountId.is_null())
            .order_by_asc(post_media::Column::Position)
            .find_also_related(media_item::Entity)
            .all(&self.db)
            .await?;
        let feedback = preview_feedback::Entity::find()
            .filter(preview_feedback::Column::LinkId.eq(link.id))
            .order_by_asc(preview_feedback::Column::Id)
            .all(&self.db)
            .await?;
        let shown = posts
            .into_iter()
            .map(|p| PreviewPost {
                id: p.id,
                when: p.scheduled_at,
                accounts: targets
                    .iter()
                    .filter(|(t, _)| t.post_id == p.id)
                    .filter_map(|(t, a)| {
                        let a = a.as_ref()?;
                        Some((
                            Platform::parse(&a.platform).ok()?,
                            a.username.clone(),
                            effective_text(&p.body, t.body.as_deref()).to_owned(),
                            format_of(&t.options).label(),
                        ))
                    })
                    .collect(),
                files: files
                    .iter()
                    .filter(|(f, _)| f.post_id == p.id)
                    .filter_map(|(_, m)| m.as_ref())
                    .filter(|m| m.workspace_id == link.workspace_id)
                    .map(|m| (m.id, m.filename.clone(), m.kind == "video"))
                    .collect(),
                feedback: feedback
                    .iter()
                    .filter(|f| f.post_id == p.id)
                    .cloned()
                    .collect(),
            })
            .collect();
        Ok(Some(Preview {
            workspace,
            zone: Timezone::stored(&link.time_zone),
            posts: shown,
            client_may_respond: link.client_may_respond,
            expires_at: link.expires_at,
        }))
    }

    /// A file the link `token` shows (one of its posts' own), or none.
    pub async fn preview_file(
        &self,
        token: &str,
        media_id: i64,
    ) -> Result<Option<media_item::Model>> {
        let Some(link) = self.live_link(token).await? else {
            return Ok(None);
        };
        let posts: Vec<i64> = self.posts_of(&link).await?.iter().map(|p| p.id).collect();
        let used = post_media::Entity::find()
            .filter(post_media::Column::PostId.is_in(posts))
            .filter(post_media::Column::MediaId.eq(media_id))
            .filter(post_media::Column::AccountId.is_null())
            .one(&self.db)
            .await?;
        if used.is_none() {
            return Ok(None);
        }
        Ok(media_item::Entity::find_by_id(media_id)
            .filter(media_item::Column::WorkspaceId.eq(link.workspace_id))
            .one(&self.db)
            .await?)
    }

    /// A client's approval or comment on a post the link `token` shows, under `name`. None
    /// when the link no longer works or does not show the post.
    pub async fn preview_respond(
        &self,
        token: &str,
        post_id: i64,
        name: &str,
        response: Response,
        comment: &str,
    ) -> Result<Option<()>> {
        let Some(link) = self.live_link(token).await? else {
            return Ok(None);
        };
        if !link.client_may_respond {
            return Err(ServiceError::Forbidden(
                "This link lets you look, not respond.".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid(
                "name",
                "Give your name, so the team knows who said it.",
            ));
        }
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "name",
                format!("Give your name on one line, under {MAX_NAME} characters."),
            ));
        }
        let name = name.to_owned();
        let comment = comment.trim();
        let comment = match response {
            Response::Approve => (!comment.is_empty()).then(|| comment.to_owned()),
            Response::Comment if comment.is_empty() => {
                return Err(ServiceError::invalid("comment", "Write the comment first."));
            }
            Response::Comment => Some(comment.to_owned()),
        };
        if let Some(c) = &comment
            && (c.chars().count() > MAX_COMMENT
                || c.chars()
                    .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t')))
        {
            return Err(ServiceError::invalid(
                "comment",
                format!("Keep the comment under {MAX_COMMENT} characters of plain text."),
            ));
        }
        let posts = self.posts_of(&link).await?;
        let Some(post) = posts.iter().find(|p| p.id == post_id) else {
            return Ok(None);
        };
        let txn = store::begin_write(&self.db).await?;
        // A link is for a few people's word, not a comment box for the world.
        let said = |since: DateTime<Utc>| {
            preview_feedback::Entity::find()
                .filter(preview_feedback::Column::LinkId.eq(link.id))
                .filter(preview_feedback::Column::CreatedAt.gte(since))
                .count(&txn)
        };
        let now = crate::now();
        if said(now - Duration::hours(1)).await? >= RESPONSES_PER_HOUR {
            return Err(ServiceError::RateLimited {
                retry_after: std::time::Duration::from_secs(3600),
            });
        }
        if said(link.created_at).await? >= RESPONSES_IN_ALL {
            return Err(ServiceError::Forbidden(
                "This link has taken all the responses it can. Write to the team directly.".into(),
            ));
        }
        preview_feedback::ActiveModel {
            workspace_id: Set(link.workspace_id),
            link_id: Set(link.id),
            post_id: Set(post.id),
            name: Set(name.clone()),
            kind: Set(match response {
                Response::Approve => "approved",
                Response::Comment => "comment",
            }
            .to_owned()),
            comment: Set(comment.clone()),
            created_at: Set(crate::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        log_post(
            &txn,
            WorkspaceId(link.workspace_id),
            None,
            match response {
                Response::Approve => "preview.client_approved",
                Response::Comment => "preview.client_commented",
            },
            PostId(post.id),
            format!(
                "{name} (a client, through a preview link) {} a post: “{}”",
                match response {
                    Response::Approve => "approved",
                    Response::Comment => "commented on",
                },
                excerpt(&post.body)
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(Some(()))
    }

    /// What clients said of a post through preview links, oldest first.
    pub async fn client_feedback(
        &self,
        ws: WorkspaceId,
        post_id: PostId,
    ) -> Result<Vec<preview_feedback::Model>> {
        Ok(preview_feedback::Entity::find()
            .filter(preview_feedback::Column::WorkspaceId.eq(ws.0))
            .filter(preview_feedback::Column::PostId.eq(post_id.0))
            .order_by_asc(preview_feedback::Column::Id)
            .all(&self.db)
            .await?)
    }
}
