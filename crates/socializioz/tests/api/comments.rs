//! The comments workspace on both databases, against the simulator: comments read once however
//! often they are read, labelled by the workspace's rules and filtered; replies, hides and
//! deletes that reach the platform; two members answering at once; a platform's refusal kept
//! as a draft with its reason; an AI suggestion that is only a draft; who may do what; the plan;
//! and the purge of quiet conversations.
use crate::analytics::connect;
use crate::both_backends;
use crate::connect::{at_platform, callback_path, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page, jpeg, spawn_app_with};
use domain::plans::PlanId;
use domain::{Platform, WorkspaceId};
use reqwest::StatusCode;
use socializioz::config::ai::AiSettings;

both_backends!(
    comments_are_read_once_labelled_and_filtered,
    replies_hides_and_deletes_reach_the_platform,
    an_ai_suggestion_is_a_draft_that_only_a_person_sends,
    the_comments_workspace_is_a_plan_feature_for_editors_of_the_workspace,
    quiet_conversations_are_purged_and_the_policy_says_so,
    two_members_sending_at_once_post_one_reply,
    replies_wait_for_an_approver_when_the_workspace_says_so,
);

/// An app whose platforms and AI are one simulator, with the comments' own arrivals off.
pub(crate) async fn setup(
    backend: Backend,
    plans: bool,
) -> Option<(TestApp, sim::Simulator, sim::Running)> {
    let sim = sim::Simulator::new();
    sim.set_comments_auto(false);
    sim.set_messages_auto(false);
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = running.base_url.clone();
    let app = spawn_app_with(backend, |s| {
        s.platforms.simulator = Some(base.clone());
        s.ai = Some(AiSettings {
            base_url: format!("{base}/openai/v1"),
            api_key: Some("sk-test-key".to_owned().into()),
            model: "sim-writer-1".to_owned(),
            moderation_model: Some("omni-moderation-latest".to_owned()),
            name: Some("Test AI".to_owned()),
            ..AiSettings::default()
        });
        if plans {
            s.billing = Some(Default::default());
        }
    })
    .await?;
    Some((app, sim, running))
}

/// Connects the first Facebook Page the simulator's login offers: the scopes asked, and the
/// account's id.
async fn connect_page(app: &TestApp, client: &Client, ws: i64) -> (String, i64) {
    let authorize = start_platform(client, ws, "facebook").await;
    let scope: String = form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let back = at_platform(&authorize, "allow").await;
    let page = client
        .get(&callback_path(app, &back))
        .await
        .text()
        .await
        .unwrap();
    let choice = crate::sandbox::input_values(&page, "choice_state");
    let pages = crate::sandbox::input_values(&page, "account");
    let res = crate::sandbox::choose(client, &choice[0], &pages[..1]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = app
        .count(&format!(
            "SELECT id FROM social_accounts WHERE workspace_id = {ws} AND platform = 'facebook'"
        ))
        .await;
    (scope, id)
}

pub(crate) async fn switch(client: &Client, ws: i64, on: bool) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/comments/switch"),
            &[("on", if on { "1" } else { "0" })],
        )
        .await
}

/// Publishes `body` to `account` now; the platform's id of the post and its target.
async fn publish(
    app: &TestApp,
    client: &Client,
    ws: i64,
    account: i64,
    body: &str,
) -> (String, i64) {
    // With a photo: Instagram takes no post without one, and only JPEG.
    let picture = app
        .upload_media(client, ws, "picture.jpg", jpeg(40, 30, body.len() as u8))
        .await;
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", body),
                ("account", &account.to_string()),
                ("media", &picture.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    app.worker().run_until_empty().await.unwrap();
    let target = app
        .count(&format!(
            "SELECT MAX(id) FROM post_targets WHERE account_id = {account}"
        ))
        .await;
    let id = app
        .text(&format!(
            "SELECT platform_post_id FROM post_targets WHERE id = {target}"
        ))
        .await;
    (id, target)
}

/// Makes every published post's comments due and runs the reads.
async fn read_now(app: &TestApp) {
    app.exec("UPDATE post_targets SET comments_read_at = NULL")
        .await;
    app.exec(
        "UPDATE jobs SET run_at = created_at WHERE kind = 'read_comments' AND state = 'queued'",
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
}

/// The id of the stored comment whose platform id is `platform_id`.
async fn stored(app: &TestApp, platform_id: &str) -> i64 {
    app.count(&format!(
        "SELECT id FROM comments WHERE platform_id = '{platform_id}'"
    ))
    .await
}

async fn reply(client: &Client, ws: i64, comment: i64, text: &str, seen: u64) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/comments/{comment}/reply"),
            &[
                ("reply", text),
                ("seen", &seen.to_string()),
                ("action", "send"),
            ],
        )
        .await
}

