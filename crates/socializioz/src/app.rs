//! Assembling the application: database, services, web server and worker, under one shutdown.

use crate::config::Settings;
use crate::tls;
use anyhow::Context;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::serve::Listener;
use domain::Platform;
use futures_util::StreamExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use services::Services;
use services::jobs::worker::Worker;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tower::ServiceExt;

/// Opens the database (creating and migrating an embedded one on first start) and builds the
/// services around it. `public_url` is where links in e-mails point.
pub async fn services(settings: &Settings, public_url: String) -> anyhow::Result<Services> {
    Ok(assemble(settings, public_url).await?.0)
}

/// Makes what the server keeps on disk its user's only (Unix): the data folder is created
/// `0700`; in it, and in the outbox and media folders and the SQLite files wherever they are
/// configured, folders readable by others become `0700` and such files `0600` (one warning
/// says how many; what the server creates is already so).
fn private_data(settings: &Settings) -> anyhow::Result<()> {
    let data = &settings.data.dir;
    if !data.exists() {
        store::files::private_dir(data)
            .with_context(|| format!("could not create the data folder {}", data.display()))?;
    }
    let mut places = vec![data.clone(), settings.outbox_dir(), settings.media_dir()];
    if let Ok(file) = store::backup::sqlite_path(&settings.database_url()) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            places.push(name.into());
        }
    }
    let mut fixed = 0;
    for (i, place) in places.iter().enumerate() {
        if i > 0 && place.starts_with(data) {
            continue;
        }
        fixed += store::files::restrict_tree(place).with_context(|| {
            format!(
                "could not make {} readable by this user only",
                place.display()
            )
        })?;
    }
    if fixed > 0 {
        tracing::warn!(
            fixed,
            folder = %data.display(),
            "others could read files of this server: their permissions are now 0600 (folders 0700)"
        );
    }
    Ok(())
}

/// Where the built-in simulator's pages are served on the main server in sandbox mode:
/// `{public_url}/_sandbox/x/…`.
pub const SANDBOX_PREFIX: &str = "/_sandbox";

/// The services, and in sandbox mode the simulator started in this process, whose pages the
/// web server serves under [`SANDBOX_PREFIX`].
async fn assemble(
    settings: &Settings,
    public_url: String,
) -> anyhow::Result<(Services, Option<sim::Simulator>)> {
    private_data(settings)?;
    let db = store::connect(&settings.database_url(), settings.database.max_connections).await?;
    store::migrate(&db).await?;
    let mailer = providers::mail::build(
        &settings.mail.from,
        settings.smtp_config().as_ref(),
        settings.outbox_dir(),
    )?;
    let Platforms {
        publishers,
        connectors,
        metrics,
        comments,
        messages,
        sandbox,
    } = platforms(settings, &public_url).await?;
    let mut billing = settings.billing()?;
    if let Some(sandbox) = &sandbox
        && billing.is_on()
        && billing.paypal.is_none()
    {
        let seller = match settings.billing.as_ref().and_then(|b| b.seller.as_ref()) {
            Some(s) => s.seller()?,
            None => crate::config::billing::sandbox_seller(),
        };
        billing.paypal = Some(std::sync::Arc::new(sandbox_paypal(sandbox, seller)?));
        billing.mode = services::plans::Mode::PayPal;
    }
    let mut ai = settings.ai()?;
    if let Some(sandbox) = &sandbox
        && ai.is_none()
    {
        let mut simulated = crate::config::ai::AiSettings::simulated(&sandbox.api).assistant()?;
        // The simulator's port changes with each start; what a workspace agreed to does not.
        simulated.disclosure.address = "the simulator built into this server".to_owned();
        if let Some(video) = simulated.disclosure.video.as_mut() {
            video.address = "the simulator built into this server".to_owned();
        }
        if let Some(speech) = simulated.disclosure.speech.as_mut() {
            speech.address = "the simulator built into this server".to_owned();
        }
        ai = Some(simulated);
        tracing::warn!("sandbox mode: AI is simulated; no text leaves this server");
    }
    let simulator = sandbox.map(|s| s.simulator);
    let (keyring, new_key_file) = settings.key_ring()?;
    if new_key_file {
        use store::sea_orm::{EntityTrait, PaginatorTrait};
        let sealed = store::entities::account_token::Entity::find()
            .count(&db)
            .await
            .context("could not count the sealed tokens")?;
        anyhow::ensure!(
            sealed == 0,
            "the master key file was missing, so a new one was just written, but {} sealed \
             with the old one: stop, restore master.keys from a backup over the new file, and \
             start again",
            domain::counted(sealed, "platform token was", "platform tokens were")
        );
    }
    let services = Services {
        db,
        mailer,
        keys: services::tokens::Keys::new(settings.secret_key()?),
        base_url: public_url,
        login_throttle: services::accounts::default_throttle(),
        signup_throttle: std::sync::Arc::new(settings.signup.throttle()?),
        policy_cache: Default::default(),
        kept_views: Default::default(),
        publish_batches: Default::default(),
        publishers,
        connectors,
        metrics,
        comments,
        messages,
        x_reads_per_month: settings.analytics.x_reads_per_month,
        sandbox: settings.platforms.sandbox || settings.platforms.simulator.is_some(),
        wake: Default::default(),
        keyring,
        objects: settings.media_store()?,
        media_limits: services::media::MediaLimits {
            video: settings.video_tools().await,
            ..settings.media_limits()
        },
        retention: settings.retention.to_retention()?,
        invitation_limits: settings.invitations.limits()?,
        backups: settings.backup_target(),
        admins: settings.admin.addresses()?,
        consent_witness: settings.consent.witness_file.clone(),
        billing,
        ai: ai.map(std::sync::Arc::new),
    };
    if simulator.is_some() && services.billing.paypal.is_some() {
        // The sandbox's PayPal needs its catalogue and webhook before anyone subscribes.
        match services.billing_sync().await {
            Ok(_) => tracing::warn!("sandbox mode: PayPal is simulated; no money moves"),
            Err(err) => tracing::error!(error = %err, "the sandbox's PayPal could not be set up"),
        }
    }
    Ok((services, simulator))
}

