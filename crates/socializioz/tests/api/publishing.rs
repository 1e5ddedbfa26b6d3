//! Publishing on time and once: the scheduler against the recording publisher, on both
//! databases. Crashes are real: a worker task is aborted while the platform call is in flight.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, post_input, spawn_app};
use domain::{Platform, PostId, TargetId};
use providers::social::PublishError;
use providers::social::recording::RecordingPublisher;
use services::ServiceError;
use services::jobs::worker::{Worker, WorkerOptions};
use services::posts::Intent;
use services::publishing::resolve::Resolution;
use services::queue::Limits;
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    a_post_due_now_is_published_once_with_its_link,
    a_post_waits_for_its_time,
    a_crash_mid_call_never_posts_twice,
    a_crash_mid_call_is_reconciled_where_the_platform_can_tell,
    a_crash_before_the_platform_kept_anything_is_published_once_more,
    passing_failures_are_retried_and_permanent_ones_reported,
    an_ambiguous_failure_asks_a_person,
    the_needs_a_check_message_says_what_happened_to_the_call,
    rescheduling_withdraws_the_old_job,
    concurrency_limits_hold_across_workers,
    one_busy_account_leaves_the_platform_to_the_others,
    instagram_posts_wait_for_room_in_its_24_hour_limit,
    the_worker_reads_the_database_clock,
    a_worker_that_cannot_renew_its_leases_stops_its_calls,
    two_workers_publish_each_target_exactly_once,
    shutdown_gives_unfinished_jobs_back,
    viewers_cannot_change_posts,
    jobs_that_reach_a_step_together_write_it_in_one_group,
);

const AUTHOR: &str = "ada@example.com";

/// A verified author with a workspace and an X account; returns the workspace id and account.
async fn setup(app: &TestApp) -> (i64, i64) {
    let client = app.verified_user("Ada Lovelace", AUTHOR).await;
    let ws = client.new_workspace("Acme").await;
    let account = app.connect_account(ws, Platform::X, "acme").await;
    (ws, account)
}

async fn post_state(app: &TestApp, post: i64) -> String {
    app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
        .await
}

async fn target_state(app: &TestApp, post: i64) -> String {
    app.text(&format!(
        "SELECT state FROM post_targets WHERE post_id = {post}"
    ))
    .await
}

/// Saves `text` for `accounts` as the author, to be published now; returns the post's id.
async fn publish_now(app: &TestApp, ws: i64, accounts: &[i64], text: &str) -> i64 {
    app.save_post(
        AUTHOR,
        ws,
        post_input(text, accounts, Vec::new(), Intent::PublishNow),
    )
    .await
}

/// The id of the one target of post `post`.
async fn target_of(app: &TestApp, post: i64) -> i64 {
    app.count(&format!(
        "SELECT id FROM post_targets WHERE post_id = {post}"
    ))
    .await
}

/// Waits (a few seconds at most) until the publisher has been called.
async fn until_called(app: &TestApp) {
    for _ in 0..500 {
        if !app.publisher.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Puts `publisher` in place of the app's recording publisher, for X.
fn use_publisher(app: &mut TestApp, publisher: RecordingPublisher) -> Arc<RecordingPublisher> {
    let publisher = Arc::new(publisher);
    app.publisher = publisher.clone();
    app.services.publishers =
        providers::social::Publishers::default().with(Platform::X, publisher.clone());
    publisher
}

/// A passing failure with `reason`; `maybe_published` when the post may have gone out.
fn transient(reason: &str, maybe_published: bool) -> PublishError {
    PublishError::Transient {
        reason: reason.into(),
        maybe_published,
    }
}

/// Makes every queued job due now, as if its time had come.
async fn make_due(app: &TestApp) {
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE state = 'queued'")
        .await;
}

async fn a_post_due_now_is_published_once_with_its_link(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let linkedin = app.connect_account(ws, Platform::LinkedIn, "acme-co").await;
    let mut input = post_input(
        "Hello from Acme",
        &[account, linkedin],
        Vec::new(),
        Intent::PublishNow,
    );
    input.targets[1].body = Some("Hello from Acme, on LinkedIn".into());
    let id = app.save_post(AUTHOR, ws, input).await;
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 2);

    let received = app.publisher.received();
    assert_eq!(received.len(), 2);
    let mut texts: Vec<&str> = received.iter().map(|r| r.request.text.as_str()).collect();
    texts.sort();
    assert_eq!(texts, ["Hello from Acme", "Hello from Acme, on LinkedIn"]);
    assert_ne!(
        received[0].request.idempotency_key,
        received[1].request.idempotency_key
    );
    assert_eq!(post_state(&app, id).await, "published");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM post_targets WHERE post_id = {id} AND state = 'published' AND permalink LIKE 'https://example.test/%' AND platform_post_id IS NOT NULL")).await,
        2
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE object_id = {id} AND action = 'post.published'"
        ))
        .await,
        2
    );
    // Running the queue again publishes nothing more.
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 0);
    assert_eq!(app.publisher.received().len(), 2);
}

