//! The consent ledger under attack: rows given to someone they were not recorded for, rows
//! detached outside a deletion, and a chain cut short with its head moved back, caught by the
//! check (`Services::check_consent_ledger`) and by `admin consent verify [--expect-head]`; the
//! daily run hands the head to an outside witness.

use crate::both_backends;
use crate::helpers::{Backend, Client, TempDir, TestApp, spawn_app_with, spawn_app_with_tags};
use crate::platform::run_admin;
use services::consent::{ChainReport, LedgerCheck, WitnessCheck, Witnessed};

both_backends!(
    an_anonymous_choice_given_to_a_person_breaks_the_chain,
    a_persons_row_moved_to_another_breaks_the_chain,
    a_deletion_detaches_rows_unflagged_and_other_detachment_is_caught,
    a_cut_tail_with_its_head_moved_back_fails_the_witnessed_head,
    rows_appended_after_a_witness_keep_it,
    the_daily_run_appends_the_head_to_the_witness_file,
);

/// A cookie choice from `browser`'s banner: one ledger row.
async fn choose(browser: &Client, choice: &str) {
    let res = browser
        .submit("/consent", &[("choice", choice), ("back", "/")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER, "{choice}");
}

async fn check(app: &TestApp, expect: Option<&str>) -> LedgerCheck {
    let expect = expect.map(|e| Witnessed::parse(e).unwrap());
    app.services
        .check_consent_ledger(expect.as_ref())
        .await
        .unwrap()
}

async fn intact(app: &TestApp) -> u64 {
    match app.services.verify_consent_chain().await.unwrap() {
        ChainReport::Intact { rows } => rows,
        broken => panic!("the ledger should be intact: {broken:?}"),
    }
}

/// The row and reason of a broken chain.
async fn broken(app: &TestApp) -> (i64, String) {
    match app.services.verify_consent_chain().await.unwrap() {
        ChainReport::Broken { row, reason } => (row.expect("a row"), reason),
        intact => panic!("the tampering went unnoticed: {intact:?}"),
    }
}

/// Sets `set` on the ledger row `row` behind the product's back; the check must find the
/// chain broken at that row. Returns the reason it gives.
async fn tamper(app: &TestApp, row: i64, set: &str) -> String {
    app.exec(&format!("UPDATE consent_ledger SET {set} WHERE id = {row}"))
        .await;
    let (at, reason) = broken(app).await;
    assert_eq!(at, row);
    reason
}

/// Ada and Bob sign up; returns Ada's browser and both their ids.
async fn ada_and_bob(app: &TestApp) -> (Client, i64, i64) {
    let ada_browser = app.verified_user("Ada", "ada@example.com").await;
    app.verified_user("Bob", "bob@example.com").await;
    (
        ada_browser,
        app.user_id("ada@example.com").await,
        app.user_id("bob@example.com").await,
    )
}

/// `admin consent verify` fails, naming `row`.
fn cli_says_broken_at(app: &TestApp, row: i64) {
    let (ok, out, err) = run_admin(app, &["admin", "consent", "verify"]);
    assert!(!ok, "{out}");
    assert!(err.contains(&format!("broken at row {row}")), "{err}");
}

async fn an_anonymous_choice_given_to_a_person_breaks_the_chain(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let visitor = app.client();
    choose(&visitor, "accept").await;
    let anonymous = app
        .count("SELECT MAX(id) FROM consent_ledger WHERE user_id IS NULL")
        .await;
    app.verified_user("Ada", "ada@example.com").await;
    let ada = app.user_id("ada@example.com").await;
    let rows = intact(&app).await;
    assert!(rows >= 2, "{rows}");

    // The visitor's choice set onto Ada: it would appear in her history as hers.
    let reason = tamper(&app, anonymous, &format!("user_id = {ada}")).await;
    assert!(reason.contains("attributed to a person"), "{reason}");
    cli_says_broken_at(&app, anonymous);
}

async fn a_persons_row_moved_to_another_breaks_the_chain(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let (ada_browser, ada, bob) = ada_and_bob(&app).await;
    choose(&ada_browser, "reject").await;
    intact(&app).await;
    let hers = app
        .count(&format!(
            "SELECT MAX(id) FROM consent_ledger WHERE user_id = {ada}"
        ))
        .await;

    let reason = tamper(&app, hers, &format!("user_id = {bob}")).await;
    assert!(reason.contains("not recorded for"), "{reason}");
    cli_says_broken_at(&app, hers);

    // Copying Bob's subject onto the row as well does not help: the row hash covers it.
    let reason = tamper(
        &app,
        hers,
        &format!(
            "subject = (SELECT MAX(subject) FROM consent_ledger \
             WHERE user_id = {bob} AND id <> {hers})"
        ),
    )
    .await;
    assert!(reason.contains("edited"), "{reason}");
}

async fn a_deletion_detaches_rows_unflagged_and_other_detachment_is_caught(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let (ada_browser, ada, bob) = ada_and_bob(&app).await;
    choose(&ada_browser, "accept").await;
    let hers = app
        .count(&format!(
            "SELECT COUNT(*) FROM consent_ledger WHERE user_id = {ada}"
        ))
        .await;
    assert!(hers >= 2, "{hers}");

    app.delete_account(ada).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM consent_ledger WHERE user_id = {ada}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'detach'")
            .await,
        1,
        "the deletion records the detachment in the ledger"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM consent_subjects WHERE user_id = {ada}"
        ))
        .await,
        0,
        "her salt goes with her account"
    );
    let after = check(&app, None).await;
    assert!(
        matches!(after.report, ChainReport::Intact { .. }),
        "{after:?}"
    );
    assert_eq!(after.detached, hers as u64);
    let (ok, out, err) = run_admin(&app, &["admin", "consent", "verify"]);
    assert!(ok && out.contains("intact"), "{out}{err}");

    // Bob's row detached by hand, with no deletion: caught.
    let his = app
        .count(&format!(
            "SELECT MIN(id) FROM consent_ledger WHERE user_id = {bob}"
        ))
        .await;
    let reason = tamper(&app, his, "user_id = NULL").await;
    assert!(reason.contains("without an account deletion"), "{reason}");
}

