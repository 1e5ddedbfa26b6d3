//! Notes on posts and in-app notifications, on both databases: a note mentions members (by
//! `@Name` or by the form's checkboxes), who are told in the app and by e-mail, never the
//! author or someone outside the workspace; who may write and delete notes; the unread count in
//! the navigation and marking read; nobody reads or marks another person's notifications; a
//! removed member's notifications of that workspace are gone; approvals notify in the app;
//! notes and notifications are in the export and go with a deleted account; and notes are team
//! collaboration, on the Professional plan.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page, location, post_input, spawn_app_with};
use domain::plans::PlanId;
use domain::{Platform, WorkspaceId};
use reqwest::StatusCode;
use services::posts::Intent;
use std::io::Read;

both_backends!(
    a_note_tells_the_members_it_mentions_in_the_app_and_by_mail,
    who_may_write_and_delete_notes,
    notifications_are_their_own_persons_only,
    a_removed_member_no_longer_sees_the_workspaces_notifications,
    approvals_notify_approvers_and_authors_in_the_app,
    notes_and_notifications_are_exported_and_go_with_the_account,
    notes_are_team_collaboration_on_the_professional_plan,
);

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";
const CY: &str = "cy@example.com";
const DEE: &str = "dee@example.com";

/// Ada Lovelace's workspace "Acme" with Bob Builder (editor) and Cy Viewer (viewer); Dee
/// Outsider, who has a workspace of her own; a draft of Ada's.
struct World {
    app: TestApp,
    ada: Client,
    bob: Client,
    cy: Client,
    dee: Client,
    ws: i64,
    dee_ws: i64,
    post: i64,
}

async fn world(backend: Backend, plans: bool) -> Option<World> {
    let app = spawn_app_with(backend, |s| {
        if plans {
            s.billing = Some(Default::default());
        }
    })
    .await?;
    let (ada, ws) = owner_with_workspace(&app, ADA).await;
    if plans {
        app.services
            .set_plan(WorkspaceId(ws), PlanId::Professional)
            .await
            .unwrap();
    }
    let bob = app.verified_user("Bob Builder", BOB).await;
    app.join(&ada, ws, BOB, "editor", &bob).await;
    let cy = app.verified_user("Cy Viewer", CY).await;
    app.join(&ada, ws, CY, "viewer", &cy).await;
    let dee = app.verified_user("Dee Outsider", DEE).await;
    let dee_ws = dee.new_workspace("Dee's").await;
    let x = app.connect_account(ws, Platform::X, "acme_x").await;
    let post = app
        .save_post(
            ADA,
            ws,
            post_input("Spring launch", &[x], Vec::new(), Intent::Draft),
        )
        .await;
    Some(World {
        app,
        ada,
        bob,
        cy,
        dee,
        ws,
        dee_ws,
        post,
    })
}

/// Adds a note to `post` of `ws` as `client`, ticking `notify` (user ids).
async fn add_note(
    client: &Client,
    ws: i64,
    post: i64,
    body: &str,
    notify: &[i64],
) -> reqwest::Response {
    let ids: Vec<String> = notify.iter().map(i64::to_string).collect();
    let mut fields = vec![("body", body)];
    for id in &ids {
        fields.push(("notify", id.as_str()));
    }
    client
        .submit(&format!("/w/{ws}/posts/{post}/notes"), &fields)
        .await
}

/// The id of the note a redirect after adding one points at (`…#note-{id}`).
fn note_of(res: &reqwest::Response) -> i64 {
    let to = location(res.headers());
    to.rsplit_once("#note-")
        .and_then(|(_, id)| id.parse().ok())
        .unwrap_or_else(|| panic!("no note in {to:?}"))
}

async fn notifications_of(app: &TestApp, email: &str, ws: i64) -> i64 {
    let user = app.user_id(email).await;
    app.count(&format!(
        "SELECT COUNT(*) FROM notifications WHERE user_id = {user} AND workspace_id = {ws}"
    ))
    .await
}

async fn unread_of(app: &TestApp, email: &str, ws: i64) -> i64 {
    let user = app.user_id(email).await;
    app.count(&format!(
        "SELECT COUNT(*) FROM notifications WHERE user_id = {user} AND workspace_id = {ws} \
         AND read_at IS NULL"
    ))
    .await
}