async fn a_post_waits_for_its_time(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).naive_utc();
    let id = app
        .save_post(
            AUTHOR,
            ws,
            post_input("Later", &[account], Vec::new(), Intent::Schedule(tomorrow)),
        )
        .await;
    assert_eq!(post_state(&app, id).await, "scheduled");
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 0);
    assert!(app.publisher.received().is_empty());
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND concurrency_key = 'publish:x:{account}' AND subject LIKE 'post_target:%' AND workspace_id = {ws}")).await,
        1
    );
    make_due(&app).await;
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
    assert_eq!(app.publisher.published_count(), 1);
    assert_eq!(post_state(&app, id).await, "published");
}

/// Starts a worker task whose platform call never returns, waits until the call was made, then
/// kills the task (a crash) and lets its lease run out.
async fn crash_mid_call(app: &TestApp) {
    app.publisher.hang(true);
    let worker = app.worker();
    let task = tokio::spawn(async move { worker.run_once().await });
    until_called(app).await;
    assert_eq!(app.publisher.received().len(), 1, "the call was made");
    task.abort();
    let _ = task.await;
    app.publisher.hang(false);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM publish_attempts WHERE finished_at IS NULL")
            .await,
        1,
        "the attempt was recorded as started before the call"
    );
    app.exec("UPDATE jobs SET locked_until = '2000-01-01 00:00:00+00:00' WHERE state = 'running'")
        .await;
}

async fn a_crash_mid_call_never_posts_twice(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let id = publish_now(&app, ws, &[account], "Once only").await;
    crash_mid_call(&app).await;

    // The next worker finds the open attempt; X's API cannot be asked, so a person decides.
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.publisher.received().len(), 1, "no second call");
    assert_eq!(target_state(&app, id).await, "unconfirmed");
    assert_eq!(post_state(&app, id).await, "unconfirmed");
    let mail = app.last_mail_to(AUTHOR).await;
    assert!(mail.subject.contains("needs attention"), "{}", mail.subject);
    assert!(
        mail.body.contains("cannot tell whether the post went out"),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains("Publishing was interrupted") && !mail.body.contains("timed out"),
        "{}",
        mail.body
    );

    // The person checked: it is not there. Publishing again makes exactly one more call.
    let (user, member) = app.member(AUTHOR, ws).await;
    let target = target_of(&app, id).await;
    app.services
        .resolve_unconfirmed(
            &member,
            &user,
            PostId(id),
            TargetId(target),
            Resolution::NotPublished,
        )
        .await
        .unwrap();
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.publisher.received().len(), 2);
    assert_eq!(post_state(&app, id).await, "published");
}

async fn a_crash_mid_call_is_reconciled_where_the_platform_can_tell(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let lookups = use_publisher(
        &mut app,
        RecordingPublisher::new(Duration::ZERO).with_lookups(),
    );
    let (ws, account) = setup(&app).await;
    let id = publish_now(&app, ws, &[account], "Found again").await;
    crash_mid_call(&app).await;

    app.worker().run_until_empty().await.unwrap();
    assert_eq!(lookups.received().len(), 1, "found, not posted again");
    assert_eq!(post_state(&app, id).await, "published");
    assert_eq!(
        app.text("SELECT outcome FROM publish_attempts").await,
        "reconciled"
    );
}

async fn a_crash_before_the_platform_kept_anything_is_published_once_more(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let lookups = use_publisher(
        &mut app,
        RecordingPublisher::new(Duration::ZERO).with_lookups(),
    );
    let (ws, account) = setup(&app).await;
    let id = publish_now(&app, ws, &[account], "Not kept").await;
    // The platform refuses this call (nothing kept), and the process dies before hearing so.
    lookups.fail_next([transient("reset", false)]);
    crash_mid_call(&app).await;
    // Even on the job's last run, the platform's "no such post" allows one fresh attempt.
    app.exec("UPDATE jobs SET attempts = max_attempts - 1")
        .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(lookups.received().len(), 2);
    assert_eq!(lookups.published_count(), 1);
    assert_eq!(post_state(&app, id).await, "published");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM publish_attempts WHERE outcome = 'retry' AND error LIKE '%confirmed nothing was posted%'").await,
        1
    );
}

