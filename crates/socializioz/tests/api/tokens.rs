//! Platform tokens at rest, on both databases: sealed with envelope encryption, bound to their
//! row, absent from the database file and from a dump, and re-wrapped by key rotation.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, id_from_location, spawn_app};
use crate::platform::run_admin;
use domain::{Platform, SocialAccountId};
use secrecy::ExposeSecret;

both_backends!(
    tokens_are_sealed_at_rest_and_open_only_for_their_account,
    rotating_the_master_key_rewraps_every_token,
);

const ACCESS: &str = "sim-access-7f3a9c1e5b2d4f60";
const REFRESH: &str = "sim-refresh-0d8e2b6a4c1f9e37";

async fn account_with_tokens(app: &TestApp, username: &str) -> i64 {
    let client = app
        .verified_user("Ada", &format!("{username}@example.com"))
        .await;
    let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
    let ws = id_from_location(res.headers());
    let account = app.connect_account(ws, Platform::X, username).await;
    app.store_tokens(
        account,
        &format!("{ACCESS}-{username}"),
        &format!("{REFRESH}-{username}"),
    )
    .await;
    account
}

/// Everything the database holds, as bytes: the SQLite files, or a `pg_dump`.
pub(crate) fn database_bytes(app: &TestApp) -> Vec<u8> {
    match app.backend {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let path = app.data.0.join(format!("test.db{suffix}"));
                all.extend(std::fs::read(path).unwrap_or_default());
            }
            all
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&app.database_url)
                .output()
                .expect("pg_dump runs (the postgresql-client package)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    }
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn tokens_are_sealed_at_rest_and_open_only_for_their_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = account_with_tokens(&app, "ada").await;
    let bob = account_with_tokens(&app, "bob").await;

    let opened = app.tokens_of(ada).await;
    assert_eq!(opened.access.expose_secret(), format!("{ACCESS}-ada"));
    assert_eq!(
        opened.refresh.unwrap().expose_secret(),
        format!("{REFRESH}-ada")
    );
    assert_eq!(opened.scopes, ["tweet.read", "tweet.write"]);

    // Nowhere in the database, not even in part.
    let bytes = database_bytes(&app);
    assert!(contains(&bytes, "tweet.write"), "the scan sees the table");
    for needle in [ACCESS, REFRESH, "7f3a9c1e5b2d4f60", "0d8e2b6a4c1f9e37"] {
        assert!(!contains(&bytes, needle), "{needle} found at rest");
    }

    // A sealed value moved to another account's row no longer opens.
    let sealed = app
        .text(&format!(
            "SELECT access_token FROM account_tokens WHERE account_id = {ada}"
        ))
        .await;
    app.exec(&format!(
        "UPDATE account_tokens SET access_token = '{sealed}' WHERE account_id = {bob}"
    ))
    .await;
    assert!(app.services.tokens_of(SocialAccountId(bob)).await.is_err());
    assert!(app.services.tokens_of(SocialAccountId(ada)).await.is_ok());

    // Deleting the account deletes its tokens.
    app.exec(&format!("DELETE FROM social_accounts WHERE id = {ada}"))
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 1);
}

async fn rotating_the_master_key_rewraps_every_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = account_with_tokens(&app, "ada").await;
    let bob = account_with_tokens(&app, "bob").await;
    let key_file = app.data.0.join("master.keys");
    let old = std::fs::read_to_string(&key_file).expect("generated on first start");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM account_tokens WHERE access_token LIKE 'v1.k1.%'")
            .await,
        2
    );

    // A new key goes first; the command re-wraps everything with it.
    let (ok, out, err) = run_admin(&app, &["admin", "keys", "new", "--id", "k2"]);
    assert!(ok, "{err}");
    let new_line = out.trim().to_owned();
    assert!(
        new_line.starts_with("k2:") && new_line.len() == 3 + 64,
        "{new_line}"
    );
    std::fs::write(&key_file, format!("{new_line}\n{old}")).unwrap();
    let (ok, out, err) = run_admin(&app, &["admin", "keys", "rotate"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Re-wrapped 4 sealed values with master key \"k2\""),
        "{out}"
    );
    assert!(
        out.contains("\"k1\""),
        "names the key that is no longer needed: {out}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM account_tokens WHERE access_token LIKE 'v1.k2.%' AND refresh_token LIKE 'v1.k2.%'")
            .await,
        2
    );

    // With only the new key, every token still opens; running again changes nothing.
    let mut services = app.services.clone();
    services.keyring = store::keyring::KeyRing::parse(&new_line).unwrap();
    for (account, name) in [(ada, "ada"), (bob, "bob")] {
        let opened = services
            .tokens_of(SocialAccountId(account))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(opened.access.expose_secret(), format!("{ACCESS}-{name}"));
    }
    assert_eq!(services.rotate_token_keys().await.unwrap(), 0);

    // A lost key file is not silently replaced while sealed tokens exist.
    std::fs::remove_file(&key_file).unwrap();
    let (ok, _, err) = run_admin(&app, &["admin", "keys", "rotate"]);
    assert!(!ok);
    assert!(err.contains("restore master.keys from a backup"), "{err}");
}
