//! The platform underneath: the data map against the live schema, health checks, the job queue,
//! and the command line.

use crate::both_backends;
use crate::helpers::{Backend, PgDatabase, TempDir, spawn_app};
use reqwest::StatusCode;
use services::queue::{self, NewJob};
use std::process::{Command, Stdio};
use std::time::Duration;

both_backends!(
    every_table_is_in_the_data_map,
    health_and_readiness,
    jobs_are_leased_retried_and_kept_when_dead,
    a_job_taken_again_holds_one_slot_of_each_key_and_only_named_jobs_are_renewed,
    processes_started_together_on_a_new_database_take_turns_migrating,
);

async fn every_table_is_in_the_data_map(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let live = store::live_tables(&app.services.db).await.unwrap();
    assert!(
        live.contains(&"users".to_owned()),
        "the schema listing is empty or wrong: {live:?}"
    );
    let (unclassified, stale) = store::datamap::compare(&live);
    assert!(
        unclassified.is_empty(),
        "these tables are not classified in store::datamap::TABLES; add them with their data category, owner, and what deletion and export do: {unclassified:?}"
    );
    assert!(
        stale.is_empty(),
        "the data map lists tables that do not exist: {stale:?}"
    );
}

async fn health_and_readiness(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let client = app.client();
    let res = client.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = client.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    app.services.db.clone().close().await.unwrap();
    assert_eq!(
        client.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(client.get("/healthz").await.status(), StatusCode::OK);
}

async fn jobs_are_leased_retried_and_kept_when_dead(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.services.db;
    let no_limits = queue::Limits::default();
    let a = queue::enqueue(db, NewJob::now("first", serde_json::json!({"n": 1})))
        .await
        .unwrap();
    let b = queue::enqueue(db, NewJob::now("second", serde_json::json!({"n": 2})))
        .await
        .unwrap();
    let mut later = NewJob::now("later", serde_json::json!({}));
    later.run_at = chrono::Utc::now() + chrono::Duration::hours(1);
    queue::enqueue(db, later).await.unwrap();

    // Two workers claiming at once get different jobs; the future job is not due.
    let (x, y) = tokio::join!(
        queue::claim(db, "w1", Duration::from_secs(60), &no_limits),
        queue::claim(db, "w2", Duration::from_secs(60), &no_limits)
    );
    let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
    assert_ne!(x.id, y.id);
    assert_eq!([x.id.min(y.id), x.id.max(y.id)], [a.0, b.0]);
    assert!(
        queue::claim(db, "w3", Duration::from_secs(60), &no_limits)
            .await
            .unwrap()
            .is_none()
    );

    // A worker that crashed loses its lease when it runs out (moved into the past here); the job
    // is taken again, with its attempt counted.
    let short = if x.locked_by.as_deref() == Some("w1") {
        x
    } else {
        y
    };
    expire_lease(&app, short.id).await;
    let again = queue::claim(db, "w3", Duration::from_secs(60), &no_limits)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, short.id);
    assert_eq!(again.attempts, 2);
    // The crashed worker's late report changes nothing.
    queue::complete(db, &short, "w1").await.unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE id = {} AND state = 'running'",
            short.id
        ))
        .await,
        1
    );

    // A retryable failure waits with backoff; a permanent one is dead and keeps its reason.
    queue::fail(
        db,
        &again,
        "w3",
        "mail server said 451",
        queue::Retry::Backoff,
    )
    .await
    .unwrap();
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM jobs WHERE id = {} AND state = 'queued' AND last_error = 'mail server said 451'", again.id)).await, 1);
    assert!(
        queue::claim(db, "w4", Duration::from_secs(60), &no_limits)
            .await
            .unwrap()
            .is_none(),
        "retried before its backoff"
    );

    // The worker gives an unknown kind up for good, keeping the row.
    let unknown = queue::enqueue(db, NewJob::now("no-such-kind", serde_json::json!({})))
        .await
        .unwrap();
    let ran = app.worker().run_until_empty().await.unwrap();
    assert_eq!(ran, 1);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM jobs WHERE id = {unknown} AND state = 'dead' AND last_error LIKE '%no handler%' AND payload = '{{}}'")).await,
        1
    );
}

