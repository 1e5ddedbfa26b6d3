//! Deletion requests received by e-mail, on both databases: an administrator records one (on
//! the admin page or from the command line), the address gets a confirmation link when an
//! account uses it and word that nothing is held otherwise (the administrator cannot tell the
//! two apart), the link deletes the account once, the deadline is 30 days after the request
//! arrived, and the administrators are reminded 7 and 2 days before it, once each.

use crate::both_backends;
use crate::helpers::{Backend, Client, PASSWORD, TestApp, location, spawn_app_with};
use crate::platform::binary_for;
use chrono::{Duration, NaiveDate};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use services::deletion_requests::DEADLINE_DAYS;
use services::deletion_requests::check::RequestsCheck;

const JOB_KIND: &str = <RequestsCheck as services::queue::Payload>::KIND;
use socializioz::cli::deletion_requests::{DeletionRequestCommand, run};
use store::entities::deletion_request;

both_backends!(
    a_request_for_an_account_is_confirmed_by_link_and_deletes_it_once,
    an_unknown_address_gets_the_same_answer_and_word_that_nothing_is_held,
    the_deadline_is_thirty_days_after_the_request_arrived,
    the_administrators_are_reminded_once_seven_and_two_days_before,
    the_admin_page_is_not_found_for_anyone_but_an_administrator,
    a_forged_withdrawn_expired_or_replaced_link_deletes_nothing,
    the_command_line_records_and_lists_requests,
    a_confirmation_cut_off_before_the_deletion_started_is_resumed,
    a_lost_check_is_planned_again_when_a_worker_starts,
);

const OPS: &str = "ops@example.com";
const DEPUTY: &str = "deputy@example.com";
const PAT: &str = "pat@example.com";
const NOBODY: &str = "nobody@example.com";
const PAGE: &str = "/admin/deletion-requests";

async fn app_with_admins(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.admin.emails = vec![OPS.to_owned(), DEPUTY.to_uppercase()];
    })
    .await
}

fn today() -> NaiveDate {
    services::now().date_naive()
}

fn days_ago(days: i64) -> String {
    (today() - Duration::days(days)).to_string()
}

/// The flash message of a page, if it shows one.
fn flash(html: &str) -> Option<String> {
    let start = html.find("<div class=\"flash\" role=\"status\">")?;
    let rest = &html[start..];
    let open = rest.find('>')? + 1;
    let end = rest.find("</div>")?;
    Some(rest[open..end].to_owned())
}

/// Records a request on the admin page; returns the flash message shown after the redirect.
async fn record(admin: &Client, email: &str, received: &str) -> String {
    let res = admin
        .submit(PAGE, &[("email", email), ("received", received)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "record {email}");
    assert_eq!(location(res.headers()), PAGE);
    let page = admin.get_text(PAGE).await;
    flash(&page).expect("a message after recording")
}

async fn requests(app: &TestApp) -> Vec<deletion_request::Model> {
    deletion_request::Entity::find()
        .order_by_asc(deletion_request::Column::Id)
        .all(&app.services.db)
        .await
        .unwrap()
}

async fn request_for(app: &TestApp, email: &str) -> deletion_request::Model {
    deletion_request::Entity::find()
        .filter(deletion_request::Column::Email.eq(email))
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("a request for {email}"))
}

async fn users_named(app: &TestApp, email: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM users WHERE email = '{email}'"
    ))
    .await
}

