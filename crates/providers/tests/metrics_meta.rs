//! Facebook's and Instagram's metrics readers against the simulator (figures equal to what the
//! platform answered, their spans and days, nothing counted twice, every error kind) and against
//! wiremock for answers in Graph's real shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, NaiveDate, Utc};
use domain::Platform;
use domain::metrics::Span;
use providers::social::facebook::{Facebook, FacebookConfig};
use providers::social::instagram::{Instagram, InstagramConfig};
use providers::social::metrics::{Metrics, MetricsError, MetricsReader, Reading};
use providers::social::{AccountRef, Connector, Polling, Publisher};
use secrecy::{ExposeSecret, SecretString};
use sim::{Fault, Op, Simulator};
use std::collections::HashSet;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FB_REDIRECT: &str = "http://127.0.0.1:9/oauth/facebook/callback";
const IG_REDIRECT: &str = "http://127.0.0.1:9/oauth/instagram/callback";

fn fast(mut polling: Polling) -> Polling {
    polling.interval = std::time::Duration::from_millis(5);
    polling.limit = 10;
    polling
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// The readings of `metric` (of the post `post`, or of the account).
fn of<'a>(metrics: &'a Metrics, post: Option<&str>, metric: &str) -> Vec<&'a Reading> {
    metrics
        .readings
        .iter()
        .filter(|r| r.post_id.as_deref() == post && r.metric == metric)
        .collect()
}

/// The one reading of `metric` (of `post`, or of the account) on `on`.
fn one<'a>(metrics: &'a Metrics, post: Option<&str>, metric: &str, on: NaiveDate) -> &'a Reading {
    let found: Vec<&Reading> = of(metrics, post, metric)
        .into_iter()
        .filter(|r| r.day == on)
        .collect();
    assert_eq!(found.len(), 1, "{metric} on {on}: {:?}", metrics.readings);
    found[0]
}

/// No (post, metric, span, day) is read twice.
fn assert_no_doubles(metrics: &Metrics) {
    let mut seen = HashSet::new();
    for r in &metrics.readings {
        assert!(
            seen.insert((r.post_id.clone(), r.metric.clone(), r.span.key(), r.day)),
            "{r:?} read twice"
        );
    }
}

/// Neither the calls nor the answers kept carry the token.
fn assert_no_token(metrics: &Metrics, token: &SecretString) {
    for answer in &metrics.raw {
        assert!(
            !answer.call.contains(token.expose_secret()),
            "{}",
            answer.call
        );
        assert!(!answer.body.contains(token.expose_secret()));
        assert!(!answer.call.contains("access_token"), "{}", answer.call);
    }
}

// ---------------------------------------------------------------------------------------------
// Facebook against the simulator.

struct FacebookPage {
    sim: Simulator,
    running: sim::Running,
    fb: Facebook,
    account: AccountRef,
    token: SecretString,
    files: String,
}

