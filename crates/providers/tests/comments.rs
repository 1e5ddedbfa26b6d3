//! Each platform's comment adapter against the simulator: reading a post's conversation,
//! replying, hiding, deleting, and the platform's refusals, checked against what the simulator
//! kept ([`Simulator::comments_on`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use domain::Platform;
use providers::social::comments::{CommentError, Conversations};
use providers::social::facebook::{Facebook, FacebookConfig};
use providers::social::instagram::{Instagram, InstagramConfig};
use providers::social::linkedin::{LinkedIn, LinkedInConfig};
use providers::social::x::{X, XConfig};
use providers::social::{AccountRef, Connector};
use secrecy::SecretString;
use sim::{Fault, Op, Simulator};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";
const VERIFIER: &str = "a-verifier-of-enough-length-for-pkce-0123456789";

/// A post published two hours ago (by the simulator's clock) by `user_id`, with exact comments
/// only (the automatic ones off).
fn quiet_post(sim: &Simulator, platform: Platform, user_id: &str) -> String {
    sim.set_comments_auto(false);
    sim.seed_post(
        platform,
        user_id,
        "Fresh bread",
        sim.now() - Duration::hours(2),
    )
}

async fn facebook(
    comment_scopes: bool,
) -> (Simulator, sim::Running, Facebook, AccountRef, SecretString) {
    let (sim, running) = common::simulator().await;
    let fb = Facebook::new(FacebookConfig::simulated(&running.base_url));
    let mut scopes = fb.publishing_scopes().to_vec();
    if comment_scopes {
        scopes.extend(Conversations::comment_scopes(&fb));
    }
    let url = fb.authorize_url("s1", None, REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = fb.exchange(&code, None, REDIRECT).await.unwrap();
    let page = fb.accounts(&grant).await.unwrap().remove(0);
    let account = common::account(
        Platform::Facebook,
        &page.identity.external_id,
        &page.identity.username,
    );
    (sim, running, fb, account, page.grant.access)
}

#[tokio::test]
async fn a_facebook_pages_comments_are_read_answered_hidden_and_deleted() {
    let (sim, _running, fb, page, token) = facebook(true).await;
    assert_eq!(fb.comment_scopes(), ["pages_read_user_content"]);
    let post = quiet_post(&sim, Platform::Facebook, &page.external_id);
    let question = sim.add_comment(Platform::Facebook, &post, "Ana Lima", "Open on Sunday?");
    let complaint = sim.add_comment(Platform::Facebook, &post, "Sam Roe", "It came broken");

    let thread = fb.comments(&page, &token, &post, None).await.unwrap();
    assert_eq!(thread.calls, 1);
    let ids: Vec<&str> = thread.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [question.as_str(), complaint.as_str()]);
    assert_eq!(thread.comments[0].author_name, "Ana Lima");
    assert!(!thread.comments[0].by_account);

    let reply = fb
        .reply(&page, &token, &post, &question, "From 9 to 1.")
        .await
        .unwrap();
    fb.hide(&page, &token, &complaint, true).await.unwrap();
    let kept = sim.comments_on(&post);
    let mine = kept.iter().find(|c| c.id == reply).unwrap();
    assert!(mine.by_account && mine.parent_id.as_deref() == Some(question.as_str()));
    assert!(kept.iter().any(|c| c.id == complaint && c.hidden));

    let thread = fb.comments(&page, &token, &post, None).await.unwrap();
    let read = thread.comments.iter().find(|c| c.id == reply).unwrap();
    assert!(read.by_account);
    assert_eq!(read.parent_id.as_deref(), Some(question.as_str()));
    assert!(
        thread
            .comments
            .iter()
            .any(|c| c.id == complaint && c.hidden)
    );

    fb.delete(&page, &token, &complaint).await.unwrap();
    assert!(
        sim.comments_on(&post)
            .iter()
            .any(|c| c.id == complaint && c.deleted)
    );
    assert_eq!(
        fb.delete(&page, &token, &complaint).await,
        Err(CommentError::Gone)
    );
    assert_eq!(
        fb.reply(&page, &token, &post, &complaint, "Sorry").await,
        Err(CommentError::Gone)
    );

    sim.inject(
        Platform::Facebook,
        Op::Comments,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(120),
        },
    );
    assert_eq!(
        fb.comments(&page, &token, &post, None).await,
        Err(CommentError::RateLimited {
            retry_after: std::time::Duration::from_secs(120)
        })
    );
    sim.inject(Platform::Facebook, Op::Comments, Fault::ExpiredToken);
    assert_eq!(
        fb.comments(&page, &token, &post, None).await,
        Err(CommentError::TokenExpired)
    );
}

#[tokio::test]
async fn facebook_refuses_a_read_without_the_comment_permission() {
    let (sim, _running, fb, page, token) = facebook(false).await;
    let post = quiet_post(&sim, Platform::Facebook, &page.external_id);
    let got = fb.comments(&page, &token, &post, None).await;
    assert!(
        matches!(&got, Err(CommentError::MissingPermission(why)) if why.contains("pages_read_user_content")),
        "{got:?}"
    );
}

