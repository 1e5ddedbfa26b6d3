//! The publish job's two writes, grouped across the jobs that ask for them at the same moment:
//! the attempts that start (step 1) and the answers that come back published (step 3).
//!
//! One worker runs many publish jobs at once, and in a burst they all reach the same two
//! steps together. Written one job at a time, each step is a transaction of a dozen statements,
//! and the database's time goes into them, not into the platforms' calls. Here the jobs that
//! ask while a group is being written wait for it to finish and then go as the next group, in
//! one transaction of a few statements however many they are (group commit: no timer, a group
//! is whoever asked meanwhile; one job alone goes alone, at once).
//!
//! The rules are those of the single-job steps, unchanged: the posts' row locks are taken
//! first (in the order of their ids, so that two groups sharing posts cannot wait on each other
//! in a circle), the attempt is written before the call and the answer after it, an attempt
//! another run has already closed is left as that run wrote it, and the job's row is finished
//! in the transaction that writes its target's outcome. Only the common case is grouped: a
//! connected account, a platform with no posting window of its own, no attempt left open; and,
//! after the call, a published answer. Every other case, and every job of a group whose write
//! failed (its transaction rolled back as a whole), takes the single-job step, which writes
//! nothing twice: it finds what a committed group wrote.

use super::{AttemptOutcome, close_open_attempts, locked_posts, new_attempt, write_post_states};
use crate::{Result, ServiceError, Services, activity, queue, sql};
use domain::{Platform, PostId, TargetId, WorkspaceId};
use providers::social::{Published, Publisher};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use store::entities::states::{AccountStatus, PostState};
use store::entities::{
    account_token, campaign, job, media_item, post, post_media, post_target, publish_attempt,
    social_account, workspace,
};
use tokio::sync::oneshot;

/// Work many tasks ask for at the same moment, done for all of them at once: whoever asks
/// while a group runs waits for it and goes in the next (group commit). No timer gathers a
/// group; the number of tasks that can ask at once (a worker's concurrency) bounds its size.
pub(crate) struct Group<A, R> {
    waiting: std::sync::Mutex<Vec<(A, oneshot::Sender<R>)>>,
    /// Held by the group being written, until its write ends (even when the task that started
    /// it is stopped meanwhile): one group of a kind at a time in a process.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Whether an ask whose task stopped before its group was taken is left out (a write that
    /// would only start something for a job no longer there) or written anyway (a write of
    /// what is already true, such as a post the platform published).
    skip_stopped: bool,
    /// Groups run and asks answered, for the benchmark and the tests.
    runs: std::sync::atomic::AtomicU64,
    served: std::sync::atomic::AtomicU64,
}

impl<A, R> Group<A, R> {
    fn new(skip_stopped: bool) -> Self {
        Self {
            waiting: std::sync::Mutex::new(Vec::new()),
            turn: Arc::default(),
            skip_stopped,
            runs: Default::default(),
            served: Default::default(),
        }
    }
}

/// Where a group's answers go, one for each of its asks, in order.
pub(crate) type Replies<R> = Vec<oneshot::Sender<R>>;

impl<A: Send + 'static, R: Send + 'static> Group<A, R> {
    /// Asks for `ask` to be done in a group run by `run`, which sends each ask of its group its
    /// answer. `None` when no answer came (the group's run ended without one).
    ///
    /// The run is a task of its own, which holds the turn until it ends: a job stopped while it
    /// waits (its worker's fence, a shutdown) stops neither the others' group half-way nor the
    /// rule of one group at a time.
    pub(crate) async fn ask<F, Fut>(&self, ask: A, run: F) -> Option<R>
    where
        F: FnOnce(Vec<A>, Replies<R>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.waiting().push((ask, reply));
        let turn = Arc::clone(&self.turn).lock_owned().await;
        let mut taken = std::mem::take(&mut *self.waiting());
        if self.skip_stopped {
            taken.retain(|(_, reply)| !reply.is_closed());
        }
        // Empty when the group before took this ask along: its answer is there.
        if !taken.is_empty() {
            use std::sync::atomic::Ordering::Relaxed;
            self.runs.fetch_add(1, Relaxed);
            self.served.fetch_add(taken.len() as u64, Relaxed);
            let (asks, replies): (Vec<A>, Vec<_>) = taken.into_iter().unzip();
            let work = run(asks, replies);
            let group = tokio::spawn(async move {
                work.await;
                drop(turn);
            });
            let _ = group.await;
        }
        answer.await.ok()
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<(A, oneshot::Sender<R>)>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Groups run and asks answered in them so far.
    pub fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.runs.load(Relaxed), self.served.load(Relaxed))
    }

    /// How many asks wait for the next group.
    fn waiting_now(&self) -> usize {
        self.waiting().len()
    }
}