async fn comments_are_read_once_labelled_and_filtered(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    // Connected before the comments workspace: Facebook's comment permission was not asked.
    let (scope, early) = connect_page(&app, &ada, ws).await;
    assert!(!scope.contains("pages_read_user_content"), "{scope}");
    let off = ada.get_text(&format!("/w/{ws}/comments")).await;
    assert!(off.contains("The comments workspace is off"), "{off}");
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'comments.turned_on'")
            .await,
        1
    );
    let page = ada.get_text(&format!("/w/{ws}/comments")).await;
    assert!(
        page.contains("Connect it again") && page.contains("pages_read_user_content"),
        "{page}"
    );
    // Connected now: Instagram is asked for its comment permission too; TikTok is counts only.
    let (scope, instagram) = connect(&app, &ada, ws, "instagram").await;
    assert!(scope.contains("comments"), "{scope}");
    let _ = connect(&app, &ada, ws, "tiktok").await;
    let page = ada.get_text(&format!("/w/{ws}/comments")).await;
    assert!(page.contains("API gives apps no comments"), "{page}");

    let (media, _) = publish(&app, &ada, ws, instagram, "Our spring collection").await;
    let (_, early_target) = publish(&app, &ada, ws, early, "Also on Facebook").await;
    let question = sim.add_comment(
        Platform::Instagram,
        &media,
        "grace_h",
        "Where can I ORDER one?",
    );
    let complaint = sim.add_comment(
        Platform::Instagram,
        &media,
        "linus_t",
        "Mine came broken, I want a refund",
    );
    read_now(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM comments").await, 2);
    // The account without the permission is not read.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_targets WHERE id = {early_target} AND comments_read_at IS NOT NULL"
        ))
        .await,
        0
    );
    let grace = stored(&app, &question).await;
    assert_eq!(
        app.text(&format!("SELECT labels FROM comments WHERE id = {grace}"))
            .await,
        "question,order"
    );
    // Read again and again: still one row each.
    read_now(&app).await;
    read_now(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM comments").await, 2);

    let all = ada.get_text(&format!("/w/{ws}/comments")).await;
    assert!(all.contains("grace_h") && all.contains("linus_t"), "{all}");
    assert!(
        all.contains("Our spring collection"),
        "grouped under its post: {all}"
    );
    let complaints = ada
        .get_text(&format!("/w/{ws}/comments?label=complaint"))
        .await;
    assert!(
        complaints.contains("linus_t") && !complaints.contains("grace_h"),
        "{complaints}"
    );
    let facebook_only = ada
        .get_text(&format!("/w/{ws}/comments?platform=facebook"))
        .await;
    assert!(
        facebook_only.contains("No comment matches"),
        "{facebook_only}"
    );

    // A rule of the workspace's own labels what is kept at once.
    let res = ada
        .submit(
            &format!("/w/{ws}/comments/rules"),
            &[("label", "Urgent"), ("keywords", "refund, asap")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let linus = stored(&app, &complaint).await;
    assert_eq!(
        app.text(&format!("SELECT labels FROM comments WHERE id = {linus}"))
            .await,
        "complaint,urgent"
    );
    let bad = ada
        .submit(
            &format!("/w/{ws}/comments/rules"),
            &[("label", "Empty"), ("keywords", " , ")],
        )
        .await;
    expect_page(
        bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        "at least one keyword",
    )
    .await;

    // Assigned to Ada, then only hers; done, then out of the open list.
    let res = ada
        .submit(
            &format!("/w/{ws}/comments/{linus}/assign"),
            &[(
                "assignee",
                &app.count("SELECT id FROM users WHERE email = 'ada@example.com'")
                    .await
                    .to_string(),
            )],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mine = ada.get_text(&format!("/w/{ws}/comments?mine=1")).await;
    assert!(
        mine.contains("linus_t") && !mine.contains("grace_h"),
        "{mine}"
    );
    let res = ada
        .submit(&format!("/w/{ws}/comments/{linus}/done"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let open = ada.get_text(&format!("/w/{ws}/comments")).await;
    assert!(!open.contains("linus_t"), "{open}");
    let done = ada.get_text(&format!("/w/{ws}/comments?show=done")).await;
    assert!(done.contains("linus_t"), "{done}");

    // Deleted at the platform: marked so at the next read, and no longer listed.
    sim.delete_comment_at(Platform::Instagram, &question);
    read_now(&app).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE id = {grace} AND gone_at IS NOT NULL"
        ))
        .await,
        1
    );

    // A comment with a NUL character in it (PostgreSQL's text cannot hold one) is kept
    // without it, and the reads go on.
    let odd = sim.add_comment(Platform::Instagram, &media, "nul_user", "odd\u{0}text");
    read_now(&app).await;
    let stored_odd = stored(&app, &odd).await;
    assert_eq!(
        app.text(&format!(
            "SELECT body FROM comments WHERE id = {stored_odd}"
        ))
        .await,
        "oddtext"
    );
}

async fn replies_hides_and_deletes_reach_the_platform(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let bob = app.verified_user("Bob Editor", "bob@example.com").await;
    app.join(&ada, ws, "bob@example.com", "editor", &bob).await;
    let (_, facebook) = connect_page(&app, &ada, ws).await;
    let (_, instagram) = connect(&app, &ada, ws, "instagram").await;
    let (post, _) = publish(&app, &ada, ws, facebook, "Opening hours this week").await;
    let asked = sim.add_comment(
        Platform::Facebook,
        &post,
        "Grace Hopper",
        "Are you open on Sunday?",
    );
    read_now(&app).await;
    let grace = stored(&app, &asked).await;

    // Bob and Ada both opened the comment (no reply yet); Bob sends first, Ada's is refused
    // with who answered, and kept as her draft. The platform has one reply.
    let res = reply(&bob, ws, grace, "Yes, from 10 to 4.", 0).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = reply(&ada, ws, grace, "We are open on Sunday!", 0).await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Bob Editor answered this comment while you were writing",
    )
    .await;
    let ours: Vec<_> = sim
        .comments_on(&post)
        .into_iter()
        .filter(|c| c.by_account)
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0].text, "Yes, from 10 to 4.");
    assert_eq!(ours[0].parent_id.as_deref(), Some(asked.as_str()));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comment_replies WHERE comment_id = {grace} AND state = 'draft' \
             AND body = 'We are open on Sunday!'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE id = {grace} AND replied_at IS NOT NULL AND done"
        ))
        .await,
        1
    );
    // The reply, read back, is the same row (one comment by the account, not two).
    read_now(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM comments WHERE by_account")
            .await,
        1
    );
    let page = ada.get_text(&format!("/w/{ws}/comments/{grace}")).await;
    assert!(
        page.contains("Yes, from 10 to 4.") && page.contains("We are open on Sunday!"),
        "{page}"
    );

    // Hidden and shown again, at the platform.
    let res = ada
        .submit(&format!("/w/{ws}/comments/{grace}/hide"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let at_platform = |id: &str| {
        sim.comments_on(&post)
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
    };
    assert!(at_platform(&asked).hidden);

    // Instagram takes no reply to a hidden comment: its reason is shown and the text kept.
    let (media, _) = publish(&app, &ada, ws, instagram, "New in").await;
    let rude = sim.add_comment(Platform::Instagram, &media, "troll_99", "boring");
    read_now(&app).await;
    let troll = stored(&app, &rude).await;
    let res = ada
        .submit(&format!("/w/{ws}/comments/{troll}/hide"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = reply(&ada, ws, troll, "Sorry to hear that", 0).await;
    let page = expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "Instagram refused").await;
    assert!(
        page.contains("Sorry to hear that"),
        "the text is still in the box: {page}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comment_replies WHERE comment_id = {troll} AND state = 'draft' \
             AND error IS NOT NULL"
        ))
        .await,
        1
    );
    assert!(sim.comments_on(&media).iter().all(|c| !c.by_account));

    // Deleted at the platform, kept here as deleted until the purge.
    let res = ada
        .submit(&format!("/w/{ws}/comments/{troll}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        sim.comments_on(&media)
            .iter()
            .any(|c| c.id == rude && c.deleted)
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE id = {troll} AND gone_at IS NOT NULL"
        ))
        .await,
        1
    );
    // Every step is in the activity log.
    for action in ["comment.replied", "comment.hidden", "comment.deleted"] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM activity_log WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action}"
        );
    }
}

