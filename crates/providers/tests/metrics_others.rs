//! TikTok's, X's and LinkedIn's metrics readers against the simulator (figures equal to what the
//! platform answered, all of them lifetime totals, the fewest calls, missing posts left out,
//! every error kind) and against wiremock for X's answer in its real shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, NaiveDate, Utc};
use domain::Platform;
use domain::metrics::Span;
use providers::social::linkedin::{LinkedIn, LinkedInConfig};
use providers::social::metrics::{Metrics, MetricsError, MetricsReader};
use providers::social::tiktok::{TikTok, TikTokConfig};
use providers::social::x::{X, XConfig};
use providers::social::{AccountRef, Connector, MediaRef, Polling, Publisher};
use secrecy::{ExposeSecret, SecretString};
use sim::{Fault, Op, Simulator};
use std::collections::HashSet;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIKTOK_REDIRECT: &str = "http://127.0.0.1:9/oauth/tiktok/callback";
const X_REDIRECT: &str = "http://127.0.0.1:9/oauth/x/callback";
const LINKEDIN_REDIRECT: &str = "http://127.0.0.1:9/oauth/linkedin/callback";
const VERIFIER: &str = "metrics-test-verifier-0123456789-0123456789-abcdef";

fn fast() -> Polling {
    Polling {
        interval: std::time::Duration::from_millis(5),
        limit: 10,
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The one reading of `metric` of the post `post` (or of the account).
fn value(metrics: &Metrics, post: Option<&str>, metric: &str) -> i64 {
    let found: Vec<_> = metrics
        .readings
        .iter()
        .filter(|r| r.post_id.as_deref() == post && r.metric == metric)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{metric} of {post:?}: {:?}",
        metrics.readings
    );
    found[0].value
}

/// The posts the readings are of.
fn posts_read(metrics: &Metrics) -> HashSet<String> {
    metrics
        .readings
        .iter()
        .filter_map(|r| r.post_id.clone())
        .collect()
}

/// Every reading is a lifetime total read today (a day may turn while the test runs).
fn assert_lifetime_today(metrics: &Metrics, before: NaiveDate) {
    let after = today();
    for r in &metrics.readings {
        assert_eq!(r.span, Span::Lifetime, "{r:?}");
        assert!(r.day == before || r.day == after, "{r:?}");
    }
}

/// Neither the calls nor the answers kept carry the token; one answer kept per call.
fn assert_kept_without_token(metrics: &Metrics, token: &SecretString) {
    assert_eq!(metrics.raw.len(), metrics.calls as usize);
    for answer in &metrics.raw {
        assert!(
            !answer.call.contains(token.expose_secret()),
            "{}",
            answer.call
        );
        assert!(!answer.body.contains(token.expose_secret()));
    }
}

fn rate_limited_for(result: Result<Metrics, MetricsError>) -> std::time::Duration {
    match result {
        Err(MetricsError::RateLimited { retry_after }) => retry_after,
        other => panic!("expected a rate limit, got {other:?}"),
    }
}

fn missing_permission(result: Result<Metrics, MetricsError>) -> String {
    match result {
        Err(MetricsError::MissingPermission(why)) => why,
        other => panic!("expected a missing permission, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// TikTok against the simulator.

struct TikTokCreator {
    sim: Simulator,
    _running: sim::Running,
    tiktok: TikTok,
    account: AccountRef,
    token: SecretString,
    store: String,
}

/// `user` connected through the simulator, with the insight permissions when `insights`.
async fn tiktok_creator(user: &str, insights: bool) -> TikTokCreator {
    let (sim, running) = common::simulator().await;
    let mut config = TikTokConfig::simulated(&running.base_url);
    config.polling = fast();
    let tiktok = TikTok::new(config);
    let mut scopes: Vec<&str> = tiktok.publishing_scopes().to_vec();
    if insights {
        scopes.extend(MetricsReader::insight_scopes(&tiktok));
    }
    let challenge = common::pkce_challenge(VERIFIER);
    let url = tiktok.authorize_url("s1", Some(&challenge), TIKTOK_REDIRECT, &scopes);
    let code = common::press_allow(&url, Some(user)).await;
    let grant = tiktok
        .exchange(&code, Some(VERIFIER), TIKTOK_REDIRECT)
        .await
        .unwrap();
    let me = tiktok.identity(&grant.access).await.unwrap();
    TikTokCreator {
        account: common::account(Platform::TikTok, &me.external_id, &me.username),
        store: common::serve_files(vec![("/clip.mp4", "video/mp4", vec![7; 300_000])]).await,
        token: grant.access,
        tiktok,
        sim,
        _running: running,
    }
}

impl TikTokCreator {
    fn clip(&self) -> MediaRef {
        common::media_file(&self.store, "clip.mp4", "video/mp4", 300_000)
    }

    async fn publish(&self, text: &str) -> String {
        let request =
            common::publish_request(self.account.clone(), &self.token, text, vec![self.clip()]);
        self.tiktok
            .publish(&request)
            .await
            .unwrap()
            .platform_post_id
    }

    fn reported(&self, id: &str, name: &str) -> i64 {
        self.sim
            .reported(Platform::TikTok, id, name)
            .unwrap_or_else(|| panic!("the simulator answered no {name} for {id}"))
    }
}

#[tokio::test]
async fn tiktok_videos_figures_are_what_tiktok_answered() {
    let c = tiktok_creator("acme", true).await;
    assert_eq!(
        MetricsReader::insight_scopes(&c.tiktok),
        ["user.info.stats", "video.list"]
    );
    assert_eq!(c.tiktok.batch_size(), 20);
    let first = c.publish("First clip").await;
    let second = c.publish("Second clip").await;
    c.sim.advance_clock(Duration::hours(30));

    // Two videos and one TikTok does not have: one call, the unknown one left out.
    let unknown = "7999999999999999999".to_owned();
    let before = today();
    let read = c
        .tiktok
        .posts(
            &c.account,
            &c.token,
            &[first.clone(), unknown.clone(), second.clone()],
        )
        .await
        .unwrap();
    assert_eq!(read.calls, 1);
    assert_eq!(
        read.raw[0].call,
        "POST /v2/video/query/?fields=id,like_count,comment_count,share_count,view_count"
    );
    assert_kept_without_token(&read, &c.token);
    assert_lifetime_today(&read, before);
    assert_eq!(
        posts_read(&read),
        HashSet::from([first.clone(), second.clone()])
    );
    assert_eq!(read.readings.len(), 8, "four counts of two videos");
    for id in [&first, &second] {
        let v = |metric: &str| value(&read, Some(id), metric);
        assert_eq!(v("reactions"), c.reported(id, "like_count"));
        assert_eq!(v("comments"), c.reported(id, "comment_count"));
        assert_eq!(v("shares"), c.reported(id, "share_count"));
        assert_eq!(v("views"), c.reported(id, "view_count"));
        assert!(v("views") > 0, "thirty hours on, the video has been seen");
    }

    // More than 20 ids: at most 20 a call.
    let mut many: Vec<String> = (0..23)
        .map(|n| format!("71000000000000000{n:02}"))
        .collect();
    many.insert(5, first.clone());
    many.push(second.clone());
    let read = c.tiktok.posts(&c.account, &c.token, &many).await.unwrap();
    assert_eq!(read.calls, 2, "25 ids: 20, then 5");
    assert_eq!(
        posts_read(&read),
        HashSet::from([first.clone(), second.clone()])
    );
    assert_eq!(
        value(&read, Some(&first), "views"),
        c.reported(&first, "view_count")
    );

    // Nothing found: gone.
    assert_eq!(
        c.tiktok
            .posts(&c.account, &c.token, std::slice::from_ref(&unknown))
            .await,
        Err(MetricsError::Gone)
    );
}

#[tokio::test]
async fn a_private_tiktok_post_has_no_id_to_look_up() {
    // An unaudited app's posts stay private: publishing keeps the publish id.
    let c = tiktok_creator("unaudited_ann", true).await;
    let kept = c.publish("Only for me").await;
    assert!(kept.contains("pub"), "{kept}");
    let read = c.tiktok.posts(&c.account, &c.token, &[kept]).await.unwrap();
    assert_eq!(read.calls, 0, "nothing asked");
    assert!(read.readings.is_empty());
}

#[tokio::test]
async fn a_tiktok_accounts_figures_are_its_totals_now() {
    let c = tiktok_creator("acme", true).await;
    let id = c.publish("A clip").await;
    c.sim.advance_clock(Duration::hours(30));
    let before = today();
    let read = c
        .tiktok
        .account(&c.account, &c.token, before - Duration::days(30), before)
        .await
        .unwrap();
    assert_eq!(read.calls, 1);
    assert_eq!(
        read.raw[0].call,
        "GET /v2/user/info/?fields=follower_count,following_count,likes_count,video_count"
    );
    assert_kept_without_token(&read, &c.token);
    assert_lifetime_today(&read, before);
    assert_eq!(read.readings.len(), 2, "no days: {:?}", read.readings);
    let user = c.account.external_id.as_str();
    assert_eq!(
        value(&read, None, "followers"),
        c.reported(user, "follower_count")
    );
    assert_eq!(
        value(&read, None, "tiktok.likes_total"),
        c.reported(user, "likes_count")
    );
    // The likes of every video, the one made here among them.
    let video = c
        .tiktok
        .posts(&c.account, &c.token, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert!(value(&read, None, "tiktok.likes_total") >= value(&video, Some(&id), "reactions"));
}

#[tokio::test]
async fn tiktok_refusals_are_mapped() {
    // Connected for publishing only: neither insight permission.
    let c = tiktok_creator("acme", false).await;
    let id = c.publish("A clip").await;
    let ids = std::slice::from_ref(&id);
    let why = missing_permission(c.tiktok.posts(&c.account, &c.token, ids).await);
    assert!(why.contains("video.list"), "{why}");
    let day = today();
    let why = missing_permission(c.tiktok.account(&c.account, &c.token, day, day).await);
    assert!(why.contains("user.info.stats"), "{why}");

    let c = tiktok_creator("acme", true).await;
    let id = c.publish("A clip").await;
    let ids = std::slice::from_ref(&id);
    c.sim.inject(
        Platform::TikTok,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(120),
        },
    );
    let wait = rate_limited_for(c.tiktok.posts(&c.account, &c.token, ids).await);
    assert!(
        wait > std::time::Duration::from_secs(100) && wait <= std::time::Duration::from_secs(120),
        "{wait:?}"
    );
    c.sim.inject(
        Platform::TikTok,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(60),
        },
    );
    assert!(matches!(
        c.tiktok.account(&c.account, &c.token, day, day).await,
        Err(MetricsError::RateLimited { .. })
    ));
    c.sim
        .inject(Platform::TikTok, Op::Metrics, Fault::ServerError);
    assert!(matches!(
        c.tiktok.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::Unavailable(_))
    ));
    c.sim
        .inject(Platform::TikTok, Op::Metrics, Fault::ExpiredToken);
    assert_eq!(
        c.tiktok.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::TokenExpired)
    );
    // Every fault was taken by a metrics call: the read works again.
    assert!(c.tiktok.posts(&c.account, &c.token, ids).await.is_ok());
    c.sim.expire_all_tokens();
    assert_eq!(
        c.tiktok.account(&c.account, &c.token, day, day).await,
        Err(MetricsError::TokenExpired)
    );
}

// ---------------------------------------------------------------------------------------------
// X against the simulator.

struct XUser {
    sim: Simulator,
    _running: sim::Running,
    x: X,
    account: AccountRef,
    token: SecretString,
}

/// `acme` connected through the simulator with `scopes`, or publishing's.
async fn x_user(scopes: Option<&[&str]>) -> XUser {
    let (sim, running) = common::simulator().await;
    let x = X::new(XConfig::simulated(&running.base_url));
    let challenge = common::pkce_challenge(VERIFIER);
    let scopes = scopes.unwrap_or(x.publishing_scopes());
    let url = x.authorize_url("s1", Some(&challenge), X_REDIRECT, scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = x.exchange(&code, Some(VERIFIER), X_REDIRECT).await.unwrap();
    let me = x.identity(&grant.access).await.unwrap();
    let account = common::account(Platform::X, &me.external_id, &me.username);
    XUser {
        sim,
        _running: running,
        x,
        account,
        token: grant.access,
    }
}

impl XUser {
    async fn publish(&self, text: &str) -> String {
        let request = common::publish_request(self.account.clone(), &self.token, text, vec![]);
        self.x.publish(&request).await.unwrap().platform_post_id
    }

    fn reported(&self, id: &str, name: &str) -> i64 {
        self.sim
            .reported(Platform::X, id, name)
            .unwrap_or_else(|| panic!("the simulator answered no {name} for {id}"))
    }
}

#[tokio::test]
async fn x_reads_a_batch_of_posts_in_one_call() {
    let c = x_user(None).await;
    assert!(MetricsReader::insight_scopes(&c.x).is_empty());
    assert_eq!(c.x.batch_size(), 100);
    let first = c.publish("First post").await;
    let second = c.publish("Second post").await;
    c.sim.advance_clock(Duration::hours(30));

    let before = today();
    let read =
        c.x.posts(&c.account, &c.token, &[first.clone(), second.clone()])
            .await
            .unwrap();
    assert_eq!(read.calls, 1, "X bills each call: one for both");
    assert_eq!(
        read.raw[0].call,
        format!("GET /2/tweets?ids={first},{second}&tweet.fields=public_metrics")
    );
    assert_kept_without_token(&read, &c.token);
    assert_lifetime_today(&read, before);
    assert_eq!(read.readings.len(), 12, "six counts of two posts");
    for id in [&first, &second] {
        let v = |metric: &str| value(&read, Some(id), metric);
        assert_eq!(v("views"), c.reported(id, "impression_count"));
        assert_eq!(v("reactions"), c.reported(id, "like_count"));
        assert_eq!(v("comments"), c.reported(id, "reply_count"));
        assert_eq!(v("shares"), c.reported(id, "retweet_count"));
        assert_eq!(v("saves"), c.reported(id, "bookmark_count"));
        assert_eq!(v("x.quotes"), c.reported(id, "quote_count"));
        assert!(v("views") > 0, "thirty hours on, the post has been seen");
    }

    // A post X does not have (deleted) is left out of the same single call.
    let deleted = "1999999999999999999".to_owned();
    let read =
        c.x.posts(
            &c.account,
            &c.token,
            &[first.clone(), deleted.clone(), second.clone()],
        )
        .await
        .unwrap();
    assert_eq!(read.calls, 1);
    assert!(
        read.raw[0].body.contains("Not Found Error"),
        "{}",
        read.raw[0].body
    );
    assert_eq!(
        posts_read(&read),
        HashSet::from([first.clone(), second.clone()])
    );
    // Alone, it is gone.
    assert_eq!(
        c.x.posts(&c.account, &c.token, std::slice::from_ref(&deleted))
            .await,
        Err(MetricsError::Gone)
    );
}

#[tokio::test]
async fn an_x_accounts_followers_take_one_call() {
    let c = x_user(None).await;
    let before = today();
    let read =
        c.x.account(&c.account, &c.token, before - Duration::days(7), before)
            .await
            .unwrap();
    assert_eq!(read.calls, 1);
    assert_eq!(
        read.raw[0].call,
        "GET /2/users/me?user.fields=public_metrics"
    );
    assert_kept_without_token(&read, &c.token);
    assert_lifetime_today(&read, before);
    assert_eq!(read.readings.len(), 1);
    assert_eq!(
        value(&read, None, "followers"),
        c.reported(&c.account.external_id, "followers_count")
    );
}

#[tokio::test]
async fn x_refusals_are_mapped() {
    let c = x_user(None).await;
    let id = c.publish("A post").await;
    let ids = std::slice::from_ref(&id);
    let day = today();
    c.sim.inject(
        Platform::X,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(900),
        },
    );
    let wait = rate_limited_for(c.x.posts(&c.account, &c.token, ids).await);
    assert!(
        wait > std::time::Duration::from_secs(880) && wait <= std::time::Duration::from_secs(900),
        "{wait:?}"
    );
    c.sim.inject(Platform::X, Op::Metrics, Fault::ExpiredToken);
    assert_eq!(
        c.x.account(&c.account, &c.token, day, day).await,
        Err(MetricsError::TokenExpired)
    );
    c.sim.inject(Platform::X, Op::Metrics, Fault::ServerError);
    assert!(matches!(
        c.x.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::Unavailable(_))
    ));
    assert!(c.x.posts(&c.account, &c.token, ids).await.is_ok());
    c.sim.expire_all_tokens();
    assert_eq!(
        c.x.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::TokenExpired)
    );

    // A token without tweet.read cannot look posts up.
    let c = x_user(Some(&["tweet.write", "users.read", "offline.access"])).await;
    let id = c.publish("A post").await;
    let why = missing_permission(c.x.posts(&c.account, &c.token, &[id]).await);
    assert!(why.contains("tweet.read"), "{why}");
}