/// The navigation's unread badge on a page of `ws`, as `client` sees it.
async fn badge(client: &Client, ws: i64) -> Option<String> {
    let page = client.get_text(&format!("/w/{ws}/posts")).await;
    let marker = "id=\"unread-count\"><span class=\"sr-only\">unread: </span>";
    let at = page.find(marker)? + marker.len();
    Some(page[at..].split('<').next().unwrap_or_default().to_owned())
}

async fn a_note_tells_the_members_it_mentions_in_the_app_and_by_mail(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    let page = w.bob.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("id=\"no-notes\""), "{page}");
    let cy_id = app.user_id(CY).await;
    let ada_id = app.user_id(ADA).await;
    let bob_id = app.user_id(BOB).await;
    // The other members are offered to notify; Bob himself is not.
    assert!(page.contains(&format!("name=\"notify\" value=\"{cy_id}\"")));
    assert!(page.contains(&format!("name=\"notify\" value=\"{ada_id}\"")));
    assert!(!page.contains(&format!("name=\"notify\" value=\"{bob_id}\"")));
    let mails_before = app.mails().await.len();

    // Ada by `@Name` (in another case), Cy by the checkbox; Dee is no member and Bob wrote it.
    let res = add_note(
        &w.bob,
        ws,
        post,
        "@ada lovelace is the date right? cc @Dee Outsider and @Bob Builder",
        &[cy_id],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let note = note_of(&res);
    assert_eq!(
        location(res.headers()),
        format!("/w/{ws}/posts/{post}#note-{note}")
    );
    assert_eq!(notifications_of(app, ADA, ws).await, 1);
    assert_eq!(notifications_of(app, CY, ws).await, 1);
    assert_eq!(notifications_of(app, BOB, ws).await, 0, "not its author");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {}",
            app.user_id(DEE).await
        ))
        .await,
        0,
        "not someone outside the workspace"
    );
    let kind = app
        .text(&format!(
            "SELECT kind FROM notifications WHERE user_id = {ada_id}"
        ))
        .await;
    assert_eq!(kind, "mention");

    // By e-mail too, with the note and a link to it; nobody else is written to.
    let mails = app.mails().await;
    let new: Vec<_> = mails[mails_before..].iter().collect();
    assert_eq!(new.len(), 2, "{new:?}");
    for to in [ADA, CY] {
        let mail = new.iter().find(|m| m.to == to).expect("a mail");
        assert!(
            mail.subject.contains("Bob Builder mentioned you"),
            "{mail:?}"
        );
        assert!(mail.body.contains("is the date right?"), "{}", mail.body);
        assert!(mail.body.contains("“Spring launch”"), "{}", mail.body);
        assert!(
            mail.body
                .contains(&format!("{}/w/{ws}/posts/{post}#note-{note}", app.address)),
            "{}",
            mail.body
        );
    }

    // The note is on the post's page, with its author; the activity log has it.
    let page = w.ada.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains(&format!("id=\"note-{note}\"")), "{page}");
    assert!(page.contains("is the date right?"));
    assert!(page.contains("<strong>Bob Builder</strong>"));
    let logged = app
        .text(&format!(
            "SELECT summary FROM activity_log WHERE action = 'post.note_added' AND object_id = \
             {post}"
        ))
        .await;
    assert!(
        logged.contains("Spring launch") && logged.contains("Ada Lovelace"),
        "{logged}"
    );

    // An empty note, or a non-member ticked, is refused and nothing is added.
    expect_page(
        add_note(&w.bob, ws, post, "   ", &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Write the note first.",
    )
    .await;
    let dee_id = app.user_id(DEE).await;
    expect_page(
        add_note(&w.bob, ws, post, "For Dee", &[dee_id]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "is not a member of this workspace",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM post_notes").await,
        1,
        "only the first note"
    );
}

async fn who_may_write_and_delete_notes(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    // Viewers write notes too (they change nothing that is published).
    let res = add_note(&w.cy, ws, post, "Looks good to me", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cys = note_of(&res);
    let res = add_note(&w.bob, ws, post, "@Cy Viewer thanks", &[]).await;
    let bobs = note_of(&res);
    assert_eq!(notifications_of(app, CY, ws).await, 1);
    // Someone outside the workspace cannot see or write them.
    assert_eq!(
        w.dee.get(&format!("/w/{ws}/posts/{post}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        add_note(&w.dee, ws, post, "Hello", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    // A note of another workspace's post is not found.
    let dee_x = app.connect_account(w.dee_ws, Platform::X, "dee_x").await;
    let dees_post = app
        .save_post(
            DEE,
            w.dee_ws,
            post_input("Dee's own", &[dee_x], Vec::new(), Intent::Draft),
        )
        .await;
    assert_eq!(
        add_note(&w.bob, ws, dees_post, "Sneaky", &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Cy deletes her own note but not Bob's; the delete button is offered accordingly.
    let page = w.cy.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains(&format!("/notes/{cys}/delete")));
    assert!(!page.contains(&format!("/notes/{bobs}/delete")));
    expect_page(
        w.cy.submit(&format!("/w/{ws}/posts/{post}/notes/{bobs}/delete"), &[])
            .await,
        StatusCode::FORBIDDEN,
        "author, owners and admins can delete a note",
    )
    .await;
    let res =
        w.cy.submit(&format!("/w/{ws}/posts/{post}/notes/{cys}/delete"), &[])
            .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The owner deletes anyone's; what the note told goes with it.
    let res = w
        .ada
        .submit(&format!("/w/{ws}/posts/{post}/notes/{bobs}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 0);
    assert_eq!(notifications_of(app, CY, ws).await, 0);
    let logged = app
        .text(&format!(
            "SELECT summary FROM activity_log WHERE action = 'post.note_deleted' AND \
             actor_user_id = {} ",
            app.user_id(ADA).await
        ))
        .await;
    assert!(logged.contains("a note by Bob Builder"), "{logged}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'post.note_deleted'")
            .await,
        2
    );
    // A deleted post takes its notes and their notifications with it.
    let res = add_note(&w.bob, ws, post, "@Ada Lovelace last word", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(notifications_of(app, ADA, ws).await, 1);
    let res = w
        .ada
        .submit(
            &format!("/w/{ws}/posts/{post}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 0);
    assert_eq!(notifications_of(app, ADA, ws).await, 0);
}

async fn notifications_are_their_own_persons_only(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    assert_eq!(badge(&w.ada, ws).await, None, "nothing unread yet");
    let res = add_note(&w.bob, ws, post, "@Ada Lovelace please look", &[]).await;
    let note = note_of(&res);
    assert_eq!(badge(&w.ada, ws).await.as_deref(), Some("1"));
    assert_eq!(badge(&w.bob, ws).await, None);
    let ada_id = app.user_id(ADA).await;
    let mine = app
        .count(&format!(
            "SELECT id FROM notifications WHERE user_id = {ada_id}"
        ))
        .await;

    // Ada's list shows it, with who did it; Bob's does not.
    let list = w.ada.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(
        list.contains("Bob Builder mentioned you in a note on “Spring launch”"),
        "{list}"
    );
    assert!(list.contains(&format!("id=\"notification-{mine}\"")));
    let bobs_list = w.bob.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(!bobs_list.contains("mentioned you"), "{bobs_list}");
    assert!(bobs_list.contains("id=\"no-notifications\""));

    // Nobody else opens or marks it: Bob (a member) and Dee (not one) get "not found".
    for other in [&w.bob, &w.dee] {
        let res = other
            .submit(&format!("/w/{ws}/notifications/{mine}/open"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        w.dee.get(&format!("/w/{ws}/notifications")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Through her own workspace Dee reaches nothing of Ada's either.
    let res = w
        .dee
        .submit(&format!("/w/{}/notifications/{mine}/open", w.dee_ws), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = w
        .bob
        .submit(&format!("/w/{ws}/notifications/read"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(unread_of(app, ADA, ws).await, 1, "still unread for Ada");

    // Ada opens it: it is read, and she is on the note.
    let res = w
        .ada
        .submit(&format!("/w/{ws}/notifications/{mine}/open"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(res.headers()),
        format!("/w/{ws}/posts/{post}#note-{note}")
    );
    assert_eq!(unread_of(app, ADA, ws).await, 0);
    assert_eq!(badge(&w.ada, ws).await, None);

    // Two more, then all marked read at once.
    for text in ["@Ada Lovelace one", "@Ada Lovelace two"] {
        add_note(&w.bob, ws, post, text, &[]).await;
    }
    assert_eq!(badge(&w.ada, ws).await.as_deref(), Some("2"));
    let list = w.ada.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(list.contains("id=\"mark-all-read\""));
    assert_eq!(list.matches("notification-new").count(), 2, "{list}");
    let res = w
        .ada
        .submit(&format!("/w/{ws}/notifications/read"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{ws}/notifications"));
    assert_eq!(unread_of(app, ADA, ws).await, 0);
    assert_eq!(notifications_of(app, ADA, ws).await, 3, "kept, read");
}

async fn a_removed_member_no_longer_sees_the_workspaces_notifications(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    add_note(&w.bob, ws, post, "@Cy Viewer over to you", &[]).await;
    assert_eq!(notifications_of(app, CY, ws).await, 1);
    let (_, cy_membership) = app.member(CY, ws).await;
    let res = w
        .ada
        .submit(
            &format!("/w/{ws}/members/{}/remove", cy_membership.id.0),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(notifications_of(app, CY, ws).await, 0);
    assert_eq!(
        w.cy.get(&format!("/w/{ws}/notifications")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Mentioned after leaving, she is told nothing.
    let res = add_note(&w.bob, ws, post, "@Cy Viewer are you there?", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(notifications_of(app, CY, ws).await, 0);
    // The service counts nothing for a workspace she left, even were a row left behind.
    let cy_id = app.user_id(CY).await;
    app.exec(&format!(
        "INSERT INTO notifications (user_id, workspace_id, kind, summary, link, object_type, \
         object_id, created_at) VALUES ({cy_id}, {ws}, 'mention', 'left over', '/w/{ws}/posts', \
         'post', {post}, '2026-01-01 00:00:00+00:00')"
    ))
    .await;
    assert_eq!(
        app.services
            .unread_notifications(domain::UserId(cy_id), WorkspaceId(ws))
            .await
            .unwrap(),
        0
    );
    assert!(
        app.services
            .notifications(domain::UserId(cy_id), WorkspaceId(ws), None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn approvals_notify_approvers_and_authors_in_the_app(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws) = (&w.app, w.ws);
    let res = w
        .ada
        .submit(
            &format!("/w/{ws}/settings/approvals"),
            &[("required", "1"), ("approvers", "any_member")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let x = app
        .count(&format!(
            "SELECT id FROM social_accounts WHERE workspace_id = {ws}"
        ))
        .await;
    let when = app.local_in(BOB, ws, chrono::Duration::days(2)).await;
    let post = app
        .save_post(
            BOB,
            ws,
            post_input("Summer sale", &[x], Vec::new(), Intent::Schedule(when)),
        )
        .await;
    assert_eq!(
        app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
            .await,
        "pending_approval"
    );
    // Ada (who may approve) is told in the app; Cy (a viewer) and Bob (who sent it) are not.
    assert_eq!(notifications_of(app, ADA, ws).await, 1);
    assert_eq!(notifications_of(app, CY, ws).await, 0);
    assert_eq!(notifications_of(app, BOB, ws).await, 0);
    let list = w.ada.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(
        list.contains("Bob Builder sent a post for approval: “Summer sale”"),
        "{list}"
    );
    let asked = app
        .count(&format!(
            "SELECT id FROM notifications WHERE kind = 'approval_asked' AND user_id = {}",
            app.user_id(ADA).await
        ))
        .await;
    let res = w
        .ada
        .submit(&format!("/w/{ws}/notifications/{asked}/open"), &[])
        .await;
    assert_eq!(
        location(res.headers()),
        format!("/w/{ws}/posts/{post}#review")
    );

    // Ada asks for changes: Bob is told in the app.
    let revision = app
        .count(&format!(
            "SELECT CAST(revision AS BIGINT) FROM posts WHERE id = {post}"
        ))
        .await
        .to_string();
    let res = w
        .ada
        .submit(
            &format!("/w/{ws}/posts/{post}/review"),
            &[
                ("revision", revision.as_str()),
                ("decision", "changes_requested"),
                ("note", "Say which days"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(notifications_of(app, BOB, ws).await, 1);
    assert_eq!(
        app.text(&format!(
            "SELECT kind FROM notifications WHERE user_id = {}",
            app.user_id(BOB).await
        ))
        .await,
        "post_reviewed"
    );
    let list = w.bob.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(
        list.contains("Ada Lovelace asked for changes to your post “Summer sale”"),
        "{list}"
    );
    assert_eq!(badge(&w.bob, ws).await.as_deref(), Some("1"));
}

/// The rows of `data/<table>.jsonl` for each of `tables` in `client`'s export, built now.
async fn exported_rows(
    app: &TestApp,
    client: &Client,
    tables: &[&str],
) -> Vec<Vec<serde_json::Value>> {
    let res = client.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    let id = app.count("SELECT MAX(id) FROM data_exports").await;
    let raw = client
        .get(&format!("/settings/privacy/export/{id}/download"))
        .await
        .bytes()
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw.to_vec())).unwrap();
    tables
        .iter()
        .map(|table| {
            let mut text = String::new();
            archive
                .by_name(&format!("data/{table}.jsonl"))
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        })
        .collect()
}

async fn notes_and_notifications_are_exported_and_go_with_the_account(backend: Backend) {
    let Some(w) = world(backend, false).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    add_note(
        &w.ada,
        ws,
        post,
        "@Bob Builder and @Cy Viewer: Tuesday?",
        &[],
    )
    .await;
    add_note(&w.bob, ws, post, "@Ada Lovelace Tuesday works", &[]).await;

    // Bob's export holds the workspace's notes and his own notification, not Cy's or Ada's.
    let mut rows = exported_rows(app, &w.bob, &["post_notes", "notifications"]).await;
    let notifications = rows.pop().unwrap();
    let notes = rows.pop().unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    let bob_id = app.user_id(BOB).await;
    assert_eq!(notifications[0]["user_id"], bob_id);
    assert_eq!(notifications[0]["kind"], "mention");

    // Bob deletes his account: his notifications go; Ada keeps the workspace's notes, his
    // without his id, and her note no longer names him.
    let res = w.bob.delete_own_account(BOB).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {bob_id} OR actor_id = {bob_id}"
        ))
        .await,
        0
    );
    assert_eq!(
        notifications_of(app, ADA, ws).await,
        1,
        "Ada keeps what she was told"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_notes WHERE author_id = {bob_id}"
        ))
        .await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 2);
    let ada_note = app
        .text("SELECT body FROM post_notes WHERE body LIKE '%Tuesday?%'")
        .await;
    assert!(!ada_note.contains("Bob Builder"), "{ada_note}");
    let page = w.ada.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("<strong>A former member</strong>"), "{page}");
    let list = w.ada.get_text(&format!("/w/{ws}/notifications")).await;
    assert!(
        list.contains("A former member mentioned you in a note"),
        "{list}"
    );
    assert!(app.residue_of(BOB).await.is_empty());

    // Ada deletes hers, the workspace's only owner: everything of it goes.
    app.delete_account(app.user_id(ADA).await).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE workspace_id = {ws}"
        ))
        .await,
        0
    );
}

async fn notes_are_team_collaboration_on_the_professional_plan(backend: Backend) {
    let Some(w) = world(backend, true).await else {
        return;
    };
    let (app, ws, post) = (&w.app, w.ws, w.post);
    let res = add_note(&w.bob, ws, post, "@Ada Lovelace on Professional", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    expect_page(
        add_note(&w.bob, ws, post, "@Ada Lovelace on Starter", &[]).await,
        StatusCode::PAYMENT_REQUIRED,
        "Team collaboration is not part of the Starter plan. The Professional plan lifts this.",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 1);
    assert_eq!(notifications_of(app, ADA, ws).await, 1);
    // What was written stays readable, and its author may still delete it.
    let page = w.ada.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("on Professional"));
    let note = app.count("SELECT id FROM post_notes").await;
    let res = w
        .bob
        .submit(&format!("/w/{ws}/posts/{post}/notes/{note}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM post_notes").await, 0);
}
