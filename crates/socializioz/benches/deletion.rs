//! Deleting and exporting a large account.
//!
//! `cargo bench -p socializioz --bench deletion` builds an account with `BENCH_POSTS` posts
//! (default 100,000, each with one target), `BENCH_MEDIA` media files (default 10,000, each a
//! real object in the local media store) and `BENCH_ROWS` activity-log rows (default
//! 1,000,000), on SQLite and on PostgreSQL (`BENCH_POSTGRES`, default the local test server;
//! skipped when it cannot be reached), and measures:
//!
//! - the product's deletion (confirmation, revocation step, receipt, the one transaction the
//!   data map plans, the objects, the WAL truncated or the tables vacuumed), then its residue
//!   check;
//! - on SQLite, the same deletion of an identical account with `secure_delete` off, and the
//!   ratio of the two (what overwriting deleted rows with zeros costs);
//! - bare `DELETE`s of the same rows and the same objects, on an identical account built again
//!   in the same run, and the ratio of the two;
//! - the export of the same account (time, ZIP bytes, peak memory above the memory resident
//!   before it), and of an account a tenth its size, to show whether memory grows with the
//!   account.
//!
//! `BENCH_BACKENDS` (default `sqlite,postgres`) and `BENCH_PARTS` (default `deletion,export`)
//! pick what runs, for looking at one figure at a time.
//!
//! The rows are written with `INSERT … SELECT` over a number series so that building a
//! million rows takes seconds; everything measured is the product's code.

#![allow(clippy::expect_used)]
use domain::{ExportId, UserId};
use store::entities::states::ForgetKind;

mod common;

use common::{drop_pg, env_or, insert_series, peak_rss_mib, reset_peak, rss_mib};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use services::Services;
use services::deletion::{Residue, Via, Whom};
use std::time::{Duration, Instant};
use store::entities::{social_account, user};

const TS: &str = "'2026-01-01 00:00:00+00:00'";

