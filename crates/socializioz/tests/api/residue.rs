//! What a deletion leaves outside the rows, on both databases: the raw SQLite file and its WAL
//! hold none of the deleted person's text (`secure_delete`, and the WAL truncated after the
//! deletion), PostgreSQL has vacuumed the tables the deletion touched, the mail outbox keeps
//! only the receipt of the messages to or naming the address and drops old messages in the
//! daily run, and every file the server keeps is for its own user only (fixed at start when
//! it was not).

use crate::both_backends;
use crate::helpers::{Backend, Client, TestApp, post_input, spawn_app, spawn_app_with};
use providers::mail::Email;
use reqwest::StatusCode;
use services::deletion::{Residue, Whom};
use services::posts::Intent;
use std::path::{Path, PathBuf};

both_backends!(
    a_deletion_leaves_none_of_the_person_in_the_database_files,
    the_outbox_keeps_only_the_receipt_of_a_deleted_persons_messages,
    the_daily_run_purges_outbox_messages_past_their_period,
    data_files_are_for_the_server_user_only_and_fixed_at_start,
);

const ADDRESS: &str = "zelda.quartzfield@example.com";
const NAME: &str = "Zelda Quartzfield";
const CAMPAIGN: &str = "Quokka Harvest Campaign";
const POST: &str = "Quokkas gather at dawn near the quartz field";
const RECEIPT: &str = "Your Socializioz account is deleted";

/// How often `needle` occurs in `haystack`, ignoring ASCII case.
fn occurrences(haystack: &[u8], needle: &str) -> usize {
    let needle = needle.to_ascii_lowercase().into_bytes();
    haystack
        .to_ascii_lowercase()
        .windows(needle.len())
        .filter(|w| *w == needle.as_slice())
        .count()
}

/// The SQLite database file and, when it exists, its WAL.
fn sqlite_files(app: &TestApp) -> Vec<PathBuf> {
    let db = app.data.0.join("test.db");
    let wal = app.data.0.join("test.db-wal");
    let mut files = vec![db];
    if wal.exists() {
        files.push(wal);
    }
    files
}

/// Zelda, with a workspace, a campaign and a draft; returns her id and her browser.
async fn zelda(app: &TestApp) -> (i64, Client) {
    let client = app.verified_user(NAME, ADDRESS).await;
    let ws = client.new_workspace("Zelda Works").await;
    client
        .new_campaign(ws, CAMPAIGN, "Marsupials", ("2030-03-01", "2030-03-31"))
        .await;
    app.save_post(
        ADDRESS,
        ws,
        post_input(POST, &[], Vec::new(), Intent::Draft),
    )
    .await;
    (app.user_id(ADDRESS).await, client)
}

/// Whether PostgreSQL has vacuumed `table` by request (autovacuum is counted apart).
async fn vacuumed(app: &TestApp, table: &str) -> bool {
    app.count(&format!(
        "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = '{table}' \
         AND last_vacuum IS NOT NULL"
    ))
    .await
        == 1
}

