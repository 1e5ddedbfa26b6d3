//! The TikTok adapter against the simulator (the connect flow, each kind of post, every error
//! kind) and against wiremock for TikTok's envelope errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use domain::Platform;
use providers::social::tiktok::{TikTok, TikTokConfig};
use providers::social::{
    ConnectError, Connector, MediaRef, Polling, PublishError, PublishRequest, Publisher, Revoked,
    TokenGrant,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sim::{Fault, Op, Simulator};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/tiktok/callback";
const VERIFIER: &str = "adapter-test-verifier-0123456789-0123456789-abc";
const MB: usize = 1024 * 1024;
const BIG: usize = 12 * MB;

fn config(base: &str) -> TikTokConfig {
    let mut config = TikTokConfig::simulated(base);
    config.polling = Polling {
        interval: Duration::from_millis(5),
        limit: 5,
    };
    config.chunk_size = 5 * MB as u64;
    config
}

/// Plays the person: presses Allow as `user`; returns the code.
async fn authorise(tiktok: &TikTok, user: &str) -> String {
    let challenge = common::pkce_challenge(VERIFIER);
    let url = tiktok.authorize_url("s1", Some(&challenge), REDIRECT, tiktok.publishing_scopes());
    common::press_allow(&url, Some(user)).await
}

async fn grant_for(tiktok: &TikTok, user: &str) -> TokenGrant {
    let code = authorise(tiktok, user).await;
    tiktok
        .exchange(&code, Some(VERIFIER), REDIRECT)
        .await
        .unwrap()
}

struct Setup {
    simulator: Simulator,
    _running: sim::Running,
    tiktok: TikTok,
    store: String,
}

async fn setup() -> Setup {
    let (simulator, running) = common::simulator().await;
    let tiktok = TikTok::new(config(&running.base_url));
    Setup {
        simulator,
        tiktok,
        store: media_server().await,
        _running: running,
    }
}

/// A media store: `/clip.mp4` (300 KB), `/big.mp4` (12 MB), `/photo.jpg`, `/photo.png`.
async fn media_server() -> String {
    common::serve_files(vec![
        ("/clip.mp4", "video/mp4", vec![7; 300_000]),
        ("/big.mp4", "video/mp4", vec![9; BIG]),
        ("/photo.jpg", "image/jpeg", vec![0xFF; 2048]),
        ("/photo.png", "image/png", vec![0x89; 1024]),
    ])
    .await
}

fn media(base: &str, file: &str, ai: bool) -> MediaRef {
    let (mime, size) = match file {
        "clip.mp4" => ("video/mp4", 300_000),
        "big.mp4" => ("video/mp4", BIG as u64),
        "photo.jpg" => ("image/jpeg", 2048),
        _ => ("image/png", 1024),
    };
    MediaRef {
        ai_generated: ai,
        ..common::media_file(base, file, mime, size)
    }
}

fn request(token: &SecretString, text: &str, media: Vec<MediaRef>) -> PublishRequest {
    common::publish_request(
        common::account(Platform::TikTok, "1", "acme"),
        token,
        text,
        media,
    )
}

#[tokio::test]
async fn connects_with_pkce_and_refreshes_revokes() {
    let Setup {
        simulator,
        _running: running,
        tiktok,
        store,
    } = setup().await;
    let grant = grant_for(&tiktok, "acme").await;
    assert_eq!(grant.expires_in, Some(86_400));
    assert_eq!(grant.refresh_expires_in, Some(31_536_000));
    assert_eq!(grant.scopes, vec!["user.info.basic", "video.publish"]);
    let me = tiktok.identity(&grant.access).await.unwrap();
    assert_eq!(me.username, "acme");
    assert_eq!(me.followers, None, "no user.info.stats, no follower count");
    assert!(!me.external_id.is_empty());

    // A wrong verifier is refused; so is a wrong client secret (as our configuration's fault).
    let code = authorise(&tiktok, "acme").await;
    let err = tiktok
        .exchange(&code, Some("wrong"), REDIRECT)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
    let mut wrong_secret = config(&running.base_url);
    wrong_secret.client_secret = SecretString::from("not-the-secret");
    let misconfigured = TikTok::new(wrong_secret);
    let code = authorise(&misconfigured, "acme").await;
    match misconfigured
        .exchange(&code, Some(VERIFIER), REDIRECT)
        .await
    {
        Err(ConnectError::Unavailable(why)) => {
            assert!(why.contains("client secret setting"), "{why}");
            assert!(!why.contains("not-the-secret"));
        }
        other => panic!("expected the client to be refused, got {other:?}"),
    }

    // Refresh rotates: the new refresh token is returned, the old one refused afterwards.
    let account = request(&grant.access, "", Vec::new()).account;
    let old = grant.refresh.clone().unwrap();
    let renewed = tiktok
        .refresh(&account, &grant.access, Some(&old))
        .await
        .unwrap();
    assert_ne!(
        renewed.refresh.as_ref().unwrap().expose_secret(),
        old.expose_secret()
    );
    assert_eq!(renewed.refresh_expires_in, Some(31_536_000));
    assert!(matches!(
        tiktok.refresh(&account, &grant.access, Some(&old)).await,
        Err(ConnectError::Refused(_))
    ));
    assert!(matches!(
        tiktok.refresh(&account, &grant.access, None).await,
        Err(ConnectError::Refused(_))
    ));
    tiktok
        .publish(&request(
            &renewed.access,
            "after refresh",
            vec![media(&store, "clip.mp4", false)],
        ))
        .await
        .unwrap();
    assert_eq!(simulator.posts().len(), 1);

    // Revoked: publishing says the token no longer works, and the refresh token is gone too.
    assert_eq!(
        tiktok
            .revoke(&renewed.access, renewed.refresh.as_ref())
            .await
            .unwrap(),
        Revoked::Confirmed
    );
    assert_eq!(
        tiktok
            .publish(&request(
                &renewed.access,
                "after revoke",
                vec![media(&store, "clip.mp4", false)]
            ))
            .await,
        Err(PublishError::TokenExpired)
    );
    assert!(matches!(
        tiktok
            .refresh(&account, &renewed.access, renewed.refresh.as_ref())
            .await,
        Err(ConnectError::Refused(_))
    ));
    assert_eq!(simulator.posts().len(), 1);
}

#[tokio::test]
async fn publishes_videos_in_chunks_and_photos() {
    let Setup {
        simulator,
        tiktok,
        store,
        _running: _guard,
    } = setup().await;
    let grant = grant_for(&tiktok, "acme").await;

    // An AI-made 12 MB video goes in 5 MB chunks (the last one takes the remainder).
    let published = tiktok
        .publish(&request(
            &grant.access,
            "Made with AI #demo",
            vec![media(&store, "big.mp4", true)],
        ))
        .await
        .unwrap();
    let posts = simulator.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "Made with AI #demo");
    assert_eq!(posts[0].media.len(), 1);
    assert_eq!(posts[0].media[0].kind, "video");
    assert_eq!(posts[0].media[0].bytes, BIG as u64);
    assert_eq!(published.platform_post_id, posts[0].id);
    assert!(
        published
            .permalink
            .unwrap()
            .ends_with(&format!("/@acme/video/{}", posts[0].id))
    );
    let info = sim::tiktok::last_post_info(&simulator).unwrap();
    assert_eq!(info["is_aigc"], true);
    assert_eq!(info["privacy_level"], "PUBLIC_TO_EVERYONE");
    assert_eq!(info["disable_comment"], false);

    // A small video, not AI-made, with the privacy and a switch the composer chose.
    let mut small = request(
        &grant.access,
        "Friends only",
        vec![media(&store, "clip.mp4", false)],
    );
    small.options = json!({"privacy_level": "MUTUAL_FOLLOW_FRIENDS", "disable_duet": true});
    tiktok.publish(&small).await.unwrap();
    let info = sim::tiktok::last_post_info(&simulator).unwrap();
    assert_eq!(info["is_aigc"], false);
    assert_eq!(info["privacy_level"], "MUTUAL_FOLLOW_FRIENDS");
    assert_eq!(info["disable_duet"], true);
    assert_eq!(simulator.posts()[1].media[0].bytes, 300_000);

    // Photos, pulled by TikTok from their URLs.
    let photos = vec![
        media(&store, "photo.jpg", false),
        media(&store, "photo.jpg", false),
    ];
    tiktok
        .publish(&request(
            &grant.access,
            "Two photos\nand more words",
            photos,
        ))
        .await
        .unwrap();
    let posts = simulator.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[2].text, "Two photos\nand more words");
    assert_eq!(
        posts[2]
            .media
            .iter()
            .map(|m| (m.kind.as_str(), m.bytes))
            .collect::<Vec<_>>(),
        vec![("image", 2048), ("image", 2048)]
    );
    assert_eq!(
        sim::tiktok::last_post_info(&simulator).unwrap()["title"],
        "Two photos"
    );

    // What TikTok cannot post is refused before any call.
    for (files, why) in [
        (Vec::new(), "video or photos"),
        (
            vec![
                media(&store, "photo.jpg", false),
                media(&store, "clip.mp4", false),
            ],
            "mix",
        ),
        (vec![media(&store, "photo.png", false)], "JPEG"),
    ] {
        match tiktok.publish(&request(&grant.access, "no", files)).await {
            Err(PublishError::InvalidContent { reason }) => {
                assert!(reason.contains(why), "{reason}")
            }
            other => panic!("expected invalid content, got {other:?}"),
        }
    }
    assert_eq!(simulator.posts().len(), 3);
}

