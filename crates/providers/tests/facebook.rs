//! The Facebook adapter against the simulator (the connect flow, pages, publishing, every error
//! kind, refresh and revoke) and against wiremock for Graph's error shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use domain::Platform;
use providers::social::facebook::{Facebook, FacebookConfig};
use providers::social::{
    AccountRef, Candidate, ConnectError, Connector, MediaRef, Polling, PublishError,
    PublishRequest, Publisher, Revoked, TokenGrant,
};
use secrecy::{ExposeSecret, SecretString};
use sim::{Fault, Op, Simulator};
use std::time::Duration;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/facebook/callback";

fn config(base: &str) -> FacebookConfig {
    let mut config = FacebookConfig::simulated(base);
    config.polling = Polling {
        interval: Duration::from_millis(5),
        limit: 10,
    };
    config
}

/// Plays the person: opens the login dialog's form and presses Allow; returns the code.
async fn authorise(fb: &Facebook, user: &str) -> String {
    let url = fb.authorize_url("s1", None, REDIRECT, fb.publishing_scopes());
    common::press_allow(&url, Some(user)).await
}

struct Connected {
    simulator: Simulator,
    _running: sim::Running,
    fb: Facebook,
    grant: TokenGrant,
    pages: Vec<Candidate>,
    files: String,
}

async fn connected() -> Connected {
    let (simulator, running) = common::simulator().await;
    let fb = Facebook::new(config(&running.base_url));
    let code = authorise(&fb, "acme").await;
    let grant = fb.exchange(&code, None, REDIRECT).await.unwrap();
    let pages = fb.accounts(&grant).await.unwrap();
    Connected {
        simulator,
        _running: running,
        fb,
        grant,
        pages,
        files: common::media_server().await,
    }
}

/// Facebook fetches the files itself: the type given here is not looked at.
fn media(files: &str, name: &str) -> MediaRef {
    let mime = if name.ends_with(".mp4") {
        "video/mp4"
    } else {
        "image/jpeg"
    };
    common::media_file(files, name, mime, 0)
}

fn account(page: &Candidate) -> AccountRef {
    common::account(
        Platform::Facebook,
        &page.identity.external_id,
        &page.identity.username,
    )
}

fn request(page: &Candidate, text: &str, media: Vec<MediaRef>) -> PublishRequest {
    common::publish_request(account(page), &page.grant.access, text, media)
}

fn kinds(post: &sim::Post) -> Vec<&str> {
    post.media.iter().map(|m| m.kind.as_str()).collect()
}

#[tokio::test]
async fn connects_to_the_pages_the_person_manages() {
    let c = connected().await;
    assert_eq!(
        c.grant.expires_in,
        Some(5_184_000),
        "the long-lived user token"
    );
    assert!(c.grant.refresh.is_none());
    for scope in c.fb.publishing_scopes() {
        assert!(c.grant.scopes.iter().any(|s| s == scope), "{scope} granted");
    }

    let names: Vec<&str> = c
        .pages
        .iter()
        .map(|p| p.identity.username.as_str())
        .collect();
    assert_eq!(names, ["acme Bakery", "acme Studio"]);
    for page in &c.pages {
        assert_eq!(page.identity.display_name, page.identity.username);
        assert!(page.identity.followers.is_some());
        assert!(page.identity.avatar_url.is_some());
        assert_ne!(
            page.grant.access.expose_secret(),
            c.grant.access.expose_secret()
        );
        assert_eq!(
            page.grant.refresh.as_ref().unwrap().expose_secret(),
            c.grant.access.expose_secret(),
            "the user token is kept to renew the page token"
        );
        assert_eq!(page.grant.expires_in, None, "page tokens do not expire");
        assert_eq!(page.grant.refresh_expires_in, Some(5_184_000));
    }

    // Identity reads /me: the page with its followers, or the person without.
    let me = c.fb.identity(&c.pages[0].grant.access).await.unwrap();
    assert_eq!(me.external_id, c.pages[0].identity.external_id);
    assert_eq!(me.username, "acme Bakery");
    assert!(me.followers.is_some());
    let person = c.fb.identity(&c.grant.access).await.unwrap();
    assert_eq!(person.username, "acme (simulated)");
    assert_eq!(person.followers, None);

    // A code is spent once; a wrong client secret is refused.
    let code = authorise(&c.fb, "acme").await;
    let mut wrong = config(&c._running.base_url);
    wrong.client_secret = SecretString::from("not-the-secret");
    let err = Facebook::new(wrong)
        .exchange(&code, None, REDIRECT)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectError::Refused(why) if why.contains("client secret")),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("not-the-secret"));
    c.fb.exchange(&code, None, REDIRECT).await.unwrap();
    let err = c.fb.exchange(&code, None, REDIRECT).await.unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
}

