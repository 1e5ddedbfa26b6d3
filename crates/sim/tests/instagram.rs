//! The simulated Instagram API (Instagram Login) checks what the real one checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, get_json, param};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::Value;
use sim::{Fault, Op};
use std::time::Duration;

const CLIENT: &str = "socializioz-test";
const SECRET: &str = "sandbox-secret";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/instagram/callback";
const SCOPES: &str = "instagram_business_basic,instagram_business_content_publish";

async fn allow(http: &reqwest::Client, base: &str, user: &str) -> String {
    let res = http
        .post(format!("{base}/instagram/oauth/authorize"))
        .form(&[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", "st4te"),
            ("decision", "allow"),
            ("username", user),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    param(res.headers()["location"].to_str().unwrap(), "code")
}

async fn exchange(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(format!("{base}/instagram/api/oauth/access_token"))
        .form(&[
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
            ("code", code),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn graph(base: &str, path: &str) -> String {
    format!("{base}/instagram/graph/v25.0{path}")
}

/// A long-lived token for `user` and the professional account's id.
async fn connect(http: &reqwest::Client, base: &str, user: &str) -> (String, String) {
    let code = allow(http, base, user).await;
    let (_, short) = exchange(http, base, &code, SECRET).await;
    let (_, long) = get_json(
        http,
        &format!("{base}/instagram/graph/access_token"),
        &[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", SECRET),
            ("access_token", short["access_token"].as_str().unwrap()),
        ],
    )
    .await;
    let token = long["access_token"].as_str().unwrap().to_owned();
    let (_, me) = get_json(
        http,
        &graph(base, "/me"),
        &[("fields", "user_id"), ("access_token", &token)],
    )
    .await;
    (token, me["user_id"].as_str().unwrap().to_owned())
}

fn code_of(body: &Value) -> i64 {
    body["error"]["code"].as_i64().unwrap_or(-1)
}

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = http
        .post(url)
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn status(http: &reqwest::Client, base: &str, token: &str, id: &str) -> String {
    let (_, body) = get_json(
        http,
        &graph(base, &format!("/{id}")),
        &[("fields", "status_code,status"), ("access_token", token)],
    )
    .await;
    body["status_code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn login_long_lived_tokens_refresh_and_profile() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();

    let code = allow(&http, base, "acme").await;
    let (status, body) = exchange(&http, base, &code, "wrong").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_type"], "OAuthException");
    let (status, short) = exchange(&http, base, &code, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{short}");
    assert_eq!(short["permissions"], SCOPES);
    assert!(short["user_id"].is_u64());
    let (status, _) = exchange(&http, base, &code, SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code works once");

    let short = short["access_token"].as_str().unwrap();
    let exchange_url = format!("{base}/instagram/graph/access_token");
    let (status, _) = get_json(
        &http,
        &exchange_url,
        &[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", "wrong"),
            ("access_token", short),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, long) = get_json(
        &http,
        &exchange_url,
        &[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", SECRET),
            ("access_token", short),
        ],
    )
    .await;
    assert_eq!(long["expires_in"], 5_184_000);
    let long = long["access_token"].as_str().unwrap().to_owned();

    let (status, me) = get_json(
        &http,
        &graph(base, "/me"),
        &[
            (
                "fields",
                "user_id,username,name,account_type,profile_picture_url,followers_count",
            ),
            ("access_token", &long),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "acme");
    assert_eq!(me["account_type"], "BUSINESS");
    assert!(me["followers_count"].is_u64());
    assert_ne!(
        me["id"], me["user_id"],
        "the app-scoped id is not the account id"
    );

    // Refresh: refused under a day old, fine after.
    let refresh_url = format!("{base}/instagram/graph/refresh_access_token");
    let refresh = [
        ("grant_type", "ig_refresh_token"),
        ("access_token", long.as_str()),
    ];
    let (status, body) = get_json(&http, &refresh_url, &refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );
    sim.age_tokens(Duration::from_secs(25 * 3600));
    let (status, renewed) = get_json(&http, &refresh_url, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(renewed["expires_in"], 5_184_000);
    // The short-lived token has long expired by now.
    let (status, body) = get_json(&http, &graph(base, "/me"), &[("access_token", short)]).await;
    assert_eq!((status, code_of(&body)), (StatusCode::BAD_REQUEST, 190));

    // A personal account says so, and cannot publish.
    let (token, user) = connect(&http, base, "personal_jo").await;
    let (_, me) = get_json(
        &http,
        &graph(base, "/me"),
        &[("fields", "account_type"), ("access_token", &token)],
    )
    .await;
    assert_eq!(me["account_type"], "PERSONAL");
    let (status, body) = post_form(
        &http,
        &graph(base, &format!("/{user}/media")),
        &token,
        &[("image_url", "http://127.0.0.1:9/x.jpg")],
    )
    .await;
    assert_eq!((status, code_of(&body)), (StatusCode::BAD_REQUEST, 10));
}

#[tokio::test]
async fn containers_then_publish() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let files = common::media_server(0).await;
    let http = client();
    let (token, user) = connect(&http, base, "acme").await;
    let media = graph(base, &format!("/{user}/media"));
    let publish = graph(base, &format!("/{user}/media_publish"));
    let jpeg = format!("{files}/photo.jpg");

    // An image: not publishable until a poll has seen it finished.
    let (status, body) = post_form(
        &http,
        &media,
        &token,
        &[("image_url", &jpeg), ("caption", "Hello")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let container = body["id"].as_str().unwrap().to_owned();
    let (status, body) = post_form(&http, &publish, &token, &[("creation_id", &container)]).await;
    assert_eq!((status, code_of(&body)), (StatusCode::BAD_REQUEST, 9007));
    assert_eq!(
        status_of(&http, base, &token, &container).await,
        "IN_PROGRESS"
    );
    assert_eq!(status_of(&http, base, &token, &container).await, "FINISHED");
    let (status, body) = post_form(&http, &publish, &token, &[("creation_id", &container)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let media_id = body["id"].as_str().unwrap().to_owned();
    let posts = sim.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].id.as_str(), posts[0].text.as_str()),
        (media_id.as_str(), "Hello")
    );
    assert_eq!(posts[0].user_id, user);
    assert_eq!(
        (posts[0].media[0].kind.as_str(), posts[0].media[0].bytes),
        ("image", 2048)
    );
    let (status, _) = post_form(&http, &publish, &token, &[("creation_id", &container)]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a container is published once"
    );
    let (_, link) = get_json(
        &http,
        &graph(base, &format!("/{media_id}")),
        &[("fields", "permalink"), ("access_token", &token)],
    )
    .await;
    assert!(
        link["permalink"]
            .as_str()
            .unwrap()
            .contains("/instagram/web/p/")
    );

    // Captions: 2200 characters, 30 hashtags.
    let long = "a".repeat(2201);
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[("image_url", &jpeg), ("caption", &long)],
    )
    .await;
    assert_eq!(code_of(&body), 100);
    assert!(body["error"]["message"].as_str().unwrap().contains("2200"));
    let tags: String = (0..31).map(|i| format!("#tag{i} ")).collect();
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[("image_url", &jpeg), ("caption", &tags)],
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("31 hashtags"),
        "{body}"
    );

    // Media Instagram cannot fetch or does not take.
    let (status, body) = post_form(
        &http,
        &media,
        &token,
        &[("image_url", &format!("{files}/gone.jpg"))],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (code_of(&body), body["error"]["error_subcode"].as_i64()),
        (9004, Some(2_207_052))
    );
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[("image_url", &format!("{files}/photo.png"))],
    )
    .await;
    assert_eq!(code_of(&body), 9004);

    // A reel.
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[
            ("media_type", "REELS"),
            ("video_url", &format!("{files}/clip.mp4")),
            ("caption", "Reel"),
        ],
    )
    .await;
    let reel = body["id"].as_str().unwrap().to_owned();
    finish(&http, base, &token, &reel).await;
    post_form(&http, &publish, &token, &[("creation_id", &reel)]).await;
    let last = sim.posts().pop().unwrap();
    assert_eq!(
        (last.text.as_str(), last.media[0].kind.as_str()),
        ("Reel", "video")
    );

    // A carousel: 2 to 10 finished items of this account.
    let mut children = Vec::new();
    for _ in 0..3 {
        let (_, body) = post_form(
            &http,
            &media,
            &token,
            &[("is_carousel_item", "true"), ("image_url", &jpeg)],
        )
        .await;
        children.push(body["id"].as_str().unwrap().to_owned());
    }
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[
            ("media_type", "CAROUSEL"),
            ("children", &children[0]),
            ("caption", "c"),
        ],
    )
    .await;
    assert_eq!(code_of(&body), 100, "one item is not a carousel");
    let both = children[..2].join(",");
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[("media_type", "CAROUSEL"), ("children", &both)],
    )
    .await;
    assert_eq!(code_of(&body), 9007, "items must be finished first");
    for child in &children[..2] {
        finish(&http, base, &token, child).await;
    }
    let (stranger_token, _) = connect(&http, base, "stranger").await;
    let (_, body) = post_form(
        &http,
        &graph(base, "/me/media"),
        &stranger_token,
        &[("media_type", "CAROUSEL"), ("children", &both)],
    )
    .await;
    assert_eq!(
        code_of(&body),
        100,
        "another account's items are not visible"
    );
    let (_, body) = post_form(
        &http,
        &media,
        &token,
        &[
            ("media_type", "CAROUSEL"),
            ("children", &both),
            ("caption", "Two"),
        ],
    )
    .await;
    let carousel = body["id"].as_str().unwrap().to_owned();
    let (_, body) = post_form(&http, &publish, &token, &[("creation_id", &children[2])]).await;
    assert_eq!(code_of(&body), 100, "an item is not published alone");
    finish(&http, base, &token, &carousel).await;
    post_form(&http, &publish, &token, &[("creation_id", &carousel)]).await;
    let last = sim.posts().pop().unwrap();
    assert_eq!((last.text.as_str(), last.media.len()), ("Two", 2));
    assert_eq!(sim.posts().len(), 3);
}

async fn status_of(http: &reqwest::Client, base: &str, token: &str, id: &str) -> String {
    status(http, base, token, id).await
}

/// Polls until the container is finished (a few polls at most).
async fn finish(http: &reqwest::Client, base: &str, token: &str, id: &str) {
    for _ in 0..5 {
        if status(http, base, token, id).await == "FINISHED" {
            return;
        }
    }
    panic!("container {id} never finished");
}

#[tokio::test]
async fn faults_and_the_daily_limit() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let files = common::media_server(0).await;
    let http = client();
    let (token, user) = connect(&http, base, "acme").await;
    let media = graph(base, &format!("/{user}/media"));
    let publish = graph(base, &format!("/{user}/media_publish"));
    let jpeg = format!("{files}/photo.jpg");
    let new_container = || async {
        let (_, body) = post_form(
            &http,
            &media,
            &token,
            &[("image_url", &jpeg), ("caption", "x")],
        )
        .await;
        body["id"].as_str().unwrap().to_owned()
    };

    let failing = new_container().await;
    sim.inject(Platform::Instagram, Op::Status, Fault::ProcessingFailed);
    assert_eq!(status(&http, base, &token, &failing).await, "ERROR");
    let (_, body) = post_form(&http, &publish, &token, &[("creation_id", &failing)]).await;
    assert_eq!(code_of(&body), 9007);

    let slow = new_container().await;
    sim.inject(Platform::Instagram, Op::Status, Fault::SlowProcessing(2));
    for _ in 0..3 {
        assert_eq!(status(&http, base, &token, &slow).await, "IN_PROGRESS");
    }
    assert_eq!(status(&http, base, &token, &slow).await, "FINISHED");

    sim.inject(
        Platform::Instagram,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(120),
        },
    );
    let res = http
        .post(&publish)
        .bearer_auth(&token)
        .form(&[("creation_id", &slow)])
        .send()
        .await
        .unwrap();
    let usage: Value =
        serde_json::from_str(res.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[&user][0]["estimated_time_to_regain_access"], 2);
    assert_eq!(code_of(&res.json().await.unwrap()), 4);
    sim.inject(Platform::Instagram, Op::Upload, Fault::ServerError);
    let res = http
        .post(&media)
        .bearer_auth(&token)
        .form(&[("image_url", &jpeg)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(sim.posts().is_empty());

    // 50 publishes in a day, then the limit.
    for _ in 0..50 {
        let id = new_container().await;
        finish(&http, base, &token, &id).await;
        let (status, body) = post_form(&http, &publish, &token, &[("creation_id", &id)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, limit) = get_json(
        &http,
        &graph(base, &format!("/{user}/content_publishing_limit")),
        &[("access_token", &token)],
    )
    .await;
    assert_eq!(limit["data"][0]["quota_usage"], 50);
    let id = new_container().await;
    finish(&http, base, &token, &id).await;
    let (status, body) = post_form(&http, &publish, &token, &[("creation_id", &id)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (code_of(&body), body["error"]["error_subcode"].as_i64()),
        (9, Some(2_207_042))
    );
    assert_eq!(sim.posts().len(), 50);
}