/// The adapters of the platforms the instance speaks to, by what they do.
struct Platforms {
    publishers: providers::social::Publishers,
    connectors: providers::social::Connectors,
    metrics: providers::social::metrics::MetricsReaders,
    comments: providers::social::comments::CommentAdapters,
    messages: providers::social::messages::MessageAdapters,
    sandbox: Option<Sandbox>,
}

/// The simulator this process started for the sandbox, and where its API is called.
struct Sandbox {
    simulator: sim::Simulator,
    /// `http://127.0.0.1:<port>` (loopback).
    api: String,
}

/// PayPal as the sandbox's simulator plays it: its API over loopback, webhooks signed under
/// its own test authority (the only root trusted), each event delivered as it happens.
fn sandbox_paypal(
    sandbox: &Sandbox,
    seller: services::billing::Seller,
) -> anyhow::Result<services::billing::PayPalBilling> {
    let root = sandbox.simulator.paypal_root_pem()?;
    let roots = providers::billing::webhook::certificates_from_pem(root.as_bytes())
        .map_err(anyhow::Error::msg)?;
    let paypal = crate::config::billing::PayPalSettings::simulated(&sandbox.api)
        .build_with_roots(seller, Some(roots))?;
    sandbox.simulator.paypal_auto_deliver(true);
    Ok(paypal)
}