async fn passing_failures_are_retried_and_permanent_ones_reported(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;

    // A 5xx that certainly did not post: retried after a backoff, then published.
    app.publisher
        .fail_next([transient("503 from the platform", false)]);
    let id = publish_now(&app, ws, &[account], "Try again").await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(target_state(&app, id).await, "publishing");
    let wait = app
        .count("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND attempts = 1 AND last_error = '503 from the platform'")
        .await;
    assert_eq!(wait, 1, "queued again with its reason");
    make_due(&app).await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(post_state(&app, id).await, "published");
    assert_eq!(app.publisher.published_count(), 1);

    // A rate limit is waited out for as long as the platform says.
    app.publisher.fail_next([PublishError::RateLimited {
        retry_after: Duration::from_secs(900),
    }]);
    let limited = publish_now(&app, ws, &[account], "Slow down").await;
    let before = chrono::Utc::now();
    app.worker().run_until_empty().await.unwrap();
    let queued = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        store::entities::job::Entity::find()
            .filter(
                store::entities::job::Column::State.eq(store::entities::states::JobState::Queued),
            )
            .one(&app.services.db)
            .await
            .unwrap()
            .expect("the job waits")
    };
    let wait = queued.run_at - before;
    assert!(
        wait >= chrono::Duration::seconds(899) && wait <= chrono::Duration::seconds(960),
        "waits as long as the platform said: {wait}"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM post_targets WHERE post_id = {limited} AND last_error LIKE '%rate limit%'")).await,
        1
    );
    app.exec("DELETE FROM jobs WHERE state = 'queued'").await;

    // Refused content fails at once, says why on the post, e-mails the author; retry works.
    app.publisher.fail_next([PublishError::InvalidContent {
        reason: "duplicate content".into(),
    }]);
    let refused = publish_now(&app, ws, &[account], "Refused").await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(post_state(&app, refused).await, "failed");
    let reason = app
        .text(&format!(
            "SELECT failure_reason FROM posts WHERE id = {refused}"
        ))
        .await;
    assert!(
        reason.contains("X refused the post: duplicate content"),
        "{reason}"
    );
    let mail = app.last_mail_to(AUTHOR).await;
    assert!(mail.body.contains("duplicate content"), "{}", mail.body);
    let (_, attention) = app
        .services
        .dashboard_posts(domain::WorkspaceId(ws), 5)
        .await
        .unwrap();
    assert_eq!(
        attention.iter().map(|p| p.id).collect::<Vec<_>>(),
        [refused],
        "the dashboard asks for attention"
    );
    assert!(mail.body.contains(&format!("/w/{ws}/posts/{refused}")));
    let (user, member) = app.member(AUTHOR, ws).await;
    let target = target_of(&app, refused).await;
    app.services
        .retry_target(&member, &user, PostId(refused), TargetId(target))
        .await
        .unwrap();
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(post_state(&app, refused).await, "published");

    // After the last attempt the target fails, with the count in the reason.
    app.publisher
        .fail_next((0..5).map(|_| transient("timeout before sending", false)));
    let doomed = publish_now(&app, ws, &[account], "Doomed").await;
    for _ in 0..5 {
        make_due(&app).await;
        app.worker().run_until_empty().await.unwrap();
    }
    assert_eq!(post_state(&app, doomed).await, "failed");
    let reason = app
        .text(&format!(
            "SELECT failure_reason FROM posts WHERE id = {doomed}"
        ))
        .await;
    assert!(reason.contains("Gave up after 5 attempts"), "{reason}");
}

