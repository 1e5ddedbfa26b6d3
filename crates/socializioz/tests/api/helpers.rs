//! The test harness: `spawn_app(backend)` starts the real application on port 0 with a fresh
//! database (a temporary SQLite file, or a PostgreSQL database created for the test and dropped
//! afterwards) and a temporary data folder. `Client` is one browser's worth of cookies.
//!
//! PostgreSQL comes from `SOCIALIZIOZ_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the PostgreSQL half of
//! each test is skipped with a printed reason, unless `SOCIALIZIOZ_REQUIRE_POSTGRES=1`, which
//! turns the skip into a failure (CI sets it).

#![allow(dead_code)]

use domain::{Platform, SocialAccountId, UserId};
use providers::social::Publishers;
use providers::social::recording::RecordingPublisher;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use sea_orm::{ConnectionTrait, Database};
use services::Services;
use services::jobs::worker::{Worker, WorkerOptions};
use socializioz::app::Application;
use socializioz::config::Settings;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl From<Backend> for store::Backend {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => store::Backend::Sqlite,
            Backend::Postgres => store::Backend::Postgres,
        }
    }
}

/// Expands one `async fn name(backend: Backend)` into `name::sqlite` and `name::postgres` tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// Says why a test is skipped, on the real standard error: the test harness captures
/// `eprintln!`, and a skip must be seen.
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{reason}");
}

pub fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// Waits until `done` holds, checking every 50 ms, failing after `patience` with `what`;
/// returns how long it took. For what other processes do (no queue to run to the end here).
pub async fn until<F, Fut>(what: &str, patience: Duration, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < patience,
            "{what}: not within {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

fn pg_admin_url() -> String {
    std::env::var("SOCIALIZIOZ_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create() -> Option<Self> {
        let admin_url = pg_admin_url();
        let admin = match Database::connect(&admin_url).await {
            Ok(db) => db,
            Err(e) => {
                if required("SOCIALIZIOZ_REQUIRE_POSTGRES") {
                    panic!(
                        "PostgreSQL is required (SOCIALIZIOZ_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {e}"
                    );
                }
                skip(&format!(
                    "SKIPPED (PostgreSQL): {admin_url} is unreachable: {e}"
                ));
                return None;
            }
        };
        let name = unique("sz_test");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Some(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async code: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(&pg_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A folder removed when the test ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("socializioz-test"));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub services: Services,
    pub backend: Backend,
    pub data: TempDir,
    pub database_url: String,
    /// The stand-in for every platform: records what it is asked to publish.
    pub publisher: Arc<RecordingPublisher>,
    _pg: Option<PgDatabase>,
}

/// The server key of every test instance (the command-line tools are given it too).
pub const TEST_SECRET_KEY: &str = "test-secret-key-test-secret-key-0123456789";

/// Settings for a test instance: port 0, its own data folder and database.
pub fn test_settings(data: &TempDir, database_url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.server.listen = "127.0.0.1:0".to_owned();
    settings.data.dir = data.0.clone();
    settings.database.url = Some(database_url.to_owned().into());
    settings.database.max_connections = 5;
    settings.security.secret_key = Some(TEST_SECRET_KEY.to_owned().into());
    // Every test browser comes from one address; the sign-up limits are tested on their own
    // (auth_abuse.rs).
    settings.signup.per_client_per_hour = 10_000;
    settings.signup.per_hour = 10_000;
    settings
}

/// Starts the application; `None` when the backend is not available here (and not required).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// The operator's tags that the consent tests configure.
pub const ANALYTICS_TAG: &str = "https://stats.example.test/script.js";
pub const MARKETING_TAG: &str = "https://ads.example.test/pixel.js";

/// Starts the application with its analytics and marketing tags configured.
pub async fn spawn_app_with_tags(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.consent.analytics_script = Some(ANALYTICS_TAG.to_owned());
        s.consent.marketing_script = Some(MARKETING_TAG.to_owned());
    })
    .await
}

/// Starts the application with settings adjusted by `adjust`.
pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let data = TempDir::new();
    let (url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", data.0.join("test.db").display()),
            None,
        ),
        Backend::Postgres => {
            let pg = PgDatabase::create().await?;
            (pg.url.clone(), Some(pg))
        }
    };
    let mut settings = test_settings(&data, &url);
    adjust(&mut settings);
    let database_url = url.clone();
    let sandbox = settings.platforms.sandbox || settings.platforms.simulator.is_some();
    let mut app = Application::build(settings, false)
        .await
        .expect("build the application");
    let publisher = Arc::new(RecordingPublisher::new(Duration::ZERO));
    // In sandbox mode the real adapters talk to the simulator; otherwise every platform is the
    // recording publisher.
    if !sandbox {
        app.set_publishers(Platform::ALL.iter().fold(Publishers::default(), |all, p| {
            all.with(*p, publisher.clone())
        }));
    }
    let port = app.port();
    let services = app.services().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        services,
        backend,
        data,
        database_url,
        publisher,
        _pg: pg,
    })
}

