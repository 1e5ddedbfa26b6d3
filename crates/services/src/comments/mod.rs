//! The comments workspace: the comments people leave under the workspace's published posts on
//! Facebook, Instagram, X and LinkedIn organisation pages, read back on the age-decayed plan of
//! the metrics ([`ingest`]), labelled by the workspace's keyword rules, assigned to members,
//! answered (a person writes or edits every reply; an AI suggestion is only a draft), hidden or
//! deleted where the platform allows ([`reply`]), and purged once a conversation has been quiet
//! for the workspace's retention period.
//!
//! The people who write comments never signed up here: their names and texts are third-party
//! personal data, kept only for that period, exported only to the workspace's owners, and never
//! sent to the AI provider with the name.

pub mod ingest;
pub mod reply;

use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_manager, lock_as_member, names_of};
use crate::{Result, ServiceError, Services, activity};
use chrono::{DateTime, Utc};
use domain::comments::{self as rules_of, Rule};
use domain::plans::Feature;
use domain::{Platform, WorkspaceId};
use providers::social::AccountRef;
use providers::social::comments::Abilities;
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use store::entities::states::AccountStatus;
use store::entities::{
    comment, comment_reply, comment_rule, membership, post, post_target, social_account, user,
    workspace,
};

/// The most comments one page lists.
pub const PAGE: u64 = 100;

/// Which comments a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    Open,
    Done,
    All,
}

impl Show {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "done" => Self::Done,
            "all" => Self::All,
            _ => Self::Open,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Done => "done",
            Self::All => "all",
        }
    }
}

/// The filters of the comments list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub platform: Option<Platform>,
    pub account: Option<i64>,
    /// Only comments nobody has answered (not hidden, not answered by the account).
    pub needs_reply: bool,
    /// Only those assigned to the person looking.
    pub mine: bool,
    pub label: Option<String>,
    pub show: Show,
    /// Only comments older than this one (of the same workspace): the next page.
    pub before: Option<i64>,
}

/// One comment in the list, with what the page shows beside it.
#[derive(Debug, Clone)]
pub struct Line {
    pub comment: comment::Model,
    pub platform: Platform,
    pub account: String,
    pub post_id: i64,
    pub post_excerpt: String,
    pub permalink: Option<String>,
    pub assignee: Option<String>,
    /// Replies under it (the account's and others').
    pub replies: usize,
}

/// A comment with its conversation, for its page.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub line: Line,
    /// The comment it answers, when it is a reply.
    pub parent: Option<comment::Model>,
    /// The replies under it, oldest first.
    pub replies: Vec<comment::Model>,
    /// The team's replies written here (drafts, sent, refused), newest first, with author.
    pub drafts: Vec<(comment_reply::Model, Option<String>)>,
    pub abilities: Abilities,
    /// How many replies the account has sent to it (a reply form carries it, so that a reply
    /// sent meanwhile by someone else is noticed).
    pub answered: u64,
}

/// An account's standing in the comments workspace, for the page's notices.
#[derive(Debug, Clone)]
pub struct AccountState {
    pub account: social_account::Model,
    pub platform: Platform,
    pub abilities: Abilities,
    /// The permissions it must be connected again with, when it lacks some.
    pub missing: Option<String>,
}

/// What a post target is, for a line.
struct TargetInfo {
    post_id: i64,
    excerpt: String,
    permalink: Option<String>,
}

impl Services {
    /// Whether the comments workspace is on in `ctx`'s workspace.
    pub fn comments_on(&self, ctx: &Membership) -> bool {
        ctx.workspace.comments_on_at.is_some()
    }

    /// Refuses, naming the plan that has it, when the plan has no comments workspace.
    pub async fn require_comments(&self, ws: WorkspaceId) -> Result<()> {
        self.entitle(&self.db, ws, Need::Feature(Feature::CommentsWorkspace))
            .await
    }