async fn an_ambiguous_failure_asks_a_person(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    app.publisher
        .fail_next([transient("timed out after sending", true)]);
    let id = publish_now(&app, ws, &[account], "Maybe").await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(target_state(&app, id).await, "unconfirmed");
    assert_eq!(app.publisher.received().len(), 1);

    // The person found it on the platform.
    let (user, member) = app.member(AUTHOR, ws).await;
    let target = target_of(&app, id).await;
    app.services
        .resolve_unconfirmed(
            &member,
            &user,
            PostId(id),
            TargetId(target),
            Resolution::WasPublished {
                permalink: Some("https://x.com/acme/status/1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(post_state(&app, id).await, "published");
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.publisher.received().len(), 1, "nothing published again");
}

/// "Needs a check" says what happened to the call: it timed out, or the connection failed
/// mid-way (a crash mid-call says "interrupted", above).
async fn the_needs_a_check_message_says_what_happened_to_the_call(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let mut cases = Vec::new();
    for (text, reason) in [
        ("Slow", "timed out (operation timed out)"),
        ("Cut", "connection closed before message completed"),
    ] {
        app.publisher.fail_next([transient(reason, true)]);
        let id = publish_now(&app, ws, &[account], text).await;
        app.worker().run_until_empty().await.unwrap();
        assert_eq!(target_state(&app, id).await, "unconfirmed");
        cases.push(
            app.text(&format!(
                "SELECT last_error FROM post_targets WHERE post_id = {id}"
            ))
            .await,
        );
    }
    assert!(
        cases[0].starts_with("Publishing timed out: X did not answer in time")
            && cases[0].contains("cannot tell whether the post went out"),
        "{}",
        cases[0]
    );
    assert!(
        cases[1]
            .starts_with("The connection to X failed before its answer came (connection closed")
            && !cases[1].contains("timed out"),
        "{}",
        cases[1]
    );
    assert!(
        cases.iter().all(|c| !c.contains("interrupted")),
        "{cases:?}"
    );
}

async fn rescheduling_withdraws_the_old_job(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let soon = app.local_in(AUTHOR, ws, chrono::Duration::hours(1)).await;
    let id = app
        .save_post(
            AUTHOR,
            ws,
            post_input("Moved", &[account], Vec::new(), Intent::Schedule(soon)),
        )
        .await;
    let (user, member) = app.member(AUTHOR, ws).await;
    let later = app.local_in(AUTHOR, ws, chrono::Duration::hours(5)).await;
    app.services
        .reschedule_post(&member, &user, PostId(id), later)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish'")
            .await,
        1,
        "one job, for the new time"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT CAST(revision AS BIGINT) FROM posts WHERE id = {id}"
        ))
        .await,
        2
    );

    // A job for the old revision (as if claimed before the change) does nothing.
    app.exec(&format!(
        "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at) \
         SELECT 'publish', '{{\"target\":' || id || ',\"revision\":1}}', 'queued', '2000-01-01 00:00:00+00:00', 0, 5, '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00' FROM post_targets WHERE post_id = {id}"
    ))
    .await;
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
    assert!(app.publisher.received().is_empty());

    // Taken off the calendar, it is a draft and nothing is queued.
    app.services
        .unschedule_post(&member, &user, PostId(id))
        .await
        .unwrap();
    assert_eq!(post_state(&app, id).await, "draft");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued'")
            .await,
        0
    );
}

fn worker_with(app: &TestApp, limits: Limits, concurrency: usize) -> Worker {
    let mut options = WorkerOptions::new(Duration::from_millis(20));
    options.limits = limits;
    options.concurrency = concurrency;
    options.grace = Duration::from_millis(200);
    Worker::new(app.services.clone(), options)
}

/// Runs `workers` (each its own "process": own id, own task) until `done` posts are published.
async fn run_workers(app: &TestApp, workers: Vec<Worker>, done: usize) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(w.run(stopped.clone())))
        .collect();
    for _ in 0..3000 {
        if app.publisher.published_count() >= done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    for t in tasks {
        t.await.unwrap();
    }
}

async fn concurrency_limits_hold_across_workers(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let slow = use_publisher(&mut app, RecordingPublisher::new(Duration::from_millis(20)));
    let (ws, account) = setup(&app).await;
    for n in 0..12 {
        publish_now(&app, ws, &[account], &format!("Post {n}")).await;
    }
    // No call is answered until two are in flight at once: a limit that acted as a lock
    // would never get there.
    slow.hold_until_in_flight(2);
    let limits = || Limits::new([("publish:x".to_owned(), 3)]);
    let workers = vec![
        worker_with(&app, limits(), 8),
        worker_with(&app, limits(), 8),
    ];
    run_workers(&app, workers, 12).await;
    assert_eq!(slow.published_count(), 12);
    assert!(
        slow.max_in_flight() <= 3,
        "at most 3 calls at once, saw {}",
        slow.max_in_flight()
    );
    assert!(slow.max_in_flight() >= 2, "the limit is not a lock");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_slots WHERE job_id IS NOT NULL")
            .await,
        0,
        "every slot given back"
    );
}

