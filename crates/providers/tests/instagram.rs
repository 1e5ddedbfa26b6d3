//! The Instagram adapter against the simulator (the connect flow, publishing, every error kind,
//! refresh and revoke) and against wiremock for error shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use domain::Platform;
use providers::social::instagram::{Instagram, InstagramConfig};
use providers::social::{
    AccountRef, ConnectError, Connector, MediaRef, Polling, PublishError, PublishRequest,
    Publisher, Revoked, TokenGrant,
};
use secrecy::{ExposeSecret, SecretString};
use sim::{Fault, Op, Simulator};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/instagram/callback";

fn config(base: &str) -> InstagramConfig {
    let mut config = InstagramConfig::simulated(base);
    config.polling = Polling {
        interval: Duration::from_millis(5),
        limit: 10,
    };
    config
}

/// Plays the person: opens the authorize page's form and presses Allow; returns the code.
async fn authorise(ig: &Instagram, user: &str) -> String {
    let url = ig.authorize_url("s1", None, REDIRECT, ig.publishing_scopes());
    common::press_allow(&url, Some(user)).await
}

struct Connected {
    simulator: Simulator,
    running: sim::Running,
    ig: Instagram,
    grant: TokenGrant,
    account: AccountRef,
    files: String,
}

async fn connected() -> Connected {
    let (simulator, running) = common::simulator().await;
    let ig = Instagram::new(config(&running.base_url));
    let code = authorise(&ig, "acme").await;
    let grant = ig.exchange(&code, None, REDIRECT).await.unwrap();
    let mut accounts = ig.accounts(&grant).await.unwrap();
    assert_eq!(accounts.len(), 1);
    let candidate = accounts.remove(0);
    Connected {
        simulator,
        running,
        ig,
        account: common::account(
            Platform::Instagram,
            &candidate.identity.external_id,
            &candidate.identity.username,
        ),
        grant: candidate.grant,
        files: common::media_server().await,
    }
}

/// Instagram fetches the files itself: the type given here is not looked at.
fn media(files: &str, name: &str) -> MediaRef {
    let mime = if name.ends_with(".mp4") {
        "video/mp4"
    } else {
        "image/jpeg"
    };
    common::media_file(files, name, mime, 0)
}

impl Connected {
    fn request(&self, text: &str, media: Vec<MediaRef>) -> PublishRequest {
        common::publish_request(self.account.clone(), &self.grant.access, text, media)
    }

    fn jpeg(&self) -> MediaRef {
        media(&self.files, "photo.jpg")
    }

    fn video(&self) -> MediaRef {
        media(&self.files, "clip.mp4")
    }
}

fn kinds(post: &sim::Post) -> Vec<&str> {
    post.media.iter().map(|m| m.kind.as_str()).collect()
}

#[tokio::test]
async fn connects_a_professional_account_and_not_a_personal_one() {
    let c = connected().await;
    assert_eq!(c.grant.expires_in, Some(5_184_000), "the long-lived token");
    assert!(c.grant.refresh.is_none());
    assert_eq!(
        c.grant.scopes,
        [
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_comments"
        ]
    );
    let me = c.ig.identity(&c.grant.access).await.unwrap();
    assert_eq!(me.username, "acme");
    assert_eq!(me.display_name, "acme (simulated)");
    assert_eq!(me.external_id, c.account.external_id);
    assert!(me.followers.is_some() && me.avatar_url.is_some());

    // A personal account is no account to publish with.
    let code = authorise(&c.ig, "personal_jo").await;
    let grant = c.ig.exchange(&code, None, REDIRECT).await.unwrap();
    assert!(c.ig.accounts(&grant).await.unwrap().is_empty());

    // A code is spent once; a wrong client secret is refused.
    let code = authorise(&c.ig, "acme").await;
    let mut wrong = config(&c.running.base_url);
    wrong.client_secret = SecretString::from("not-the-secret");
    let err = Instagram::new(wrong)
        .exchange(&code, None, REDIRECT)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
    assert!(!format!("{err:?}").contains("not-the-secret"));
    c.ig.exchange(&code, None, REDIRECT).await.unwrap();
    let err = c.ig.exchange(&code, None, REDIRECT).await.unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
    assert!(!c.ig.uses_pkce());
}

#[tokio::test]
async fn publishes_an_image_a_reel_and_a_carousel() {
    let c = connected().await;
    let image =
        c.ig.publish(&c.request("A photo", vec![c.jpeg()]))
            .await
            .unwrap();
    let reel =
        c.ig.publish(&c.request("A reel", vec![c.video()]))
            .await
            .unwrap();
    let carousel =
        c.ig.publish(&c.request("A carousel", vec![c.jpeg(), c.video(), c.jpeg()]))
            .await
            .unwrap();

    let posts = c.simulator.posts();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.user_id == c.account.external_id));
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["A photo", "A reel", "A carousel"]);
    assert_eq!(kinds(&posts[0]), ["image"]);
    assert_eq!(kinds(&posts[1]), ["video"]);
    assert_eq!(kinds(&posts[2]), ["image", "video", "image"]);
    for (published, post) in [image, reel, carousel].iter().zip(&posts) {
        assert_eq!(published.platform_post_id, post.id);
        assert!(
            published
                .permalink
                .as_deref()
                .unwrap()
                .contains("/instagram/web/p/")
        );
    }
}