/// A message found in the outbox.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The text: the body, or a multipart message's text part.
    pub body: String,
    pub attachments: Vec<MailFile>,
}

/// A file attached to a message.
#[derive(Clone)]
pub struct MailFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for MailFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {} bytes)",
            self.name,
            self.content_type,
            self.bytes.len()
        )
    }
}

impl Mail {
    /// The first link in the body that starts with `prefix` (a path such as `/verify/`).
    pub fn link(&self, address: &str, prefix: &str) -> String {
        let start = format!("{address}{prefix}");
        let at = self
            .body
            .find(&start)
            .unwrap_or_else(|| panic!("no {start} link in: {}", self.body));
        let rest = &self.body[at + address.len()..];
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client::new(&self.address)
    }

    pub fn worker(&self) -> Worker {
        Worker::new(
            self.services.clone(),
            WorkerOptions::new(Duration::from_millis(10)),
        )
    }

    /// Connects a platform account to workspace `ws` directly in the database (the connect
    /// flow arrives with the platform adapters). Returns its id.
    pub async fn connect_account(&self, ws: i64, platform: Platform, username: &str) -> i64 {
        use sea_orm::{ActiveModelTrait, Set};
        let now = services::now();
        store::entities::social_account::ActiveModel {
            workspace_id: Set(ws),
            platform: Set(platform.slug().to_owned()),
            external_id: Set(format!("ext-{username}")),
            username: Set(username.to_owned()),
            display_name: Set(username.to_owned()),
            avatar_url: Set(None),
            status: Set(store::entities::states::AccountStatus::Connected),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.services.db)
        .await
        .expect("insert an account")
        .id
    }