#[tokio::test]
async fn follows_the_creators_options() {
    let Setup {
        simulator,
        tiktok,
        store,
        _running: _guard,
    } = setup().await;

    // An unaudited app's creator posts privately whatever the composer asked; no public link.
    let grant = grant_for(&tiktok, "unaudited_acme").await;
    let mut asked_public = request(
        &grant.access,
        "Private",
        vec![media(&store, "clip.mp4", false)],
    );
    asked_public.options = json!({"privacy_level": "PUBLIC_TO_EVERYONE"});
    let published = tiktok.publish(&asked_public).await.unwrap();
    assert_eq!(
        sim::tiktok::last_post_info(&simulator).unwrap()["privacy_level"],
        "SELF_ONLY"
    );
    assert_eq!(published.permalink, None);
    assert!(
        published.platform_post_id.starts_with("v_pub_file"),
        "{published:?}"
    );
    assert_eq!(simulator.posts().len(), 1);

    // A creator with interactions off: the switches are forced on.
    let grant = grant_for(&tiktok, "quiet_acme").await;
    tiktok
        .publish(&request(
            &grant.access,
            "Quiet",
            vec![media(&store, "clip.mp4", false)],
        ))
        .await
        .unwrap();
    let info = sim::tiktok::last_post_info(&simulator).unwrap();
    for switch in ["disable_comment", "disable_duet", "disable_stitch"] {
        assert_eq!(info[switch], true, "{switch}");
    }
    assert_eq!(simulator.posts().len(), 2);
}