async fn an_ai_suggestion_is_a_draft_that_only_a_person_sends(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(
        ada.submit(&format!("/w/{ws}/ai/switch"), &[("on", "1")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let (_, x) = connect(&app, &ada, ws, "x").await;
    let (tweet, _) = publish(&app, &ada, ws, x, "We ship to Norway now").await;
    let asked = sim.add_comment(Platform::X, &tweet, "grace_hopper", "Do you ship to Oslo?");
    read_now(&app).await;
    let grace = stored(&app, &asked).await;
    // X bills the reply read, the post itself and the reply's author.
    assert!(
        app.count("SELECT CAST(SUM(count) AS BIGINT) FROM plan_usage WHERE counter = 'x_reads'")
            .await
            >= 3
    );

    let res = ada
        .submit(&format!("/w/{ws}/comments/{grace}/suggest"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let draft = app
        .text(&format!(
            "SELECT body FROM comment_replies WHERE comment_id = {grace} AND suggested AND state = 'draft'"
        ))
        .await;
    assert!(!draft.trim().is_empty());
    // Nothing was posted, and the comment still needs a reply.
    assert!(sim.comments_on(&tweet).iter().all(|c| !c.by_account));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE id = {grace} AND replied_at IS NULL"
        ))
        .await,
        1
    );
    // The provider got the texts, never who wrote the comment.
    let chats: Vec<String> = sim
        .openai_requests()
        .into_iter()
        .filter(|r| r.get("messages").is_some())
        .map(|r| r.to_string())
        .collect();
    let last = chats.last().expect("a chat request");
    assert!(last.contains("Do you ship to Oslo?"), "{last}");
    assert!(!last.contains("grace_hopper"), "{last}");
    // The draft is in the reply box; the person edits and sends it.
    let page = ada.get_text(&format!("/w/{ws}/comments/{grace}")).await;
    let start = draft
        .split(['<', '>', '&', '"', '\''])
        .next()
        .unwrap_or_default();
    let box_text = page.split("id=\"f-reply\"").nth(1).unwrap_or_default();
    assert!(
        !start.trim().is_empty()
            && box_text.contains(start)
            && page.contains("began as an AI suggestion"),
        "{page}"
    );
    let res = reply(&ada, ws, grace, "Yes, Oslo too: 3 days.", 0).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ours: Vec<_> = sim
        .comments_on(&tweet)
        .into_iter()
        .filter(|c| c.by_account)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].text, "Yes, Oslo too: 3 days.");
}