/// This process's groups of publishing writes.
pub struct Batches {
    /// A job stopped before its group is taken gets no attempt.
    pub(crate) begins: Group<BeginAsk, Began>,
    /// A published answer is written even for a job stopped meanwhile: it is true.
    pub(crate) closes: Group<CloseAsk, Closed>,
}

impl Default for Batches {
    fn default() -> Self {
        Self {
            begins: Group::new(true),
            closes: Group::new(false),
        }
    }
}

impl Batches {
    /// Groups written and jobs served so far: (begins, jobs begun, closes, jobs closed).
    pub fn counts(&self) -> (u64, u64, u64, u64) {
        let (b, bs) = self.begins.counts();
        let (c, cs) = self.closes.counts();
        (b, bs, c, cs)
    }

    /// How many jobs wait to begin, and to close, in the next groups.
    pub fn waiting(&self) -> (usize, usize) {
        (self.begins.waiting_now(), self.closes.waiting_now())
    }

    /// Keeps the next group of begins from running until the answer is dropped, so that a test
    /// can line one up.
    #[doc(hidden)]
    pub async fn hold_begins(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.begins.turn.lock().await
    }

    /// Keeps the next group of answers from being written until the answer is dropped.
    #[doc(hidden)]
    pub async fn hold_closes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.closes.turn.lock().await
    }
}

/// A job that asks to start its target's attempt (step 1).
pub(crate) struct BeginAsk {
    pub target: i64,
    /// The post's revision the job was queued for.
    pub revision: i32,
}

/// What step 1 did for one job.
pub(crate) enum Began {
    /// The attempt is written and open: call the platform, with what was read for the call
    /// before the attempt was written.
    Call(Box<(Opened, Gathered)>),
    /// The job no longer applies (the post changed or is gone, the target is done).
    Skip,
    /// Not a case for a group (or the group's write failed): take the single-job step.
    Alone,
}

/// An attempt written and open, with what its call needs.
pub(crate) struct Opened {
    pub post: post::Model,
    pub target: post_target::Model,
    pub account: social_account::Model,
    pub attempt: publish_attempt::Model,
    pub publisher: Arc<dyn Publisher>,
}

/// What a target's call carries besides the post's text, read in the group's transaction
/// before its attempt was written (so that an attempt is only open while a call is made).
pub(crate) struct Gathered {
    /// The files the account publishes, in order: its own when chosen, else the post's.
    pub media: Vec<media_item::Model>,
    /// The account's access token, opened.
    pub access_token: Option<secrecy::SecretString>,
    /// The campaign's UTM tag for the post's links, when its campaign asks for one.
    pub utm: Option<String>,
}

/// A job whose platform call answered "published" (step 3).
pub(crate) struct CloseAsk {
    pub job: job::Model,
    pub post: i64,
    pub target: post_target::Model,
    pub account: social_account::Model,
    pub attempt: i64,
    pub published: Published,
}

/// What step 3 did for one job.
pub(crate) enum Closed {
    /// Written: the target is published. `job_done` when the job's row was finished with it.
    Written { job_done: bool },
    /// Nothing to write: the post is gone, or another run closed the attempt first.
    Nothing,
    /// The group's write failed: take the single-job step.
    Alone,
}

impl Services {
    /// Step 1 for `ask`, in a group with the jobs asking at the same moment.
    pub(crate) async fn begin_in_group(&self, ask: BeginAsk) -> Began {
        let write = |services: Services, asks: Vec<BeginAsk>| async move {
            begin_group(&services, &asks).await
        };
        let group = &self.publish_batches.begins;
        group
            .write(self, ask, write, || Began::Alone, not_called)
            .await
    }

