//! Retention, on both databases: encrypted backups that restore what they were taken from and
//! refuse a damaged or foreign file without touching the database; the daily job that backs up
//! and purges old backups, legal records and forget-list entries past their period; the usage
//! roll-up, counted once per day and unchanged by deleting an account; and a restore that
//! deletes again an account deleted after its backup was taken.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, first, spawn_app, spawn_app_with};
use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::Platform;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QueryOrder,
    Set,
};
use services::legal_records::{Country, Currency, InvoiceNumber, NewLegalRecord};
use socializioz::config::Settings;
use std::path::{Path, PathBuf};
use store::backup::BackupFile;
use store::entities::states::{AttemptOutcome, JobState, PostState};
use store::entities::{
    forget_entry, job, legal_record, media_item, post, post_target, publish_attempt, usage_daily,
};

both_backends!(
    a_backup_restores_the_data_it_was_taken_from,
    a_damaged_or_foreign_backup_is_refused_and_changes_nothing,
    the_daily_job_backs_up_and_purges_only_backups_past_the_window,
    legal_records_and_forget_entries_past_their_period_are_purged,
    usage_is_rolled_up_once_per_day_and_survives_account_deletion,
    a_restored_backup_forgets_an_account_deleted_after_it,
    a_restore_that_fails_midway_keeps_the_forget_list_for_the_next_run,
    finished_jobs_are_purged_after_their_retention_and_dead_ones_kept_longer,
);

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";

/// The settings of the test instance, as a command run beside it would read them.
fn settings(app: &TestApp) -> Settings {
    crate::helpers::test_settings(&app.data, &app.database_url)
}

/// A new connection to the test database (the app's own pool may hold the replaced file).
async fn fresh(app: &TestApp) -> store::Db {
    store::connect(&app.database_url, 2).await.unwrap()
}

async fn take_backup(app: &TestApp) -> BackupFile {
    let taken = socializioz::backup::backup(&settings(app)).await.unwrap();
    assert!(taken.file.path.starts_with(app.data.0.join("backups")));
    taken.file
}

fn invoice(number: &str, issued: NaiveDate, amount: i64) -> NewLegalRecord {
    NewLegalRecord {
        invoice_number: InvoiceNumber::parse(number).unwrap(),
        issue_date: issued,
        amount_minor: amount,
        currency: Currency::parse("eur").unwrap(),
        country: Country::parse("de").unwrap(),
    }
}

async fn a_backup_restores_the_data_it_was_taken_from(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ws = ada.new_workspace("Acme").await;
    let today = Utc::now().date_naive();
    app.services
        .record_legal_record(invoice("INV-1", today, 1999))
        .await
        .unwrap();

    let file = take_backup(&app).await;
    let name = file.path.file_name().unwrap().to_str().unwrap().to_owned();
    let (taken_at, file_backend) = store::backup::parse_file_name(&name).expect("a backup name");
    assert_eq!(taken_at, file.taken_at);
    let expected = store::Backend::from(backend);
    assert_eq!(file_backend, expected);
    let bytes = std::fs::read(&file.path).unwrap();
    assert_eq!(bytes.len() as u64, file.size);
    assert!(bytes.starts_with(b"SZBACKUP"));
    for plain in [ADA.as_bytes(), b"Acme Lovelace".as_slice(), b"INV-1"] {
        assert!(
            !bytes.windows(plain.len()).any(|w| w == plain),
            "the backup holds {:?} in plain text",
            String::from_utf8_lossy(plain)
        );
    }

    // Changes after the backup.
    app.exec(&format!(
        "UPDATE workspaces SET name = 'Renamed' WHERE id = {ws}"
    ))
    .await;
    app.verified_user("Bob", BOB).await;
    app.exec("DELETE FROM legal_records").await;

    let restored = socializioz::backup::restore(&settings(&app), &file.path)
        .await
        .unwrap();
    assert_eq!(restored.header.backend, expected);
    assert!(restored.saved_deletions);
    assert_eq!(restored.forgotten.users, 0);

    let db = fresh(&app).await;
    assert_eq!(
        first::<String>(&db, &format!("SELECT name FROM workspaces WHERE id = {ws}")).await,
        "Acme"
    );
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM users WHERE email = '{ADA}'")
        )
        .await,
        1
    );
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM users WHERE email = '{BOB}'")
        )
        .await,
        0,
        "a person who signed up after the backup is not in it"
    );
    assert_eq!(
        first::<String>(&db, "SELECT invoice_number FROM legal_records").await,
        "INV-1"
    );
    assert!(store::pending_migrations(&db).await.unwrap().is_empty());
    // Nothing left behind beside the database.
    let leftovers: Vec<String> = std::fs::read_dir(&app.data.0)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".restoring"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    db.close().await.unwrap();
}

