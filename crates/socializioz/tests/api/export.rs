//! "Export all my data" on both databases: a fully used account is exported, and its ZIP is
//! read file by file: every kind of data is there, every media original is byte-identical,
//! no token or password hash is anywhere in it, and nothing of other people's workspaces.
//! Then the rules around it: one export a day (the running one shown instead), the download
//! for its owner only, and nothing after it expires. Last, the same in a real browser.

use crate::both_backends;
use crate::browser::{Browser, run_in};
use crate::helpers::{
    Backend, Client, TestApp, expect_page, jpeg, location, png, post_input, spawn_app,
    spawn_app_with,
};
use anyhow::ensure;
use domain::{ExportId, Platform};
use providers::social::PublishError;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::Value;
use services::posts::Intent;
use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};
use store::datamap::{self, OnExport};

both_backends!(
    a_full_export_holds_everything_of_the_person_and_nothing_else,
    a_large_workspace_is_exported_whole_and_in_order,
    one_export_a_day_and_the_running_one_is_shown,
    only_the_owner_downloads_it_and_only_until_it_expires,
);

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const ADA_ACCESS: &str = "ada-access-token-5d1c8e0f7a9b3c2e";
const ADA_REFRESH: &str = "ada-refresh-token-9e2f4a6c8b0d1e3f";
const BOB_ACCESS: &str = "bob-access-token-1a2b3c4d5e6f7a8b";
const BOB_REFRESH: &str = "bob-refresh-token-8b7a6f5e4d3c2b1a";

/// A time as both databases store it, for SQL that moves times.
fn sql_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
}

/// What the test keeps to check the export against.
struct World {
    ada: Client,
    ada_id: i64,
    acme: i64,
    second: i64,
    hero: (i64, Vec<u8>),
    team: (i64, Vec<u8>),
    bob_file: Vec<u8>,
}

