//! How many database statements a page costs, read from the line the server logs when a
//! response is ready (`statements`, found by the response's `X-Request-Id`): the signed-in frame
//! is one statement whatever the person belongs to (and keeps the sessions' rules), and the
//! dashboard, the posts list and the calendar cost the same with three posts as with many, on
//! both databases.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, spawn_app};
use std::collections::HashMap;
use std::sync::{Mutex, Once, OnceLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, filter};

both_backends!(pages_cost_a_fixed_number_of_statements);

/// Statements by request id, from the servers of this test binary.
fn seen() -> &'static Mutex<HashMap<String, u64>> {
    static SEEN: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// The fields this layer reads from the request's span and its closing line.
#[derive(Default)]
struct Fields {
    request_id: Option<String>,
    statements: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "statements" {
            self.statements = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.request_id = Some(format!("{value:?}"));
        }
    }
}

struct RequestId(String);

/// Keeps the request id of each `request` span and the statement count of its closing line.
struct Capture;

impl<S> Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(request), Some(span)) = (fields.request_id, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(statements) = fields.statements else {
            return;
        };
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(RequestId(id)) = span.extensions().get::<RequestId>() {
                seen().lock().unwrap().insert(id.clone(), statements);
                return;
            }
        }
    }
}

/// Starts reading the web layer's trace (once for the whole test binary; nothing else is
/// listened to).
fn listen() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let only_the_trace = filter::filter_fn(|meta| meta.target() == "web::trace");
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(Capture.with_filter(only_the_trace)),
        )
        .expect("no other subscriber is installed in the test binary");
    });
}

/// Opens `path` (it must answer 200) and returns how many statements the server ran for it.
async fn statements_of(client: &Client, path: &str) -> u64 {
    let res = client.get(path).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
    let id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    let _ = res.text().await;
    seen()
        .lock()
        .unwrap()
        .get(&id)
        .copied()
        .unwrap_or_else(|| panic!("no closing line for {path}"))
}

/// Writes `n` scheduled posts (one target each on `account`) straight into the tables, due
/// from tomorrow on, a few each day.
async fn many_posts(app: &TestApp, ws: i64, account: i64, n: usize) {
    for i in 0..n {
        let at = chrono::Utc::now() + chrono::Duration::hours(24 + 7 * i as i64);
        app.exec(&format!(
            "INSERT INTO posts (workspace_id, body, state, scheduled_at, revision, created_at, \
             updated_at) VALUES ({ws}, 'Post {i}', 'scheduled', '{at}', 1, '{at}', '{at}')",
            at = stored(at)
        ))
        .await;
        app.exec(&format!(
            "INSERT INTO post_targets (post_id, account_id, options, state, attempts, updated_at) \
             SELECT id, {account}, '{{}}', 'scheduled', 0, updated_at FROM posts WHERE id = \
             (SELECT MAX(id) FROM posts)"
        ))
        .await;
    }
}

/// A time as the product stores it.
fn stored(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Each page with what it costs: the frame is one statement (the session, the person, their
/// workspaces and their place in this one); the rest is the page's own, none of it per post.
fn pages(ws: i64) -> Vec<(String, u64)> {
    let month = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    vec![
        // The frame alone.
        ("/settings".to_owned(), 1),
        // + the next and the failed posts (one statement), + the accounts.
        (format!("/w/{ws}"), 3),
        // + the filter's accounts and campaigns, + which posts make the page, + those posts,
        // + their accounts.
        (format!("/w/{ws}/posts"), 6),
        // + the filter's accounts and campaigns, + the days' counts and first posts, + those
        // posts with the drafts without a time, + their accounts.
        (format!("/w/{ws}/calendar?date={month}"), 6),
    ]
}

async fn pages_cost_a_fixed_number_of_statements(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    listen();
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let account = app.connect_account(ws, domain::Platform::X, "acme").await;
    many_posts(&app, ws, account, 3).await;
    for (path, expected) in pages(ws) {
        assert_eq!(statements_of(&client, &path).await, expected, "GET {path}");
    }

    // Many more posts, a second workspace, an unread notification: the same costs.
    many_posts(&app, ws, account, 60).await;
    let other = client.new_workspace("Beta").await;
    let ada = app.user_id("ada@example.com").await;
    app.exec(&format!(
        "INSERT INTO notifications (user_id, workspace_id, kind, summary, link, object_type, \
         object_id, created_at) VALUES ({ada}, {ws}, 'mention', 'mentioned you', '/w/{ws}/posts', \
         'post', 1, '{}')",
        stored(chrono::Utc::now())
    ))
    .await;
    // Coming back from Beta, the dashboard remembers the workspace opened last: one write.
    assert_eq!(statements_of(&client, &format!("/w/{ws}")).await, 4);
    for (path, expected) in pages(ws) {
        assert_eq!(statements_of(&client, &path).await, expected, "GET {path}");
    }
    let dashboard = client.get_text(&format!("/w/{ws}")).await;
    assert!(
        dashboard.contains("id=\"unread-count\"><span class=\"sr-only\">unread: </span>1<"),
        "the badge counts the unread notification"
    );
    assert!(
        dashboard.contains(&format!("href=\"/w/{other}\"")),
        "the switcher lists Beta"
    );
    let posts = client.get_text(&format!("/w/{ws}/posts")).await;
    assert_eq!(
        posts.matches("data-post=").count(),
        50,
        "a page of the list"
    );

    // Someone else's workspace is not found; the frame found no membership there.
    let eve = app.verified_user("Eve", "eve@example.com").await;
    assert_eq!(
        eve.get(&format!("/w/{ws}")).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );

    // A session last seen long ago is marked seen (one more statement), then not again.
    let seen_at = |at| format!("UPDATE sessions SET last_seen_at = '{}'", stored(at));
    app.exec(&seen_at(chrono::Utc::now() - chrono::Duration::minutes(10)))
        .await;
    assert_eq!(statements_of(&client, "/settings").await, 2);
    assert_eq!(statements_of(&client, "/settings").await, 1);
    let fresh = app
        .count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {ada} AND last_seen_at > '{}'",
            stored(chrono::Utc::now() - chrono::Duration::minutes(1))
        ))
        .await;
    assert_eq!(fresh, 1, "the session was marked seen");

    // An expired session names no one, and is gone.
    app.exec(&format!(
        "UPDATE sessions SET expires_at = '{}' WHERE user_id = {ada}",
        stored(chrono::Utc::now() - chrono::Duration::seconds(1))
    ))
    .await;
    let res = client.get(&format!("/w/{ws}")).await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(crate::helpers::location(res.headers()).starts_with("/login"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {ada}"
        ))
        .await,
        0
    );
}