/// A page connected through the simulator, with the insight permission when `insights`.
async fn facebook_page(insights: bool) -> FacebookPage {
    let (sim, running) = common::simulator().await;
    let mut config = FacebookConfig::simulated(&running.base_url);
    config.polling = fast(config.polling);
    let fb = Facebook::new(config);
    let mut scopes: Vec<&str> = fb.publishing_scopes().to_vec();
    if insights {
        scopes.extend(MetricsReader::insight_scopes(&fb));
    }
    let url = fb.authorize_url("s1", None, FB_REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = fb.exchange(&code, None, FB_REDIRECT).await.unwrap();
    let page = fb.accounts(&grant).await.unwrap().remove(0);
    assert_eq!(
        page.grant.scopes.iter().any(|s| s == "read_insights"),
        insights
    );
    FacebookPage {
        sim,
        running,
        account: common::account(
            Platform::Facebook,
            &page.identity.external_id,
            &page.identity.username,
        ),
        token: page.grant.access,
        fb,
        files: common::media_server().await,
    }
}

impl FacebookPage {
    async fn publish(&self, text: &str) -> String {
        let request = common::publish_request(self.account.clone(), &self.token, text, vec![]);
        self.fb.publish(&request).await.unwrap().platform_post_id
    }

    async fn publish_video(&self, text: &str) -> String {
        let video = common::media_file(&self.files, "clip.mp4", "video/mp4", 0);
        let request = common::publish_request(self.account.clone(), &self.token, text, vec![video]);
        self.fb.publish(&request).await.unwrap().platform_post_id
    }

    fn reported(&self, id: &str, name: &str) -> i64 {
        self.sim
            .reported(Platform::Facebook, id, name)
            .unwrap_or_else(|| panic!("the simulator answered no {name} for {id}"))
    }
}

#[tokio::test]
async fn a_facebook_posts_figures_are_what_facebook_answered() {
    let c = facebook_page(true).await;
    assert_eq!(MetricsReader::insight_scopes(&c.fb), ["read_insights"]);
    assert_eq!(c.fb.batch_size(), 1);
    let id = c.publish("Fresh bread today").await;
    c.sim.advance_clock(Duration::hours(30));

    let before = today();
    let read =
        c.fb.posts(&c.account, &c.token, std::slice::from_ref(&id))
            .await
            .unwrap();
    let after = today();
    assert_eq!(read.calls, 2, "insights, then the post's counts");
    assert_eq!(read.raw.len(), 2);
    assert!(
        read.raw[0]
            .call
            .starts_with(&format!("GET /{id}/insights?metric="))
    );
    assert!(read.raw[1].call.starts_with(&format!("GET /{id}?fields=")));
    assert_no_token(&read, &c.token);
    assert_no_doubles(&read);
    for r in &read.readings {
        assert_eq!(r.post_id.as_deref(), Some(id.as_str()));
        assert_eq!(r.span, Span::Lifetime, "{r:?}");
        assert!(r.day == before || r.day == after, "read today: {r:?}");
    }
    let value = |metric: &str| one(&read, Some(&id), metric, read.readings[0].day).value;

    assert_eq!(
        value("reach"),
        c.reported(&id, "post_total_media_view_unique")
    );
    assert_eq!(value("clicks"), c.reported(&id, "post_clicks"));
    assert_eq!(value("comments"), c.reported(&id, "comments"));
    assert_eq!(value("shares"), c.reported(&id, "shares"));
    // Reactions: the sum of the types, each type kept too, and the node's own count (the same
    // reactions) not added to them.
    let types: Vec<&Reading> = read
        .readings
        .iter()
        .filter(|r| r.metric.starts_with("facebook.reactions."))
        .collect();
    assert!(!types.is_empty(), "{:?}", read.readings);
    for r in &types {
        let kind = r.metric.trim_start_matches("facebook.reactions.");
        assert_eq!(
            r.value,
            c.reported(&id, &format!("post_reactions_by_type_total.{kind}"))
        );
    }
    let sum: i64 = types.iter().map(|r| r.value).sum();
    assert_eq!(value("reactions"), sum);
    assert_eq!(sum, c.reported(&id, "post_reactions_by_type_total"));
    assert_eq!(sum, c.reported(&id, "reactions"));
    assert!(value("reach") > 0, "30 hours after publishing");
}

#[tokio::test]
async fn a_facebook_video_is_read_as_a_post() {
    let c = facebook_page(true).await;
    let id = c.publish_video("Kneading, filmed").await;
    c.sim.advance_clock(Duration::hours(30));
    let read =
        c.fb.posts(&c.account, &c.token, std::slice::from_ref(&id))
            .await
            .unwrap();
    assert_no_doubles(&read);
    let on = read.readings[0].day;
    let value = |metric: &str| one(&read, Some(&id), metric, on).value;
    assert_eq!(
        value("reach"),
        c.reported(&id, "post_total_media_view_unique")
    );
    assert_eq!(value("comments"), c.reported(&id, "comments"));
    assert_eq!(value("shares"), c.reported(&id, "shares"));
    assert_eq!(
        value("reactions"),
        c.reported(&id, "post_reactions_by_type_total")
    );
}

#[tokio::test]
async fn a_facebook_pages_days_are_what_facebook_answered() {
    let c = facebook_page(true).await;
    c.sim.advance_clock(Duration::hours(30));
    let page = c.account.external_id.clone();
    let until = today();
    let since = until - Duration::days(2);
    let days: Vec<NaiveDate> = (0..3).map(|n| since + Duration::days(n)).collect();

    let read =
        c.fb.account(&c.account, &c.token, since, until)
            .await
            .unwrap();
    assert_eq!(read.calls, 2, "one window, and the followers");
    assert_eq!(
        read.raw[0].call,
        format!(
            "GET /{page}/insights?period=day&since={since}&until={}&metric=\
             page_total_media_view_unique,page_media_view,page_post_engagements,\
             page_daily_follows",
            until + Duration::days(1)
        )
    );
    assert!(
        read.raw[0].body.contains("is_from_ads"),
        "views come split into organic and paid"
    );
    assert_eq!(
        read.raw[1].call,
        format!("GET /{page}?fields=followers_count")
    );
    assert_no_token(&read, &c.token);
    assert_no_doubles(&read);
    for metric in ["reach", "views", "engagement", "follows"] {
        let mut seen: Vec<NaiveDate> = of(&read, None, metric).iter().map(|r| r.day).collect();
        seen.sort();
        assert_eq!(seen, days, "{metric}: one value a day");
        assert!(of(&read, None, metric).iter().all(|r| r.span == Span::Day));
    }
    let followers = of(&read, None, "followers");
    assert_eq!(followers.len(), 1);
    assert_eq!(followers[0].span, Span::Lifetime);
    assert_eq!(followers[0].value, c.reported(&page, "followers_count"));

    // Each day read alone gives the same value as within the window, and that value is what
    // the simulator answered for it (views: the organic and paid entries added).
    for on in &days {
        let alone = c.fb.account(&c.account, &c.token, *on, *on).await.unwrap();
        for (metric, name) in [
            ("reach", "page_total_media_view_unique"),
            ("views", "page_media_view"),
            ("engagement", "page_post_engagements"),
            ("follows", "page_daily_follows"),
        ] {
            let value = one(&alone, None, metric, *on).value;
            assert_eq!(value, c.reported(&page, name), "{metric} on {on}");
            assert_eq!(value, one(&read, None, metric, *on).value);
        }
        assert_eq!(
            alone.readings.len(),
            5,
            "four daily values and the followers"
        );
    }
}

#[tokio::test]
async fn a_long_facebook_range_is_read_in_windows_of_90_days() {
    let c = facebook_page(true).await;
    c.sim.advance_clock(Duration::hours(30));
    let until = today();
    let since = until - Duration::days(200);
    let read =
        c.fb.account(&c.account, &c.token, since, until)
            .await
            .unwrap();
    assert_eq!(read.calls, 4, "three windows, and the followers");
    let windows: Vec<(String, String)> = read.raw[..3]
        .iter()
        .map(|a| {
            let query = a.call.split_once('?').unwrap().1;
            let get = |name: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .unwrap()
                    .to_owned()
            };
            (get("since"), get("until"))
        })
        .collect();
    let d = |n: i64| (since + Duration::days(n)).to_string();
    assert_eq!(
        windows,
        [(d(0), d(90)), (d(90), d(180)), (d(180), d(201))],
        "each window ends where the next begins, none over 90 days"
    );
    assert_no_doubles(&read);
    let views: HashSet<NaiveDate> = of(&read, None, "views").iter().map(|r| r.day).collect();
    assert_eq!(views.len(), 201, "every day of the range, once");
}