    /// The user `email` and their membership of workspace `ws`, for calling services directly.
    pub async fn member(
        &self,
        email: &str,
        ws: i64,
    ) -> (
        store::entities::user::Model,
        services::workspaces::Membership,
    ) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let user = store::entities::user::Entity::find()
            .filter(store::entities::user::Column::Email.eq(email))
            .one(&self.services.db)
            .await
            .unwrap()
            .expect("the user exists");
        let membership = self
            .services
            .memberships_of(domain::UserId(user.id))
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.workspace.id == ws)
            .expect("a member of the workspace");
        (user, membership)
    }

    /// Runs SQL that changes rows (tests move times into the past with it).
    pub async fn exec(&self, sql: &str) {
        let db = &self.services.db;
        db.execute_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("execute");
    }

    /// Delivers every queued e-mail and returns all messages written so far, oldest first.
    pub async fn mails(&self) -> Vec<Mail> {
        self.worker()
            .run_until_empty()
            .await
            .expect("run the queue");
        let dir = self.data.0.join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| parse_eml(p))
            .collect()
    }

    /// The newest message to `to`.
    pub async fn last_mail_to(&self, to: &str) -> Mail {
        self.mails()
            .await
            .into_iter()
            .rev()
            .find(|m| m.to == to)
            .unwrap_or_else(|| panic!("no e-mail to {to}"))
    }

    /// Signs a new person up in a fresh browser and confirms their address. Returns the browser.
    pub async fn verified_user(&self, name: &str, email: &str) -> Client {
        let client = self.client();
        let res = client.sign_up(name, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-up of {email}");
        self.confirm_sign_up(&client, email).await;
        client
    }

    /// Runs the queued sign-up of `email` and opens its confirmation link in `client`, the
    /// browser that signed up, which signs it in.
    pub async fn confirm_sign_up(&self, client: &Client, email: &str) {
        let link = self
            .last_mail_to(email)
            .await
            .link(&self.address, "/verify/");
        let res = client.submit(&link, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "confirming {email}");
    }

    async fn first<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        first(&self.services.db, sql).await
    }

    /// Deletes the account `user_id` as the app does, to the end (no platform is connected in
    /// the tests that use this).
    pub async fn delete_account(&self, user_id: i64) {
        let id = self
            .services
            .begin_account_deletion(UserId(user_id), services::deletion::Via::App)
            .await
            .expect("begin the deletion");
        self.services
            .run_account_deletion(id)
            .await
            .expect("carry out the deletion");
    }

    /// The tokens held for connected account `account` (it must have some).
    pub async fn tokens_of(&self, account: i64) -> services::account_tokens::TokenSet {
        self.services
            .tokens_of(SocialAccountId(account))
            .await
            .unwrap()
            .expect("the account holds tokens")
    }

    /// The id of the account with `email`.
    pub async fn user_id(&self, email: &str) -> i64 {
        self.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
            .await
    }

    /// Uploads `bytes` as `name` to `ws`'s media library as `client`; returns the file's id.
    pub async fn upload_media(&self, client: &Client, ws: i64, name: &str, bytes: Vec<u8>) -> i64 {
        let res = client
            .upload(
                &format!("/w/{ws}/media/upload"),
                &[],
                vec![(name, bytes)],
                true,
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "uploading {name}");
        self.count(&format!(
            "SELECT MAX(id) FROM media_items WHERE workspace_id = {ws} AND filename = '{name}'"
        ))
        .await
    }

    /// Stores tokens for a connected account, sealed as the product seals them.
    pub async fn store_tokens(&self, account: i64, access: &str, refresh: &str) {
        let tokens = services::account_tokens::TokenSet {
            access: secrecy::SecretString::from(access.to_owned()),
            refresh: Some(secrecy::SecretString::from(refresh.to_owned())),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(2)),
            refresh_expires_at: None,
            scopes: vec!["tweet.read".into(), "tweet.write".into()],
        };
        self.services
            .store_tokens(&self.services.db, SocialAccountId(account), &tokens)
            .await
            .expect("store the tokens");
    }

    /// `who` invites `email` to `ws` as `role`; returns the e-mailed link.
    pub async fn invite(&self, who: &Client, ws: i64, email: &str, role: &str) -> String {
        let res = who
            .submit(
                &format!("/w/{ws}/invitations"),
                &[("email", email), ("role", role)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "invite {email}");
        self.last_mail_to(email)
            .await
            .link(&self.address, "/invitations/")
    }

    /// Saves a post as the member with `email` of `ws`; returns its id.
    pub async fn save_post(&self, email: &str, ws: i64, input: services::posts::PostInput) -> i64 {
        let (user, member) = self.member(email, ws).await;
        self.services
            .save_post(&member, &user, None, input)
            .await
            .expect("save the post")
            .id
    }

    /// The first column of the first row, as text.
    pub async fn text(&self, sql: &str) -> String {
        self.first(sql).await
    }

    /// The first column of the first row, as a number.
    pub async fn count(&self, sql: &str) -> i64 {
        self.first(sql).await
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Runs one SQL query on `db` and returns the first column of its first row.
pub async fn first<T: sea_orm::TryGetable>(db: &impl ConnectionTrait, sql: &str) -> T {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("query")
        .expect("one row");
    row.try_get_by_index::<T>(0)
        .expect("a value of the expected type")
}

/// A post with `text` for `accounts` (their base text) and the post's `media`.
pub fn post_input(
    text: &str,
    accounts: &[i64],
    media: Vec<i64>,
    intent: services::posts::Intent,
) -> services::posts::PostInput {
    services::posts::PostInput {
        body: text.to_owned(),
        first_comment: None,
        campaign_id: None,
        targets: accounts
            .iter()
            .map(|a| services::posts::TargetInput {
                account_id: *a,
                body: None,
                media: Vec::new(),
                format: Default::default(),
            })
            .collect(),
        media,
        intent,
        ai_suggestion: None,
        auto_approve: false,
    }
}

/// A real image of `width` × `height` pixels whose colours depend on `seed`, so that each
/// test file can be told apart.
fn image_of(width: u32, height: u32, seed: u8, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode an image");
    out.into_inner()
}

pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    image_of(width, height, seed, image::ImageFormat::Png)
}

pub fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    image_of(width, height, seed, image::ImageFormat::Jpeg)
}

