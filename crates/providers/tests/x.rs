//! The X adapter against the simulator: the whole connect flow, posting, and every error kind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use domain::Platform;
use providers::social::x::{X, XConfig};
use providers::social::{
    ConnectError, Connector, PublishError, PublishRequest, Publisher, TokenGrant,
};
use secrecy::{ExposeSecret, SecretString};
use sim::{Fault, Op, Simulator};
use std::time::Duration;

const REDIRECT: &str = "http://127.0.0.1:9/oauth/x/callback";
const VERIFIER: &str = "adapter-test-verifier-0123456789-0123456789-abc";

/// Plays the person: opens the authorize URL's form and presses Allow; returns the code.
async fn authorise(x: &X) -> String {
    let challenge = common::pkce_challenge(VERIFIER);
    let url = x.authorize_url("s1", Some(&challenge), REDIRECT, x.publishing_scopes());
    common::press_allow(&url, Some("acme")).await
}

async fn connected() -> (Simulator, sim::Running, X, TokenGrant) {
    let (simulator, running) = common::simulator().await;
    let x = X::new(XConfig::simulated(&running.base_url));
    let code = authorise(&x).await;
    let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
    (simulator, running, x, grant)
}

fn request(token: &SecretString, text: &str) -> PublishRequest {
    common::publish_request(
        common::account(Platform::X, "1", "acme"),
        token,
        text,
        Vec::new(),
    )
}

#[tokio::test]
async fn connects_and_publishes_through_the_real_calls() {
    let (simulator, _running, x, grant) = connected().await;
    assert_eq!(grant.expires_in, Some(7200));
    assert!(
        grant.refresh.is_some(),
        "offline.access brings a refresh token"
    );
    assert!(grant.scopes.contains(&"tweet.write".to_owned()));
    let me = x.identity(&grant.access).await.unwrap();
    assert_eq!(me.username, "acme");

    let published = x
        .publish(&request(&grant.access, "Hello from the adapter"))
        .await
        .unwrap();
    let posts = simulator.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, "Hello from the adapter");
    assert_eq!(published.platform_post_id, posts[0].id);
    assert!(
        published
            .permalink
            .unwrap()
            .ends_with(&format!("/acme/status/{}", posts[0].id))
    );

    // A wrong verifier is refused.
    let code = authorise(&x).await;
    let err = x
        .exchange(&code, Some("wrong"), REDIRECT)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");

    // Refresh rotates the refresh token; the old one is refused afterwards.
    let old = grant.refresh.clone().unwrap();
    let account = request(&grant.access, "").account;
    let renewed = x
        .refresh(&account, &grant.access, Some(&old))
        .await
        .unwrap();
    assert_ne!(
        renewed.refresh.as_ref().unwrap().expose_secret(),
        old.expose_secret()
    );
    assert!(matches!(
        x.refresh(&account, &grant.access, Some(&old)).await,
        Err(ConnectError::Refused(_))
    ));
    assert!(
        x.publish(&request(&renewed.access, "after refresh"))
            .await
            .is_ok()
    );

    // Revoked: publishing says the token no longer works.
    assert_eq!(
        x.revoke(&renewed.access, None).await.unwrap(),
        providers::social::Revoked::Confirmed
    );
    assert_eq!(
        x.publish(&request(&renewed.access, "after revoke")).await,
        Err(PublishError::TokenExpired)
    );
}