/// Runs one `admin deletion-request` command in this process, as of now; returns its output.
async fn cli(app: &TestApp, command: DeletionRequestCommand) -> anyhow::Result<String> {
    let mut out = Vec::new();
    run(&app.services, command, services::now(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// `text` with every `#<digits>` made `#N`, so that two answers differing only in the
/// request's number compare equal.
fn without_ids(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '#' {
            let mut digits = false;
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
                digits = true;
            }
            if digits {
                out.push('N');
            }
        }
    }
    out
}

async fn a_request_for_an_account_is_confirmed_by_link_and_deletes_it_once(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let pat = app.verified_user("Pat", PAT).await;
    let res = pat
        .submit("/workspaces/new", &[("name", "Pat's posts")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let pat_id = app
        .count(&format!("SELECT id FROM users WHERE email = '{PAT}'"))
        .await;
    let admin = app.verified_user("Ops", OPS).await;

    // The request names the address as the person wrote it.
    record(&admin, "  Pat@Example.COM ", &today().to_string()).await;
    let row = request_for(&app, PAT).await;
    assert_eq!(row.state.as_str(), "open");
    assert_eq!(row.user_id, Some(pat_id));
    assert_eq!(row.received_on, today());
    assert_eq!(row.deadline_on, today() + Duration::days(30));
    assert_eq!(row.recorded_via, "web");
    assert!(row.recorded_by.is_some());

    let mail = app.last_mail_to(PAT).await;
    assert_eq!(
        mail.subject,
        "Confirm the deletion of your Socializioz account"
    );
    let link = mail.link(&app.address, "/deletion-requests/confirm/");
    let token = link.rsplit('/').next().unwrap();
    // Only the token's hash is stored.
    assert_ne!(row.token_hash, token);
    assert_eq!(row.token_hash, services::tokens::hash_token(token));
    assert!(!row.email_hash.contains(PAT));

    // The page explains and asks; opening it deletes nothing. No sign-in is needed.
    let browser = app.client();
    let page = browser.get_text(&link).await;
    assert!(page.contains("Delete your account"), "{page}");
    assert!(page.contains(PAT));
    assert!(page.contains("Pat&#39;s posts") || page.contains("Pat's posts"));
    assert!(page.contains("What is kept"));
    assert_eq!(users_named(&app, PAT).await, 1);

    // The button deletes the account; it can no longer sign in, and its rows are gone.
    let res = browser.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done = res.text().await.unwrap();
    assert!(done.contains("Your account is deleted"), "{done}");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM users WHERE id = {pat_id}"))
            .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE user_id = {pat_id}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Pat''s posts'")
            .await,
        0
    );
    let res = app.client().log_in(PAT, PASSWORD).await;
    assert_ne!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the deleted account signs in"
    );
    let receipt = app.last_mail_to(PAT).await;
    assert_eq!(receipt.subject, "Your Socializioz account is deleted");

    // The request stays as the record: dates, state, the hash; no address, no user id.
    let row = requests(&app).await.remove(0);
    assert_eq!(row.state.as_str(), "confirmed");
    assert_eq!(row.email, None);
    assert_eq!(row.user_id, None);
    assert!(row.deletion_id.is_some());
    assert!(row.confirmed_at.is_some() && row.closed_at.is_some());
    assert_eq!(row.deadline_on, today() + Duration::days(30));
    let list = admin.get_text(PAGE).await;
    assert!(list.contains("Confirmed: deleted"));
    assert!(!list.contains(PAT));
    // Nothing of the account remains anywhere the data map names, this table included.
    match app
        .services
        .residue(services::deletion::Whom::Email(PAT.to_owned()))
        .await
        .unwrap()
    {
        services::deletion::Residue::Checked { findings, .. } => {
            assert!(findings.is_empty(), "{findings:?}")
        }
        other => panic!("no deletion was checked: {other:?}"),
    }
    // A deletion that ended after the confirmation (its job finished it) is closed by the
    // daily check.
    app.exec(&format!(
        "UPDATE deletion_requests SET closed_at = NULL WHERE id = {}",
        row.id
    ))
    .await;
    let report = app
        .services
        .check_deletion_requests(services::now())
        .await
        .unwrap();
    assert_eq!(report.finished, 1);
    assert!(request_for_id(&app, row.id).await.closed_at.is_some());

    // The link works once.
    let again = browser.submit(&link, &[]).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.unwrap().contains("confirmed already"));
    let again = browser.get(&link).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 1);
}