async fn one_busy_account_leaves_the_platform_to_the_others(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let slow = use_publisher(&mut app, RecordingPublisher::new(Duration::from_millis(20)));
    let (ws, busy) = setup(&app).await;
    let quiet = app.connect_account(ws, Platform::X, "acme-help").await;
    // The busy account's posts are older: first in the queue.
    for n in 0..12 {
        publish_now(&app, ws, &[busy], &format!("Busy {n}")).await;
    }
    for n in 0..2 {
        publish_now(&app, ws, &[quiet], &format!("Quiet {n}")).await;
    }
    // The busy account's calls are not answered until both quiet posts have been sent. With
    // only the platform's limit, its twelve older posts would take all four slots and wait
    // for ever; with its own limit, it holds two and the quiet account gets the others.
    slow.hold_account_until_others(busy, 2);
    let limits = || Limits::new([("publish:x".to_owned(), 4), ("publish:x:*".to_owned(), 2)]);
    let workers = vec![
        worker_with(&app, limits(), 8),
        worker_with(&app, limits(), 8),
    ];
    run_workers(&app, workers, 14).await;
    assert_eq!(
        slow.published_count(),
        14,
        "the quiet account's posts got through while the busy one's were outstanding"
    );
    assert!(
        slow.max_in_flight_of(busy) <= 2,
        "at most 2 calls at once for one account, saw {}",
        slow.max_in_flight_of(busy)
    );
    assert!(slow.max_in_flight() <= 4, "the platform's limit holds too");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_slots WHERE job_id IS NOT NULL")
            .await,
        0,
        "every slot given back"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM job_slots WHERE key = 'publish:x:{busy}'"
        ))
        .await,
        2,
        "the account's slots are made when first needed"
    );
}

async fn instagram_posts_wait_for_room_in_its_24_hour_limit(backend: Backend) {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    use store::entities::{job, publish_attempt};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let client = app.verified_user("Ada Lovelace", AUTHOR).await;
    let ws = client.new_workspace("Acme").await;
    let shop = app.connect_account(ws, Platform::Instagram, "shop").await;
    let photo = app
        .upload_media(&client, ws, "shop.jpg", crate::helpers::jpeg(640, 640, 7))
        .await;
    // Fifty posts made in the last 23 hours, the oldest 23 hours ago.
    let earlier = app
        .save_post(
            AUTHOR,
            ws,
            post_input("Earlier", &[shop], vec![photo], Intent::Draft),
        )
        .await;
    let earlier_target = target_of(&app, earlier).await;
    let now = services::now();
    for n in 0..50 {
        let started = now - chrono::Duration::hours(23) + chrono::Duration::minutes(n);
        publish_attempt::ActiveModel {
            target_id: Set(earlier_target),
            number: Set(i32::try_from(n).unwrap() + 1),
            idempotency_key: Set(format!("earlier-{n}")),
            started_at: Set(started),
            finished_at: Set(Some(started)),
            outcome: Set(Some(services::publishing::AttemptOutcome::Published)),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .unwrap();
    }
    let post = app
        .save_post(
            AUTHOR,
            ws,
            post_input("Fifty-first", &[shop], vec![photo], Intent::PublishNow),
        )
        .await;
    app.worker().run_until_empty().await.unwrap();
    assert!(
        app.publisher.received().is_empty(),
        "not sent past Instagram's limit"
    );
    assert_eq!(target_state(&app, post).await, "scheduled");
    let why = app
        .text(&format!(
            "SELECT last_error FROM post_targets WHERE post_id = {post}"
        ))
        .await;
    assert!(
        why.contains("Instagram allows 50 posts per account in 24 hours; @shop has reached it"),
        "{why}"
    );
    let waiting = job::Entity::find()
        .filter(job::Column::Kind.eq("publish"))
        .filter(job::Column::State.eq(services::queue::JobState::Queued))
        .one(&app.services.db)
        .await
        .unwrap()
        .expect("the job waits");
    let frees = now + chrono::Duration::hours(1);
    assert!(
        (waiting.run_at - frees).num_seconds().abs() < 120,
        "due when the oldest post leaves the window: {} vs {frees}",
        waiting.run_at
    );
    assert_eq!(waiting.attempts, 0, "waiting is not an attempt");

    // The oldest leaves the window: the post goes out, once.
    publish_attempt::Entity::delete_many()
        .filter(publish_attempt::Column::IdempotencyKey.eq("earlier-0"))
        .exec(&app.services.db)
        .await
        .unwrap();
    let mut due: job::ActiveModel = waiting.into();
    due.run_at = Set(services::now());
    due.update(&app.services.db).await.unwrap();
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.publisher.received().len(), 1);
    assert_eq!(target_state(&app, post).await, "published");
}

