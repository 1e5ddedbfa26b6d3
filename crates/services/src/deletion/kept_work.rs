//! The posts and files a person made in workspaces that someone else keeps: workspaces handed
//! over to their other owners, and those where the person was (or had been) a member.
//!
//! By default an account deletion deletes them too, the way a person's own Delete does: a
//! post's queued publish jobs are withdrawn, then the post goes with its targets, attempts and
//! file links; a file's row goes, then its stored bytes (in the deletion's `objects` step). The
//! workspace's other members are told what went, with the scheduled posts that will no longer
//! go out, and the workspace's activity log keeps its lines without the deleted text. Leaving
//! them with the workspace, no longer linked to the person, is an explicit choice on the
//! deletion page, recorded in the receipt.
//!
//! A post with a platform call under way (a publish attempt still open, or its first comment
//! being posted) is never deleted mid-call, and neither is a file such a post carries: they
//! are left for the deletion's `in_flight` step, which deletes them once the call has ended.

use super::receipt::KeptLine;
use crate::first_comments;
use crate::notices::{self, WorkDeleted};
use crate::posts;
use crate::{Result, activity};
use chrono::{DateTime, Utc};
use domain::{PostId, TargetId, UserId, WorkspaceId};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};
use store::entities::states::PostState;
use store::entities::{
    activity as activity_row, job, media_generation, media_item, membership, post, post_media,
    post_target, publish_attempt, workspace,
};

/// Whether a platform call may be under way while the rows are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Calls {
    /// The worker may be calling a platform: posts in a call, and the files they carry, wait.
    Wait,
    /// No call can be under way (a restore runs before the instance serves).
    NoneUnderWay,
}

/// What [`remove`] deleted, and what it left for later.
#[derive(Debug, Default)]
pub(super) struct Removed {
    /// Rows deleted, by table.
    pub rows: BTreeMap<String, u64>,
    /// Media store keys of the deleted files.
    pub keys: Vec<String>,
    /// What went from each workspace, for its members.
    pub workspaces: BTreeMap<i64, WorkDeleted>,
    /// Posts with a platform call under way, and the files such posts carry: for later.
    pub pending_posts: Vec<i64>,
    pub pending_files: Vec<i64>,
    /// Keys unfinished AI generations may have stored (a reel's voice-over, a video not yet in
    /// the library), to be deleted where they exist: see [`Removed::keep_existing_parts`].
    pub parts: Vec<String>,
}

impl Removed {
    /// Moves the generations' parts that exist in storage to the keys deleted with the files
    /// (and counted in the receipt); the others were never written.
    pub async fn keep_existing_parts(&mut self, objects: &store::objects::Objects) {
        for key in std::mem::take(&mut self.parts) {
            if objects.exists(&key).await {
                self.keys.push(key);
            }
        }
    }

    fn add(&mut self, table: &str, n: u64) {
        if n > 0 {
            *self.rows.entry(table.to_owned()).or_default() += n;
        }
    }
}

/// The person's posts outside the workspaces deleted with the account.
fn their_posts(user_id: i64, deleted: &[i64]) -> Condition {
    Condition::all()
        .add(post::Column::AuthorId.eq(user_id))
        .add(post::Column::WorkspaceId.is_not_in(deleted.iter().copied()))
}

/// The person's files outside the workspaces deleted with the account.
fn their_files(user_id: i64, deleted: &[i64]) -> Condition {
    Condition::all()
        .add(media_item::Column::UploadedBy.eq(user_id))
        .add(media_item::Column::WorkspaceId.is_not_in(deleted.iter().copied()))
}

fn post_ids(posts: Condition) -> SelectStatement {
    Query::select()
        .column(post::Column::Id)
        .from(post::Entity)
        .cond_where(posts)
        .to_owned()
}

/// How long an attempt may stay open and still count as a call under way. A call times out
/// after `publishing::CALL_TIMEOUT`, and a job that stopped mid-call settles its attempt on its
/// next runs, well within this; an attempt older than this has lost its job, and waiting for
/// it would keep a deletion from ever finishing.
const LONGEST_CALL: chrono::Duration = chrono::Duration::hours(24);