    /// Step 3 for a published answer, in a group with the answers coming back at the same moment.
    pub(crate) async fn close_in_group(&self, ask: CloseAsk) -> Closed {
        let write = |services: Services, asks: Vec<CloseAsk>| async move {
            close_group(&services, &asks).await
        };
        let group = &self.publish_batches.closes;
        let kept = |_: Services, _: Vec<Closed>| async {};
        group.write(self, ask, write, || Closed::Alone, kept).await
    }
}

impl<A: Send + 'static, R: Send + 'static> Group<A, R> {
    /// Asks for `ask` to be written by `write` in a group; when the group's write fails (its
    /// transaction rolled back as a whole) or answers nothing, each of its asks is answered
    /// `alone()`, to take the single-job step. The answers of jobs stopped after their group
    /// was taken (none is there to receive them) go to `unsent`.
    async fn write<W, Fut, U, UFut>(
        &self,
        services: &Services,
        ask: A,
        write: W,
        alone: fn() -> R,
        unsent: U,
    ) -> R
    where
        W: FnOnce(Services, Vec<A>) -> Fut,
        Fut: Future<Output = Result<Vec<R>>> + Send + 'static,
        U: FnOnce(Services, Vec<R>) -> UFut + Send + 'static,
        UFut: Future<Output = ()> + Send,
    {
        let services = services.clone();
        let run = move |asks: Vec<A>, replies: Replies<R>| {
            let n = asks.len();
            let written = write(services.clone(), asks);
            async move {
                let answers = match written.await {
                    Ok(answers) => answers,
                    Err(err) => {
                        tracing::warn!(jobs = n, error = ?err, "a group of publishing writes failed; each job writes alone");
                        (0..n).map(|_| alone()).collect()
                    }
                };
                let mut left = Vec::new();
                for (reply, answer) in replies.into_iter().zip(answers) {
                    if let Err(answer) = reply.send(answer) {
                        left.push(answer);
                    }
                }
                if !left.is_empty() {
                    unsent(services, left).await;
                }
            }
        };
        self.ask(ask, run).await.unwrap_or_else(alone)
    }
}