/// The adapters of the configured platforms, or, in sandbox mode, of every simulated platform
/// pointed at a simulator: the one `platforms.simulator` names, or one started in this process
/// (it lives as long as the process, and is returned so that the web server serves its pages).
/// The adapters call a simulator of this process over loopback, while what a browser opens (the
/// authorisation pages, the links to posts) is under `public_url` + [`SANDBOX_PREFIX`], so the
/// sandbox works wherever the server's own pages do.
async fn platforms(settings: &Settings, public_url: &str) -> anyhow::Result<Platforms> {
    use providers::social::facebook::{Facebook, FacebookConfig};
    use providers::social::instagram::{Instagram, InstagramConfig};
    use providers::social::linkedin::{LinkedIn, LinkedInConfig};
    use providers::social::tiktok::{TikTok, TikTokConfig};
    use providers::social::x::{X, XConfig};
    use std::sync::Arc;

    let mut publishers = providers::social::Publishers::default();
    let mut connectors = providers::social::Connectors::default();
    let mut metrics = providers::social::metrics::MetricsReaders::default();
    let mut comments = providers::social::comments::CommentAdapters::default();
    let mut messages = providers::social::messages::MessageAdapters::default();
    // TikTok's API has no comments for the product's permissions: it is registered `counts
    // only`, without a comments adapter.
    macro_rules! register {
        ($platform:expr, $adapter:expr, counts only) => {{
            let adapter = Arc::new($adapter);
            publishers = publishers.with($platform, adapter.clone());
            connectors = connectors.with($platform, adapter.clone());
            metrics = metrics.with($platform, adapter);
        }};
        ($platform:expr, $adapter:expr) => {{
            let adapter = Arc::new($adapter);
            publishers = publishers.with($platform, adapter.clone());
            connectors = connectors.with($platform, adapter.clone());
            metrics = metrics.with($platform, adapter.clone());
            comments = comments.with($platform, adapter);
        }};
        // Instagram also has direct messages (the inbox).
        ($platform:expr, $adapter:expr, with messages) => {{
            let adapter = Arc::new($adapter);
            publishers = publishers.with($platform, adapter.clone());
            connectors = connectors.with($platform, adapter.clone());
            metrics = metrics.with($platform, adapter.clone());
            comments = comments.with($platform, adapter.clone());
            messages = messages.with($platform, adapter);
        }};
    }
    let p = &settings.platforms;
    if p.sandbox || p.simulator.is_some() {
        // `api`: where the adapters call it; `public`: where browsers are sent.
        let (api, public, simulator) = match &p.simulator {
            Some(url) => {
                let url = url.trim_end_matches('/').to_owned();
                (url.clone(), url, None)
            }
            None => {
                let public = format!("{}{SANDBOX_PREFIX}", public_url.trim_end_matches('/'));
                let simulator = sim::Simulator::new().with_public_base(&public);
                let running = simulator
                    .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .context("could not start the platform simulator")?;
                let api = running.base_url.clone();
                // The simulator serves for the rest of the process.
                std::mem::forget(running);
                (api.clone(), public, Some(Sandbox { simulator, api }))
            }
        };
        tracing::warn!(simulator = %public, "sandbox mode: the platforms are simulated");
        let mut facebook = FacebookConfig::simulated(&api);
        let seen = FacebookConfig::simulated(&public);
        (facebook.authorize_base, facebook.web_base) = (seen.authorize_base, seen.web_base);
        register!(Platform::Facebook, Facebook::new(facebook));
        let mut instagram = InstagramConfig::simulated(&api);
        instagram.authorize_url = InstagramConfig::simulated(&public).authorize_url;
        register!(Platform::Instagram, Instagram::new(instagram), with messages);
        let mut tiktok = TikTokConfig::simulated(&api);
        let seen = TikTokConfig::simulated(&public);
        (tiktok.authorize_url, tiktok.web_base) = (seen.authorize_url, seen.web_base);
        register!(Platform::TikTok, TikTok::new(tiktok), counts only);
        let mut x = XConfig::simulated(&api);
        let seen = XConfig::simulated(&public);
        (x.authorize_url, x.web_base) = (seen.authorize_url, seen.web_base);
        register!(Platform::X, X::new(x));
        let mut linkedin = LinkedInConfig::simulated(&api);
        let seen = LinkedInConfig::simulated(&public);
        (linkedin.authorize_base, linkedin.web_base) = (seen.authorize_base, seen.web_base);
        register!(Platform::LinkedIn, LinkedIn::new(linkedin));
        return Ok(Platforms {
            publishers,
            connectors,
            metrics,
            comments,
            messages,
            sandbox: simulator,
        });
    }
    if let Some(x) = &p.x {
        let mut config = XConfig::production(x.client_id.clone(), x.client_secret.clone());
        if let Some(base) = &x.api_base {
            config.api_base = base.trim_end_matches('/').to_owned();
        }
        if let Some(url) = &x.authorize_url {
            config.authorize_url = url.clone();
        }
        register!(Platform::X, X::new(config));
    }
    if let Some(c) = &p.facebook {
        let mut config = FacebookConfig::production(c.client_id.clone(), c.client_secret.clone());
        if let Some(version) = &c.version {
            config.version = version.clone();
        }
        register!(Platform::Facebook, Facebook::new(config));
    }
    if let Some(c) = &p.instagram {
        let mut config = InstagramConfig::production(c.client_id.clone(), c.client_secret.clone());
        if let Some(version) = &c.version {
            config.version = version.clone();
        }
        register!(Platform::Instagram, Instagram::new(config), with messages);
    }
    if let Some(c) = &p.tiktok {
        let mut config = TikTokConfig::production(c.client_id.clone(), c.client_secret.clone());
        config.audited = c.audited;
        register!(Platform::TikTok, TikTok::new(config), counts only);
    }
    if let Some(c) = &p.linkedin {
        let mut config = LinkedInConfig::production(c.client_id.clone(), c.client_secret.clone());
        if let Some(version) = &c.version {
            config.version = version.clone();
        }
        config.read_member_posts = c.read_member_posts;
        register!(Platform::LinkedIn, LinkedIn::new(config));
    }
    Ok(Platforms {
        publishers,
        connectors,
        metrics,
        comments,
        messages,
        sandbox: None,
    })
}

