//! The posts and files a person made in a workspace that someone else keeps, on both
//! databases: deleted with their account by default (rows and stored files; the scheduled post
//! withdrawn and the owner told which), left there when the person ticks the box, a post whose
//! publish is under way deleted only once the call has ended, and a restored backup deleting
//! them again. The deletion page, the receipt, the stored record and `/account-deleted` say
//! which happened.

use crate::both_backends;
use crate::fixtures::Team;
use crate::helpers::{
    Backend, Client, PASSWORD, TestApp, first, location, png, post_input, spawn_app,
};
use domain::{DeletionId, Platform};
use reqwest::StatusCode;
use services::posts::Intent;

both_backends!(
    a_members_work_in_a_kept_workspace_is_deleted_by_default,
    a_members_work_stays_when_they_choose_to_leave_it,
    a_post_being_published_is_deleted_once_the_call_has_ended,
    a_restored_backup_deletes_the_work_again,
);

const ANN: &str = "ann@example.com";
const BEN: &str = "ben@example.com";
const SCHEDULED: &str = "Spring launch post by Ben";
const DRAFT: &str = "Draft about tiles by Ben";
const ANNS: &str = "Ann uses the picture";

/// Ann keeps the workspace "Tile Shop"; Ben, an editor there, uploaded a picture, wrote a
/// draft and scheduled a post for tomorrow; Ann wrote a draft that carries Ben's picture.
struct Shop {
    ann: Client,
    ben: Client,
    ws: i64,
    ben_id: i64,
    /// The stored key of Ben's picture.
    key: String,
    scheduled: i64,
    anns: i64,
}

async fn shop(app: &TestApp) -> Shop {
    let Team {
        owner: ann,
        member: ben,
        ws,
    } = app
        .team(
            ("Ann Owner", ANN),
            "Tile Shop",
            ("Ben Member", BEN),
            "editor",
        )
        .await;
    let x = app.connect_account(ws, Platform::X, "tileshop").await;
    let picture = app
        .upload_media(&ben, ws, "ben-tiles.png", png(40, 30, 9))
        .await;
    let key = app
        .text(&format!(
            "SELECT object_key FROM media_items WHERE id = {picture}"
        ))
        .await;
    app.save_post(
        BEN,
        ws,
        post_input(DRAFT, &[x], vec![picture], Intent::Draft),
    )
    .await;
    let tomorrow = app.local_in(BEN, ws, chrono::Duration::days(1)).await;
    let scheduled = app
        .save_post(
            BEN,
            ws,
            post_input(SCHEDULED, &[x], Vec::new(), Intent::Schedule(tomorrow)),
        )
        .await;
    let anns = app
        .save_post(
            ANN,
            ws,
            post_input(ANNS, &[x], vec![picture], Intent::Draft),
        )
        .await;
    assert_eq!(publish_jobs(app, scheduled).await, 1, "the post is queued");
    Shop {
        ann,
        ben,
        ws,
        ben_id: app.user_id(BEN).await,
        key,
        scheduled,
        anns,
    }
}

/// Queued publish jobs of post `post`'s targets.
async fn publish_jobs(app: &TestApp, post: i64) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued' AND subject IN \
         (SELECT 'post_target:' || CAST(id AS TEXT) FROM post_targets WHERE post_id = {post})"
    ))
    .await
}

fn stored(app: &TestApp, key: &str) -> bool {
    app.data.0.join("media").join(key).exists()
}

async fn bens_posts(app: &TestApp) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM posts WHERE body IN ('{SCHEDULED}', '{DRAFT}')"
    ))
    .await
}

async fn bens_files(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM media_items WHERE filename = 'ben-tiles.png'")
        .await
}