#[tokio::test]
async fn facebook_errors_are_mapped() {
    // Connected before analytics: the insight permission is missing.
    let c = facebook_page(false).await;
    let id = c.publish("Hello").await;
    let missing =
        c.fb.posts(&c.account, &c.token, std::slice::from_ref(&id))
            .await;
    assert!(
        matches!(&missing, Err(MetricsError::MissingPermission(why)) if why.contains("read_insights")),
        "{missing:?}"
    );
    let missing = c.fb.account(&c.account, &c.token, today(), today()).await;
    assert!(
        matches!(&missing, Err(MetricsError::MissingPermission(_))),
        "{missing:?}"
    );

    let c = facebook_page(true).await;
    let id = c.publish("Hello").await;
    let ids = [id.clone()];
    c.sim
        .inject(Platform::Facebook, Op::Metrics, Fault::ExpiredToken);
    assert_eq!(
        c.fb.posts(&c.account, &c.token, &ids).await,
        Err(MetricsError::TokenExpired)
    );
    c.sim
        .inject(Platform::Facebook, Op::Metrics, Fault::ExpiredToken);
    assert_eq!(
        c.fb.account(&c.account, &c.token, today(), today()).await,
        Err(MetricsError::TokenExpired)
    );
    c.sim.inject(
        Platform::Facebook,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(600),
        },
    );
    assert_eq!(
        c.fb.posts(&c.account, &c.token, &ids).await,
        Err(MetricsError::RateLimited {
            retry_after: std::time::Duration::from_secs(600)
        })
    );
    c.sim
        .inject(Platform::Facebook, Op::Metrics, Fault::ServerError);
    assert!(matches!(
        c.fb.posts(&c.account, &c.token, &ids).await,
        Err(MetricsError::Unavailable(_))
    ));

    // A post Facebook does not have: gone alone, left out beside others.
    let unknown = format!("{}_424242", c.account.external_id);
    assert_eq!(
        c.fb.posts(&c.account, &c.token, std::slice::from_ref(&unknown))
            .await,
        Err(MetricsError::Gone)
    );
    let read =
        c.fb.posts(&c.account, &c.token, &[unknown.clone(), id.clone()])
            .await
            .unwrap();
    assert!(!read.readings.is_empty());
    assert!(
        read.readings
            .iter()
            .all(|r| r.post_id.as_deref() == Some(id.as_str()))
    );
    // Still readable once the faults are used up.
    c.fb.posts(&c.account, &c.token, &ids).await.unwrap();
}

