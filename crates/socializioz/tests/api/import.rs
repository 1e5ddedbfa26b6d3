//! Import from URL, on both databases, against the simulator's web host: a file is fetched
//! into the library as if uploaded (named after its address and its bytes, sniffed, held to
//! the import limits while it streams); addresses inside the server's network are refused on
//! the first hop and on every redirect; only origins the operator trusts skip the rules.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, location, spawn_app_with};
use reqwest::StatusCode;

both_backends!(
    a_file_is_imported_from_a_trusted_host_as_if_uploaded,
    addresses_inside_the_network_are_refused,
);

const ADA: &str = "ada@example.com";

async fn files_of(app: &TestApp, ws: i64) -> usize {
    let prefix = store::objects::workspace_prefix(ws);
    app.services.objects.keys(&prefix).await.unwrap().len()
}

async fn a_file_is_imported_from_a_trusted_host_as_if_uploaded(backend: Backend) {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let host = running.base_url.trim_end_matches('/').to_owned();
    let trusted = host.clone();
    let Some(app) = spawn_app_with(backend, move |s| {
        s.media.import_trusted_origins = vec![trusted];
    })
    .await
    else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, ADA).await;
    let import = async |url: &str| {
        ada.submit(&format!("/w/{ws}/media/import"), &[("url", url)])
            .await
    };
    for (address, name) in [
        (format!("{host}/files/picture.png"), "picture.png"),
        (format!("{host}/files/picture"), "picture.png"),
        (
            format!("{host}/files/redirect?to=/files/picture.png"),
            "picture.png",
        ),
    ] {
        let res = import(&address).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{address}");
        let to = location(res.headers());
        let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(
            app.text(&format!(
                "SELECT filename || '|' || mime || '|' || CAST(width AS TEXT) || 'x' || \
                 CAST(height AS TEXT) FROM media_items WHERE id = {id}"
            ))
            .await,
            format!("{name}|image/png|64x48")
        );
        let thumb = ada.get(&format!("/w/{ws}/media/{id}/thumb")).await;
        assert_eq!(thumb.status(), StatusCode::OK);
    }
    let kept = app.count("SELECT COUNT(*) FROM media_items").await;
    let stored = files_of(&app, ws).await;

    // Not media: refused with the upload's own words.
    let res = import(&format!("{host}/files/page.html")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("“page.html” is not a file type Socializioz accepts"),
        "{html}"
    );
    // Over the limit (the upload limit of 10 MB, lower than the import limit of 20 MB):
    // refused when announced, and held while it streams when not.
    for address in [
        format!("{host}/files/large.jpg?mb=11"),
        format!("{host}/files/large.jpg?mb=11&length=0"),
    ] {
        let res = import(&address).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{address}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("“large.jpg” is larger than 10 MB, the limit for"),
            "{html}"
        );
    }
    // A trusted host that redirects inside the network: that hop is judged on its own.
    let res = import(&format!(
        "{host}/files/redirect?to=https://127.0.0.1/secret.png"
    ))
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("127.0.0.1 is not a public address this server can fetch from")
    );
    let res = import(&format!("{host}/files/redirect?to={}/healthz", app.address)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Only https:// addresses can be imported.")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, kept);
    assert_eq!(files_of(&app, ws).await, stored, "nothing left behind");

    // A viewer cannot import.
    let team = app
        .team(
            ("Grace Hopper", "grace@example.com"),
            "Viewers",
            ("Alan Turing", "alan@example.com"),
            "viewer",
        )
        .await;
    let res = team
        .member
        .submit(
            &format!("/w/{}/media/import", team.ws),
            &[("url", &format!("{host}/files/picture.png"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    drop(running);
}

async fn addresses_inside_the_network_are_refused(backend: Backend) {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let host = running.base_url.trim_end_matches('/').to_owned();
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, ADA).await;
    let port = host.rsplit(':').next().unwrap().to_owned();
    for (address, says) in [
        (
            format!("{host}/files/picture.png"),
            "Only https:// addresses can be imported.",
        ),
        (
            format!("https://127.0.0.1:{port}/files/picture.png"),
            "Only the standard https port can be used",
        ),
        (
            "https://127.0.0.1/files/picture.png".to_owned(),
            "127.0.0.1 is not a public address this server can fetch from",
        ),
        (
            "https://localhost/files/picture.png".to_owned(),
            "localhost is not a public address",
        ),
        (
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            "169.254.169.254 is not a public address",
        ),
        (
            "https://[::ffff:10.0.0.1]/a.png".to_owned(),
            "is not a public address",
        ),
        (
            "https://no-such-host.invalid/a.png".to_owned(),
            "no-such-host.invalid is not a public address",
        ),
        (
            "https://ada:secret@example.com/a.png".to_owned(),
            "Addresses with a user name or password in them cannot be imported.",
        ),
        ("   ".to_owned(), "Paste the address of an image or a video"),
        ("file:///etc/passwd".to_owned(), "Only https:// addresses"),
    ] {
        let res = ada
            .submit(&format!("/w/{ws}/media/import"), &[("url", &address)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{address}");
        let html = res.text().await.unwrap();
        assert!(html.contains(says), "{address}: {html}");
        assert!(
            html.contains(&format!("value=\"{}\"", address.replace('&', "&amp;")))
                || address.trim().is_empty(),
            "the address is kept in the form: {address}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 0);
    drop(running);
}