fn parse_eml(path: &std::path::Path) -> Mail {
    let raw = std::fs::read_to_string(path).expect("read an .eml file");
    let (head, body) = split_head(&raw);
    let mut mail = Mail {
        to: header(&head, "To"),
        subject: header(&head, "Subject"),
        body: String::new(),
        attachments: Vec::new(),
    };
    let content_type = header(&head, "Content-Type");
    let Some(boundary) = content_type
        .starts_with("multipart/")
        .then(|| content_type.split("boundary=\"").nth(1))
        .flatten()
        .and_then(|rest| rest.split('"').next())
    else {
        mail.body = text_of(&head, body);
        return mail;
    };
    for part in body
        .split(&format!("--{boundary}"))
        .skip(1)
        .take_while(|part| !part.starts_with("--"))
    {
        let (head, body) = split_head(part.trim_start_matches(['\r', '\n']));
        // The line break before the next boundary belongs to the boundary.
        let body = body
            .strip_suffix("\r\n")
            .or_else(|| body.strip_suffix('\n'))
            .unwrap_or(body);
        let disposition = header(&head, "Content-Disposition");
        if disposition.starts_with("attachment") {
            // `filename="…"`, or a long name in pieces: `filename*0="…"; filename*1="…"`.
            let name: String = disposition
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("filename"))
                .filter_map(|p| p.split_once("=\"").map(|(_, v)| v.trim_end_matches('"')))
                .collect();
            mail.attachments.push(MailFile {
                name,
                content_type: header(&head, "Content-Type"),
                bytes: decoded(&head, body),
            });
        } else {
            mail.body.push_str(&text_of(&head, body));
        }
    }
    mail
}

/// The header block, unfolded, and the body.
fn split_head(text: &str) -> (String, &str) {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .expect("headers and body");
    (head.replace("\r\n ", " ").replace("\n ", " "), body)
}

fn header(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A body decoded as its `Content-Transfer-Encoding` says.
fn decoded(head: &str, body: &str) -> Vec<u8> {
    match header(head, "Content-Transfer-Encoding").as_str() {
        "quoted-printable" => decode_qp(body).into_bytes(),
        "base64" => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body")
        }
        _ => body.replace("\r\n", "\n").into_bytes(),
    }
}

fn text_of(head: &str, body: &str) -> String {
    String::from_utf8(decoded(head, body)).expect("utf-8 body")
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

/// One browser: a cookie jar and redirects left to the test.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub address: String,
}

impl Client {
    /// Creates a workspace named `name`; returns its id.
    pub async fn new_workspace(&self, name: &str) -> i64 {
        let res = self.submit("/workspaces/new", &[("name", name)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "creating {name}");
        id_from_location(res.headers())
    }

    pub fn new(address: &str) -> Self {
        // No idle connection is kept for the next request: the server closes a keep-alive
        // connection left idle for its header-read timeout, and on a busy machine a request
        // sent on a pooled connection at that very moment fails with "connection closed
        // before message completed" (a media test failed that way under load). A new
        // connection per request cannot meet that race.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
            .build()
            .expect("build an HTTP client");
        Self {
            http,
            address: address.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.text().await.expect("body")
    }

    /// The CSRF token the site hands this browser, read from a page with a form.
    pub async fn csrf(&self) -> String {
        for page in ["/login", "/settings"] {
            let res = self.get(page).await;
            if res.status() == StatusCode::OK {
                let html = res.text().await.expect("body");
                if let Some(token) = csrf_in(&html) {
                    return token;
                }
            }
        }
        panic!("no page offered a CSRF token")
    }

    /// Posts a form with this browser's CSRF token.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// Uploads files as a browser's multipart form does: the CSRF field first (unless
    /// `with_csrf` is false), then the text fields, then each `(file name, bytes)` as `file`.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: Vec<(&str, Vec<u8>)>,
        with_csrf: bool,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        if with_csrf {
            form = form.text("csrf", self.csrf().await);
        }
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        }
        self.http
            .post(self.url(path))
            .multipart(form)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/signup",
            &[
                ("name", name),
                ("email", email),
                ("password", password),
                ("timezone", "Europe/Berlin"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit("/login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn log_out(&self) -> reqwest::Response {
        self.submit("/logout", &[]).await
    }
}

/// Checks a response's status and that its page says `message`; returns the page.
pub async fn expect_page(res: reqwest::Response, status: StatusCode, message: &str) -> String {
    assert_eq!(
        res.status(),
        status,
        "expected {status} for a page saying {message:?}"
    );
    let html = res.text().await.expect("a page");
    assert!(html.contains(message), "the page does not say {message:?}");
    html
}

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker)? + marker.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

pub fn location(headers: &HeaderMap) -> String {
    headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The number at the end of a redirect such as `/w/12`.
pub fn id_from_location(headers: &HeaderMap) -> i64 {
    let loc = location(headers);
    loc.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {loc:?}"))
}
