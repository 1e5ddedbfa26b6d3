//! The simulated X API checks what the real one checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, param, pkce_challenge};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::Value;
use sim::{Fault, Op, Simulator};
use std::time::Duration;

const CLIENT: &str = "socializioz-test";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/x/callback";
const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-abcdef";

fn authorize_params(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", CLIENT.into()),
        ("redirect_uri", REDIRECT.into()),
        ("state", "st4te".into()),
        ("scope", scope.into()),
        ("code_challenge", pkce_challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
    ]
}

fn authorize_url(base: &str, params: &[(&str, String)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    format!("{base}/x/i/oauth2/authorize?{query}")
}

/// Allows the app on the authorize page; returns the query of the redirect back.
async fn allow(http: &reqwest::Client, base: &str, scope: &str, user: &str) -> String {
    let mut form = authorize_params(scope);
    form.push(("decision", "allow".into()));
    form.push(("username", user.into()));
    let res = http
        .post(format!("{base}/x/i/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    location
}

async fn exchange(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    http.post(format!("{base}/x/2/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", CLIENT),
        ])
        .send()
        .await
        .unwrap()
}

async fn refresh_with(http: &reqwest::Client, base: &str, refresh: &str) -> reqwest::Response {
    http.post(format!("{base}/x/2/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", CLIENT),
        ])
        .send()
        .await
        .unwrap()
}

async fn post_tweet(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    text: &str,
) -> reqwest::Response {
    http.post(format!("{base}/x/2/tweets"))
        .bearer_auth(token)
        .json(&serde_json::json!({"text": text}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_authorization_code_flow_with_pkce() {
    let (_sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();

    // The page names the scopes and offers both choices; a request without PKCE is refused.
    let page = http
        .get(authorize_url(
            base,
            &authorize_params("tweet.read tweet.write users.read offline.access"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("tweet.write")
            && html.contains("id=\"allow\"")
            && html.contains("id=\"deny\"")
    );
    let mut no_pkce = authorize_params("tweet.read");
    no_pkce.retain(|(k, _)| !k.starts_with("code_challenge"));
    let refused = http
        .get(authorize_url(base, &no_pkce))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // Deny goes back with an error and the state.
    let mut form = authorize_params("tweet.read");
    form.push(("decision", "deny".into()));
    let denied = http
        .post(format!("{base}/x/i/oauth2/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = denied.headers()["location"].to_str().unwrap();
    assert_eq!(param(location, "error"), "access_denied");
    assert_eq!(param(location, "state"), "st4te");

    // Allow: the code works once, and only with the right verifier.
    let back = allow(
        &http,
        base,
        "tweet.read tweet.write users.read offline.access",
        "acme",
    )
    .await;
    assert_eq!(param(&back, "state"), "st4te");
    let code = param(&back, "code");
    let wrong = exchange(&http, base, &code, "not-the-verifier").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    // A failed exchange spends the code, as a real server may.
    let back = allow(
        &http,
        base,
        "tweet.read tweet.write users.read offline.access",
        "acme",
    )
    .await;
    let tokens: Value = exchange(&http, base, &param(&back, "code"), VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 7200);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let again = exchange(&http, base, &param(&back, "code"), VERIFIER).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a code works once");

    let me: Value = http
        .get(format!("{base}/x/2/users/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["username"], "acme");

    // Refresh rotates: the new refresh token works, the old one no longer does.
    let refreshed = refresh_with(&http, base, &refresh).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_ne!(refreshed["refresh_token"].as_str().unwrap(), refresh);
    let reused = refresh_with(&http, base, &refresh).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);

    // Without offline.access there is no refresh token.
    let back = allow(&http, base, "tweet.read users.read", "acme").await;
    let tokens: Value = exchange(&http, base, &param(&back, "code"), VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    assert!(tokens.get("refresh_token").is_none());
}

async fn connected(sim: &Simulator, base: &str, scope: &str) -> String {
    let _ = sim;
    let http = client();
    let back = allow(&http, base, scope, "acme").await;
    let tokens: Value = exchange(&http, base, &param(&back, "code"), VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn posting_checks_tokens_scopes_limits_and_takes_faults() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();
    let token = connected(&sim, base, "tweet.read tweet.write users.read").await;

    let res = post_tweet(&http, base, &token, "Hello from the simulator").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(sim.posts().len(), 1);
    assert_eq!(sim.posts()[0].id, body["data"]["id"].as_str().unwrap());
    assert_eq!(sim.posts()[0].platform, Platform::X);

    // Weighted length: a long link counts 23; 281 plain characters are refused.
    let link = format!("Read https://example.com/{}", "p".repeat(400));
    assert_eq!(
        post_tweet(&http, base, &token, &link).await.status(),
        StatusCode::CREATED
    );
    let long = "a".repeat(281);
    assert_eq!(
        post_tweet(&http, base, &token, &long).await.status(),
        StatusCode::BAD_REQUEST
    );

    // No token, a token without tweet.write, an unknown token.
    let read_only = connected(&sim, base, "tweet.read users.read").await;
    assert_eq!(
        post_tweet(&http, base, &read_only, "x").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_tweet(&http, base, "xat_forged", "x").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Injected faults, one call each.
    sim.inject(
        Platform::X,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(900),
        },
    );
    let limited = post_tweet(&http, base, &token, "later").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let reset: i64 = limited.headers()["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= chrono::Utc::now().timestamp() + 890);
    assert!(
        limited.headers().get("retry-after").is_none(),
        "X sends no Retry-After"
    );
    sim.inject(Platform::X, Op::Publish, Fault::ServerError);
    assert_eq!(
        post_tweet(&http, base, &token, "oops").await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        post_tweet(&http, base, &token, "fine again").await.status(),
        StatusCode::CREATED
    );

    // Expired and revoked tokens are refused.
    sim.expire_all_tokens();
    assert_eq!(
        post_tweet(&http, base, &token, "too late").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let fresh = connected(&sim, base, "tweet.read tweet.write users.read").await;
    let revoked = http
        .post(format!("{base}/x/2/oauth2/revoke"))
        .form(&[("token", fresh.as_str()), ("client_id", CLIENT)])
        .send()
        .await
        .unwrap();
    let revoked: Value = revoked.json().await.unwrap();
    assert_eq!(revoked["revoked"], true);
    assert_eq!(
        post_tweet(&http, base, &fresh, "after revoke")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sim.posts().len(), 3, "only the accepted posts are recorded");
}

/// `GET /2/users/{id}/tweets` with `query`: the status and the answer.
async fn timeline(
    base: &str,
    token: &str,
    user: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let res = client()
        .get(format!("{base}/x/2/users/{user}/tweets?{query}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn a_users_timeline_shows_their_posts_as_x_does_a_page_at_a_time() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();
    let token = connected(&sim, base, "tweet.read tweet.write users.read").await;
    for text in [
        "Plain & <simple>",
        "Read example.com/a, then https://example.org.",
    ] {
        assert_eq!(
            post_tweet(&http, base, &token, text).await.status(),
            StatusCode::CREATED
        );
    }
    let user = sim.posts()[0].user_id.clone();
    // An hour old: outside a window that starts ten minutes ago.
    sim.seed_post(
        Platform::X,
        &user,
        "Old news",
        sim.now() - chrono::Duration::hours(1),
    );
    let start = (sim.now() - chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, page) = timeline(
        base,
        &token,
        &user,
        &[
            ("start_time", &start),
            ("tweet.fields", "created_at,entities"),
            ("exclude", "retweets,replies"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{page}");
    assert_eq!(page["meta"]["result_count"], 2);
    assert!(page["meta"].get("next_token").is_none());
    // Newest first, links shortened to t.co (entities say where they lead), HTML escaped.
    let links = data[0]["text"].as_str().unwrap();
    assert!(
        links.starts_with("Read https://t.co/")
            && links.contains(", then https://t.co/")
            && links.ends_with('.'),
        "{links}"
    );
    let urls = data[0]["entities"]["urls"].as_array().unwrap();
    assert_eq!(urls[0]["expanded_url"], "http://example.com/a");
    assert_eq!(urls[1]["expanded_url"], "https://example.org");
    for url in urls {
        assert!(links.contains(url["url"].as_str().unwrap()));
    }
    assert_eq!(data[1]["text"], "Plain &amp; &lt;simple&gt;");
    assert!(data[1].get("entities").is_none());
    assert!(data[1]["created_at"].as_str().unwrap().ends_with('Z'));

    // Five a page: the next page continues after the last post shown, even when a post is
    // published in between.
    for n in 0..5 {
        post_tweet(&http, base, &token, &format!("Number {n}")).await;
    }
    let (_, first) = timeline(base, &token, &user, &[("max_results", "5")]).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 5);
    assert_eq!(first["data"][0]["text"], "Number 4");
    let next = first["meta"]["next_token"].as_str().unwrap().to_owned();
    post_tweet(&http, base, &token, "Meanwhile").await;
    let (_, second) = timeline(
        base,
        &token,
        &user,
        &[("max_results", "5"), ("pagination_token", &next)],
    )
    .await;
    let texts: Vec<&str> = second["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{second}");
    assert_eq!(texts[2], "Old news");
    assert!(second["meta"].get("next_token").is_none());

    // An empty window answers meta alone; faults, scopes and bad parameters as X answers them.
    let later =
        (sim.now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, empty) = timeline(base, &token, &user, &[("start_time", &later)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty, serde_json::json!({"meta": {"result_count": 0}}));
    assert_eq!(
        timeline(base, &token, &user, &[("max_results", "500")])
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    sim.inject(
        Platform::X,
        Op::Listing,
        Fault::RateLimited {
            retry_after: Duration::from_secs(60),
        },
    );
    assert_eq!(
        timeline(base, &token, &user, &[]).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let writer = connected(&sim, base, "tweet.write users.read").await;
    assert_eq!(
        timeline(base, &writer, &user, &[]).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_lost_answer_loses_the_answer_and_keeps_the_post_only_after_posting() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();
    let token = connected(&sim, base, "tweet.read tweet.write users.read").await;
    let read = |res: reqwest::Response| async move {
        match res.error_for_status() {
            Ok(res) => res.json::<Value>().await.is_ok(),
            Err(_) => false,
        }
    };

    sim.lose_next_answer(Platform::X, sim::LostAnswer::BeforePosting);
    let sent = http
        .post(format!("{base}/x/2/tweets"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text": "Never kept"}))
        .send()
        .await;
    assert!(
        sent.is_err() || !read(sent.unwrap()).await,
        "no answer to read"
    );
    assert!(sim.posts().is_empty(), "nothing kept");

    sim.lose_next_answer(Platform::X, sim::LostAnswer::AfterPosting);
    let sent = http
        .post(format!("{base}/x/2/tweets"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"text": "Kept, answer lost"}))
        .send()
        .await;
    assert!(
        sent.is_err() || !read(sent.unwrap()).await,
        "no answer to read"
    );
    assert_eq!(sim.posts().len(), 1, "kept");

    // Only the next call: the one after is answered.
    assert_eq!(
        post_tweet(&http, base, &token, "Answered").await.status(),
        StatusCode::CREATED
    );
}