/// Ben deletes his account from the settings page; returns where he is sent.
async fn delete_ben(ben: &Client, leave: bool) -> String {
    let mut fields = vec![("password", PASSWORD), ("confirm", BEN)];
    if leave {
        fields.push(("leave_kept", "1"));
    }
    let res = ben.submit("/settings/account/delete", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(res.headers())
}

/// The finished deletion's record, as JSON.
async fn record(app: &TestApp) -> serde_json::Value {
    serde_json::from_str(&app.text("SELECT receipt FROM account_deletions").await).unwrap()
}

async fn a_members_work_in_a_kept_workspace_is_deleted_by_default(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = shop(&app).await;
    assert!(stored(&app, &s.key));

    // The page says what happens, with the box to keep them unticked.
    let page = s.ben.get_text("/settings/account/delete").await;
    assert!(
        page.contains("Your posts and files in workspaces others keep"),
        "{page}"
    );
    assert!(page.contains("Tile Shop"));
    assert!(
        page.contains("2 posts (1 draft, 1 scheduled) and 1 file"),
        "{page}"
    );
    assert!(page.contains("Leave my posts and files in workspaces others keep"));
    let checkbox = page
        .split("id=\"f-leave_kept\"")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("the box");
    assert!(
        !checkbox.contains("checked"),
        "ticked by default: {checkbox}"
    );

    let to = delete_ben(&s.ben, false).await;
    assert_eq!(to, "/account-deleted?kept=deleted");

    // Gone: his posts (with their targets and queued jobs), his file's row and stored bytes.
    assert_eq!(bens_posts(&app).await, 0);
    assert_eq!(publish_jobs(&app, s.scheduled).await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_targets WHERE post_id = {}",
            s.scheduled
        ))
        .await,
        0
    );
    assert_eq!(bens_files(&app).await, 0);
    assert!(!stored(&app, &s.key), "the stored file is gone");
    assert!(!stored(&app, &format!("{}.thumb.jpg", s.key)));
    // Ann's draft stays, without Ben's picture; the workspace's log no longer quotes him.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_media WHERE post_id = {}",
            s.anns
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM posts WHERE id = {}", s.anns))
            .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM activity_log WHERE summary LIKE '%by Ben%' OR summary LIKE '%ben-tiles%'"
        )
        .await,
        0
    );
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {} AND action = 'member.work_deleted'",
            s.ws
        ))
        .await
            == 1
    );

    // Ann is told, once, which scheduled post was withdrawn, and which of hers lost the file.
    let dashboard = s.ann.get_text(&format!("/w/{}", s.ws)).await;
    assert!(
        dashboard.contains("the 2 posts and 1 file they made there were deleted with it"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains(&format!(
            "Withdrawn, so they will not go out: “{SCHEDULED}” (due "
        )),
        "{dashboard}"
    );
    assert!(
        dashboard.contains(&format!("check them: “{ANNS}”")),
        "{dashboard}"
    );
    let again = s.ann.get_text(&format!("/w/{}", s.ws)).await;
    assert!(!again.contains("Withdrawn, so"), "shown twice");

    // The receipt says so, and the stored record keeps the choice and the counts.
    let receipt = app.last_mail_to(BEN).await;
    assert!(
        receipt.body.contains(
            "In workspaces that other people keep, also deleted (the default; you did not \
             choose to leave them there):\n- \"Tile Shop\": 2 posts (1 draft, 1 scheduled) and 1 file"
        ),
        "{}",
        receipt.body
    );
    assert!(
        receipt
            .body
            .contains("Scheduled posts among them are withdrawn")
    );
    let kept = record(&app).await;
    assert_eq!(kept["kept_work"], "delete", "{kept}");
    assert_eq!(kept["kept"]["posts"], 2, "{kept}");
    assert_eq!(kept["kept"]["files"], 1, "{kept}");
    assert_eq!(kept["kept"]["rows_deleted"]["posts"], 2, "{kept}");
    assert_eq!(kept["kept"]["rows_deleted"]["media_items"], 1, "{kept}");

    // The page he lands on says the same.
    let deleted = app.client().get_text(&to).await;
    assert!(
        deleted.contains(
            "The posts, drafts and files you made in workspaces that other people keep were \
             deleted too."
        ),
        "{deleted}"
    );
    assert!(!deleted.contains("As you chose"));
    let plain = app.client().get_text("/account-deleted").await;
    assert!(!plain.contains("workspaces that other people keep"));

    let findings = app.residue_of(BEN).await;
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {}",
            s.ben_id
        ))
        .await,
        0
    );
}

async fn a_members_work_stays_when_they_choose_to_leave_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = shop(&app).await;
    let to = delete_ben(&s.ben, true).await;
    assert_eq!(to, "/account-deleted?kept=left");

    // They stay, no longer linked to him; the scheduled post still goes out.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE workspace_id = {} AND author_id IS NULL \
             AND body IN ('{SCHEDULED}', '{DRAFT}')",
            s.ws
        ))
        .await,
        2
    );
    assert_eq!(publish_jobs(&app, s.scheduled).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM media_items WHERE filename = 'ben-tiles.png' AND uploaded_by IS NULL")
            .await,
        1
    );
    assert!(stored(&app, &s.key), "the stored file stays");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_media WHERE post_id = {}",
            s.anns
        ))
        .await,
        1
    );
    // Nobody is told of a withdrawal, because there was none.
    let dashboard = s.ann.get_text(&format!("/w/{}", s.ws)).await;
    assert!(!dashboard.contains("Withdrawn, so"), "{dashboard}");
    assert_eq!(app.count("SELECT COUNT(*) FROM notices").await, 0);

    let receipt = app.last_mail_to(BEN).await;
    assert!(
        receipt.body.contains(
            "In workspaces that other people keep, left there as you chose: they stay with \
             those workspaces, no longer linked to you:\n- \"Tile Shop\": 2 posts (1 draft, 1 \
             scheduled) and 1 file"
        ),
        "{}",
        receipt.body
    );
    assert!(!receipt.body.contains("also deleted"));
    let kept = record(&app).await;
    assert_eq!(kept["kept_work"], "leave", "{kept}");
    assert_eq!(kept["kept"]["posts"], 2, "{kept}");
    assert!(
        kept["kept"]["rows_deleted"]
            .as_object()
            .is_some_and(|rows| rows.is_empty()),
        "{kept}"
    );

    let deleted = app.client().get_text(&to).await;
    assert!(
        deleted.contains(
            "As you chose, the posts and files you made in workspaces that other people keep \
             stay there"
        ),
        "{deleted}"
    );
    assert!(!deleted.contains("were deleted too"));
}