#[tokio::test]
async fn comments_arrive_on_a_facebook_post_as_time_passes() {
    let (sim, _running, fb, page, token) = facebook(true).await;
    let post = sim.seed_post(Platform::Facebook, &page.external_id, "New loaf", sim.now());
    let fresh = fb.comments(&page, &token, &post, None).await.unwrap();
    assert!(fresh.comments.is_empty());
    sim.advance_clock(Duration::hours(6));
    let later = fb.comments(&page, &token, &post, None).await.unwrap();
    assert!(later.comments.len() >= 3, "{later:?}");
    sim.advance_clock(Duration::days(3));
    let settled = fb.comments(&page, &token, &post, None).await.unwrap();
    assert!(settled.comments.len() >= later.comments.len());
    assert!(
        later
            .comments
            .iter()
            .all(|c| settled.comments.iter().any(|s| s.id == c.id)),
        "ids are stable"
    );
    let since = later.comments.last().unwrap().created_at;
    let newer = fb
        .comments(&page, &token, &post, Some(since))
        .await
        .unwrap();
    assert!(newer.comments.iter().all(|c| c.created_at >= since));
}

#[tokio::test]
async fn instagram_refuses_replies_to_hidden_comments_and_to_replies() {
    let (sim, running) = common::simulator().await;
    let ig = Instagram::new(InstagramConfig::simulated(&running.base_url));
    assert!(ig.comment_scopes().is_empty(), "publishing asks for it");
    let url = ig.authorize_url("s1", None, REDIRECT, ig.publishing_scopes());
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = ig.exchange(&code, None, REDIRECT).await.unwrap();
    let candidate = ig.accounts(&grant).await.unwrap().remove(0);
    let account = common::account(
        Platform::Instagram,
        &candidate.identity.external_id,
        &candidate.identity.username,
    );
    let token = candidate.grant.access;
    let post = quiet_post(&sim, Platform::Instagram, &account.external_id);
    let first = sim.add_comment(Platform::Instagram, &post, "ana", "How do I order?");
    let rude = sim.add_comment(Platform::Instagram, &post, "troll", "Rubbish");

    let reply = ig
        .reply(&account, &token, &post, &first, "Link in bio")
        .await
        .unwrap();
    let thread = ig.comments(&account, &token, &post, None).await.unwrap();
    let ids: Vec<&str> = thread.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), rude.as_str(), reply.as_str()]);
    assert_eq!(
        thread.comments[2].parent_id.as_deref(),
        Some(first.as_str())
    );
    assert!(thread.comments[2].by_account);

    let nested = ig.reply(&account, &token, &post, &reply, "Again").await;
    assert!(
        matches!(&nested, Err(CommentError::Refused(why)) if why.contains("top-level")),
        "{nested:?}"
    );
    ig.hide(&account, &token, &rude, true).await.unwrap();
    let hidden = ig.reply(&account, &token, &post, &rude, "Hm").await;
    assert!(
        matches!(&hidden, Err(CommentError::Refused(why)) if why.contains("hidden")),
        "{hidden:?}"
    );
    let thread = ig.comments(&account, &token, &post, None).await.unwrap();
    assert!(thread.comments.iter().any(|c| c.id == rude && c.hidden));

    ig.delete(&account, &token, &rude).await.unwrap();
    assert_eq!(
        ig.delete(&account, &token, &rude).await,
        Err(CommentError::Gone)
    );
    assert_eq!(
        sim.comments_on(&post)
            .iter()
            .filter(|c| c.by_account)
            .count(),
        1
    );
}

