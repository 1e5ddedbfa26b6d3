//! Plans: with `[billing]` every limit allows up to its value and refuses one more, naming the
//! plan that lifts it; a downgrade deletes nothing and refuses additions; without `[billing]`
//! nothing is counted against anything.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, png, post_input, spawn_app, spawn_app_with};
use domain::plans::{Limit, PlanId};
use domain::{CampaignId, Platform, PostId, SessionId, WorkspaceId};
use services::ServiceError;
use services::campaigns::CampaignInput;
use services::posts::Intent;

const ADA: &str = "ada@example.com";

/// An app with plans on, the Free plan narrowed to small limits so each test stays short; its
/// platforms are the built-in simulator's when `sandbox`.
async fn app_with_plans(backend: Backend, sandbox: bool) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.platforms.sandbox = sandbox;
        s.billing = Some(
            toml::from_str(
                r#"
                [plans.free]
                posts_per_month = 2
                campaigns = 1
                social_accounts = 1
                storage_mb = 1
                "#,
            )
            .expect("billing settings"),
        );
    })
    .await
}

fn refusal(err: ServiceError) -> (WorkspaceId, domain::plans::Refusal) {
    match err {
        ServiceError::PlanLimit { workspace, refusal } => (workspace, *refusal),
        other => panic!("expected a plan refusal, got {other:?}"),
    }
}

fn tomorrow() -> chrono::NaiveDateTime {
    (chrono::Utc::now() + chrono::Duration::days(1)).naive_utc()
}

/// A PNG of pseudo-random pixels: it does not compress, so its size is about 3 bytes a pixel.
fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    let img = image::RgbImage::from_fn(width, height, |_, _| {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        };
        image::Rgb([next(), next(), next()])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode an image");
    out.into_inner()
}

fn campaign(name: &str) -> CampaignInput {
    CampaignInput {
        name: name.to_owned(),
        description: String::new(),
        starts_on: String::new(),
        ends_on: String::new(),
        colour: services::campaigns::COLOURS[0].0.to_owned(),
        ..CampaignInput::default()
    }
}

async fn posts_count_when_scheduled_and_are_not_given_back(backend: Backend) {
    let Some(app) = app_with_plans(backend, false).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    let account = app.connect_account(ws, Platform::Facebook, "acme").await;
    let (user, member) = app.member(ADA, ws).await;
    let schedule = || {
        post_input(
            "Hello",
            &[account],
            Vec::new(),
            Intent::Schedule(tomorrow()),
        )
    };
    // Drafts count nothing.
    for _ in 0..3 {
        app.save_post(
            ADA,
            ws,
            post_input("Draft", &[account], Vec::new(), Intent::Draft),
        )
        .await;
    }
    let first = app.save_post(ADA, ws, schedule()).await;
    // Taking a counted post back to draft and scheduling it again counts it once.
    app.services
        .unschedule_post(&member, &user, PostId(first))
        .await
        .unwrap();
    app.services
        .save_post(&member, &user, Some(PostId(first)), schedule())
        .await
        .unwrap();
    // The second post is the limit; deleting it does not give the count back.
    let second = app.save_post(ADA, ws, schedule()).await;
    app.services
        .delete_post(&member, &user, PostId(second))
        .await
        .unwrap();
    let err = app
        .services
        .save_post(&member, &user, None, schedule())
        .await
        .unwrap_err();
    let (at, refused) = refusal(err);
    assert_eq!(at, WorkspaceId(ws));
    assert_eq!(refused.lifted_by, Some(PlanId::Starter));
    assert_eq!(
        refused.to_string(),
        "This workspace has used 2 of 2 posts this month, the most the Free plan allows. The \
         Starter plan lifts this."
    );
    // Refused whole: no post row was written for the refused one.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE workspace_id = {ws} AND state = 'scheduled'"
        ))
        .await,
        1
    );
    // A draft can still be saved; the plan view says the month is used up.
    app.save_post(
        ADA,
        ws,
        post_input("Later", &[account], Vec::new(), Intent::Draft),
    )
    .await;
    let view = app.services.plan_view(WorkspaceId(ws)).await.unwrap();
    let page = client
        .get(&format!("/w/{ws}/billing"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<strong id=\"current-plan\">Free</strong> plan"),
        "{page}"
    );
    assert!(
        page.contains("<progress max=\"100\" value=\"100\">"),
        "{page}"
    );
    let posts = view.lines.iter().find(|l| l.limit == Limit::Posts).unwrap();
    assert_eq!((posts.used, posts.most, posts.percent()), (2, Some(2), 100));
    // The operator moves the workspace up: the next post goes through.
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    app.save_post(ADA, ws, schedule()).await;
}

