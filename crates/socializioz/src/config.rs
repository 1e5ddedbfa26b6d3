//! Configuration: one typed struct, read from an optional `socializioz.toml` and then from
//! `SOCIALIZIOZ__SECTION__KEY` environment variables (which win). Any key may instead be given
//! as `<key>_file` (or `SOCIALIZIOZ__SECTION__KEY_FILE`), naming a file that holds the value, for
//! secrets kept out of the environment. Everything is checked at start-up, and each complaint
//! says how to fix it.

use providers::mail::SmtpSecurity;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = "socializioz.toml";
pub const ENV_PREFIX: &str = "SOCIALIZIOZ__";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub tls: TlsSettings,
    pub data: DataSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub smtp: Option<SmtpSettings>,
    pub media: MediaSettings,
    pub security: SecuritySettings,
    pub signup: SignupSettings,
    pub invitations: InvitationSettings,
    pub worker: WorkerSettings,
    pub consent: ConsentSettings,
    pub platforms: PlatformSettings,
    pub retention: RetentionSettings,
    pub admin: AdminSettings,
}

/// The social platforms: each is offered once its client is configured (or all of them, run by
/// the built-in simulator, in sandbox mode).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    /// Run the platform simulator inside `serve` and connect to it instead of the platforms.
    /// Browsers reach its pages on this server, at `{public_url}/_sandbox/`.
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
    #[serde(default)]
    pub audited: bool,
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
        let defaults = services::workspaces::InvitationLimits::default();
        Self {
            per_recipient_per_day: defaults.per_recipient_per_day.into(),
            per_inviter_per_hour: defaults.per_inviter_per_hour.into(),
            per_workspace_per_day: defaults.per_workspace_per_day.into(),
        }
    }
}

impl InvitationSettings {
    /// The limits, checked: each must be a number from 1.
    pub fn limits(&self) -> Result<services::workspaces::InvitationLimits, ConfigError> {
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
        Ok(services::workspaces::InvitationLimits {
            per_recipient_per_day: count("per_recipient_per_day", self.per_recipient_per_day)?,
            per_inviter_per_hour: count("per_inviter_per_hour", self.per_inviter_per_hour)?,
            per_workspace_per_day: count("per_workspace_per_day", self.per_workspace_per_day)?,
        })
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
    /// Limits across all worker processes, by job kind (`send_email`) or by kind and platform
    /// (`publish:x`).
    pub limits: std::collections::BTreeMap<String, u32>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let mut limits: std::collections::BTreeMap<String, u32> = domain::Platform::ALL
            .iter()
            .map(|p| (services::publishing::concurrency_key(p.slug()), 16))
            .collect();
        limits.insert(services::emails::JOB_KIND.to_owned(), 4);
        // Each export holds two database connections while it runs, for minutes on a large
        // account: a few at once, not the worker's whole concurrency.
        limits.insert(services::export::BUILD_JOB.to_owned(), 2);
        Self {
            poll_interval_ms: 1000,
            concurrency: 32,
            lease_seconds: services::worker::DEFAULT_LEASE.as_secs(),
            shutdown_grace_seconds: 20,
            limits,
        }
    }
}

impl WorkerSettings {
    pub fn options(&self) -> services::worker::WorkerOptions {
        services::worker::WorkerOptions {
            poll: std::time::Duration::from_millis(self.poll_interval_ms),
            lease: std::time::Duration::from_secs(self.lease_seconds),
            concurrency: usize::try_from(self.concurrency).unwrap_or(usize::MAX),
            limits: services::queue::Limits::new(self.limits.clone()),
            grace: std::time::Duration::from_secs(self.shutdown_grace_seconds),
        }
    }
}

/// Numbers may come as TOML integers or, from the environment, as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(i64),
    Text(String),
}

fn lenient<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    let n = match NumOrText::deserialize(d)? {
        NumOrText::Num(n) => n,
        NumOrText::Text(s) => s.trim().parse::<i64>().map_err(|_| {
            serde::de::Error::custom(format!("expected a whole number, found {s:?}"))
        })?,
    };
    T::try_from(n).map_err(|_| serde::de::Error::custom(format!("the number {n} is out of range")))
}

/// Lists may come as TOML arrays or, from the environment, as comma-separated strings.
fn lenient_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(d)? {
        ListOrText::List(list) => list,
        ListOrText::Text(text) => text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    lenient(d)
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient(d)
}

fn lenient_opt_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    lenient(d).map(Some)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