/// The attempts of jobs stopped after their group opened them (their worker's fence, a
/// shutdown): no call was made and none will be, so they are closed as such (under their posts'
/// locks, unless another run closed them first), and the job's next run starts afresh instead of
/// asking the platform about a call that never was. When this cannot be written (the database
/// out of reach), the attempts stay open and are looked up, as after a crash.
async fn not_called(services: Services, unsent: Vec<Began>) {
    let opened: Vec<(i64, i64)> = unsent
        .iter()
        .filter_map(|b| match b {
            Began::Call(call) => Some((call.0.target.post_id, call.0.attempt.id)),
            _ => None,
        })
        .collect();
    if opened.is_empty() {
        return;
    }
    let closed = async {
        let txn = store::begin_write(&services.db).await?;
        locked_posts(&txn, opened.iter().map(|(post, _)| *post)).await?;
        let opened_ids = opened.iter().map(|(_, attempt)| *attempt);
        close_open_attempts(
            &txn,
            sea_orm::Condition::all().add(publish_attempt::Column::Id.is_in(opened_ids)),
            AttemptOutcome::Retry,
            Some("the job stopped before its call was made; nothing was sent"),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, ServiceError>(())
    };
    if let Err(err) = closed.await {
        tracing::warn!(attempts = opened.len(), error = ?err, "could not close the attempts of stopped jobs; they will be looked up");
    }
}

/// Step 1 for a group: locks the posts, reads their targets, the accounts and the attempts
/// left open, and for each job either skips it, leaves it to the single-job step, or reads
/// what its call needs (files, token, campaign tag) and opens its attempt, in one transaction.
async fn begin_group(services: &Services, asks: &[BeginAsk]) -> Result<Vec<Began>> {
    let txn = store::begin_write(&services.db).await?;
    // The asked targets' posts (a target never moves to another post).
    let post_ids: Vec<i64> = post_target::Entity::find()
        .select_only()
        .column(post_target::Column::PostId)
        .filter(post_target::Column::Id.is_in(asks.iter().map(|a| a.target)))
        .into_tuple()
        .all(&txn)
        .await?;
    let posts = locked_posts(&txn, post_ids).await?;
    let mut targets = post_target::Entity::find()
        .filter(post_target::Column::PostId.is_in(posts.keys().copied()))
        .all(&txn)
        .await?;
    let accounts = accounts_of(&txn, &targets).await?;
    let asked: Vec<i64> = asks.iter().map(|a| a.target).collect();
    let open: HashSet<i64> = publish_attempt::Entity::find()
        .select_only()
        .column(publish_attempt::Column::TargetId)
        .filter(publish_attempt::Column::TargetId.is_in(asked))
        .filter(publish_attempt::Column::FinishedAt.is_null())
        .into_tuple::<i64>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();

    let mut seen = HashSet::new();
    let mut decisions: Vec<Decision> = asks
        .iter()
        .map(|ask| {
            let target = targets.iter().find(|t| t.id == ask.target);
            let Some((target, post)) = target.and_then(|t| Some((t, posts.get(&t.post_id)?)))
            else {
                return Decision::Skip;
            };
            if post.revision != ask.revision
                || ![PostState::Scheduled, PostState::Publishing].contains(&target.state)
            {
                return Decision::Skip;
            }
            // The same target twice in one group: the second must find the first's attempt.
            if !seen.insert(target.id) || open.contains(&target.id) {
                return Decision::Alone;
            }
            let Some(account) = accounts.get(&target.account_id) else {
                return Decision::Alone;
            };
            let Ok(platform) = Platform::parse(&account.platform) else {
                return Decision::Alone;
            };
            // A platform's own posting window counts under the account's lock, one at a time.
            if account.status != AccountStatus::Connected || platform.publish_window().is_some() {
                return Decision::Alone;
            }
            match services.publishers.get(platform) {
                Some(publisher) => Decision::Go(publisher),
                None => Decision::Alone,
            }
        })
        .collect();

    let mut gathered = gather(services, &txn, asks, &mut decisions, &targets, &posts).await?;
    let going: HashMap<i64, i32> = asks
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| matches!(d, Decision::Go(_)))
        .filter_map(|(ask, _)| {
            let target = targets.iter().find(|t| t.id == ask.target)?;
            Some((target.id, target.attempts + 1))
        })
        .collect();
    if going.is_empty() {
        // Nothing written: the locks go with the transaction.
        drop(txn);
        return Ok(decisions
            .into_iter()
            .map(|d| match d {
                Decision::Skip => Began::Skip,
                _ => Began::Alone,
            })
            .collect());
    }
    let now = crate::now();
    let mut attempts: HashMap<i64, publish_attempt::Model> = publish_attempt::Entity::insert_many(
        going
            .iter()
            .map(|(&target, &number)| new_attempt(target, number, now)),
    )
    .exec_with_returning(&txn)
    .await?
    .into_iter()
    .map(|a| (a.target_id, a))
    .collect();
    post_target::Entity::update_many()
        .col_expr(
            post_target::Column::State,
            Expr::value(PostState::Publishing),
        )
        .col_expr(
            post_target::Column::Attempts,
            Expr::col(post_target::Column::Attempts).add(1),
        )
        .col_expr(post_target::Column::UpdatedAt, Expr::value(now))
        .filter(post_target::Column::Id.is_in(going.keys().copied()))
        .exec(&txn)
        .await?;
    for target in targets.iter_mut().filter(|t| going.contains_key(&t.id)) {
        target.state = PostState::Publishing;
        target.attempts += 1;
        target.updated_at = now;
    }
    let touched: HashSet<i64> = targets
        .iter()
        .filter(|t| going.contains_key(&t.id))
        .map(|t| t.post_id)
        .collect();
    let written: HashMap<i64, post::Model> =
        write_touched(&txn, &posts, &touched, &targets, &accounts, now)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    txn.commit().await?;
    Ok(asks
        .iter()
        .zip(decisions)
        .map(|(ask, decision)| match decision {
            Decision::Skip => Began::Skip,
            Decision::Alone => Began::Alone,
            Decision::Go(publisher) => {
                let target = targets.iter().find(|t| t.id == ask.target).cloned();
                let attempt = attempts.remove(&ask.target);
                let gathered = gathered.remove(&ask.target);
                let (Some(target), Some(attempt), Some(gathered)) = (target, attempt, gathered)
                else {
                    // Not reached: every target that went has its attempt and its parts.
                    return Began::Alone;
                };
                match (
                    written.get(&target.post_id),
                    accounts.get(&target.account_id),
                ) {
                    (Some(post), Some(account)) => {
                        let opened = Opened {
                            post: post.clone(),
                            account: account.clone(),
                            target,
                            attempt,
                            publisher,
                        };
                        Began::Call(Box::new((opened, gathered)))
                    }
                    _ => Began::Alone,
                }
            }
        })
        .collect())
}

