//! The simulated TikTok API checks what the real one checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, param, pkce_challenge};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{Fault, Op};
use std::time::Duration;

const CLIENT: &str = "socializioz-sandbox";
const SECRET: &str = "sandbox-secret";
const REDIRECT: &str = "http://127.0.0.1:9/oauth/tiktok/callback";
const VERIFIER: &str = "verifier-0123456789-0123456789-0123456789-abcdef";
const MB: usize = 1024 * 1024;

/// Presses Allow as `user`; the code (with a PKCE challenge when `pkce`).
async fn allow(base: &str, scope: &str, user: &str, pkce: bool) -> String {
    let mut form = vec![
        ("client_key", CLIENT.to_owned()),
        ("response_type", "code".into()),
        ("scope", scope.into()),
        ("redirect_uri", REDIRECT.into()),
        ("state", "st4te".into()),
        ("decision", "allow".into()),
        ("username", user.into()),
    ];
    if pkce {
        form.push(("code_challenge", pkce_challenge(VERIFIER)));
        form.push(("code_challenge_method", "S256".into()));
    }
    let res = client()
        .post(format!("{base}/tiktok/v2/auth/authorize/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(param(&location, "state"), "st4te");
    param(&location, "code")
}

async fn token_call(base: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{base}/tiktok/api/v2/oauth/token/"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn exchange(
    base: &str,
    code: &str,
    verifier: Option<&str>,
    secret: &str,
) -> reqwest::Response {
    let mut form = vec![
        ("client_key", CLIENT),
        ("client_secret", secret),
        ("code", code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    token_call(base, &form).await
}

/// A fresh token for `user` with `scope`.
async fn connect(base: &str, scope: &str, user: &str) -> Value {
    let code = allow(base, scope, user, false).await;
    let res = exchange(base, &code, None, SECRET).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn api(base: &str, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let res = client()
        .post(format!("{base}/tiktok/api{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn post_info(privacy: &str) -> Value {
    json!({
        "title": "A video #sim",
        "privacy_level": privacy,
        "disable_comment": false,
        "disable_duet": false,
        "disable_stitch": false,
        "is_aigc": true,
    })
}

fn file_upload(size: usize, chunk: usize, count: usize) -> Value {
    json!({"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count})
}

async fn put_chunk(url: &str, bytes: &[u8], start: usize, total: usize) -> StatusCode {
    client()
        .put(url)
        .header("content-type", "video/mp4")
        .header(
            "content-range",
            format!("bytes {start}-{}/{total}", start + bytes.len() - 1),
        )
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

async fn status(base: &str, token: &str, publish_id: &str) -> Value {
    let (code, body) = api(
        base,
        token,
        "/v2/post/publish/status/fetch/",
        json!({"publish_id": publish_id}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn oauth_with_optional_pkce_rotating_refresh_and_revocation() {
    let (_sim, running) = common::start().await;
    let base = &running.base_url;

    // PKCE is optional, but checked when the authorization carried a challenge.
    let code = allow(base, "user.info.basic,video.publish", "acme", true).await;
    let wrong = exchange(base, &code, Some("not-the-verifier"), SECRET).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["log_id"].is_string());

    // The client secret is checked.
    let code = allow(base, "user.info.basic,video.publish", "acme", true).await;
    let bad_secret = exchange(base, &code, Some(VERIFIER), "guess").await;
    assert_eq!(bad_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad_secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let code = allow(base, "user.info.basic,video.publish", "acme", true).await;
    let tokens: Value = exchange(base, &code, Some(VERIFIER), SECRET)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["expires_in"], 86_400);
    assert_eq!(tokens["refresh_expires_in"], 31_536_000);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "user.info.basic,video.publish");
    let open_id = tokens["open_id"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // User info: the envelope; username only with user.info.profile, follower_count only
    // with user.info.stats.
    let info: Value = client()
        .get(format!(
            "{base}/tiktok/api/v2/user/info/?fields=open_id,avatar_url,display_name"
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["error"]["code"], "ok");
    assert_eq!(info["data"]["user"]["open_id"], open_id.as_str());
    assert_eq!(info["data"]["user"]["display_name"], "acme (simulated)");
    let profile = client()
        .get(format!(
            "{base}/tiktok/api/v2/user/info/?fields=open_id,username"
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), StatusCode::FORBIDDEN);
    let stats = client()
        .get(format!(
            "{base}/tiktok/api/v2/user/info/?fields=open_id,follower_count"
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        stats.json::<Value>().await.unwrap()["error"]["code"],
        "scope_not_authorized"
    );
    let with_stats = connect(base, "user.info.basic,user.info.stats", "acme").await;
    let info: Value = client()
        .get(format!(
            "{base}/tiktok/api/v2/user/info/?fields=open_id,follower_count"
        ))
        .bearer_auth(with_stats["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info["data"]["user"]["follower_count"].is_u64());

    // Refresh rotates.
    let refresh_form = |rt: &str| {
        vec![
            ("client_key".to_owned(), CLIENT.to_owned()),
            ("client_secret".to_owned(), SECRET.to_owned()),
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), rt.to_owned()),
        ]
    };
    let renewed: Value = client()
        .post(format!("{base}/tiktok/api/v2/oauth/token/"))
        .form(&refresh_form(&refresh))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_refresh = renewed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, refresh);
    let reused = client()
        .post(format!("{base}/tiktok/api/v2/oauth/token/"))
        .form(&refresh_form(&refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);

    // Revoking ends the whole authorisation: access tokens and the refresh token.
    let new_access = renewed["access_token"].as_str().unwrap();
    let revoked = client()
        .post(format!("{base}/tiktok/api/v2/oauth/revoke/"))
        .form(&[
            ("client_key", CLIENT),
            ("client_secret", SECRET),
            ("token", new_access),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let (code, body) = api(
        base,
        new_access,
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "access_token_invalid");
    let after = client()
        .post(format!("{base}/tiktok/api/v2/oauth/token/"))
        .form(&refresh_form(&new_refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_chunked_video_upload_is_published_after_processing() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let tokens = connect(base, "user.info.basic,video.publish", "acme").await;
    let token = tokens["access_token"].as_str().unwrap();

    let (code, creator) = api(
        base,
        token,
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        creator["data"]["privacy_level_options"],
        json!(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    );

    // Chunk rules: a 12 MB video in 5 MB chunks is 2 chunks (the last takes the remainder).
    let size = 12 * MB;
    for (chunk, count) in [(5 * MB, 3), (4 * MB, 3), (65 * MB, 1)] {
        let (code, body) = api(
            base,
            token,
            "/v2/post/publish/video/init/",
            json!({"post_info": post_info("PUBLIC_TO_EVERYONE"), "source_info": file_upload(size, chunk, count)}),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{chunk} {count}: {body}");
        assert_eq!(body["error"]["code"], "invalid_params");
    }
    let (code, init) = api(
        base,
        token,
        "/v2/post/publish/video/init/",
        json!({"post_info": post_info("PUBLIC_TO_EVERYONE"), "source_info": file_upload(size, 5 * MB, 2)}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{init}");
    let publish_id = init["data"]["publish_id"].as_str().unwrap().to_owned();
    let url = init["data"]["upload_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(base.as_str()), "{url}");
    assert_eq!(sim::tiktok::last_post_info(&sim).unwrap()["is_aigc"], true);

    let video = vec![1u8; size];
    // Out of order, and a chunk of the wrong size, are refused.
    assert_eq!(
        put_chunk(&url, &video[5 * MB..], 5 * MB, size).await,
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    assert_eq!(
        put_chunk(&url, &video[..4 * MB], 0, size).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(base, token, &publish_id).await["status"],
        "PROCESSING_UPLOAD"
    );
    assert_eq!(
        put_chunk(&url, &video[..5 * MB], 0, size).await,
        StatusCode::PARTIAL_CONTENT
    );
    assert_eq!(
        put_chunk(&url, &video[5 * MB..], 5 * MB, size).await,
        StatusCode::CREATED
    );
    assert!(sim.posts().is_empty(), "not published before processing");
    assert_eq!(
        status(base, token, &publish_id).await["status"],
        "PROCESSING_UPLOAD"
    );
    let done = status(base, token, &publish_id).await;
    assert_eq!(done["status"], "PUBLISH_COMPLETE");
    let posts = sim.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "A video #sim");
    assert_eq!(posts[0].media[0].bytes, size as u64);
    assert_eq!(done["publicaly_available_post_id"], json!([posts[0].id]));
    // Polling again does not post twice.
    status(base, token, &publish_id).await;
    assert_eq!(sim.posts().len(), 1);

    // A small video goes as one chunk of its whole size.
    let (_, init) = api(
        base,
        token,
        "/v2/post/publish/video/init/",
        json!({"post_info": post_info("SELF_ONLY"), "source_info": file_upload(300_000, 300_000, 1)}),
    )
    .await;
    let url = init["data"]["upload_url"].as_str().unwrap();
    assert_eq!(
        put_chunk(url, &[2u8; 300_000], 0, 300_000).await,
        StatusCode::CREATED
    );
    let publish_id = init["data"]["publish_id"].as_str().unwrap();
    status(base, token, publish_id).await;
    let done = status(base, token, publish_id).await;
    assert_eq!(done["status"], "PUBLISH_COMPLETE");
    assert_eq!(
        done["publicaly_available_post_id"],
        json!([]),
        "private posts have no public id"
    );
    assert_eq!(sim.posts().len(), 2);
}

#[tokio::test]
async fn pulled_videos_and_photos_are_fetched() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let media = common::media_server(7).await;
    let token = connect(base, "user.info.basic,video.publish", "acme").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, init) = api(
        base,
        &token,
        "/v2/post/publish/video/init/",
        json!({"post_info": post_info("PUBLIC_TO_EVERYONE"), "source_info": {"source": "PULL_FROM_URL", "video_url": format!("{media}/clip.mp4")}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let id = init["data"]["publish_id"].as_str().unwrap();
    assert_eq!(
        status(base, &token, id).await["status"],
        "PROCESSING_DOWNLOAD"
    );
    assert_eq!(status(base, &token, id).await["status"], "PUBLISH_COMPLETE");

    let photos = |urls: Vec<String>| {
        json!({
            "post_info": {"title": "Photos", "description": "Two photos", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "source_info": {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 0},
            "post_mode": "DIRECT_POST",
            "media_type": "PHOTO",
        })
    };
    let (code, init) = api(
        base,
        &token,
        "/v2/post/publish/content/init/",
        photos(vec![
            format!("{media}/photo.jpg"),
            format!("{media}/photo.jpg"),
        ]),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{init}");
    let id = init["data"]["publish_id"].as_str().unwrap();
    status(base, &token, id).await;
    assert_eq!(status(base, &token, id).await["status"], "PUBLISH_COMPLETE");
    // PNG is not taken: the publish fails.
    let (_, init) = api(
        base,
        &token,
        "/v2/post/publish/content/init/",
        photos(vec![format!("{media}/photo.png")]),
    )
    .await;
    let failed = status(base, &token, init["data"]["publish_id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["fail_reason"], "file_format_check_failed");

    let posts = sim.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].media[0].kind, "video");
    assert_eq!(posts[0].media[0].bytes, 300_000);
    assert_eq!(posts[1].text, "Two photos");
    assert_eq!(
        posts[1]
            .media
            .iter()
            .map(|m| (m.kind.as_str(), m.bytes))
            .collect::<Vec<_>>(),
        vec![("image", 2048), ("image", 2048)]
    );
}

#[tokio::test]
async fn creator_rules_limits_and_faults() {
    let (sim, running) = common::start().await;
    let base = &running.base_url;
    let init = |token: String, info: Value| async move {
        api(
            base,
            &token,
            "/v2/post/publish/video/init/",
            json!({"post_info": info, "source_info": file_upload(1000, 1000, 1)}),
        )
        .await
    };

    // An unaudited app's creator may only post privately.
    let unaudited =
        connect(base, "user.info.basic,video.publish", "unaudited_acme").await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let (_, creator) = api(
        base,
        &unaudited,
        "/v2/post/publish/creator_info/query/",
        json!({}),
    )
    .await;
    assert_eq!(
        creator["data"]["privacy_level_options"],
        json!(["SELF_ONLY"])
    );
    let (code, body) = init(unaudited.clone(), post_info("PUBLIC_TO_EVERYONE")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "privacy_level_option_mismatch");

    // A creator with interactions off must keep them off.
    let quiet = connect(base, "user.info.basic,video.publish", "quiet_acme").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = init(quiet.clone(), post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let mut off = post_info("SELF_ONLY");
    for switch in ["disable_comment", "disable_duet", "disable_stitch"] {
        off[switch] = json!(true);
    }
    assert_eq!(init(quiet, off).await.0, StatusCode::OK);

    // Titles over 2200 characters; no video.publish scope.
    let token = connect(base, "user.info.basic,video.publish", "acme").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut long = post_info("SELF_ONLY");
    long["title"] = json!("é".repeat(2201));
    let (code, body) = init(token.clone(), long).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_params");
    let basic = connect(base, "user.info.basic", "acme").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, body) = init(basic, post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "scope_not_authorized");

    // Six inits a minute per token (the refused title above counted as one).
    for _ in 0..5 {
        assert_eq!(
            init(token.clone(), post_info("SELF_ONLY")).await.0,
            StatusCode::OK
        );
    }
    let (code, body) = init(token.clone(), post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    // The daily cap of posts per creator.
    sim::tiktok::set_daily_post_cap(&sim, 5);
    let other = connect(base, "user.info.basic,video.publish", "acme").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, body) = init(other, post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "spam_risk_too_many_posts");

    // Faults, in TikTok's shapes.
    let fresh = connect(base, "user.info.basic,video.publish", "faulty").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.inject(
        Platform::TikTok,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(120),
        },
    );
    let res = client()
        .post(format!("{base}/tiktok/api/v2/post/publish/video/init/"))
        .bearer_auth(&fresh)
        .json(&json!({"post_info": post_info("SELF_ONLY"), "source_info": file_upload(1000, 1000, 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let reset: i64 = res.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= chrono::Utc::now().timestamp() + 110);
    sim.inject(Platform::TikTok, Op::Publish, Fault::ExpiredToken);
    let (code, body) = init(fresh.clone(), post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "access_token_invalid");
    let (code, init_body) = init(fresh.clone(), post_info("SELF_ONLY")).await;
    assert_eq!(code, StatusCode::OK);
    let id = init_body["data"]["publish_id"].as_str().unwrap();
    let url = init_body["data"]["upload_url"].as_str().unwrap();
    assert_eq!(
        put_chunk(url, &[0u8; 1000], 0, 1000).await,
        StatusCode::CREATED
    );
    sim.inject(Platform::TikTok, Op::Status, Fault::ProcessingFailed);
    let failed = status(base, &fresh, id).await;
    assert_eq!(failed["status"], "FAILED");
    assert!(sim.posts().is_empty());
}