async fn an_unknown_address_gets_the_same_answer_and_word_that_nothing_is_held(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let pat = app.verified_user("Pat", PAT).await;
    let admin = app.verified_user("Ops", OPS).await;
    // A workspace invited the unknown address: the only thing held for it.
    let res = admin.submit("/workspaces/new", &[("name", "Ops")]).await;
    let ws = crate::helpers::id_from_location(res.headers());
    let res = admin
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", NOBODY), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE email = '{NOBODY}'"
        ))
        .await,
        1
    );
    let invitation_mail = format!("SELECT COUNT(*) FROM jobs WHERE recipient = '{NOBODY}'");
    assert_eq!(
        app.count(&invitation_mail).await,
        1,
        "the invitation e-mail waits to be sent"
    );
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let pat_before = app
        .text(&format!(
            "SELECT password_hash FROM users WHERE email = '{PAT}'"
        ))
        .await;

    let known = record(&admin, PAT, &today().to_string()).await;
    let unknown = record(&admin, NOBODY, &today().to_string()).await;
    assert_eq!(known, unknown, "the answer tells whether an account exists");
    assert!(known.contains("a link to confirm the deletion if an account uses it"));
    // The list shows them alike too.
    let list = admin.get_text(PAGE).await;
    assert_eq!(list.matches("Awaiting confirmation").count(), 2);

    let mail = app.last_mail_to(NOBODY).await;
    assert_eq!(mail.subject, "Your deletion request to Socializioz");
    // The invitation still waiting to be e-mailed was withdrawn with the invitation.
    let to_nobody: Vec<String> = app
        .mails()
        .await
        .into_iter()
        .filter(|m| m.to == NOBODY)
        .map(|m| m.subject)
        .collect();
    assert_eq!(to_nobody, vec!["Your deletion request to Socializioz"]);
    assert!(mail.body.contains("No account uses it"), "{}", mail.body);
    assert!(!mail.body.contains("/deletion-requests/confirm/"));
    assert!(
        app.last_mail_to(PAT)
            .await
            .body
            .contains("/deletion-requests/confirm/")
    );

    // No account was created or touched, and nothing is held for the address any more.
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(users_named(&app, NOBODY).await, 0);
    assert_eq!(
        app.text(&format!(
            "SELECT password_hash FROM users WHERE email = '{PAT}'"
        ))
        .await,
        pat_before
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE email = '{NOBODY}'"
        ))
        .await,
        0
    );
    let res = pat.log_out().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pat.log_in(PAT, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // The command line answers alike as well.
    let other = "someone@example.com";
    app.verified_user("Someone", other).await;
    let known = cli(
        &app,
        DeletionRequestCommand::Add {
            email: other.to_owned(),
            received: today().to_string(),
        },
    )
    .await
    .unwrap();
    let unknown = cli(
        &app,
        DeletionRequestCommand::Add {
            email: "ghost@example.com".to_owned(),
            received: today().to_string(),
        },
    )
    .await
    .unwrap();
    assert_ne!(known, unknown, "the request numbers differ");
    assert_eq!(without_ids(&known), without_ids(&unknown));
    // A second request for an open address is refused, alike for both.
    let twice = |email: &str| DeletionRequestCommand::Add {
        email: email.to_owned(),
        received: today().to_string(),
    };
    let a = cli(&app, twice(PAT)).await.unwrap_err().to_string();
    let b = cli(&app, twice(NOBODY)).await.unwrap_err().to_string();
    assert!(a.contains("open already"), "{a}");
    assert_eq!(without_ids(&a), without_ids(&b));
}