/// The simulator answers the metrics Meta removed as Graph now does, refusing the whole call.
#[tokio::test]
async fn facebook_refuses_removed_metrics() {
    let c = facebook_page(true).await;
    let id = c.publish("Hello").await;
    let page = &c.account.external_id;
    let http = reqwest::Client::new();
    for (node, metric) in [
        (page.as_str(), "page_fans"),
        (page.as_str(), "page_impressions_unique"),
        (page.as_str(), "page_media_view,page_impressions"),
        (id.as_str(), "post_impressions"),
        (
            id.as_str(),
            "post_total_media_view_unique,post_impressions_unique",
        ),
    ] {
        let res = http
            .get(format!(
                "{}/facebook/graph/v25.0/{node}/insights?metric={metric}&period=day",
                c.running.base_url
            ))
            .bearer_auth(c.token.expose_secret())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{metric}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], 100, "{metric}");
        assert_eq!(
            body["error"]["message"], "(#100) The value must be a valid insights metric",
            "{metric}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Instagram against the simulator.

struct InstagramAccount {
    sim: Simulator,
    running: sim::Running,
    ig: Instagram,
    account: AccountRef,
    token: SecretString,
    files: String,
}

async fn instagram_account(insights: bool) -> InstagramAccount {
    let (sim, running) = common::simulator().await;
    let mut config = InstagramConfig::simulated(&running.base_url);
    config.polling = fast(config.polling);
    let ig = Instagram::new(config);
    let mut scopes: Vec<&str> = ig.publishing_scopes().to_vec();
    if insights {
        scopes.extend(MetricsReader::insight_scopes(&ig));
    }
    let url = ig.authorize_url("s1", None, IG_REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = ig.exchange(&code, None, IG_REDIRECT).await.unwrap();
    assert_eq!(
        grant
            .scopes
            .iter()
            .any(|s| s == "instagram_business_manage_insights"),
        insights
    );
    let candidate = ig.accounts(&grant).await.unwrap().remove(0);
    InstagramAccount {
        sim,
        running,
        account: common::account(
            Platform::Instagram,
            &candidate.identity.external_id,
            &candidate.identity.username,
        ),
        token: candidate.grant.access,
        ig,
        files: common::media_server().await,
    }
}

impl InstagramAccount {
    async fn publish(&self, text: &str) -> String {
        let photo = common::media_file(&self.files, "photo.jpg", "image/jpeg", 0);
        let request = common::publish_request(self.account.clone(), &self.token, text, vec![photo]);
        self.ig.publish(&request).await.unwrap().platform_post_id
    }

    fn reported(&self, id: &str, name: &str) -> i64 {
        self.sim
            .reported(Platform::Instagram, id, name)
            .unwrap_or_else(|| panic!("the simulator answered no {name} for {id}"))
    }
}

#[tokio::test]
async fn an_instagram_posts_figures_are_what_instagram_answered() {
    let c = instagram_account(true).await;
    assert_eq!(
        MetricsReader::insight_scopes(&c.ig),
        ["instagram_business_manage_insights"]
    );
    let id = c.publish("A loaf").await;
    c.sim.advance_clock(Duration::hours(30));

    let before = today();
    let read =
        c.ig.posts(&c.account, &c.token, std::slice::from_ref(&id))
            .await
            .unwrap();
    let after = today();
    assert_eq!(read.calls, 1);
    assert_eq!(
        read.raw[0].call,
        format!(
            "GET /{id}/insights?metric=views,reach,saved,likes,comments,shares,total_interactions"
        )
    );
    assert_no_token(&read, &c.token);
    assert_no_doubles(&read);
    assert_eq!(read.readings.len(), 7);
    for r in &read.readings {
        assert_eq!(r.post_id.as_deref(), Some(id.as_str()));
        assert_eq!(r.span, Span::Lifetime);
        assert!(r.day == before || r.day == after, "read today: {r:?}");
    }
    let on = read.readings[0].day;
    for (metric, name) in [
        ("views", "views"),
        ("reach", "reach"),
        ("saves", "saved"),
        ("reactions", "likes"),
        ("comments", "comments"),
        ("shares", "shares"),
        ("engagement", "total_interactions"),
    ] {
        assert_eq!(
            one(&read, Some(&id), metric, on).value,
            c.reported(&id, name),
            "{metric}"
        );
    }
    assert!(one(&read, Some(&id), "views", on).value > 0);
}

#[tokio::test]
async fn an_instagram_accounts_days_are_what_instagram_answered() {
    let c = instagram_account(true).await;
    c.sim.advance_clock(Duration::hours(30));
    let user = c.account.external_id.clone();
    let until = today();
    let since = until - Duration::days(2);
    let days: Vec<NaiveDate> = (0..3).map(|n| since + Duration::days(n)).collect();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();

    let read =
        c.ig.account(&c.account, &c.token, since, until)
            .await
            .unwrap();
    assert_eq!(read.calls, 5, "a call a day, new followers, followers");
    for (answer, on) in read.raw.iter().zip(&days) {
        assert_eq!(
            answer.call,
            format!(
                "GET /{user}/insights?period=day&metric_type=total_value&since={}&until={}\
                 &metric=views,reach,accounts_engaged,total_interactions,likes,comments,shares,\
                 saves,replies,profile_links_taps",
                midnight(*on),
                midnight(*on + Duration::days(1))
            )
        );
    }
    assert_eq!(
        read.raw[3].call,
        format!(
            "GET /{user}/insights?period=day&since={}&until={}&metric=follower_count",
            midnight(since),
            midnight(until + Duration::days(1))
        )
    );
    assert_eq!(
        read.raw[4].call,
        format!("GET /{user}?fields=followers_count")
    );
    assert_no_token(&read, &c.token);
    assert_no_doubles(&read);

    let daily = [
        ("views", "views"),
        ("reach", "reach"),
        ("engagement", "total_interactions"),
        ("reactions", "likes"),
        ("comments", "comments"),
        ("shares", "shares"),
        ("saves", "saves"),
        ("instagram.accounts_engaged", "accounts_engaged"),
        ("instagram.replies", "replies"),
        ("instagram.profile_links_taps", "profile_links_taps"),
    ];
    // New followers are given only to accounts with at least 100 followers.
    let counted = sim::metrics::followers_on(&user, c.sim.now().date_naive()) >= 100;
    let per_day = daily.len() + usize::from(counted);
    assert_eq!(read.readings.len(), per_day * days.len() + 1);
    for r in read.readings.iter().filter(|r| r.metric != "followers") {
        assert_eq!(r.span, Span::Day, "{r:?}");
        assert!(days.contains(&r.day), "{r:?}");
    }
    let followers = of(&read, None, "followers");
    assert_eq!(followers.len(), 1);
    assert_eq!(followers[0].span, Span::Lifetime);
    assert_eq!(followers[0].value, c.reported(&user, "followers_count"));

    // Each day's totals are what the simulator answered for that day alone.
    for on in &days {
        let alone = c.ig.account(&c.account, &c.token, *on, *on).await.unwrap();
        for (metric, name) in daily {
            let value = one(&alone, None, metric, *on).value;
            assert_eq!(value, c.reported(&user, name), "{metric} on {on}");
            assert_eq!(
                value,
                one(&read, None, metric, *on).value,
                "{metric} on {on}"
            );
        }
        if counted {
            let value = one(&alone, None, "follows", *on).value;
            assert_eq!(
                value,
                c.reported(&user, "follower_count"),
                "follows on {on}"
            );
            assert_eq!(value, one(&read, None, "follows", *on).value);
        } else {
            assert!(of(&alone, None, "follows").is_empty());
        }
    }
}

#[tokio::test]
async fn instagram_errors_are_mapped() {
    let c = instagram_account(false).await;
    let id = c.publish("A loaf").await;
    let missing = c.ig.posts(&c.account, &c.token, &[id]).await;
    assert!(
        matches!(&missing, Err(MetricsError::MissingPermission(why)) if why.contains("instagram_business_manage_insights")),
        "{missing:?}"
    );
    let missing = c.ig.account(&c.account, &c.token, today(), today()).await;
    assert!(
        matches!(&missing, Err(MetricsError::MissingPermission(_))),
        "{missing:?}"
    );

    let c = instagram_account(true).await;
    let id = c.publish("A loaf").await;
    let ids = [id.clone()];
    c.sim
        .inject(Platform::Instagram, Op::Metrics, Fault::ExpiredToken);
    assert_eq!(
        c.ig.posts(&c.account, &c.token, &ids).await,
        Err(MetricsError::TokenExpired)
    );
    c.sim
        .inject(Platform::Instagram, Op::Metrics, Fault::RevokedToken);
    assert_eq!(
        c.ig.account(&c.account, &c.token, today(), today()).await,
        Err(MetricsError::TokenExpired)
    );
    c.sim.inject(
        Platform::Instagram,
        Op::Metrics,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(120),
        },
    );
    assert_eq!(
        c.ig.posts(&c.account, &c.token, &ids).await,
        Err(MetricsError::RateLimited {
            retry_after: std::time::Duration::from_secs(120)
        })
    );
    assert_eq!(
        c.ig.posts(&c.account, &c.token, &["999999999".into()])
            .await,
        Err(MetricsError::Gone)
    );
    let read =
        c.ig.posts(&c.account, &c.token, &["999999999".into(), id.clone()])
            .await
            .unwrap();
    assert_eq!(read.readings.len(), 7);

    // Removed metrics are refused by the simulator as by Instagram.
    let http = reqwest::Client::new();
    let user = &c.account.external_id;
    for (node, query) in [
        (id.as_str(), "metric=impressions"),
        (id.as_str(), "metric=views,plays"),
        (
            user.as_str(),
            "metric=impressions&period=day&metric_type=total_value",
        ),
    ] {
        let res = http
            .get(format!(
                "{}/instagram/graph/v25.0/{node}/insights?{query}",
                c.running.base_url
            ))
            .bearer_auth(c.token.expose_secret())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{query}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], 100, "{query}");
    }
}

