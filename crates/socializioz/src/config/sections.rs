//! The settings' sections: one struct each, with its defaults (the ones the README lists) and,
//! where a section's values become another crate's type, the checks on its own values.

use super::lenient::{lenient_bool, lenient_list, lenient_opt_u16, lenient_u32, lenient_u64};
use super::{ConfigError, err};
use providers::mail::SmtpSecurity;
use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

/// The social platforms: each is offered once its client is configured (or all of them, run by
/// the built-in simulator, in sandbox mode).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    /// Run the platform simulator inside `serve` and connect to it instead of the platforms.
    /// Browsers reach its pages on this server, at `{public_url}/_sandbox/`.
    #[serde(deserialize_with = "lenient_bool")]
    pub sandbox: bool,
    /// An already running simulator (`socializioz sim`) to use instead of starting one; implies
    /// sandbox mode. Browsers are sent to this address, so it must be one they reach.
    pub simulator: Option<String>,
    pub x: Option<XSettings>,
    pub facebook: Option<ClientSettings>,
    pub instagram: Option<ClientSettings>,
    pub tiktok: Option<ClientSettings>,
    pub linkedin: Option<ClientSettings>,
}

/// A platform app's credentials (TikTok calls the id a "client key").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    /// The API version to speak (Graph `v25.0`, LinkedIn `202601`), where the platform has
    /// one; the adapter's default otherwise.
    #[serde(default)]
    pub version: Option<String>,
    /// TikTok only: the app has passed TikTok's audit, so posts may be public (until then
    /// TikTok allows apps private posts only).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub audited: bool,
    /// LinkedIn only: LinkedIn granted the app `r_member_social`, so a publishing call whose
    /// answer was lost can be looked up among the member's posts (it is then asked for when
    /// an account is connected). Without it, such a post is left for a person to check.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub read_member_posts: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XSettings {
    pub client_id: String,
    /// For confidential clients (a "Web App" in X's developer portal).
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Defaults to `https://api.x.com`.
    #[serde(default)]
    pub api_base: Option<String>,
    /// Defaults to `https://x.com/i/oauth2/authorize`.
    #[serde(default)]
    pub authorize_url: Option<String>,
}