/// The witness `verify` prints: `HASH:LENGTH`.
fn printed_head(app: &TestApp) -> String {
    let (ok, out, err) = run_admin(app, &["admin", "consent", "verify"]);
    assert!(ok, "{out}{err}");
    out.lines()
        .find_map(|l| l.strip_prefix("Head: "))
        .expect("verify prints the head")
        .trim()
        .to_owned()
}

async fn a_cut_tail_with_its_head_moved_back_fails_the_witnessed_head(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let visitor = app.client();
    for choice in ["accept", "reject", "accept", "reject"] {
        choose(&visitor, choice).await;
    }
    let witnessed = printed_head(&app);
    assert_eq!(witnessed, check(&app, None).await.head.to_string());
    assert!(witnessed.ends_with(":4"), "{witnessed}");
    let hash_only = witnessed.split(':').next().unwrap().to_owned();

    // The last two rows cut, and the head moved back onto the second: every link and hash
    // still holds, so the check without a witness cannot tell.
    let second = app.count("SELECT MIN(id) + 1 FROM consent_ledger").await;
    app.exec(&format!("DELETE FROM consent_ledger WHERE id > {second}"))
        .await;
    app.exec(&format!(
        "UPDATE consent_chain SET length = 2, head_hash = \
         (SELECT row_hash FROM consent_ledger WHERE id = {second})"
    ))
    .await;
    assert_eq!(intact(&app).await, 2);
    let (ok, out, err) = run_admin(&app, &["admin", "consent", "verify"]);
    assert!(ok && out.contains("intact: 2 rows"), "{out}{err}");

    // The witnessed head is not.
    let cut = check(&app, Some(&witnessed)).await;
    assert!(
        matches!(&cut.witness, Some(WitnessCheck::Fails { reason }) if reason.contains("fewer")),
        "{cut:?}"
    );
    for expect in [&witnessed, &hash_only] {
        let (ok, out, err) = run_admin(
            &app,
            &["admin", "consent", "verify", "--expect-head", expect],
        );
        assert!(!ok, "{out}");
        assert!(err.contains("no longer holds the witnessed head"), "{err}");
    }

    // Grown back to four rows by new choices: the length matches again, the rows do not.
    for choice in ["reject", "accept"] {
        choose(&visitor, choice).await;
    }
    assert_eq!(intact(&app).await, 4);
    let regrown = check(&app, Some(&witnessed)).await;
    assert!(
        matches!(&regrown.witness, Some(WitnessCheck::Fails { reason }) if reason.contains("rewritten")),
        "{regrown:?}"
    );
    let (ok, _, err) = run_admin(
        &app,
        &["admin", "consent", "verify", "--expect-head", &witnessed],
    );
    assert!(
        !ok && err.contains("row 4 of the ledger is not the witnessed one"),
        "{err}"
    );
}