/// Installs aws-lc-rs as the process's one TLS provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

pub struct Application {
    listener: TcpListener,
    local: SocketAddr,
    services: Services,
    settings: Settings,
    with_worker: bool,
    /// The sandbox's simulator, when it runs in this process.
    simulator: Option<sim::Simulator>,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and prepares everything; nothing is served
    /// until `run_until_stopped`.
    pub async fn build(settings: Settings, with_worker: bool) -> anyhow::Result<Self> {
        install_crypto_provider();
        let addr = settings.listen_addr()?;
        let listener = TcpListener::bind(addr).await.with_context(|| {
            format!("could not listen on {addr}; is another program using it? Change server.listen")
        })?;
        let local = listener.local_addr()?;
        let (services, simulator) = assemble(&settings, settings.public_url(local)).await?;
        Ok(Self {
            listener,
            local,
            services,
            settings,
            with_worker,
            simulator,
        })
    }

    pub fn port(&self) -> u16 {
        self.local.port()
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Replaces the platform publishers (tests register their recording double here).
    pub fn set_publishers(&mut self, publishers: providers::social::Publishers) {
        self.services.publishers = publishers;
    }

    /// Serves until `shutdown` completes, then lets requests in flight and the job in progress
    /// finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = self.with_worker.then(|| {
            let options = self.settings.worker.options();
            tokio::spawn(Worker::new(self.services.clone(), options).run(stop_rx.clone()))
        });
        let outbox = self
            .settings
            .smtp
            .is_none()
            .then(|| self.settings.outbox_dir().display().to_string());
        let https = self.settings.tls_enabled() || self.services.base_url.starts_with("https://");
        let config = web::WebConfig {
            https,
            outbox,
            trusted_proxies: self.settings.trusted_proxies()?,
            analytics_script: self.settings.consent.analytics_script.clone(),
            marketing_script: self.settings.consent.marketing_script.clone(),
            processors: self.settings.processors(),
        };
        let mut app = web::app(self.services.clone(), config);
        if let Some(simulator) = &self.simulator {
            // The sandbox's pages, on this server's own address (outside the product's
            // middleware: they stand for another site).
            app = axum::Router::new()
                .nest(SANDBOX_PREFIX, simulator.router())
                .merge(app);
        }
        let limits = ConnectionLimits {
            header_read: Duration::from_secs(self.settings.server.header_read_timeout_seconds),
            body_idle: Duration::from_secs(self.settings.server.body_idle_timeout_seconds),
        };
        tracing::info!(
            address = %self.settings.public_url(self.local),
            mail = %self.services.mailer.describe(),
            media = %self.services.objects.describe(),
            worker = self.with_worker,
            "Socializioz is serving"
        );
        let mut stop_rx = stop_rx;
        let signal = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        match (&self.settings.tls.cert, &self.settings.tls.key) {
            (Some(cert), Some(key)) => {
                let config = tls::server_config(cert, key)?;
                let listener = tls::TlsListener::new(self.listener, config, limits.header_read)?;
                serve(listener, app, limits, signal).await;
            }
            _ => serve(self.listener, app, limits, signal).await,
        }
        if let Some(worker) = worker {
            let _ = stop_rx.wait_for(|stopped| *stopped).await;
            worker.await.context("the worker task failed")?;
        }
        Ok(())
    }
}