/// The targets with a platform call under way: a publish attempt not finished (the worker is
/// calling, or stopped mid-call and its job will ask the platform), or a first comment being
/// posted.
fn calling() -> Condition {
    Condition::any()
        .add(post_target::Column::CommentState.eq(first_comments::CommentState::Posting))
        .add(
            post_target::Column::Id.in_subquery(
                Query::select()
                    .column(publish_attempt::Column::TargetId)
                    .from(publish_attempt::Entity)
                    .and_where(publish_attempt::Column::FinishedAt.is_null())
                    .and_where(publish_attempt::Column::StartedAt.gt(crate::now() - LONGEST_CALL))
                    .to_owned(),
            ),
        )
}

/// The posts among `posts` with a platform call under way.
async fn posts_in_a_call<C: ConnectionTrait>(conn: &C, posts: Condition) -> Result<BTreeSet<i64>> {
    Ok(post_target::Entity::find()
        .select_only()
        .column(post_target::Column::PostId)
        .distinct()
        .filter(post_target::Column::PostId.in_subquery(post_ids(posts)))
        .filter(calling())
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Where a post in `post_state` stands, for the counts.
fn count_post(line: &mut KeptLine, post_state: PostState) {
    match post_state {
        PostState::Draft => line.drafts += 1,
        PostState::Scheduled | PostState::Publishing | PostState::Waiting => line.scheduled += 1,
        PostState::Published => line.published += 1,
        _ => line.other += 1,
    }
}

/// Whether a post in `post_state` still had something to go out (a deletion withdraws it).
fn still_to_go_out(post_state: PostState) -> bool {
    [
        PostState::Scheduled,
        PostState::Publishing,
        PostState::Waiting,
    ]
    .contains(&post_state)
}

/// The workspaces outside `deleted` where `user_id` made posts or files, with what is there
/// (for the deletion page and the receipt).
pub(super) async fn survey<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    deleted: &[i64],
) -> Result<Vec<KeptLine>> {
    let posts: Vec<(i64, i64, PostState)> = post::Entity::find()
        .select_only()
        .columns([
            post::Column::Id,
            post::Column::WorkspaceId,
            post::Column::State,
        ])
        .filter(their_posts(user_id, deleted))
        .into_tuple()
        .all(conn)
        .await?;
    let files: Vec<i64> = media_item::Entity::find()
        .select_only()
        .column(media_item::Column::WorkspaceId)
        .filter(their_files(user_id, deleted))
        .into_tuple()
        .all(conn)
        .await?;
    if posts.is_empty() && files.is_empty() {
        return Ok(Vec::new());
    }
    let in_a_call = posts_in_a_call(conn, their_posts(user_id, deleted)).await?;
    let mut lines: BTreeMap<i64, KeptLine> = BTreeMap::new();
    for (id, ws, post_state) in &posts {
        let entry = lines.entry(*ws).or_insert_with(|| KeptLine {
            id: *ws,
            ..Default::default()
        });
        count_post(entry, *post_state);
        if in_a_call.contains(id) {
            entry.publishing_now += 1;
        }
    }
    for ws in files {
        lines
            .entry(ws)
            .or_insert_with(|| KeptLine {
                id: ws,
                ..Default::default()
            })
            .files += 1;
    }
    for ws in workspace::Entity::find()
        .filter(workspace::Column::Id.is_in(lines.keys().copied()))
        .all(conn)
        .await?
    {
        if let Some(line) = lines.get_mut(&ws.id) {
            line.name = ws.name;
        }
    }
    Ok(lines.into_values().collect())
}

/// At the moment the deletion starts: the publish jobs of the person's posts in workspaces
/// others keep are withdrawn, so that none of them goes out while the deletion runs. A target
/// with a call under way keeps its job (waiting to ask the platform what became of an
/// interrupted call, it is what settles the attempt the deletion then waits for).
pub(super) async fn withdraw_queued<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    deleted: &[i64],
) -> Result<u64> {
    let targets: Vec<i64> = post_target::Entity::find()
        .select_only()
        .column(post_target::Column::Id)
        .filter(post_target::Column::PostId.in_subquery(post_ids(their_posts(user_id, deleted))))
        .filter(calling().not())
        .into_tuple()
        .all(conn)
        .await?;
    let mut withdrawn = 0;
    for chunk in targets.chunks(500) {
        withdrawn += job::Entity::delete_many()
            .filter(
                job::Column::Kind
                    .eq(<crate::publishing::PublishTarget as crate::queue::Payload>::KIND),
            )
            .filter(job::Column::State.eq(crate::queue::JobState::Queued))
            .filter(
                job::Column::Subject.is_in(
                    chunk
                        .iter()
                        .map(|t| crate::publishing::subject(TargetId(*t))),
                ),
            )
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(withdrawn)
}

/// Deletes the person's posts and files outside the workspaces `deleted` with the account,
/// in the caller's transaction.
pub(super) async fn remove_theirs<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    deleted: &[i64],
    calls: Calls,
) -> Result<Removed> {
    let mut removed = remove(
        conn,
        their_posts(user_id, deleted),
        their_files(user_id, deleted),
        calls,
    )
    .await?;
    // Their requests for AI media (the prompts and scripts they wrote) go with their files;
    // one still open ends there (its job finds nothing to do), and what its runs stored goes
    // with the files' bytes. A done one's file is one of their files, removed above.
    let unfinished = media_generation::Entity::find()
        .filter(media_generation::Column::RequestedBy.eq(user_id))
        .filter(media_generation::Column::WorkspaceId.is_not_in(deleted.iter().copied()))
        .filter(media_generation::Column::State.ne("done"))
        .all(conn)
        .await?;
    for g in &unfinished {
        removed
            .parts
            .extend(crate::media::generations::keys_of(g.workspace_id, g.id));
    }
    let generations = media_generation::Entity::delete_many()
        .filter(media_generation::Column::RequestedBy.eq(user_id))
        .filter(media_generation::Column::WorkspaceId.is_not_in(deleted.iter().copied()))
        .exec(conn)
        .await?
        .rows_affected;
    removed.add("media_generations", generations);
    Ok(removed)
}