#[tokio::test]
async fn stories_and_reels_are_published_as_such() {
    let c = connected().await;
    let as_format = |text: &str, media, format: &str| {
        let mut request = c.request(text, media);
        request.options = serde_json::json!({"format": format});
        request
    };
    let photo_story =
        c.ig.publish(&as_format("Not shown", vec![c.jpeg()], "story"))
            .await
            .unwrap();
    let video_story =
        c.ig.publish(&as_format("", vec![c.video()], "story"))
            .await
            .unwrap();
    let reel =
        c.ig.publish(&as_format("A reel", vec![c.video()], "reel"))
            .await
            .unwrap();
    assert_eq!(
        c.simulator.instagram_kind(&photo_story.platform_post_id),
        Some("story")
    );
    assert_eq!(
        c.simulator.instagram_kind(&video_story.platform_post_id),
        Some("story")
    );
    assert_eq!(
        c.simulator.instagram_kind(&reel.platform_post_id),
        Some("reel")
    );
    let posts = c.simulator.posts();
    // A story carries no caption.
    assert_eq!(posts[0].text, "");
    assert_eq!(kinds(&posts[1]), ["video"]);
    assert_eq!(posts[2].text, "A reel");
    for (media, format) in [
        (vec![c.jpeg(), c.jpeg()], "story"),
        (vec![c.jpeg()], "reel"),
    ] {
        assert!(matches!(
            c.ig.publish(&as_format("x", media, format)).await,
            Err(PublishError::InvalidContent { .. })
        ));
    }
    assert_eq!(c.simulator.posts().len(), 3);
}

/// AI-made media carry Instagram's AI info label on the published container: the single one,
/// or the carousel's parent only (the simulator refuses it on an item, as Instagram documents).
#[tokio::test]
async fn ai_made_media_carry_the_ai_label() {
    let c = connected().await;
    let ai = |mut media: providers::social::MediaRef| {
        media.ai_generated = true;
        media
    };
    let image =
        c.ig.publish(&c.request("Made by AI", vec![ai(c.jpeg())]))
            .await
            .unwrap();
    let reel =
        c.ig.publish(&c.request("An AI reel", vec![ai(c.video())]))
            .await
            .unwrap();
    let carousel =
        c.ig.publish(&c.request("One AI picture of two", vec![c.jpeg(), ai(c.jpeg())]))
            .await
            .unwrap();
    let mut story = c.request("", vec![ai(c.jpeg())]);
    story.options = serde_json::json!({"format": "story"});
    let story = c.ig.publish(&story).await.unwrap();
    let plain =
        c.ig.publish(&c.request("A photo", vec![c.jpeg()]))
            .await
            .unwrap();
    for labelled in [&image, &reel, &carousel, &story] {
        assert!(
            c.simulator.instagram_ai_label(&labelled.platform_post_id),
            "{labelled:?}"
        );
    }
    assert!(!c.simulator.instagram_ai_label(&plain.platform_post_id));
    assert_eq!(c.simulator.posts().len(), 5);
}

