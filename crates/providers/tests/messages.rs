//! The Instagram direct-message adapter against the simulator: reading the inbox, replying
//! within the 24-hour window, the refusals outside it and without the messaging permission,
//! checked against what the simulator kept ([`Simulator::messages_with`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use domain::Platform;
use providers::social::instagram::{Instagram, InstagramConfig};
use providers::social::messages::{MessageError, Messages};
use providers::social::{AccountRef, Connector};
use secrecy::SecretString;
use sim::{Fault, Op, Simulator};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

/// A simulator and an Instagram account connected to it as `acme`, with the messaging
/// permission when `messages` says so.
async fn instagram(
    messages: bool,
) -> (Simulator, sim::Running, Instagram, AccountRef, SecretString) {
    let (sim, running) = common::simulator().await;
    let ig = Instagram::new(InstagramConfig::simulated(&running.base_url));
    let mut scopes = ig.publishing_scopes().to_vec();
    if messages {
        scopes.extend(ig.message_scopes());
    }
    let url = ig.authorize_url("s1", None, REDIRECT, &scopes);
    let code = common::press_allow(&url, Some("acme")).await;
    let grant = ig.exchange(&code, None, REDIRECT).await.unwrap();
    let candidate = ig.accounts(&grant).await.unwrap().remove(0);
    let account = common::account(
        Platform::Instagram,
        &candidate.identity.external_id,
        &candidate.identity.username,
    );
    (sim, running, ig, account, candidate.grant.access)
}

#[tokio::test]
async fn the_inbox_is_read_and_answered_within_the_window() {
    let (sim, _running, ig, account, token) = instagram(true).await;
    assert_eq!(ig.message_scopes(), ["instagram_business_manage_messages"]);
    sim.set_messages_auto(false);
    let user = account.external_id.as_str();
    let ana = sim.add_message(user, "ana", "Do you ship abroad?");
    sim.advance_clock(Duration::minutes(5));
    let sam = sim.add_message(user, "sam", "Open on Sunday?");
    sim.advance_clock(Duration::minutes(5));
    assert_eq!(sim.add_message(user, "ana", "To Canada, I mean."), ana);

    let before = sim.calls("instagram");
    let inbox = ig.conversations(&account, &token, None).await.unwrap();
    assert_eq!(inbox.calls, 1);
    assert_eq!(sim.calls("instagram").since(before).calls, 1);
    let ids: Vec<&str> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [ana.as_str(), sam.as_str()],
        "most recently active first"
    );
    let with_ana = &inbox.conversations[0];
    assert_eq!(with_ana.person_name, "ana");
    let texts: Vec<&str> = with_ana.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Do you ship abroad?", "To Canada, I mean."]);
    assert!(with_ana.messages.iter().all(|m| !m.by_account));
    assert_eq!(with_ana.updated_at, with_ana.messages[1].sent_at);

    let sent = ig
        .send(
            &account,
            &token,
            &with_ana.person_id,
            "Yes, we ship to Canada.",
        )
        .await
        .unwrap();
    let kept = sim.messages_with(user, "ana");
    let last = kept.last().unwrap();
    assert_eq!(
        (last.id.as_str(), last.by_account, last.text.as_str()),
        (sent.as_str(), true, "Yes, we ship to Canada.")
    );

    let since = sim.now() - Duration::minutes(1);
    let inbox = ig
        .conversations(&account, &token, Some(since))
        .await
        .unwrap();
    let ids: Vec<&str> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [ana.as_str()],
        "only the conversation active since then"
    );
    let reply = inbox.conversations[0].messages.last().unwrap();
    assert!(reply.by_account && reply.id == sent);
}

#[tokio::test]
async fn a_reply_after_the_window_closed_is_refused_and_not_kept() {
    let (sim, _running, ig, account, token) = instagram(true).await;
    sim.set_messages_auto(false);
    let user = account.external_id.as_str();
    sim.add_message(user, "ana", "Still open?");
    sim.add_message(user, "sam", "Hello?");
    sim.age_conversation(user, "sam", Duration::hours(25));

    let inbox = ig.conversations(&account, &token, None).await.unwrap();
    let person = |name: &str| {
        inbox
            .conversations
            .iter()
            .find(|c| c.person_name == name)
            .unwrap()
            .person_id
            .clone()
    };
    assert_eq!(
        ig.send(&account, &token, &person("sam"), "Sorry for the wait")
            .await,
        Err(MessageError::WindowClosed)
    );
    assert!(sim.messages_with(user, "sam").iter().all(|m| !m.by_account));
    ig.send(&account, &token, &person("ana"), "Yes!")
        .await
        .unwrap();

    // The whole clock moving on closes the other window too.
    sim.advance_clock(Duration::hours(24) + Duration::minutes(1));
    assert_eq!(
        ig.send(&account, &token, &person("ana"), "Anything else?")
            .await,
        Err(MessageError::WindowClosed)
    );
    assert_eq!(
        sim.messages_with(user, "ana")
            .iter()
            .filter(|m| m.by_account)
            .count(),
        1
    );
}

#[tokio::test]
async fn without_the_messaging_permission_the_inbox_is_refused() {
    let (sim, _running, ig, account, token) = instagram(false).await;
    sim.set_messages_auto(false);
    sim.add_message(&account.external_id, "ana", "Hi");
    let read = ig.conversations(&account, &token, None).await;
    assert!(
        matches!(&read, Err(MessageError::MissingPermission(why))
            if why.contains("instagram_business_manage_messages")),
        "{read:?}"
    );
    let person = sim.messages_with(&account.external_id, "ana")[0]
        .person_id
        .clone();
    let sent = ig.send(&account, &token, &person, "Hello").await;
    assert!(
        matches!(&sent, Err(MessageError::MissingPermission(_))),
        "{sent:?}"
    );
    assert_eq!(sim.messages_with(&account.external_id, "ana").len(), 1);
}

#[tokio::test]
async fn messages_arrive_by_themselves_as_time_passes_and_faults_are_answered() {
    let (sim, _running, ig, account, token) = instagram(true).await;
    let first = ig.conversations(&account, &token, None).await.unwrap();
    let count = |inbox: &providers::social::messages::Inbox| -> usize {
        inbox.conversations.iter().map(|c| c.messages.len()).sum()
    };
    assert!(!first.conversations.is_empty(), "an inbox has a history");
    assert_eq!(
        ig.conversations(&account, &token, None).await.unwrap(),
        first,
        "a read repeated at the same moment gives the same"
    );
    sim.advance_clock(Duration::days(3));
    let later = ig.conversations(&account, &token, None).await.unwrap();
    assert!(count(&later) > count(&first), "{later:?}");
    let people: Vec<&str> = later
        .conversations
        .iter()
        .map(|c| c.person_name.as_str())
        .collect();
    let mut distinct = people.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), people.len(), "one conversation per person");

    sim.inject(
        Platform::Instagram,
        Op::Messages,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(120),
        },
    );
    assert_eq!(
        ig.conversations(&account, &token, None).await,
        Err(MessageError::RateLimited {
            retry_after: std::time::Duration::from_secs(120)
        })
    );
    sim.inject(Platform::Instagram, Op::Messages, Fault::ServerError);
    let newest = &later.conversations[0];
    let got = ig.send(&account, &token, &newest.person_id, "Hi").await;
    assert!(
        matches!(
            got,
            Err(MessageError::Unavailable {
                maybe_done: true,
                ..
            })
        ),
        "{got:?}"
    );
    sim.expire_all_tokens();
    assert_eq!(
        ig.conversations(&account, &token, None).await,
        Err(MessageError::TokenExpired)
    );
}