/// Deletes the posts and files a deletion left for later because a platform call was under
/// way, those whose call has ended; the others stay pending.
pub(super) async fn remove_pending<C: ConnectionTrait>(
    conn: &C,
    posts: &[i64],
    files: &[i64],
) -> Result<Removed> {
    remove(
        conn,
        Condition::all().add(post::Column::Id.is_in(posts.iter().copied())),
        Condition::all().add(media_item::Column::Id.is_in(files.iter().copied())),
        Calls::Wait,
    )
    .await
}

/// Deletes the posts matching `posts` and the files matching `files`, but not those with a
/// platform call under way (when `calls` says one may be).
async fn remove<C: ConnectionTrait>(
    conn: &C,
    posts: Condition,
    files: Condition,
    calls: Calls,
) -> Result<Removed> {
    let mut removed = Removed::default();
    let post_rows = post::Entity::find()
        .filter(posts.clone())
        .order_by_asc(post::Column::Id)
        .all(conn)
        .await?;
    let file_rows = media_item::Entity::find()
        .filter(files.clone())
        .order_by_asc(media_item::Column::Id)
        .all(conn)
        .await?;
    if post_rows.is_empty() && file_rows.is_empty() {
        return Ok(removed);
    }
    // The locks a person's own change takes, in the same order: each workspace's write lock
    // (in id order), then the posts' row locks (the one the worker takes before it starts an
    // attempt), then their targets' (the one a first comment's start waits for).
    let workspaces: BTreeSet<i64> = post_rows
        .iter()
        .map(|p| p.workspace_id)
        .chain(file_rows.iter().map(|f| f.workspace_id))
        .collect();
    for ws in &workspaces {
        workspace::Entity::update_many()
            .col_expr(
                workspace::Column::UpdatedAt,
                Expr::col(workspace::Column::UpdatedAt),
            )
            .filter(workspace::Column::Id.eq(*ws))
            .exec(conn)
            .await?;
    }
    post::Entity::update_many()
        .col_expr(post::Column::UpdatedAt, Expr::col(post::Column::UpdatedAt))
        .filter(posts.clone())
        .exec(conn)
        .await?;
    let targets = post_target::Entity::find()
        .filter(post_target::Column::PostId.in_subquery(post_ids(posts.clone())))
        .lock_exclusive()
        .all(conn)
        .await?;
    // Read again under the locks: a publish may have changed a state since.
    let post_rows = post::Entity::find()
        .filter(posts.clone())
        .order_by_asc(post::Column::Id)
        .all(conn)
        .await?;
    let in_a_call = match calls {
        Calls::Wait => posts_in_a_call(conn, posts.clone()).await?,
        Calls::NoneUnderWay => BTreeSet::new(),
    };
    let attempts: Vec<i64> = publish_attempt::Entity::find()
        .select_only()
        .column(publish_attempt::Column::TargetId)
        .filter(
            publish_attempt::Column::TargetId.in_subquery(
                Query::select()
                    .column(post_target::Column::Id)
                    .from(post_target::Entity)
                    .and_where(post_target::Column::PostId.in_subquery(post_ids(posts.clone())))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let links: Vec<i64> = post_media::Entity::find()
        .select_only()
        .column(post_media::Column::PostId)
        .filter(post_media::Column::PostId.in_subquery(post_ids(posts)))
        .into_tuple()
        .all(conn)
        .await?;
    let mut deleted_posts = Vec::new();
    for post in &post_rows {
        let work = removed.workspaces.entry(post.workspace_id).or_default();
        if in_a_call.contains(&post.id) {
            work.publishing.push(posts::excerpt(&post.body));
            removed.pending_posts.push(post.id);
            continue;
        }
        work.posts += 1;
        if still_to_go_out(post.state) {
            work.withdrawn
                .push((posts::excerpt(&post.body), post.scheduled_at));
        }
        let own_targets: Vec<i64> = targets
            .iter()
            .filter(|t| t.post_id == post.id)
            .map(|t| t.id)
            .collect();
        let own_attempts = attempts.iter().filter(|t| own_targets.contains(t)).count();
        let own_links = links.iter().filter(|p| **p == post.id).count();
        posts::remove_post(conn, PostId(post.id)).await?;
        removed.add("posts", 1);
        removed.add("post_targets", own_targets.len() as u64);
        removed.add("publish_attempts", own_attempts as u64);
        removed.add("post_media", own_links as u64);
        deleted_posts.push(post.id);
    }
    // The files: those a post in a call carries wait; the others go, and the posts that are
    // not all out yet and carried one are named to their workspace.
    let file_ids: Vec<i64> = file_rows.iter().map(|f| f.id).collect();
    let carried: Vec<(i64, i64)> = post_media::Entity::find()
        .select_only()
        .columns([post_media::Column::MediaId, post_media::Column::PostId])
        .filter(post_media::Column::MediaId.is_in(file_ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let carrying: BTreeSet<i64> = carried.iter().map(|(_, p)| *p).collect();
    let carrying_posts = post::Entity::find()
        .filter(post::Column::Id.is_in(carrying.iter().copied()))
        .order_by_asc(post::Column::Id)
        .all(conn)
        .await?;
    let busy = match calls {
        Calls::Wait => {
            posts_in_a_call(
                conn,
                Condition::all().add(post::Column::Id.is_in(carrying.iter().copied())),
            )
            .await?
        }
        Calls::NoneUnderWay => BTreeSet::new(),
    };
    let mut losing: BTreeSet<i64> = BTreeSet::new();
    let mut deleted_files = Vec::new();
    for file in &file_rows {
        let carried_by: Vec<i64> = carried
            .iter()
            .filter(|(m, _)| *m == file.id)
            .map(|(_, p)| *p)
            .collect();
        if carried_by.iter().any(|p| busy.contains(p)) {
            removed.pending_files.push(file.id);
            continue;
        }
        losing.extend(carried_by.iter().copied());
        removed.add("post_media", carried_by.len() as u64);
        media_item::Entity::delete_by_id(file.id).exec(conn).await?;
        removed.add("media_items", 1);
        removed.keys.push(file.object_key.clone());
        removed.keys.extend(file.thumb_key.clone());
        removed
            .workspaces
            .entry(file.workspace_id)
            .or_default()
            .files += 1;
        deleted_files.push(file.id);
    }
    for post in carrying_posts
        .iter()
        .filter(|p| losing.contains(&p.id) && p.state != PostState::Published)
    {
        removed
            .workspaces
            .entry(post.workspace_id)
            .or_default()
            .lost_files
            .push(posts::excerpt(&post.body));
    }
    scrub_activity(conn, "post", &deleted_posts).await?;
    scrub_activity(conn, "media", &deleted_files).await?;
    for ws in workspace::Entity::find()
        .filter(workspace::Column::Id.is_in(removed.workspaces.keys().copied()))
        .all(conn)
        .await?
    {
        if let Some(work) = removed.workspaces.get_mut(&ws.id) {
            work.workspace = ws.name;
        }
    }
    Ok(removed)
}

/// The workspaces' activity lines about the deleted posts and files keep what happened and
/// when, without the deleted text: the quoted excerpt or file name is replaced.
async fn scrub_activity<C: ConnectionTrait>(
    conn: &C,
    object_type: &str,
    ids: &[i64],
) -> Result<()> {
    let note = if object_type == "post" {
        "[a post deleted with its author's account]"
    } else {
        "[a file deleted with its uploader's account]"
    };
    for chunk in ids.chunks(500) {
        let rows = activity_row::Entity::find()
            .filter(activity_row::Column::ObjectType.eq(object_type))
            .filter(activity_row::Column::ObjectId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        for row in rows {
            let Some(summary) = without_quote(&row.summary, note) else {
                continue;
            };
            activity_row::Entity::update_many()
                .col_expr(activity_row::Column::Summary, Expr::value(summary))
                .filter(activity_row::Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

/// `summary` with its quoted part (from the first “ to the last ”) replaced by `note`; `None`
/// when it quotes nothing.
fn without_quote(summary: &str, note: &str) -> Option<String> {
    let start = summary.find('“')?;
    let end = summary.rfind('”')?;
    (end > start).then(|| {
        format!(
            "{}{note}{}",
            &summary[..start],
            &summary[end + '”'.len_utf8()..]
        )
    })
}

/// Tells each other member of the workspaces what went from them (a notice on their next
/// page), and writes it in each workspace's activity log.
pub(super) async fn tell<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    removed: &Removed,
    at: DateTime<Utc>,
) -> Result<()> {
    for (ws, work) in &removed.workspaces {
        let mut what = Vec::new();
        if work.posts > 0 {
            what.push(domain::counted(work.posts, "post", "posts"));
        }
        if work.files > 0 {
            what.push(domain::counted(work.files, "file", "files"));
        }
        let mut summary = format!(
            "someone who worked here deleted their account; {} they made here {} deleted with it",
            if what.is_empty() {
                "nothing".to_owned()
            } else {
                format!("the {}", what.join(" and "))
            },
            if work.posts + work.files == 1 {
                "was"
            } else {
                "were"
            }
        );
        if !work.withdrawn.is_empty() {
            summary.push_str(&format!(
                " ({} withdrawn before going out)",
                domain::counted(work.withdrawn.len(), "scheduled post", "scheduled posts")
            ));
        }
        if !work.publishing.is_empty() {
            summary.push_str(&format!(
                "; {} being published goes once that ends",
                domain::counted(work.publishing.len(), "post", "posts")
            ));
        }
        activity::record(
            conn,
            WorkspaceId(*ws),
            None,
            activity::Entry {
                action: "member.work_deleted",
                object_type: "workspace",
                object_id: Some(*ws),
                summary,
            },
        )
        .await?;
        let members: Vec<i64> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .filter(membership::Column::WorkspaceId.eq(*ws))
            .filter(membership::Column::UserId.ne(user_id))
            .into_tuple()
            .all(conn)
            .await?;
        for member in members {
            notices::work_deleted(conn, UserId(member), work, at).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_what_is_there() {
        let line = KeptLine {
            drafts: 1,
            scheduled: 2,
            files: 1,
            ..Default::default()
        };
        assert_eq!(line.describe(), "3 posts (1 draft, 2 scheduled) and 1 file");
        let files_only = KeptLine {
            files: 2,
            ..Default::default()
        };
        assert_eq!(files_only.describe(), "2 files");
    }

    #[test]
    fn the_quoted_text_is_replaced() {
        assert_eq!(
            without_quote("wrote a draft post: “Hello there”", "[gone]").as_deref(),
            Some("wrote a draft post: [gone]")
        );
        assert_eq!(
            without_quote("uploaded “a.png” (2 KB)", "[gone]").as_deref(),
            Some("uploaded [gone] (2 KB)")
        );
        assert_eq!(without_quote("published to X @acme", "[gone]"), None);
    }
}