/// A copy of `file` changed by `change`, beside it.
fn altered(file: &Path, suffix: &str, change: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    change(&mut bytes);
    let path = file.with_extension(format!("{suffix}.szbak"));
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn a_damaged_or_foreign_backup_is_refused_and_changes_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.verified_user("Ada Lovelace", ADA).await;
    let file = take_backup(&app).await;
    // The database moves on after the backup: a refused restore must leave it so.
    app.exec(&format!(
        "UPDATE users SET name = 'After the backup' WHERE email = '{ADA}'"
    ))
    .await;

    let size = std::fs::metadata(&file.path).unwrap().len() as usize;
    let tampered = altered(&file.path, "tampered", |b| b[size / 2] ^= 0x01);
    let truncated = altered(&file.path, "truncated", |b| b.truncate(size - 20));
    let halved = altered(&file.path, "halved", |b| b.truncate(size / 2));
    let header_edited = altered(&file.path, "header", |b| b[9] = 3 - b[9]);
    let not_a_backup = altered(&file.path, "text", |b| *b = b"hello, world\n".to_vec());

    let same_id_other_key = {
        let mut s = settings(&app);
        s.security.master_keys = Some(format!("k1:{}", "11".repeat(32)).into());
        s
    };
    let other_id = {
        let mut s = settings(&app);
        s.security.master_keys = Some(format!("k9:{}", "22".repeat(32)).into());
        s
    };
    let cases: Vec<(&str, Settings, &Path, &str)> = vec![
        ("tampered", settings(&app), &tampered, "damaged"),
        ("truncated", settings(&app), &truncated, "damaged"),
        ("halved", settings(&app), &halved, "damaged"),
        ("header edited", settings(&app), &header_edited, "damaged"),
        (
            "not a backup",
            settings(&app),
            &not_a_backup,
            "not a Socializioz backup",
        ),
        (
            "same key id, other key",
            same_id_other_key,
            &file.path,
            "does not decrypt with master key \"k1\"",
        ),
        (
            "unknown key",
            other_id,
            &file.path,
            "master key \"k1\", which the key ring does not hold",
        ),
    ];
    for (case, settings, path, says) in cases {
        let err = socializioz::backup::restore(&settings, path)
            .await
            .expect_err(case);
        let message = format!("{err:#}");
        assert!(message.contains(says), "{case}: {message}");
        assert!(
            message.contains("the database was not changed"),
            "{case}: {message}"
        );
        let db = fresh(&app).await;
        assert_eq!(
            first::<String>(
                &db,
                &format!("SELECT name FROM users WHERE email = '{ADA}'")
            )
            .await,
            "After the backup",
            "{case}: the database was changed"
        );
        db.close().await.unwrap();
    }
    // The intact file still restores.
    socializioz::backup::restore(&settings(&app), &file.path)
        .await
        .unwrap();
    let db = fresh(&app).await;
    assert_eq!(
        first::<String>(
            &db,
            &format!("SELECT name FROM users WHERE email = '{ADA}'")
        )
        .await,
        "Ada Lovelace"
    );
    db.close().await.unwrap();
}

async fn queued(app: &TestApp, kind: &str) -> Vec<job::Model> {
    job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::State.eq(JobState::Queued))
        .all(&app.services.db)
        .await
        .unwrap()
}