#[tokio::test]
async fn every_error_kind_is_mapped() {
    let (simulator, _running, x, grant) = connected().await;
    let token = &grant.access;

    simulator.inject(
        Platform::X,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(900),
        },
    );
    match x.publish(&request(token, "limited")).await {
        Err(PublishError::RateLimited { retry_after }) => {
            assert!(
                retry_after >= Duration::from_secs(890) && retry_after <= Duration::from_secs(900),
                "{retry_after:?}"
            )
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    simulator.inject(Platform::X, Op::Publish, Fault::ServerError);
    assert!(matches!(
        x.publish(&request(token, "5xx")).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    match x.publish(&request(token, &"a".repeat(281))).await {
        Err(PublishError::InvalidContent { reason }) => assert!(reason.contains("280"), "{reason}"),
        other => panic!("expected invalid content, got {other:?}"),
    }
    simulator.inject(Platform::X, Op::Publish, Fault::ExpiredToken);
    assert_eq!(
        x.publish(&request(token, "expired")).await,
        Err(PublishError::TokenExpired)
    );
    let mut no_token = request(token, "none");
    no_token.access_token = None;
    assert_eq!(x.publish(&no_token).await, Err(PublishError::TokenExpired));

    // Nothing answering at all: certainly not posted.
    let nowhere = X::new(XConfig::simulated("http://127.0.0.1:9"));
    assert!(matches!(
        nowhere.publish(&request(token, "unreachable")).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    assert!(simulator.posts().is_empty());
}

/// Serves an image at `/image.png` and a video at `/video.mp4`, as signed media URLs would.
async fn media_server() -> String {
    common::serve_files(vec![
        ("/image.png", "image/png", vec![7; 2_000]),
        ("/video.mp4", "video/mp4", vec![9; 300_000]),
    ])
    .await
}

fn media(base: &str, kind: domain::media::MediaKind) -> providers::social::MediaRef {
    match kind {
        domain::media::MediaKind::Image => {
            common::media_file(base, "image.png", "image/png", 2_000)
        }
        domain::media::MediaKind::Video => {
            common::media_file(base, "video.mp4", "video/mp4", 300_000)
        }
    }
}

#[tokio::test]
async fn images_and_video_are_uploaded_in_segments_and_attached() {
    use domain::media::MediaKind::{Image, Video};
    let (simulator, running) = common::simulator().await;
    let mut config = XConfig::simulated(&running.base_url);
    // Small segments, so the video goes in several appends.
    config.chunk_size = 64 * 1024;
    config.polling.interval = Duration::from_millis(10);
    let x = X::new(config);
    let code = authorise(&x).await;
    let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
    let files = media_server().await;

    let mut two_images = request(&grant.access, "two pictures");
    two_images.media = vec![media(&files, Image), media(&files, Image)];
    x.publish(&two_images).await.unwrap();

    let mut video = request(&grant.access, "a film");
    video.media = vec![media(&files, Video)];
    x.publish(&video).await.unwrap();

    let posts = simulator.posts();
    assert_eq!(posts.len(), 2);
    let kinds = |i: usize| {
        posts[i]
            .media
            .iter()
            .map(|m| (m.kind.as_str(), m.bytes))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(0), [("image", 2_000), ("image", 2_000)]);
    assert_eq!(kinds(1), [("video", 300_000)]);

    // A video X cannot process is refused with X's reason; nothing is posted.
    simulator.inject(Platform::X, Op::Status, Fault::ProcessingFailed);
    let err = x.publish(&video).await.unwrap_err();
    assert!(
        matches!(&err, PublishError::InvalidContent { reason } if reason.contains("Unsupported video format")),
        "{err:?}"
    );
    // Slow processing is waited for.
    simulator.inject(Platform::X, Op::Status, Fault::SlowProcessing(2));
    x.publish(&video).await.unwrap();
    // An upload that fails on X's side is passing, and certainly not posted.
    simulator.inject(Platform::X, Op::Upload, Fault::ServerError);
    assert!(matches!(
        x.publish(&two_images).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    assert_eq!(simulator.posts().len(), 3);
}

#[tokio::test]
async fn a_file_whose_length_differs_from_the_announced_size_is_not_posted() {
    let (simulator, running) = common::simulator().await;
    let mut config = XConfig::simulated(&running.base_url);
    config.chunk_size = 64 * 1024;
    let x = X::new(config);
    let code = authorise(&x).await;
    let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();

    // The store announces no length, so X is told the stored 300 000 bytes; the file is shorter
    // or longer than that.
    for actual in [200_000, 400_000] {
        let files = common::serve_unsized("video/mp4", vec![9; actual]).await;
        let mut video = request(&grant.access, "a film");
        video.media = vec![common::media_file(
            &files,
            "video.mp4",
            "video/mp4",
            300_000,
        )];
        let err = x.publish(&video).await.unwrap_err();
        assert!(
            matches!(
                &err,
                PublishError::Transient { reason, maybe_published: false }
                    if reason.contains("300000 bytes announced")
            ),
            "{actual}: {err:?}"
        );
    }
    assert!(simulator.posts().is_empty());
}