async fn the_deadline_is_thirty_days_after_the_request_arrived(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let admin = app.verified_user("Ops", OPS).await;
    assert_eq!(DEADLINE_DAYS, 30);
    record(&admin, "late@example.com", &days_ago(10)).await;
    let row = request_for(&app, "late@example.com").await;
    assert_eq!(row.received_on, today() - Duration::days(10));
    assert_eq!(row.deadline_on, today() + Duration::days(20));
    // The link works until the end of the deadline day (UTC).
    assert_eq!(
        row.link_expires_at,
        (today() + Duration::days(21))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    );
    let list = admin.get_text(PAGE).await;
    assert!(list.contains(&row.deadline_on.to_string()));
    assert!(list.contains("20 days"));
    assert!(!list.contains("Overdue"));

    // Found late: accepted, overdue at once and highlighted; its link still works a week.
    record(&admin, "found-late@example.com", &days_ago(31)).await;
    let late = request_for(&app, "found-late@example.com").await;
    assert_eq!(late.deadline_on, today() - Duration::days(1));
    assert!(late.link_expires_at > services::now() + Duration::days(6));
    let list = admin.get_text(PAGE).await;
    assert!(list.contains("class=\"overdue\""));
    assert!(list.contains("1 day overdue"));
    assert!(list.contains("Overdue: awaiting confirmation"));
    // Its link still works, so it cannot be closed as not confirmed yet.
    assert!(!list.contains("Close as not confirmed"));
    // Oldest first.
    assert!(list.find("found-late@example.com") < list.find(">late@example.com<"));

    // A day in the future, or a year back, is refused with a reason; nothing is recorded.
    let tomorrow = (today() + Duration::days(1)).to_string();
    for (received, says) in [
        (tomorrow.as_str(), "in the future"),
        ("2020-01-01", "more than a year ago"),
        ("29.11.2026", "is not a date"),
    ] {
        let res = admin
            .submit(PAGE, &[("email", "x@example.com"), ("received", received)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{received}");
        assert!(res.text().await.unwrap().contains(says), "{received}");
    }
    assert_eq!(requests(&app).await.len(), 2);
    assert_eq!(users_named(&app, "x@example.com").await, 0);

    // Once the link has expired unused, the request can be closed; the record stays.
    deletion_request::Entity::update_many()
        .col_expr(
            deletion_request::Column::LinkExpiresAt,
            Expr::value(services::now() - Duration::minutes(1)),
        )
        .filter(deletion_request::Column::Id.eq(late.id))
        .exec(&app.services.db)
        .await
        .unwrap();
    let list = admin.get_text(PAGE).await;
    assert!(list.contains("Close as not confirmed"));
    let res = admin
        .submit(
            &format!("{PAGE}/{}/close", late.id),
            &[("outcome", "expired")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = admin.get_text(PAGE).await;
    assert!(list.contains("Closed: not confirmed"));
    assert!(!list.contains("found-late@example.com"));
    let closed = request_for_id(&app, late.id).await;
    assert_eq!((closed.state.as_str(), closed.email), ("expired", None));
    assert_eq!(closed.deadline_on, today() - Duration::days(1));
}

async fn the_administrators_are_reminded_once_seven_and_two_days_before(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let admin = app.verified_user("Ops", OPS).await;
    record(&admin, PAT, &days_ago(20)).await;
    let id = requests(&app).await[0].id;
    // The daily check is planned, once.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE kind = '{JOB_KIND}' AND state = 'queued'"
        ))
        .await,
        1
    );
    let reminders = |to: &'static str| {
        let app = &app;
        async move {
            let mut subjects = app
                .mails()
                .await
                .into_iter()
                .filter(|m| m.to == to && m.subject.starts_with("Deletion request #"))
                .map(|m| m.subject)
                .collect::<Vec<_>>();
            // Sorted: messages written within one clock tick have no order in the outbox.
            subjects.sort();
            subjects
        }
    };
    assert!(reminders(OPS).await.is_empty());

    // Ten days are left now; time moves by `now`.
    let start = services::now();
    let check = |days: i64| {
        app.services
            .check_deletion_requests(start + Duration::days(days))
    };
    assert!(check(0).await.unwrap().reminded.is_empty());
    assert!(check(2).await.unwrap().reminded.is_empty());
    // 7 days before: once, even when two checks run at the same time.
    let (a, b) = tokio::join!(check(3), check(3));
    let mut both = a.unwrap().reminded;
    both.extend(b.unwrap().reminded);
    assert_eq!(both, vec![(id, 7)]);
    assert!(check(3).await.unwrap().reminded.is_empty());
    assert!(check(4).await.unwrap().reminded.is_empty());
    // 2 days before: once.
    assert_eq!(check(8).await.unwrap().reminded, vec![(id, 2)]);
    assert!(check(8).await.unwrap().reminded.is_empty());
    assert!(check(9).await.unwrap().reminded.is_empty());
    // Past the deadline: noted once, no more reminders.
    let past = check(11).await.unwrap();
    assert!(past.reminded.is_empty());
    assert_eq!(past.overdue, vec![id]);
    assert!(check(12).await.unwrap().overdue.is_empty());

    // Each once (in sorted order; `reminded` above checked the order they were sent in).
    let expected = vec![
        format!("Deletion request #{id}: 2 days are left"),
        format!("Deletion request #{id}: 7 days are left"),
    ];
    assert_eq!(reminders(OPS).await, expected);
    assert_eq!(reminders(DEPUTY).await, expected);
    let body = app.last_mail_to(DEPUTY).await.body;
    assert!(body.contains(&format!("{}/admin/deletion-requests", app.address)));
    assert!(!body.contains(PAT), "the reminder carries the address");
    let row = requests(&app).await.remove(0);
    assert!(row.seven_day_reminder_at.is_some() && row.two_day_reminder_at.is_some());
    assert!(row.overdue_at.is_some());
    assert_eq!(row.state.as_str(), "open");
}