#[tokio::test]
async fn a_code_asked_for_with_pkce_redeems_only_with_its_verifier() {
    const VERIFIER: &str = "facebook-adapter-test-verifier-0123456789-abcdef";
    let (_simulator, running) = common::simulator().await;
    let fb = Facebook::new(config(&running.base_url));
    assert!(fb.uses_pkce());
    let challenge = common::pkce_challenge(VERIFIER);
    let url = fb.authorize_url("s1", Some(&challenge), REDIRECT, fb.publishing_scopes());
    assert!(
        url.contains(&format!(
            "code_challenge={challenge}&code_challenge_method=S256"
        )),
        "{url}"
    );
    assert!(!url.contains(VERIFIER));
    let authorise = || common::press_allow(&url, Some("acme"));

    // Without the verifier, or with another flow's, the code is refused in Graph's shape.
    for verifier in [
        None,
        Some("another-flows-verifier-0123456789-0123456789-ab"),
    ] {
        let code = authorise().await;
        let err = fb.exchange(&code, verifier, REDIRECT).await.unwrap_err();
        assert!(
            matches!(&err, ConnectError::Refused(why) if why.contains("code_verifier")),
            "{verifier:?}: {err:?}"
        );
    }
    let code = authorise().await;
    let grant = fb.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
    assert_eq!(grant.expires_in, Some(5_184_000));
}

#[tokio::test]
async fn publishes_text_photos_and_a_video() {
    let c = connected().await;
    let page = &c.pages[0];
    let files = &c.files;

    let text =
        c.fb.publish(&request(page, "Fresh bread today", vec![]))
            .await
            .unwrap();
    let one =
        c.fb.publish(&request(page, "One loaf", vec![media(files, "photo.jpg")]))
            .await
            .unwrap();
    let several =
        c.fb.publish(&request(
            page,
            "Three loaves",
            vec![
                media(files, "photo.jpg"),
                media(files, "photo.png"),
                media(files, "photo.jpg"),
            ],
        ))
        .await
        .unwrap();
    let video =
        c.fb.publish(&request(
            page,
            "Behind the counter",
            vec![media(files, "clip.mp4")],
        ))
        .await
        .unwrap();

    let posts = c.simulator.posts();
    assert_eq!(posts.len(), 4);
    assert!(posts.iter().all(|p| p.user_id == page.identity.external_id));
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Fresh bread today",
            "One loaf",
            "Three loaves",
            "Behind the counter"
        ]
    );
    assert_eq!(kinds(&posts[0]), Vec::<&str>::new());
    assert_eq!(kinds(&posts[1]), ["image"]);
    assert_eq!(kinds(&posts[2]), ["image", "image", "image"]);
    assert_eq!(posts[2].media[1].bytes, 1024, "in the author's order");
    assert_eq!(kinds(&posts[3]), ["video"]);
    assert_eq!(posts[3].media[0].bytes, 300_000);
    for (published, post) in [text, one, several, video].iter().zip(&posts) {
        assert_eq!(published.platform_post_id, post.id);
        let link = published.permalink.as_deref().unwrap();
        assert_eq!(
            link,
            format!("{}/facebook/web/{}", c._running.base_url, post.id)
        );
    }
}

