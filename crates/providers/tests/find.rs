//! `Publisher::find` of X, Facebook and LinkedIn: looking for the post an attempt whose answer
//! was lost may have made, among the account's own posts since the attempt started. Against
//! wiremock for the platforms' exact answers (found, not found, too soon to tell, paging, X's
//! t.co links, errors), and against the simulator, which lists back what it really published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Utc};
use domain::Platform;
use providers::social::facebook::{Facebook, FacebookConfig};
use providers::social::linkedin::{LinkedIn, LinkedInConfig};
use providers::social::x::{X, XConfig};
use providers::social::{
    AccountRef, Connector, FindRequest, Finding, Lookup, PublishError, Published, Publisher,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "secret-token-value";

fn token() -> SecretString {
    SecretString::from(TOKEN)
}

/// An attempt that sent `text` and started `ago`.
fn attempt<'a>(text: &'a str, ago: Duration, token: &'a SecretString) -> FindRequest<'a> {
    FindRequest {
        idempotency_key: "sz-1-1-abc",
        text,
        since: Utc::now() - chrono::Duration::from_std(ago).unwrap(),
        access_token: Some(token),
    }
}

/// Long enough ago that a listing without the post is trusted.
const LONG_AGO: Duration = Duration::from_secs(90);
/// Too recent for a listing without the post to prove anything.
const JUST_NOW: Duration = Duration::from_secs(3);

fn ago(seconds: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(seconds)
}

/// No request carried the token in its address, and each carried it as a bearer token.
async fn token_only_in_headers(server: &MockServer) {
    for request in server.received_requests().await.unwrap() {
        assert!(
            !request.url.as_str().contains(TOKEN),
            "the token is in {}",
            request.url
        );
        assert_eq!(
            request.headers["authorization"].to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}

/// A listing too young to prove anything: "not yet", with the wait until it would.
fn assert_not_yet(result: &Result<Lookup, PublishError>) {
    match result {
        Ok(Lookup::NotYet { wait, reason }) => {
            assert!(reason.contains("too soon to be sure"), "{reason}");
            assert!(
                *wait > Duration::ZERO && *wait <= Finding::default().settle,
                "{wait:?}"
            );
        }
        other => panic!("expected not yet, got {other:?}"),
    }
}

fn assert_open(result: &Result<Lookup, PublishError>, says: &str) {
    match result {
        Err(PublishError::Transient {
            reason,
            maybe_published: true,
        }) => assert!(reason.contains(says), "{reason}"),
        other => panic!("expected an open question ({says}), got {other:?}"),
    }
}

mod x {
    use super::*;

    fn adapter(server: &MockServer) -> X {
        let mut config = XConfig::production("client".into(), None);
        config.api_base = server.uri();
        X::new(config)
    }

    fn account() -> AccountRef {
        common::account(Platform::X, "2244994945", "acme")
    }

    fn tweet(id: &str, text: &str, at: DateTime<Utc>) -> Value {
        json!({
            "id": id,
            "text": text,
            "created_at": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "edit_history_tweet_ids": [id],
        })
    }

    async fn timeline(server: &MockServer, body: Value) {
        Mock::given(method("GET"))
            .and(path("/2/users/2244994945/tweets"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn finds_the_earliest_post_with_the_text_x_shows_shortened_and_escaped() {
        let server = MockServer::start().await;
        let sent = "Fish & chips <today>: see example.com/menu, or https://example.org/a?b=1.";
        let shown = "Fish &amp; chips &lt;today&gt;: see https://t.co/AbC123xyz9, or https://t.co/Zz9Yy8Xx7W.";
        let mut with_media = tweet("1003", &format!("{shown} https://t.co/MeD1a00000"), ago(20));
        with_media["entities"] = json!({"urls": [
            {"start": 37, "end": 60, "url": "https://t.co/AbC123xyz9", "expanded_url": "http://example.com/menu"},
            {"start": 65, "end": 88, "url": "https://t.co/Zz9Yy8Xx7W", "expanded_url": "https://example.org/a?b=1"},
            {"start": 90, "end": 113, "url": "https://t.co/MeD1a00000", "expanded_url": "https://x.com/acme/status/1003/photo/1", "media_key": "3_1003"},
        ]});
        timeline(
            &server,
            json!({
                "data": [
                    tweet("1004", "Something else", ago(10)),
                    with_media,
                    tweet("1002", shown, ago(30)),
                    // A t.co address stands for one link, not for words around it.
                    tweet("1001", "Fish &amp; chips &lt;today&gt;: see https://t.co/AbC123xyz9", ago(40)),
                ],
                "meta": {"result_count": 4, "newest_id": "1004", "oldest_id": "1001"},
            }),
        )
        .await;
        let token = token();
        let found = adapter(&server)
            .find(&account(), &attempt(sent, JUST_NOW, &token))
            .await
            .unwrap();
        assert_eq!(
            found,
            Lookup::Found(Published {
                platform_post_id: "1002".into(),
                permalink: Some("https://x.com/acme/status/1002".into()),
            }),
            "the earliest match; found is certain even just after the attempt began"
        );
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        let query: std::collections::HashMap<String, String> =
            requests[0].url.query_pairs().into_owned().collect();
        assert_eq!(query["max_results"], "100");
        assert_eq!(query["tweet.fields"], "created_at,text,entities");
        assert_eq!(query["exclude"], "retweets,replies");
        // The window starts two minutes (the clocks' skew) before the attempt did.
        let start = DateTime::parse_from_rfc3339(&query["start_time"]).unwrap();
        let skew = Utc::now() - JUST_NOW - start.with_timezone(&Utc);
        assert!(
            skew >= chrono::Duration::seconds(119) && skew <= chrono::Duration::seconds(125),
            "{skew}"
        );
        token_only_in_headers(&server).await;
    }

    #[tokio::test]
    async fn not_found_once_the_whole_window_was_read_and_the_attempt_is_old_enough() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/2/users/2244994945/tweets"))
            .and(query_param("pagination_token", "page2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [tweet("1001", "Hello world, almost", ago(60))],
                "meta": {"result_count": 1},
            })))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/2/users/2244994945/tweets"))
            .and(|r: &Request| {
                !r.url
                    .query()
                    .unwrap_or_default()
                    .contains("pagination_token")
            })
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [tweet("1002", "Hello world!", ago(30))],
                "meta": {"result_count": 1, "next_token": "page2"},
            })))
            .expect(2)
            .mount(&server)
            .await;
        let x = adapter(&server);
        let token = token();
        let lookup = x
            .find(&account(), &attempt("Hello world", LONG_AGO, &token))
            .await;
        assert_eq!(lookup, Ok(Lookup::NotFound));
        // The same listing, just after the attempt began, proves nothing yet.
        let lookup = x
            .find(&account(), &attempt("Hello world", JUST_NOW, &token))
            .await;
        assert_not_yet(&lookup);
        server.verify().await;
    }

    #[tokio::test]
    async fn a_match_on_a_later_page_is_found_and_a_window_longer_than_the_pages_read_is_open() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/2/users/2244994945/tweets"))
            .and(query_param("pagination_token", "page2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [tweet("1001", "On page two", ago(60))],
                "meta": {"result_count": 1, "next_token": "page3"},
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/2/users/2244994945/tweets"))
            .and(|r: &Request| {
                !r.url
                    .query()
                    .unwrap_or_default()
                    .contains("pagination_token")
            })
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [tweet("1002", "On page one", ago(30))],
                "meta": {"result_count": 1, "next_token": "page2"},
            })))
            .mount(&server)
            .await;
        let mut config = XConfig::production("client".into(), None);
        config.api_base = server.uri();
        config.finding.max_pages = 2;
        let x = X::new(config);
        let token = token();
        let found = x
            .find(&account(), &attempt("On page two", LONG_AGO, &token))
            .await
            .unwrap();
        assert!(
            matches!(&found, Lookup::Found(p) if p.platform_post_id == "1001"),
            "{found:?}"
        );
        // Page three was never read: nothing found is not "not found".
        let lookup = x
            .find(&account(), &attempt("Elsewhere", LONG_AGO, &token))
            .await;
        assert_open(&lookup, "could not be read to the end (more than 2 pages)");
    }

    #[tokio::test]
    async fn errors_are_mapped_as_for_publishing_and_never_read_as_not_found() {
        let server = MockServer::start().await;
        let x = adapter(&server);
        let token = token();
        let ask = async || {
            x.find(&account(), &attempt("Hello", LONG_AGO, &token))
                .await
        };

        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(ask().await, Err(PublishError::TokenExpired));

        let reset = Utc::now().timestamp() + 120;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                    .set_body_json(json!({"title": "Too Many Requests", "status": 429})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        match ask().await {
            Err(PublishError::RateLimited { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(100), "{retry_after:?}");
            }
            other => panic!("{other:?}"),
        }

        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_open(&ask().await, "503");

        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_open(&ask().await, "could not be read");
        token_only_in_headers(&server).await;

        // A post without text cannot be recognised, and nothing is asked.
        let before = server.received_requests().await.unwrap().len();
        assert_eq!(
            x.find(&account(), &attempt("  ", LONG_AGO, &token)).await,
            Ok(Lookup::Unsupported)
        );
        assert_eq!(server.received_requests().await.unwrap().len(), before);
    }
}