#[tokio::test]
async fn every_error_kind_is_mapped() {
    let c = connected().await;
    let sim = &c.simulator;

    match c.ig.publish(&c.request("text only", vec![])).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert_eq!(reason, "Instagram needs an image or a video.")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    assert!(matches!(
        c.ig.publish(&c.request("too many", vec![c.jpeg(); 11]))
            .await,
        Err(PublishError::InvalidContent { .. })
    ));
    match c
        .ig
        .publish(&c.request(&"a".repeat(2201), vec![c.jpeg()]))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("2200"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    match c
        .ig
        .publish(&c.request("png", vec![media(&c.files, "photo.png")]))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("JPEG"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }

    sim.inject(Platform::Instagram, Op::Upload, Fault::ExpiredToken);
    assert_eq!(
        c.ig.publish(&c.request("expired", vec![c.jpeg()])).await,
        Err(PublishError::TokenExpired)
    );
    sim.inject(
        Platform::Instagram,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(180),
        },
    );
    assert_eq!(
        c.ig.publish(&c.request("limited", vec![c.jpeg()])).await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(180)
        })
    );
    // A 500 before media_publish leaves nothing behind; at media_publish it may have posted.
    sim.inject(Platform::Instagram, Op::Upload, Fault::ServerError);
    assert!(matches!(
        c.ig.publish(&c.request("5xx", vec![c.jpeg()])).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    sim.inject(Platform::Instagram, Op::Publish, Fault::ServerError);
    assert!(matches!(
        c.ig.publish(&c.request("5xx at publish", vec![c.jpeg()]))
            .await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));

    // Processing: a failure, a slow success, and one still in progress at the limit.
    sim.inject(Platform::Instagram, Op::Status, Fault::ProcessingFailed);
    match c.ig.publish(&c.request("broken", vec![c.video()])).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("could not process"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    sim.inject(Platform::Instagram, Op::Status, Fault::SlowProcessing(5));
    c.ig.publish(&c.request("slow", vec![c.video()]))
        .await
        .unwrap();
    sim.inject(Platform::Instagram, Op::Status, Fault::SlowProcessing(50));
    assert!(matches!(
        c.ig.publish(&c.request("slower", vec![c.jpeg(), c.jpeg()]))
            .await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));

    let mut no_token = c.request("none", vec![c.jpeg()]);
    no_token.access_token = None;
    assert_eq!(
        c.ig.publish(&no_token).await,
        Err(PublishError::TokenExpired)
    );
    sim.expire_all_tokens();
    assert_eq!(
        c.ig.publish(&c.request("after expiry", vec![c.jpeg()]))
            .await,
        Err(PublishError::TokenExpired)
    );

    let texts: Vec<String> = sim.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["slow"]);
}

#[tokio::test]
async fn the_daily_publishing_limit_is_a_rate_limit() {
    let c = connected().await;
    for i in 0..50 {
        c.ig.publish(&c.request(&format!("post {i}"), vec![c.jpeg()]))
            .await
            .unwrap();
    }
    match c
        .ig
        .publish(&c.request("one too many", vec![c.jpeg()]))
        .await
    {
        Err(PublishError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(3600))
        }
        other => panic!("expected the publishing limit, got {other:?}"),
    }
    assert_eq!(c.simulator.posts().len(), 50);
}

#[tokio::test]
async fn refresh_needs_a_day_old_token_and_revoke_is_not_offered() {
    let c = connected().await;
    let err =
        c.ig.refresh(&c.account, &c.grant.access, None)
            .await
            .unwrap_err();
    // Too young to renew is not the person's doing: try later, no reconnection.
    assert!(
        matches!(&err, ConnectError::Unavailable(why) if why.contains("24 hours")),
        "{err:?}"
    );

    c.simulator.age_tokens(Duration::from_secs(25 * 3600));
    let renewed =
        c.ig.refresh(&c.account, &c.grant.access, None)
            .await
            .unwrap();
    assert_ne!(
        renewed.access.expose_secret(),
        c.grant.access.expose_secret()
    );
    assert_eq!(renewed.expires_in, Some(5_184_000));
    let mut request = c.request("after refresh", vec![c.jpeg()]);
    request.access_token = Some(renewed.access.clone());
    c.ig.publish(&request).await.unwrap();
    assert_eq!(c.simulator.posts().len(), 1);

    c.simulator.expire_all_tokens();
    assert!(matches!(
        c.ig.refresh(&c.account, &renewed.access, None).await,
        Err(ConnectError::Refused(_))
    ));
    assert_eq!(
        c.ig.revoke(&renewed.access, None).await.unwrap(),
        Revoked::NotOffered
    );
}

// ---------------------------------------------------------------------------------------------
// Error shapes, served by wiremock.

#[tokio::test]
async fn error_shapes() {
    let server = MockServer::start().await;
    let mut config = config("http://unused");
    config.graph_base = server.uri();
    config.api_base = server.uri();
    let ig = Instagram::new(config);
    let account = common::account(Platform::Instagram, "17841", "acme");
    let request = common::publish_request(
        account.clone(),
        &SecretString::from("token"),
        "hello",
        vec![media("http://files.invalid", "photo.jpg")],
    );

    // A revoked session: code 190, subcode 460.
    Mock::given(method("POST"))
        .and(path("/v25.0/17841/media"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(common::graph_error(
                190,
                Some(460),
                "Error validating access token: The session has been invalidated.",
            )),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(ig.publish(&request).await, Err(PublishError::TokenExpired));

    // A media_publish that times out at the load balancer (a 502 without a Graph body): the
    // post may exist.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/v25.0/17841/media"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "c1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/c1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "c1", "status_code": "FINISHED"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/17841/media_publish"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        ig.publish(&request).await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));

    // The code exchange in its `data[0]` shape and a legacy error on refresh.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [{
                "access_token": "short", "user_id": 17841,
                "permissions": "instagram_business_basic,instagram_business_content_publish"
            }]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "long", "token_type": "bearer", "expires_in": 5_183_944
        })))
        .expect(1)
        .mount(&server)
        .await;
    let grant = ig.exchange("code", None, REDIRECT).await.unwrap();
    assert_eq!(grant.access.expose_secret(), "long");
    assert_eq!(grant.expires_in, Some(5_183_944));
    assert_eq!(grant.scopes.len(), 2);
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(common::graph_error(
                4,
                None,
                "(#4) Application request limit reached",
            )),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        ig.refresh(&account, &grant.access, None).await,
        Err(ConnectError::Unavailable(_))
    ));
}