async fn the_daily_job_backs_up_and_purges_only_backups_past_the_window(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.retention.backups = true;
        s.retention.backup_days = 30;
    })
    .await
    else {
        return;
    };
    app.verified_user("Ada Lovelace", ADA).await;
    let dir = app.data.0.join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let now = Utc::now();
    let kind = store::Backend::from(backend);
    let name_at = |days: i64| store::backup::file_name(now - chrono::Duration::days(days), kind);
    let old = dir.join(name_at(31));
    let older = dir.join(name_at(400));
    let recent = dir.join(name_at(29));
    let unrelated = [
        dir.join("notes.txt"),
        dir.join("socializioz-old-sqlite.szbak"),
    ];
    // What backups cut short left behind (one an unencrypted copy of the database), and the
    // temporary files of a backup still running elsewhere.
    let left_behind = [
        dir.join(format!(".{}.partial", name_at(45))),
        dir.join(format!(".{}.sqlite-copy", name_at(2))),
    ];
    let running_now = [
        dir.join(format!(".{}.partial", name_at(0))),
        dir.join(format!(".{}.sqlite-copy", name_at(0))),
    ];
    for path in [&old, &older, &recent]
        .into_iter()
        .chain(&unrelated)
        .chain(&left_behind)
        .chain(&running_now)
    {
        std::fs::write(path, b"stand-in").unwrap();
    }
    // And a restore's decrypted database beside a SQLite database, from two days ago.
    let restoring = match backend {
        Backend::Sqlite => {
            let db = store::backup::sqlite_path(&settings(&app).database_url()).unwrap();
            let mut path = db.into_os_string();
            path.push(".restoring");
            let path = std::path::PathBuf::from(path);
            let file = std::fs::File::create(&path).unwrap();
            file.set_modified(
                std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 24 * 3600),
            )
            .unwrap();
            Some(path)
        }
        Backend::Postgres => None,
    };

    // Every worker plans the daily jobs when it starts (this one is told to stop at once);
    // however many start, there is one of each for the cluster.
    assert!(
        queued(
            &app,
            <services::jobs::daily::RetentionRun as services::queue::Payload>::KIND
        )
        .await
        .is_empty()
    );
    let (_stop, stopped) = tokio::sync::watch::channel(true);
    app.worker().run(stopped).await;
    for _ in 0..2 {
        services::jobs::daily::plan_daily_jobs(&app.services.db)
            .await
            .unwrap();
    }
    let planned = queued(
        &app,
        <services::jobs::daily::RetentionRun as services::queue::Payload>::KIND,
    )
    .await;
    assert_eq!(planned.len(), 1, "{planned:?}");
    assert!(planned[0].run_at > now);
    assert_eq!(
        queued(
            &app,
            <services::jobs::daily::UsageRollup as services::queue::Payload>::KIND
        )
        .await
        .len(),
        1
    );

    // Its time comes.
    job::Entity::update_many()
        .col_expr(
            job::Column::RunAt,
            Expr::value(now - chrono::Duration::minutes(1)),
        )
        .filter(job::Column::Id.eq(planned[0].id))
        .exec(&app.services.db)
        .await
        .unwrap();
    app.worker().run_until_empty().await.unwrap();
    let ran = job::Entity::find_by_id(planned[0].id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ran.state, JobState::Done, "{:?}", ran.last_error);

    assert!(
        !old.exists() && !older.exists(),
        "backups past 30 days are purged"
    );
    assert!(recent.exists(), "a backup within 30 days is kept");
    for path in &unrelated {
        assert!(
            path.exists(),
            "{} is not a backup and stays",
            path.display()
        );
    }
    for path in left_behind.iter().chain(&restoring) {
        assert!(
            !path.exists(),
            "{} was left behind and stays",
            path.display()
        );
    }
    for path in &running_now {
        assert!(
            path.exists(),
            "{} belongs to a running backup",
            path.display()
        );
    }
    let made: Vec<BackupFile> = store::backup::list(&dir)
        .unwrap()
        .into_iter()
        .filter(|b| b.taken_at >= now - chrono::Duration::minutes(1))
        .collect();
    assert_eq!(made.len(), 1, "the job took today's backup: {made:?}");
    let (ring, _) = settings(&app).key_ring().unwrap();
    let header = store::backup::verify(&ring, &made[0].path).unwrap();
    assert_eq!(header.backend, kind);
    assert_eq!(header.key_id, ring.current_id());

    // The next day's run is planned, once.
    let next = queued(
        &app,
        <services::jobs::daily::RetentionRun as services::queue::Payload>::KIND,
    )
    .await;
    assert_eq!(next.len(), 1, "{next:?}");
    assert!(next[0].run_at > now && next[0].id != planned[0].id);
}