async fn a_job_taken_again_holds_one_slot_of_each_key_and_only_named_jobs_are_renewed(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.services.db;
    let limits = queue::Limits::new([("publish:x".to_owned(), 3), ("publish:x:*".to_owned(), 2)]);
    queue::configure_limits(db, &limits).await.unwrap();
    for n in 0..2 {
        let mut job = NewJob::now("publish", serde_json::json!({ "n": n }));
        job.concurrency_key = Some("publish:x:7".to_owned());
        queue::enqueue(db, job).await.unwrap();
    }
    let lease = Duration::from_secs(60);
    // The account's slots are made when its first job needs them, and the claim takes both.
    let first = queue::claim_many(db, "w1", lease, &limits, 8)
        .await
        .unwrap();
    assert_eq!(first.len(), 2, "both jobs claimed once their slots exist");

    assert_eq!(
        held_slots(&app, first[0].id).await,
        2,
        "one slot of the platform, one of the account"
    );

    // The worker stops renewing one job (say its outcome could not be written): only the job
    // it still names keeps its lease.
    let (kept, dropped) = (&first[0], &first[1]);
    let before = app
        .text(&format!(
            "SELECT CAST(locked_until AS TEXT) FROM jobs WHERE id = {}",
            dropped.id
        ))
        .await;
    assert_eq!(queue::renew(db, "w1", &[kept.id], lease).await.unwrap(), 1);
    let after = app
        .text(&format!(
            "SELECT CAST(locked_until AS TEXT) FROM jobs WHERE id = {}",
            dropped.id
        ))
        .await;
    assert_eq!(
        before, after,
        "a job the worker no longer runs is not renewed"
    );

    // The other job finishes, freeing the lowest slots; the dropped one's lease runs out
    // (moved into the past here, slots included) and another worker takes it: it holds one
    // slot of each key, not its old ones as well.
    queue::complete(db, kept, "w1").await.unwrap();
    expire_lease(&app, dropped.id).await;
    app.exec(&format!(
        "UPDATE job_slots SET locked_until = '2000-01-01 00:00:00+00:00' WHERE job_id = {}",
        dropped.id
    ))
    .await;
    let again = queue::claim_many(db, "w2", lease, &limits, 8)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [dropped.id]);
    assert_eq!(
        held_slots(&app, dropped.id).await,
        2,
        "one slot of each key"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job_slots WHERE job_id IS NOT NULL")
            .await,
        2,
        "no slot is left naming the job's earlier claim"
    );
}

/// How many slots job `id` holds.
async fn held_slots(app: &crate::helpers::TestApp, id: i64) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM job_slots WHERE job_id = {id}"
    ))
    .await
}

async fn expire_lease(app: &crate::helpers::TestApp, id: i64) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use store::entities::job::{Column, Entity};
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(past))
        .filter(Column::Id.eq(id))
        .exec(&app.services.db)
        .await
        .unwrap();
}

/// Runs the binary with `args` against a running test app's database and data folder.
pub fn run_admin(app: &crate::helpers::TestApp, args: &[&str]) -> (bool, String, String) {
    let mut cmd = binary_for(app);
    cmd.args(args);
    run(cmd, "")
}

/// The binary, pointed at a running test app's data folder, database and server key.
pub fn binary_for(app: &crate::helpers::TestApp) -> Command {
    let mut cmd = binary();
    cmd.current_dir(&app.data.0)
        .env("SOCIALIZIOZ__DATA__DIR", &app.data.0)
        .env("SOCIALIZIOZ__DATABASE__URL", &app.database_url)
        .env(
            "SOCIALIZIOZ__SECURITY__SECRET_KEY",
            crate::helpers::TEST_SECRET_KEY,
        );
    cmd
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socializioz"))
}

