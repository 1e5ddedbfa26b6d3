//! A stolen authorisation code, on both databases, in sandbox mode (the real adapters against
//! the simulator, which enforces PKCE as the platforms do):
//!
//! - every platform that accepts PKCE from a web app (X, TikTok, Facebook) is sent an S256
//!   challenge, and refuses the exchange of a code without its verifier or with another;
//!   LinkedIn gets an OpenID Connect nonce instead, and Instagram neither (it takes neither);
//! - a callback URL (code and state) opened in anyone else's browser is refused and leaves the
//!   state to its owner, whose own callback still connects the account;
//! - a code taken from someone's authorisation and sent with the taker's own state is refused
//!   (PKCE at the platform; the ID token's nonce for LinkedIn): nothing reaches their workspace.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, sandbox, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, PASSWORD, TestApp, expect_page, location};
use domain::Platform;
use providers::social::{ConnectError, Connector};
use reqwest::StatusCode;

both_backends!(
    pkce_goes_to_every_platform_that_takes_it,
    a_foreign_callback_leaves_the_state_to_its_owner,
    a_code_from_another_authorisation_is_refused,
);

/// The value of `name` in a URL's query.
fn query_value(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The simulator's address on the app (the sandbox serves it at `/_sandbox`).
fn simulator(app: &TestApp) -> String {
    format!("{}/_sandbox", app.address)
}

/// The platform's adapter as the sandbox configures it, to talk to the simulator the way the
/// app does.
fn adapter(app: &TestApp, platform: Platform) -> Box<dyn Connector> {
    use providers::social::facebook::{Facebook, FacebookConfig};
    use providers::social::instagram::{Instagram, InstagramConfig};
    use providers::social::linkedin::{LinkedIn, LinkedInConfig};
    use providers::social::tiktok::{TikTok, TikTokConfig};
    use providers::social::x::{X, XConfig};
    let base = simulator(app);
    match platform {
        Platform::Facebook => Box::new(Facebook::new(FacebookConfig::simulated(&base))),
        Platform::Instagram => Box::new(Instagram::new(InstagramConfig::simulated(&base))),
        Platform::LinkedIn => Box::new(LinkedIn::new(LinkedInConfig::simulated(&base))),
        Platform::TikTok => Box::new(TikTok::new(TikTokConfig::simulated(&base))),
        Platform::X => Box::new(X::new(XConfig::simulated(&base))),
    }
}

/// Starts connecting `platform` as `client` and authorises at the platform; returns the
/// authorize URL and the callback URL the platform sends the browser back to.
async fn authorised(client: &Client, ws: i64, platform: Platform) -> (String, String) {
    let authorize = start_platform(client, ws, platform.slug()).await;
    let back = at_platform(&authorize, "allow").await;
    (authorize, back)
}

async fn connected_in(app: &TestApp, ws: i64) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM social_accounts WHERE workspace_id = {ws} AND status = 'connected'"
    ))
    .await
}

