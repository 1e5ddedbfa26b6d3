//! The simulated Facebook Graph API checks what the real one checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, get_json, param};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{Fault, Op};
use std::time::Duration;

const CLIENT: &str = "socializioz-test";
const SECRET: &str = "sandbox-secret";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/facebook/callback";
const SCOPES: &str = "pages_show_list,pages_manage_posts,pages_read_engagement";

fn authorize_params(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT.into()),
        ("redirect_uri", REDIRECT.into()),
        ("state", "st4te".into()),
        ("scope", scope.into()),
    ]
}

/// Allows the app in the login dialog as `user`; the code.
async fn allow(http: &reqwest::Client, base: &str, scope: &str, user: &str) -> String {
    let mut form = authorize_params(scope);
    form.push(("decision", "allow".into()));
    form.push(("username", user.into()));
    let res = http
        .post(format!("{base}/facebook/v25.0/dialog/oauth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    param(&location, "code")
}

fn graph(base: &str, path: &str) -> String {
    format!("{base}/facebook/graph/v25.0{path}")
}

async fn exchange(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    secret: &str,
) -> (StatusCode, Value) {
    get_json(
        http,
        &graph(base, "/oauth/access_token"),
        &[
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("redirect_uri", REDIRECT),
            ("code", code),
        ],
    )
    .await
}

async fn long_lived(http: &reqwest::Client, base: &str, token: &str) -> (StatusCode, Value) {
    get_json(
        http,
        &graph(base, "/oauth/access_token"),
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("fb_exchange_token", token),
        ],
    )
    .await
}

/// A long-lived user token for `user`, and that person's pages as `/me/accounts` lists them.
async fn connect(
    http: &reqwest::Client,
    base: &str,
    scope: &str,
    user: &str,
) -> (String, Vec<Value>) {
    let code = allow(http, base, scope, user).await;
    let (_, short) = exchange(http, base, &code, SECRET).await;
    let (_, long) = long_lived(http, base, short["access_token"].as_str().unwrap()).await;
    let user_token = long["access_token"].as_str().unwrap().to_owned();
    let (_, pages) = get_json(
        http,
        &graph(base, "/me/accounts"),
        &[
            ("fields", "id,name,access_token,picture,followers_count"),
            ("access_token", &user_token),
        ],
    )
    .await;
    (
        user_token,
        pages["data"].as_array().cloned().unwrap_or_default(),
    )
}

fn code_of(body: &Value) -> i64 {
    body["error"]["code"].as_i64().unwrap_or(-1)
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let res = http
        .post(graph(base, path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn the_login_flow_pages_and_deauthorisation() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();

    // The dialog names the scopes; an unknown API version is refused.
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            authorize_params(SCOPES)
                .iter()
                .map(|(k, v)| (*k, v.as_str())),
        )
        .finish();
    let page = http
        .get(format!("{base}/facebook/v25.0/dialog/oauth?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("pages_manage_posts"));
    let bad_version = http
        .get(format!("{base}/facebook/latest/dialog/oauth?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_version.status(), StatusCode::BAD_REQUEST);

    // The client secret is checked (without spending the code); a code works once.
    let code = allow(&http, base, SCOPES, "acme").await;
    let (status, body) = exchange(&http, base, &code, "not-the-secret").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), 1);
    let (status, short) = exchange(&http, base, &code, SECRET).await;
    assert_eq!(status, StatusCode::OK, "{short}");
    assert_eq!(short["expires_in"], 3600);
    let (status, again) = exchange(&http, base, &code, SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&again), 100);
    assert_eq!(again["error"]["error_subcode"], 36009);

    // The long-lived token lives 60 days.
    let short = short["access_token"].as_str().unwrap();
    let (status, long) = long_lived(&http, base, short).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(long["expires_in"], 5_184_000);
    let user_token = long["access_token"].as_str().unwrap();

    // Two pages named after the person, with stable ids, followers and page tokens.
    let (_, first) = get_json(
        &http,
        &graph(base, "/me/accounts"),
        &[
            ("fields", "id,name,access_token,followers_count"),
            ("access_token", user_token),
        ],
    )
    .await;
    let pages = first["data"].as_array().unwrap();
    let names: Vec<&str> = pages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme Bakery", "acme Studio"]);
    assert!(pages.iter().all(|p| p["followers_count"].is_u64()));
    let (_, second) = connect(&http, base, SCOPES, "acme").await;
    assert_eq!(second[0]["id"], pages[0]["id"], "page ids are stable");
    let (_, other) = connect(&http, base, SCOPES, "zeta").await;
    assert_ne!(other[0]["id"], pages[0]["id"]);

    // A page token answers /me as the page; a user token gets the page's token too.
    let page_id = pages[0]["id"].as_str().unwrap();
    let page_token = pages[0]["access_token"].as_str().unwrap();
    let (_, me) = get_json(&http, &graph(base, "/me"), &[("access_token", page_token)]).await;
    assert_eq!(me["id"], page_id);
    assert_eq!(me["name"], "acme Bakery");
    let (_, me) = get_json(&http, &graph(base, "/me"), &[("access_token", user_token)]).await;
    assert_eq!(me["name"], "acme (simulated)");
    let (status, user_fields) = get_json(
        &http,
        &graph(base, "/me"),
        &[
            ("fields", "id,followers_count"),
            ("access_token", user_token),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "users have no followers_count"
    );
    assert_eq!(code_of(&user_fields), 100);
    let (status, fetched) = get_json(
        &http,
        &graph(base, &format!("/{page_id}")),
        &[("fields", "access_token"), ("access_token", user_token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let fetched_token = fetched["access_token"].as_str().unwrap();
    let (status, _) = get_json(
        &http,
        &graph(base, "/me"),
        &[("access_token", fetched_token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Someone else's page is not visible.
    let (status, body) = get_json(
        &http,
        &graph(base, &format!("/{}", other[0]["id"].as_str().unwrap())),
        &[("fields", "access_token"), ("access_token", user_token)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), 100);

    // Page tokens from a long-lived user token do not expire with time.
    sim.age_tokens(Duration::from_secs(30 * 86_400));
    let (status, _) = get_json(&http, &graph(base, "/me"), &[("access_token", page_token)]).await;
    assert_eq!(status, StatusCode::OK);

    // De-authorising ends every token of that person, and only theirs.
    let res = http
        .delete(graph(base, "/me/permissions"))
        .bearer_auth(user_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": true}));
    for token in [page_token, fetched_token, user_token] {
        let (status, body) = get_json(&http, &graph(base, "/me"), &[("access_token", token)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code_of(&body), 190);
        assert_eq!(body["error"]["error_subcode"], 458);
    }
    let (status, _) = long_lived(&http, base, user_token).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a revoked token cannot be re-exchanged"
    );
    let other_token = other[0]["access_token"].as_str().unwrap();
    let (status, _) = get_json(&http, &graph(base, "/me"), &[("access_token", other_token)]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn publishing_text_photos_and_video() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let files = common::media_server(0).await;
    let http = client();
    let (user_token, pages) = connect(&http, base, SCOPES, "acme").await;
    let page = pages[0]["id"].as_str().unwrap();
    let token = pages[0]["access_token"].as_str().unwrap();
    let feed = format!("/{page}/feed");

    // Text, in the page's name.
    let (status, _, body) =
        post(&http, base, &feed, token, json!({"message": "Fresh bread"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{page}_")));
    let posts = sim.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].id.as_str(), posts[0].text.as_str()),
        (id, "Fresh bread")
    );
    assert_eq!(posts[0].user_id, page);
    assert_eq!(posts[0].platform, Platform::Facebook);

    // The page's token is needed, not the user's; empty and overlong posts are refused.
    let (status, _, body) = post(&http, base, &feed, &user_token, json!({"message": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), 200);
    let other_page = pages[1]["id"].as_str().unwrap();
    let (_, _, body) = post(
        &http,
        base,
        &format!("/{other_page}/feed"),
        token,
        json!({"message": "x"}),
    )
    .await;
    assert_eq!(
        code_of(&body),
        100,
        "one page's token cannot post to another"
    );
    let (_, _, body) = post(&http, base, &feed, token, json!({"message": "  "})).await;
    assert_eq!(code_of(&body), 100);
    let (_, _, body) = post(
        &http,
        base,
        &feed,
        token,
        json!({"message": "a".repeat(63_207)}),
    )
    .await;
    assert_eq!(code_of(&body), 100);
    assert!(body["error"]["message"].as_str().unwrap().contains("63206"));

    // One photo, fetched from its URL.
    let photos = format!("/{page}/photos");
    let (status, _, body) = post(
        &http,
        base,
        &photos,
        token,
        json!({"url": format!("{files}/photo.png"), "caption": "One loaf", "published": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let post_id = body["post_id"].as_str().unwrap();
    let last = sim.posts().pop().unwrap();
    assert_eq!(
        (last.id.as_str(), last.text.as_str()),
        (post_id, "One loaf")
    );
    assert_eq!(last.media.len(), 1);
    assert_eq!(
        (last.media[0].kind.as_str(), last.media[0].bytes),
        ("image", 1024)
    );

    // Several photos: unpublished uploads (no post yet), then one post that attaches them.
    let mut ids = Vec::new();
    for name in ["photo.jpg", "photo.png"] {
        let (_, _, body) = post(
            &http,
            base,
            &photos,
            token,
            json!({"url": format!("{files}/{name}"), "published": false}),
        )
        .await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(sim.posts().len(), 2, "unpublished photos are not posts");
    let attached: Vec<Value> = ids.iter().map(|id| json!({"media_fbid": id})).collect();
    let (status, _, body) = post(
        &http,
        base,
        &feed,
        token,
        json!({"message": "Two loaves", "attached_media": attached, "published": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last = sim.posts().pop().unwrap();
    assert_eq!(last.text, "Two loaves");
    let bytes: Vec<u64> = last.media.iter().map(|m| m.bytes).collect();
    assert_eq!(bytes, [2048, 1024], "in order");
    // Attached photos are spent; a form-encoded attach of a spent photo is refused.
    let res = http
        .post(graph(base, &feed))
        .form(&[
            ("access_token", token),
            ("message", "again"),
            (
                "attached_media[0]",
                &json!({"media_fbid": ids[0]}).to_string(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A photo URL that is not an image, or does not answer.
    let (_, _, body) = post(
        &http,
        base,
        &photos,
        token,
        json!({"url": format!("{files}/clip.mp4")}),
    )
    .await;
    assert_eq!(code_of(&body), 324);
    let (_, _, body) = post(
        &http,
        base,
        &photos,
        token,
        json!({"url": format!("{files}/gone.jpg")}),
    )
    .await;
    assert_eq!(code_of(&body), 324);

    // A video: processing on the first poll, ready (and posted, once) on the next.
    let (status, _, body) = post(
        &http,
        base,
        &format!("/{page}/videos"),
        token,
        json!({"file_url": format!("{files}/clip.mp4"), "description": "Behind the counter"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let video = body["id"].as_str().unwrap().to_owned();
    let poll = |token: String| {
        let http = http.clone();
        let url = graph(base, &format!("/{video}"));
        async move {
            let (_, body) = get_json(
                &http,
                &url,
                &[("fields", "status"), ("access_token", &token)],
            )
            .await;
            body["status"]["video_status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(poll(token.to_owned()).await, "processing");
    assert_eq!(sim.posts().len(), 3);
    assert_eq!(poll(token.to_owned()).await, "ready");
    assert_eq!(poll(token.to_owned()).await, "ready");
    let posts = sim.posts();
    assert_eq!(posts.len(), 4);
    let last = posts.last().unwrap();
    assert_eq!(
        (last.id.as_str(), last.text.as_str()),
        (video.as_str(), "Behind the counter")
    );
    assert_eq!(
        (last.media[0].kind.as_str(), last.media[0].bytes),
        ("video", 300_000)
    );
}

#[tokio::test]
async fn faults_answer_in_graphs_shape() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let files = common::media_server(0).await;
    let http = client();
    let (_, pages) = connect(&http, base, SCOPES, "acme").await;
    let page = pages[0]["id"].as_str().unwrap();
    let token = pages[0]["access_token"].as_str().unwrap();
    let feed = format!("/{page}/feed");

    sim.inject(
        Platform::Facebook,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(600),
        },
    );
    let (status, headers, body) = post(&http, base, &feed, token, json!({"message": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), 32);
    let usage: Value =
        serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[page][0]["estimated_time_to_regain_access"], 10);

    sim.inject(Platform::Facebook, Op::Publish, Fault::ExpiredToken);
    let (_, _, body) = post(&http, base, &feed, token, json!({"message": "x"})).await;
    assert_eq!(
        (code_of(&body), body["error"]["error_subcode"].as_i64()),
        (190, Some(463))
    );

    sim.inject(Platform::Facebook, Op::Publish, Fault::ServerError);
    let (status, _, _) = post(&http, base, &feed, token, json!({"message": "x"})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(sim.posts().is_empty());

    // Processing faults on video status polls.
    let video = |_: ()| {
        let http = http.clone();
        let url = graph(base, &format!("/{page}/videos"));
        let file = format!("{files}/clip.mp4");
        let token = token.to_owned();
        async move {
            let res = http
                .post(url)
                .bearer_auth(&token)
                .json(&json!({"file_url": file, "description": "v"}))
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let status_of = |id: String| {
        let http = http.clone();
        let url = graph(base, &format!("/{id}"));
        let token = token.to_owned();
        async move {
            let (_, body) = get_json(
                &http,
                &url,
                &[("fields", "status"), ("access_token", &token)],
            )
            .await;
            body
        }
    };
    let failing = video(()).await;
    sim.inject(Platform::Facebook, Op::Status, Fault::ProcessingFailed);
    let body = status_of(failing.clone()).await;
    assert_eq!(body["status"]["video_status"], "error");
    assert!(body["status"]["processing_phase"]["errors"][0]["message"].is_string());
    assert_eq!(status_of(failing).await["status"]["video_status"], "error");
    assert!(sim.posts().is_empty(), "a failed video is never posted");

    let slow = video(()).await;
    sim.inject(Platform::Facebook, Op::Status, Fault::SlowProcessing(2));
    for _ in 0..3 {
        assert_eq!(
            status_of(slow.clone()).await["status"]["video_status"],
            "processing"
        );
    }
    assert_eq!(status_of(slow).await["status"]["video_status"], "ready");
    assert_eq!(sim.posts().len(), 1);

    sim.inject(Platform::Facebook, Op::Token, Fault::ServerError);
    let code = allow(&http, base, SCOPES, "acme").await;
    let (status, _) = exchange(&http, base, &code, SECRET).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_pages_posts_are_listed_back_newest_first_a_page_at_a_time() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let http = client();
    let (user_token, pages) = connect(&http, base, SCOPES, "acme").await;
    let page = pages[0]["id"].as_str().unwrap().to_owned();
    let token = pages[0]["access_token"].as_str().unwrap().to_owned();
    for n in 0..3 {
        let (status, _, _) = post(
            &http,
            base,
            &format!("/{page}/feed"),
            &token,
            json!({"message": format!("Post number {n}"), "published": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    sim.seed_post(
        Platform::Facebook,
        &page,
        "Last week",
        sim.now() - chrono::Duration::days(7),
    );
    let since = (sim.now() - chrono::Duration::minutes(10))
        .timestamp()
        .to_string();
    let url = graph(base, &format!("/{page}/posts"));
    let list = |query: Vec<(&'static str, String)>| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            get_json(&http, &url, &query).await
        }
    };
    let fields = "id,message,created_time,permalink_url".to_owned();
    let (status, first) = list(vec![
        ("fields", fields.clone()),
        ("since", since.clone()),
        ("limit", "2".into()),
        ("access_token", token.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let data = first["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["message"], "Post number 2");
    assert!(data[0]["created_time"].as_str().unwrap().ends_with("+0000"));
    assert!(
        data[0]["permalink_url"]
            .as_str()
            .unwrap()
            .contains(data[0]["id"].as_str().unwrap())
    );
    // Graph's next page is an absolute address carrying the token.
    let next = first["paging"]["next"].as_str().unwrap().to_owned();
    assert!(
        next.contains("access_token=") && next.contains("after="),
        "{next}"
    );
    let second: Value = http.get(&next).send().await.unwrap().json().await.unwrap();
    assert_eq!(second["data"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["data"][0]["message"], "Post number 0");
    assert!(second.get("paging").is_none(), "the window holds no more");

    // Without a window, last week's post is listed too; the person who manages the page may
    // read it; another page's token may not; a fault answers in Graph's shape.
    let (_, all) = list(vec![("access_token", user_token)]).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4, "{all}");
    let other = pages[1]["access_token"].as_str().unwrap().to_owned();
    let (status, _) = list(vec![("access_token", other)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.inject(Platform::Facebook, Op::Listing, Fault::ServerError);
    let (status, body) = list(vec![("access_token", token.clone())]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(code_of(&body), 2);
    let (status, body) = list(vec![("fields", "id,story".into()), ("access_token", token)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code_of(&body), 100);
}