async fn legal_records_and_forget_entries_past_their_period_are_purged(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.retention.legal_days = 10).await else {
        return;
    };
    let services = &app.services;
    let now = Utc::now();
    let today = now.date_naive();
    let ago = |days: u64| today.checked_sub_days(Days::new(days)).unwrap();
    let expired = services
        .record_legal_record(invoice("INV-0001", ago(11), 5000))
        .await
        .unwrap();
    assert_eq!(expired.keep_until, ago(1));
    let last_day = services
        .record_legal_record(invoice("INV-0002", ago(10), -1200))
        .await
        .unwrap();
    assert_eq!(last_day.keep_until, today);
    services
        .record_legal_record(invoice("INV-0003", today, 900))
        .await
        .unwrap();
    // Billing may record the same invoice twice; another invoice under its number is refused.
    let again = services
        .record_legal_record(invoice("INV-0002", ago(10), -1200))
        .await
        .unwrap();
    assert_eq!(again.id, last_day.id);
    let err = services
        .record_legal_record(invoice("INV-0002", ago(10), 99))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already recorded"), "{err}");

    for (hash, keep_until) in [
        ("a".repeat(64), now - chrono::Duration::days(1)),
        ("b".repeat(64), now + chrono::Duration::days(1)),
    ] {
        forget_entry::ActiveModel {
            deletion_id: Set(None),
            kind: Set(store::entities::states::ForgetKind::User),
            hash: Set(hash),
            created_at: Set(now - chrono::Duration::days(200)),
            keep_until: Set(keep_until),
            ..Default::default()
        }
        .insert(&services.db)
        .await
        .unwrap();
    }

    let report = services.run_retention(now).await.unwrap();
    assert_eq!(report.legal_records_purged, 1);
    assert_eq!(report.forget_entries_purged, 1);
    assert!(report.backup.is_none(), "backups are off");
    let kept: Vec<String> = legal_record::Entity::find()
        .order_by_asc(legal_record::Column::InvoiceNumber)
        .all(&services.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.invoice_number)
        .collect();
    assert_eq!(kept, ["INV-0002", "INV-0003"]);
    let forget: Vec<String> = forget_entry::Entity::find()
        .all(&services.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.hash)
        .collect();
    assert_eq!(forget, ["b".repeat(64)]);

    let again = services.run_retention(now).await.unwrap();
    assert_eq!(
        (again.legal_records_purged, again.forget_entries_purged),
        (0, 0)
    );
    // Nothing in a legal record names a person.
    let columns: Vec<String> = legal_record::Column::iter()
        .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
        .collect();
    assert_eq!(
        columns,
        [
            "id",
            "invoice_number",
            "issue_date",
            "amount_minor",
            "currency",
            "country",
            "keep_until",
            "created_at"
        ]
    );
}

/// Noon UTC `days` before today.
fn noon(days: u64) -> DateTime<Utc> {
    Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(days))
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

async fn add_post(app: &TestApp, ws: i64, author: i64, at: DateTime<Utc>) -> i64 {
    post::ActiveModel {
        workspace_id: Set(ws),
        campaign_id: Set(None),
        author_id: Set(Some(author)),
        body: Set("Hello".to_owned()),
        first_comment: Set(None),
        state: Set(PostState::Published),
        failure_reason: Set(None),
        scheduled_at: Set(None),
        schedule_tz: Set(None),
        revision: Set(0),
        published_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&app.services.db)
    .await
    .unwrap()
    .id
}

async fn add_target(app: &TestApp, post_id: i64, account: i64) -> i64 {
    post_target::ActiveModel {
        post_id: Set(post_id),
        account_id: Set(account),
        body: Set(None),
        options: Set("{}".to_owned()),
        state: Set(PostState::Published),
        attempts: Set(1),
        platform_post_id: Set(None),
        permalink: Set(None),
        last_error: Set(None),
        published_at: Set(None),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.services.db)
    .await
    .unwrap()
    .id
}

async fn add_attempt(
    app: &TestApp,
    target: i64,
    number: i32,
    finished: Option<DateTime<Utc>>,
    outcome: Option<AttemptOutcome>,
) {
    publish_attempt::ActiveModel {
        target_id: Set(target),
        number: Set(number),
        idempotency_key: Set(crate::helpers::unique("attempt")),
        started_at: Set(finished.unwrap_or_else(Utc::now)),
        finished_at: Set(finished),
        outcome: Set(outcome),
        error: Set(None),
        platform_post_id: Set(None),
        ..Default::default()
    }
    .insert(&app.services.db)
    .await
    .unwrap();
}