    /// Turns the comments workspace on or off. Owners and admins only, on a plan that has it;
    /// logged. On: the starting keyword rules are added (when it has none) and every connected
    /// account's comments are read; off: reading stops, and what was read is purged on its
    /// schedule.
    pub async fn set_comments(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        on: bool,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        lock_as_manager(&txn, ctx).await.map_err(|err| match err {
            ServiceError::Forbidden(_) => ServiceError::Forbidden(
                "Only owners and admins can turn the comments workspace on or off.".into(),
            ),
            other => other,
        })?;
        if on {
            self.entitle(
                &txn,
                ctx.workspace_id(),
                Need::Feature(Feature::CommentsWorkspace),
            )
            .await?;
        }
        let now = crate::now();
        workspace::Entity::update_many()
            .col_expr(
                workspace::Column::CommentsOnAt,
                Expr::value(on.then_some(now)),
            )
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        let has_rules = comment_rule::Entity::find()
            .filter(comment_rule::Column::WorkspaceId.eq(ctx.workspace.id))
            .one(&txn)
            .await?
            .is_some();
        if on && !has_rules {
            for rule in rules_of::starting_rules() {
                insert_rule(&txn, ctx.workspace_id(), &rule, now).await?;
            }
        }
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ctx.workspace.id))
            .filter(social_account::Column::Status.eq(AccountStatus::Connected))
            .all(&txn)
            .await?;
        for account in &accounts {
            crate::queue::plan_read::<ingest::CommentsOf, _>(&txn, account, on.then_some(now))
                .await?;
        }
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if on {
                    "comments.turned_on"
                } else {
                    "comments.turned_off"
                },
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: if on {
                    "turned the comments workspace on".to_owned()
                } else {
                    "turned the comments workspace off".to_owned()
                },
            },
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Sets how many days a conversation is kept after its last comment (owners and admins).
    pub async fn set_comment_retention(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        raw_days: &str,
    ) -> Result<i32> {
        let days = rules_of::parse_kept_days(raw_days)
            .map_err(|e| ServiceError::invalid("kept_days", e.0))?;
        let txn = store::begin_write(&self.db).await?;
        manager(&txn, ctx).await?;
        workspace::Entity::update_many()
            .col_expr(workspace::Column::CommentsKeptDays, Expr::value(days))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comments.retention_changed",
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: format!(
                    "set comments to be kept {} after a conversation goes quiet",
                    domain::counted(i64::from(days), "day", "days")
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(days)
    }

    /// The workspace's keyword rules, oldest first.
    pub async fn comment_rules(&self, ws: WorkspaceId) -> Result<Vec<comment_rule::Model>> {
        Ok(comment_rule::Entity::find()
            .filter(comment_rule::Column::WorkspaceId.eq(ws.0))
            .order_by_asc(comment_rule::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Adds a keyword rule (owners and admins); the comments kept are labelled again.
    pub async fn add_comment_rule(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        label: &str,
        keywords: &str,
    ) -> Result<()> {
        let rule = rules_of::parse_rule(label, keywords).map_err(|e| {
            let field = if e.0.contains("label") {
                "label"
            } else {
                "keywords"
            };
            ServiceError::invalid(field, e.0)
        })?;
        let txn = store::begin_write(&self.db).await?;
        manager(&txn, ctx).await?;
        let count = comment_rule::Entity::find()
            .filter(comment_rule::Column::WorkspaceId.eq(ctx.workspace.id))
            .all(&txn)
            .await?
            .len();
        if count >= rules_of::MAX_RULES {
            return Err(ServiceError::invalid(
                "label",
                format!(
                    "A workspace keeps at most {} rules. Delete one first.",
                    rules_of::MAX_RULES
                ),
            ));
        }
        insert_rule(&txn, ctx.workspace_id(), &rule, crate::now()).await?;
        relabel(&txn, ctx.workspace_id()).await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comments.rule_added",
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: format!("added the comment label rule \"{}\"", rule.label),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes a keyword rule (owners and admins); the comments kept are labelled again.
    pub async fn delete_comment_rule(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        manager(&txn, ctx).await?;
        let rule = comment_rule::Entity::find_by_id(id)
            .filter(comment_rule::Column::WorkspaceId.eq(ctx.workspace.id))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        comment_rule::Entity::delete_by_id(rule.id)
            .exec(&txn)
            .await?;
        relabel(&txn, ctx.workspace_id()).await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comments.rule_deleted",
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: format!("deleted the comment label rule \"{}\"", rule.label),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The workspace's connected accounts, with what the comments workspace can do with each
    /// and the permissions they must be connected again with.
    pub async fn comment_accounts(&self, ws: WorkspaceId) -> Result<Vec<AccountState>> {
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .filter(social_account::Column::Status.eq(AccountStatus::Connected))
            .order_by_asc(social_account::Column::Id)
            .all(&self.db)
            .await?;
        let mut out = Vec::new();
        for account in accounts {
            let Ok(platform) = Platform::parse(&account.platform) else {
                continue;
            };
            let (abilities, missing) = match self.comments.get(platform) {
                Some(adapter) => {
                    let abilities = adapter.abilities(&account_ref(&account, platform));
                    let granted = match self.tokens_of(domain::SocialAccountId(account.id)).await {
                        Ok(Some(tokens)) => tokens.scopes,
                        _ => Vec::new(),
                    };
                    let missing = if abilities.read {
                        crate::analytics::ingest::missing_scopes(adapter.comment_scopes(), &granted)
                    } else {
                        None
                    };
                    (abilities, missing)
                }
                None => (Abilities::default(), None),
            };
            out.push(AccountState {
                account,
                platform,
                abilities,
                missing,
            });
        }
        Ok(out)
    }

    /// The comments of `ctx`'s workspace that pass `filter`, newest first ([`PAGE`] at most).
    /// The account's own replies are not listed on their own (they show under what they
    /// answer), nor are deleted comments.
    pub async fn comment_lines(
        &self,
        ctx: &Membership,
        me: &user::Model,
        filter: &Filter,
    ) -> Result<Vec<Line>> {
        let mut query = comment::Entity::find()
            .filter(comment::Column::WorkspaceId.eq(ctx.workspace.id))
            .filter(comment::Column::ByAccount.eq(false))
            .filter(comment::Column::GoneAt.is_null());
        query = match filter.show {
            Show::Open => query.filter(comment::Column::Done.eq(false)),
            Show::Done => query.filter(comment::Column::Done.eq(true)),
            Show::All => query,
        };
        if filter.needs_reply {
            query = query
                .filter(comment::Column::RepliedAt.is_null())
                .filter(comment::Column::Hidden.eq(false))
                .filter(comment::Column::Done.eq(false));
        }
        if filter.mine {
            query = query.filter(comment::Column::AssignedTo.eq(me.id));
        }
        if let Some(account) = filter.account {
            query = query.filter(comment::Column::AccountId.eq(account));
        }
        if let Some(platform) = filter.platform {
            let ids: Vec<i64> = social_account::Entity::find()
                .filter(social_account::Column::WorkspaceId.eq(ctx.workspace.id))
                .filter(social_account::Column::Platform.eq(platform.slug()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|a| a.id)
                .collect();
            query = query.filter(comment::Column::AccountId.is_in(ids));
        }
        if let Some(label) = &filter.label {
            // Labels are kept as `a,b,c`: matched whole between the commas (a label's own `%`
            // and `_` taken literally).
            let esc = label
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let like =
                |pattern: String| comment::Column::Labels.like(LikeExpr::new(pattern).escape('\\'));
            query = query.filter(
                Condition::any()
                    .add(comment::Column::Labels.eq(label.as_str()))
                    .add(like(format!("{esc},%")))
                    .add(like(format!("%,{esc}")))
                    .add(like(format!("%,{esc},%"))),
            );
        }
        if let Some(before) = filter.before {
            let cursor = comment::Entity::find_by_id(before)
                .filter(comment::Column::WorkspaceId.eq(ctx.workspace.id))
                .one(&self.db)
                .await?
                .ok_or(ServiceError::NotFound)?;
            query = query.filter(
                Condition::any()
                    .add(comment::Column::WrittenAt.lt(cursor.written_at))
                    .add(
                        Condition::all()
                            .add(comment::Column::WrittenAt.eq(cursor.written_at))
                            .add(comment::Column::Id.lt(cursor.id)),
                    ),
            );
        }
        let rows = query
            .order_by_desc(comment::Column::WrittenAt)
            .order_by_desc(comment::Column::Id)
            .limit(PAGE)
            .all(&self.db)
            .await?;
        self.lines(ctx.workspace_id(), rows).await
    }

    /// The comment `id` of `ctx`'s workspace with its conversation.
    pub async fn comment_conversation(&self, ctx: &Membership, id: i64) -> Result<Conversation> {
        let comment = comment::Entity::find_by_id(id)
            .filter(comment::Column::WorkspaceId.eq(ctx.workspace.id))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let parent = match &comment.parent_platform_id {
            Some(pid) => {
                comment::Entity::find()
                    .filter(comment::Column::AccountId.eq(comment.account_id))
                    .filter(comment::Column::PlatformId.eq(pid.as_str()))
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let replies = comment::Entity::find()
            .filter(comment::Column::AccountId.eq(comment.account_id))
            .filter(comment::Column::ParentPlatformId.eq(comment.platform_id.as_str()))
            .filter(comment::Column::GoneAt.is_null())
            .order_by_asc(comment::Column::WrittenAt)
            .all(&self.db)
            .await?;
        let drafts = comment_reply::Entity::find()
            .filter(comment_reply::Column::CommentId.eq(comment.id))
            .order_by_desc(comment_reply::Column::Id)
            .all(&self.db)
            .await?;
        let names = names_of(&self.db, drafts.iter().filter_map(|d| d.author_id)).await?;
        let drafts = drafts
            .into_iter()
            .map(|d| {
                let name = d.author_id.and_then(|a| names.get(&a).cloned());
                (d, name)
            })
            .collect();
        let answered = reply::sent_count(&self.db, comment.id).await?;
        let account = social_account::Entity::find_by_id(comment.account_id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let platform = Platform::parse(&account.platform).map_err(|_| ServiceError::NotFound)?;
        let abilities = self
            .comments
            .get(platform)
            .map(|a| a.abilities(&account_ref(&account, platform)))
            .unwrap_or_default();
        let mut lines = self.lines(ctx.workspace_id(), vec![comment]).await?;
        let line = lines.pop().ok_or(ServiceError::NotFound)?;
        Ok(Conversation {
            line,
            parent,
            replies,
            drafts,
            abilities,
            answered,
        })
    }

    /// Assigns a comment to a member of the workspace, or to nobody (editors and up).
    pub async fn assign_comment(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        to: Option<i64>,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        let name = match to {
            Some(user_id) => {
                // Read under the lock: a member removed a moment ago is not assigned.
                let member = membership::Entity::find()
                    .filter(membership::Column::WorkspaceId.eq(ctx.workspace.id))
                    .filter(membership::Column::UserId.eq(user_id))
                    .one(&txn)
                    .await?;
                let name = match member {
                    Some(_) => names_of(&txn, [user_id]).await?.remove(&user_id),
                    None => None,
                };
                Some(name.ok_or_else(|| {
                    ServiceError::invalid(
                        "assignee",
                        "Choose a member of this workspace to assign the comment to.",
                    )
                })?)
            }
            None => None,
        };
        comment::Entity::update_many()
            .col_expr(comment::Column::AssignedTo, Expr::value(to))
            .filter(comment::Column::Id.eq(comment.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "comment.assigned",
                object_type: "comment",
                object_id: Some(comment.id),
                summary: match name {
                    Some(name) => format!("assigned a comment to {name}"),
                    None => "left a comment unassigned".to_owned(),
                },
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Marks a comment done (handled) or open again (editors and up).
    pub async fn mark_comment(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        done: bool,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        editor(self, &txn, ctx).await?;
        let comment = own_comment(&txn, ctx, id).await?;
        comment::Entity::update_many()
            .col_expr(comment::Column::Done, Expr::value(done))
            .filter(comment::Column::Id.eq(comment.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if done {
                    "comment.done"
                } else {
                    "comment.reopened"
                },
                object_type: "comment",
                object_id: Some(comment.id),
                summary: if done {
                    "marked a comment done".to_owned()
                } else {
                    "opened a comment again".to_owned()
                },
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The lines of `rows` (in their order), with one query each for their targets, posts,
    /// accounts, assignees and reply counts.
    async fn lines(&self, ws: WorkspaceId, rows: Vec<comment::Model>) -> Result<Vec<Line>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let target_ids: Vec<i64> = rows.iter().map(|c| c.target_id).collect();
        let targets: HashMap<i64, post_target::Model> = post_target::Entity::find()
            .filter(post_target::Column::Id.is_in(target_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let posts: HashMap<i64, post::Model> = post::Entity::find()
            .filter(post::Column::Id.is_in(targets.values().map(|t| t.post_id)))
            .filter(post::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let accounts: HashMap<i64, social_account::Model> = social_account::Entity::find()
            .filter(social_account::Column::Id.is_in(rows.iter().map(|c| c.account_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let names = names_of(&self.db, rows.iter().filter_map(|c| c.assigned_to)).await?;
        let mut replies: HashMap<(i64, String), usize> = HashMap::new();
        let children = comment::Entity::find()
            .filter(comment::Column::WorkspaceId.eq(ws.0))
            .filter(
                comment::Column::ParentPlatformId.is_in(rows.iter().map(|c| c.platform_id.clone())),
            )
            .filter(comment::Column::GoneAt.is_null())
            .all(&self.db)
            .await?;
        for child in children {
            if let Some(parent) = child.parent_platform_id {
                *replies.entry((child.account_id, parent)).or_default() += 1;
            }
        }
        let mut out = Vec::new();
        for comment in rows {
            let (Some(target), Some(account)) = (
                targets.get(&comment.target_id),
                accounts.get(&comment.account_id),
            ) else {
                continue;
            };
            let Ok(platform) = Platform::parse(&account.platform) else {
                continue;
            };
            let info = target_info(target, posts.get(&target.post_id));
            out.push(Line {
                platform,
                account: account.display_name.clone(),
                post_id: info.post_id,
                post_excerpt: info.excerpt,
                permalink: info.permalink,
                assignee: comment.assigned_to.and_then(|a| names.get(&a).cloned()),
                replies: replies
                    .get(&(comment.account_id, comment.platform_id.clone()))
                    .copied()
                    .unwrap_or(0),
                comment,
            });
        }
        Ok(out)
    }
}

fn target_info(target: &post_target::Model, post: Option<&post::Model>) -> TargetInfo {
    let text = target
        .body
        .as_deref()
        .or(post.map(|p| p.body.as_str()))
        .unwrap_or("");
    TargetInfo {
        post_id: target.post_id,
        excerpt: crate::posts::excerpt(text),
        permalink: target.permalink.clone(),
    }
}

/// An account as the adapters name it.
pub(crate) fn account_ref(account: &social_account::Model, platform: Platform) -> AccountRef {
    AccountRef {
        id: account.id,
        platform,
        external_id: account.external_id.clone(),
        username: account.username.clone(),
    }
}

/// Takes the workspace's lock as one of its owners or admins.
async fn manager<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<()> {
    lock_as_manager(conn, ctx)
        .await
        .map(|_| ())
        .map_err(|err| match err {
            ServiceError::Forbidden(_) => ServiceError::Forbidden(
                "Only owners and admins can change the comments workspace's settings.".into(),
            ),
            other => other,
        })
}

/// Takes the workspace's lock as a member who may answer comments (not a viewer), in a
/// workspace with the comments workspace on, on a plan that has it.
pub(crate) async fn editor<C: ConnectionTrait>(
    services: &Services,
    conn: &C,
    ctx: &Membership,
) -> Result<()> {
    answerer(services, conn, ctx).await?;
    on(conn, ctx).await
}

/// Takes the workspace's lock as a member who may answer people (comments, direct messages):
/// not a viewer, on a plan with the comments workspace.
pub(crate) async fn answerer<C: ConnectionTrait>(
    services: &Services,
    conn: &C,
    ctx: &Membership,
) -> Result<()> {
    let me = lock_as_member(conn, ctx).await?;
    if !crate::workspaces::role_of(&me.role)?.can_publish() {
        return Err(ServiceError::Forbidden(
            "Viewers can read comments but not answer or handle them. Ask an owner or admin \
             for the editor role."
                .into(),
        ));
    }
    services
        .entitle(
            conn,
            ctx.workspace_id(),
            Need::Feature(Feature::CommentsWorkspace),
        )
        .await
}

/// Refuses when the comments workspace is off (read under the caller's lock).
async fn on<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<()> {
    let on = workspace::Entity::find_by_id(ctx.workspace.id)
        .one(conn)
        .await?
        .is_some_and(|w| w.comments_on_at.is_some());
    if on {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "The comments workspace is off in this workspace: nothing is answered from here. An \
             owner or admin can turn it on under Comments."
                .into(),
        ))
    }
}

/// The comment `id`, if it belongs to `ctx`'s workspace and is still there.
pub(crate) async fn own_comment<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
    id: i64,
) -> Result<comment::Model> {
    comment::Entity::find_by_id(id)
        .filter(comment::Column::WorkspaceId.eq(ctx.workspace.id))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

async fn insert_rule<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    rule: &Rule,
    now: DateTime<Utc>,
) -> Result<()> {
    comment_rule::ActiveModel {
        workspace_id: Set(ws.0),
        label: Set(rule.label.clone()),
        keywords: Set(rule.keywords.join(", ")),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The workspace's rules, as the labelling reads them.
pub(crate) async fn rules<C: ConnectionTrait>(conn: &C, ws: WorkspaceId) -> Result<Vec<Rule>> {
    Ok(comment_rule::Entity::find()
        .filter(comment_rule::Column::WorkspaceId.eq(ws.0))
        .order_by_asc(comment_rule::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| Rule {
            label: r.label,
            keywords: r
                .keywords
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect(),
        })
        .collect())
}

/// Labels the workspace's comments again after its rules changed (those kept are few: a
/// conversation is purged after its retention period).
async fn relabel<C: ConnectionTrait>(conn: &C, ws: WorkspaceId) -> Result<()> {
    let rules = rules(conn, ws).await?;
    let comments = comment::Entity::find()
        .filter(comment::Column::WorkspaceId.eq(ws.0))
        .filter(comment::Column::ByAccount.eq(false))
        .all(conn)
        .await?;
    for c in comments {
        let labels = rules_of::labels_for(&c.body, &rules).join(",");
        if labels != c.labels {
            comment::Entity::update_many()
                .col_expr(comment::Column::Labels, Expr::value(labels))
                .filter(comment::Column::Id.eq(c.id))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}
