//! The simulated LinkedIn API checks what the real one checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, param};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{Fault, Op};
use std::time::Duration;

const CLIENT: &str = "socializioz-sandbox";
const SECRET: &str = "sandbox-secret";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/linkedin/callback";
const MEMBER_SCOPES: &str = "openid profile w_member_social";

async fn allow(base: &str, scope: &str) -> String {
    let res = client()
        .post(format!("{base}/linkedin/oauth/v2/authorization"))
        .form(&[
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("state", "st4te"),
            ("scope", scope),
            ("decision", "allow"),
            ("username", "ada"),
        ])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    param(&location, "code")
}

async fn token_call(base: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{base}/linkedin/oauth/v2/accessToken"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn exchange(base: &str, code: &str, secret: &str) -> reqwest::Response {
    token_call(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("client_secret", secret),
        ],
    )
    .await
}

/// A token and the member's URN.
async fn connect(base: &str, scope: &str) -> (String, String) {
    let code = allow(base, scope).await;
    let tokens: Value = exchange(base, &code, SECRET).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let me: Value = client()
        .get(format!("{base}/linkedin/api/v2/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        access,
        format!("urn:li:person:{}", me["sub"].as_str().unwrap()),
    )
}

fn rest(method: reqwest::Method, base: &str, path: &str, token: &str) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{base}/linkedin/api/rest/{path}"))
        .bearer_auth(token)
        .header("LinkedIn-Version", "202601")
        .header("X-Restli-Protocol-Version", "2.0.0")
}