#[tokio::test]
async fn every_error_kind_is_mapped() {
    let Setup {
        simulator,
        _running: running,
        tiktok,
        store,
    } = setup().await;
    let clip = || vec![media(&store, "clip.mp4", false)];
    let grant = grant_for(&tiktok, "acme").await;
    let token = &grant.access;

    simulator.inject(Platform::TikTok, Op::Publish, Fault::ExpiredToken);
    assert_eq!(
        tiktok.publish(&request(token, "expired", clip())).await,
        Err(PublishError::TokenExpired)
    );
    simulator.inject(
        Platform::TikTok,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(120),
        },
    );
    match tiktok.publish(&request(token, "limited", clip())).await {
        Err(PublishError::RateLimited { retry_after }) => assert!(
            retry_after >= Duration::from_secs(110) && retry_after <= Duration::from_secs(120),
            "{retry_after:?}"
        ),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    simulator.inject(Platform::TikTok, Op::Publish, Fault::ServerError);
    assert!(matches!(
        tiktok.publish(&request(token, "5xx", clip())).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    match tiktok
        .publish(&request(token, &"a".repeat(2201), clip()))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("2200"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    let mut wrong_privacy = request(token, "friends", clip());
    wrong_privacy.options = json!({"privacy_level": "FOLLOWER_OF_CREATOR"});
    // An option TikTok does not offer is not sent: the default applies.
    tiktok.publish(&wrong_privacy).await.unwrap();
    assert_eq!(
        sim::tiktok::last_post_info(&simulator).unwrap()["privacy_level"],
        "PUBLIC_TO_EVERYONE"
    );
    assert_eq!(simulator.posts().len(), 1);

    // Processing: a failure, slow but finishing, and still going at the polling limit.
    let grant = grant_for(&tiktok, "acme").await;
    let token = &grant.access;
    simulator.inject(Platform::TikTok, Op::Status, Fault::ProcessingFailed);
    match tiktok.publish(&request(token, "fails", clip())).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("file_format_check_failed"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    // The upload's last (here only) chunk failing: TikTok may have the whole video and publish
    // it, so the outcome is unknown rather than a safe retry.
    simulator.inject(Platform::TikTok, Op::Upload, Fault::ServerError);
    assert!(matches!(
        tiktok
            .publish(&request(token, "upload fails", clip()))
            .await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
    simulator.inject(Platform::TikTok, Op::Status, Fault::SlowProcessing(2));
    tiktok
        .publish(&request(token, "slow", clip()))
        .await
        .unwrap();
    assert_eq!(simulator.posts().len(), 2);
    simulator.inject(Platform::TikTok, Op::Status, Fault::SlowProcessing(50));
    assert!(matches!(
        tiktok.publish(&request(token, "very slow", clip())).await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
    assert_eq!(simulator.posts().len(), 2);

    // The per-minute init limit (six per token), with TikTok's reset header.
    let limited = grant_for(&tiktok, "busy").await;
    for _ in 0..6 {
        tiktok
            .publish(&request(&limited.access, "busy", clip()))
            .await
            .unwrap();
    }
    match tiktok
        .publish(&request(&limited.access, "one too many", clip()))
        .await
    {
        Err(PublishError::RateLimited { retry_after }) => {
            assert!(retry_after <= Duration::from_secs(60), "{retry_after:?}")
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }

    // The creator's daily cap: wait a day.
    sim::tiktok::set_daily_post_cap(&simulator, 6);
    let again = grant_for(&tiktok, "busy").await;
    assert_eq!(
        tiktok
            .publish(&request(&again.access, "spam?", clip()))
            .await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(86_400)
        })
    );

    // A token without video.publish: reconnect and allow posting.
    let read_only = TikTok::new(config(&running.base_url));
    let url = read_only.authorize_url("s", None, REDIRECT, &["user.info.basic"]);
    let code = common::press_allow(&url, None).await;
    let basic = read_only.exchange(&code, None, REDIRECT).await.unwrap();
    match tiktok
        .publish(&request(&basic.access, "no scope", clip()))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("reconnect"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }

    let mut no_token = request(&basic.access, "none", clip());
    no_token.access_token = None;
    assert_eq!(
        tiktok.publish(&no_token).await,
        Err(PublishError::TokenExpired)
    );
    assert_eq!(simulator.posts().len(), 8);
}

fn envelope_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "data": {},
        "error": {"code": code, "message": message, "log_id": "202601010000"},
    }))
}

#[tokio::test]
async fn envelope_errors_from_wiremock() {
    let server = MockServer::start().await;
    let mut config = TikTokConfig::simulated("unused");
    config.api_base = server.uri();
    let tiktok = TikTok::new(config);
    let media_base = media_server().await;
    let token = SecretString::from("act.token");
    let attempt = request(&token, "hi", vec![media(&media_base, "clip.mp4", false)]);
    let publish = || tiktok.publish(&attempt);

    let cases: Vec<(ResponseTemplate, PublishError)> = vec![
        (
            envelope_error(401, "access_token_invalid", "The access token is invalid."),
            PublishError::TokenExpired,
        ),
        (
            envelope_error(429, "rate_limit_exceeded", "slow down")
                .insert_header("retry-after", "30"),
            PublishError::RateLimited {
                retry_after: Duration::from_secs(30),
            },
        ),
        (
            envelope_error(429, "rate_limit_exceeded", "slow down"),
            PublishError::RateLimited {
                retry_after: Duration::from_secs(60),
            },
        ),
        (
            envelope_error(403, "spam_risk_too_many_posts", "daily cap"),
            PublishError::RateLimited {
                retry_after: Duration::from_secs(86_400),
            },
        ),
        (
            envelope_error(400, "invalid_params", "title is too long"),
            PublishError::InvalidContent {
                reason: "TikTok refused the post: title is too long".into(),
            },
        ),
        (
            envelope_error(502, "internal_error", "oops"),
            PublishError::Transient {
                reason: "TikTok answered 502 internal_error".into(),
                maybe_published: false,
            },
        ),
    ];
    for (answer, expected) in cases {
        server.reset().await;
        Mock::given(method("POST"))
            .and(path("/v2/post/publish/creator_info/query/"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        assert_eq!(publish().await, Err(expected));
        server.verify().await;
    }

    // A privacy level refused at init carries TikTok's message; nothing is uploaded.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"creator_username": "acme", "privacy_level_options": ["SELF_ONLY"]},
            "error": {"code": "ok", "message": "", "log_id": "1"},
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(envelope_error(
            400,
            "privacy_level_option_mismatch",
            "privacy_level is not among the options",
        ))
        .expect(1)
        .mount(&server)
        .await;
    match publish().await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("privacy_level is not among"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
}