async fn a_deletion_leaves_none_of_the_person_in_the_database_files(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (id, _) = zelda(&app).await;
    let texts = [ADDRESS, NAME, CAMPAIGN, POST];
    match backend {
        Backend::Sqlite => {
            // The test reads what it looks for before the deletion, so that an absence after
            // it means something.
            let before: Vec<u8> = sqlite_files(&app)
                .iter()
                .flat_map(|f| std::fs::read(f).unwrap())
                .collect();
            for text in texts {
                assert!(occurrences(&before, text) > 0, "{text} is in the files");
            }
        }
        Backend::Postgres => {
            for table in ["users", "posts", "campaigns"] {
                assert!(!vacuumed(&app, table).await, "{table} not vacuumed yet");
            }
        }
    }

    app.delete_account(id).await;

    match backend {
        Backend::Sqlite => {
            for file in sqlite_files(&app) {
                let bytes = std::fs::read(&file).unwrap();
                for text in texts {
                    assert_eq!(
                        occurrences(&bytes, text),
                        0,
                        "{text} is still in the bytes of {}",
                        file.display()
                    );
                }
            }
        }
        Backend::Postgres => {
            for table in [
                "users",
                "posts",
                "campaigns",
                "workspaces",
                "account_deletions",
            ] {
                assert!(vacuumed(&app, table).await, "{table} was vacuumed");
            }
        }
    }
    // The operator's check agrees (on SQLite it reads the same bytes).
    match app
        .services
        .residue(Whom::EmailAndName {
            email: ADDRESS.to_owned(),
            name: NAME.to_owned(),
        })
        .await
        .unwrap()
    {
        Residue::Checked { findings, .. } => assert!(findings.is_empty(), "{findings:?}"),
        other => panic!("expected a checked deletion, got {other:?}"),
    }
    if backend == Backend::Sqlite {
        // The check reads the bytes: the address in a table the data map does not know is
        // found there (and in no row it checks).
        app.exec("CREATE TABLE scratch (note TEXT)").await;
        app.exec(&format!("INSERT INTO scratch VALUES ('{ADDRESS}')"))
            .await;
        let findings = app.residue_of(ADDRESS).await;
        assert!(!findings.is_empty(), "the address in the file is found");
        assert!(
            findings
                .iter()
                .all(|f| f.place.contains("database file") && f.place.contains("the address")),
            "{findings:?}"
        );
    }
}

async fn the_outbox_keeps_only_the_receipt_of_a_deleted_persons_messages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let bob = app.verified_user("Bob Builder", "bob@example.com").await;
    let (id, client) = zelda(&app).await;
    // An invitation to her, an export-ready message to her, and a message to someone else
    // that names her address.
    let shop = bob.new_workspace("Bob Shop").await;
    app.invite(&bob, shop, ADDRESS, "editor").await;
    let res = client.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "export asked for");
    let naming = Email {
        to: "carol@example.com".into(),
        subject: "About a colleague".into(),
        body: format!(
            "Please write to {} about the launch.",
            ADDRESS.to_uppercase()
        ),
        attachments: Vec::new(),
    };
    app.services.mailer.send(&naming).await.unwrap();
    let mails = app.mails().await;
    let to_her = mails.iter().filter(|m| m.to == ADDRESS).count();
    assert!(
        to_her >= 3,
        "confirmation, invitation and export mailed: {to_her}"
    );
    assert!(
        mails
            .iter()
            .any(|m| m.subject == "Your Socializioz data export is ready")
    );
    let others_before = mails.iter().filter(|m| m.to != ADDRESS).count();

    app.delete_account(id).await;

    let after = app.mails().await;
    let to_her: Vec<&str> = after
        .iter()
        .filter(|m| m.to == ADDRESS || m.body.to_lowercase().contains(ADDRESS))
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(to_her, [RECEIPT], "only the receipt stays");
    // Bob's own messages stay; the one naming her went.
    assert_eq!(
        after.iter().filter(|m| m.to != ADDRESS).count(),
        others_before - 1
    );
    assert!(after.iter().all(|m| m.subject != naming.subject));
    assert!(app.residue_of(ADDRESS).await.is_empty());

    // A message naming her written after the deletion is residue, and the daily run's outbox
    // purge removes it.
    app.services.mailer.send(&naming).await.unwrap();
    let findings = app.residue_of(ADDRESS).await;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].place.contains("outbox"), "{findings:?}");
    assert_eq!(findings[0].count, 1);
    let purged = app.services.purge_outbox(services::now()).await.unwrap();
    assert_eq!(purged, 1);
    assert!(app.residue_of(ADDRESS).await.is_empty());
    let receipts = app
        .mails()
        .await
        .iter()
        .filter(|m| m.subject == RECEIPT)
        .count();
    assert_eq!(receipts, 1, "the receipt is not purged before its time");
}

