//! What holds when a client misbehaves on purpose: a decompression bomb refused from its
//! header, half-sent requests and stalled uploads given up (and their partial files removed),
//! uploads at once capped per person, originals served so that no cache keeps them and no
//! other site embeds them, changes sent by another site's page refused, and unreadable query
//! values answered with the product's error page.

use domain::MediaId;
#[path = "../../benches/images/mod.rs"]
mod images;

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, expect_page, png, spawn_app_with};
use bytes::Bytes;
use reqwest::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

both_backends!(
    a_decompression_bomb_is_refused_from_its_header,
    a_stalled_upload_is_given_up_and_leaves_nothing,
    a_fifth_upload_at_once_is_refused,
    originals_are_not_cached_not_embeddable_and_named,
    changes_sent_by_another_sites_page_are_refused,
    an_unreadable_query_value_gets_the_error_page,
);

const EMAIL: &str = "ada@example.com";

/// The header a browser adds to a request another site's page makes.
const CROSS_SITE: (&str, &str) = ("sec-fetch-site", "cross-site");

/// Generous bounds on waiting for events; they only stop a broken test from hanging.
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `done` until it holds (bounded by [`PATIENCE`]).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(PATIENCE, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("waited in vain for {what}"));
}

/// An upload whose file arrives only as the test sends it through the returned sender: while
/// the sender lives and sends nothing, the upload is stalled; dropping it ends the body.
fn upload_by_hand(
    client: &Client,
    path: &str,
    csrf: String,
    name: &str,
) -> (
    mpsc::UnboundedSender<Bytes>,
    tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
) {
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(chunks))
        .file_name(name.to_owned());
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("file", part);
    let request = client.http.post(client.url(path)).multipart(form);
    (tx, tokio::spawn(async move { request.send().await }))
}

async fn a_decompression_bomb_is_refused_from_its_header(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let path = format!("/w/{ws}/media/upload");
    // 400 million pixels in a file of about 2.5 MB.
    let bomb = images::black_png(20_000, 20_000);
    assert!(bomb.len() < 3 * 1024 * 1024, "{} bytes", bomb.len());
    let res = client
        .upload(&path, &[], vec![("bomb.png", bomb)], true)
        .await;
    let page = expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "is 20000 × 20000 pixels; the limit is 48 megapixels",
    )
    .await;
    assert!(page.contains("Nothing was saved"));
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 0);
    assert!(
        app.media_files().is_empty(),
        "no original and no thumbnail: {:?}",
        app.media_files()
    );

    // Judged from the header alone: this one's pixel data is not even valid deflate, so any
    // decoding would fail with "could not be read" instead.
    let res = client
        .upload(
            &path,
            &[],
            vec![("header.png", images::header_only_png(8_000, 7_000))],
            true,
        )
        .await;
    let page = expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "is 8000 × 7000 pixels; the limit is 48 megapixels",
    )
    .await;
    assert!(!page.contains("could not be read"));
    // Nothing of the decoder's own words reaches the page.
    let res = client
        .upload(
            &path,
            &[],
            vec![("small.png", images::header_only_png(100, 100))],
            true,
        )
        .await;
    let page = expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "“small.png” could not be read as a PNG image",
    )
    .await;
    for internal in ["deflate", "Format error", "zlib", "decoding", "IDAT"] {
        assert!(!page.contains(internal), "the page echoes {internal:?}");
    }

    // A normal image under the budget still gets its thumbnail.
    let res = client
        .upload(&path, &[], vec![("fine.png", png(2_000, 1_500, 3))], true)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM media_items WHERE width = 2000 AND height = 1500 AND thumb_key IS NOT NULL")
            .await,
        1
    );
}

/// A request whose headers never finish, a connection that sends nothing, and a keep-alive
/// connection left idle are all closed by the server after the header-read timeout (1 s here),
/// while a complete request is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_closed() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.server.header_read_timeout_seconds = 1;
    })
    .await
    else {
        return;
    };
    let address = ("127.0.0.1", app.port);
    let read_until_closed = |mut stream: TcpStream| async move {
        let mut got = Vec::new();
        let closed = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got)).await;
        assert!(closed.is_ok(), "the server kept the connection open");
        String::from_utf8_lossy(&got).into_owned()
    };

    let mut half = TcpStream::connect(address).await.unwrap();
    half.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow")
        .await
        .unwrap();
    let answer = read_until_closed(half).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    let silent = TcpStream::connect(address).await.unwrap();
    assert_eq!(read_until_closed(silent).await, "");

    let mut whole = TcpStream::connect(address).await.unwrap();
    whole
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(whole).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn a_stalled_upload_is_given_up_and_leaves_nothing(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.server.body_idle_timeout_seconds = 1;
    })
    .await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let user = domain::UserId(app.user_id(EMAIL).await);
    let csrf = client.csrf().await;
    let (tx, answer) = upload_by_hand(&client, &format!("/w/{ws}/media/upload"), csrf, "slow.png");
    tx.send(Bytes::from(png(64, 64, 9)[..200].to_vec()))
        .unwrap();
    // A byte now and then keeps the upload alive until its file has started in storage.
    tokio::time::timeout(PATIENCE, async {
        let mut pace = tokio::time::interval(Duration::from_millis(100));
        while app.media_files().is_empty() {
            pace.tick().await;
            let _ = tx.send(Bytes::from_static(b"\0"));
        }
    })
    .await
    .expect("the upload reached storage");
    assert_eq!(app.services.media_limits.uploads.running(user), 1);

    // Then nothing more is sent, though the connection stays open.
    let res = tokio::time::timeout(PATIENCE, answer)
        .await
        .expect("the stalled upload was given up")
        .unwrap()
        .unwrap();
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "The upload of “slow.png” was interrupted. Nothing was saved.",
    )
    .await;
    assert!(
        app.media_files().is_empty(),
        "the partial file is removed: {:?}",
        app.media_files()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 0);
    assert_eq!(app.services.media_limits.uploads.running(user), 0);
    drop(tx);
}