async fn campaigns_accounts_and_storage_stop_at_their_limits(backend: Backend) {
    let Some(app) = app_with_plans(backend, true).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    let (user, member) = app.member(ADA, ws).await;
    // Campaigns: one allowed, the second refused; editing the first is not an addition.
    let first = app
        .services
        .save_campaign(&member, &user, None, &campaign("Spring"))
        .await
        .unwrap();
    app.services
        .save_campaign(
            &member,
            &user,
            Some(CampaignId(first.id)),
            &campaign("Spring sale"),
        )
        .await
        .unwrap();
    let (_, r) = refusal(
        app.services
            .save_campaign(&member, &user, None, &campaign("Summer"))
            .await
            .unwrap_err(),
    );
    assert_eq!(r.lifted_by, Some(PlanId::Starter));
    assert!(r.to_string().contains("1 of 1 campaigns"), "{r}");

    // Storage: 1 MB on this Free plan. A file that fits is kept; one that would pass the
    // limit is refused, and its bytes are not left behind.
    app.upload_media(&client, ws, "small.png", png(64, 64, 1))
        .await;
    let objects_before = app.services.objects.keys("").await.unwrap().len();
    let big = noise_png(700, 700);
    assert!(big.len() > 1_000_000, "the test image must pass 1 MB");
    let res = client
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[],
            vec![("big.png", big)],
            true,
        )
        .await;
    assert_eq!(res.status(), 402);
    let page = res.text().await.unwrap();
    assert!(page.contains("the most the Free plan allows"), "{page}");
    assert!(
        page.contains(&format!("href=\"/w/{ws}/billing\"")),
        "{page}"
    );
    assert_eq!(
        app.services.objects.keys("").await.unwrap().len(),
        objects_before
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM media_items WHERE workspace_id = {ws}"
        ))
        .await,
        1
    );

    // Accounts and platforms: X is not on Free at all; Facebook is, once.
    let sid = SessionId(
        app.count(&format!(
            "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '{ADA}'"
        ))
        .await,
    );
    let (_, r) = refusal(
        app.services
            .start_connection(&member, &user, sid, Platform::X, "http://localhost/cb")
            .await
            .unwrap_err(),
    );
    assert_eq!(r.lifted_by, Some(PlanId::Professional));
    assert!(
        r.to_string()
            .starts_with("Publishing to X is not part of the Free plan"),
        "{r}"
    );
    app.services
        .start_connection(
            &member,
            &user,
            sid,
            Platform::Facebook,
            "http://localhost/cb",
        )
        .await
        .unwrap();
    app.connect_account(ws, Platform::Instagram, "acme").await;
    let (_, r) = refusal(
        app.services
            .start_connection(
                &member,
                &user,
                sid,
                Platform::Facebook,
                "http://localhost/cb",
            )
            .await
            .unwrap_err(),
    );
    assert!(
        r.to_string().contains("1 of 1 connected social accounts"),
        "{r}"
    );
}

async fn a_downgrade_keeps_everything_and_refuses_additions(backend: Backend) {
    let Some(app) = app_with_plans(backend, false).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let (user, member) = app.member(ADA, ws).await;
    for name in ["One", "Two", "Three"] {
        app.services
            .save_campaign(&member, &user, None, &campaign(name))
            .await
            .unwrap();
    }
    // Team collaboration is a Professional feature: inviting works there.
    let invited = client
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "bob@example.com"), ("role", "editor")],
        )
        .await;
    assert!(invited.status().is_redirection(), "{}", invited.status());
    assert_eq!(
        app.services
            .set_plan(WorkspaceId(ws), PlanId::Free)
            .await
            .unwrap(),
        PlanId::Professional
    );
    // Nothing was deleted.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM campaigns WHERE workspace_id = {ws}"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE workspace_id = {ws}"
        ))
        .await,
        1
    );
    // Additions are refused, naming what lifts them.
    let (_, r) = refusal(
        app.services
            .save_campaign(&member, &user, None, &campaign("Four"))
            .await
            .unwrap_err(),
    );
    assert!(r.to_string().contains("3 of 1 campaigns"), "{r}");
    let res = client
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "cy@example.com"), ("role", "editor")],
        )
        .await;
    let page = res.text().await.unwrap();
    assert!(
        page.contains(
            "Team collaboration is not part of the Free plan. The Professional plan lifts this."
        ),
        "{page}"
    );
    // The change is in the activity log.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {ws} AND action = 'workspace.plan_changed'"
        ))
        .await,
        2
    );
}

async fn without_billing_nothing_is_counted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    let account = app.connect_account(ws, Platform::X, "acme").await;
    let (user, member) = app.member(ADA, ws).await;
    for n in 0..12 {
        app.save_post(
            ADA,
            ws,
            post_input(
                &format!("Post {n}"),
                &[account],
                Vec::new(),
                Intent::Schedule(tomorrow()),
            ),
        )
        .await;
    }
    for n in 0..3 {
        app.services
            .save_campaign(&member, &user, None, &campaign(&format!("C{n}")))
            .await
            .unwrap();
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM plan_usage").await, 0);
    // No billing page either.
    let res = client.get(&format!("/w/{ws}/billing")).await;
    assert_eq!(res.status(), 404);
    assert!(!app.services.billing.is_on());
}

both_backends!(
    posts_count_when_scheduled_and_are_not_given_back,
    campaigns_accounts_and_storage_stop_at_their_limits,
    a_downgrade_keeps_everything_and_refuses_additions,
    without_billing_nothing_is_counted,
);