/// The operator's optional tags. Each is rendered, and its category's first-party cookie set,
/// only for browsers whose cookie choice allows that category.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConsentSettings {
    /// Script URL of an analytics service (for example a self-hosted Plausible or Matomo).
    pub analytics_script: Option<String>,
    /// Script URL of a marketing or advertising service.
    pub marketing_script: Option<String>,
    /// A file outside the database that the daily retention run appends the consent ledger's
    /// head to (`<time> HASH:LENGTH`), for `admin consent verify --expect-head`.
    pub witness_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// The address people use to reach the product (for links in e-mails), when it differs
    /// from `listen` (behind a proxy, say).
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` header is believed, so that per-client limits
    /// count people rather than the proxy. From the environment: a comma-separated list.
    #[serde(deserialize_with = "lenient_list")]
    pub trusted_proxies: Vec<String>,
    /// How long a client may take to send a request's headers (and, with TLS, its handshake)
    /// before the connection is closed, in seconds.
    #[serde(deserialize_with = "lenient_u64")]
    pub header_read_timeout_seconds: u64,
    /// How long a request body (an upload, say) may go without a single byte arriving before
    /// the request is given up, in seconds.
    #[serde(deserialize_with = "lenient_u64")]
    pub body_idle_timeout_seconds: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            trusted_proxies: vec!["127.0.0.1".to_owned(), "::1".to_owned()],
            header_read_timeout_seconds: 15,
            body_idle_timeout_seconds: 30,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSettings {
    pub dir: PathBuf,
}

impl Default for DataSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("./data"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://path` or `postgres://…`; defaults to `sqlite://<data.dir>/socializioz.db`.
    pub url: Option<SecretString>,
    #[serde(deserialize_with = "lenient_u32")]
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    pub from: String,
    /// Where messages are written when no SMTP server is configured; defaults to
    /// `<data.dir>/outbox`.
    pub outbox: Option<PathBuf>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "Socializioz <no-reply@localhost>".to_owned(),
            outbox: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default, deserialize_with = "lenient_opt_u16")]
    pub port: Option<u16>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub security: SmtpSecurity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// Defaults to `<data.dir>/media`.
    pub dir: Option<PathBuf>,
    /// The largest image, in MB.
    #[serde(deserialize_with = "lenient_u64")]
    pub image_max_mb: u64,
    /// The largest video, in MB.
    #[serde(deserialize_with = "lenient_u64")]
    pub video_max_mb: u64,
    /// How long a signed media address stays valid, in hours.
    #[serde(deserialize_with = "lenient_u64")]
    pub url_ttl_hours: u64,
    /// The most pixels an image may have, in millions; read from the file's header, before
    /// it is decoded.
    #[serde(deserialize_with = "lenient_u64")]
    pub max_megapixels: u64,
    /// How many uploads one person may have in progress at once.
    #[serde(deserialize_with = "lenient_u64")]
    pub uploads_per_person: u64,
    /// An S3-compatible bucket instead of the folder.
    pub s3: Option<S3Settings>,
    /// ffmpeg, for a video's poster frame (a path, or a name looked up on `PATH`; `""`: none).
    pub ffmpeg: String,
    /// ffprobe, for a video's length and picture size (as `ffmpeg`).
    pub ffprobe: String,
    /// Origins (`http://dam.intranet:8080`) that Import from URL may fetch from although
    /// they are not https or not public: an internal asset server. Empty by default.
    pub import_trusted_origins: Vec<String>,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            dir: None,
            image_max_mb: 10,
            video_max_mb: 1024,
            url_ttl_hours: 24,
            max_megapixels: 48,
            uploads_per_person: 4,
            s3: None,
            ffmpeg: "ffmpeg".to_owned(),
            ffprobe: "ffprobe".to_owned(),
            import_trusted_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// The store's address, for stores other than AWS (MinIO, Garage, R2…).
    #[serde(default)]
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// The server's secret (at least 32 characters). When absent, one is generated into
    /// `<data.dir>/secret.key` on first start.
    pub secret_key: Option<SecretString>,
    /// Master keys for platform tokens, `<id>:<64 hex digits>` separated by commas or lines,
    /// the current one first. When absent, `<data.dir>/master.keys` is used (created on first
    /// start).
    pub master_keys: Option<SecretString>,
}

/// Limits on sign-ups, counted per web process over a sliding hour.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignupSettings {
    /// Sign-ups from one client address (behind trusted proxies, the forwarded one).
    #[serde(deserialize_with = "lenient_u64")]
    pub per_client_per_hour: u64,
    /// Sign-ups from everyone together.
    #[serde(deserialize_with = "lenient_u64")]
    pub per_hour: u64,
}

impl Default for SignupSettings {
    fn default() -> Self {
        let defaults = services::throttle::SignupLimits::default();
        Self {
            per_client_per_hour: defaults.per_client as u64,
            per_hour: defaults.overall as u64,
        }
    }
}

impl SignupSettings {
    /// The throttle these limits make, checked: each must be at least 1.
    pub fn throttle(&self) -> Result<services::throttle::SignupThrottle, ConfigError> {
        let count = |name: &str, value: u64| {
            usize::try_from(value)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    err(format!(
                        "signup.{name} is {value}; it must be a number from 1 (the most sign-ups an hour)"
                    ))
                })
        };
        Ok(services::throttle::SignupThrottle::new(
            services::throttle::SignupLimits {
                per_client: count("per_client_per_hour", self.per_client_per_hour)?,
                overall: count("per_hour", self.per_hour)?,
                window: std::time::Duration::from_secs(3600),
            },
        ))
    }
}