/// What a group's step 1 does for one job.
enum Decision {
    Skip,
    Alone,
    Go(Arc<dyn Publisher>),
}

/// Reads what the calls of the jobs that go need, by target: each account's files of its post
/// (its own when chosen, else the post's), its token opened, and the campaign's tag. A job whose
/// token cannot be opened is left to the single-job step, which says why.
async fn gather<C: ConnectionTrait>(
    services: &Services,
    conn: &C,
    asks: &[BeginAsk],
    decisions: &mut [Decision],
    targets: &[post_target::Model],
    posts: &HashMap<i64, post::Model>,
) -> Result<HashMap<i64, Gathered>> {
    let going: Vec<&post_target::Model> = asks
        .iter()
        .zip(decisions.iter())
        .filter(|(_, d)| matches!(d, Decision::Go(_)))
        .filter_map(|(ask, _)| targets.iter().find(|t| t.id == ask.target))
        .collect();
    if going.is_empty() {
        return Ok(HashMap::new());
    }
    let files: Vec<(post_media::Model, Option<media_item::Model>)> = post_media::Entity::find()
        .filter(post_media::Column::PostId.is_in(going.iter().map(|t| t.post_id)))
        .order_by_asc(post_media::Column::Position)
        .find_also_related(media_item::Entity)
        .all(conn)
        .await?;
    let tokens: HashMap<i64, account_token::Model> = account_token::Entity::find()
        .filter(account_token::Column::AccountId.is_in(going.iter().map(|t| t.account_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.account_id, t))
        .collect();
    let campaigns: HashSet<i64> = going
        .iter()
        .filter_map(|t| posts.get(&t.post_id)?.campaign_id)
        .collect();
    let utms: HashMap<i64, Option<String>> = if campaigns.is_empty() {
        HashMap::new()
    } else {
        campaign::Entity::find()
            .filter(campaign::Column::Id.is_in(campaigns))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c.utm_campaign))
            .collect()
    };
    let mut opened: HashMap<i64, Option<secrecy::SecretString>> = HashMap::new();
    let mut gathered = HashMap::new();
    for (ask, decision) in asks.iter().zip(decisions.iter_mut()) {
        if !matches!(decision, Decision::Go(_)) {
            continue;
        }
        let Some(target) = going.iter().find(|t| t.id == ask.target) else {
            continue;
        };
        let access_token = match opened.get(&target.account_id) {
            Some(token) => token.clone(),
            None => {
                let token = match tokens.get(&target.account_id) {
                    Some(row) => match services.open_tokens(row) {
                        Ok(set) => Some(set.access),
                        Err(_) => {
                            *decision = Decision::Alone;
                            continue;
                        }
                    },
                    None => None,
                };
                opened.insert(target.account_id, token.clone());
                token
            }
        };
        let media = crate::posts::files_for_account(&files, target.post_id, target.account_id);
        let utm = posts
            .get(&target.post_id)
            .and_then(|p| p.campaign_id)
            .and_then(|c| utms.get(&c).cloned().flatten());
        gathered.insert(
            target.id,
            Gathered {
                media,
                access_token,
                utm,
            },
        );
    }
    Ok(gathered)
}