/// Reads the settings: the file (the given one, which must exist, or `socializioz.toml` when
/// present), then the environment, then `_file` indirections; then validates them.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut table = match file {
        Some(path) => read_table(path)?,
        None if Path::new(DEFAULT_FILE).exists() => read_table(Path::new(DEFAULT_FILE))?,
        None => toml::Table::new(),
    };
    for (key, value) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|s| s.to_lowercase()).collect();
        if path.iter().any(String::is_empty) {
            return Err(err(format!(
                "the environment variable {key} has an empty part; write it like SOCIALIZIOZ__SERVER__LISTEN"
            )));
        }
        insert(&mut table, &path, toml::Value::String(value), &key)?;
    }
    resolve_files(&mut table, "")?;
    let text = toml::to_string(&table)
        .map_err(|e| err(format!("the configuration could not be assembled: {e}")))?;
    let settings: Settings = toml::from_str(&text).map_err(|e| {
        err(format!(
            "the configuration is not valid: {}\nSettings come from {DEFAULT_FILE} and SOCIALIZIOZ__SECTION__KEY environment variables; the README lists every key.",
            e.message()
        ))
    })?;
    settings.validate()?;
    Ok(settings)
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(format!(
            "the configuration file {} could not be read: {e}",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        err(format!(
            "the configuration file {} is not valid TOML: {e}",
            path.display()
        ))
    })
}

fn insert(
    table: &mut toml::Table,
    path: &[String],
    value: toml::Value,
    origin: &str,
) -> Result<(), ConfigError> {
    match path {
        [] => Ok(()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => insert(inner, rest, value, origin),
                _ => Err(err(format!(
                    "{origin} sets a key below {first:?}, which is not a section"
                ))),
            }
        }
    }
}

/// Replaces every `<key>_file = "path"` with `<key> = <contents of path>`.
fn resolve_files(table: &mut toml::Table, prefix: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(toml::Value::Table(inner)) = table.get_mut(&key) {
            resolve_files(inner, &name)?;
            continue;
        }
        let Some(base) = key.strip_suffix("_file") else {
            continue;
        };
        if table.contains_key(base) {
            return Err(err(format!(
                "{name} and {} are both set; keep only one",
                name.trim_end_matches("_file")
            )));
        }
        let Some(toml::Value::String(path)) = table.remove(&key) else {
            return Err(err(format!("{name} must be a path to a file")));
        };
        let contents = std::fs::read_to_string(&path)
            .map_err(|e| err(format!("{name} names {path}, which could not be read: {e}")))?;
        let value = contents.strip_suffix('\n').unwrap_or(&contents);
        let value = value.strip_suffix('\r').unwrap_or(value);
        table.insert(base.to_owned(), toml::Value::String(value.to_owned()));
    }
    Ok(())
}