#[tokio::test]
async fn x_answers_in_their_real_shape_are_read() {
    let server = MockServer::start().await;
    let mut config = XConfig::simulated("http://127.0.0.1:9");
    config.api_base = server.uri();
    let x = X::new(config);
    let token = SecretString::from("x-token");
    let account = common::account(Platform::X, "2244994945", "XDevelopers");
    // One post found, one deleted: 200 with `data` and `errors`.
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param(
            "ids",
            "1460323737035677698,1519781379172495360",
        ))
        .and(query_param("tweet.fields", "public_metrics"))
        .and(header("authorization", "Bearer x-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{
                "id": "1460323737035677698",
                "text": "Introducing a new era for the Twitter Developer Platform!",
                "edit_history_tweet_ids": ["1460323737035677698"],
                "public_metrics": {
                    "retweet_count": 309, "reply_count": 138, "like_count": 1213,
                    "quote_count": 97, "bookmark_count": 21, "impression_count": 48291
                }
            }],
            "errors": [{
                "value": "1519781379172495360",
                "detail": "Could not find tweet with ids: [1519781379172495360].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1519781379172495360",
                "type": "https://api.twitter.com/2/problems/resource-not-found"
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let read = x
        .posts(
            &account,
            &token,
            &["1460323737035677698".into(), "1519781379172495360".into()],
        )
        .await
        .unwrap();
    assert_eq!(read.calls, 1);
    let found = Some("1460323737035677698");
    assert_eq!(value(&read, found, "views"), 48291);
    assert_eq!(value(&read, found, "reactions"), 1213);
    assert_eq!(value(&read, found, "comments"), 138);
    assert_eq!(value(&read, found, "shares"), 309);
    assert_eq!(value(&read, found, "saves"), 21);
    assert_eq!(value(&read, found, "x.quotes"), 97);
    assert_eq!(read.readings.len(), 6, "the deleted post is left out");

    // Nothing found: `errors` alone.
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param("ids", "1519781379172495360"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "errors": [{
                "value": "1519781379172495360",
                "detail": "Could not find tweet with ids: [1519781379172495360].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1519781379172495360",
                "type": "https://api.twitter.com/2/problems/resource-not-found"
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        x.posts(&account, &token, &["1519781379172495360".into()])
            .await,
        Err(MetricsError::Gone)
    );

    // The rate limit's reset, in Unix seconds, is the wait.
    let reset = Utc::now().timestamp() + 600;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "75")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .set_body_json(serde_json::json!({
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let day = today();
    let wait = rate_limited_for(x.account(&account, &token, day, day).await);
    assert!(
        wait > std::time::Duration::from_secs(590) && wait <= std::time::Duration::from_secs(600),
        "{wait:?}"
    );
    // Ids that cannot be X's are never sent (they would refuse the whole call).
    let read = x
        .posts(&account, &token, &["not-a-post".into()])
        .await
        .unwrap();
    assert_eq!(read.calls, 0);
}

// ---------------------------------------------------------------------------------------------
// LinkedIn against the simulator.

struct Member {
    sim: Simulator,
    _running: sim::Running,
    linkedin: LinkedIn,
    account: AccountRef,
    token: SecretString,
}

/// `ada` connected through the simulator, with the insight permission when `insights`.
async fn member(insights: bool) -> Member {
    let (sim, running) = common::simulator().await;
    let mut config = LinkedInConfig::simulated(&running.base_url);
    config.polling = fast();
    let linkedin = LinkedIn::new(config);
    let mut scopes: Vec<&str> = linkedin.publishing_scopes().to_vec();
    if insights {
        scopes.extend(MetricsReader::insight_scopes(&linkedin));
    }
    let url = linkedin.authorize_url("s1", None, LINKEDIN_REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("ada")).await;
    let grant = linkedin
        .exchange(&code, None, LINKEDIN_REDIRECT)
        .await
        .unwrap();
    assert_eq!(
        grant.scopes.iter().any(|s| s == "r_member_postAnalytics"),
        insights
    );
    let me = linkedin.identity(&grant.access).await.unwrap();
    Member {
        account: common::account(Platform::LinkedIn, &me.external_id, &me.username),
        token: grant.access,
        linkedin,
        sim,
        _running: running,
    }
}

impl Member {
    async fn publish(&self, text: &str) -> String {
        let request = common::publish_request(self.account.clone(), &self.token, text, vec![]);
        self.linkedin
            .publish(&request)
            .await
            .unwrap()
            .platform_post_id
    }

    fn reported(&self, urn: &str, name: &str) -> i64 {
        self.sim
            .reported(Platform::LinkedIn, urn, name)
            .unwrap_or_else(|| panic!("the simulator answered no {name} for {urn}"))
    }
}

#[tokio::test]
async fn a_linkedin_posts_figures_take_five_calls() {
    let c = member(true).await;
    assert_eq!(
        MetricsReader::insight_scopes(&c.linkedin),
        ["r_member_postAnalytics"]
    );
    assert_eq!(c.linkedin.batch_size(), 1);
    let first = c.publish("First post").await;
    let second = c.publish("Second post").await;
    c.sim.advance_clock(Duration::hours(30));

    for urn in [&first, &second] {
        let before = today();
        let read = c
            .linkedin
            .posts(&c.account, &c.token, std::slice::from_ref(urn))
            .await
            .unwrap();
        assert_eq!(read.calls, 5, "one call per metric");
        assert_kept_without_token(&read, &c.token);
        assert_lifetime_today(&read, before);
        let asked: Vec<&str> = read.raw.iter().map(|a| a.call.as_str()).collect();
        for (i, query_type) in [
            "IMPRESSION",
            "MEMBERS_REACHED",
            "RESHARE",
            "REACTION",
            "COMMENT",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                asked[i],
                format!(
                    "GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:{urn})\
                     &queryType={query_type}&aggregation=TOTAL"
                )
            );
        }
        assert_eq!(read.readings.len(), 5);
        let v = |metric: &str| value(&read, Some(urn), metric);
        assert_eq!(v("views"), c.reported(urn, "IMPRESSION"));
        assert_eq!(v("reach"), c.reported(urn, "MEMBERS_REACHED"));
        assert_eq!(v("shares"), c.reported(urn, "RESHARE"));
        assert_eq!(v("reactions"), c.reported(urn, "REACTION"));
        assert_eq!(v("comments"), c.reported(urn, "COMMENT"));
        assert!(v("views") > 0, "thirty hours on, the post has been seen");
    }

    // A post LinkedIn does not have: left out after one call; alone, gone.
    let deleted = "urn:li:share:1".to_owned();
    let read = c
        .linkedin
        .posts(&c.account, &c.token, &[deleted.clone(), first.clone()])
        .await
        .unwrap();
    assert_eq!(read.calls, 6);
    assert_eq!(posts_read(&read), HashSet::from([first.clone()]));
    assert_eq!(
        c.linkedin
            .posts(&c.account, &c.token, std::slice::from_ref(&deleted))
            .await,
        Err(MetricsError::Gone)
    );

    // The member's account: nothing to read, and no call.
    let day = today();
    let read = c
        .linkedin
        .account(&c.account, &c.token, day - Duration::days(30), day)
        .await
        .unwrap();
    assert_eq!(read, Metrics::default());
}

#[tokio::test]
async fn linkedin_refusals_are_mapped() {
    let c = member(false).await;
    let urn = c.publish("A post").await;
    let ids = std::slice::from_ref(&urn);
    let why = missing_permission(c.linkedin.posts(&c.account, &c.token, ids).await);
    assert!(why.contains("r_member_postAnalytics"), "{why}");

    let c = member(true).await;
    let urn = c.publish("A post").await;
    let ids = std::slice::from_ref(&urn);
    c.sim.inject(
        Platform::LinkedIn,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(60),
        },
    );
    // LinkedIn names no wait: its daily limits start again at midnight UTC.
    let wait = rate_limited_for(c.linkedin.posts(&c.account, &c.token, ids).await);
    assert!(
        wait > std::time::Duration::ZERO && wait <= std::time::Duration::from_secs(86_400),
        "{wait:?}"
    );
    c.sim
        .inject(Platform::LinkedIn, Op::Metrics, Fault::ServerError);
    assert!(matches!(
        c.linkedin.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::Unavailable(_))
    ));
    c.sim
        .inject(Platform::LinkedIn, Op::Metrics, Fault::RevokedToken);
    assert_eq!(
        c.linkedin.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::TokenExpired)
    );
    assert!(c.linkedin.posts(&c.account, &c.token, ids).await.is_ok());
    c.sim.expire_all_tokens();
    assert_eq!(
        c.linkedin.posts(&c.account, &c.token, ids).await,
        Err(MetricsError::TokenExpired)
    );
}