/// Runs `cmd` with `stdin` as its standard input; returns whether it succeeded, and its
/// standard output and error.
pub fn run(mut cmd: Command, stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn admin_commands_create_list_and_reset_users() {
    let data = TempDir::new();
    let with_env = |args: &[&str]| {
        let mut cmd = binary();
        cmd.args(args)
            .current_dir(&data.0)
            .env("SOCIALIZIOZ__DATA__DIR", data.0.join("data"));
        cmd
    };
    let (ok, out, err) = run(with_env(&["migrate"]), "");
    assert!(ok, "{err}");
    assert!(out.contains("applied m20261129_000001_foundation"), "{out}");
    assert!(data.0.join("data/socializioz.db").exists());
    let (ok, out, _) = run(with_env(&["migrate"]), "");
    assert!(ok && out.contains("up to date"), "{out}");

    let (ok, out, err) = run(
        with_env(&[
            "admin",
            "user",
            "create",
            "--name",
            "Root Admin",
            "--email",
            "Root@Example.com",
            "--timezone",
            "Europe/Madrid",
        ]),
        "a long admin passphrase\n",
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("Created account Root Admin <root@example.com>"),
        "{out}"
    );
    let (ok, _, err) = run(
        with_env(&[
            "admin",
            "user",
            "create",
            "--name",
            "Again",
            "--email",
            "root@example.com",
        ]),
        "another passphrase ok\n",
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run(
        with_env(&[
            "admin",
            "user",
            "create",
            "--name",
            "Weak",
            "--email",
            "weak@example.com",
        ]),
        "kq7Vt2mxw9R\n",
    );
    assert!(!ok && err.contains("at least 12"), "{err}");

    let (ok, out, _) = run(with_env(&["admin", "user", "list"]), "");
    assert!(ok);
    assert!(
        out.contains("root@example.com") && out.contains("confirmed"),
        "{out}"
    );
    assert!(!out.contains("weak@example.com"));

    let (ok, out, err) = run(
        with_env(&[
            "admin",
            "user",
            "set-password",
            "--email",
            "root@example.com",
        ]),
        "the second passphrase\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("sessions were signed out"));
    let (ok, _, err) = run(
        with_env(&[
            "admin",
            "user",
            "set-password",
            "--email",
            "ghost@example.com",
        ]),
        "the second passphrase\n",
    );
    assert!(
        !ok && err.contains("no account has the address ghost@example.com"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_configuration_stops_start_up_with_advice() {
    let data = TempDir::new();
    let mut cmd = binary();
    cmd.arg("migrate")
        .current_dir(&data.0)
        .env("SOCIALIZIOZ__DATABASE__URL", "mysql://root@localhost/x");
    let (ok, _, err) = run(cmd, "");
    assert!(!ok);
    assert!(
        err.contains("sqlite://") && err.contains("postgres://"),
        "{err}"
    );
    assert!(
        !data.0.join("data").exists(),
        "a refused URL must not create anything"
    );

    let mut cmd = binary();
    cmd.arg("serve")
        .current_dir(&data.0)
        .env("SOCIALIZIOZ__SERVER__LISTEN", "everywhere");
    let (ok, _, err) = run(cmd, "");
    assert!(!ok && err.contains("127.0.0.1:8080"), "{err}");
}

#[tokio::test]
async fn migrate_works_on_postgres_from_the_command_line() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let data = TempDir::new();
    let mut cmd = binary();
    cmd.arg("migrate")
        .current_dir(&data.0)
        .env("SOCIALIZIOZ__DATABASE__URL", &pg.url);
    let (ok, out, err) = run(cmd, "");
    assert!(ok, "{err}");
    assert!(out.contains("applied m20261129_000001_foundation"), "{out}");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
    use sea_orm::ConnectionTrait;
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let db = &app.services.db;
    let pragma = |name: &'static str| async move {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("PRAGMA {name}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .unwrap()
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "10000");
    // Foreign keys are enforced: a session for a user that does not exist is refused.
    let res = db
        .execute_unprepared("INSERT INTO sessions (token_hash, user_id, device, created_at, last_seen_at, expires_at) VALUES ('x', 424242, 'd', '2026-01-01', '2026-01-01', '2026-01-02')")
        .await;
    assert!(res.is_err(), "a dangling foreign key was accepted");
}

/// `serve` and `worker` started together on a new database used to make one of them exit with
/// a migration error (a duplicate type, a table that already exists). Four processes started
/// at once: all succeed, and exactly one of them applied the schema.
async fn processes_started_together_on_a_new_database_take_turns_migrating(backend: Backend) {
    let data = TempDir::new();
    let pg = match backend {
        Backend::Postgres => match PgDatabase::create().await {
            Some(pg) => Some(pg),
            None => return,
        },
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", data.0.join("new.db").display()),
    };
    let children: Vec<_> = (0..4)
        .map(|_| {
            binary()
                .arg("migrate")
                .current_dir(&data.0)
                .env("SOCIALIZIOZ__DATA__DIR", &data.0)
                .env("SOCIALIZIOZ__DATABASE__URL", &url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start the binary")
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "a migrating process failed: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        if stdout.contains("applied m20261129_000001_foundation") {
            applied += 1;
        } else {
            assert!(stdout.contains("up to date"), "{stdout}");
        }
    }
    assert_eq!(applied, 1, "the schema is applied once");
    let db = store::connect(&url, 2).await.unwrap();
    assert!(store::pending_migrations(&db).await.unwrap().is_empty());
}