/// The `.eml` files in the outbox, by name.
fn outbox(app: &TestApp) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(app.data.0.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

async fn the_daily_run_purges_outbox_messages_past_their_period(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.retention.outbox_days = 30).await else {
        return;
    };
    for (to, subject) in [
        ("old@example.com", "Written 31 days ago"),
        ("recent@example.com", "Written 29 days ago"),
        ("new@example.com", "Written now"),
    ] {
        let email = Email {
            to: to.into(),
            subject: subject.into(),
            body: "Hello".into(),
            attachments: Vec::new(),
        };
        app.services.mailer.send(&email).await.unwrap();
    }
    let files = outbox(&app);
    assert_eq!(files.len(), 3);
    let day = std::time::Duration::from_secs(86_400);
    let now = std::time::SystemTime::now();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let age = if text.contains("Written 31 days ago") {
            31
        } else if text.contains("Written 29 days ago") {
            29
        } else {
            continue;
        };
        std::fs::File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(now - day * age)
            .unwrap();
    }
    let report = app.services.run_retention(services::now()).await.unwrap();
    assert_eq!(report.outbox_purged, 1);
    let left: Vec<String> = app.mails().await.into_iter().map(|m| m.subject).collect();
    assert_eq!(left, ["Written 29 days ago", "Written now"]);
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(not(unix))]
async fn data_files_are_for_the_server_user_only_and_fixed_at_start(_backend: Backend) {}

#[cfg(unix)]
async fn data_files_are_for_the_server_user_only_and_fixed_at_start(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // What an older version left: everything readable by others.
    let Some(app) = spawn_app_with(backend, |s| {
        let data = s.data.dir.clone();
        std::fs::create_dir_all(data.join("outbox")).unwrap();
        std::fs::create_dir_all(data.join("media/ws-99")).unwrap();
        std::fs::write(data.join("outbox/old.eml"), "To: a@example.com\r\n\r\nHi").unwrap();
        std::fs::write(data.join("media/ws-99/old.png"), b"png").unwrap();
        set(&data, 0o755);
        set(&data.join("outbox"), 0o755);
        set(&data.join("media/ws-99"), 0o755);
        set(&data.join("outbox/old.eml"), 0o644);
        set(&data.join("media/ws-99/old.png"), 0o644);
    })
    .await
    else {
        return;
    };
    let data = app.data.0.clone();
    for dir in [&data, &data.join("outbox"), &data.join("media/ws-99")] {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
    }
    for file in [
        data.join("outbox/old.eml"),
        data.join("media/ws-99/old.png"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // What the server writes from now on.
    let client = app.verified_user(NAME, ADDRESS).await;
    let ws = client.new_workspace("Zelda Works").await;
    let media = app
        .upload_media(&client, ws, "z.png", crate::helpers::png(40, 30, 3))
        .await;
    let key = app
        .text(&format!(
            "SELECT object_key FROM media_items WHERE id = {media}"
        ))
        .await;
    let res = client.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "export asked for");
    app.mails().await;
    let export = app
        .text("SELECT object_key FROM data_exports WHERE object_key IS NOT NULL")
        .await;
    let backup = app.services.take_backup().await.unwrap().file.path;
    let mut files = outbox(&app);
    assert!(files.len() >= 3, "confirmation and export mailed");
    files.push(data.join("media").join(&key));
    files.push(data.join("media").join(&export));
    files.push(backup);
    files.push(data.join("master.keys"));
    if backend == Backend::Sqlite {
        files.extend(sqlite_files(&app));
        files.push(data.join("test.db-shm"));
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let mut dirs = vec![data.join("backups"), data.join("media")];
    let mut parent = data.join("media").join(&key);
    while parent.pop() && parent != data.join("media") {
        dirs.push(parent.clone());
    }
    for dir in &dirs {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
    }
}