#[tokio::test]
async fn an_x_conversation_is_read_and_answered_and_only_the_users_replies_deleted() {
    let (sim, running) = common::simulator().await;
    let x = X::new(XConfig::simulated(&running.base_url));
    assert_eq!(x.comment_scopes(), ["tweet.moderate.write"]);
    let mut scopes = x.publishing_scopes().to_vec();
    scopes.extend(Conversations::comment_scopes(&x));
    let challenge = common::pkce_challenge(VERIFIER);
    let url = x.authorize_url("s1", Some(&challenge), REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
    let me = x.identity(&grant.access).await.unwrap();
    let account = common::account(Platform::X, &me.external_id, &me.username);
    let token: SecretString = grant.access;
    assert!(!x.abilities(&account).delete);

    let post = quiet_post(&sim, Platform::X, &account.external_id);
    let question = sim.add_comment(Platform::X, &post, "ana", "Refund please?");
    let before = sim.calls("x");
    let thread = x.comments(&account, &token, &post, None).await.unwrap();
    assert_eq!(thread.calls, 1);
    assert_eq!(sim.calls("x").since(before).calls, 1);
    assert_eq!(thread.comments.len(), 1, "the post itself is not a reply");
    assert_eq!(thread.comments[0].id, question);
    assert_eq!(thread.comments[0].parent_id, None);
    assert_eq!(thread.comments[0].author_name, "ana");

    let reply = x
        .reply(&account, &token, &post, &question, "DM us")
        .await
        .unwrap();
    x.hide(&account, &token, &question, true).await.unwrap();
    let kept = sim.comments_on(&post);
    assert!(kept.iter().any(|c| c.id == question && c.hidden));
    assert!(kept.iter().any(|c| c.id == reply && c.by_account));
    let thread = x.comments(&account, &token, &post, None).await.unwrap();
    let mine = thread.comments.iter().find(|c| c.id == reply).unwrap();
    assert!(mine.by_account);
    assert_eq!(mine.parent_id.as_deref(), Some(question.as_str()));

    let theirs = x.delete(&account, &token, &question).await;
    assert!(
        matches!(theirs, Err(CommentError::Refused(_))),
        "{theirs:?}"
    );
    x.delete(&account, &token, &reply).await.unwrap();
    assert_eq!(
        x.delete(&account, &token, &reply).await,
        Err(CommentError::Gone)
    );
}

#[tokio::test]
async fn x_refuses_hiding_without_the_moderation_permission() {
    let (sim, running) = common::simulator().await;
    let x = X::new(XConfig::simulated(&running.base_url));
    let challenge = common::pkce_challenge(VERIFIER);
    let url = x.authorize_url("s1", Some(&challenge), REDIRECT, x.publishing_scopes());
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = x.exchange(&code, Some(VERIFIER), REDIRECT).await.unwrap();
    let me = x.identity(&grant.access).await.unwrap();
    let account = common::account(Platform::X, &me.external_id, &me.username);
    let post = quiet_post(&sim, Platform::X, &account.external_id);
    let question = sim.add_comment(Platform::X, &post, "ana", "Hello?");
    let got = x.hide(&account, &grant.access, &question, true).await;
    assert!(
        matches!(&got, Err(CommentError::MissingPermission(why)) if why.contains("tweet.moderate.write")),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_linkedin_organisations_comments_are_read_answered_and_deleted() {
    let (sim, running) = common::simulator().await;
    let linkedin = LinkedIn::new(LinkedInConfig::simulated(&running.base_url));
    let mut scopes = linkedin.publishing_scopes().to_vec();
    // The organisation permissions, as an app with LinkedIn's organisation product asks them
    // (the adapter asks none while only members connect).
    assert!(Conversations::comment_scopes(&linkedin).is_empty());
    scopes.extend(["r_organization_social_feed", "w_organization_social_feed"]);
    let url = linkedin.authorize_url("s1", None, REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("ada")).await;
    let grant = linkedin.exchange(&code, None, REDIRECT).await.unwrap();
    let me = linkedin.identity(&grant.access).await.unwrap();
    let member = common::account(Platform::LinkedIn, &me.external_id, &me.username);
    assert!(!linkedin.abilities(&member).read);
    let org_id = sim::linkedin::organization_of(&me.external_id);
    let org = common::account(
        Platform::LinkedIn,
        &format!("urn:li:organization:{org_id}"),
        "Ada Labs",
    );
    let token = grant.access;

    let post = quiet_post(&sim, Platform::LinkedIn, &org_id);
    let question = sim.add_comment(Platform::LinkedIn, &post, "Noor", "Where can I buy it?");
    let reply = linkedin
        .reply(&org, &token, &post, &question, "On our site")
        .await
        .unwrap();
    let thread = linkedin.comments(&org, &token, &post, None).await.unwrap();
    assert_eq!(
        thread.calls, 2,
        "the comments, then the replies of the one that has some"
    );
    assert_eq!(thread.comments.len(), 2);
    assert_eq!(thread.comments[0].id, question);
    assert_eq!(thread.comments[1].id, reply);
    assert_eq!(
        thread.comments[1].parent_id.as_deref(),
        Some(question.as_str())
    );
    assert!(thread.comments[1].by_account);

    let nested = linkedin.reply(&org, &token, &post, &reply, "Again").await;
    assert!(
        matches!(nested, Err(CommentError::Refused(_))),
        "{nested:?}"
    );
    assert!(matches!(
        linkedin.hide(&org, &token, &question, true).await,
        Err(CommentError::Refused(_))
    ));
    linkedin.delete(&org, &token, &question).await.unwrap();
    assert_eq!(
        linkedin.delete(&org, &token, &question).await,
        Err(CommentError::Gone)
    );
    let thread = linkedin.comments(&org, &token, &post, None).await.unwrap();
    assert!(thread.comments.is_empty(), "its replies went with it");
    assert!(matches!(
        linkedin.comments(&member, &token, &post, None).await,
        Err(CommentError::Refused(_))
    ));
}
