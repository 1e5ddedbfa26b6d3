//! The rules of the product. Handlers parse input into domain types and call a service; a
//! service checks the rules, writes its rows (and the jobs for their side effects) in one
//! transaction, and records what it did in the workspace's activity log.

pub mod account_profiles;
pub mod account_tokens;
pub mod accounts;
pub mod activity;
pub mod agent;
pub mod ai;
pub mod analytics;
pub mod backup;
pub mod billing;
pub mod campaigns;
pub mod comments;
pub mod connections;
pub mod consent;
pub mod datamap;
pub mod deletion;
pub mod deletion_requests;
pub mod drawing;
pub mod emails;
pub mod export;
pub mod first_comments;
pub mod frame;
pub mod housekeeping;
pub mod impact;
pub mod inbox;
pub mod jobs;
pub mod legal_records;
pub mod media;
pub mod notices;
pub mod notifications;
pub mod passwords;
pub mod pdf;
pub mod plans;
pub mod policies;
pub mod posts;
pub mod previews;
pub mod publishing;
pub mod queue;
pub mod retention;
pub mod sessions;
pub(crate) mod sql;
pub mod throttle;
pub mod token_refresh;
pub mod tokens;
pub mod trace;
pub mod usage;
pub mod workspaces;

use std::sync::Arc;
use std::time::Duration;

pub use store::Db;

/// The shared handles every service needs. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub mailer: Arc<dyn providers::mail::Mailer>,
    pub keys: tokens::Keys,
    /// The address people reach the product at, for links in e-mails (no trailing slash).
    pub base_url: String,
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// Sign-ups per client and overall (`[signup]`).
    pub signup_throttle: Arc<throttle::SignupThrottle>,
    pub policy_cache: policies::PolicyCache,
    /// The analytics page's recently computed views (`analytics::kept`).
    pub kept_views: Arc<analytics::kept::KeptViews>,
    /// Publishing's writes, grouped across the jobs that reach them together.
    pub publish_batches: Arc<publishing::batch::Batches>,
    /// The platforms posts can be published to.
    pub publishers: providers::social::Publishers,
    /// The platforms accounts can be connected from.
    pub connectors: providers::social::Connectors,
    /// The platforms whose figures can be read back (analytics).
    pub metrics: providers::social::metrics::MetricsReaders,
    /// The platforms whose comments can be read and answered (the comments workspace).
    pub comments: providers::social::comments::CommentAdapters,
    /// The platforms whose direct messages can be read and answered (the inbox).
    pub messages: providers::social::messages::MessageAdapters,
    /// How many X posts and profiles a workspace may read back a month (`[analytics]`).
    pub x_reads_per_month: u64,
    /// Whether the platforms are the built-in simulator (every page says so).
    pub sandbox: bool,
    /// Wakes this process's worker when a job is added that is due soon.
    pub wake: Arc<tokio::sync::Notify>,
    /// The master keys that seal platform tokens.
    pub keyring: store::keyring::KeyRing,
    /// Where media files are kept.
    pub objects: store::objects::Objects,
    pub media_limits: media::MediaLimits,
    /// Backups and the data kept after an account is deleted.
    pub retention: retention::Retention,
    /// How many invitations may be sent per address, inviter and workspace (`[invitations]`).
    pub invitation_limits: workspaces::invitations::InvitationLimits,
    /// Where backups go and which database they copy.
    pub backups: backup::BackupTarget,
    /// The instance's administrators (`[admin] emails`), lower-cased: a signed-in person with
    /// one of these addresses, confirmed, is an administrator.
    pub admins: Vec<String>,
    /// Where the daily run appends the consent ledger's head (`consent.witness_file`).
    pub consent_witness: Option<std::path::PathBuf>,
    /// The plans and how they are sold (`[billing]`; off: everything for everyone).
    pub billing: plans::Billing,
    /// The AI text provider (`[ai]`, or the simulator in sandbox mode; none: no AI anywhere).
    pub ai: Option<Arc<ai::Assistant>>,
}

/// Why a service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Something the person typed does not fit; shown next to `field`.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Several fields do not fit: (field, message) pairs, in the order of the form.
    #[error("{}", .0.first().map(|(_, m)| m.as_str()).unwrap_or("Check the form."))]
    Fields(Vec<(String, String)>),
    /// The thing does not exist, or the person may not know that it does.
    #[error("not found")]
    NotFound,
    /// The person may see the thing but not do this to it; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// An upload was larger than allowed; nothing was kept.
    #[error("{0}")]
    TooLarge(String),
    /// The workspace's plan does not include this; the refusal names the limit, the use so far
    /// and the plan that lifts it.
    #[error("{refusal}")]
    PlanLimit {
        workspace: domain::WorkspaceId,
        refusal: Box<domain::plans::Refusal>,
    },
    /// A service the product depends on (PayPal) could not be reached or refused; nothing was
    /// done. The message says what, without secrets.
    #[error("{0}")]
    Unavailable(String),
    /// Too many attempts; try again after the given time.
    #[error("Too many attempts. Wait {} and try again.", human_wait(*retry_after))]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Unexpected(anyhow::Error::new(err).context("database error"))
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// "3 minutes", "1 minute", "45 seconds".
pub fn human_wait(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    if secs >= 90 {
        let minutes = secs.div_ceil(60);
        format!("{minutes} minutes")
    } else if secs >= 60 {
        "1 minute".to_owned()
    } else if secs == 1 {
        "1 second".to_owned()
    } else {
        format!("{secs} seconds")
    }
}

/// The current time, truncated to microseconds so that values read back from either database
/// compare equal to the ones written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

impl Services {
    /// Whether the database answers, for the readiness check.
    pub async fn ready(&self) -> anyhow::Result<()> {
        store::ping(&self.db).await
    }
}