async fn the_worker_reads_the_database_clock(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Same machine, same clock: PostgreSQL's is read and agrees; SQLite has none of its own.
    let judged = services::jobs::worker::check_clock(&app.services.db, Duration::from_secs(15))
        .await
        .expect("the clock read");
    assert_eq!(judged, Ok(()));
    let server = store::server_clock(&app.services.db).await.unwrap();
    assert_eq!(server.is_some(), backend == Backend::Postgres);
}

async fn two_workers_publish_each_target_exactly_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let other = app
        .connect_account(ws, Platform::Facebook, "acme-page")
        .await;
    for n in 0..60 {
        publish_now(&app, ws, &[account, other], &format!("Post {n}")).await;
    }
    // Each worker runs at most four jobs, and no call is answered until five are in flight:
    // both workers take part whatever the machine's speed (a worker that happened to claim
    // first every time could otherwise publish all of them alone).
    app.publisher.hold_until_in_flight(5);
    let workers = vec![
        worker_with(&app, Limits::default(), 4),
        worker_with(&app, Limits::default(), 4),
    ];
    run_workers(&app, workers, 120).await;
    let received = app.publisher.received();
    assert_eq!(received.len(), 120);
    let mut keys: Vec<(i64, String)> = received
        .iter()
        .map(|r| (r.request.account.id, r.request.text.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 120, "no target published twice");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE state = 'published'")
            .await,
        60
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE kind = 'publish'")
            .await,
        2,
        "both workers took part"
    );
}

async fn shutdown_gives_unfinished_jobs_back(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    let id = publish_now(&app, ws, &[account], "Interrupted").await;
    app.publisher.hang(true);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker_with(&app, Limits::default(), 4).run(stopped));
    until_called(&app).await;
    let _ = stop.send(true);
    task.await.unwrap();
    app.publisher.hang(false);
    // Given back at once (no waiting for the lease), not counted as an attempt...
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued' AND attempts = 0 AND locked_until IS NULL").await,
        1
    );
    // ...and the next worker does not call the platform blindly.
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.publisher.received().len(), 1);
    assert_eq!(target_state(&app, id).await, "unconfirmed");
}

async fn viewers_cannot_change_posts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, account) = setup(&app).await;
    app.exec("UPDATE memberships SET role = 'viewer'").await;
    let (user, member) = app.member(AUTHOR, ws).await;
    let err = app
        .services
        .save_post(
            &member,
            &user,
            None,
            post_input("No", &[account], Vec::new(), Intent::Draft),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);
}

/// A worker out of the database's reach cannot renew its leases: before another worker may
/// take its jobs, it stops the calls it has in flight, so that no post is ever being sent by
/// two workers at once. The stopped call's attempt stays open, to be looked up as after a crash.
async fn a_worker_that_cannot_renew_its_leases_stops_its_calls(backend: Backend) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let hanging = use_publisher(&mut app, RecordingPublisher::new(Duration::ZERO));
    hanging.hang(true);
    let (ws, account) = setup(&app).await;
    publish_now(&app, ws, &[account], "Sent before the outage").await;
    let mut options = WorkerOptions::new(Duration::from_millis(20));
    // The call stops after half the lease; the other half keeps the job from being taken
    // again (and reconciled) before the test has stopped the worker.
    options.lease = Duration::from_secs(12);
    options.grace = Duration::from_millis(200);
    let worker = Worker::new(app.services.clone(), options);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    let patience = Duration::from_secs(60);
    crate::helpers::until("the call is in flight", patience, || async {
        hanging.in_flight() == 1
    })
    .await;

    // The worker's writes to the queue no longer go through: another connection holds the
    // jobs table (PostgreSQL) or the database's write lock (SQLite).
    let outage = match backend {
        Backend::Postgres => {
            let txn = app.services.db.begin().await.unwrap();
            txn.execute_unprepared("LOCK TABLE jobs IN EXCLUSIVE MODE")
                .await
                .unwrap();
            txn
        }
        Backend::Sqlite => store::begin_write(&app.services.db).await.unwrap(),
    };
    crate::helpers::until("the worker stops its call", patience, || async {
        hanging.in_flight() == 0
    })
    .await;
    outage.rollback().await.unwrap();
    let _ = stop.send(true);
    running.await.unwrap();

    assert_eq!(hanging.received().len(), 1, "sent once");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM publish_attempts WHERE finished_at IS NULL")
            .await,
        1,
        "the stopped call's attempt is left open, to be looked up"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'done'")
            .await,
        0,
        "the job is not over"
    );
}

