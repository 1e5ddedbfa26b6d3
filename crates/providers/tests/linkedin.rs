//! The LinkedIn adapter against the simulator (the connect flow, each kind of post, every error
//! kind) and against wiremock for answers the simulator does not give.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use domain::Platform;
use providers::social::linkedin::{LinkedIn, LinkedInConfig};
use providers::social::{
    AccountRef, ConnectError, Connector, MediaRef, Polling, PublishError, PublishRequest,
    Publisher, Revoked, TokenGrant,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sim::{Fault, Op, Simulator};
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/linkedin/callback";
const VIDEO: usize = 9 * 1024 * 1024;

fn config(base: &str) -> LinkedInConfig {
    let mut config = LinkedInConfig::simulated(base);
    config.polling = Polling {
        interval: Duration::from_millis(5),
        limit: 5,
    };
    config
}

/// Plays the person: presses Allow as `ada`; returns the code.
async fn authorise(linkedin: &LinkedIn) -> String {
    let url = linkedin.authorize_url("s1", None, REDIRECT, linkedin.publishing_scopes());
    common::press_allow(&url, Some("ada")).await
}

struct Connected {
    simulator: Simulator,
    running: sim::Running,
    linkedin: LinkedIn,
    grant: TokenGrant,
    account: AccountRef,
    store: String,
}

async fn connected() -> Connected {
    let (simulator, running) = common::simulator().await;
    let linkedin = LinkedIn::new(config(&running.base_url));
    let code = authorise(&linkedin).await;
    let grant = linkedin.exchange(&code, None, REDIRECT).await.unwrap();
    let me = linkedin.identity(&grant.access).await.unwrap();
    Connected {
        account: common::account(Platform::LinkedIn, &me.external_id, &me.username),
        simulator,
        running,
        linkedin,
        grant,
        store: media_server().await,
    }
}

/// A media store: `/photo.jpg`, `/other.png`, `/clip.mp4` (9 MB: three parts).
async fn media_server() -> String {
    let video: Vec<u8> = (0..VIDEO).map(|i| (i % 251) as u8).collect();
    common::serve_files(vec![
        ("/photo.jpg", "image/jpeg", vec![0xFF; 2048]),
        ("/other.png", "image/png", vec![0x89; 1024]),
        ("/clip.mp4", "video/mp4", video),
    ])
    .await
}

fn media(base: &str, file: &str) -> MediaRef {
    match file {
        "clip.mp4" => common::media_file(base, file, "video/mp4", VIDEO as u64),
        "photo.jpg" => common::media_file(base, file, "image/jpeg", 2048),
        _ => common::media_file(base, file, "image/png", 1024),
    }
}

fn request(c: &Connected, text: &str, media: Vec<MediaRef>) -> PublishRequest {
    common::publish_request(c.account.clone(), &c.grant.access, text, media)
}

#[tokio::test]
async fn connects_refreshes_without_rotation_and_revokes() {
    let c = connected().await;
    assert_eq!(c.grant.expires_in, Some(5_184_000));
    assert_eq!(c.grant.refresh_expires_in, Some(31_536_000));
    assert_eq!(c.grant.scopes, vec!["openid", "profile", "w_member_social"]);
    let me = c.linkedin.identity(&c.grant.access).await.unwrap();
    assert_eq!(me.display_name, "ada Simulated");
    assert_eq!(me.username, "ada-simulated");
    assert_eq!(me.external_id, c.account.external_id);
    assert!(me.avatar_url.is_some());

    // A wrong client secret is our configuration's fault, and never shown.
    let mut wrong = config(&c.running.base_url);
    wrong.client_secret = SecretString::from("not-the-secret");
    let misconfigured = LinkedIn::new(wrong);
    let code = authorise(&misconfigured).await;
    match misconfigured.exchange(&code, None, REDIRECT).await {
        Err(ConnectError::Unavailable(why)) => {
            assert!(why.contains("client secret setting"), "{why}");
            assert!(!why.contains("not-the-secret"));
        }
        other => panic!("expected the client to be refused, got {other:?}"),
    }
    // A used code is refused.
    let code = authorise(&c.linkedin).await;
    c.linkedin.exchange(&code, None, REDIRECT).await.unwrap();
    assert!(matches!(
        c.linkedin.exchange(&code, None, REDIRECT).await,
        Err(ConnectError::Refused(_))
    ));

    // Refresh: a new access token, the same refresh token, which keeps working.
    sim::linkedin::age_refresh_tokens(&c.simulator, Duration::from_secs(86_400));
    let refresh = c.grant.refresh.clone().unwrap();
    let renewed = c
        .linkedin
        .refresh(&c.account, &c.grant.access, Some(&refresh))
        .await
        .unwrap();
    assert_ne!(
        renewed.access.expose_secret(),
        c.grant.access.expose_secret()
    );
    assert_eq!(
        renewed.refresh.as_ref().unwrap().expose_secret(),
        refresh.expose_secret()
    );
    let left = renewed.refresh_expires_in.unwrap();
    assert!(
        (31_536_000 - 86_400 - 5..=31_536_000 - 86_400).contains(&left),
        "{left}"
    );
    c.linkedin
        .refresh(&c.account, &renewed.access, Some(&refresh))
        .await
        .unwrap();
    match c.linkedin.refresh(&c.account, &c.grant.access, None).await {
        Err(ConnectError::Refused(why)) => assert!(why.contains("no refresh token"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Revoked: the token is refused when publishing.
    assert_eq!(
        c.linkedin.revoke(&renewed.access, None).await.unwrap(),
        Revoked::Confirmed
    );
    let mut after = request(&c, "after revoke", Vec::new());
    after.access_token = Some(renewed.access.clone());
    assert_eq!(
        c.linkedin.publish(&after).await,
        Err(PublishError::TokenExpired)
    );
    assert!(c.simulator.posts().is_empty());
}

#[tokio::test]
async fn the_id_token_must_carry_the_nonce_of_the_authorisation() {
    let (_simulator, running) = common::simulator().await;
    let linkedin = LinkedIn::new(config(&running.base_url));
    assert!(linkedin.uses_nonce());
    assert!(
        !linkedin.uses_pkce(),
        "LinkedIn takes PKCE from native apps only"
    );
    let authorise = |nonce: Option<&'static str>| {
        let url = linkedin.authorize_url_with_nonce(
            "s1",
            None,
            nonce,
            REDIRECT,
            linkedin.publishing_scopes(),
        );
        if let Some(nonce) = nonce {
            assert!(url.contains(&format!("&nonce={nonce}")), "{url}");
        }
        assert!(!url.contains("code_challenge"), "{url}");
        async move { common::press_allow(&url, Some("ada")).await }
    };

    // The nonce of this authorisation: accepted.
    let code = authorise(Some("nonce-of-flow-a")).await;
    let grant = linkedin
        .exchange_with_nonce(&code, None, Some("nonce-of-flow-a"), REDIRECT)
        .await
        .unwrap();
    assert!(linkedin.identity(&grant.access).await.is_ok());

    // A code from another authorisation (another nonce, or none) is refused in ours.
    for other in [Some("nonce-of-flow-b"), None] {
        let code = authorise(other).await;
        match linkedin
            .exchange_with_nonce(&code, None, Some("nonce-of-flow-a"), REDIRECT)
            .await
        {
            Err(ConnectError::Refused(why)) => {
                assert!(why.contains("another connection attempt"), "{why}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    // An ID token for another application, or from another issuer, is refused too.
    for (claim, value) in [
        ("aud", json!("another-app")),
        ("iss", json!("https://attacker.example")),
    ] {
        let server = MockServer::start().await;
        let mut claims = json!({
            "iss": "https://www.linkedin.com/oauth",
            "aud": "socializioz-sandbox",
            "sub": "member-1",
            "exp": chrono::Utc::now().timestamp() + 3600,
            "nonce": "nonce-of-flow-a",
        });
        claims[claim] = value;
        let id_token = format!(
            "{}.{}.c2ln",
            b64(br#"{"alg":"RS256"}"#),
            b64(claims.to_string().as_bytes())
        );
        Mock::given(method("POST"))
            .and(path("/linkedin/oauth/v2/accessToken"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "AQat_mock",
                "expires_in": 5_184_000,
                "scope": "openid,profile,w_member_social",
                "id_token": id_token,
            })))
            .expect(1)
            .mount(&server)
            .await;
        // The unused token is given back.
        Mock::given(method("POST"))
            .and(path("/linkedin/oauth/v2/revoke"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        let mocked = LinkedIn::new(config(&server.uri()));
        match mocked
            .exchange_with_nonce("code", None, Some("nonce-of-flow-a"), REDIRECT)
            .await
        {
            Err(ConnectError::Refused(why)) => assert!(why.contains("ID token"), "{why}"),
            other => panic!("{claim}: expected a refusal, got {other:?}"),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn publishes_text_images_and_a_video() {
    let c = connected().await;
    let text = "Launch (v2) #news: 50% off [today] @ada_b *now* ~ {x} | <y> \\ done";
    let published = c
        .linkedin
        .publish(&request(&c, text, Vec::new()))
        .await
        .unwrap();
    let posts = c.simulator.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, text, "reserved characters arrive as written");
    assert_eq!(posts[0].user_id, c.account.external_id);
    assert!(posts[0].media.is_empty());
    assert_eq!(published.platform_post_id, posts[0].id);
    assert_eq!(
        published.permalink.unwrap(),
        format!(
            "{}/linkedin/web/feed/update/{}",
            c.running.base_url, posts[0].id
        )
    );

    c.linkedin
        .publish(&request(
            &c,
            "One image",
            vec![media(&c.store, "photo.jpg")],
        ))
        .await
        .unwrap();
    c.linkedin
        .publish(&request(
            &c,
            "Two images",
            vec![media(&c.store, "photo.jpg"), media(&c.store, "other.png")],
        ))
        .await
        .unwrap();
    c.linkedin
        .publish(&request(&c, "A video", vec![media(&c.store, "clip.mp4")]))
        .await
        .unwrap();
    let posts = c.simulator.posts();
    assert_eq!(posts.len(), 4);
    let shape = |i: usize| {
        (
            posts[i].text.as_str(),
            posts[i]
                .media
                .iter()
                .map(|m| (m.kind.as_str(), m.bytes))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(shape(1), ("One image", vec![("image", 2048)]));
    assert_eq!(
        shape(2),
        ("Two images", vec![("image", 2048), ("image", 1024)])
    );
    assert_eq!(shape(3), ("A video", vec![("video", VIDEO as u64)]));

    match c
        .linkedin
        .publish(&request(
            &c,
            "mixed",
            vec![media(&c.store, "photo.jpg"), media(&c.store, "clip.mp4")],
        ))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => assert!(reason.contains("mix"), "{reason}"),
        other => panic!("expected invalid content, got {other:?}"),
    }
    assert_eq!(c.simulator.posts().len(), 4);
}

#[tokio::test]
async fn every_error_kind_is_mapped() {
    let c = connected().await;
    let sim = &c.simulator;
    let photo = || vec![media(&c.store, "photo.jpg")];

    sim.inject(Platform::LinkedIn, Op::Publish, Fault::ExpiredToken);
    assert_eq!(
        c.linkedin
            .publish(&request(&c, "expired", Vec::new()))
            .await,
        Err(PublishError::TokenExpired)
    );
    sim.inject(
        Platform::LinkedIn,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(60),
        },
    );
    assert_eq!(
        c.linkedin
            .publish(&request(&c, "limited", Vec::new()))
            .await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(60)
        })
    );
    match c
        .linkedin
        .publish(&request(&c, &"a".repeat(3001), Vec::new()))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("3000"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    sim.inject(Platform::LinkedIn, Op::Publish, Fault::ServerError);
    assert!(matches!(
        c.linkedin.publish(&request(&c, "5xx", Vec::new())).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));

    // Processing: a failure, slow but finishing, still going at the polling limit.
    sim.inject(Platform::LinkedIn, Op::Status, Fault::ProcessingFailed);
    match c.linkedin.publish(&request(&c, "fails", photo())).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("process"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    sim.inject(Platform::LinkedIn, Op::Status, Fault::SlowProcessing(3));
    c.linkedin
        .publish(&request(&c, "slow", photo()))
        .await
        .unwrap();
    sim.inject(Platform::LinkedIn, Op::Status, Fault::SlowProcessing(50));
    assert!(matches!(
        c.linkedin.publish(&request(&c, "too slow", photo())).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    assert_eq!(sim.posts().len(), 1);

    // A retired API version: the setting to change is named.
    let mut old = config(&c.running.base_url);
    old.version = "202305".into();
    match LinkedIn::new(old)
        .publish(&request(&c, "old", Vec::new()))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(
                reason.contains("202305") && reason.contains("version setting"),
                "{reason}"
            )
        }
        other => panic!("expected invalid content, got {other:?}"),
    }

    // The post call timing out: it may exist.
    sim.inject(
        Platform::LinkedIn,
        Op::Publish,
        Fault::Slow(Duration::from_secs(3)),
    );
    let impatient = LinkedIn::with_http_client(
        config(&c.running.base_url),
        reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    );
    assert!(matches!(
        impatient.publish(&request(&c, "timeout", Vec::new())).await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));

    let mut no_token = request(&c, "none", Vec::new());
    no_token.access_token = None;
    assert_eq!(
        c.linkedin.publish(&no_token).await,
        Err(PublishError::TokenExpired)
    );
    assert_eq!(sim.posts().len(), 1);
}

#[tokio::test]
async fn wiremock_answers_426_and_429_with_retry_after() {
    let server = MockServer::start().await;
    let mut config = LinkedInConfig::simulated("unused");
    config.api_base = server.uri();
    config.version = "202310".into();
    let linkedin = LinkedIn::new(config);
    let request = common::publish_request(
        common::account(Platform::LinkedIn, "abc", "ada"),
        &SecretString::from("AQtoken"),
        "hi",
        Vec::new(),
    );

    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(header("LinkedIn-Version", "202310"))
        .and(header("X-Restli-Protocol-Version", "2.0.0"))
        .respond_with(ResponseTemplate::new(426).set_body_json(json!({
            "status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20231001 is not active",
        })))
        .expect(1)
        .mount(&server)
        .await;
    match linkedin.publish(&request).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(
                reason.contains("202310") && reason.contains("not active"),
                "{reason}"
            )
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    server.verify().await;

    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(json!({"status": 429, "message": "throttled"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        linkedin.publish(&request).await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(120)
        })
    );

    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    // Accepted without naming the post: it exists, but we cannot say which.
    assert!(matches!(
        linkedin.publish(&request).await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
}