fn main() {
    if !(std::env::args().any(|a| a == "--bench") || std::env::var("DELETION_BENCH_RUN").is_ok()) {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(bench());
}

#[derive(Clone, Copy)]
struct Size {
    posts: u64,
    media: u64,
    rows: u64,
}

impl Size {
    fn tenth(self) -> Self {
        Self {
            posts: self.posts / 10,
            media: self.media / 10,
            rows: self.rows / 10,
        }
    }
}

async fn bench() {
    let size = Size {
        posts: env_or("BENCH_POSTS", 100_000),
        media: env_or("BENCH_MEDIA", 10_000),
        rows: env_or("BENCH_ROWS", 1_000_000),
    };
    println!(
        "account: {} posts (one target each), {} media files, {} activity rows",
        size.posts, size.media, size.rows
    );
    if chosen("BENCH_BACKENDS", "sqlite") {
        let dir = tempdir("sqlite");
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        run_backend("SQLite", &url, &dir, size).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !chosen("BENCH_BACKENDS", "postgres") {
        return;
    }

    let pg_base = common::pg_base();
    match common::create_pg(&pg_base, "sz_deletion_bench").await {
        Some((url, name)) => {
            let dir = tempdir("pg");
            run_backend("PostgreSQL", &url, &dir, size).await;
            let _ = std::fs::remove_dir_all(&dir);
            drop_pg(&pg_base, &name).await;
        }
        None => println!("PostgreSQL: skipped (no server at {pg_base})"),
    }
}

/// Whether the comma-separated list in `variable` names `item` (everything when it is unset).
fn chosen(variable: &str, item: &str) -> bool {
    std::env::var(variable).map_or(true, |list| list.split(',').any(|i| i.trim() == item))
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sz-deletion-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a data folder");
    dir
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

async fn run_backend(name: &str, url: &str, dir: &std::path::Path, size: Size) {
    let settings = common::settings(dir, url, 8);
    let services = socializioz::app::services(&settings, "http://127.0.0.1".into())
        .await
        .expect("services");
    println!("\n== {name}");
    if chosen("BENCH_PARTS", "deletion") {
        deletion(&services, url, dir, size).await;
    }
    if chosen("BENCH_PARTS", "export") {
        export(&services, dir, size).await;
    }
}

/// The product's deletion, its residue check, and bare `DELETE`s of an identical account. On
/// SQLite the product's deletion runs twice, on identical accounts, with `secure_delete` off
/// and then on (what the product uses), to show what overwriting deleted rows costs.
async fn deletion(services: &Services, url: &str, dir: &std::path::Path, size: Size) {
    let sqlite = store::backend(&services.db) == store::Backend::Sqlite;
    let mut off = None;
    if sqlite {
        let mut without = services.clone();
        without.db = store::connect_with(url, 8, store::SecureDelete::Off)
            .await
            .expect("a pool without secure_delete");
        let (uid, _) = populate(&without, dir, "off", size).await;
        off = Some(product_deletion(&without, uid).await);
        without.db.close().await.expect("close the pool");
    }
    let t = Instant::now();
    let (uid, _) = populate(services, dir, "a", size).await;
    println!("built the account in {}", secs(t.elapsed()));
    let product = product_deletion(services, uid).await;
    let t = Instant::now();
    let residue = services
        .residue(Whom::UserHash(
            services.forget_hash(ForgetKind::User, &uid.to_string()),
        ))
        .await
        .expect("residue");
    let residue_time = t.elapsed();
    let clean = matches!(&residue, Residue::Checked { findings, .. } if findings.is_empty());
    assert!(clean, "residue after the deletion: {residue:?}");

    // Bare DELETEs of the same rows and objects, then what the product does after a deletion
    // (SQLite: checkpoint and truncate the WAL; PostgreSQL: VACUUM the tables).
    let (uid, ws) = populate(services, dir, "b", size).await;
    let t = Instant::now();
    bare_delete(services, uid, ws).await;
    let bare = t.elapsed();
    let t = Instant::now();
    store::scrub_deleted_rows(
        &services.db,
        &[
            "activity_log",
            "post_targets",
            "posts",
            "media_items",
            "social_accounts",
            "memberships",
            "workspaces",
            "users",
        ],
    )
    .await
    .expect("scrub");
    let scrub = t.elapsed();
    println!(
        "deletion: product {} | bare DELETEs {} | ratio {:.2}× | residue check {} (clean)",
        secs(product),
        secs(bare),
        product.as_secs_f64() / bare.as_secs_f64(),
        secs(residue_time),
    );
    println!(
        "after bare DELETEs, {}: {}",
        if sqlite {
            "WAL checkpoint and truncate"
        } else {
            "VACUUM of the 8 tables"
        },
        secs(scrub)
    );
    if let Some(off) = off {
        println!(
            "secure_delete: off {} | on {} | ratio on/off {:.2}×",
            secs(off),
            secs(product),
            product.as_secs_f64() / off.as_secs_f64(),
        );
    }
}

/// Deletes the account `uid` as the product does, to the end; returns how long it took.
async fn product_deletion(services: &Services, uid: i64) -> Duration {
    let t = Instant::now();
    let id = services
        .begin_account_deletion(UserId(uid), Via::App)
        .await
        .expect("begin");
    services.run_account_deletion(id).await.expect("delete");
    t.elapsed()
}

/// Exports: a tenth of the account, then the whole.
async fn export(services: &Services, dir: &std::path::Path, size: Size) {
    for (label, size) in [("a tenth", size.tenth()), ("whole", size)] {
        let (uid, _) = populate(services, dir, &format!("e{}", size.posts), size).await;
        let person = user::Entity::find_by_id(uid)
            .one(&services.db)
            .await
            .expect("read")
            .expect("the user");
        let export = match services.request_export(&person).await.expect("request") {
            services::export::Requested::Queued(e)
            | services::export::Requested::AlreadyRunning(e) => e,
        };
        let before = rss_mib();
        reset_peak();
        let t = Instant::now();
        services
            .build_export(ExportId(export.id))
            .await
            .expect("export");
        let took = t.elapsed();
        let peak = peak_rss_mib();
        let built = store::entities::data_export::Entity::find_by_id(export.id)
            .one(&services.db)
            .await
            .expect("read")
            .expect("the export");
        println!(
            "export ({label}: {} posts, {} files, {} rows): {} | {:.1} MiB | peak {:.1} MiB above the {:.1} MiB resident before",
            size.posts,
            size.media,
            size.rows,
            secs(took),
            built.bytes.unwrap_or_default() as f64 / 1_048_576.0,
            peak - before,
            before,
        );
    }
}

use sea_orm::EntityTrait;

/// A person with one workspace holding `size`: returns (user id, workspace id).
async fn populate(services: &Services, dir: &std::path::Path, tag: &str, size: Size) -> (i64, i64) {
    let db = &services.db;
    let now = services::now();
    let (person, ws) = common::person_with_workspace(
        services,
        &format!("Bench {tag}"),
        &format!("bench-{tag}@example.com"),
    )
    .await;
    let ws = ws.id;
    let account = social_account::ActiveModel {
        workspace_id: Set(ws),
        platform: Set("x".into()),
        external_id: Set(format!("bench-{tag}")),
        username: Set(format!("bench_{tag}")),
        display_name: Set("Bench".into()),
        avatar_url: Set(None),
        status: Set(store::entities::states::AccountStatus::Connected),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("an account")
    .id;
    let uid = person.id;
    insert_series(
        db,
        size.posts,
        "INSERT INTO posts (workspace_id, author_id, body, state, revision, created_at, updated_at)",
        &format!(
            "{ws}, {uid}, 'Post number ' || n || ' of the bench account, with a little text', \
             'draft', 1, {TS}, {TS}"
        ),
    )
    .await;
    db.execute_unprepared(&format!(
        "INSERT INTO post_targets (post_id, account_id, options, state, attempts, updated_at) \
         SELECT id, {account}, '{{}}', 'draft', 0, {TS} FROM posts WHERE workspace_id = {ws}"
    ))
    .await
    .expect("targets");
    insert_series(
        db,
        size.rows,
        "INSERT INTO activity_log (workspace_id, actor_user_id, actor_name, action, object_type, object_id, summary, created_at)",
        &format!("{ws}, {uid}, 'Bench {tag}', 'post.created', 'post', n, 'created a post', {TS}"),
    )
    .await;
    insert_series(
        db,
        size.media,
        "INSERT INTO media_items (workspace_id, uploaded_by, kind, mime, filename, size_bytes, object_key, folder, tags, provenance, created_at)",
        &format!(
            "{ws}, {uid}, 'image', 'image/png', 'file-' || n || '.png', 2048, \
             'ws-{ws}/bench-' || n || '.png', '', ',', 'uploaded', {TS}"
        ),
    )
    .await;
    let folder = dir.join("media").join(format!("ws-{ws}"));
    std::fs::create_dir_all(&folder).expect("the media folder");
    let body = vec![7u8; 2048];
    for n in 1..=size.media {
        std::fs::write(folder.join(format!("bench-{n}.png")), &body).expect("a media file");
    }
    (uid, ws)
}

/// The same rows and objects, deleted with plain statements in one transaction.
async fn bare_delete(services: &Services, uid: i64, ws: i64) {
    use sea_orm::TransactionTrait;
    let keys: Vec<String> = store::entities::media_item::Entity::find()
        .all(&services.db)
        .await
        .expect("keys")
        .into_iter()
        .filter(|m| m.workspace_id == ws)
        .map(|m| m.object_key)
        .collect();
    let txn = services.db.begin().await.expect("begin");
    for sql in [
        format!("DELETE FROM activity_log WHERE workspace_id = {ws}"),
        format!(
            "DELETE FROM post_targets WHERE post_id IN (SELECT id FROM posts WHERE workspace_id = {ws})"
        ),
        format!("DELETE FROM posts WHERE workspace_id = {ws}"),
        format!("DELETE FROM media_items WHERE workspace_id = {ws}"),
        format!("DELETE FROM social_accounts WHERE workspace_id = {ws}"),
        format!("DELETE FROM memberships WHERE workspace_id = {ws}"),
        format!("DELETE FROM workspaces WHERE id = {ws}"),
        format!("DELETE FROM users WHERE id = {uid}"),
    ] {
        txn.execute_unprepared(&sql).await.expect("delete");
    }
    txn.commit().await.expect("commit");
    for key in keys {
        services.objects.delete(&key).await.expect("delete a file");
    }
}