/// Limits on workspace invitations, counted from the invitations in the database (so across
/// restarts and every server process).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvitationSettings {
    /// Invitations to one address in 24 hours, from all workspaces together.
    #[serde(deserialize_with = "lenient_u64")]
    pub per_recipient_per_day: u64,
    /// Invitations one person sends in an hour.
    #[serde(deserialize_with = "lenient_u64")]
    pub per_inviter_per_hour: u64,
    /// Invitations one workspace sends in 24 hours.
    #[serde(deserialize_with = "lenient_u64")]
    pub per_workspace_per_day: u64,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        let defaults = services::workspaces::invitations::InvitationLimits::default();
        Self {
            per_recipient_per_day: defaults.per_recipient_per_day.into(),
            per_inviter_per_hour: defaults.per_inviter_per_hour.into(),
            per_workspace_per_day: defaults.per_workspace_per_day.into(),
        }
    }
}

impl InvitationSettings {
    /// The limits, checked: each must be a number from 1.
    pub fn limits(
        &self,
    ) -> Result<services::workspaces::invitations::InvitationLimits, ConfigError> {
        let count = |name: &str, value: u64| {
            u32::try_from(value)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    err(format!(
                        "invitations.{name} is {value}; it must be a number from 1 (the most invitations in its window)"
                    ))
                })
        };
        Ok(services::workspaces::invitations::InvitationLimits {
            per_recipient_per_day: count("per_recipient_per_day", self.per_recipient_per_day)?,
            per_inviter_per_hour: count("per_inviter_per_hour", self.per_inviter_per_hour)?,
            per_workspace_per_day: count("per_workspace_per_day", self.per_workspace_per_day)?,
        })
    }
}

/// Analytics (`[analytics]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsSettings {
    /// How many X posts (and profiles) each workspace may read back a month: X bills every
    /// read (pay per use). 0 reads nothing from X.
    pub x_reads_per_month: u64,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self {
            x_reads_per_month: 10_000,
        }
    }
}

/// The instance's administrators: signed-in people with a confirmed address listed here may
/// open the admin pages, and they receive the reminders about deletion requests.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// From the environment: a comma-separated list.
    #[serde(deserialize_with = "lenient_list")]
    pub emails: Vec<String>,
}

impl AdminSettings {
    /// The administrators' addresses, parsed (lower-cased), without repeats.
    pub fn addresses(&self) -> Result<Vec<String>, ConfigError> {
        let mut out: Vec<String> = Vec::new();
        for raw in &self.emails {
            let email = domain::Email::parse(raw).map_err(|e| {
                err(format!(
                    "admin.emails contains {raw:?}, which is not an e-mail address: {e} \
                     (write them like [\"ops@example.com\"])"
                ))
            })?;
            if !out.iter().any(|a| a == email.as_str()) {
                out.push(email.as_str().to_owned());
            }
        }
        Ok(out)
    }
}

/// How long data that outlives an account is kept, and backups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Make an encrypted backup into the data folder every day.
    #[serde(deserialize_with = "lenient_bool")]
    pub backups: bool,
    /// Backups older than this many days are purged.
    #[serde(deserialize_with = "lenient_u64")]
    pub backup_days: u64,
    /// How long legal records (invoice number, date, amount, currency, country) are kept.
    #[serde(deserialize_with = "lenient_u64")]
    pub legal_days: u64,
    /// How long a finished background job's row is kept.
    #[serde(deserialize_with = "lenient_u64")]
    pub done_jobs_hours: u64,
    /// How long a background job that failed for good is kept for inspection.
    #[serde(deserialize_with = "lenient_u64")]
    pub dead_jobs_days: u64,
    /// How long e-mails stay in the outbox folder (when there is no `[smtp]`).
    #[serde(deserialize_with = "lenient_u64")]
    pub outbox_days: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        let defaults = services::retention::Retention::default();
        Self {
            backups: defaults.backups,
            backup_days: defaults.backup_days.into(),
            legal_days: defaults.legal_days.into(),
            done_jobs_hours: defaults.done_jobs_hours.into(),
            dead_jobs_days: defaults.dead_jobs_days.into(),
            outbox_days: defaults.outbox_days.into(),
        }
    }
}

