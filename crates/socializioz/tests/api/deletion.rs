//! Account deletion, on both databases: an account with rows in every table the data map ties
//! to a person is deleted at once, leaving no residue (checked by the same command an operator
//! runs), the workspaces it shared are handed over, a crash midway resumes, and platform access
//! is revoked first.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, sandbox, start_platform};
use crate::fixtures::Team;
use crate::helpers::{Backend, Client, PASSWORD, TestApp, location, png, post_input, spawn_app};
use crate::platform::run_admin;
use domain::{Platform, UserId};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait};
use services::datamap::{Subject, count_rows, owned};
use services::deletion::{Residue, Step, Whom};
use services::deletion_requests::{ReceivedOn, RecordedBy};
use services::posts::Intent;
use std::collections::BTreeMap;
use store::datamap::{Category, Owner, TABLES};
use store::entities::states::ForgetKind;

both_backends!(
    deleting_an_account_removes_everything_and_leaves_no_residue,
    a_deletion_interrupted_midway_resumes_and_the_account_never_signs_in_again,
    deleting_revokes_platform_access_before_anything_is_deleted,
    a_short_name_is_replaced_only_where_the_person_was_a_member,
);

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const ACCESS: &str = "sim-access-deletion-5e1f0a";

/// The rows the data map ties to `subject`, table by table.
async fn rows_of(app: &TestApp, subject: &Subject) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        if let Some(condition) = owned(table, subject) {
            out.insert(
                table.table,
                count_rows(&app.services.db, table.table, condition)
                    .await
                    .unwrap(),
            );
        }
    }
    out
}

struct Population {
    ada: Client,
    ada_id: i64,
    /// Ada's own workspace (she is its only owner; Bob is an editor there).
    studio: i64,
    /// Bob's workspace, which Ada co-owns.
    shop: i64,
    /// Carol's workspace: nobody else's business.
    carol_ws: i64,
    carol_id: i64,
}