async fn post_json(base: &str, path: &str, token: &str, body: Value) -> reqwest::Response {
    rest(reqwest::Method::POST, base, path, token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn status(base: &str, kind: &str, urn: &str, token: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    let body: Value = rest(
        reqwest::Method::GET,
        base,
        &format!("{kind}/{encoded}"),
        token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    body["status"].as_str().unwrap_or_default().to_owned()
}

fn post_body(author: &str, text: &str, content: Option<Value>) -> Value {
    let mut body = json!({
        "author": author,
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    if let Some(content) = content {
        body["content"] = content;
    }
    body
}

/// An image uploaded and AVAILABLE; its URN.
async fn image(base: &str, token: &str, author: &str, bytes: usize) -> String {
    let init: Value = post_json(
        base,
        "images?action=initializeUpload",
        token,
        json!({"initializeUploadRequest": {"owner": author}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let urn = init["value"]["image"].as_str().unwrap().to_owned();
    assert_eq!(status(base, "images", &urn, token).await, "WAITING_UPLOAD");
    let put = client()
        .put(init["value"]["uploadUrl"].as_str().unwrap())
        .bearer_auth(token)
        .body(vec![1u8; bytes])
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    assert_eq!(status(base, "images", &urn, token).await, "PROCESSING");
    assert_eq!(status(base, "images", &urn, token).await, "AVAILABLE");
    urn
}

#[tokio::test]
async fn oauth_keeps_the_refresh_token_and_its_year() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;

    let code = allow(base, MEMBER_SCOPES).await;
    let wrong = exchange(base, &code, "guess").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let code = allow(base, MEMBER_SCOPES).await;
    let tokens: Value = exchange(base, &code, SECRET).await.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 5_184_000);
    assert_eq!(tokens["refresh_token_expires_in"], 31_536_000);
    assert_eq!(tokens["scope"], "openid,profile,w_member_social");
    assert_eq!(
        exchange(base, &code, SECRET).await.status(),
        StatusCode::BAD_REQUEST,
        "a code works once"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let me: Value = client()
        .get(format!("{base}/linkedin/api/v2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["given_name"], "ada");
    assert!(me["sub"].is_string() && me["picture"].is_string());

    // Refreshing ten days later: a new access token, the same refresh token, its year not reset.
    sim::linkedin::age_refresh_tokens(&sim, Duration::from_secs(10 * 86_400));
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    let renewed: Value = token_call(base, &refresh_form).await.json().await.unwrap();
    assert_ne!(renewed["access_token"], tokens["access_token"]);
    assert_eq!(renewed["refresh_token"], refresh);
    let left = renewed["refresh_token_expires_in"].as_i64().unwrap();
    assert!((355 * 86_400 - 5..=355 * 86_400).contains(&left), "{left}");
    let again = token_call(base, &refresh_form).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the refresh token is not spent"
    );

    // After its year, refused.
    sim::linkedin::age_refresh_tokens(&sim, Duration::from_secs(356 * 86_400));
    assert_eq!(
        token_call(base, &refresh_form).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Revoked: the token is refused with LinkedIn's code.
    let new_access = renewed["access_token"].as_str().unwrap();
    let revoked = client()
        .post(format!("{base}/linkedin/oauth/v2/revoke"))
        .form(&[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("token", new_access),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = client()
        .get(format!("{base}/linkedin/api/v2/userinfo"))
        .bearer_auth(new_access)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "REVOKED_ACCESS_TOKEN"
    );
    sim.expire_all_tokens();
    let expired = client()
        .get(format!("{base}/linkedin/api/v2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expired.json::<Value>().await.unwrap()["code"],
        "EXPIRED_ACCESS_TOKEN"
    );
}

#[tokio::test]
async fn rest_wants_a_live_version_and_the_protocol_header() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let (token, author) = connect(base, MEMBER_SCOPES).await;
    let url = format!("{base}/linkedin/api/rest/posts");
    let body = post_body(&author, "hello", None);

    let missing = client()
        .post(&url)
        .bearer_auth(&token)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "VERSION_MISSING"
    );
    let old = client()
        .post(&url)
        .bearer_auth(&token)
        .header("LinkedIn-Version", "202401")
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UPGRADE_REQUIRED);
    assert!(
        old.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("sunset")
    );
    let no_protocol = client()
        .post(&url)
        .bearer_auth(&token)
        .header("LinkedIn-Version", "202601")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_protocol.status(), StatusCode::BAD_REQUEST);
    assert!(sim.posts().is_empty());

    let ok = post_json(base, "posts", &token, body).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let urn = ok.headers()["x-restli-id"].to_str().unwrap().to_owned();
    assert!(urn.starts_with("urn:li:share:"));
    assert_eq!(sim.posts().len(), 1);
    assert_eq!(sim.posts()[0].id, urn);
}

#[tokio::test]
async fn images_videos_and_posts() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let (token, author) = connect(base, MEMBER_SCOPES).await;

    // An image not yet AVAILABLE cannot be posted; once it is, it can.
    let init: Value = post_json(
        base,
        "images?action=initializeUpload",
        &token,
        json!({"initializeUploadRequest": {"owner": author}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let pending = init["value"]["image"].as_str().unwrap();
    let early = post_json(
        base,
        "posts",
        &token,
        post_body(
            &author,
            "too early",
            Some(json!({"media": {"id": pending}})),
        ),
    )
    .await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let one = image(base, &token, &author, 1500).await;
    let res = post_json(
        base,
        "posts",
        &token,
        post_body(
            &author,
            "One image \\(escaped\\)",
            Some(json!({"media": {"id": one}})),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Several images; a multiImage of one is refused.
    let two = image(base, &token, &author, 2500).await;
    let single = post_json(
        base,
        "posts",
        &token,
        post_body(
            &author,
            "one",
            Some(json!({"multiImage": {"images": [{"id": one}]}})),
        ),
    )
    .await;
    assert_eq!(single.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post_json(
        base,
        "posts",
        &token,
        post_body(
            &author,
            "Two images",
            Some(json!({"multiImage": {"images": [{"id": one}, {"id": two}]}})),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // A 9 MB video in three parts: the etags must come back in order.
    let size = 9 * 1024 * 1024;
    let init: Value = post_json(
        base,
        "videos?action=initializeUpload",
        &token,
        json!({"initializeUploadRequest": {"owner": author, "fileSizeBytes": size, "uploadCaptions": false, "uploadThumbnail": false}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let value = &init["value"];
    let video = value["video"].as_str().unwrap();
    let parts = value["uploadInstructions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2]["lastByte"], size - 1);
    let mut etags = Vec::new();
    for part in parts {
        let length = part["lastByte"].as_u64().unwrap() - part["firstByte"].as_u64().unwrap() + 1;
        let res = client()
            .put(part["uploadUrl"].as_str().unwrap())
            .body(vec![3u8; usize::try_from(length).unwrap()])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        etags.push(res.headers()["etag"].to_str().unwrap().to_owned());
    }
    let finalize = |ids: Vec<String>| json!({"finalizeUploadRequest": {"video": video, "uploadToken": value["uploadToken"], "uploadedPartIds": ids}});
    let mut shuffled = etags.clone();
    shuffled.reverse();
    assert_eq!(
        post_json(
            base,
            "videos?action=finalizeUpload",
            &token,
            finalize(shuffled)
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post_json(
            base,
            "videos?action=finalizeUpload",
            &token,
            finalize(etags)
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(status(base, "videos", video, &token).await, "PROCESSING");
    assert_eq!(status(base, "videos", video, &token).await, "AVAILABLE");
    let res = post_json(
        base,
        "posts",
        &token,
        post_body(&author, "A video", Some(json!({"media": {"id": video}}))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Someone else's author, too long a commentary, no w_member_social.
    assert_eq!(
        post_json(
            base,
            "posts",
            &token,
            post_body("urn:li:person:other", "x", None)
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_json(
            base,
            "posts",
            &token,
            post_body(&author, &"a".repeat(3001), None)
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (profile_only, _) = connect(base, "openid profile").await;
    assert_eq!(
        post_json(base, "posts", &profile_only, post_body(&author, "x", None))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let posts = sim.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].text, "One image (escaped)");
    let shape = |i: usize| {
        posts[i]
            .media
            .iter()
            .map(|m| (m.kind.clone(), m.bytes))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(0), vec![("image".to_owned(), 1500)]);
    assert_eq!(
        shape(1),
        vec![("image".to_owned(), 1500), ("image".to_owned(), 2500)]
    );
    assert_eq!(shape(2), vec![("video".to_owned(), size as u64)]);

    // Faults: processing fails; a rate limit on posting.
    sim.inject(Platform::LinkedIn, Op::Status, Fault::ProcessingFailed);
    let init: Value = post_json(
        base,
        "images?action=initializeUpload",
        &token,
        json!({"initializeUploadRequest": {"owner": author}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        status(
            base,
            "images",
            init["value"]["image"].as_str().unwrap(),
            &token
        )
        .await,
        "PROCESSING_FAILED"
    );
    sim.inject(
        Platform::LinkedIn,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(60),
        },
    );
    assert_eq!(
        post_json(base, "posts", &token, post_body(&author, "later", None))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(sim.posts().len(), 3);
}

#[tokio::test]
async fn a_members_posts_are_found_by_author_with_r_member_social() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let (token, author) = connect(base, "openid profile w_member_social r_member_social").await;
    for n in 0..3 {
        let res = post_json(
            base,
            "posts",
            &token,
            post_body(&author, &format!("Post \\#{n} \\(escaped\\)"), None),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let urn: String = form_urlencoded::byte_serialize(author.as_bytes()).collect();
    let find = |query: String, token: String| async move {
        let res = rest(
            reqwest::Method::GET,
            base,
            &format!("posts?{query}"),
            &token,
        )
        .send()
        .await
        .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    let (status, first) = find(
        format!("author={urn}&q=author&sortBy=CREATED&count=2"),
        token.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let elements = first["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 2);
    // Newest first, the commentary as little text, escaped as it was sent.
    assert_eq!(elements[0]["commentary"], "Post \\#2 \\(escaped\\)");
    assert_eq!(elements[0]["author"], author.as_str());
    assert!(
        elements[0]["createdAt"].as_i64().unwrap() >= elements[1]["createdAt"].as_i64().unwrap()
    );
    assert_eq!(first["paging"]["total"], 3);
    assert_eq!(first["paging"]["links"][0]["rel"], "next");
    let (_, second) = find(
        format!("author={urn}&q=author&sortBy=CREATED&count=2&start=2"),
        token.clone(),
    )
    .await;
    assert_eq!(second["elements"].as_array().unwrap().len(), 1);
    assert_eq!(second["paging"]["links"].as_array().unwrap().len(), 0);
    assert_eq!(sim.posts().len(), 3);

    // Without r_member_social, or for another member, LinkedIn refuses; a fault as LinkedIn
    // answers it.
    let (writer, _) = connect(base, "openid profile w_member_social").await;
    let (status, body) = find(format!("author={urn}&q=author"), writer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ACCESS_DENIED");
    let (status, _) = find(
        "author=urn%3Ali%3Aperson%3Asomeone&q=author".to_owned(),
        token.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    sim.inject(
        Platform::LinkedIn,
        Op::Listing,
        Fault::RateLimited {
            retry_after: Duration::from_secs(60),
        },
    );
    let (status, _) = find(format!("author={urn}&q=author"), token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}