async fn a_post_being_published_is_deleted_once_the_call_has_ended(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = shop(&app).await;
    // The worker is calling the platform for Ben's post: its attempt is open.
    let target = app
        .count(&format!(
            "SELECT id FROM post_targets WHERE post_id = {}",
            s.scheduled
        ))
        .await;
    app.exec(&format!(
        "UPDATE post_targets SET state = 'publishing', attempts = 1 WHERE id = {target}"
    ))
    .await;
    app.exec(&format!(
        "UPDATE posts SET state = 'publishing' WHERE id = {}",
        s.scheduled
    ))
    .await;
    let started = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S+00:00");
    app.exec(&format!(
        "INSERT INTO publish_attempts (target_id, number, idempotency_key, started_at) \
         VALUES ({target}, 1, 'sz-test-open-call', '{started}')"
    ))
    .await;

    let to = delete_ben(&s.ben, false).await;
    assert_eq!(to, "/account-deleted?kept=pending");
    // Everything else of his is gone; the post in the call is not touched, nor its attempt.
    assert_eq!(bens_posts(&app).await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM publish_attempts WHERE target_id = {target} AND finished_at IS NULL"
        ))
        .await,
        1
    );
    assert_eq!(
        app.text("SELECT step FROM account_deletions").await,
        "in_flight"
    );
    // Its job stays: it is what settles an interrupted call.
    assert_eq!(publish_jobs(&app, s.scheduled).await, 1);
    let dashboard = s.ann.get_text(&format!("/w/{}", s.ws)).await;
    assert!(
        dashboard.contains(&format!(
            "Being published at that moment, and deleted once publishing ends: “{SCHEDULED}”"
        )),
        "{dashboard}"
    );
    let deleted = app.client().get_text(&to).await;
    assert!(
        deleted.contains("it is deleted from Socializioz as soon as publishing ends"),
        "{deleted}"
    );

    // Trying again while the call runs changes nothing.
    let id = app.count("SELECT id FROM account_deletions").await;
    assert!(
        app.services
            .run_account_deletion(DeletionId(id))
            .await
            .is_err()
    );
    assert_eq!(bens_posts(&app).await, 1);

    // The call ends; the deletion's job then finishes.
    app.exec(&format!(
        "UPDATE publish_attempts SET finished_at = started_at, outcome = 'published' \
         WHERE target_id = {target}"
    ))
    .await;
    app.exec(&format!(
        "UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = '{}'",
        <services::deletion::DeletionRun as services::queue::Payload>::KIND
    ))
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.text("SELECT step FROM account_deletions").await, "done");
    assert_eq!(bens_posts(&app).await, 0);
    assert_eq!(publish_jobs(&app, s.scheduled).await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM publish_attempts WHERE target_id = {target}"
        ))
        .await,
        0
    );
    assert_eq!(record(&app).await["kept"]["rows_deleted"]["posts"], 2);
}

async fn a_restored_backup_deletes_the_work_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = shop(&app).await;
    let settings = crate::helpers::test_settings(&app.data, &app.database_url);
    let backup = socializioz::backup::backup(&settings).await.unwrap();
    app.delete_account(s.ben_id).await;
    assert_eq!(bens_posts(&app).await, 0);

    let restored = socializioz::backup::restore(&settings, &backup.file.path)
        .await
        .unwrap();
    assert_eq!(restored.forgotten.users, 1, "{:?}", restored.forgotten);
    let db = store::connect(&app.database_url, 2).await.unwrap();
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM posts WHERE body IN ('{SCHEDULED}', '{DRAFT}')")
        )
        .await,
        0,
        "his posts came back with the backup"
    );
    assert_eq!(
        first::<i64>(
            &db,
            "SELECT COUNT(*) FROM media_items WHERE filename = 'ben-tiles.png'"
        )
        .await,
        0
    );
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM posts WHERE id = {}", s.anns)
        )
        .await,
        1,
        "Ann's draft is restored"
    );
    assert!(!stored(&app, &s.key));
    db.close().await.unwrap();
}
