//! How long each kind of data is kept, from the constants the code uses, so that the Privacy
//! Policy states what the software does.

use crate::{accounts, sessions, workspaces};

/// The operator's retention settings (`[retention]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Whether an encrypted backup is made every day.
    pub backups: bool,
    /// Backups older than this are purged.
    pub backup_days: u32,
    /// How long legal records are kept.
    pub legal_days: u32,
    /// How long a finished job's row is kept (its payload is emptied when it finishes).
    pub done_jobs_hours: u32,
    /// How long a job that failed for good is kept, for an operator to look into.
    pub dead_jobs_days: u32,
    /// How long e-mails stay in the outbox folder (when no mail server is configured).
    pub outbox_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            backups: false,
            backup_days: 30,
            legal_days: 3653,
            done_jobs_hours: 24,
            dead_jobs_days: 30,
            outbox_days: 30,
        }
    }
}

impl Retention {
    /// How long the forget list keeps a deleted id: longer than any backup made before the
    /// deletion can still be restored (twice the backup window, and at least 90 days).
    pub fn forget_keep(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.backup_days.saturating_mul(2).max(90)))
    }
}

/// (what, how long), in the order the Privacy Policy lists them.
/// The lines of [`periods`] about what outlives a deleted account: consent records, the
/// deletion receipt in the outbox folder, backups, legal records and anonymized aggregates (the
/// deletion page and the receipt list them).
pub fn kept_after_deletion(retention: &Retention) -> Vec<(&'static str, String)> {
    periods(retention)
        .into_iter()
        .filter(|(what, _)| {
            ["Consent", "E-mails", "Backups", "Legal", "Anonymized"]
                .iter()
                .any(|kind| what.starts_with(kind))
        })
        .collect()
}

pub fn periods(retention: &Retention) -> Vec<(&'static str, String)> {
    let days = |d: chrono::Duration| domain::counted(d.num_days(), "day", "days");
    vec![
        (
            "Your account, workspaces, posts and media",
            "until you delete them or your account; deletion is immediate".to_owned(),
        ),
        (
            "Sign-in sessions",
            format!(
                "{} after they start, or until you sign out",
                days(sessions::LIFETIME)
            ),
        ),
        (
            "E-mail confirmation and change-of-address links",
            format!("{} hours, used once", accounts::LINK_HOURS_VERIFY),
        ),
        (
            "Password reset links",
            format!("{} hour, used once", accounts::LINK_HOURS_RESET),
        ),
        (
            "Workspace invitations",
            format!(
                "{} to accept; one not accepted stops working then or when withdrawn, and is \
                 deleted a day later (until then it counts towards the limits on invitations)",
                days(workspaces::invitations::INVITATION_LIFETIME)
            ),
        ),
        (
            "Background work (e-mails to send, with the address and any attached report; posts \
             to publish)",
            format!(
                "until done, then {} (failed work {}, for the operator to look into)",
                domain::counted(retention.done_jobs_hours, "hour", "hours"),
                domain::counted(retention.dead_jobs_days, "day", "days")
            ),
        ),
        (
            "E-mails in the outbox folder (when the operator has no mail server)",
            format!(
                "{}, then deleted; deleting your account deletes at once those to or naming your \
                 address, apart from the deletion receipt",
                domain::counted(retention.outbox_days, "day", "days")
            ),
        ),
        (
            "The AI assistant's suggestions to you (when AI is on)",
            format!(
                "{}, then deleted; a post made from one keeps only the provider, the model, who \
                 took it and when",
                days(crate::ai::GENERATIONS_KEPT)
            ),
        ),
        (
            "Comments and replies under a workspace's published posts, and Instagram direct \
             messages (the names and words of the people who wrote them, read from the \
             platforms when the comments workspace or the inbox is on)",
            format!(
                "until the conversation has been quiet for the workspace's setting \
                 ({} unless its owners choose between {} and {}), then deleted by the daily \
                 purge; deleted at once with the workspace",
                domain::counted(
                    i64::from(domain::comments::DEFAULT_KEPT_DAYS),
                    "day",
                    "days"
                ),
                domain::counted(i64::from(domain::comments::MIN_KEPT_DAYS), "day", "days"),
                domain::counted(i64::from(domain::comments::MAX_KEPT_DAYS), "day", "days"),
            ),
        ),
        (
            "Your cookie choice (in your browser)",
            "1 year, then we ask again".to_owned(),
        ),
        (
            "Consent records",
            "kept as proof of consent; when you delete your account they are detached from you"
                .to_owned(),
        ),
        (
            "Backups (when the operator enables them)",
            format!(
                "{}, then purged; a restore deletes again every account deleted since",
                domain::counted(retention.backup_days, "day", "days")
            ),
        ),
        (
            "Legal records (invoice number, date, amount, currency, country; no name, address \
             or account)",
            format!(
                "{}, as tax law requires",
                domain::counted(retention.legal_days, "day", "days")
            ),
        ),
        (
            "Proof that an account or a request e-mailed to us was deleted (dates and counts)",
            format!(
                "kept; the keyed fingerprint of the account or address on it is erased after {}",
                days(retention.forget_keep())
            ),
        ),
        (
            "Anonymized aggregates (no identity)",
            "indefinitely".to_owned(),
        ),
    ]
}