#[tokio::test]
async fn reels_and_stories_go_through_their_own_edges() {
    let c = connected().await;
    let page = &c.pages[0];
    let files = &c.files;
    let as_format = |text: &str, media, format: &str| {
        let mut request = request(page, text, media);
        request.options = serde_json::json!({ "format": format });
        request
    };
    let reel =
        c.fb.publish(&as_format("A reel", vec![media(files, "clip.mp4")], "reel"))
            .await
            .unwrap();
    let photo_story =
        c.fb.publish(&as_format(
            "Not shown",
            vec![media(files, "photo.jpg")],
            "story",
        ))
        .await
        .unwrap();
    let video_story =
        c.fb.publish(&as_format(
            "Not shown",
            vec![media(files, "clip.mp4")],
            "story",
        ))
        .await
        .unwrap();

    let posts = c.simulator.posts();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.user_id == page.identity.external_id));
    // The reel is recorded once processed and published, with its description.
    assert_eq!(posts[0].id, reel.platform_post_id);
    assert_eq!(posts[0].text, "A reel");
    assert_eq!(kinds(&posts[0]), ["video"]);
    assert_eq!(
        posts[0].media[0].bytes, 300_000,
        "the bytes of the file handed over"
    );
    assert_eq!(
        reel.permalink.as_deref(),
        Some(format!("{}/facebook/web/reel/{}", c._running.base_url, posts[0].id).as_str())
    );
    // A story carries no text.
    assert_eq!(posts[1].id, photo_story.platform_post_id);
    assert_eq!(
        (posts[1].text.as_str(), kinds(&posts[1])),
        ("", vec!["image"])
    );
    assert_eq!(posts[2].id, video_story.platform_post_id);
    assert_eq!(
        (posts[2].text.as_str(), kinds(&posts[2])),
        ("", vec!["video"])
    );
    let sim = &c.simulator;
    assert_eq!(sim.facebook_kind(&reel.platform_post_id), Some("reel"));
    assert_eq!(
        sim.facebook_kind(&photo_story.platform_post_id),
        Some("story")
    );
    assert_eq!(
        sim.facebook_kind(&video_story.platform_post_id),
        Some("story")
    );

    // What each format cannot take is refused before anything is sent.
    for (media, format) in [
        (vec![media(files, "photo.jpg")], "reel"),
        (
            vec![media(files, "clip.mp4"), media(files, "clip.mp4")],
            "reel",
        ),
        (
            vec![media(files, "photo.jpg"), media(files, "photo.jpg")],
            "story",
        ),
        (vec![], "story"),
    ] {
        assert!(matches!(
            c.fb.publish(&as_format("x", media, format)).await,
            Err(PublishError::InvalidContent { .. })
        ));
    }
    assert_eq!(sim.posts().len(), 3);

    // A failed upload publishes nothing and may be retried; a failed finish may have published.
    sim.inject(Platform::Facebook, Op::Upload, Fault::ServerError);
    assert!(matches!(
        c.fb.publish(&as_format("", vec![media(files, "clip.mp4")], "reel"))
            .await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    sim.inject(Platform::Facebook, Op::Upload, Fault::ServerError);
    assert!(matches!(
        c.fb.publish(&as_format("", vec![media(files, "photo.jpg")], "story"))
            .await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    // A finish answered with a 500 is asked again for the same session: one reel.
    sim.inject(Platform::Facebook, Op::Publish, Fault::ServerError);
    c.fb.publish(&as_format(
        "Refused once",
        vec![media(files, "clip.mp4")],
        "reel",
    ))
    .await
    .unwrap();
    // A finish that was done but whose answer was lost: the second finish is refused (the
    // session is finished), the video is being processed, so the reel is waited for.
    sim.facebook_lose_next_finish();
    let lost =
        c.fb.publish(&as_format(
            "Lost once",
            vec![media(files, "clip.mp4")],
            "reel",
        ))
        .await
        .unwrap();
    assert_eq!(sim.facebook_kind(&lost.platform_post_id), Some("reel"));
    // Both finishes failing while nothing was taken: possibly published, left to the scheduler
    // rather than a new session that could make a second reel.
    sim.inject(Platform::Facebook, Op::Publish, Fault::ServerError);
    sim.inject(Platform::Facebook, Op::Publish, Fault::ServerError);
    assert!(matches!(
        c.fb.publish(&as_format(
            "Refused twice",
            vec![media(files, "clip.mp4")],
            "reel"
        ))
        .await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
    // A story whose answer was lost may exist: never sent again blindly.
    sim.facebook_lose_next_finish();
    assert!(matches!(
        c.fb.publish(&as_format("", vec![media(files, "photo.jpg")], "story"))
            .await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
    let texts: Vec<String> = sim.posts().into_iter().map(|p| p.text).collect();
    for text in ["Refused once", "Lost once"] {
        assert_eq!(texts.iter().filter(|t| *t == text).count(), 1, "{text}");
    }
    assert!(!texts.iter().any(|t| t == "Refused twice"));
    assert_eq!(texts.len(), 6, "the lost story was made once: {texts:?}");
    sim.inject(Platform::Facebook, Op::Status, Fault::ProcessingFailed);
    match c
        .fb
        .publish(&as_format("", vec![media(files, "clip.mp4")], "reel"))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("could not process"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
}

/// The page's token goes to the upload host the configuration names, not to an address an
/// answer gives.
#[tokio::test]
async fn the_upload_address_is_never_taken_from_an_answer() {
    let server = wiremock::MockServer::start().await;
    let elsewhere = wiremock::MockServer::start().await;
    use wiremock::matchers::{header, method, path};
    wiremock::Mock::given(method("POST"))
        .and(path("/v25.0/page-1/video_reels"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "video_id": "77",
                "upload_url": format!("{}/steal", elsewhere.uri()),
            })),
        )
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/upload/video-upload/v25.0/77"))
        .and(header("authorization", "OAuth page-token"))
        .and(header("file_url", "https://files.example/clip.mp4"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path("/steal"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let mut config = config("http://unused.invalid");
    config.graph_base = server.uri();
    config.rupload_base = format!("{}/upload", server.uri());
    let fb = Facebook::new(config);
    let mut request = common::publish_request(
        common::account(Platform::Facebook, "page-1", "Bakery"),
        &secrecy::SecretString::from("page-token"),
        "A reel",
        vec![common::media_file(
            "https://files.example",
            "clip.mp4",
            "video/mp4",
            0,
        )],
    );
    request.options = serde_json::json!({ "format": "reel" });
    // The finish is not mocked: the call fails there, after the upload went to the right host.
    assert!(fb.publish(&request).await.is_err());
}

#[tokio::test]
async fn every_error_kind_is_mapped() {
    let c = connected().await;
    let page = &c.pages[0];
    let files = &c.files;
    let sim = &c.simulator;

    sim.inject(Platform::Facebook, Op::Publish, Fault::ExpiredToken);
    assert_eq!(
        c.fb.publish(&request(page, "expired", vec![])).await,
        Err(PublishError::TokenExpired)
    );
    sim.inject(
        Platform::Facebook,
        Op::Publish,
        Fault::RateLimited {
            retry_after: Duration::from_secs(600),
        },
    );
    assert_eq!(
        c.fb.publish(&request(page, "limited", vec![])).await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(600)
        })
    );
    match c
        .fb
        .publish(&request(page, &"a".repeat(63_207), vec![]))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("63206"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    match c.fb.publish(&request(page, "", vec![])).await {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("empty"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    sim.inject(Platform::Facebook, Op::Publish, Fault::ServerError);
    assert!(matches!(
        c.fb.publish(&request(page, "5xx", vec![])).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    // An unpublished upload failing leaves no post behind.
    sim.inject(Platform::Facebook, Op::Upload, Fault::ServerError);
    assert!(matches!(
        c.fb.publish(&request(
            page,
            "photos",
            vec![media(files, "photo.jpg"), media(files, "photo.jpg")]
        ))
        .await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    match c
        .fb
        .publish(&request(page, "bad url", vec![media(files, "gone.jpg")]))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("image"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }

    // Video processing: a failure, a slow success, and one still processing at the limit.
    sim.inject(Platform::Facebook, Op::Status, Fault::ProcessingFailed);
    match c
        .fb
        .publish(&request(page, "broken", vec![media(files, "clip.mp4")]))
        .await
    {
        Err(PublishError::InvalidContent { reason }) => {
            assert!(reason.contains("could not process"), "{reason}")
        }
        other => panic!("expected invalid content, got {other:?}"),
    }
    sim.inject(Platform::Facebook, Op::Status, Fault::SlowProcessing(5));
    c.fb.publish(&request(page, "slow", vec![media(files, "clip.mp4")]))
        .await
        .unwrap();
    sim.inject(Platform::Facebook, Op::Status, Fault::SlowProcessing(50));
    assert!(matches!(
        c.fb.publish(&request(page, "slower", vec![media(files, "clip.mp4")]))
            .await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));

    // What Facebook does not take, refused before any call.
    for media in [
        vec![media(files, "photo.jpg"), media(files, "clip.mp4")],
        vec![media(files, "clip.mp4"), media(files, "clip.mp4")],
    ] {
        assert!(matches!(
            c.fb.publish(&request(page, "mixed", media)).await,
            Err(PublishError::InvalidContent { .. })
        ));
    }
    let mut no_token = request(page, "none", vec![]);
    no_token.access_token = None;
    assert_eq!(
        c.fb.publish(&no_token).await,
        Err(PublishError::TokenExpired)
    );

    let posts = sim.posts();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["slow"], "only the slow video made it");

    // Nothing answering at all: certainly not posted.
    let nowhere = Facebook::new(config("http://127.0.0.1:9"));
    assert!(matches!(
        nowhere.publish(&request(page, "unreachable", vec![])).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
}

#[tokio::test]
async fn refresh_renews_the_user_token_and_the_page_token() {
    let c = connected().await;
    let page = &c.pages[0];
    let user = page.grant.refresh.clone().unwrap();
    let renewed =
        c.fb.refresh(&account(page), &page.grant.access, Some(&user))
            .await
            .unwrap();
    let new_user = renewed.refresh.clone().unwrap();
    assert_ne!(new_user.expose_secret(), user.expose_secret());
    assert_eq!(renewed.expires_in, None);
    assert_eq!(renewed.refresh_expires_in, Some(5_184_000));
    let mut renewed_page = page.clone();
    renewed_page.grant = renewed;
    c.fb.publish(&request(&renewed_page, "after refresh", vec![]))
        .await
        .unwrap();
    c.fb.publish(&request(page, "old page token", vec![]))
        .await
        .unwrap();
    assert_eq!(c.simulator.posts().len(), 2);

    // An expired user token cannot be re-exchanged: the person reconnects.
    c.simulator.expire_all_tokens();
    let err =
        c.fb.refresh(&account(page), &page.grant.access, Some(&new_user))
            .await
            .unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
    assert!(matches!(
        c.fb.refresh(&account(page), &page.grant.access, None).await,
        Err(ConnectError::Refused(_))
    ));
}

#[tokio::test]
async fn revoking_deauthorises_every_page() {
    let c = connected().await;
    // Discarding does nothing: revoking would end the tokens that are kept too.
    c.fb.discard(&c.pages[1].grant.access, c.pages[1].grant.refresh.as_ref())
        .await;
    c.fb.publish(&request(&c.pages[1], "still connected", vec![]))
        .await
        .unwrap();

    let page = &c.pages[0];
    assert_eq!(
        c.fb.revoke(&page.grant.access, page.grant.refresh.as_ref())
            .await
            .unwrap(),
        Revoked::Confirmed
    );
    for page in &c.pages {
        assert_eq!(
            c.fb.publish(&request(page, "after revoke", vec![])).await,
            Err(PublishError::TokenExpired)
        );
    }
    assert_eq!(c.simulator.posts().len(), 1);
    assert!(matches!(
        c.fb.revoke(&page.grant.access, page.grant.refresh.as_ref())
            .await,
        Err(ConnectError::Refused(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Graph's error shapes, served by wiremock.

fn mocked_page() -> Candidate {
    Candidate {
        identity: providers::social::Identity {
            external_id: "42".into(),
            username: "Mock page".into(),
            display_name: "Mock page".into(),
            avatar_url: None,
            followers: None,
            authorized_by: None,
        },
        grant: TokenGrant {
            access: SecretString::from("page-token"),
            refresh: Some(SecretString::from("user-token")),
            expires_in: None,
            refresh_expires_in: None,
            scopes: Vec::new(),
        },
    }
}

async fn publish_against(
    response: ResponseTemplate,
) -> Result<providers::social::Published, PublishError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v25.0/42/feed"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config("http://unused");
    config.graph_base = server.uri();
    Facebook::new(config)
        .publish(&request(&mocked_page(), "hello", vec![]))
        .await
}

#[tokio::test]
async fn graph_error_shapes() {
    let expired = ResponseTemplate::new(401).set_body_json(common::graph_error(
        190,
        Some(463),
        "Error validating access token: Session has expired",
    ));
    assert_eq!(
        publish_against(expired).await,
        Err(PublishError::TokenExpired)
    );

    let limited = ResponseTemplate::new(429)
        .insert_header(
            "x-business-use-case-usage",
            r#"{"42":[{"type":"pages","call_count":98,"total_cputime":10,"total_time":12,"estimated_time_to_regain_access":7}]}"#,
        )
        .set_body_json(common::graph_error(80001, None, "There have been too many calls to this Page account."));
    assert_eq!(
        publish_against(limited).await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(420)
        })
    );
    let app_limit = ResponseTemplate::new(400)
        .insert_header(
            "x-app-usage",
            r#"{"call_count":100,"total_time":20,"total_cputime":20}"#,
        )
        .set_body_json(common::graph_error(
            4,
            None,
            "Application request limit reached",
        ));
    assert_eq!(
        publish_against(app_limit).await,
        Err(PublishError::RateLimited {
            retry_after: Duration::from_secs(300)
        }),
        "no estimate: five minutes"
    );

    let user_message = ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": {
        "message": "(#100) Invalid parameter", "code": 100, "type": "OAuthException",
        "error_user_msg": "The link in this post cannot be shared.",
    }}));
    assert_eq!(
        publish_against(user_message).await,
        Err(PublishError::InvalidContent {
            reason: "The link in this post cannot be shared.".into()
        })
    );

    let down = ResponseTemplate::new(500).set_body_string("<html>oops</html>");
    assert!(matches!(
        publish_against(down).await,
        Err(PublishError::Transient {
            maybe_published: false,
            ..
        })
    ));
    let unreadable = ResponseTemplate::new(200).set_body_string("{not json");
    assert!(matches!(
        publish_against(unreadable).await,
        Err(PublishError::Transient {
            maybe_published: true,
            ..
        })
    ));
}

#[tokio::test]
async fn refresh_tells_our_problems_from_the_accounts() {
    let server = MockServer::start().await;
    let mut config = config("http://unused");
    config.graph_base = server.uri();
    let fb = Facebook::new(config);
    let page = mocked_page();

    // Our client secret being refused must not send every page to "reconnect".
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(common::graph_error(
                1,
                None,
                "Error validating client secret.",
            )),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let err = fb
        .refresh(
            &account(&page),
            &page.grant.access,
            page.grant.refresh.as_ref(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Unavailable(_)), "{err:?}");
    assert!(!format!("{err:?}").contains("sandbox-secret"));

    server.reset().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v25.0/oauth/access_token$"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(common::graph_error(
                190,
                Some(460),
                "Error validating access token: the password was changed.",
            )),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = fb
        .refresh(
            &account(&page),
            &page.grant.access,
            page.grant.refresh.as_ref(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused(_)), "{err:?}");
}