async fn rows_appended_after_a_witness_keep_it(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let visitor = app.client();
    for choice in ["accept", "reject"] {
        choose(&visitor, choice).await;
    }
    let witnessed = printed_head(&app);
    app.verified_user("Ada", "ada@example.com").await;
    choose(&visitor, "accept").await;
    assert!(intact(&app).await > 3);

    for expect in [
        witnessed.clone(),
        witnessed.split(':').next().unwrap().to_owned(),
    ] {
        assert_eq!(
            check(&app, Some(&expect)).await.witness,
            Some(WitnessCheck::Holds { position: 2 })
        );
        let (ok, out, err) = run_admin(
            &app,
            &["admin", "consent", "verify", "--expect-head", &expect],
        );
        assert!(ok, "{out}{err}");
        assert!(out.contains("is row 2 of the ledger"), "{out}");
    }

    // A head that is no head is refused with a message, not a panic.
    let (ok, _, err) = run_admin(
        &app,
        &["admin", "consent", "verify", "--expect-head", "abc:x"],
    );
    assert!(
        !ok && err.contains("--expect-head") && err.contains("64 hex digits"),
        "{err}"
    );
}

async fn the_daily_run_appends_the_head_to_the_witness_file(backend: Backend) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use store::entities::job;
    let outside = TempDir::new();
    let file = outside.0.join("consent-witness.log");
    let path = file.clone();
    let Some(app) = spawn_app_with(backend, move |s| {
        s.consent.analytics_script = Some(crate::helpers::ANALYTICS_TAG.to_owned());
        s.consent.witness_file = Some(path);
    })
    .await
    else {
        return;
    };
    let visitor = app.client();
    for choice in ["accept", "reject", "accept"] {
        choose(&visitor, choice).await;
    }
    assert!(!file.exists());

    // The day's retention run comes due.
    services::jobs::daily::plan_daily_jobs(&app.services.db)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let planned = job::Entity::find()
        .filter(
            job::Column::Kind
                .eq(<services::jobs::daily::RetentionRun as services::queue::Payload>::KIND),
        )
        .one(&app.services.db)
        .await
        .unwrap()
        .expect("the retention run is planned");
    job::Entity::update_many()
        .col_expr(
            job::Column::RunAt,
            Expr::value(now - chrono::Duration::minutes(1)),
        )
        .filter(job::Column::Id.eq(planned.id))
        .exec(&app.services.db)
        .await
        .unwrap();
    app.worker().run_until_empty().await.unwrap();
    let ran = job::Entity::find_by_id(planned.id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ran.state,
        store::entities::states::JobState::Done,
        "{:?}",
        ran.last_error
    );

    let head = check(&app, None).await.head.to_string();
    assert!(head.ends_with(":3"), "{head}");
    let written = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 1, "{written}");
    assert!(lines[0].ends_with(&format!(" {head}")), "{written}");
    // What the file keeps is what `--expect-head` takes.
    let kept = lines[0].rsplit(' ').next().unwrap();
    let (ok, out, err) = run_admin(&app, &["admin", "consent", "verify", "--expect-head", kept]);
    assert!(ok && out.contains("still holds"), "{out}{err}");
}
