//! Workspaces over HTTP: create, invite, accept, change role, remove, leave; isolation between
//! workspaces; the activity log.

use crate::both_backends;
use crate::helpers::{
    Backend, Client, TestApp, expect_page, id_from_location, location, spawn_app,
};
use reqwest::StatusCode;

both_backends!(
    a_removed_admins_invitations_are_withdrawn,
    invite_accept_change_role_remove,
    the_last_owner_cannot_leave_be_removed_or_demoted,
    another_workspace_answers_404,
    roles_limit_what_members_may_do,
    an_invitation_is_for_its_address_and_works_once,
);

async fn create_workspace(client: &Client, name: &str) -> i64 {
    let res = client.submit("/workspaces/new", &[("name", name)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "create {name}");
    id_from_location(res.headers())
}

/// The membership id of `email` in workspace `ws`.
async fn membership_of(app: &TestApp, ws: i64, email: &str) -> i64 {
    app.count(&format!(
        "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = {ws} AND u.email = '{email}'"
    ))
    .await
}

async fn invite_accept_change_role_remove(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = create_workspace(&alice, "Acme Marketing").await;
    let home = alice.get_text(&format!("/w/{ws}")).await;
    assert!(home.contains("<h1>Acme Marketing</h1>"));
    assert!(home.contains("You are Owner of this workspace, and its only member."));

    let link = app.invite(&alice, ws, "bob@example.com", "editor").await;
    let mail = app.last_mail_to("bob@example.com").await;
    assert_eq!(mail.subject, "You're invited to a workspace on Socializioz");
    assert!(mail.body.contains("\"Acme Marketing\""), "{}", mail.body);
    let settings = alice.get_text(&format!("/w/{ws}/settings")).await;
    assert!(settings.contains("bob@example.com as Editor"));

    // Bob opens the link before having an account, signs up, confirms, and accepts.
    let bob = app.client();
    let page = bob.get_text(&link).await;
    assert!(page.contains("Join Acme Marketing"));
    let bob = app.verified_user("Bob", "bob@example.com").await;
    let res = bob.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{ws}"));
    let bob_home = bob.get_text(&format!("/w/{ws}")).await;
    assert!(bob_home.contains("You are Editor of this workspace, with 1 other member."));

    let bob_membership = membership_of(&app, ws, "bob@example.com").await;
    let res = alice
        .submit(
            &format!("/w/{ws}/members/{bob_membership}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let roles = app
        .count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE id = {bob_membership} AND role = 'admin'"
        ))
        .await;
    assert_eq!(roles, 1);

    // Admins and owners read the activity log; it names who did what.
    let log = bob.get_text(&format!("/w/{ws}/activity")).await;
    for line in [
        "created the workspace &#34;Acme Marketing&#34;",
        "invited bob@example.com as Editor",
        "joined as Editor",
        "changed Bob&#39;s role from Editor to Admin",
    ] {
        assert!(log.contains(line), "activity log lacks {line:?}");
    }

    let res = alice
        .submit(&format!("/w/{ws}/members/{bob_membership}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        bob.get(&format!("/w/{ws}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        location(bob.get("/dashboard").await.headers()),
        "/workspaces/new"
    );
    let log = alice.get_text(&format!("/w/{ws}/activity")).await;
    assert!(log.contains("removed Bob (Admin)"));
}

async fn the_last_owner_cannot_leave_be_removed_or_demoted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = create_workspace(&alice, "Solo").await;
    let me = membership_of(&app, ws, "alice@example.com").await;

    let res = alice.submit(&format!("/w/{ws}/leave"), &[]).await;
    expect_page(
        res,
        StatusCode::FORBIDDEN,
        "You are the last owner of this workspace",
    )
    .await;
    let res = alice
        .submit(&format!("/w/{ws}/members/{me}/role"), &[("role", "viewer")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = alice
        .submit(&format!("/w/{ws}/members/{me}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = {ws} AND role = 'owner'"
        ))
        .await,
        1
    );

    // With a second owner, the first may leave.
    let link = app.invite(&alice, ws, "bob@example.com", "owner").await;
    let bob = app.verified_user("Bob", "bob@example.com").await;
    assert_eq!(bob.submit(&link, &[]).await.status(), StatusCode::SEE_OTHER);
    let res = alice.submit(&format!("/w/{ws}/leave"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        alice.get(&format!("/w/{ws}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let bob_membership = membership_of(&app, ws, "bob@example.com").await;
    let res = bob
        .submit(
            &format!("/w/{ws}/members/{bob_membership}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn another_workspace_answers_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let carol = app.verified_user("Carol", "carol@example.com").await;
    let alices = create_workspace(&alice, "Alice's").await;
    let carols = create_workspace(&carol, "Carol's").await;
    let carol_membership = membership_of(&app, carols, "carol@example.com").await;

    for path in [
        format!("/w/{carols}"),
        format!("/w/{carols}/settings"),
        format!("/w/{carols}/activity"),
        "/w/999999".to_owned(),
        "/w/not-a-number".to_owned(),
    ] {
        assert_eq!(
            alice.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    for (path, fields) in [
        (format!("/w/{carols}/rename"), vec![("name", "Mine now")]),
        (
            format!("/w/{carols}/invitations"),
            vec![("email", "x@example.com"), ("role", "owner")],
        ),
        // A member of Carol's workspace, addressed through Alice's own workspace.
        (
            format!("/w/{alices}/members/{carol_membership}/role"),
            vec![("role", "viewer")],
        ),
        (
            format!("/w/{alices}/members/{carol_membership}/remove"),
            vec![],
        ),
    ] {
        let res = alice.submit(&path, &fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM workspaces WHERE name = 'Carol''s' AND id = {carols}"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE id = {carol_membership} AND role = 'owner'"
        ))
        .await,
        1
    );
    // The switcher lists only one's own workspaces.
    let page = alice.get_text(&format!("/w/{alices}")).await;
    assert!(page.contains("Alice&#39;s"));
    assert!(!page.contains("Carol&#39;s"));
}

async fn roles_limit_what_members_may_do(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = create_workspace(&alice, "Team").await;
    let link = app.invite(&alice, ws, "vera@example.com", "viewer").await;
    let vera = app.verified_user("Vera", "vera@example.com").await;
    vera.submit(&link, &[]).await;
    let link = app.invite(&alice, ws, "adam@example.com", "admin").await;
    let adam = app.verified_user("Adam", "adam@example.com").await;
    adam.submit(&link, &[]).await;

    let res = vera
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "x@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        vera.get(&format!("/w/{ws}/activity")).await.status(),
        StatusCode::FORBIDDEN
    );
    let page = vera.get_text(&format!("/w/{ws}/settings")).await;
    assert!(!page.contains("Invite someone"));

    // An admin cannot touch an owner nor make one.
    let alice_membership = membership_of(&app, ws, "alice@example.com").await;
    let vera_membership = membership_of(&app, ws, "vera@example.com").await;
    let res = adam
        .submit(&format!("/w/{ws}/members/{alice_membership}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = adam
        .submit(
            &format!("/w/{ws}/members/{vera_membership}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = adam
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "boss@example.com"), ("role", "owner")],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Only owners can invite owners.",
    )
    .await;
    let res = adam
        .submit(
            &format!("/w/{ws}/members/{vera_membership}/role"),
            &[("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Bad input on the invitation form is explained and kept.
    let res = alice
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "nonsense"), ("role", "emperor")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Enter an e-mail address like name@example.com."));
    assert!(html.contains("Choose owner, admin, editor or viewer."));
    assert!(html.contains("value=\"nonsense\""));
    let res = alice
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "vera@example.com"), ("role", "viewer")],
        )
        .await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "already a member").await;
    let res = alice
        .submit(&format!("/w/{ws}/rename"), &[("name", "   ")])
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Enter a workspace name.",
    )
    .await;
}

async fn an_invitation_is_for_its_address_and_works_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = create_workspace(&alice, "Team").await;
    let link = app.invite(&alice, ws, "bob@example.com", "editor").await;

    let eve = app.verified_user("Eve", "eve@example.com").await;
    let res = eve.submit(&link, &[]).await;
    expect_page(res, StatusCode::FORBIDDEN, "sent to another e-mail address").await;

    // An account with the invited address that has not confirmed it yet may accept: the link
    // reached that inbox, so accepting confirms the address too. Two accepts at once: one
    // membership.
    let bob = app.client();
    bob.sign_up("Bob", "bob@example.com", crate::helpers::PASSWORD)
        .await;
    app.mails().await;
    assert_eq!(
        bob.log_in("bob@example.com", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let token = bob.csrf().await;
    let form = [("csrf", token.as_str())];
    let (a, b) = tokio::join!(bob.post_raw(&link, &form), bob.post_raw(&link, &form));
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::SEE_OTHER), "{statuses:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = {ws}"
        ))
        .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'bob@example.com' AND email_verified_at IS NOT NULL").await, 1);
    let res = bob.submit(&link, &[]).await;
    expect_page(res, StatusCode::FORBIDDEN, "already been used").await;

    // A withdrawn invitation is dead.
    let link = app.invite(&alice, ws, "carol@example.com", "viewer").await;
    let id = app.count("SELECT MAX(id) FROM invitations").await;
    assert_eq!(
        alice
            .submit(&format!("/w/{ws}/invitations/{id}/revoke"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = app.client().get(&link).await;
    assert_eq!(res.status(), StatusCode::GONE);
}

async fn a_removed_admins_invitations_are_withdrawn(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = create_workspace(&alice, "Team").await;
    let link = app.invite(&alice, ws, "adam@example.com", "admin").await;
    let adam = app.verified_user("Adam", "adam@example.com").await;
    adam.submit(&link, &[]).await;
    let pending = app.invite(&adam, ws, "mallory@example.com", "admin").await;

    // What an admin sees: no controls over the owner, no "Owner" to give.
    let page = adam.get_text(&format!("/w/{ws}/settings")).await;
    assert!(!page.contains("aria-label=\"Remove Alice\""));
    assert!(!page.contains("<option value=\"owner\""));
    let page = alice.get_text(&format!("/w/{ws}/settings")).await;
    assert!(page.contains("aria-label=\"Remove Adam\""));
    assert!(page.contains("<option value=\"owner\""));
    assert!(page.contains("You are the only owner."));

    let adam_membership = membership_of(&app, ws, "adam@example.com").await;
    assert_eq!(
        alice
            .submit(&format!("/w/{ws}/members/{adam_membership}/remove"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mallory = app.verified_user("Mallory", "mallory@example.com").await;
    let res = mallory.submit(&pending, &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = {ws}"
        ))
        .await,
        1
    );
    // A page addressed with a mangled id is simply not there.
    assert_eq!(
        alice
            .submit(&format!("/w/{ws}/members/abc/remove"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