async fn add_media(app: &TestApp, ws: i64, author: i64, provenance: &str, at: DateTime<Utc>) {
    media_item::ActiveModel {
        workspace_id: Set(ws),
        uploaded_by: Set(Some(author)),
        kind: Set("image".to_owned()),
        mime: Set("image/png".to_owned()),
        filename: Set("a.png".to_owned()),
        size_bytes: Set(10),
        width: Set(Some(1)),
        height: Set(Some(1)),
        object_key: Set(crate::helpers::unique("media/key")),
        thumb_key: Set(None),
        folder: Set(String::new()),
        tags: Set(String::new()),
        provenance: Set(provenance.to_owned()),
        ai_provider: Set(None),
        ai_prompt: Set(None),
        ai_model: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        duration_ms: Set(None),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&app.services.db)
    .await
    .unwrap();
}

/// Every aggregate row, as (day, feature, platform, count).
async fn aggregates(app: &TestApp) -> Vec<(NaiveDate, String, String, i64)> {
    usage_daily::Entity::find()
        .order_by_asc(usage_daily::Column::Day)
        .order_by_asc(usage_daily::Column::Feature)
        .order_by_asc(usage_daily::Column::Platform)
        .all(&app.services.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.day, r.feature, r.platform, r.count))
        .collect()
}

async fn usage_is_rolled_up_once_per_day_and_survives_account_deletion(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ws = ada.new_workspace("Acme").await;
    let (user, _) = app.member(ADA, ws).await;
    let x = app.connect_account(ws, Platform::X, "acme").await;
    let li = app.connect_account(ws, Platform::LinkedIn, "acme-li").await;
    let (d2, d1, today) = (noon(2), noon(1), Utc::now());

    let p2a = add_post(&app, ws, user.id, d2).await;
    add_post(&app, ws, user.id, d2 + chrono::Duration::hours(11)).await;
    let p1 = add_post(&app, ws, user.id, d1).await;
    let p0 = add_post(&app, ws, user.id, today).await;
    let p1x = add_target(&app, p1, x).await;
    add_attempt(&app, p1x, 1, Some(d1), Some(AttemptOutcome::Failed)).await;
    add_attempt(&app, p1x, 2, Some(d1), Some(AttemptOutcome::Published)).await;
    let p2li = add_target(&app, p2a, li).await;
    add_attempt(&app, p2li, 1, Some(d2), Some(AttemptOutcome::Published)).await;
    let p1li = add_target(&app, p1, li).await;
    add_attempt(&app, p1li, 1, None, None).await; // still in flight: not an outcome
    let p0x = add_target(&app, p0, x).await;
    add_attempt(&app, p0x, 1, Some(today), Some(AttemptOutcome::Published)).await; // today has not ended
    add_media(&app, ws, user.id, "uploaded", d1).await;
    add_media(&app, ws, user.id, "uploaded", d1).await;
    add_media(&app, ws, user.id, "ai", d2).await;
    add_media(&app, ws, user.id, "uploaded", today).await;

    let first = app.services.roll_up_usage(Utc::now()).await.unwrap();
    let (day2, day1) = (d2.date_naive(), d1.date_naive());
    assert_eq!(first.days, [day2, day1]);
    let row = |day: NaiveDate, feature: &str, platform: &str, count: i64| {
        (day, feature.to_owned(), platform.to_owned(), count)
    };
    let mut expected = vec![
        row(day2, "day_rolled_up", "", 1),
        row(day2, "media_ai", "", 1),
        row(day2, "post_created", "", 2),
        row(day2, "publish_published", "linkedin", 1),
        row(day1, "day_rolled_up", "", 1),
        row(day1, "media_uploaded", "", 2),
        row(day1, "post_created", "", 1),
        row(day1, "publish_failed", "x", 1),
        row(day1, "publish_published", "x", 1),
    ];
    expected.sort();
    assert_eq!(aggregates(&app).await, expected);
    assert_eq!(
        first.rows,
        expected.len() - 2,
        "markers are not counted as rows"
    );

    // Rolling up again, or after a late row for a counted day, changes nothing.
    let again = app.services.roll_up_usage(Utc::now()).await.unwrap();
    assert!(again.days.is_empty());
    add_post(&app, ws, user.id, d1).await;
    app.services.roll_up_usage(Utc::now()).await.unwrap();
    assert_eq!(aggregates(&app).await, expected);

    // Deleting the account deletes the rows counted, not the counts.
    app.delete_account(user.id).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE workspace_id = {ws}"
        ))
        .await,
        0,
        "the source rows are gone"
    );
    assert_eq!(aggregates(&app).await, expected);
    // Nothing in an aggregate names a person or a workspace.
    let columns: Vec<String> = usage_daily::Column::iter()
        .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
        .collect();
    assert_eq!(columns, ["id", "day", "feature", "platform", "count"]);
}