async fn pkce_goes_to_every_platform_that_takes_it(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    for platform in Platform::ALL {
        let authorize = start_platform(&client, ws, platform.slug()).await;
        let challenge = query_value(&authorize, "code_challenge");
        let takes_pkce = matches!(
            platform,
            Platform::X | Platform::TikTok | Platform::Facebook
        );
        assert_eq!(challenge.is_some(), takes_pkce, "{platform}: {authorize}");
        assert!(
            !authorize.contains("code_verifier"),
            "{platform}: the verifier never leaves the server"
        );
        if takes_pkce {
            assert_eq!(
                query_value(&authorize, "code_challenge_method").as_deref(),
                Some("S256"),
                "{platform}: {authorize}"
            );
            // 32 bytes of SHA-256, base64url without padding.
            assert_eq!(challenge.unwrap().len(), 43, "{platform}");
        }
        // LinkedIn's ID token is bound to the flow by a nonce (a fresh one each time).
        let nonce = query_value(&authorize, "nonce");
        assert_eq!(
            nonce.is_some(),
            platform == Platform::LinkedIn,
            "{platform}: {authorize}"
        );
        if let Some(nonce) = nonce {
            let again = start_platform(&client, ws, platform.slug()).await;
            assert_ne!(query_value(&again, "nonce"), Some(nonce));
            assert_ne!(
                query_value(&again, "state"),
                query_value(&authorize, "state")
            );
        }
    }

    // The platforms that take PKCE refuse the exchange of a code without its verifier, or
    // with one that is not its flow's, in their own error shapes; the flow's own callback
    // (which sends the right verifier) connects.
    for platform in [Platform::X, Platform::TikTok, Platform::Facebook] {
        let connector = adapter(&app, platform);
        for verifier in [None, Some("not-this-flows-verifier-0123456789-0123456789")] {
            let (_, back) = authorised(&client, ws, platform).await;
            let code = query_value(&back, "code").unwrap();
            let redirect = back.split_once('?').unwrap().0;
            match connector.exchange(&code, verifier, redirect).await {
                Err(ConnectError::Refused(why)) => assert!(
                    why.contains("verifier") || why.contains("code_challenge"),
                    "{platform} {verifier:?}: {why}"
                ),
                other => panic!("{platform} {verifier:?}: expected a refusal, got {other:?}"),
            }
        }
        let (_, back) = authorised(&client, ws, platform).await;
        let res = client.get(&callback_path(&app, &back)).await;
        if platform == Platform::Facebook {
            // The exchange went through: the login's two pages are offered to choose from.
            let page = expect_page(res, StatusCode::OK, "acme Bakery").await;
            assert!(page.contains("acme Studio"), "{page}");
        } else {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{platform}");
            assert_eq!(location(res.headers()), format!("/w/{ws}/accounts"));
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM social_accounts WHERE platform IN ('x', 'tiktok')")
            .await,
        2
    );
}

async fn a_foreign_callback_leaves_the_state_to_its_owner(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (victim, victim_ws) = owner_with_workspace(&app, "ada@example.com").await;
    let (attacker, attacker_ws) = owner_with_workspace(&app, "mallory@example.com").await;
    // Ada's second browser: the same person, another session.
    let elsewhere = app.client();
    assert_eq!(
        elsewhere.log_in("ada@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let (_, back) = authorised(&victim, victim_ws, Platform::LinkedIn).await;
    let path = callback_path(&app, &back);
    assert!(path.contains("code=") && path.contains("state="), "{path}");

    // Mallory opens Ada's callback URL (code and state) in his browser: refused, nothing
    // connected anywhere, and Ada's state is still there.
    for (who, browser) in [("mallory", &attacker), ("ada's other browser", &elsewhere)] {
        expect_page(
            browser.get(&path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "no longer valid",
        )
        .await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM social_accounts").await,
            0,
            "{who}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM oauth_states").await,
            1,
            "{who}: the state is left to its owner"
        );
    }

    // Ada's own callback still connects her account, to her workspace.
    let res = victim.get(&path).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{victim_ws}/accounts"));
    assert_eq!(connected_in(&app, victim_ws).await, 1);
    assert_eq!(connected_in(&app, attacker_ws).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_states").await, 0);

    // Once spent, it is spent for everyone, its owner too.
    for browser in [&victim, &attacker] {
        expect_page(
            browser.get(&path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "no longer valid",
        )
        .await;
    }
    assert_eq!(connected_in(&app, attacker_ws).await, 0);
}

async fn a_code_from_another_authorisation_is_refused(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (victim, victim_ws) = owner_with_workspace(&app, "ada@example.com").await;
    let (attacker, attacker_ws) = owner_with_workspace(&app, "mallory@example.com").await;
    // Instagram takes neither PKCE nor a nonce: only the session binding of the state (the
    // test above) protects it.
    for platform in [
        Platform::LinkedIn,
        Platform::Facebook,
        Platform::X,
        Platform::TikTok,
    ] {
        // Ada authorises; her code is taken from the callback URL before her browser uses it.
        let (_, back) = authorised(&victim, victim_ws, platform).await;
        let stolen = query_value(&back, "code").unwrap();
        // Mallory starts his own connection and sends Ada's code with his own state.
        let own = start_platform(&attacker, attacker_ws, platform.slug()).await;
        let state = query_value(&own, "state").unwrap();
        let injected = format!(
            "/oauth/{}/callback?{}",
            platform.slug(),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("state", &state)
                .append_pair("code", &stolen)
                .finish()
        );
        let page = expect_page(
            attacker.get(&injected).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{platform} did not accept the connection"),
        )
        .await;
        if platform == Platform::LinkedIn {
            // LinkedIn handed out tokens; the ID token's nonce is another flow's.
            assert!(page.contains("another connection attempt"), "{page}");
        }
        assert_eq!(connected_in(&app, attacker_ws).await, 0, "{platform}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM account_tokens").await,
            0,
            "{platform}"
        );
    }
}