/// Nine jobs reach each step at the same moment: their attempts are written in one group and
/// their answers in another, and the outcome is exactly the single-job steps': each target
/// published once with its own post id, each post's state from all of its targets (two posts
/// have two targets in the same group), one log entry per target, every job done and every slot
/// given back. A target of an account that needs reconnecting is in the group but not for it:
/// it takes the single-job step, which holds it.
async fn jobs_that_reach_a_step_together_write_it_in_one_group(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ws, x) = setup(&app).await;
    let page = app
        .connect_account(ws, Platform::Facebook, "acme-page")
        .await;
    let lapsed = app.connect_account(ws, Platform::X, "acme-old").await;
    let mut posts = Vec::new();
    for n in 0..6 {
        posts.push(publish_now(&app, ws, &[x], &format!("Alone {n}")).await);
    }
    for n in 0..2 {
        posts.push(publish_now(&app, ws, &[x, page], &format!("Both {n}")).await);
    }
    let held_post = publish_now(&app, ws, &[lapsed], "Held").await;
    app.exec(&format!(
        "UPDATE social_accounts SET status = 'reconnect_needed' WHERE id = {lapsed}"
    ))
    .await;
    let batches = Arc::clone(&app.services.publish_batches);
    let begins = batches.hold_begins().await;
    let closes = batches.hold_closes().await;
    let limits = Limits::new([
        ("publish:x:*".to_owned(), 16),
        ("publish:facebook:*".to_owned(), 16),
    ]);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker_with(&app, limits, 16).run(stopped));
    // All eleven jobs are claimed at once and ask to begin while the first group is held.
    crate::helpers::until(
        "eleven jobs asking to begin",
        Duration::from_secs(120),
        || async { batches.waiting().0 == 11 },
    )
    .await;
    drop(begins);
    crate::helpers::until(
        "ten answers asking to be written",
        Duration::from_secs(120),
        || async { batches.waiting().1 == 10 },
    )
    .await;
    drop(closes);
    crate::helpers::until("every job ended", Duration::from_secs(120), || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state <> 'done'")
            .await
            == 0
    })
    .await;
    let _ = stop.send(true);
    worker.await.unwrap();

    assert_eq!(
        batches.counts(),
        (1, 11, 1, 10),
        "one group of eleven begins and one of ten answers"
    );
    let received = app.publisher.received();
    assert_eq!(received.len(), 10, "the held target was not sent");
    let mut sent: Vec<(i64, String)> = received
        .iter()
        .map(|r| (r.request.account.id, r.request.text.clone()))
        .collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 10, "no target sent twice");
    for post in &posts {
        assert_eq!(post_state(&app, *post).await, "published", "post {post}");
    }
    assert_eq!(post_state(&app, held_post).await, "waiting");
    assert_eq!(target_state(&app, held_post).await, "waiting");
    // Each target holds the post id its own call was answered with, as does its attempt.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM post_targets t JOIN publish_attempts a ON a.target_id = t.id \
             WHERE t.state = 'published' AND t.published_at IS NOT NULL AND t.attempts = 1 \
             AND a.outcome = 'published' AND a.finished_at IS NOT NULL \
             AND a.platform_post_id = t.platform_post_id"
        )
        .await,
        10
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(DISTINCT platform_post_id) FROM post_targets WHERE state = 'published'"
        )
        .await,
        10
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {ws} AND action = 'post.published'"
        ))
        .await,
        10,
        "one log entry per target"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_slots WHERE job_id IS NOT NULL")
            .await,
        0,
        "every slot given back"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM publish_attempts WHERE finished_at IS NULL")
            .await,
        0,
        "no attempt left open"
    );
}