async fn a_fifth_upload_at_once_is_refused(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let user = domain::UserId(app.user_id(EMAIL).await);
    let path = format!("/w/{ws}/media/upload");
    let csrf = client.csrf().await;
    let mut running = Vec::new();
    for n in 0..4 {
        let (tx, answer) = upload_by_hand(&client, &path, csrf.clone(), &format!("{n}.png"));
        tx.send(Bytes::from(png(64, 64, n)[..100].to_vec()))
            .unwrap();
        running.push((tx, answer));
    }
    let slots = app.services.media_limits.uploads.clone();
    until("four uploads in progress", || slots.running(user) == 4).await;

    let res = client
        .upload(&path, &[], vec![("fifth.png", png(10, 10, 5))], true)
        .await;
    let page = expect_page(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "You already have 4 uploads running. Wait for one to finish",
    )
    .await;
    assert!(page.contains("Slow down"));

    // The limit is per person: another member uploads meanwhile.
    let bob = app.verified_user("Bob", "bob@example.com").await;
    let bob_ws = bob.new_workspace("Bob's").await;
    app.upload_media(&bob, bob_ws, "bob.png", png(10, 10, 6))
        .await;

    // The four end (their bodies end before the form does); the slots come back.
    for (tx, answer) in running {
        drop(tx);
        let res = tokio::time::timeout(PATIENCE, answer)
            .await
            .expect("the cut upload was answered")
            .unwrap()
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(slots.running(user), 0);
    app.upload_media(&client, ws, "after.png", png(10, 10, 7))
        .await;
}

async fn originals_are_not_cached_not_embeddable_and_named(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let image = app
        .upload_media(&client, ws, "Spring launch é.png", png(40, 30, 1))
        .await;
    let mut clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    clip.resize(4096, 1);
    let video = app.upload_media(&client, ws, "clip.mp4", clip).await;

    let check = |res: &reqwest::Response, disposition: &str| {
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["cross-origin-resource-policy"], "same-origin");
        assert_eq!(h["content-disposition"], disposition);
        assert_eq!(h["x-content-type-options"], "nosniff");
    };
    let res = client.get(&format!("/w/{ws}/media/{image}/file")).await;
    check(
        &res,
        "inline; filename=\"Spring launch _.png\"; filename*=UTF-8''Spring%20launch%20%C3%A9.png",
    );
    let res = client.get(&format!("/w/{ws}/media/{video}/file")).await;
    check(
        &res,
        "inline; filename=\"clip.mp4\"; filename*=UTF-8''clip.mp4",
    );

    // The address platforms fetch from serves the original the same way.
    let item = app
        .services
        .media_item(domain::WorkspaceId(ws), MediaId(image))
        .await
        .unwrap();
    let url = app.services.public_media_url(&item).await;
    let res = reqwest::get(&url).await.unwrap();
    check(
        &res,
        "inline; filename=\"Spring launch _.png\"; filename*=UTF-8''Spring%20launch%20%C3%A9.png",
    );
    assert_eq!(res.bytes().await.unwrap(), png(40, 30, 1));
}

async fn changes_sent_by_another_sites_page_are_refused(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (client, _) = owner_with_workspace(&app, EMAIL).await;
    let token = client.csrf().await;
    let create = |site: Option<&'static str>, name: &'static str| {
        let mut req = client
            .http
            .post(client.url("/workspaces/new"))
            .form(&[("csrf", token.as_str()), ("name", name)]);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        req.send()
    };
    // With a valid token, a form another site's page sent is still refused.
    let res = create(Some("cross-site"), "Forged").await.unwrap();
    expect_page(
        res,
        StatusCode::FORBIDDEN,
        "This form was sent from another website",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Forged'")
            .await,
        0
    );
    // This site's own pages, the person's own typing, and clients that send no such header.
    for (site, name) in [
        (Some("same-origin"), "Own page"),
        (Some("none"), "Typed"),
        (None, "No header"),
    ] {
        let res = create(site, name).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{site:?}");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM workspaces WHERE name IN ('Own page', 'Typed', 'No header')"
        )
        .await,
        3
    );

    // Signing in from another site's page is refused too, before the password is looked at.
    let stranger = app.client();
    let res = stranger
        .submit_with_header(
            "/login",
            CROSS_SITE,
            &[("email", EMAIL), ("password", crate::helpers::PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Pages and platform callbacks arrive from other sites as GETs, and are answered.
    let res = client.get_with_header("/settings", CROSS_SITE).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .get_with_header("/oauth/x/callback?state=unknown&code=abc", CROSS_SITE)
        .await;
    assert_ne!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        !res.text()
            .await
            .unwrap()
            .contains("sent from another website")
    );
}

async fn an_unreadable_query_value_gets_the_error_page(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    for path in [
        format!("/w/{ws}/media?kind=image&kind=video"),
        "/login?next=/a&next=/b".to_owned(),
    ] {
        let res = client.get(&path).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let page = res.text().await.unwrap();
        assert!(page.contains("That did not work"), "{path}: {page}");
        assert!(page.contains("<html"), "{path}");
        assert!(
            !page.contains("Failed to deserialize") && !page.contains("duplicate field"),
            "{path}: {page}"
        );
    }
}