impl RetentionSettings {
    pub fn to_retention(&self) -> anyhow::Result<services::retention::Retention> {
        let days = |name: &str, value: u64| {
            u32::try_from(value)
                .ok()
                .filter(|d| *d >= 1)
                .ok_or_else(|| anyhow::anyhow!("retention.{name} must be a number of days from 1"))
        };
        Ok(services::retention::Retention {
            backups: self.backups,
            backup_days: days("backup_days", self.backup_days)?,
            legal_days: days("legal_days", self.legal_days)?,
            done_jobs_hours: u32::try_from(self.done_jobs_hours)
                .ok()
                .filter(|h| (1..=24 * 365).contains(h))
                .ok_or_else(|| {
                    anyhow::anyhow!("retention.done_jobs_hours must be a number of hours from 1")
                })?,
            dead_jobs_days: days("dead_jobs_days", self.dead_jobs_days)?,
            outbox_days: days("outbox_days", self.outbox_days)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerSettings {
    /// How often an idle worker looks for due jobs.
    #[serde(deserialize_with = "lenient_u64")]
    pub poll_interval_ms: u64,
    /// Jobs one worker process runs at the same time.
    #[serde(deserialize_with = "lenient_u64")]
    pub concurrency: u64,
    /// How long a claimed job stays with its worker before another may take it.
    #[serde(deserialize_with = "lenient_u64")]
    pub lease_seconds: u64,
    /// How long a stopping worker waits for the jobs in flight.
    #[serde(deserialize_with = "lenient_u64")]
    pub shutdown_grace_seconds: u64,
    /// Limits across all worker processes, by job kind (`send_email`), by kind and platform
    /// (`publish:x`), or for each account of a platform on its own (`publish:x:*`).
    pub limits: std::collections::BTreeMap<String, u32>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        // Publishing: 16 calls at once per platform, and 4 per account, so that one busy
        // account leaves the platform's other slots to the rest.
        let mut limits: std::collections::BTreeMap<String, u32> = domain::Platform::ALL
            .iter()
            .flat_map(|p| {
                [
                    (services::publishing::concurrency_key(p.slug()), 16),
                    (services::publishing::per_account_limit_key(p.slug()), 4),
                ]
            })
            .collect();
        limits.insert(
            <providers::mail::Email as services::queue::Payload>::KIND.to_owned(),
            4,
        );
        // Each export holds two database connections while it runs, for minutes on a large
        // account: a few at once, not the worker's whole concurrency.
        limits.insert(
            <services::export::BuildPayload as services::queue::Payload>::KIND.to_owned(),
            2,
        );
        // An image or video request can wait minutes on the provider: a few at once, so that scheduled
        // posts always find the worker free.
        limits.insert(
            <services::media::generations::Generation as services::queue::Payload>::KIND.to_owned(),
            4,
        );
        Self {
            poll_interval_ms: 1000,
            concurrency: 32,
            lease_seconds: services::jobs::worker::DEFAULT_LEASE.as_secs(),
            shutdown_grace_seconds: 20,
            limits,
        }
    }
}

impl WorkerSettings {
    pub fn options(&self) -> services::jobs::worker::WorkerOptions {
        services::jobs::worker::WorkerOptions {
            poll: std::time::Duration::from_millis(self.poll_interval_ms),
            lease: std::time::Duration::from_secs(self.lease_seconds),
            concurrency: usize::try_from(self.concurrency).unwrap_or(usize::MAX),
            limits: services::queue::Limits::new(self.limits.clone()),
            grace: std::time::Duration::from_secs(self.shutdown_grace_seconds),
        }
    }
}