async fn the_comments_workspace_is_a_plan_feature_for_editors_of_the_workspace(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, true).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let res = switch(&ada, ws, true).await;
    let page = expect_page(res, StatusCode::PAYMENT_REQUIRED, "Starter").await;
    assert!(page.to_lowercase().contains("comments"), "{page}");
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    // A team (Professional has the seats).
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let viewer = app.verified_user("Val Viewer", "val@example.com").await;
    app.join(&ada, ws, "val@example.com", "viewer", &viewer)
        .await;
    let (_, facebook) = connect_page(&app, &ada, ws).await;
    let (post, _) = publish(&app, &ada, ws, facebook, "Hello").await;
    let asked = sim.add_comment(Platform::Facebook, &post, "Grace Hopper", "Hi!");
    read_now(&app).await;
    let grace = stored(&app, &asked).await;
    // A viewer reads, and may not answer.
    let page = viewer.get_text(&format!("/w/{ws}/comments/{grace}")).await;
    assert!(
        page.contains("Viewers can read comments but not answer them"),
        "{page}"
    );
    let res = reply(&viewer, ws, grace, "Hello!", 0).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for (action, fields) in [
        ("hide", vec![("on", "1")]),
        ("delete", vec![]),
        ("done", vec![("on", "1")]),
        ("assign", vec![("assignee", "")]),
        ("suggest", vec![]),
    ] {
        let res = viewer
            .submit(&format!("/w/{ws}/comments/{grace}/{action}"), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let res = viewer
        .submit(&format!("/w/{ws}/comments/switch"), &[("on", "0")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Someone else's workspace does not know the comment.
    let (eve, other) = owner_with_workspace(&app, "eve@example.com").await;
    app.services
        .set_plan(WorkspaceId(other), PlanId::Starter)
        .await
        .unwrap();
    assert_eq!(
        switch(&eve, other, true).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        eve.get(&format!("/w/{other}/comments/{grace}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = reply(&eve, other, grace, "Hi", 0).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Back on the free plan: nothing is answered from here any more, and the refusal names
    // the plan that has it.
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Free)
        .await
        .unwrap();
    let res = reply(&ada, ws, grace, "Hello!", 0).await;
    expect_page(res, StatusCode::PAYMENT_REQUIRED, "Starter").await;
    let res = ada
        .submit(&format!("/w/{ws}/comments/{grace}/hide"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(
        sim.comments_on(&post)
            .iter()
            .all(|c| !c.by_account && !c.hidden)
    );
}

async fn quiet_conversations_are_purged_and_the_policy_says_so(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let res = ada
        .submit(
            &format!("/w/{ws}/comments/retention"),
            &[("kept_days", "3")],
        )
        .await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "between 7 and 365").await;
    let res = ada
        .submit(
            &format!("/w/{ws}/comments/retention"),
            &[("kept_days", "10")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, facebook) = connect_page(&app, &ada, ws).await;
    let (quiet_post, quiet) = publish(&app, &ada, ws, facebook, "Old news").await;
    let (busy_post, busy) = publish(&app, &ada, ws, facebook, "Still talked about").await;
    sim.add_comment(Platform::Facebook, &quiet_post, "Grace Hopper", "Nice");
    sim.add_comment(Platform::Facebook, &busy_post, "Alan Turing", "Old remark");
    sim.add_comment(Platform::Facebook, &busy_post, "Joan Clarke", "New remark");
    read_now(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM comments").await, 3);
    let grace = app
        .count("SELECT id FROM comments WHERE author_name = 'Grace Hopper'")
        .await;
    let res = ada
        .submit(
            &format!("/w/{ws}/comments/{grace}/reply"),
            &[("reply", "Thanks"), ("action", "draft")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Eleven days on for the quiet conversation and for the busy one's first remark.
    let old = (chrono::Utc::now() - chrono::Duration::days(11)).to_rfc3339();
    app.exec(&format!(
        "UPDATE comments SET written_at = '{old}' WHERE target_id = {quiet} OR author_name = 'Alan Turing'"
    ))
    .await;
    let report = app
        .services
        .run_retention(chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(report.comments_purged, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE target_id = {quiet}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM comment_replies").await,
        0,
        "the reply written to it goes with it"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comments WHERE target_id = {busy}"
        ))
        .await,
        2,
        "a conversation that is not quiet is kept whole"
    );
    // The Privacy Policy says how long, from the code.
    let policy = app.client().get_text("/legal/privacy").await;
    assert!(
        policy.contains("Comments and replies under a workspace's published posts")
            && policy.contains("90 days unless its owners choose between 7 days and 365 days"),
        "{policy}"
    );
}

/// An owner finds a question under a published post in the comments workspace, asks the AI
/// for a draft, edits it and sends it; the platform has the edited reply, once, and the
/// comment no longer needs one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replying_to_a_comment_in_the_browser() {
    let Some((app, sim, _running)) = setup(Backend::Sqlite, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(
        ada.submit(&format!("/w/{ws}/ai/switch"), &[("on", "1")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let (_, instagram) = connect(&app, &ada, ws, "instagram").await;
    let (media, _) = publish(&app, &ada, ws, instagram, "Sourdough is back").await;
    let asked = sim.add_comment(
        Platform::Instagram,
        &media,
        "grace_h",
        "Is it there on Sundays?",
    );
    read_now(&app).await;
    crate::browser::run_in(app, "comments", true, async |b, app| {
        let base = &app.address;
        b.log_in(base, "ada@example.com", "Acme").await?;
        b.click(&format!("nav.subnav a[href='/w/{ws}/comments']"))
            .await?;
        b.wait_for_heading("Comments").await?;
        let listed = b.text(".comment-thread").await?;
        anyhow::ensure!(
            listed.contains("Is it there on Sundays?") && listed.contains("question"),
            "{listed}"
        );
        b.screenshot("comments").await?;
        b.click(".comment-thread a[href*='/comments/']").await?;
        b.wait_for_heading("Comment by grace_h").await?;
        b.click("#suggest-reply").await?;
        // The same page comes back, with the draft in the box.
        crate::browser::wait_until(
            b,
            "const box = document.querySelector('#f-reply'); \
             return !!box && box.value.trim().length > 0",
        )
        .await?;
        let drafted: String = b
            .eval("return document.querySelector('#f-reply').value")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        anyhow::ensure!(!drafted.trim().is_empty(), "no draft in the box");
        anyhow::ensure!(
            sim.comments_on(&media).iter().all(|c| !c.by_account),
            "the AI's draft was posted"
        );
        b.screenshot("suggested").await?;
        b.fill("#f-reply", "Yes, every Sunday from eight.").await?;
        b.click("#send-reply").await?;
        crate::browser::wait_until(
            b,
            "return document.body.innerText.includes('The reply is posted.')",
        )
        .await?;
        let ours: Vec<_> = sim
            .comments_on(&media)
            .into_iter()
            .filter(|c| c.by_account)
            .collect();
        anyhow::ensure!(
            ours.len() == 1
                && ours[0].text == "Yes, every Sunday from eight."
                && ours[0].parent_id.as_deref() == Some(asked.as_str()),
            "{ours:?}"
        );
        b.screenshot("replied").await?;
        Ok(())
    })
    .await;
}

async fn two_members_sending_at_once_post_one_reply(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, false).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let bob = app.verified_user("Bob Editor", "bob@example.com").await;
    app.join(&ada, ws, "bob@example.com", "editor", &bob).await;
    let (_, facebook) = connect_page(&app, &ada, ws).await;
    let (post, _) = publish(&app, &ada, ws, facebook, "Opening hours").await;
    let asked = sim.add_comment(Platform::Facebook, &post, "Grace Hopper", "Open today?");
    let other = sim.add_comment(Platform::Facebook, &post, "Alan Turing", "And tomorrow?");
    read_now(&app).await;
    let grace = stored(&app, &asked).await;

    // Both send at the same moment, each having seen no reply: one reply is posted, the other
    // is told (whichever came second) and keeps their text as a draft.
    let (a, b) = tokio::join!(
        reply(&ada, ws, grace, "Yes, until six.", 0),
        reply(&bob, ws, grace, "Open till 6!", 0)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]
    );
    let ours: Vec<_> = sim
        .comments_on(&post)
        .into_iter()
        .filter(|c| c.by_account)
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comment_replies WHERE comment_id = {grace} AND state = 'draft'"
        ))
        .await,
        1
    );

    // A reply left `sending` by a worker that stopped long ago does not hold the comment for
    // ever: it turns unconfirmed, and the one who sends is told a reply may be there.
    let alan = stored(&app, &other).await;
    let bob_id = app
        .count("SELECT id FROM users WHERE email = 'bob@example.com'")
        .await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    app.exec(&format!(
        "INSERT INTO comment_replies (workspace_id, comment_id, author_id, body, state, \
         suggested, created_at, sent_at) VALUES ({ws}, {alan}, {bob_id}, 'Yes!', 'sending', \
         false, '{long_ago}', '{long_ago}')"
    ))
    .await;
    let res = reply(&ada, ws, alan, "Yes, from nine.", 0).await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Bob Editor answered this comment while you were writing",
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comment_replies WHERE comment_id = {alan} AND state = 'unconfirmed'"
        ))
        .await,
        1
    );
    // Having read the conversation again, Ada sends.
    let res = reply(&ada, ws, alan, "Yes, from nine.", 1).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The same person sending twice (a double click) posts once.
    let (first, second) = tokio::join!(
        reply(&bob, ws, alan, "See you there", 2),
        reply(&bob, ws, alan, "See you there", 2)
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]
    );
    let under_alan: Vec<_> = sim
        .comments_on(&post)
        .into_iter()
        .filter(|c| c.by_account && c.parent_id.as_deref() == Some(other.as_str()))
        .collect();
    assert_eq!(under_alan.len(), 2, "{under_alan:?}");
}

async fn replies_wait_for_an_approver_when_the_workspace_says_so(backend: Backend) {
    let Some((app, sim, _running)) = setup(backend, true).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    assert_eq!(switch(&ada, ws, true).await.status(), StatusCode::SEE_OTHER);
    let bob = app.verified_user("Bob Editor", "bob@example.com").await;
    app.join(&ada, ws, "bob@example.com", "editor", &bob).await;
    let (_, facebook) = connect_page(&app, &ada, ws).await;
    let (post, _) = publish(&app, &ada, ws, facebook, "Opening hours").await;
    let first = sim.add_comment(Platform::Facebook, &post, "Grace Hopper", "Open today?");
    let second = sim.add_comment(Platform::Facebook, &post, "Alan Turing", "Parking?");
    read_now(&app).await;
    let grace = stored(&app, &first).await;
    let alan = stored(&app, &second).await;
    // The rules are set once the post is out (the owner's own posts would wait too).
    let res = ada
        .submit(
            &format!("/w/{ws}/settings/approvals"),
            &[
                ("required", "1"),
                ("approvers", "owners_and_admins"),
                ("own_posts", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let on = [("on", "1")];
    let path = format!("/w/{ws}/comments/reply-approvals");
    assert_eq!(bob.submit(&path, &on).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(ada.submit(&path, &on).await.status(), StatusCode::SEE_OTHER);
    let ours = |sim: &sim::Simulator| {
        sim.comments_on(&post)
            .into_iter()
            .filter(|c| c.by_account)
            .map(|c| c.text)
            .collect::<Vec<_>>()
    };

    // Bob's reply waits; nothing goes out; the approvers are told.
    let res = reply(&bob, ws, grace, "Yes, until six.", 0).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(ours(&sim).is_empty());
    let pending = app
        .count(&format!(
            "SELECT id FROM comment_replies WHERE comment_id = {grace} AND state = 'pending'"
        ))
        .await;
    let ada_id = app
        .count("SELECT id FROM users WHERE email = 'ada@example.com'")
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = {ada_id} AND \
             object_type = 'comment_reply' AND object_id = {pending} AND read_at IS NULL"
        ))
        .await,
        1
    );
    // Bob may not approve it; Ada may, and it is sent, once.
    let decide = |who: &Client, comment: i64, reply: i64, decision: &'static str| {
        let path = format!("/w/{ws}/comments/{comment}/replies/{reply}/decide");
        let who = who.clone();
        async move { who.submit(&path, &[("decision", decision)]).await }
    };
    assert_eq!(
        decide(&bob, grace, pending, "approve").await.status(),
        StatusCode::FORBIDDEN
    );
    let page = ada.get_text(&format!("/w/{ws}/comments/{grace}")).await;
    assert!(page.contains("Approve and send"), "{page}");
    assert_eq!(
        decide(&ada, grace, pending, "approve").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(ours(&sim), ["Yes, until six."]);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM comment_replies WHERE id = {pending} AND state = 'sent' \
             AND reviewed_by = {ada_id}"
        ))
        .await,
        1
    );
    let res = decide(&ada, grace, pending, "approve").await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no longer waits for approval",
    )
    .await;
    assert_eq!(ours(&sim).len(), 1);

    // Sent back: a draft again, with who returned it; nothing goes out.
    let res = reply(&bob, ws, alan, "There is a car park.", 0).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let waiting = app
        .count(&format!(
            "SELECT id FROM comment_replies WHERE comment_id = {alan} AND state = 'pending'"
        ))
        .await;
    assert_eq!(
        decide(&ada, alan, waiting, "back").await.status(),
        StatusCode::SEE_OTHER
    );
    let page = bob.get_text(&format!("/w/{ws}/comments/{alan}")).await;
    assert!(page.contains("Ada Lovelace sent this reply back"), "{page}");
    assert_eq!(ours(&sim).len(), 1);
}