/// Writes the state of each post of `posts` that `touched` names, from its targets among
/// `targets` (see [`write_post_states`]).
async fn write_touched<C: ConnectionTrait>(
    conn: &C,
    posts: &HashMap<i64, post::Model>,
    touched: &HashSet<i64>,
    targets: &[post_target::Model],
    accounts: &HashMap<i64, social_account::Model>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<post::Model>> {
    let posts = posts
        .values()
        .filter(|p| touched.contains(&p.id))
        .cloned()
        .collect();
    write_post_states(conn, posts, targets, accounts, now).await
}

/// The accounts of `targets`, by id.
async fn accounts_of<C: ConnectionTrait>(
    conn: &C,
    targets: &[post_target::Model],
) -> Result<HashMap<i64, social_account::Model>> {
    let ids: HashSet<i64> = targets.iter().map(|t| t.account_id).collect();
    Ok(social_account::Entity::find()
        .filter(social_account::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// Step 3 for a group of published answers: closes the attempts no other run closed, marks
/// their targets published, plans what follows a publication (first comments, the accounts'
/// next reads), writes the posts' states and the activity log, and finishes the jobs, in one
/// transaction.
async fn close_group(services: &Services, asks: &[CloseAsk]) -> Result<Vec<Closed>> {
    let now = crate::now();
    let txn = store::begin_write(&services.db).await?;
    let posts = locked_posts(&txn, asks.iter().map(|a| a.post)).await?;
    // Deleted meanwhile (only possible for a post not publishing): nothing to record.
    let present: Vec<&CloseAsk> = asks
        .iter()
        .filter(|a| posts.contains_key(&a.post))
        .collect();
    let closed: HashSet<i64> = if present.is_empty() {
        HashSet::new()
    } else {
        close_attempts(&txn, &present, now).await?
    };
    let closing: Vec<&CloseAsk> = present
        .into_iter()
        .filter(|a| closed.contains(&a.attempt))
        .collect();
    for ask in asks
        .iter()
        .filter(|a| posts.contains_key(&a.post) && !closed.contains(&a.attempt))
    {
        // Another run closed it first (this one lost its lease meanwhile): what that run wrote
        // stands, and the target is not touched again.
        tracing::warn!(
            attempt = ask.attempt,
            "the attempt was already closed by another run"
        );
    }
    let mut done: HashSet<i64> = HashSet::new();
    if !closing.is_empty() {
        mark_published(&txn, &closing, now).await?;
        for ask in &closing {
            if let Some(post) = posts.get(&ask.post) {
                let plan = crate::first_comments::plan(
                    services,
                    &txn,
                    post,
                    TargetId(ask.target.id),
                    &ask.account.platform,
                    crate::posts::format_of(&ask.target.options),
                );
                // The comment's job carries the request the post's came from, as when the
                // post's own job writes its answer.
                match ask.job.request_id.clone() {
                    Some(id) => crate::trace::with_request_id(id, plan).await?,
                    None => plan.await?,
                }
            }
        }
        // A new post brings each account's next reads forward, where its workspace reads.
        // Each account once, in the order of their ids (the reads planned take the rows of
        // the queued reads: two groups take them in the same order).
        let accounts: std::collections::BTreeMap<i64, (&social_account::Model, i64)> = closing
            .iter()
            .filter_map(|a| Some((a.account.id, (&a.account, posts.get(&a.post)?.workspace_id))))
            .collect();
        let workspaces: HashMap<i64, workspace::Model> = workspace::Entity::find()
            .filter(workspace::Column::Id.is_in(accounts.values().map(|(_, ws)| *ws)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        for (account, ws) in accounts.values() {
            let workspace = workspaces.get(ws).ok_or(ServiceError::NotFound)?;
            crate::analytics::ingest::on_published(&txn, account, workspace, now).await?;
            crate::comments::ingest::on_published(&txn, account, workspace, now).await?;
        }
        let touched: HashSet<i64> = closing.iter().map(|a| a.post).collect();
        let targets = post_target::Entity::find()
            .filter(post_target::Column::PostId.is_in(touched.iter().copied()))
            .all(&txn)
            .await?;
        let accounts = accounts_of(&txn, &targets).await?;
        write_touched(&txn, &posts, &touched, &targets, &accounts, now).await?;
        let entries = closing.iter().filter_map(|ask| {
            let post = posts.get(&ask.post)?;
            Some((
                WorkspaceId(post.workspace_id),
                PostId(post.id),
                format!(
                    "published to {} @{}",
                    Platform::label_of(&ask.account.platform),
                    ask.account.username
                ),
            ))
        });
        log_published(&txn, entries.collect()).await?;
        let jobs: Vec<&job::Model> = closing.iter().map(|a| &a.job).collect();
        done = queue::complete_many_within(&txn, &jobs).await?;
    }
    txn.commit().await?;
    Ok(asks
        .iter()
        .map(|ask| {
            if closing.iter().any(|c| c.attempt == ask.attempt) {
                Closed::Written {
                    job_done: done.contains(&ask.job.id),
                }
            } else {
                Closed::Nothing
            }
        })
        .collect())
}

/// Closes the attempts of `asks` as published, with the post each made, unless another run
/// closed them first; answers the ids of those closed here.
async fn close_attempts<C: ConnectionTrait>(
    conn: &C,
    asks: &[&CloseAsk],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HashSet<i64>> {
    let mut b = sql::Binder::new(conn.get_database_backend());
    let finished = b.bind(now);
    let outcome = b.bind(AttemptOutcome::Published.as_str());
    let rows = asks
        .iter()
        .map(|a| {
            format!(
                "({}, {})",
                b.bind(a.attempt),
                b.bind(a.published.platform_post_id.clone())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let statement = b.statement(format!(
        "UPDATE publish_attempts SET finished_at = {finished}, outcome = {outcome}, error = NULL, \
         platform_post_id = v.column2 FROM (VALUES {rows}) AS v \
         WHERE publish_attempts.id = v.column1 AND publish_attempts.finished_at IS NULL \
         RETURNING id"
    ));
    let mut closed = HashSet::new();
    for row in conn.query_all_raw(statement).await? {
        closed.insert(row.try_get::<i64>("", "id")?);
    }
    Ok(closed)
}

/// Marks the targets of `asks` published, each with its post at the platform.
async fn mark_published<C: ConnectionTrait>(
    conn: &C,
    asks: &[&CloseAsk],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let mut b = sql::Binder::new(conn.get_database_backend());
    let state = b.bind(PostState::Published.as_str());
    let at = b.bind(now);
    let rows = asks
        .iter()
        .map(|a| {
            format!(
                "({}, {}, {})",
                b.bind(a.target.id),
                b.bind(a.published.platform_post_id.clone()),
                b.bind(a.published.permalink.clone())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let statement = b.statement(format!(
        "UPDATE post_targets SET state = {state}, platform_post_id = v.column2, \
         permalink = v.column3, last_error = NULL, published_at = {at}, updated_at = {at} \
         FROM (VALUES {rows}) AS v WHERE post_targets.id = v.column1"
    ));
    conn.execute_raw(statement).await?;
    Ok(())
}

/// Writes "published to …" in each post's workspace activity log, in one statement.
async fn log_published<C: ConnectionTrait>(
    conn: &C,
    entries: Vec<(WorkspaceId, PostId, String)>,
) -> Result<()> {
    activity::record_many(
        conn,
        entries
            .into_iter()
            .map(|(ws, post, summary)| {
                (
                    ws,
                    activity::Entry {
                        action: "post.published",
                        object_type: "post",
                        object_id: Some(post.0),
                        summary,
                    },
                )
            })
            .collect(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = Arc<std::sync::Mutex<Vec<Vec<u32>>>>;

    /// A run that records each group's asks and answers each ask ten times itself.
    fn tenfold(seen: Seen) -> impl FnOnce(Vec<u32>, Replies<u32>) -> std::future::Ready<()> {
        move |asks, replies| {
            seen.lock().unwrap().push(asks.clone());
            for (ask, reply) in asks.into_iter().zip(replies) {
                let _ = reply.send(ask * 10);
            }
            std::future::ready(())
        }
    }

    /// Asks made while a group runs wait for it and go together in the next, each answered
    /// with its own result, in one run however many they are.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn asks_made_while_a_group_runs_go_together_in_the_next() {
        let group: Arc<Group<u32, u32>> = Arc::new(Group::new(true));
        let seen: Seen = Arc::default();
        // The first group is held from running until eight asks wait behind it.
        let held = group.turn.lock().await;
        let mut tasks = Vec::new();
        for n in 1..=8 {
            let (group, seen) = (Arc::clone(&group), Arc::clone(&seen));
            tasks.push(tokio::spawn(
                async move { group.ask(n, tenfold(seen)).await },
            ));
        }
        while group.waiting_now() < 8 {
            tokio::task::yield_now().await;
        }
        drop(held);
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        assert_eq!(answers, (1..=8).map(|n| Some(n * 10)).collect::<Vec<_>>());
        let sizes: Vec<usize> = seen.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![8], "one group of eight");
        assert_eq!(group.counts(), (1, 8));
        // Alone, an ask goes at once in a group of its own.
        assert_eq!(group.ask(9, tenfold(Arc::clone(&seen))).await, Some(90));
        assert_eq!(seen.lock().unwrap().last(), Some(&vec![9]));
    }

    /// An ask whose job was stopped while it waited is left out of a group that skips them,
    /// and kept in one that writes them anyway.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ask_stopped_while_it_waits_is_left_out_where_the_group_says_so() {
        for skip in [true, false] {
            let group: Arc<Group<u32, u32>> = Arc::new(Group::new(skip));
            let seen: Seen = Arc::default();
            let held = group.turn.lock().await;
            let stopped = {
                let (group, seen) = (Arc::clone(&group), Arc::clone(&seen));
                tokio::spawn(async move { group.ask(1, tenfold(seen)).await })
            };
            while group.waiting_now() < 1 {
                tokio::task::yield_now().await;
            }
            let kept = {
                let (group, seen) = (Arc::clone(&group), Arc::clone(&seen));
                tokio::spawn(async move { group.ask(2, tenfold(seen)).await })
            };
            while group.waiting_now() < 2 {
                tokio::task::yield_now().await;
            }
            stopped.abort();
            assert!(stopped.await.unwrap_err().is_cancelled());
            drop(held);
            assert_eq!(kept.await.unwrap(), Some(20));
            let expected = if skip {
                vec![vec![2]]
            } else {
                vec![vec![1, 2]]
            };
            assert_eq!(*seen.lock().unwrap(), expected, "skip {skip}");
        }
    }

    /// The group's run keeps the turn until it ends, even when the task that started it is
    /// stopped: a second group of the same kind waits for the first to finish.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_keeps_its_turn_when_its_leader_is_stopped() {
        let group: Arc<Group<u32, u32>> = Arc::new(Group::new(true));
        let (release, released) = oneshot::channel::<()>();
        let (started, has_started) = oneshot::channel::<()>();
        let leader = {
            let group = Arc::clone(&group);
            tokio::spawn(async move {
                group
                    .ask(1, move |_, replies: Replies<u32>| async move {
                        let _ = started.send(());
                        let _ = released.await;
                        drop(replies);
                    })
                    .await
            })
        };
        has_started.await.unwrap();
        leader.abort();
        let _ = leader.await;
        // The first group still runs: the turn is still taken.
        assert!(
            group.turn.try_lock().is_err(),
            "the turn went with the stopped leader"
        );
        release.send(()).unwrap();
        let seen: Seen = Arc::default();
        assert_eq!(group.ask(2, tenfold(Arc::clone(&seen))).await, Some(20));
    }

    /// A group whose run answers fewer asks than it took leaves the rest unanswered (`None`),
    /// and they take the single-job step; nothing waits for ever.
    #[tokio::test]
    async fn an_ask_left_unanswered_is_told_so() {
        let group: Group<u32, u32> = Group::new(true);
        let answered = group
            .ask(1, |_, replies: Replies<u32>| async move { drop(replies) })
            .await;
        assert_eq!(answered, None);
    }
}
