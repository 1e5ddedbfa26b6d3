//! The inbox of Instagram direct messages on both databases, against the simulator: asked
//! permission only once turned on, messages read once however often they are read, a reply
//! sent within the 24-hour window and refused (and kept, with the reason) after it, the plan,
//! and the purge of quiet conversations.
use crate::analytics::connect;
use crate::both_backends;
use crate::comments::setup;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page};
use domain::WorkspaceId;
use domain::plans::PlanId;
use reqwest::StatusCode;

both_backends!(
    direct_messages_are_read_and_answered_within_the_window,
    the_inbox_is_an_owners_switch_on_a_plan_with_the_comments_workspace,
);

async fn switch(client: &Client, ws: i64, on: bool) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/inbox/switch"),
            &[("on", if on { "1" } else { "0" })],
        )
        .await
}

/// Makes the inbox reads due and runs them.
async fn read_now(app: &TestApp) {
    app.exec(
        "UPDATE jobs SET run_at = created_at WHERE kind = 'read_messages' AND state = 'queued'",
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
}

async fn reply(client: &Client, ws: i64, conversation: i64, text: &str) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/inbox/{conversation}/reply"),
            &[("reply", text)],
        )
        .await
}

async fn direct_messages_are_read_and_answered_within_the_window(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    // Connected before the inbox: the messaging permission was not asked.
    let (scope, _) = connect(&app, &ada, ws, "instagram").await;
    assert!(
        !scope.contains("instagram_business_manage_messages"),
        "{scope}"
    );
    let off = ada.get_text(&format!("/w/{ws}/inbox")).await;
    assert!(off.contains("The inbox is off"), "{off}");
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let page = ada.get_text(&format!("/w/{ws}/inbox")).await;
    assert!(page.contains("Connect these accounts again"), "{page}");
    // Connected again: asked, and read.
    let (scope, instagram) = connect(&app, &ada, ws, "instagram").await;
    assert!(
        scope.contains("instagram_business_manage_messages"),
        "{scope}"
    );
    let ig_user = app
        .text(&format!(
            "SELECT external_id FROM social_accounts WHERE id = {instagram}"
        ))
        .await;
    sim.add_message(&ig_user, "grace_h", "Do you deliver to Oslo?");
    read_now(&app).await;
    read_now(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM direct_messages WHERE NOT by_account")
            .await,
        1
    );
    let page = ada.get_text(&format!("/w/{ws}/inbox")).await;
    assert!(
        page.contains("grace_h") && page.contains("Do you deliver to Oslo?"),
        "{page}"
    );
    let grace = app.count("SELECT id FROM conversations").await;

    let res = reply(&ada, ws, grace, "Yes, within two days.").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ours: Vec<_> = sim
        .messages_with(&ig_user, "grace_h")
        .into_iter()
        .filter(|m| m.by_account)
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].text, "Yes, within two days.");
    let page = ada.get_text(&format!("/w/{ws}/inbox")).await;
    assert!(page.contains("You: Yes, within two days."), "{page}");
    // Read back, the reply is the same message, not a second one.
    read_now(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM direct_messages WHERE by_account")
            .await,
        1
    );
    let res = reply(&ada, ws, grace, "   ").await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Write the reply first",
    )
    .await;
    // A reply whose sending went unanswered, with the same words as one already there: the
    // read goes through and does not take the earlier message for it.
    let ada_id = app
        .count("SELECT id FROM users WHERE email = 'ada@example.com'")
        .await;
    let now = chrono::Utc::now().to_rfc3339();
    app.exec(&format!(
        "INSERT INTO direct_messages (workspace_id, conversation_id, by_account, body, sent_at, \
         sent_by, state) VALUES ({ws}, {grace}, true, 'Yes, within two days.', '{now}', \
         {ada_id}, 'unconfirmed')"
    ))
    .await;
    read_now(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM direct_messages WHERE state = 'unconfirmed'")
            .await,
        1
    );
    // Someone else's workspace does not know the conversation; a viewer reads and cannot send.
    let (eve, other) = owner_with_workspace(&app, "eve@example.com").await;
    assert_eq!(
        switch(&eve, other, true).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        eve.get(&format!("/w/{other}/inbox/{grace}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reply(&eve, other, grace, "Hi").await.status(),
        StatusCode::NOT_FOUND
    );
    let val = app.verified_user("Val Viewer", "val@example.com").await;
    app.join(&ada, ws, "val@example.com", "viewer", &val).await;
    let page = val.get_text(&format!("/w/{ws}/inbox/{grace}")).await;
    assert!(page.contains("Viewers can read messages"), "{page}");
    assert_eq!(
        reply(&val, ws, grace, "Hi").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sim.messages_with(&ig_user, "grace_h")
            .into_iter()
            .filter(|m| m.by_account)
            .count(),
        1
    );

    // Instagram closed the window (the person wrote more than a day ago there): its refusal is
    // shown and the reply kept with it; nothing was sent.
    sim.age_conversation(&ig_user, "grace_h", chrono::Duration::hours(25));
    let res = reply(&ada, ws, grace, "Anything else?").await;
    let page = expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reply window has closed",
    )
    .await;
    assert!(page.contains("Anything else?"), "{page}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM direct_messages WHERE state = 'refused' AND body = 'Anything else?'"
        )
        .await,
        1
    );
    assert_eq!(
        sim.messages_with(&ig_user, "grace_h")
            .into_iter()
            .filter(|m| m.by_account)
            .count(),
        1
    );
    // Known closed here too: the page says so and offers no reply form.
    let old = (chrono::Utc::now() - chrono::Duration::hours(25)).to_rfc3339();
    app.exec(&format!(
        "UPDATE conversations SET person_last_at = '{old}' WHERE id = {grace}"
    ))
    .await;
    let page = ada.get_text(&format!("/w/{ws}/inbox/{grace}")).await;
    assert!(
        page.contains("id=\"window-closed\"") && !page.contains("id=\"send-message\""),
        "{page}"
    );

    // Quiet past the workspace's period: purged with its messages.
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(91)).to_rfc3339();
    app.exec(&format!(
        "UPDATE conversations SET last_at = '{long_ago}' WHERE id = {grace}"
    ))
    .await;
    let report = app
        .services
        .run_retention(chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(report.conversations_purged, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM direct_messages").await, 0);
}

async fn the_inbox_is_an_owners_switch_on_a_plan_with_the_comments_workspace(backend: Backend) {
    let Some((app, _sim, _running)) = setup(backend, true).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let res = switch(&ada, ws, true).await;
    expect_page(res, StatusCode::PAYMENT_REQUIRED, "Starter").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let bob = app.verified_user("Bob Editor", "bob@example.com").await;
    app.join(&ada, ws, "bob@example.com", "editor", &bob).await;
    assert_eq!(switch(&bob, ws, true).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'inbox.turned_on'")
            .await,
        1
    );
    // Bob's switch off is refused too; Ada turns it off.
    assert_eq!(
        switch(&bob, ws, false).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        switch(&ada, ws, false).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'inbox.turned_off'")
            .await,
        1
    );
}