// ---------------------------------------------------------------------------------------------
// Graph's real answer shapes, served by wiremock.

#[tokio::test]
async fn facebook_reads_graphs_daily_answer_by_the_day_its_end_time_closes() {
    let server = MockServer::start().await;
    // Two days (October 4th and 5th, Pacific time), views split into organic and paid.
    Mock::given(method("GET"))
        .and(path("/v25.0/42/insights"))
        .and(query_param("since", "2026-10-04"))
        .and(query_param("until", "2026-10-06"))
        .and(query_param("period", "day"))
        .and(header("authorization", "Bearer page-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                {"name": "page_media_view", "period": "day", "values": [
                    {"value": 30, "end_time": "2026-10-05T07:00:00+0000", "is_from_ads": "0"},
                    {"value": 900, "end_time": "2026-10-05T07:00:00+0000", "is_from_ads": "1"},
                    {"value": 12, "end_time": "2026-10-06T07:00:00+0000", "is_from_ads": "0"},
                ], "title": "Media views", "id": "42/insights/page_media_view/day"},
                {"name": "page_total_media_view_unique", "period": "day", "values": [
                    {"value": 20, "end_time": "2026-10-05T07:00:00+0000"},
                    {"value": 8, "end_time": "2026-10-06T07:00:00+0000"},
                ], "title": "Total media viewers", "id": "42/insights/page_total_media_view_unique/day"},
                {"name": "page_daily_follows", "period": "day", "values": [
                    {"value": 3, "end_time": "2026-10-06T07:00:00+0000"},
                ], "title": "Daily follows", "id": "42/insights/page_daily_follows/day"},
            ],
            "paging": {
                "previous": "https://graph.facebook.com/v25.0/42/insights?since=1759388400&until=1759561200",
                "next": "https://graph.facebook.com/v25.0/42/insights?since=1759734000&until=1759906800",
            },
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/42"))
        .and(query_param("fields", "followers_count"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"followers_count": 1234, "id": "42"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut config = FacebookConfig::simulated("http://unused");
    config.graph_base = server.uri();
    let fb = Facebook::new(config);
    let account = common::account(Platform::Facebook, "42", "Mock page");
    let token = SecretString::from("page-token");

    let read = fb
        .account(&account, &token, day("2026-10-04"), day("2026-10-05"))
        .await
        .unwrap();
    assert_eq!(read.calls, 2);
    assert_no_doubles(&read);
    let value = |metric: &str, on: &str| one(&read, None, metric, day(on)).value;
    assert_eq!(value("views", "2026-10-04"), 930, "organic and paid added");
    assert_eq!(value("views", "2026-10-05"), 12);
    assert_eq!(value("reach", "2026-10-04"), 20);
    assert_eq!(value("reach", "2026-10-05"), 8);
    assert_eq!(value("follows", "2026-10-05"), 3);
    assert!(
        of(&read, None, "follows")
            .iter()
            .all(|r| r.day == day("2026-10-05"))
    );
    let followers = of(&read, None, "followers");
    assert_eq!(
        (followers[0].value, followers[0].span),
        (1234, Span::Lifetime)
    );
    assert_eq!(read.readings.len(), 6);
}

#[tokio::test]
async fn facebook_reads_a_posts_real_answers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/42_7/insights"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                {"name": "post_total_media_view_unique", "period": "lifetime",
                 "values": [{"value": 512}], "id": "42_7/insights/post_total_media_view_unique/lifetime"},
                {"name": "post_reactions_by_type_total", "period": "lifetime",
                 "values": [{"value": {"like": 40, "love": 2}}], "id": "42_7/insights/post_reactions_by_type_total/lifetime"},
                {"name": "post_clicks", "period": "lifetime",
                 "values": [{"value": 17}], "id": "42_7/insights/post_clicks/lifetime"},
            ],
        })))
        .expect(1)
        .mount(&server)
        .await;
    // Nobody shared it: no `shares` at all. The node's reaction count is the same reactions.
    Mock::given(method("GET"))
        .and(path("/v25.0/42_7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "reactions": {"data": [], "summary": {"total_count": 42, "viewer_reaction": "NONE"}},
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": 5, "can_comment": true}},
            "id": "42_7",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/42_8/insights"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(common::graph_error(
                100,
                Some(33),
                "Unsupported get request. Object with ID '42_8' does not exist.",
            )),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut config = FacebookConfig::simulated("http://unused");
    config.graph_base = server.uri();
    let fb = Facebook::new(config);
    let account = common::account(Platform::Facebook, "42", "Mock page");
    let token = SecretString::from("page-token");

    let read = fb
        .posts(&account, &token, &["42_8".into(), "42_7".into()])
        .await
        .unwrap();
    assert_eq!(read.calls, 3, "the gone post's call counts too");
    assert_no_doubles(&read);
    let on = read.readings[0].day;
    let value = |metric: &str| one(&read, Some("42_7"), metric, on).value;
    assert_eq!(value("reach"), 512);
    assert_eq!(value("reactions"), 42);
    assert_eq!(value("facebook.reactions.like"), 40);
    assert_eq!(value("facebook.reactions.love"), 2);
    assert_eq!(value("clicks"), 17);
    assert_eq!(value("comments"), 5);
    assert_eq!(value("shares"), 0, "no shares: none");
    assert_eq!(read.readings.len(), 7);
}