mod facebook {
    use super::*;

    fn adapter(server: &MockServer) -> Facebook {
        let mut config = FacebookConfig::production("client".into(), SecretString::from("s"));
        config.graph_base = server.uri();
        Facebook::new(config)
    }

    fn account() -> AccountRef {
        common::account(Platform::Facebook, "4242", "Acme Bakery")
    }

    fn post(id: &str, message: Option<&str>, at: DateTime<Utc>) -> Value {
        let mut post = json!({
            "id": id,
            "created_time": at.format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
            "permalink_url": format!("https://www.facebook.com/4242/posts/{id}"),
        });
        if let Some(message) = message {
            post["message"] = json!(message);
        }
        post
    }

    #[tokio::test]
    async fn follows_graphs_pages_without_its_token_in_the_address_and_finds_the_earliest() {
        let server = MockServer::start().await;
        let next = format!(
            "{}/v25.0/4242/posts?fields=id&limit=100&after=QVFI&access_token={TOKEN}",
            server.uri()
        );
        Mock::given(method("GET"))
            .and(path("/v25.0/4242/posts"))
            .and(query_param("after", "QVFI"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [
                    post("4242_3", Some("Fresh bread today"), ago(40)),
                    // Older than the window: the listing is read to its start.
                    post("4242_1", Some("Fresh bread today"), ago(3600)),
                ],
                "paging": {"cursors": {"after": "QVFJ"}, "next": format!("{}/v25.0/4242/posts?after=QVFJ", server.uri())},
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v25.0/4242/posts"))
            .and(query_param(
                "fields",
                "id,message,created_time,permalink_url",
            ))
            .and(query_param("limit", "100"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [
                    post("4242_5", Some("Fresh bread today!"), ago(10)),
                    post("4242_4", None, ago(20)),
                    post("4242_6", Some("Fresh bread today"), ago(30)),
                ],
                "paging": {"cursors": {"after": "QVFI"}, "next": next},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let token = token();
        let found = adapter(&server)
            .find(&account(), &attempt("Fresh bread today", JUST_NOW, &token))
            .await
            .unwrap();
        assert_eq!(
            found,
            Lookup::Found(Published {
                platform_post_id: "4242_3".into(),
                permalink: Some("https://www.facebook.com/4242/posts/4242_3".into()),
            })
        );
        let first = &server.received_requests().await.unwrap()[0];
        let since: i64 = first
            .url
            .query_pairs()
            .find(|(k, _)| k == "since")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let window = Utc::now().timestamp() - JUST_NOW.as_secs() as i64 - since;
        assert!((119..=125).contains(&window), "{window}");
        token_only_in_headers(&server).await;
        server.verify().await;
    }

    #[tokio::test]
    async fn not_found_only_when_old_enough_and_errors_stay_errors() {
        let server = MockServer::start().await;
        let fb = adapter(&server);
        let token = token();
        Mock::given(method("GET"))
            .and(path("/v25.0/4242/posts"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [post("4242_5", Some("Another post"), ago(10))],
            })))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        assert_eq!(
            fb.find(&account(), &attempt("Fresh bread", LONG_AGO, &token))
                .await,
            Ok(Lookup::NotFound)
        );
        assert_not_yet(
            &fb.find(&account(), &attempt("Fresh bread", JUST_NOW, &token))
                .await,
        );

        let graph_error = |status: u16, code: i64| {
            ResponseTemplate::new(status).set_body_json(common::graph_error(code, None, "no"))
        };
        Mock::given(method("GET"))
            .respond_with(graph_error(400, 190))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(
            fb.find(&account(), &attempt("Fresh bread", LONG_AGO, &token))
                .await,
            Err(PublishError::TokenExpired)
        );
        Mock::given(method("GET"))
            .respond_with(graph_error(400, 32).insert_header(
                "x-business-use-case-usage",
                r#"{"4242":[{"type":"pages","estimated_time_to_regain_access":7}]}"#,
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(
            fb.find(&account(), &attempt("Fresh bread", LONG_AGO, &token))
                .await,
            Err(PublishError::RateLimited {
                retry_after: Duration::from_secs(420)
            })
        );
        Mock::given(method("GET"))
            .respond_with(graph_error(500, 2))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_open(
            &fb.find(&account(), &attempt("Fresh bread", LONG_AGO, &token))
                .await,
            "500",
        );
        token_only_in_headers(&server).await;
    }
}

mod linkedin {
    use super::*;

    fn adapter(server: &MockServer) -> LinkedIn {
        let mut config = LinkedInConfig::production("client".into(), SecretString::from("s"));
        config.api_base = server.uri();
        config.read_member_posts = true;
        LinkedIn::new(config)
    }

    fn account() -> AccountRef {
        common::account(Platform::LinkedIn, "abc123", "ada-lovelace")
    }

    fn post(id: &str, commentary: &str, at: DateTime<Utc>) -> Value {
        json!({
            "id": id,
            "author": "urn:li:person:abc123",
            "commentary": commentary,
            "lifecycleState": "PUBLISHED",
            "createdAt": at.timestamp_millis(),
            "lastModifiedAt": at.timestamp_millis(),
        })
    }

    #[tokio::test]
    async fn matches_the_escaped_commentary_page_by_page_with_the_versioned_headers() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/rest/posts"))
            .and(query_param("start", "100"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "elements": [
                    post("urn:li:share:2", "Launch \\#day \\(finally\\)", ago(50)),
                    post("urn:li:share:1", "Older", ago(7200)),
                ],
                "paging": {"start": 100, "count": 100, "links": []},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut first: Vec<Value> = (0..100)
            .map(|n| post(&format!("urn:li:share:{}", 200 - n), "Other", ago(10)))
            .collect();
        first[50] = post("urn:li:share:150", "Launch \\#day \\(finally\\)", ago(20));
        Mock::given(method("GET"))
            .and(path("/rest/posts"))
            .and(query_param("author", "urn:li:person:abc123"))
            .and(query_param("q", "author"))
            .and(query_param("sortBy", "CREATED"))
            .and(query_param("count", "100"))
            .and(query_param("start", "0"))
            .and(header("LinkedIn-Version", "202601"))
            .and(header("X-Restli-Protocol-Version", "2.0.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "elements": first,
                "paging": {"start": 0, "count": 100, "links": [{"rel": "next", "href": "/rest/posts?start=100"}]},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let token = token();
        let found = adapter(&server)
            .find(
                &account(),
                &attempt("Launch #day (finally)", JUST_NOW, &token),
            )
            .await
            .unwrap();
        assert_eq!(
            found,
            Lookup::Found(Published {
                platform_post_id: "urn:li:share:2".into(),
                permalink: Some("https://www.linkedin.com/feed/update/urn:li:share:2".into()),
            })
        );
        token_only_in_headers(&server).await;
        server.verify().await;
    }

    #[tokio::test]
    async fn an_app_without_r_member_social_cannot_ask_and_errors_stay_errors() {
        let server = MockServer::start().await;
        let li = adapter(&server);
        let token = token();
        let ask = async || {
            li.find(&account(), &attempt("Hello", LONG_AGO, &token))
                .await
        };
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author",
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(ask().await, Ok(Lookup::Unsupported));
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN", "message": "revoked",
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(ask().await, Err(PublishError::TokenExpired));
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_eq!(
            ask().await,
            Err(PublishError::RateLimited {
                retry_after: Duration::from_secs(30)
            })
        );
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_open(&ask().await, "500");
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "elements": [], "paging": {"start": 0, "count": 100, "links": []},
            })))
            .mount(&server)
            .await;
        assert_eq!(ask().await, Ok(Lookup::NotFound));
        assert_not_yet(
            &li.find(&account(), &attempt("Hello", JUST_NOW, &token))
                .await,
        );
        token_only_in_headers(&server).await;
    }
}

/// The adapters against the simulator: what it really published is found again, with the id
/// publishing answered; an attempt that made nothing is not found.
mod simulated {
    use super::*;
    use providers::social::{PublishRequest, TokenGrant};
    use sim::LostAnswer;

    async fn publish_losing_the_answer(
        publisher: &dyn Publisher,
        simulator: &sim::Simulator,
        platform: Platform,
        request: &PublishRequest,
    ) {
        simulator.lose_next_answer(platform, LostAnswer::AfterPosting);
        match publisher.publish(request).await {
            Err(PublishError::Transient {
                maybe_published: true,
                ..
            }) => {}
            other => panic!("the answer was lost: {other:?}"),
        }
    }

    /// An attempt at `text` that began `ago` (the listing is complete after the settling time).
    fn asked<'a>(text: &'a str, grant: &'a TokenGrant) -> FindRequest<'a> {
        FindRequest {
            idempotency_key: "sz-1-1-abc",
            text,
            since: Utc::now() - chrono::Duration::seconds(60),
            access_token: Some(&grant.access),
        }
    }

    #[tokio::test]
    async fn x_finds_what_it_published_though_x_shows_its_links_shortened() {
        let (simulator, running) = common::simulator().await;
        let x = X::new(XConfig::simulated(&running.base_url));
        let challenge = common::pkce_challenge(VERIFIER);
        let url = x.authorize_url("s1", Some(&challenge), REDIRECT, x.publishing_scopes());
        let code = common::press_allow(&url, Some("acme")).await;
        let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
        let me = x.identity(&grant.access).await.unwrap();
        let account = common::account(Platform::X, &me.external_id, &me.username);
        let text = "Menu & prices: example.com/menu (new!) https://example.org/a";
        let request = common::publish_request(account.clone(), &grant.access, text, Vec::new());
        publish_losing_the_answer(&x, &simulator, Platform::X, &request).await;
        let kept = simulator.posts()[0].id.clone();
        let found = x.find(&account, &asked(text, &grant)).await.unwrap();
        assert!(
            matches!(&found, Lookup::Found(p) if p.platform_post_id == kept),
            "{found:?}"
        );
        assert_eq!(
            x.find(&account, &asked("Menu & prices", &grant)).await,
            Ok(Lookup::NotFound)
        );
    }

    #[tokio::test]
    async fn facebook_finds_what_the_page_published() {
        let (simulator, running) = common::simulator().await;
        let fb = Facebook::new(FacebookConfig::simulated(&running.base_url));
        let url = fb.authorize_url("s1", None, REDIRECT, fb.publishing_scopes());
        let code = common::press_allow(&url, Some("acme")).await;
        let grant = fb.exchange(&code, None, REDIRECT).await.unwrap();
        let page = fb.accounts(&grant).await.unwrap().remove(0);
        let account = common::account(
            Platform::Facebook,
            &page.identity.external_id,
            &page.identity.username,
        );
        let text = "Fresh bread from 7 o'clock";
        let request =
            common::publish_request(account.clone(), &page.grant.access, text, Vec::new());
        publish_losing_the_answer(&fb, &simulator, Platform::Facebook, &request).await;
        let kept = simulator.posts()[0].id.clone();
        let found = fb.find(&account, &asked(text, &page.grant)).await.unwrap();
        assert!(
            matches!(&found, Lookup::Found(p) if p.platform_post_id == kept),
            "{found:?}"
        );
        assert_eq!(
            fb.find(&account, &asked("Fresh bread", &page.grant)).await,
            Ok(Lookup::NotFound)
        );
    }

    #[tokio::test]
    async fn linkedin_finds_what_the_member_published_when_the_app_may_read_it() {
        let (simulator, running) = common::simulator().await;
        let mut config = LinkedInConfig::simulated(&running.base_url);
        config.read_member_posts = true;
        let li = LinkedIn::new(config);
        assert!(li.publishing_scopes().contains(&"r_member_social"));
        let url = li.authorize_url("s1", None, REDIRECT, li.publishing_scopes());
        let code = common::press_allow(&url, Some("ada")).await;
        let grant = li.exchange(&code, None, REDIRECT).await.unwrap();
        let me = li.identity(&grant.access).await.unwrap();
        let account = common::account(Platform::LinkedIn, &me.external_id, &me.username);
        let text = "Launch #day (finally) with @everyone_ [link]";
        let request = common::publish_request(account.clone(), &grant.access, text, Vec::new());
        publish_losing_the_answer(&li, &simulator, Platform::LinkedIn, &request).await;
        let kept = simulator.posts()[0].id.clone();
        let found = li.find(&account, &asked(text, &grant)).await.unwrap();
        assert!(
            matches!(&found, Lookup::Found(p) if p.platform_post_id == kept),
            "{found:?}"
        );
        assert_eq!(
            li.find(&account, &asked("Launch", &grant)).await,
            Ok(Lookup::NotFound)
        );

        // An app LinkedIn did not grant r_member_social cannot ask.
        let plain = LinkedIn::new(LinkedInConfig::simulated(&running.base_url));
        assert!(!plain.publishing_scopes().contains(&"r_member_social"));
        let url = plain.authorize_url("s2", None, REDIRECT, plain.publishing_scopes());
        let code = common::press_allow(&url, Some("ada")).await;
        let grant = plain.exchange(&code, None, REDIRECT).await.unwrap();
        assert_eq!(
            plain.find(&account, &asked(text, &grant)).await,
            Ok(Lookup::Unsupported)
        );
    }

    const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
    const VERIFIER: &str = "find-test-verifier-0123456789-0123456789-abcdef";
}