/// Ada: two workspaces with posts in every state (with targets and attempts), media, a
/// connected account with tokens, a campaign, consent and policy acceptances, activity. Carol
/// is a member of Ada's first workspace and has one of her own; Bob has his own, fully used.
async fn populate(app: &TestApp) -> World {
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let res = ada
        .submit("/consent", &[("choice", "accept"), ("back", "/")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let acme = ada.new_workspace("Acme Social").await;
    let second = ada.new_workspace("Second Brand").await;
    ada.new_campaign(
        acme,
        "Spring launch",
        "Everything for March",
        ("2027-03-01", "2027-03-31"),
    )
    .await;
    let x = app.connect_account(acme, Platform::X, "acme_x").await;
    app.store_tokens(x, ADA_ACCESS, ADA_REFRESH).await;
    let linkedin = app
        .connect_account(second, Platform::LinkedIn, "second_li")
        .await;
    let hero_bytes = png(64, 48, 7);
    let hero = app
        .upload_media(&ada, acme, "hero.png", hero_bytes.clone())
        .await;
    let team_bytes = jpeg(40, 30, 9);
    let team = app
        .upload_media(&ada, second, "team.jpg", team_bytes.clone())
        .await;

    app.save_post(
        ADA,
        acme,
        post_input(
            "Draft about the spring sale",
            &[x],
            vec![hero],
            Intent::Draft,
        ),
    )
    .await;
    let later = app.local_in(ADA, acme, chrono::Duration::days(2)).await;
    app.save_post(
        ADA,
        acme,
        post_input("Scheduled teaser", &[x], vec![], Intent::Schedule(later)),
    )
    .await;
    app.save_post(
        ADA,
        acme,
        post_input("Published hello", &[x], vec![hero], Intent::PublishNow),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
    app.publisher.fail_next([PublishError::InvalidContent {
        reason: "duplicate content".into(),
    }]);
    app.save_post(
        ADA,
        acme,
        post_input("Refused announcement", &[x], vec![], Intent::PublishNow),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
    app.save_post(
        ADA,
        second,
        post_input(
            "Second brand news",
            &[linkedin],
            vec![team],
            Intent::PublishNow,
        ),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();

    // Carol joins Acme, posts there, and keeps a workspace of her own.
    let invitation = app.invite(&ada, acme, CAROL, "editor").await;
    let carol = app.verified_user("Carol Member", CAROL).await;
    carol.accept(&invitation).await;
    app.save_post(
        CAROL,
        acme,
        post_input("Carol drafted this for Acme", &[x], vec![], Intent::Draft),
    )
    .await;
    let carol_own = carol.new_workspace("Carol Private Studio").await;
    app.save_post(
        CAROL,
        carol_own,
        post_input("Carol private plan", &[], vec![], Intent::Draft),
    )
    .await;

    // Bob, a stranger to Ada, fully used.
    let bob = app.verified_user("Bob Builder", BOB).await;
    let bakery = bob.new_workspace("Bob's Bakery").await;
    let bob_x = app
        .connect_account(bakery, Platform::X, "bobs_bakery")
        .await;
    app.store_tokens(bob_x, BOB_ACCESS, BOB_REFRESH).await;
    let bob_file = png(50, 50, 201);
    let bob_media = app
        .upload_media(&bob, bakery, "croissant.png", bob_file.clone())
        .await;
    app.save_post(
        BOB,
        bakery,
        post_input(
            "Bob's secret croissant recipe",
            &[bob_x],
            vec![bob_media],
            Intent::PublishNow,
        ),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();

    let ada_id = app.user_id(ADA).await;
    World {
        ada,
        ada_id,
        acme,
        second,
        hero: (hero, hero_bytes),
        team: (team, team_bytes),
        bob_file,
    }
}

/// Asks for an export as `client`, runs the queue, and returns the export's id.
async fn export_now(app: &TestApp, client: &Client) -> i64 {
    let res = client.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/settings/privacy#export");
    let page = client.get_text("/settings/privacy").await;
    assert!(page.contains("Your export is being prepared"), "{page}");
    assert!(page.contains("<progress"), "no progress bar");
    app.worker().run_until_empty().await.unwrap();
    app.count("SELECT MAX(id) FROM data_exports").await
}

/// A downloaded ZIP, file by file.
struct Zip {
    raw: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
}

impl Zip {
    fn read(raw: Vec<u8>) -> Self {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw.clone())).unwrap();
        let mut files = BTreeMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            files.insert(file.name().unwrap().into_owned(), content);
        }
        Self { raw, files }
    }

    fn text(&self, name: &str) -> String {
        let bytes = self
            .files
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the export: {:?}", self.names()));
        String::from_utf8(bytes.clone()).unwrap()
    }

    fn json(&self, name: &str) -> Value {
        serde_json::from_str(&self.text(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    }

    /// The rows of `data/<table>.jsonl`.
    fn rows(&self, table: &str) -> Vec<Value> {
        self.text(&format!("data/{table}.jsonl"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn names(&self) -> Vec<&String> {
        self.files.keys().collect()
    }

    /// Whether `needle` is anywhere: in the archive's bytes or in any file once unpacked.
    fn contains(&self, needle: &str) -> bool {
        let found = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
        found(&self.raw) || self.files.values().any(|f| found(f))
    }
}

async fn download(client: &Client, id: i64) -> reqwest::Response {
    client
        .get(&format!("/settings/privacy/export/{id}/download"))
        .await
}

async fn a_full_export_holds_everything_of_the_person_and_nothing_else(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let w = populate(&app).await;
    let id = export_now(&app, &w.ada).await;

    // Ready: the page offers the download, the e-mail leads to the page (no secret in it).
    assert_eq!(
        app.text(&format!("SELECT state FROM data_exports WHERE id = {id}"))
            .await,
        "ready"
    );
    let page = w.ada.get_text("/settings/privacy").await;
    assert!(
        page.contains(&format!("/settings/privacy/export/{id}/download")),
        "no download link"
    );
    assert!(page.contains("Your next export is possible from"), "{page}");
    assert!(
        page.contains("Your consent history"),
        "the consent history is gone"
    );
    let mail = app.last_mail_to(ADA).await;
    assert_eq!(mail.subject, "Your Socializioz data export is ready");
    assert!(
        mail.body
            .contains(&format!("{}/settings/privacy", app.address))
    );
    assert!(!mail.body.contains("/download"), "{}", mail.body);

    let res = download(&w.ada, id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"socializioz-export-")
    );
    let raw = res.bytes().await.unwrap().to_vec();
    assert_eq!(
        app.count(&format!("SELECT bytes FROM data_exports WHERE id = {id}"))
            .await,
        raw.len() as i64
    );
    // Kept as a test artefact, to look at.
    let artefacts =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    let _ = std::fs::create_dir_all(&artefacts);
    let _ = std::fs::write(artefacts.join(format!("export-{backend:?}.zip")), &raw);
    let zip = Zip::read(raw);

    // Every file the README promises, for both workspaces.
    let acme = format!("workspaces/{}-Acme Social", w.acme);
    let second = format!("workspaces/{}-Second Brand", w.second);
    for name in ["README.html", "profile.json", "consent.json"] {
        assert!(zip.files.contains_key(name), "{name} missing");
    }
    for folder in [&acme, &second] {
        for file in [
            "workspace.json",
            "members.csv",
            "campaigns.json",
            "accounts.json",
            "posts.json",
            "activity.json",
            "media/index.csv",
        ] {
            let name = format!("{folder}/{file}");
            assert!(zip.files.contains_key(&name), "{name} missing");
        }
    }
    // The complete record has a file for every table the data map exports, and rows in each
    // that this account uses; the left-out tables have none.
    let readme = zip.text("README.html");
    for table in datamap::TABLES {
        let name = format!("data/{}.jsonl", table.table);
        match table.export {
            OnExport::Exclude(_) => {
                assert!(!zip.files.contains_key(&name), "{name} is exported");
                if table.category != datamap::Category::System {
                    assert!(
                        readme.contains(&format!("<code>{}</code>", table.table)),
                        "the README does not say why {} is left out",
                        table.table
                    );
                }
            }
            _ => {
                assert!(zip.files.contains_key(&name), "{name} missing");
                assert!(readme.contains(&name), "the README does not explain {name}");
            }
        }
    }
    for table in [
        "users",
        "sessions",
        "workspaces",
        "memberships",
        "invitations",
        "activity_log",
        "consent_ledger",
        "policy_acceptances",
        "social_accounts",
        "campaigns",
        "posts",
        "post_targets",
        "publish_attempts",
        "media_items",
        "post_media",
    ] {
        assert!(!zip.rows(table).is_empty(), "data/{table}.jsonl is empty");
    }
    assert!(readme.contains("analytics") && readme.contains("invoices"));
    assert!(
        readme.contains("Posts in every state"),
        "holds sentences missing"
    );

    // Profile: the person's own row, without the password hash.
    let profile = zip.json("profile.json");
    assert_eq!(profile["account"]["email"], ADA);
    assert_eq!(profile["account"]["name"], "Ada Lovelace");
    assert!(profile["account"].get("password_hash").is_none());
    assert_eq!(profile["workspaces"].as_array().unwrap().len(), 2);
    assert!(!profile["sessions"].as_array().unwrap().is_empty());
    let users = zip.rows("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["id"], w.ada_id);
    for session in zip.rows("sessions") {
        assert_eq!(session["user_id"], w.ada_id);
        assert!(session.get("token_hash").is_none());
    }

    // Consent history and policy acceptances: Ada's only.
    let consent = zip.json("consent.json");
    let history = consent["consent_history"].as_array().unwrap();
    assert!(!history.is_empty(), "no consent history");
    assert!(history.iter().all(|r| r["user_id"] == w.ada_id));
    assert!(history.iter().any(|r| r["event"] == "grant"));
    let accepted = consent["policy_acceptances"].as_array().unwrap();
    assert!(accepted.iter().any(|r| r["kind"] == "privacy"));
    assert!(accepted.iter().all(|r| r["user_id"] == w.ada_id));

    // Activity: Ada's own entries, none of Carol's.
    let activity = zip.rows("activity_log");
    assert!(activity.iter().all(|r| r["actor_user_id"] == w.ada_id));
    let carol_acted = app
        .count("SELECT COUNT(*) FROM activity_log WHERE actor_name = 'Carol Member'")
        .await;
    assert!(carol_acted > 0, "Carol's activity exists to be left out");
    assert!(!zip.text(&format!("{acme}/activity.json")).contains("Carol"));
    assert!(
        zip.json(&format!("{acme}/activity.json"))
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "post.created")
    );

    // Workspace files.
    assert_eq!(
        zip.json(&format!("{acme}/workspace.json"))["your_role"],
        "owner"
    );
    let members = zip.text(&format!("{acme}/members.csv"));
    assert!(members.starts_with("user_id,name,email,role,member_since\r\n"));
    assert!(
        members.contains("Ada Lovelace")
            && members.contains("Carol Member,carol@example.com,editor")
    );
    assert_eq!(
        zip.json(&format!("{acme}/campaigns.json"))[0]["name"],
        "Spring launch"
    );
    let accounts = zip.json(&format!("{acme}/accounts.json"));
    assert_eq!(accounts[0]["username"], "acme_x");
    let posts = zip.json(&format!("{acme}/posts.json"));
    let posts = posts.as_array().unwrap();
    let state_of = |text: &str| {
        posts
            .iter()
            .find(|p| p["text"] == text)
            .unwrap_or_else(|| panic!("{text} is not in posts.json"))
    };
    assert_eq!(state_of("Draft about the spring sale")["state"], "draft");
    assert_eq!(
        state_of("Draft about the spring sale")["media"][0]["media_id"],
        w.hero.0
    );
    assert_eq!(state_of("Scheduled teaser")["state"], "scheduled");
    assert_eq!(state_of("Carol drafted this for Acme")["state"], "draft");
    let published = state_of("Published hello");
    assert_eq!(published["state"], "published");
    let target = &published["targets"][0];
    assert_eq!(target["platform"], "x");
    assert!(
        target["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(target["publish_attempts"][0]["outcome"], "published");
    let refused = state_of("Refused announcement");
    assert_eq!(refused["state"], "failed");
    assert!(
        refused["targets"][0]["publish_attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert_eq!(
        zip.json(&format!("{second}/posts.json"))[0]["text"],
        "Second brand news"
    );

    // Media: the index names each original, which is byte for byte the upload.
    for (folder, (media, bytes), name) in
        [(&acme, &w.hero, "hero.png"), (&second, &w.team, "team.jpg")]
    {
        let file = format!("media/originals/{media}-{name}");
        let index = zip.text(&format!("{folder}/media/index.csv"));
        assert!(
            index.contains(&format!("{media},{file},{name},image,")),
            "{index}"
        );
        let original = &zip.files[&format!("{folder}/{file}")];
        assert!(original == bytes, "{file} differs from the upload");
    }

    // No secret anywhere: not the tokens, not as stored (sealed), not a password hash, not a
    // hash of a session or invitation token.
    let mut secrets = vec![
        ADA_ACCESS.to_owned(),
        ADA_REFRESH.to_owned(),
        BOB_ACCESS.to_owned(),
        BOB_REFRESH.to_owned(),
    ];
    for sql in [
        "SELECT access_token FROM account_tokens",
        "SELECT refresh_token FROM account_tokens",
        "SELECT password_hash FROM users",
        "SELECT token_hash FROM sessions",
        "SELECT token_hash FROM invitations",
    ] {
        secrets.extend(column(&app, sql).await);
    }
    assert!(secrets.len() >= 12, "the secrets to look for were not read");
    for secret in &secrets {
        assert!(!zip.contains(secret), "a secret is in the export: {secret}");
    }
    // Nothing of Bob, nor of Carol's own workspace.
    for other in [
        "Bob Builder",
        BOB,
        "Bob's Bakery",
        "Bob's secret croissant recipe",
        "bobs_bakery",
        "croissant.png",
        "Carol Private Studio",
        "Carol private plan",
    ] {
        assert!(!zip.contains(other), "the export holds {other:?}");
    }
    assert!(
        zip.files.values().all(|f| *f != w.bob_file),
        "Bob's file is in the export"
    );
    // The control: the search does find what is there.
    assert!(zip.contains("Carol drafted this for Acme") && zip.contains(ADA));
}

/// `INSERT INTO … SELECT …` over the numbers 1..=`n` (as `n`), on either database.
async fn insert_numbered(app: &TestApp, n: u32, insert: &str, select: &str) {
    app.exec(&format!(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) \
         {insert} SELECT {select} FROM s"
    ))
    .await;
}

/// More members, posts and log entries than the export reads together: every row comes out
/// once, in id order, with its own targets and attempts, and another member's log entries
/// stay out however they interleave with the person's. With the smallest pool allowed (two
/// connections): an export never holds more.
async fn a_large_workspace_is_exported_whole_and_in_order(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.database.max_connections = 2).await else {
        return;
    };
    const T: &str = "'2026-01-01 00:00:00+00:00'";
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let carol = app.verified_user("Carol Member", CAROL).await;
    let ws = ada.new_workspace("Big Shop").await;
    let x = app.connect_account(ws, Platform::X, "big_x").await;
    let ada_id = app.user_id(ADA).await;
    let carol_id = app.user_id(CAROL).await;
    drop(carol);

    insert_numbered(
        &app,
        230,
        "INSERT INTO users (name, email, password_hash, timezone, language, created_at, updated_at)",
        &format!("'Member ' || n, 'member-' || n || '@example.com', '!', 'UTC', 'en', {T}, {T}"),
    )
    .await;
    app.exec(&format!(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) \
         SELECT {ws}, id, 'viewer', {T} FROM users WHERE email LIKE 'member-%'"
    ))
    .await;
    insert_numbered(
        &app,
        250,
        "INSERT INTO posts (workspace_id, author_id, body, state, revision, created_at, updated_at)",
        &format!("{ws}, {ada_id}, 'Bulk post ' || n, 'draft', 1, {T}, {T}"),
    )
    .await;
    app.exec(&format!(
        "INSERT INTO post_targets (post_id, account_id, body, options, state, attempts, updated_at) \
         SELECT id, {x}, 'Target of ' || body, '{{}}', 'failed', 1, {T} FROM posts \
         WHERE body LIKE 'Bulk post %'"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO publish_attempts (target_id, number, idempotency_key, started_at, outcome) \
         SELECT id, 1, 'key of ' || body, {T}, 'failed' FROM post_targets \
         WHERE body LIKE 'Target of Bulk post %'"
    ))
    .await;
    let actor = format!("CASE WHEN n % 3 = 0 THEN {carol_id} ELSE {ada_id} END");
    insert_numbered(
        &app,
        1_300,
        "INSERT INTO activity_log (workspace_id, actor_user_id, actor_name, action, object_type, object_id, summary, created_at)",
        &format!(
            "{ws}, {actor}, CASE WHEN n % 3 = 0 THEN 'Carol Member' ELSE 'Ada Lovelace' END, \
             'post.updated', 'post', n, 'entry ' || n, {T}"
        ),
    )
    .await;

    let id = export_now(&app, &ada).await;
    let zip = Zip::read(download(&ada, id).await.bytes().await.unwrap().to_vec());
    let folder = format!("workspaces/{ws}-Big Shop");

    let members = zip.text(&format!("{folder}/members.csv"));
    assert_eq!(members.lines().count(), 1 + 1 + 230, "{members}");
    assert!(members.contains("Member 230,member-230@example.com,viewer"));

    let ids = |sql: &str| {
        let sql = sql.to_owned();
        let app = &app;
        async move {
            column(app, &sql)
                .await
                .into_iter()
                .map(|v| v.parse::<i64>().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let post_ids = ids(&format!(
        "SELECT CAST(id AS TEXT) AS v FROM posts WHERE workspace_id = {ws} ORDER BY id"
    ))
    .await;
    assert_eq!(post_ids.len(), 250);
    let posts = zip.json(&format!("{folder}/posts.json"));
    let posts = posts.as_array().unwrap();
    let exported: Vec<i64> = posts.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(exported, post_ids, "posts.json: every post once, in order");
    for p in posts {
        let text = p["text"].as_str().unwrap();
        let targets = p["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{text}");
        assert_eq!(targets[0]["text"], format!("Target of {text}"));
        let attempts = targets[0]["publish_attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{text}");
        assert_eq!(
            attempts[0]["idempotency_key"],
            format!("key of Target of {text}")
        );
    }
    let dumped = |table: &str| -> Vec<i64> {
        zip.rows(table)
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(dumped("posts"), post_ids, "data/posts.jsonl");
    assert_eq!(dumped("post_targets").len(), 250);
    assert_eq!(dumped("publish_attempts").len(), 250);

    let own = ids(&format!(
        "SELECT CAST(id AS TEXT) AS v FROM activity_log \
         WHERE workspace_id = {ws} AND actor_user_id = {ada_id} \
         ORDER BY id"
    ))
    .await;
    assert!(own.len() > 860, "{} of Ada's entries", own.len());
    assert_eq!(dumped("activity_log"), own, "data/activity_log.jsonl");
    let activity = zip.json(&format!("{folder}/activity.json"));
    let activity = activity.as_array().unwrap();
    assert_eq!(activity.len(), own.len());
    assert!(
        activity
            .iter()
            .all(|a| !a["summary"].as_str().unwrap().is_empty())
            && !zip
                .text(&format!("{folder}/activity.json"))
                .contains("Carol"),
        "another member's entries are in activity.json"
    );
}

/// Every value of the first column.
async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let db = &app.services.db;
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql,
    ))
    .await
    .unwrap()
    .iter()
    .filter_map(|row| row.try_get_by_index::<Option<String>>(0).unwrap())
    .collect()
}

async fn one_export_a_day_and_the_running_one_is_shown(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    ada.new_workspace("Acme").await;
    let page = ada.get_text("/settings/privacy").await;
    assert!(page.contains("Export all my data"), "no export button");

    // A double click makes one export; asking again while it runs shows that one.
    let (a, b) = tokio::join!(
        ada.submit("/settings/privacy/export", &[]),
        ada.submit("/settings/privacy/export", &[])
    );
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM data_exports").await, 1);
    let page = ada.get_text("/settings/privacy").await;
    assert!(page.contains("Your export is being prepared"));
    assert!(
        !page.contains("action=\"/settings/privacy/export\""),
        "the button is offered while an export runs"
    );
    let status: Value = ada
        .get("/settings/privacy/export/status")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "queued");
    assert_eq!(status["running"], true);
    app.worker().run_until_empty().await.unwrap();
    let status: Value = ada
        .get("/settings/privacy/export/status")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "ready");
    assert_eq!(status["percent"], 100);
    assert_eq!(status["done"], status["total"]);

    // Within the day: refused, with when the next one is possible.
    let res = ada.submit("/settings/privacy/export", &[]).await;
    let page = expect_page(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "You can ask for one export a day. Your next export is possible from",
    )
    .await;
    assert!(
        page.contains("Europe/Berlin"),
        "the time is not in the person's zone"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM data_exports").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'build_export'")
            .await,
        1
    );

    // A day later it is possible again.
    let yesterday = sql_time(chrono::Utc::now() - chrono::Duration::hours(25));
    app.exec(&format!(
        "UPDATE data_exports SET requested_at = '{yesterday}'"
    ))
    .await;
    let page = ada.get_text("/settings/privacy").await;
    assert!(page.contains("action=\"/settings/privacy/export\""));
    let res = ada.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM data_exports").await, 2);
}

async fn only_the_owner_downloads_it_and_only_until_it_expires(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    ada.new_workspace("Acme").await;
    let bob = app.verified_user("Bob Builder", BOB).await;
    let id = export_now(&app, &ada).await;
    let key = app
        .text(&format!(
            "SELECT object_key FROM data_exports WHERE id = {id}"
        ))
        .await;
    let ada_id = app.user_id(ADA).await;
    assert!(
        key.starts_with(&store::objects::user_prefix(ada_id)),
        "{key}"
    );
    assert!(app.services.objects.exists(&key).await);
    // The link works for seven days from when it was ready.
    let export = store::entities::data_export::Entity::find_by_id(id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        export.expires_at.unwrap() - export.ready_at.unwrap(),
        chrono::Duration::days(7)
    );

    // Someone else: as if there were nothing; nobody signed in: the log-in page.
    assert_eq!(download(&bob, id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        download(&bob, id + 1000).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = download(&app.client(), id).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(res.headers()).starts_with("/login"));
    assert_eq!(download(&ada, id).await.status(), StatusCode::OK);

    // Past its expiry the file is deleted when it is asked for, and the link says so.
    let past = sql_time(chrono::Utc::now() - chrono::Duration::minutes(1));
    app.exec(&format!(
        "UPDATE data_exports SET expires_at = '{past}' WHERE id = {id}"
    ))
    .await;
    let res = download(&ada, id).await;
    expect_page(res, StatusCode::GONE, "This export has expired").await;
    assert!(!app.services.objects.exists(&key).await, "the file is kept");
    assert_eq!(
        app.text(&format!("SELECT state FROM data_exports WHERE id = {id}"))
            .await,
        "expired"
    );
    let page = ada.get_text("/settings/privacy").await;
    assert!(page.contains("Your last export has expired"));
    assert_eq!(download(&bob, id).await.status(), StatusCode::NOT_FOUND);
    // An expired export is not built again (a job left over for it finds nothing to do).
    app.services.build_export(ExportId(id)).await.unwrap();
    assert_eq!(
        app.text(&format!("SELECT state FROM data_exports WHERE id = {id}"))
            .await,
        "expired"
    );
    assert!(!app.services.objects.exists(&key).await);

    // The job planned at the expiry deletes the file without anyone asking.
    let yesterday = sql_time(chrono::Utc::now() - chrono::Duration::hours(25));
    app.exec(&format!(
        "UPDATE data_exports SET requested_at = '{yesterday}'"
    ))
    .await;
    let second = export_now(&app, &ada).await;
    let key = app
        .text(&format!(
            "SELECT object_key FROM data_exports WHERE id = {second}"
        ))
        .await;
    assert!(app.services.objects.exists(&key).await);
    app.exec(&format!(
        "UPDATE data_exports SET expires_at = '{past}' WHERE id = {second}"
    ))
    .await;
    app.exec(&format!(
        "UPDATE jobs SET run_at = '{past}' WHERE kind = 'expire_export' AND state = 'queued'"
    ))
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert!(
        !app.services.objects.exists(&key).await,
        "the job kept the file"
    );
    assert_eq!(
        app.text(&format!(
            "SELECT state FROM data_exports WHERE id = {second}"
        ))
        .await,
        "expired"
    );
}

/// Waits until `script` returns true (the page reloads on its own in between).
async fn wait_for(b: &Browser, script: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if b.eval(script).await.ok().and_then(|v| v.as_bool()) == Some(true) {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "gave up waiting for: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_all_my_data_in_the_browser() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    run_in(app, "export", true, async |b, app| {
        let base = &app.address;
        let ada = app.verified_user("Ada Lovelace", ADA).await;
        let ws = ada.new_workspace("Acme").await;
        app.upload_media(&ada, ws, "hero.png", png(32, 32, 3)).await;

        b.log_in(base, ADA, "Acme").await?;

        b.goto(&format!("{base}/settings/privacy")).await?;
        b.wait_for_heading("Settings").await?;
        b.click("form[action='/settings/privacy/export'] button[type=submit]")
            .await?;
        b.wait_for_heading("Settings").await?;
        ensure!(
            b.exists("[data-export-status] progress").await?,
            "no progress bar after asking"
        );
        ensure!(
            b.body_text()
                .await?
                .contains("Your export is being prepared"),
            "the export is not shown as under way"
        );
        b.screenshot("progress").await?;

        // The page is not reloaded by the test: its script follows the progress and shows the
        // download once the worker has made it.
        b.eval("window.notReloaded = true; return 1").await?;
        app.worker().run_until_empty().await?;
        wait_for(
            b,
            "return document.querySelector('[data-export-download]') !== null",
        )
        .await?;
        ensure!(
            b.eval("return window.notReloaded === undefined").await? == true,
            "the download appeared without the page's script"
        );
        let text = b.text("[data-export-ready]").await?;
        ensure!(
            text.contains("is ready") && text.contains("Download your data (ZIP,"),
            "{text}"
        );
        ensure!(
            !b.exists("[data-export-status]").await?,
            "the progress bar is still shown"
        );
        b.screenshot("ready").await?;

        let href = b
            .eval("return document.querySelector('[data-export-download]').getAttribute('href')")
            .await?;
        let href = href.as_str().unwrap_or_default().to_owned();
        let res = ada.get(&href).await;
        ensure!(
            res.status() == StatusCode::OK,
            "the link answers {}",
            res.status()
        );
        let zip = Zip::read(res.bytes().await?.to_vec());
        ensure!(
            zip.files.contains_key("README.html"),
            "no README in the ZIP"
        );
        Ok(())
    })
    .await;
}