async fn a_restored_backup_forgets_an_account_deleted_after_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ada_ws = ada.new_workspace("Ada's").await;
    let bob = app.verified_user("Bob", BOB).await;
    let bob_ws = bob.new_workspace("Bob's").await;
    let (bob_user, _) = app.member(BOB, bob_ws).await;
    let file = take_backup(&app).await;

    app.delete_account(bob_user.id).await;
    let forget_before = app.count("SELECT COUNT(*) FROM forget_list").await;
    assert!(forget_before >= 3, "user, workspace and address are listed");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {}",
            bob_user.id
        ))
        .await,
        0
    );

    let restored = socializioz::backup::restore(&settings(&app), &file.path)
        .await
        .unwrap();
    assert_eq!(restored.merged.forget_entries as i64, forget_before);
    assert_eq!(
        restored.merged.records, 1,
        "the deletion record is carried over"
    );
    assert_eq!(restored.forgotten.users, 1, "{:?}", restored.forgotten);
    assert!(
        restored.forgotten.workspaces >= 1,
        "{:?}",
        restored.forgotten
    );

    let db = fresh(&app).await;
    for (what, sql) in [
        (
            "Bob's user row",
            format!("SELECT COUNT(*) FROM users WHERE id = {}", bob_user.id),
        ),
        (
            "Bob's address",
            format!("SELECT COUNT(*) FROM users WHERE email = '{BOB}'"),
        ),
        (
            "Bob's workspace",
            format!("SELECT COUNT(*) FROM workspaces WHERE id = {bob_ws}"),
        ),
        (
            "Bob's memberships",
            format!(
                "SELECT COUNT(*) FROM memberships WHERE user_id = {}",
                bob_user.id
            ),
        ),
    ] {
        assert_eq!(
            first::<i64>(&db, &sql).await,
            0,
            "{what} came back with the backup"
        );
    }
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM workspaces WHERE id = {ada_ws}")
        )
        .await,
        1,
        "Ada's workspace is restored"
    );
    assert_eq!(
        first::<i64>(&db, "SELECT COUNT(*) FROM forget_list").await,
        forget_before
    );
    assert_eq!(
        first::<i64>(
            &db,
            "SELECT COUNT(*) FROM account_deletions WHERE finished_at IS NOT NULL"
        )
        .await,
        1
    );
    db.close().await.unwrap();

    // Merging into a database that has the entries adds nothing.
    let db = fresh(&app).await;
    let saved = services::backup::Deletions::read(&db).await.unwrap();
    let merged = saved.merge_into(&db).await.unwrap();
    assert_eq!((merged.records, merged.forget_entries), (0, 0));
    db.close().await.unwrap();

    // Restoring the same backup again carries the list over once more, without duplicates.
    let again = socializioz::backup::restore(&settings(&app), &file.path)
        .await
        .unwrap();
    assert_eq!(again.merged.forget_entries as i64, forget_before);
    assert_eq!(again.forgotten.users, 1);
    let db = fresh(&app).await;
    assert_eq!(
        first::<i64>(&db, "SELECT COUNT(*) FROM forget_list").await,
        forget_before
    );
    assert_eq!(
        first::<i64>(&db, "SELECT COUNT(*) FROM account_deletions").await,
        1
    );
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM users WHERE email = '{BOB}'")
        )
        .await,
        0
    );
    db.close().await.unwrap();
}