impl Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.trusted_proxies()?;
        self.signup.throttle()?;
        self.invitations.limits()?;
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(err(format!(
                "server.public_url is {url:?}; it must start with http:// or https:// (for example https://social.example.com)"
            )));
        }
        match (&self.tls.cert, &self.tls.key) {
            (None, None) => {}
            (Some(cert), Some(key)) => {
                for (what, path) in [("tls.cert", cert), ("tls.key", key)] {
                    if !path.is_file() {
                        return Err(err(format!(
                            "{what} is {}, which is not a readable file",
                            path.display()
                        )));
                    }
                }
            }
            _ => {
                return Err(err(
                    "set both tls.cert and tls.key to serve HTTPS, or neither to serve plain HTTP behind a proxy",
                ));
            }
        }
        let url = self.database_url();
        store::Backend::from_url(&url).map_err(|e| err(format!("database.url: {e}")))?;
        if self.database.max_connections < 2 {
            return Err(err(
                "database.max_connections must be at least 2: a data export reads a table on \
                 one connection while it looks up the related rows on another",
            ));
        }
        if let Some(smtp) = &self.smtp
            && smtp.host.trim().is_empty()
        {
            return Err(err(
                "smtp.host is empty; give the mail server's host name, or remove the [smtp] section to write e-mail to the outbox folder",
            ));
        }
        if let Some(secret) = &self.security.secret_key {
            use secrecy::ExposeSecret;
            if secret.expose_secret().chars().count() < 32 {
                return Err(err(
                    "security.secret_key must be at least 32 characters; generate one with `openssl rand -hex 32`",
                ));
            }
        }
        for (key, url) in [
            ("consent.analytics_script", &self.consent.analytics_script),
            ("consent.marketing_script", &self.consent.marketing_script),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(err(format!(
                    "{key} is {url:?}; give the full address of the script, such as https://stats.example.com/script.js"
                )));
            }
        }
        if let Some(file) = &self.consent.witness_file {
            let folder = file.parent().filter(|p| !p.as_os_str().is_empty());
            if file.as_os_str().is_empty()
                || file.is_dir()
                || folder.is_some_and(|folder| !folder.is_dir())
            {
                return Err(err(format!(
                    "consent.witness_file is {}; give a file in an existing folder (it is created if missing)",
                    file.display()
                )));
            }
        }
        if self.media.image_max_mb == 0
            || self.media.video_max_mb == 0
            || self.media.url_ttl_hours == 0
        {
            return Err(err(
                "media.image_max_mb, media.video_max_mb and media.url_ttl_hours must be at least 1",
            ));
        }
        if !(1..=1000).contains(&self.media.max_megapixels) || self.media.uploads_per_person == 0 {
            return Err(err(
                "media.max_megapixels must be between 1 and 1000 (decoding takes up to 4 bytes \
                 a pixel) and media.uploads_per_person at least 1",
            ));
        }
        if !(1..=3600).contains(&self.server.header_read_timeout_seconds)
            || !(1..=3600).contains(&self.server.body_idle_timeout_seconds)
        {
            return Err(err(
                "server.header_read_timeout_seconds and server.body_idle_timeout_seconds must be \
                 between 1 and 3600",
            ));
        }
        if self.worker.concurrency == 0 || !(3..=3600).contains(&self.worker.lease_seconds) {
            return Err(err(
                "worker.concurrency must be at least 1 and worker.lease_seconds between 3 and 3600 \
                 (a running worker renews its leases five times per lease; a stopped one's jobs \
                 wait one lease before another worker takes them)",
            ));
        }
        if self.worker.poll_interval_ms == 0 {
            return Err(err("worker.poll_interval_ms must be at least 1"));
        }
        self.admin.addresses()?;
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| {
            err(format!(
                "server.listen is {:?}; it must be an IP address and port such as 127.0.0.1:8080 or 0.0.0.0:8080",
                self.server.listen
            ))
        })
    }

    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .map(|p| {
                p.trim().parse().map_err(|_| {
                    err(format!(
                        "server.trusted_proxies contains {p:?}, which is not an IP address (write them like [\"127.0.0.1\", \"10.0.0.5\"])"
                    ))
                })
            })
            .collect()
    }

    /// The third parties personal data goes to with these settings, for the Privacy Policy.
    pub fn processors(&self) -> Vec<(String, String)> {
        let mut list = Vec::new();
        if let Some(smtp) = &self.smtp {
            list.push((
                format!("E-mail relay ({})", smtp.host),
                "delivers the e-mails the product sends you".to_owned(),
            ));
        }
        let origin = |url: &str| url.split('/').take(3).collect::<Vec<_>>().join("/");
        if let Some(s3) = &self.media.s3 {
            let place = match &s3.endpoint {
                Some(endpoint) => origin(endpoint),
                None => format!("Amazon S3, {}", s3.region),
            };
            list.push((
                format!("Object store ({place}, bucket {})", s3.bucket),
                "keeps the media library's files and their thumbnails".to_owned(),
            ));
        }
        if let Some(url) = &self.consent.analytics_script {
            list.push((
                format!("Analytics service ({})", origin(url)),
                "product statistics, only if you allow analytics cookies".to_owned(),
            ));
        }
        if let Some(url) = &self.consent.marketing_script {
            list.push((
                format!("Marketing service ({})", origin(url)),
                "marketing and advertising measurement, only if you allow marketing cookies"
                    .to_owned(),
            ));
        }
        list
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    /// Where backups go (`<data.dir>/backups`) and which database they copy.
    pub fn backup_target(&self) -> services::backup::BackupTarget {
        services::backup::BackupTarget {
            dir: self.data.dir.join("backups"),
            database_url: self.database_url().into(),
        }
    }

    pub fn database_url(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!(
                "sqlite://{}",
                self.data.dir.join("socializioz.db").display()
            ),
        }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.mail
            .outbox
            .clone()
            .unwrap_or_else(|| self.data.dir.join("outbox"))
    }

    pub fn media_dir(&self) -> PathBuf {
        self.media
            .dir
            .clone()
            .unwrap_or_else(|| self.data.dir.join("media"))
    }

    /// The public address, given the port actually bound (which differs from the configured one
    /// when listening on port 0).
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if self.tls_enabled() { "https" } else { "http" };
                format!("{scheme}://{bound}")
            }
        }
    }

    /// Where media files go: the S3 bucket when configured, else the media folder.
    pub fn media_store(&self) -> anyhow::Result<store::objects::Objects> {
        use secrecy::ExposeSecret;
        match &self.media.s3 {
            Some(s3) => store::objects::Objects::s3(&store::objects::S3Config {
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                endpoint: s3.endpoint.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.expose_secret().to_owned(),
            }),
            None => store::objects::Objects::local(&self.media_dir()),
        }
    }

    pub fn media_limits(&self) -> services::media::MediaLimits {
        const MB: u64 = 1024 * 1024;
        services::media::MediaLimits {
            image_bytes: self.media.image_max_mb.saturating_mul(MB),
            video_bytes: self.media.video_max_mb.saturating_mul(MB),
            url_ttl: std::time::Duration::from_secs(self.media.url_ttl_hours.saturating_mul(3600)),
            max_pixels: self.media.max_megapixels.saturating_mul(1_000_000),
            uploads_per_person: usize::try_from(self.media.uploads_per_person)
                .unwrap_or(usize::MAX),
            ..Default::default()
        }
    }

    pub fn smtp_config(&self) -> Option<providers::mail::SmtpConfig> {
        self.smtp.as_ref().map(|s| providers::mail::SmtpConfig {
            host: s.host.clone(),
            port: s.port,
            username: s.username.clone(),
            password: s.password.clone(),
            security: s.security,
        })
    }

    /// The server's secret key: the configured one, or the one in the data folder, created on
    /// first start.
    pub fn secret_key(&self) -> anyhow::Result<Vec<u8>> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        if let Some(secret) = &self.security.secret_key {
            return Ok(secret.expose_secret().as_bytes().to_vec());
        }
        let path = self.data.dir.join("secret.key");
        let text = self.data_file(&path, "secret key", || {
            let mut key = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
            hex::encode(&key)
        })?;
        let key = hex::decode(text.trim()).with_context(|| {
            format!(
                "{} is damaged (it must hold 64 hex digits); restore it from a backup",
                path.display()
            )
        })?;
        anyhow::ensure!(
            key.len() >= 32,
            "{} is too short; restore it from a backup",
            path.display()
        );
        Ok(key)
    }

    /// The master keys that wrap the data keys of platform tokens: `security.master_keys`
    /// (or `master_keys_file`), else `<data.dir>/master.keys`, created on first start.
    /// Also says whether the key file was created just now (then no sealed value can exist).
    pub fn key_ring(&self) -> anyhow::Result<(store::keyring::KeyRing, bool)> {
        use anyhow::Context;
        use secrecy::ExposeSecret;
        if let Some(keys) = &self.security.master_keys {
            return store::keyring::KeyRing::parse(keys.expose_secret())
                .map(|ring| (ring, false))
                .context("security.master_keys is not usable");
        }
        let path = self.data.dir.join("master.keys");
        let created = !path.exists();
        let text = self.data_file(&path, "master key", || {
            format!(
                "# Socializioz master keys: the first line seals new tokens; keep older lines\n\
                 # until `socializioz admin keys rotate` has re-wrapped everything.\n{}\n",
                store::keyring::KeyRing::generate_line("k1")
            )
        })?;
        store::keyring::KeyRing::parse(&text)
            .map(|ring| (ring, created))
            .with_context(|| format!("{} is not usable; restore it from a backup", path.display()))
    }

    /// The contents of a file in the data folder, created by `make` (readable only by its
    /// owner) when missing, with a warning to back it up.
    fn data_file(
        &self,
        path: &Path,
        what: &str,
        make: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        use anyhow::Context;
        if let Ok(existing) = std::fs::read_to_string(path) {
            return Ok(existing);
        }
        std::fs::create_dir_all(&self.data.dir).with_context(|| {
            format!(
                "could not create the data folder {}",
                self.data.dir.display()
            )
        })?;
        let contents = make();
        write_private(path, &contents)
            .with_context(|| format!("could not write the {what} to {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "generated a new {what}; back this file up with the database: without it, what it \
             protects cannot be read"
        );
        Ok(contents)
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_readme() {
        let s = load(Some(Path::new("/dev/null")), env(&[])).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.database_url(), "sqlite://./data/socializioz.db");
        assert_eq!(s.outbox_dir(), PathBuf::from("./data/outbox"));
        assert_eq!(s.media_dir(), PathBuf::from("./data/media"));
        assert_eq!(s.server.header_read_timeout_seconds, 15);
        assert_eq!(s.server.body_idle_timeout_seconds, 30);
        assert_eq!(s.media_limits().max_pixels, 48_000_000);
        assert_eq!(s.media_limits().uploads_per_person, 4);
        assert!(s.smtp.is_none());
        assert!(!s.tls_enabled());
    }

    #[test]
    fn environment_overrides_and_numbers_from_strings() {
        let s = load(
            Some(Path::new("/dev/null")),
            env(&[
                ("SOCIALIZIOZ__SERVER__LISTEN", "0.0.0.0:9000"),
                ("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "3"),
                ("SOCIALIZIOZ__SMTP__HOST", "mail.example.com"),
                ("SOCIALIZIOZ__SMTP__PORT", "2525"),
                ("SOCIALIZIOZ__SMTP__PASSWORD", "123456"),
                ("SOCIALIZIOZ__SERVER__TRUSTED_PROXIES", "10.0.0.1, ::1"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.listen, "0.0.0.0:9000");
        assert_eq!(s.database.max_connections, 3);
        assert_eq!(s.trusted_proxies().unwrap().len(), 2);
        let smtp = s.smtp.unwrap();
        assert_eq!(smtp.port, Some(2525));
        use secrecy::ExposeSecret;
        assert_eq!(smtp.password.unwrap().expose_secret(), "123456");
    }

    #[test]
    fn sign_up_limits_have_defaults_and_refuse_zero() {
        let s = load(Some(Path::new("/dev/null")), env(&[])).unwrap();
        assert_eq!((s.signup.per_client_per_hour, s.signup.per_hour), (5, 100));
        let s = load(
            Some(Path::new("/dev/null")),
            env(&[("SOCIALIZIOZ__SIGNUP__PER_HOUR", "250")]),
        )
        .unwrap();
        assert_eq!(s.signup.per_hour, 250);
        let e = load(
            Some(Path::new("/dev/null")),
            env(&[("SOCIALIZIOZ__SIGNUP__PER_CLIENT_PER_HOUR", "0")]),
        )
        .unwrap_err();
        assert!(e.0.contains("signup.per_client_per_hour is 0"), "{}", e.0);
    }

    #[test]
    fn secrets_can_come_from_files_and_never_show_in_debug() {
        let dir = std::env::temp_dir().join(format!("sz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("db-url");
        std::fs::write(&file, "postgres://app:hunter2hunter2@db/prod\n").unwrap();
        let s = load(
            Some(Path::new("/dev/null")),
            env(&[("SOCIALIZIOZ__DATABASE__URL_FILE", file.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(s.database_url(), "postgres://app:hunter2hunter2@db/prod");
        assert!(!format!("{s:?}").contains("hunter2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_explained() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("SOCIALIZIOZ__SERVER__LISTEN", "localhost")],
                "127.0.0.1:8080",
            ),
            (
                &[("SOCIALIZIOZ__DATABASE__URL", "mysql://x/y")],
                "sqlite://",
            ),
            (
                &[("SOCIALIZIOZ__TLS__CERT", "/etc/hostname")],
                "both tls.cert and tls.key",
            ),
            (&[("SOCIALIZIOZ__SERVER__LISEN", "x")], "unknown field"),
            (
                &[("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "many")],
                "whole number",
            ),
            (
                &[("SOCIALIZIOZ__SECURITY__SECRET_KEY", "short")],
                "at least 32",
            ),
            (
                &[("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "1")],
                "max_connections must be at least 2",
            ),
            (
                &[("SOCIALIZIOZ__DATABASE__URL_FILE", "/nonexistent/file")],
                "could not be read",
            ),
            (
                &[("SOCIALIZIOZ__MEDIA__MAX_MEGAPIXELS", "0")],
                "media.max_megapixels must be between 1 and 1000",
            ),
            (
                &[("SOCIALIZIOZ__SERVER__HEADER_READ_TIMEOUT_SECONDS", "0")],
                "server.header_read_timeout_seconds",
            ),
        ];
        for (vars, needle) in cases {
            let e = load(Some(Path::new("/dev/null")), env(vars)).unwrap_err().0;
            assert!(e.contains(needle), "{vars:?}: {e}");
        }
        let e = load(Some(Path::new("/nonexistent.toml")), env(&[]))
            .unwrap_err()
            .0;
        assert!(e.contains("could not be read"), "{e}");
    }

    #[test]
    fn the_secret_key_is_generated_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("sz-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = Settings::default();
        s.data.dir = dir.clone();
        let k1 = s.secret_key().unwrap();
        let k2 = s.secret_key().unwrap();
        assert_eq!(k1, k2);
        assert_eq!(k1.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