#[tokio::test]
async fn instagram_reads_graphs_total_values_as_the_day_asked() {
    let server = MockServer::start().await;
    // Recent enough for new followers to be asked for.
    let on = today() - Duration::days(1);
    let since = on.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    Mock::given(method("GET"))
        .and(path("/v25.0/17841400000000001/insights"))
        .and(query_param("metric_type", "total_value"))
        .and(query_param("since", since.to_string()))
        .and(query_param("until", (since + 86_400).to_string()))
        .and(header("authorization", "Bearer ig-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                {"name": "views", "period": "day", "title": "Views",
                 "total_value": {"value": 1500}, "id": "17841400000000001/insights/views/day"},
                {"name": "likes", "period": "day", "title": "Likes",
                 "total_value": {"value": 31}, "id": "17841400000000001/insights/likes/day"},
                {"name": "profile_links_taps", "period": "day", "title": "Profile links taps",
                 "total_value": {"value": 4}, "id": "17841400000000001/insights/profile_links_taps/day"},
                // A series is never taken for the day's total.
                {"name": "reach", "period": "day", "title": "Reach",
                 "values": [{"value": 70, "end_time": "2026-10-06T07:00:00+0000"}],
                 "id": "17841400000000001/insights/reach/day"},
            ],
        })))
        .expect(1)
        .mount(&server)
        .await;
    // Fewer than 100 followers: Instagram leaves new followers out.
    Mock::given(method("GET"))
        .and(path("/v25.0/17841400000000001/insights"))
        .and(query_param("metric", "follower_count"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": []})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/17841400000000001"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"followers_count": 87, "id": "17841400000000001"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    // A newer media answer: `total_value` rather than `values`.
    Mock::given(method("GET"))
        .and(path("/v25.0/1799/insights"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [
                {"name": "views", "period": "lifetime", "total_value": {"value": 640}, "id": "1799/insights/views/lifetime"},
                {"name": "saved", "period": "lifetime", "values": [{"value": 9}], "id": "1799/insights/saved/lifetime"},
            ],
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = InstagramConfig::simulated("http://unused");
    config.graph_base = server.uri();
    let ig = Instagram::new(config);
    let account = common::account(Platform::Instagram, "17841400000000001", "mock");
    let token = SecretString::from("ig-token");

    let read = ig.account(&account, &token, on, on).await.unwrap();
    assert_eq!(read.calls, 3, "the day, new followers, followers");
    assert_no_doubles(&read);
    assert_eq!(one(&read, None, "views", on).value, 1500);
    assert_eq!(one(&read, None, "reactions", on).value, 31);
    assert_eq!(
        one(&read, None, "instagram.profile_links_taps", on).value,
        4
    );
    assert!(of(&read, None, "reach").is_empty());
    assert!(of(&read, None, "follows").is_empty());
    assert_eq!(of(&read, None, "followers")[0].value, 87);
    assert_eq!(read.readings.len(), 4);

    let posts = ig.posts(&account, &token, &["1799".into()]).await.unwrap();
    let read_on = posts.readings[0].day;
    assert_eq!(one(&posts, Some("1799"), "views", read_on).value, 640);
    assert_eq!(one(&posts, Some("1799"), "saves", read_on).value, 9);
    assert_eq!(posts.readings.len(), 2);
}