/// How long the server waits on a client.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// For a request's headers (a half-sent request is closed after this), and for the first
    /// request of a new connection.
    header_read: Duration,
    /// For the next bytes of a request body that has started.
    body_idle: Duration,
}

/// Serves `app` on every connection `listener` accepts until `shutdown` completes, then lets
/// the requests in flight finish. Like `axum::serve`, with the limits a public server needs,
/// which `axum::serve` does not set: HTTP/1 headers must arrive within `header_read` (hyper's
/// header-read timeout, which also closes keep-alive connections left idle that long), a new
/// connection must send its first request within it too (whichever HTTP version it speaks),
/// and a request body that stops arriving for `body_idle` ends in an error for its handler.
async fn serve<L>(
    mut listener: L,
    app: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: Listener<Addr = SocketAddr>,
{
    let (closing_tx, closing_rx) = watch::channel(false);
    // Every connection holds a sender; `recv` ends once all of them are gone.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let closing = closing_rx.clone();
        let open = open_tx.clone();
        tokio::spawn(async move {
            serve_connection(io, peer, app, limits, closing).await;
            drop(open);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    drop(open_tx);
    let _ = open_rx.recv().await;
}

async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    app: axum::Router,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let first_request = Arc::new(Notify::new());
    let seen = first_request.clone();
    let idle = limits.body_idle;
    let service = app.map_request(move |req: Request<Incoming>| {
        seen.notify_one();
        let mut req = req.map(|body| idle_limited(body, idle));
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder.http2().timer(TokioTimer::new());
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    let mut first_deadline = std::pin::pin!(tokio::time::sleep(limits.header_read));
    let (mut started, mut stopping) = (false, false);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "a connection ended with an error");
                }
                break;
            }
            () = first_request.notified(), if !started => started = true,
            () = &mut first_deadline, if !started => {
                tracing::debug!("a connection sent no complete request in time; closed");
                break;
            }
            _ = closing.wait_for(|closing| *closing), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A request body that ends in an error when no bytes arrive for `idle`: a stalled upload
/// fails (and its partial file is removed) instead of holding its request for hours.
fn idle_limited(body: Incoming, idle: Duration) -> Body {
    let body = Body::new(body);
    if body.is_end_stream() {
        return body;
    }
    let chunks =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |state| async move {
            let mut chunks = state?;
            match tokio::time::timeout(idle, chunks.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(chunks))),
                Ok(None) => None,
                Err(_) => {
                    let stalled = std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no bytes of the request body arrived for {idle:?}"),
                    );
                    Some((Err(axum::Error::new(stalled)), None))
                }
            }
        });
    Body::from_stream(chunks)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests and the job in progress");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::platforms;
    use domain::Platform;
    use std::path::Path;

    /// The scopes LinkedIn is asked for with `[platforms.linkedin]` and these extra settings.
    async fn linkedin_scopes(extra: &[(&str, &str)]) -> Vec<&'static str> {
        let mut env = vec![
            ("SOCIALIZIOZ__PLATFORMS__LINKEDIN__CLIENT_ID", "client"),
            ("SOCIALIZIOZ__PLATFORMS__LINKEDIN__CLIENT_SECRET", "secret"),
        ];
        env.extend_from_slice(extra);
        let env: Vec<(String, String)> = env
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let settings = crate::config::load(Some(Path::new("/dev/null")), env).unwrap();
        let platforms = platforms(&settings, "https://social.example.com")
            .await
            .unwrap();
        platforms
            .connectors
            .get(Platform::LinkedIn)
            .unwrap()
            .publishing_scopes()
            .to_vec()
    }

    #[tokio::test]
    async fn linkedin_is_asked_to_read_members_posts_only_when_the_app_may() {
        let plain = linkedin_scopes(&[]).await;
        assert!(plain.contains(&"w_member_social"), "{plain:?}");
        assert!(!plain.contains(&"r_member_social"), "{plain:?}");
        let reading = linkedin_scopes(&[(
            "SOCIALIZIOZ__PLATFORMS__LINKEDIN__READ_MEMBER_POSTS",
            "true",
        )])
        .await;
        assert!(reading.contains(&"r_member_social"), "{reading:?}");
    }
}
