//! The finish of the pages, on both databases: the icon, the list of policies, counts in the
//! singular and the plural, platforms and roles by their names, the Facebook page chooser sent
//! with nothing ticked, the consent history in words, and a deletion receipt that counts what
//! the deletion page counted.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, sandbox, start_platform};
use crate::fixtures::Team;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, PASSWORD, location, post_input, spawn_app};
use domain::Platform;
use reqwest::StatusCode;
use std::collections::BTreeMap;

both_backends!(
    the_icon_is_served_and_legal_lists_the_policies,
    counts_of_one_read_in_the_singular,
    platforms_and_roles_show_by_their_names,
    a_chooser_sent_with_nothing_ticked_comes_back_with_a_message,
    the_consent_history_reads_in_words,
    the_receipt_counts_what_the_deletion_page_counted,
);

const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";

/// The text a person sees: tags (with their attributes, where form values live), scripts and
/// styles removed, entities decoded, white space collapsed.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        out.push(' ');
        let tag = &rest[at..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|open| tag.starts_with(**open))
            .map(|open| format!("</{}", &open[1..]));
        rest = match skip_to {
            Some(close) => tag.find(&close).map_or("", |end| &tag[end..]),
            None => tag,
        };
        rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
    }
    out.push_str(rest);
    let decoded = unescape(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a browser makes of an escaped attribute or text.
fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<input name="{name}" value="…">` value in `html`, as the browser would send it.
fn input_values(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            unescape(&rest[..rest.find('"').unwrap()])
        })
        .collect()
}

async fn the_icon_is_served_and_legal_lists_the_policies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let res = browser.get("/favicon.ico").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/x-icon");
    let icon = res.bytes().await.unwrap();
    assert_eq!(&icon[..4], &[0, 0, 1, 0], "an ICO file");
    let res = browser.get("/favicon.svg").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().starts_with("<svg"));
    let home = browser.get_text("/").await;
    assert!(
        home.contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
        "the page links its icon"
    );

    // A newer Terms of Service, published to take effect later.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(2);
    app.services
        .publish_policy(
            domain::policy::PolicyKind::Terms,
            &domain::policy::PolicyVersion::parse("1.1").unwrap(),
            tomorrow,
            "# Terms of Service\n\nNew terms.\n",
            "Clearer terms",
        )
        .await
        .unwrap();
    let res = browser.get("/legal").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let text = visible_text(&page);
    for kind in domain::policy::PolicyKind::ALL {
        let link = format!(r#"<a href="/legal/{}">{}</a>"#, kind.slug(), kind.title());
        assert!(page.contains(&link), "{link} in {page}");
        assert!(
            page.contains(&format!(r#"href="/legal/{}/versions""#, kind.slug())),
            "{} has its versions",
            kind.title()
        );
    }
    for kind in domain::policy::PolicyKind::ALL {
        let current = app.services.policy_in_effect(kind).await.unwrap().unwrap();
        let line = format!(
            "{} Version {}, in effect from {}",
            kind.title(),
            current.version,
            current.effective_at.format("%-d %B %Y")
        );
        assert!(text.contains(&line), "{line} in {text}");
    }
    assert!(
        text.contains(&format!(
            "Version 1.1 takes effect on {}",
            tomorrow.format("%-d %B %Y")
        )),
        "{text}"
    );
}

async fn counts_of_one_read_in_the_singular(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let Team { owner: ada, ws, .. } = app
        .team(("Ada Lovelace", ADA), "Ada Studio", ("Bob", BOB), "editor")
        .await;

    // Deleting Ada's account would take her workspace from its one other member.
    let page = visible_text(&ada.get_text("/settings/account/delete").await);
    assert!(
        page.contains("1 other member loses access and is told by e-mail"),
        "{page}"
    );
    assert!(!page.contains("(s)"), "{page}");

    // A campaign deleted with one post in it.
    let campaign = ada.new_campaign(ws, "Spring", "", ("", "")).await;
    let x = app.connect_account(ws, Platform::X, "ada_x").await;
    let mut input = post_input(
        "In the campaign",
        &[x],
        Vec::new(),
        services::posts::Intent::Draft,
    );
    input.campaign_id = Some(campaign);
    app.save_post(ADA, ws, input).await;
    let res = ada
        .submit(&format!("/w/{ws}/campaigns/{campaign}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "campaign deleted");
    let activity = visible_text(&ada.get_text(&format!("/w/{ws}/activity")).await);
    assert!(
        activity.contains("deleted the campaign “Spring” (1 post kept without a campaign)"),
        "{activity}"
    );
}

async fn platforms_and_roles_show_by_their_names(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ws = ada.new_workspace("Ada Studio").await;
    app.connect_account(ws, Platform::Facebook, "ada_fb").await;
    app.connect_account(ws, Platform::TikTok, "ada_tt").await;
    app.connect_account(ws, Platform::LinkedIn, "ada_li").await;
    app.invite(&ada, ws, BOB, "editor").await;
    let shown = [
        ("facebook", "Facebook", "ada_fb"),
        ("tiktok", "TikTok", "ada_tt"),
        ("linkedin", "LinkedIn", "ada_li"),
    ];

    // The filters of the list and the calendar.
    for path in [format!("/w/{ws}/posts"), format!("/w/{ws}/calendar")] {
        let html = ada.get_text(&path).await;
        let text = visible_text(&html);
        for (slug, label, username) in shown {
            assert!(
                text.contains(&format!("{label} @{username}")),
                "{path}: {text}"
            );
            assert!(!text.contains(&format!("{slug} @")), "{path}: {text}");
        }
    }
    // The pending invitation names the role.
    let text = visible_text(&ada.get_text(&format!("/w/{ws}/settings")).await);
    assert!(text.contains(&format!("{BOB} as Editor")), "{text}");
    assert!(!text.contains("as editor"), "{text}");

    // The deletion page, and the receipt.
    let text = visible_text(&ada.get_text("/settings/account/delete").await);
    for (slug, label, username) in shown {
        assert!(text.contains(&format!("{label} @{username}")), "{text}");
        assert!(!text.contains(&format!("{slug} @")), "{text}");
    }
    let res = ada.delete_own_account(ADA).await;
    assert_eq!(location(res.headers()), "/account-deleted");
    let receipt = app.last_mail_to(ADA).await;
    assert!(receipt.subject.contains("deleted"), "{}", receipt.subject);
    for (slug, label, username) in shown {
        assert!(
            receipt.body.contains(&format!("- {label} @{username}: ")),
            "{}",
            receipt.body
        );
        assert!(
            !receipt.body.contains(&format!("{slug} @")),
            "{}",
            receipt.body
        );
    }
}

async fn a_chooser_sent_with_nothing_ticked_comes_back_with_a_message(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    let authorize = start_platform(&client, ws, "facebook").await;
    let back = at_platform(&authorize, "allow").await;
    let res = client.get(&callback_path(&app, &back)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let chooser = res.text().await.unwrap();
    assert!(
        visible_text(&chooser).contains("Choose the Facebook Pages to connect"),
        "{chooser}"
    );
    let pages = input_values(&chooser, "account");
    assert_eq!(pages.len(), 2, "{chooser}");

    // Sent as the browser sends the form with no box ticked: every field but `account`.
    let form = |html: &str| -> Vec<(String, String)> {
        ["choice_state", "platform", "shown"]
            .iter()
            .flat_map(|name| {
                input_values(html, name)
                    .into_iter()
                    .map(move |value| (name.to_string(), value))
            })
            .collect()
    };
    let send = |fields: Vec<(String, String)>| {
        let client = client.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            client.submit("/oauth/choose", &borrowed).await
        }
    };
    let res = send(form(&chooser)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = res.text().await.unwrap();
    let text = visible_text(&again);
    assert!(
        text.contains("Choose at least one Page to connect."),
        "{text}"
    );
    // The same chooser, with the page's navigation, and nothing connected.
    assert!(
        text.contains("acme Bakery") && text.contains("acme Studio"),
        "{text}"
    );
    assert_eq!(input_values(&again, "account"), pages);
    assert!(
        text.contains("Log out") && text.contains("Ada Lovelace"),
        "{text}"
    );
    assert!(!text.contains("Error 422"), "{text}");
    assert_eq!(app.count("SELECT COUNT(*) FROM social_accounts").await, 0);

    // The choice still stands: ticking a page now connects it.
    let mut fields = form(&again);
    fields.push(("account".to_owned(), pages[0].clone()));
    let res = send(fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{ws}/accounts"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM social_accounts WHERE external_id = '{}'",
            pages[0]
        ))
        .await,
        1
    );
}

async fn the_consent_history_reads_in_words(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // A first choice in the banner, before signing up (it belongs to this browser).
    let ada = app.client();
    let choose = |fields: &'static [(&'static str, &'static str)]| {
        let ada = ada.clone();
        async move {
            let res = ada.submit("/consent", fields).await;
            assert!(res.status().is_redirection() || res.status().is_success());
        }
    };
    choose(&[("choice", "reject"), ("back", "/")]).await;
    let res = ada.sign_up("Ada Lovelace", ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.confirm_sign_up(&ada, ADA).await;
    // Marketing on, from the banner; then everything optional off, from the policy page.
    choose(&[
        ("choice", "custom"),
        ("category", "marketing"),
        ("back", "/"),
    ])
    .await;
    choose(&[("choice", "reject"), ("source", "page"), ("back", "/")]).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'withdraw'")
            .await,
        1,
        "taking marketing back is a withdrawal"
    );

    let page = ada.get_text("/settings/privacy").await;
    let history = page
        .split("Your consent history")
        .nth(1)
        .and_then(|h| h.split("</table>").next())
        .expect("the consent history");
    let text = visible_text(history);
    let mut accepted = Vec::new();
    for kind in domain::policy::PolicyKind::AT_SIGNUP {
        let current = app.services.policy_in_effect(kind).await.unwrap().unwrap();
        accepted.push(format!("{} {}", kind.title(), current.version));
    }
    let accepted = format!("Accepted {} — at sign-up", accepted.join(", "));
    for words in [
        "Chose Analytics off, Marketing off",
        accepted.as_str(),
        "Turned Marketing on, Analytics off",
        "Essential, Marketing",
        "from the cookie banner",
        "Turned Analytics off, Marketing off",
        "from the cookie policy page",
    ] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    for code in [
        "policy_accept",
        "withdraw",
        "grant",
        "update",
        "cookie_banner",
        "cookie_policy_page",
        "signup",
        "essential,marketing",
        "essential",
    ] {
        assert!(
            !text.split(' ').any(|word| word == code),
            "{code:?} shows in {text}"
        );
    }
}

/// The "Deleted at once" table of the deletion page, summed per category.
fn preview_counts(html: &str) -> BTreeMap<String, u64> {
    let table = html
        .split(r#"<table class="deleted-data">"#)
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the table of what is deleted");
    let mut counts = BTreeMap::new();
    for row in table.split("<tr>").skip(2) {
        let cells: Vec<String> = row
            .split("<td>")
            .skip(1)
            .map(|c| unescape(c.split("</td>").next().unwrap()))
            .collect();
        let n: u64 = cells[2].parse().unwrap();
        if n > 0 {
            *counts.entry(cells[0].clone()).or_default() += n;
        }
    }
    counts
}

/// The "Deleted:" lines of the receipt: category and count.
fn receipt_counts(body: &str) -> BTreeMap<String, u64> {
    let deleted = body
        .split("Deleted:\n")
        .nth(1)
        .and_then(|b| b.split("\n\n").next())
        .expect("the receipt's list of what was deleted");
    deleted
        .lines()
        .filter_map(|line| {
            let (category, count) = line.strip_prefix("- ")?.split_once(": ")?;
            let n = count
                .strip_suffix(" records")
                .or_else(|| count.strip_suffix(" record"))?;
            Some((category.to_owned(), n.parse().unwrap()))
        })
        .collect()
}

async fn the_receipt_counts_what_the_deletion_page_counted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let ws = ada.new_workspace("Ada Studio").await;
    let x = app.connect_account(ws, Platform::X, "ada_x").await;
    app.save_post(
        ADA,
        ws,
        post_input("A draft", &[x], Vec::new(), services::posts::Intent::Draft),
    )
    .await;
    // Signed in on three more browsers, with a password reset link waiting.
    for _ in 0..3 {
        let res = app.client().log_in(ADA, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = app
        .client()
        .submit("/password/forgot", &[("email", ADA)])
        .await;
    assert!(res.status().is_redirection() || res.status().is_success());
    let user = app.user_id(ADA).await;
    let sessions = app
        .count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {user}"
        ))
        .await;
    assert!(sessions >= 4, "{sessions} sessions");

    // The page counts the sessions with the account's own row.
    let preview = preview_counts(&ada.get_text("/settings/account/delete").await);
    assert!(preview["Account profile"] > sessions as u64, "{preview:?}");
    let res = ada.delete_own_account(ADA).await;
    assert_eq!(location(res.headers()), "/account-deleted");
    let receipt = app.last_mail_to(ADA).await;
    assert_eq!(receipt_counts(&receipt.body), preview, "{}", receipt.body);
    // What the finished deletion keeps as its record counts the same.
    let kept: serde_json::Value =
        serde_json::from_str(&app.text("SELECT receipt FROM account_deletions").await).unwrap();
    for table in ["users", "sessions", "email_tokens"] {
        assert!(
            kept["rows"][table].as_u64().unwrap_or(0) > 0,
            "{table} in {kept}"
        );
    }
    assert_eq!(kept["rows"]["sessions"], sessions);
}