/// Ada, with rows in every table the data map ties to a person; Bob, who shares workspaces
/// with her; Carol, who has nothing to do with her.
async fn populate(app: &TestApp) -> Population {
    let Team {
        owner: ada,
        member: bob,
        ws: studio,
    } = app
        .team(
            ("Ada Lovelace", ADA),
            "Ada Studio",
            ("Bob Builder", BOB),
            "editor",
        )
        .await;
    let carol = app.verified_user("Carol Jones", CAROL).await;
    let ada_id = app.user_id(ADA).await;
    let carol_id = app.user_id(CAROL).await;

    let shop = bob.new_workspace("Bob Shop").await;
    app.join(&bob, shop, ADA, "owner", &ada).await;
    // A pending invitation Ada sent.
    let res = ada
        .submit(
            &format!("/w/{studio}/invitations"),
            &[("email", "dave@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let carol_ws = carol.new_workspace("Carol Corner").await;
    // A second browser Ada signed in from, which the product now knows.
    let res = app.client().log_in(ADA, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "Ada's log-in on her phone"
    );
    // A notice waiting for Ada: a workspace she belonged to was deleted while she was away.
    app.exec(&format!(
        "INSERT INTO notices (user_id, kind, subject, occurred_at, created_at) VALUES \
         ({ada_id}, 'workspace_deleted', 'Old Team', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
    ))
    .await;

    // Connected accounts with sealed tokens.
    let x = app.connect_account(studio, Platform::X, "ada_x").await;
    app.store_tokens(x, ACCESS, &format!("{ACCESS}-refresh"))
        .await;
    let shop_x = app.connect_account(shop, Platform::X, "bob_shop").await;
    let carol_x = app.connect_account(carol_ws, Platform::X, "carol_x").await;

    // A campaign, media, and posts in several states, one published (with its attempt).
    ada.new_campaign(studio, "Spring", "Flowers", ("2030-03-01", "2030-03-31"))
        .await;
    let picture = app
        .upload_media(&ada, studio, "ada.png", png(40, 30, 7))
        .await;
    let _second = app
        .upload_media(&ada, studio, "ada-2.png", png(40, 30, 7))
        .await;
    app.save_post(
        ADA,
        studio,
        post_input("Ada's draft", &[x], vec![picture], Intent::Draft),
    )
    .await;
    app.save_post(
        ADA,
        studio,
        post_input("Ada now", &[x], vec![picture], Intent::PublishNow),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM publish_attempts").await,
        1,
        "published once"
    );
    let local = app.local_in(ADA, studio, chrono::Duration::days(1)).await;
    app.save_post(
        ADA,
        studio,
        post_input("Ada later", &[x], Vec::new(), Intent::Schedule(local)),
    )
    .await;
    // Ada's work in Bob's shop, which Bob keeps (it goes with her by default).
    let shop_picture = app
        .upload_media(&ada, shop, "shop.png", png(40, 30, 7))
        .await;
    app.save_post(
        ADA,
        shop,
        post_input(
            "Ada wrote this for the shop",
            &[shop_x],
            vec![shop_picture],
            Intent::Draft,
        ),
    )
    .await;
    // Bob's post in the shop, written with an AI suggestion Ada took: Bob keeps it, and her id
    // goes from it.
    let bobs = app
        .save_post(
            BOB,
            shop,
            post_input(
                "Bob's AI-assisted post",
                &[shop_x],
                Vec::new(),
                Intent::Draft,
            ),
        )
        .await;
    app.exec(&format!(
        "UPDATE posts SET ai_provider = 'OpenAI', ai_model = 'gpt-4o-mini', \
         ai_accepted_by = {ada_id} WHERE id = {bobs}"
    ))
    .await;
    // Ada reviewed and approved Bob's post (the shop keeps the decision, without her id), and
    // a post in her own studio.
    app.exec(&format!(
        "UPDATE posts SET reviewed_by = {ada_id}, approved_by = {ada_id}, submitted_by = \
         {ada_id}, review_note = 'Fine' WHERE id = {bobs}"
    ))
    .await;
    let studio_post = app
        .count(&format!(
            "SELECT MIN(id) FROM posts WHERE workspace_id = {studio}"
        ))
        .await;
    for (ws, post) in [(shop, bobs), (studio, studio_post)] {
        app.exec(&format!(
            "INSERT INTO post_reviews (workspace_id, post_id, revision, reviewer_id, decision, \
             note, created_at) VALUES ({ws}, {post}, 1, {ada_id}, 'approved', 'Fine', \
             '2026-01-01 00:00:00+00:00')"
        ))
        .await;
    }
    // Client preview links Ada made (the shop keeps its link, without her id), and what a
    // client said through the studio's.
    for (ws, post, token) in [
        (shop, bobs, "shop-link"),
        (studio, studio_post, "studio-link"),
    ] {
        app.exec(&format!(
            "INSERT INTO preview_links (workspace_id, created_by, token_hash, post_id, \
             time_zone, expires_at, client_may_respond, created_at) VALUES ({ws}, {ada_id}, \
             '{token}', {post}, 'UTC', '2099-01-01 00:00:00+00:00', true, \
             '2026-01-01 00:00:00+00:00')"
        ))
        .await;
    }
    app.exec(&format!(
        "INSERT INTO preview_feedback (workspace_id, link_id, post_id, name, kind, comment, \
         created_at) SELECT {studio}, id, {studio_post}, 'Dana', 'comment', 'Nice', \
         '2026-01-01 00:00:00+00:00' FROM preview_links WHERE token_hash = 'studio-link'"
    ))
    .await;
    // Notes: Ada's on her studio's post, and Bob's on his shop post mentioning her (the shop
    // keeps it, without her name); what each was told in the app, Bob's caused by her.
    let bob_id = app.user_id(BOB).await;
    for sql in [
        format!(
            "INSERT INTO post_notes (workspace_id, post_id, author_id, body, created_at) VALUES \
             ({studio}, {studio_post}, {ada_id}, 'Ready on Monday', '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO post_notes (workspace_id, post_id, author_id, body, created_at) VALUES \
             ({shop}, {bobs}, {bob_id}, '@Ada Lovelace please check', \
             '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO notifications (user_id, workspace_id, actor_id, kind, summary, link, \
             object_type, object_id, created_at) VALUES ({ada_id}, {studio}, {bob_id}, \
             'mention', 'mentioned you in a note', '/w/{studio}/posts/{studio_post}', 'post', \
             {studio_post}, '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO notifications (user_id, workspace_id, actor_id, kind, summary, link, \
             object_type, object_id, created_at) VALUES ({bob_id}, {shop}, {ada_id}, \
             'post_reviewed', 'approved your post', '/w/{shop}/posts/{bobs}', 'post', {bobs}, \
             '2026-01-01 00:00:00+00:00')"
        ),
    ] {
        app.exec(&sql).await;
    }
    // Images Ada asked AI for, in her studio and in Bob's shop (which keeps its own, without
    // her id), and a shop file she reviewed.
    for ws in [studio, shop] {
        app.exec(&format!(
            "INSERT INTO media_generations (workspace_id, requested_by, kind, provider, model, \
             prompt, options, state, progress, created_at, updated_at) VALUES ({ws}, {ada_id}, \
             'image', 'OpenAI', 'gpt-image-1', 'A lighthouse', '{{}}', 'failed', 10, \
             '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        ))
        .await;
    }
    // Analytics of the studio's X account and of one of its posts, and an answer it came in.
    let studio_target = app
        .count(&format!(
            "SELECT MIN(t.id) FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE \
             p.workspace_id = {studio}"
        ))
        .await;
    for sql in [
        format!(
            "INSERT INTO account_metrics (workspace_id, account_id, metric, span, day, value, \
             read_at) VALUES ({studio}, {x}, 'followers', 'lifetime', '2026-01-01', 120, \
             '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO post_metrics (workspace_id, account_id, target_id, metric, day, value, \
             read_at) VALUES ({studio}, {x}, {studio_target}, 'views', '2026-01-01', 40, \
             '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO metric_answers (workspace_id, account_id, call, body, read_at) VALUES \
             ({studio}, {x}, 'GET /2/users/me', '{{}}', '2026-01-01 00:00:00+00:00')"
        ),
        // A comment under the studio's post (someone else's words), assigned to Ada, with the
        // reply she wrote, and the studio's labelling rule.
        format!(
            "INSERT INTO comments (workspace_id, account_id, target_id, platform_id, \
             author_name, body, by_account, hidden, written_at, seen_at, labels, assigned_to, \
             done) VALUES ({studio}, {x}, {studio_target}, '1900', 'Grace Hopper', 'Lovely', \
             false, false, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', '', \
             {ada_id}, false)"
        ),
        format!(
            "INSERT INTO comment_replies (workspace_id, comment_id, author_id, body, state, \
             suggested, created_at) SELECT {studio}, id, {ada_id}, 'Thank you', 'draft', false, \
             '2026-01-01 00:00:00+00:00' FROM comments WHERE platform_id = '1900'"
        ),
        format!(
            "INSERT INTO comment_rules (workspace_id, label, keywords, created_at) VALUES \
             ({studio}, 'question', '?', '2026-01-01 00:00:00+00:00')"
        ),
        // A direct-message conversation of the studio's account, with a reply Ada sent.
        format!(
            "INSERT INTO conversations (workspace_id, account_id, platform_id, \
             person_platform_id, person_name, last_at, person_last_at, seen_at) VALUES \
             ({studio}, {x}, 'c-1', 'p-1', 'grace_h', '2026-01-01 00:00:00+00:00', \
             '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        ),
        format!(
            "INSERT INTO direct_messages (workspace_id, conversation_id, platform_id, \
             by_account, body, sent_at, sent_by, state) SELECT {studio}, id, 'm-1', true, \
             'Hello', '2026-01-01 00:00:00+00:00', {ada_id}, 'sent' FROM conversations WHERE \
             platform_id = 'c-1'"
        ),
    ] {
        app.exec(&sql).await;
    }
    app.exec(&format!(
        "UPDATE media_items SET provenance = 'ai', reviewed_by = {ada_id}, \
         reviewed_at = '2026-01-01 00:00:00+00:00' WHERE id = {shop_picture}"
    ))
    .await;
    // A month's plan counter of the studio (written by scheduling when plans are on).
    {
        use sea_orm::{ActiveModelTrait, Set};
        store::entities::plan_usage::ActiveModel {
            workspace_id: Set(studio),
            month: Set("2026-12".to_owned()),
            counter: Set("posts_per_month".to_owned()),
            count: Set(3),
            updated_at: Set(services::now()),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a plan counter");
        // Its PayPal subscription, billing details and an invoice (written by the checkout,
        // the billing page and a payment when plans are sold).
        let now = services::now();
        let ada_id = app.user_id(ADA).await;
        store::entities::subscription::ActiveModel {
            workspace_id: Set(studio),
            started_by: Set(Some(ada_id)),
            request_id: Set("fixture-checkout-0123456789".to_owned()),
            paypal_id: Set(Some("I-FIXTURE".to_owned())),
            plan: Set("starter".to_owned()),
            interval: Set("month".to_owned()),
            status: Set(store::entities::states::SubscriptionStatus::Cancelled),
            change_approved: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a subscription");
        store::entities::billing_details::ActiveModel {
            workspace_id: Set(studio),
            name: Set("Lovelace Studio".to_owned()),
            address: Set("12 St James's Square\nLondon".to_owned()),
            country: Set("GB".to_owned()),
            vat_id: Set(None),
            updated_by: Set(Some(ada_id)),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("billing details");
        store::entities::invoice::ActiveModel {
            workspace_id: Set(studio),
            seq: Set(1),
            number: Set("INV-000001".to_owned()),
            issued_at: Set(now),
            paypal_sale_id: Set("SALE-FIXTURE".to_owned()),
            paid_at: Set(now),
            description: Set("Starter plan".to_owned()),
            currency: Set("USD".to_owned()),
            net_minor: Set(2_900),
            tax_minor: Set(0),
            gross_minor: Set(2_900),
            tax_rate_bp: Set(None),
            tax_name: Set("VAT".to_owned()),
            seller_name: Set("Seller".to_owned()),
            seller_address: Set("Somewhere".to_owned()),
            seller_country: Set("DE".to_owned()),
            seller_vat_id: Set(None),
            buyer_name: Set("Lovelace Studio".to_owned()),
            buyer_address: Set("12 St James's Square\nLondon".to_owned()),
            buyer_country: Set(Some("GB".to_owned())),
            buyer_vat_id: Set(None),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("an invoice");
        store::entities::brand_profile::ActiveModel {
            workspace_id: Set(studio),
            name: Set("Lovelace Studio".to_owned()),
            about: Set("Engines".to_owned()),
            audience: Set(String::new()),
            voice: Set("Precise".to_owned()),
            words_to_use: Set(String::new()),
            words_to_avoid: Set(String::new()),
            examples: Set(String::new()),
            updated_by: Set(Some(ada_id)),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a brand profile");
        // Ada's AI suggestions, in her workspace and in the one she shares with Bob.
        for ws in [studio, shop] {
            store::entities::ai_generation::ActiveModel {
                workspace_id: Set(ws),
                user_id: Set(ada_id),
                kind: Set("write".to_owned()),
                provider: Set("OpenAI".to_owned()),
                model: Set("gpt-4o-mini".to_owned()),
                prompt_tokens: Set(10),
                completion_tokens: Set(20),
                output: Set(
                    r#"[{"target":"body","text":"Engines at work","note":null}]"#.to_owned(),
                ),
                accepted_at: Set(Some(now)),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&app.services.db)
            .await
            .expect("an AI generation");
        }
        // Her conversation with the agent in the shop, a message and a proposal.
        let conversation = store::entities::agent_conversation::ActiveModel {
            workspace_id: Set(shop),
            user_id: Set(ada_id),
            title: Set("What is scheduled?".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a conversation");
        store::entities::agent_message::ActiveModel {
            conversation_id: Set(conversation.id),
            role: Set("user".to_owned()),
            content: Set("What is scheduled?".to_owned()),
            tool_calls: Set(None),
            tool_call_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a message");
        store::entities::agent_proposal::ActiveModel {
            conversation_id: Set(conversation.id),
            workspace_id: Set(shop),
            user_id: Set(ada_id),
            tool: Set("create_campaign".to_owned()),
            arguments: Set(r#"{"name":"Winter","description":""}"#.to_owned()),
            summary: Set("Create the campaign “Winter”".to_owned()),
            state: Set("pending".to_owned()),
            outcome: Set(None),
            decided_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.services.db)
        .await
        .expect("a proposal");
    }
    // Carol's own things.
    app.upload_media(&carol, carol_ws, "carol.png", png(40, 30, 7))
        .await;
    app.save_post(
        CAROL,
        carol_ws,
        post_input("Carol's post", &[carol_x], Vec::new(), Intent::Draft),
    )
    .await;

    // A connection in progress, and a change of address waiting for its link (with its
    // e-mail still queued for Ada).
    let session = app
        .count(&format!(
            "SELECT MAX(id) FROM sessions WHERE user_id = {ada_id}"
        ))
        .await;
    app.exec(&format!(
        "INSERT INTO oauth_states (state_hash, user_id, session_id, workspace_id, platform, scopes, expires_at) \
         VALUES ('hash-of-a-state', {ada_id}, {session}, {studio}, 'x', 'tweet.write', '2099-01-01 00:00:00+00:00')"
    ))
    .await;
    // A request e-mailed to the privacy address, and an export of her data, built.
    let today = chrono::Utc::now().date_naive();
    app.services
        .record_deletion_request(
            &domain::Email::parse(ADA).unwrap(),
            ReceivedOn::parse(&today.to_string(), today).unwrap(),
            RecordedBy::Cli,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let ada_user = store::entities::user::Entity::find_by_id(ada_id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    app.services.request_export(&ada_user).await.unwrap();
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM data_exports WHERE user_id = {ada_id} AND state = 'ready'"
        ))
        .await,
        1
    );
    assert!(files_under(app, &format!("user-{ada_id}")) > 0);
    // An invitation to her address from Carol, its e-mail not sent yet.
    let res = carol
        .submit(
            &format!("/w/{carol_ws}/invitations"),
            &[("email", ADA), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ada
        .submit(
            "/settings/email",
            &[("email", "ada.new@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "change of address");
    Population {
        ada,
        ada_id,
        studio,
        shop,
        carol_ws,
        carol_id,
    }
}

fn subject_of(user: i64, workspaces: Vec<i64>, address: &str) -> Subject {
    Subject {
        users: vec![user],
        workspaces,
        addresses: vec![address.to_owned()],
        ..Default::default()
    }
}

/// Files in the local media store under `prefix`.
fn files_under(app: &TestApp, prefix: &str) -> usize {
    let dir = app.data.0.join("media").join(prefix.trim_end_matches('/'));
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// The residue check's findings for `email`, as "place (count)".
async fn residue(app: &TestApp, email: &str) -> Vec<String> {
    app.residue_of(email)
        .await
        .into_iter()
        .map(|f| format!("{} ({})", f.place, f.count))
        .collect()
}

async fn deleting_an_account_removes_everything_and_leaves_no_residue(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let p = populate(&app).await;
    let ada_subject = subject_of(p.ada_id, vec![p.studio], ADA);
    let carol_subject = subject_of(p.carol_id, vec![p.carol_ws], CAROL);
    let before = rows_of(&app, &ada_subject).await;
    // The fixture touches every table the data map ties to a person (the deletion record is
    // made by the deletion itself): a table added later fails here until it is populated.
    for table in TABLES {
        if table.owner == Owner::Nobody
            || table.category == Category::System
            || table.table == "account_deletions"
        {
            continue;
        }
        assert!(
            before.get(table.table).copied().unwrap_or(0) > 0,
            "the fixture has no {} row of the person being deleted",
            table.table
        );
    }
    let carol_before = rows_of(&app, &carol_subject).await;
    assert!(files_under(&app, &format!("ws-{}", p.studio)) >= 4);
    // Carol's invitation has not been e-mailed yet: the message to Ada's address waits.
    let waiting = format!("SELECT COUNT(*) FROM jobs WHERE recipient = '{ADA}'");
    assert_eq!(
        app.count(&format!("{waiting} AND payload LIKE '%Carol Corner%'"))
            .await,
        1,
        "the invitation e-mail waits"
    );

    // The page says what goes and what stays, from the data map.
    let page = p.ada.get_text("/settings/account/delete").await;
    for expected in [
        "Ada Studio",
        "Bob Shop",
        "@ada_x",
        "Kept, and why",
        "proof of consent",
        "Backups",
        "30 days, then purged",
        "Legal records",
        "Anonymized aggregates",
    ] {
        assert!(page.contains(expected), "the page names {expected}");
    }
    // A wrong password or a wrong address deletes nothing.
    let res = p
        .ada
        .submit(
            "/settings/account/delete",
            &[("password", "not my password"), ("confirm", ADA)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = p
        .ada
        .submit(
            "/settings/account/delete",
            &[("password", PASSWORD), ("confirm", "ada@example.org")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.user_id(ADA).await, p.ada_id);

    let res = p.ada.delete_own_account(ADA).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // She had posts and files in Bob's shop, and did not ask to leave them: they went too.
    assert_eq!(location(res.headers()), "/account-deleted?kept=deleted");

    // Gone at once: every row of Ada and of her own workspace; she cannot sign in.
    let after = rows_of(&app, &ada_subject).await;
    for (table, n) in &after {
        let kept = store::datamap::classify(table)
            .is_some_and(|t| matches!(t.deletion, store::datamap::OnDeletion::Retain(_)));
        if !kept {
            assert_eq!(
                *n, 0,
                "{table} still holds {n} row(s) of the deleted account"
            );
        }
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = {}",
            p.ada_id
        ))
        .await,
        0
    );
    let res = p.ada.get("/settings").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "her browser is signed out"
    );
    let res = app.client().log_in(ADA, PASSWORD).await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER, "she cannot sign in");
    assert_eq!(files_under(&app, &format!("ws-{}", p.studio)), 0);
    assert_eq!(
        files_under(&app, &format!("user-{}", p.ada_id)),
        0,
        "her export went too"
    );
    // Proof of consent stays, detached from her.
    assert!(
        app.count("SELECT COUNT(*) FROM consent_ledger WHERE user_id IS NULL")
            .await
            > 0
    );

    // Nothing of anyone else changed (except her invitation to Ada's address, which went with
    // Ada); Bob keeps his shop, without the post and the file Ada made there.
    let mut carol_expected = carol_before.clone();
    *carol_expected.get_mut("invitations").unwrap() -= 1;
    assert_eq!(rows_of(&app, &carol_subject).await, carol_expected);
    assert!(files_under(&app, &format!("ws-{}", p.carol_ws)) >= 2);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE workspace_id = {} AND body = 'Ada wrote this for the shop'",
            p.shop
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM media_items WHERE workspace_id = {}",
            p.shop
        ))
        .await,
        0
    );
    assert_eq!(files_under(&app, &format!("ws-{}", p.shop)), 0);
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {} AND actor_name = 'Former member' AND actor_user_id IS NULL",
            p.shop
        ))
        .await
            > 0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE actor_name = 'Ada Lovelace'")
            .await,
        0
    );
    // Nor does any kept summary mention her ("invited ada@example.com as Owner").
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE summary LIKE '%{ADA}%' OR summary LIKE '%Ada Lovelace%'"
        ))
        .await,
        0
    );
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {} AND summary LIKE '%invited Former member%'",
            p.shop
        ))
        .await
            > 0,
        "the shop keeps the record that someone was invited"
    );
    // The shop keeps Bob's note that mentioned her, without her name, and what Bob was told
    // of her decision, without her id.
    assert_eq!(
        app.text(&format!(
            "SELECT body FROM post_notes WHERE workspace_id = {}",
            p.shop
        ))
        .await,
        "@Former member please check"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE workspace_id = {} AND actor_id IS NULL",
            p.shop
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE LOWER(email) = '{ADA}'"
        ))
        .await,
        0,
        "Carol's invitation to Ada's address went with her"
    );
    // The request e-mailed to us for her account is fulfilled, not left open to remind.
    assert_eq!(
        app.text("SELECT state FROM deletion_requests").await,
        "confirmed"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM deletion_requests WHERE closed_at IS NULL OR email IS NOT NULL"
        )
        .await,
        0
    );

    // The receipt went to her address, and nothing else did after she deleted the account:
    // Carol's invitation e-mail was withdrawn with the invitation. Bob was told about both
    // workspaces.
    assert_eq!(app.count(&waiting).await, 0);
    let mails = app.mails().await;
    assert!(
        !mails
            .iter()
            .any(|m| m.to == ADA && m.body.contains("Carol Corner")),
        "an invitation was e-mailed to the deleted address"
    );
    let receipt = mails
        .iter()
        .find(|m| m.to == ADA && m.subject.contains("deleted"))
        .expect("a receipt");
    for expected in [
        "Ada Studio",
        "Bob Shop",
        "X @ada_x",
        "Workspace and usage",
        "Media assets",
        "Backups",
        "30 days, then purged",
        "Legal records",
        "Anonymized aggregates",
        "Consent records",
        "/help/revoke-access",
    ] {
        assert!(
            receipt.body.contains(expected),
            "the receipt names {expected}:\n{}",
            receipt.body
        );
    }
    assert!(
        mails
            .iter()
            .any(|m| m.to == BOB && m.subject.contains("was deleted"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.to == BOB && m.subject.contains("deleted their account"))
    );

    // The operator's residue check finds nothing, by address or by the user id's hash.
    assert_eq!(residue(&app, ADA).await, Vec::<String>::new());
    let hash = app
        .services
        .forget_hash(ForgetKind::User, &p.ada_id.to_string());
    match app.services.residue(Whom::UserHash(hash)).await.unwrap() {
        Residue::Checked { findings, .. } => assert!(findings.is_empty(), "{findings:?}"),
        other => panic!("{other:?}"),
    }
    let (ok, out, err) = run_admin(&app, &["admin", "privacy", "residue", "--email", ADA]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("No residue"), "{out}");
    let finished = app.text("SELECT receipt FROM account_deletions").await;
    assert!(
        !finished.contains("ada") && !finished.contains("Ada"),
        "{finished}"
    );

    // The check can fail: a row naming the deleted workspace, and a file under its prefix.
    app.exec(&format!(
        "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, workspace_id, created_at, updated_at) \
         VALUES ('publish', '{{}}', 'queued', '2000-01-01 00:00:00+00:00', 0, 5, {}, '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00')",
        p.studio
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, recipient, created_at, updated_at) \
         VALUES ('send_email', '{{}}', 'queued', '2000-01-01 00:00:00+00:00', 0, 5, '{ADA}', '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00')",
    ))
    .await;
    let dir = app.data.0.join("media").join(format!("ws-{}", p.studio));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("left-behind.png"), b"x").unwrap();
    let found = residue(&app, ADA).await;
    assert_eq!(
        found,
        vec![
            "jobs.workspace_id (1)",
            "jobs.recipient (1)",
            "media store (1)"
        ]
    );
    let (ok, out, _) = run_admin(&app, &["admin", "privacy", "residue", "--email", ADA]);
    assert!(!ok && out.contains("jobs.workspace_id"), "{out}");
}

/// A name is not unique and may be short: kept text is rid of it only in the workspaces the
/// person belonged to (an address, being unique, everywhere).
async fn a_short_name_is_replaced_only_where_the_person_was_a_member(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    const AL: &str = "al@example.com";
    let Team { ws: shop, .. } = app
        .team(("Bob Builder", BOB), "Bob Shop", ("Al", AL), "editor")
        .await;
    let carol = app.verified_user("Carol Jones", CAROL).await;
    let corner = carol.new_workspace("Carol Corner").await;
    for (ws, summary) in [
        (shop, "Al approved the plan"),
        (corner, "Always ready, totally calm"),
        (corner, "wrote to al@example.com"),
    ] {
        app.exec(&format!(
            "INSERT INTO activity_log (workspace_id, actor_name, action, object_type, summary, created_at) \
             VALUES ({ws}, 'Someone', 'note', 'note', '{summary}', '2026-01-01 00:00:00+00:00')"
        ))
        .await;
    }
    let id = app
        .services
        .begin_account_deletion(UserId(app.user_id(AL).await), services::deletion::Via::App)
        .await
        .unwrap();
    app.services.run_account_deletion(id).await.unwrap();

    let summary = |ws: i64, like: &str| {
        format!(
            "SELECT summary FROM activity_log WHERE workspace_id = {ws} AND summary LIKE '{like}'"
        )
    };
    assert_eq!(
        app.text(&summary(shop, "%approved the plan")).await,
        "Former member approved the plan"
    );
    assert_eq!(
        app.text(&summary(corner, "%ready%")).await,
        "Always ready, totally calm",
        "a workspace Al never belonged to was rewritten"
    );
    assert_eq!(
        app.text(&summary(corner, "wrote to%")).await,
        "wrote to Former member"
    );
}

async fn a_deletion_interrupted_midway_resumes_and_the_account_never_signs_in_again(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ada_id = app.user_id(ADA).await;
    let studio = ada.new_workspace("Ada Studio").await;
    app.upload_media(&ada, studio, "a.png", png(40, 30, 7))
        .await;
    assert!(files_under(&app, &format!("ws-{studio}")) > 0);

    let id = app
        .services
        .begin_account_deletion(UserId(ada_id), services::deletion::Via::App)
        .await
        .unwrap();
    // Asking again while it runs, twice at once, gives the same deletion.
    let (again, twice) = tokio::join!(
        app.services
            .begin_account_deletion(UserId(ada_id), services::deletion::Via::App),
        app.services
            .begin_account_deletion(UserId(ada_id), services::deletion::Via::App)
    );
    assert_eq!((again.unwrap(), twice.unwrap()), (id, id));
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 1);
    let row = || async {
        store::entities::account_deletion::Entity::find_by_id(id)
            .one(&app.services.db)
            .await
            .unwrap()
            .unwrap()
    };
    // The first two steps, then the process "dies".
    for step in [Step::Revoke, Step::Receipt] {
        app.services
            .deletion_step(&row().await, step)
            .await
            .unwrap();
    }
    assert_eq!(row().await.step.as_str(), "rows");
    // Half-way, the account cannot be used: no session, no sign-in, no password reset.
    assert_eq!(ada.get("/settings").await.status(), StatusCode::SEE_OTHER);
    assert_ne!(
        app.client().log_in(ADA, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = app
        .client()
        .submit("/password/forgot", &[("email", ADA)])
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    assert_eq!(
        app.mails()
            .await
            .iter()
            .filter(|m| m.to == ADA && m.subject.contains("Reset"))
            .count(),
        0
    );
    // The rows go, then another "crash" before the files are removed.
    app.services
        .deletion_step(&row().await, Step::Rows)
        .await
        .unwrap();
    assert_eq!(row().await.step.as_str(), "objects");
    assert_eq!(
        row().await.email,
        None,
        "the address is erased with the rows"
    );
    assert!(files_under(&app, &format!("ws-{studio}")) > 0);

    // The job left behind finishes it when its time comes.
    app.exec(&format!(
        "UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = '{}'",
        <services::deletion::DeletionRun as services::queue::Payload>::KIND
    ))
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(row().await.step.as_str(), "done");
    assert_eq!(files_under(&app, &format!("ws-{studio}")), 0);
    assert_eq!(residue(&app, ADA).await, Vec::<String>::new());
    // Exactly one receipt, sent before the address was erased.
    assert_eq!(
        app.mails()
            .await
            .iter()
            .filter(|m| m.to == ADA && m.subject.contains("deleted"))
            .count(),
        1
    );
}

async fn deleting_revokes_platform_access_before_anything_is_deleted(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let client = app.verified_user("Ada Lovelace", ADA).await;
    let ws = client.new_workspace("Ada Studio").await;
    let authorize = start_platform(&client, ws, "x").await;
    let back = at_platform(&authorize, "allow").await;
    let res = client.get(&callback_path(&app, &back)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = app.count("SELECT id FROM social_accounts").await;
    let held = app.tokens_of(account).await;
    let sim_base = authorize.split("/x/").next().unwrap().to_owned();
    let me = |token: String| {
        let url = format!("{sim_base}/x/2/users/me");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let token = secrecy::ExposeSecret::expose_secret(&held.access).to_owned();
    assert_eq!(me(token.clone()).await, StatusCode::OK);

    let res = client.delete_own_account(ADA).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        me(token).await,
        StatusCode::UNAUTHORIZED,
        "X no longer accepts it"
    );
    let receipt = app.last_mail_to(ADA).await;
    assert!(
        receipt
            .body
            .contains("X @acme: access revoked at the platform"),
        "{}",
        receipt.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 0);
    let db = &app.services.db;
    let left = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM social_accounts",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(left, 0);
    // The public help page lists each platform's steps.
    let help = app.client().get_text("/help/revoke-access").await;
    for p in Platform::ALL {
        assert!(
            help.contains(&p.revoke_steps().join(" › ")),
            "{}",
            p.label()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_in_the_browser() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    crate::browser::run_in(app, "delete-account", true, async |b, app| {
        use anyhow::ensure;
        let base = &app.address;
        let client = app.verified_user("Ada Lovelace", ADA).await;
        let ws = client.new_workspace("Ada Studio").await;
        app.upload_media(&client, ws, "ada.png", png(40, 30, 7))
            .await;

        b.log_in(base, ADA, "Ada Studio").await?;

        b.goto(&format!("{base}/settings")).await?;
        b.click("nav.tabs a[href='/settings/account/delete']")
            .await?;
        b.wait_for_heading("Settings").await?;
        let page = b.body_text().await?;
        ensure!(
            page.contains("Ada Studio"),
            "the workspace to be deleted is named"
        );
        ensure!(page.contains("Kept, and why"), "what is kept is shown");
        b.screenshot("delete-account").await?;
        // A typo in the address: nothing happens, the field says why.
        b.fill("#f-password", PASSWORD).await?;
        b.fill("#f-confirm", "ada@example.org").await?;
        b.click("form[action='/settings/account/delete'] button[type=submit]")
            .await?;
        b.wait_for_heading("Settings").await?;
        ensure!(
            b.text("#f-confirm-error")
                .await?
                .contains("exactly as shown"),
            "no message next to the confirmation"
        );
        ensure!(app.user_id(ADA).await > 0, "nothing was deleted");

        b.fill("#f-password", PASSWORD).await?;
        b.fill("#f-confirm", ADA).await?;
        b.click("form[action='/settings/account/delete'] button[type=submit]")
            .await?;
        b.wait_for_heading("Your account is deleted").await?;
        b.screenshot("account-deleted").await?;
        ensure!(
            app.count("SELECT COUNT(*) FROM users").await == 0,
            "the account is gone"
        );
        // Signed out: her settings now ask to log in.
        b.goto(&format!("{base}/settings")).await?;
        b.wait_for_heading("Log in").await?;
        Ok(())
    })
    .await;
}

both_backends!(a_mail_server_outage_does_not_hold_a_deletion_back);

/// A mail server that refuses everything (the outbox an earlier configuration left stays).
struct Outage(Option<providers::mail::Outbox>);

#[async_trait::async_trait]
impl providers::mail::Mailer for Outage {
    async fn send(&self, _: &providers::mail::Email) -> Result<(), providers::mail::MailError> {
        Err(providers::mail::MailError::Transient(
            "connection refused".into(),
        ))
    }

    fn describe(&self) -> String {
        "a mail server that is down".into()
    }

    fn outbox(&self) -> Option<providers::mail::Outbox> {
        self.0.clone()
    }
}

async fn a_mail_server_outage_does_not_hold_a_deletion_back(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ada_id = app.user_id(ADA).await;
    ada.new_workspace("Ada Studio").await;
    let mut down = app.services.clone();
    down.mailer = std::sync::Arc::new(Outage(app.services.mailer.outbox()));
    let id = down
        .begin_account_deletion(UserId(ada_id), services::deletion::Via::App)
        .await
        .unwrap();
    down.run_account_deletion(id).await.unwrap();
    // Everything is gone although the receipt could not be sent...
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(residue(&app, ADA).await, Vec::<String>::new());
    // ...and the receipt waits in the queue, to go out once the mail server is back.
    let receipt = app.last_mail_to(ADA).await;
    assert!(receipt.subject.contains("deleted"), "{}", receipt.subject);
}

/// A restore that cannot read the current database does not know who was deleted after the
/// backup: it refuses unless the operator says so.
#[tokio::test]
async fn a_restore_that_cannot_read_the_forget_list_refuses_unless_told() {
    let data = crate::helpers::TempDir::new();
    let backup = data.0.join("socializioz-20261101T000000.000Z-sqlite.szbak");
    std::fs::write(&backup, b"not a backup").unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_socializioz"))
            .args(["restore", "--from", backup.to_str().unwrap(), "--yes"])
            .args(extra)
            .current_dir(&data.0)
            .env("SOCIALIZIOZ__DATA__DIR", &data.0)
            .env(
                "SOCIALIZIOZ__DATABASE__URL",
                format!("sqlite://{}", data.0.join("lost.db").display()),
            )
            .env(
                "SOCIALIZIOZ__SECURITY__SECRET_KEY",
                crate::helpers::TEST_SECRET_KEY,
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let refused = run(&[]);
    assert!(refused.contains("would come back"), "{refused}");
    // Told, it goes on (and then refuses the file itself, which is no backup).
    let told = run(&["--without-current-database"]);
    assert!(!told.contains("would come back"), "{told}");
}