async fn the_admin_page_is_not_found_for_anyone_but_an_administrator(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let visitor = app.client();
    let res = visitor.get(PAGE).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(res.headers()).starts_with("/login"));

    let member = app.verified_user("Member", "member@example.com").await;
    assert_eq!(member.get(PAGE).await.status(), StatusCode::NOT_FOUND);
    let link = format!("href=\"{PAGE}\"");
    assert!(
        !member.get_text("/settings").await.contains(&link),
        "the header offers the admin page to a member"
    );
    let res = member
        .submit(PAGE, &[("email", PAT), ("received", &today().to_string())])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A listed address counts only once it is confirmed.
    let unconfirmed = app.client();
    let res = unconfirmed.sign_up("Deputy", DEPUTY, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.mails().await;
    let res = unconfirmed.log_in(DEPUTY, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(unconfirmed.get(PAGE).await.status(), StatusCode::NOT_FOUND);
    assert!(requests(&app).await.is_empty());

    let admin = app.verified_user("Ops", OPS).await;
    assert!(
        admin.get_text("/settings").await.contains(&link),
        "the header links an administrator to the requests"
    );
    let page = admin.get_text(PAGE).await;
    assert!(page.contains("Record a request"));
    assert!(page.contains("No request is open."));
    // Listed in capitals; once the address is confirmed, the page is there.
    let link = app
        .last_mail_to(DEPUTY)
        .await
        .link(&app.address, "/verify/");
    assert_eq!(
        unconfirmed.submit(&link, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(unconfirmed.get(PAGE).await.status(), StatusCode::OK);
}

async fn a_forged_withdrawn_expired_or_replaced_link_deletes_nothing(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    app.verified_user("Pat", PAT).await;
    let admin = app.verified_user("Ops", OPS).await;
    let browser = app.client();

    // Made up.
    let forged = "/deletion-requests/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(browser.get(forged).await.status(), StatusCode::NOT_FOUND);
    let res = browser.submit(forged, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("does not belong to any deletion request")
    );

    // Replaced by a new message: the old link is dead, the new one works.
    record(&admin, PAT, &today().to_string()).await;
    let first = app
        .last_mail_to(PAT)
        .await
        .link(&app.address, "/deletion-requests/confirm/");
    let id = request_for(&app, PAT).await.id;
    let res = admin.submit(&format!("{PAGE}/{id}/resend"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let second = app
        .last_mail_to(PAT)
        .await
        .link(&app.address, "/deletion-requests/confirm/");
    assert_ne!(first, second);
    assert_eq!(browser.submit(&first, &[]).await.status(), StatusCode::GONE);
    assert_eq!(browser.get(&second).await.status(), StatusCode::OK);

    // Expired: time moved past the link's end.
    deletion_request::Entity::update_many()
        .col_expr(
            deletion_request::Column::LinkExpiresAt,
            Expr::value(services::now() - Duration::minutes(1)),
        )
        .filter(deletion_request::Column::Id.eq(id))
        .exec(&app.services.db)
        .await
        .unwrap();
    let res = browser.submit(&second, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("expired"));
    assert_eq!(users_named(&app, PAT).await, 1);

    // Withdrawn: closed by an administrator; the link says so and deletes nothing.
    let res = admin.submit(&format!("{PAGE}/{id}/resend"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let third = app
        .last_mail_to(PAT)
        .await
        .link(&app.address, "/deletion-requests/confirm/");
    // Not yet expired: it cannot be closed as unconfirmed.
    let res = admin
        .submit(&format!("{PAGE}/{id}/close"), &[("outcome", "expired")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin
        .submit(&format!("{PAGE}/{id}/close"), &[("outcome", "withdrawn")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = browser.submit(&third, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("withdrawn"));
    assert_eq!(users_named(&app, PAT).await, 1);
    let row = request_for_id(&app, id).await;
    assert_eq!(row.state.as_str(), "withdrawn");
    assert_eq!(row.email, None, "a closed request keeps the address");
    assert_eq!(row.user_id, None);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 0);

    // Two clicks at once on a good link: one deletion.
    record(&admin, PAT, &today().to_string()).await;
    let link = app
        .last_mail_to(PAT)
        .await
        .link(&app.address, "/deletion-requests/confirm/");
    let other = app.client();
    let (a, b) = tokio::join!(browser.submit(&link, &[]), other.submit(&link, &[]));
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::GONE]);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 1);
    assert_eq!(users_named(&app, PAT).await, 0);
}

async fn request_for_id(app: &TestApp, id: i64) -> deletion_request::Model {
    deletion_request::Entity::find_by_id(id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap()
}

/// The real binary: `socializioz admin deletion-request add` and `list`.
async fn the_command_line_records_and_lists_requests(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    app.verified_user("Pat", PAT).await;
    let admin = |args: &[&str]| {
        let mut cmd = binary_for(&app);
        cmd.args(["admin", "deletion-request"])
            .args(args)
            .env("SOCIALIZIOZ__SERVER__PUBLIC_URL", &app.address);
        crate::platform::run(cmd, "")
    };
    let received = days_ago(3);
    let (ok, known, err) = admin(&["add", "--email", PAT, "--received", &received]);
    assert!(ok, "{err}");
    let (ok, unknown, err) = admin(&["add", "--email", NOBODY, "--received", &received]);
    assert!(ok, "{err}");
    assert_eq!(without_ids(&known), without_ids(&unknown));
    let deadline = (today() + Duration::days(27)).to_string();
    assert!(known.contains(&deadline), "{known}");

    let (ok, list, _) = admin(&["list"]);
    assert!(ok);
    assert!(list.contains(PAT) && list.contains(NOBODY), "{list}");
    assert_eq!(list.matches("Awaiting confirmation").count(), 2);
    assert!(list.contains(&deadline));

    let tomorrow = (today() + Duration::days(1)).to_string();
    let (ok, _, err) = admin(&["add", "--email", "x@example.com", "--received", &tomorrow]);
    assert!(!ok);
    assert!(
        err.contains("--received") && err.contains("future"),
        "{err}"
    );

    // The serving process delivers what the command queued; the link points at it.
    let link = app
        .last_mail_to(PAT)
        .await
        .link(&app.address, "/deletion-requests/confirm/");
    assert_eq!(app.client().get(&link).await.status(), StatusCode::OK);
    let rows = requests(&app).await;
    assert!(
        rows.iter()
            .all(|r| r.recorded_via == "cli" && r.recorded_by.is_none())
    );
}

/// The process stopped between taking the confirmation and starting the deletion: the daily
/// check starts it an hour later.
async fn a_confirmation_cut_off_before_the_deletion_started_is_resumed(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    app.verified_user("Pat", PAT).await;
    let admin = app.verified_user("Ops", OPS).await;
    record(&admin, PAT, &today().to_string()).await;
    let id = request_for(&app, PAT).await.id;
    let confirmed = services::now() - Duration::minutes(30);
    deletion_request::Entity::update_many()
        .col_expr(deletion_request::Column::State, Expr::value("confirmed"))
        .col_expr(
            deletion_request::Column::ConfirmedAt,
            Expr::value(confirmed),
        )
        .col_expr(
            deletion_request::Column::Email,
            Expr::value(Option::<String>::None),
        )
        .filter(deletion_request::Column::Id.eq(id))
        .exec(&app.services.db)
        .await
        .unwrap();
    // Too soon: the confirming request may still be starting it.
    let report = app
        .services
        .check_deletion_requests(services::now())
        .await
        .unwrap();
    assert_eq!(report.resumed, 0);
    assert_eq!(users_named(&app, PAT).await, 1);
    let list = admin.get_text(PAGE).await;
    assert!(list.contains("Confirmed: deletion under way"));

    let report = app
        .services
        .check_deletion_requests(confirmed + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(report.resumed, 1);
    assert_eq!(users_named(&app, PAT).await, 0);
    let row = request_for_id(&app, id).await;
    assert!(row.deletion_id.is_some() && row.closed_at.is_some());
    assert_eq!(row.user_id, None);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_deletions").await, 1);
}

#[test]
fn administrators_are_configured_by_address() {
    use socializioz::config::load;
    let env = |value: &str| vec![("SOCIALIZIOZ__ADMIN__EMAILS".to_owned(), value.to_owned())];
    let settings = load(
        Some(std::path::Path::new("/dev/null")),
        env("Ops@Example.com, deputy@example.com,ops@example.com"),
    )
    .unwrap();
    assert_eq!(
        settings.admin.addresses().unwrap(),
        vec![OPS.to_owned(), DEPUTY.to_owned()]
    );
    let refused = load(Some(std::path::Path::new("/dev/null")), env("ops, x@y.z"))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("admin.emails"), "{refused}");
    let none = load(Some(std::path::Path::new("/dev/null")), Vec::new()).unwrap();
    assert!(none.admin.addresses().unwrap().is_empty());
}

/// The check plans itself after each run; should its job be lost while a request is under way
/// (a restore from before it, a row removed by hand), the next worker to start plans it again,
/// and not while nothing is under way.
async fn a_lost_check_is_planned_again_when_a_worker_starts(backend: Backend) {
    let Some(app) = app_with_admins(backend).await else {
        return;
    };
    let checks = "SELECT COUNT(*) FROM jobs WHERE kind = 'deletion_requests_check' \
                  AND state IN ('queued', 'running')";
    services::jobs::daily::plan_daily_jobs(&app.services.db)
        .await
        .unwrap();
    assert_eq!(app.count(checks).await, 0, "no request, no check");

    let admin = app.verified_user("Ops", OPS).await;
    app.verified_user("Pat", PAT).await;
    record(&admin, PAT, &today().to_string()).await;
    assert_eq!(app.count(checks).await, 1);
    app.exec("DELETE FROM jobs WHERE kind = 'deletion_requests_check'")
        .await;
    services::jobs::daily::plan_daily_jobs(&app.services.db)
        .await
        .unwrap();
    assert_eq!(
        app.count(checks).await,
        1,
        "the lost check is planned again"
    );
    services::jobs::daily::plan_daily_jobs(&app.services.db)
        .await
        .unwrap();
    assert_eq!(app.count(checks).await, 1, "and only once");
}