async fn a_restore_that_fails_midway_keeps_the_forget_list_for_the_next_run(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.verified_user("Ada Lovelace", ADA).await;
    let bob = app.verified_user("Bob", BOB).await;
    let bob_ws = bob.new_workspace("Bob's").await;
    let (bob_user, _) = app.member(BOB, bob_ws).await;
    let file = take_backup(&app).await;
    app.delete_account(bob_user.id).await;

    // A setting that only the services check: the restore fails after replacing the database.
    let mut broken = settings(&app);
    broken.retention.backup_days = 0;
    let err = socializioz::backup::restore(&broken, &file.path)
        .await
        .expect_err("the services cannot start");
    let message = format!("{err:#}");
    assert!(message.contains("do not start the server"), "{message}");
    let pending = app.data.0.join("restore-pending.jsonl");
    assert!(pending.exists(), "the saved forget list waits on disk");
    let db = fresh(&app).await;
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM users WHERE email = '{BOB}'")
        )
        .await,
        1,
        "not re-applied yet"
    );
    // As if the merge had not happened either: only the file remembers Bob's deletion now.
    db.execute_unprepared("DELETE FROM forget_list")
        .await
        .unwrap();
    db.execute_unprepared("DELETE FROM account_deletions")
        .await
        .unwrap();
    db.close().await.unwrap();

    let restored = socializioz::backup::restore(&settings(&app), &file.path)
        .await
        .unwrap();
    assert_eq!(restored.forgotten.users, 1, "{:?}", restored.forgotten);
    assert!(!pending.exists(), "removed once the restore is complete");
    let db = fresh(&app).await;
    assert_eq!(
        first::<i64>(
            &db,
            &format!("SELECT COUNT(*) FROM users WHERE email = '{BOB}'")
        )
        .await,
        0
    );
    assert!(first::<i64>(&db, "SELECT COUNT(*) FROM forget_list").await >= 3);
    db.close().await.unwrap();
}

/// The data map says background jobs are transient: a finished job's row goes
/// `retention.done_jobs_hours` after it finished, a dead one's `retention.dead_jobs_days`
/// after; queued and running jobs stay. A running worker purges without waiting for the daily
/// run.
async fn finished_jobs_are_purged_after_their_retention_and_dead_ones_kept_longer(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.retention.done_jobs_hours = 2;
        s.retention.dead_jobs_days = 10;
    })
    .await
    else {
        return;
    };
    let db = &app.services.db;
    let now = services::now();
    let mut ids = std::collections::BTreeMap::new();
    for (name, state, age) in [
        ("done-old", "done", chrono::Duration::hours(3)),
        ("done-new", "done", chrono::Duration::hours(1)),
        ("dead-old", "dead", chrono::Duration::days(11)),
        ("dead-new", "dead", chrono::Duration::days(9)),
        ("queued-old", "queued", chrono::Duration::days(40)),
        ("running-old", "running", chrono::Duration::days(40)),
    ] {
        let id = services::queue::enqueue(
            db,
            services::queue::NewJob::now("send_email", serde_json::json!({})),
        )
        .await
        .unwrap();
        job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(state))
            .col_expr(job::Column::UpdatedAt, Expr::value(now - age))
            .col_expr(
                job::Column::RunAt,
                Expr::value(now + chrono::Duration::days(1)),
            )
            .filter(job::Column::Id.eq(id.0))
            .exec(db)
            .await
            .unwrap();
        ids.insert(name, id);
    }
    let left = || async {
        let rows = job::Entity::find().all(db).await.unwrap();
        let mut names: Vec<&str> = ids
            .iter()
            .filter(|(_, id)| rows.iter().any(|r| r.id == id.0))
            .map(|(name, _)| *name)
            .collect();
        names.sort_unstable();
        names
    };
    // The daily run purges.
    let report = app.services.run_retention(now).await.unwrap();
    assert_eq!(report.jobs_purged, 2);
    assert_eq!(
        left().await,
        ["dead-new", "done-new", "queued-old", "running-old"]
    );

    // So does a running worker, on its own, soon after it starts.
    job::Entity::update_many()
        .col_expr(
            job::Column::UpdatedAt,
            Expr::value(now - chrono::Duration::days(12)),
        )
        .filter(job::Column::State.is_in([JobState::Done, JobState::Dead]))
        .exec(db)
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.worker().run(stopped));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while left().await.len() > 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not purge"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(left().await, ["queued-old", "running-old"]);
}
