//! The data map: every table the product keeps, classified by the data category of the privacy
//! page, by who owns its rows, and by what account deletion and data export do with it.
//!
//! A test compares this registry with the live schema on both backends, so a table that is not
//! classified here fails the build's tests. Account deletion and export read their plans from
//! this list; adding a table to them is a matter of adding it here.

/// The categories of "Data we collect" on the privacy page, plus the consent records the page
/// describes under "Consent tracking" and the product's own bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    AccountProfile,
    WorkspaceAndUsage,
    ConnectedAccounts,
    MediaAssets,
    Diagnostics,
    Billing,
    ConsentRecords,
    /// Holds no personal data (schema bookkeeping).
    System,
}

impl Category {
    /// The name the privacy page uses.
    pub fn label(&self) -> &'static str {
        match self {
            Self::AccountProfile => "Account profile",
            Self::WorkspaceAndUsage => "Workspace and usage",
            Self::ConnectedAccounts => "Connected accounts",
            Self::MediaAssets => "Media assets",
            Self::Diagnostics => "Diagnostics",
            Self::Billing => "Billing",
            Self::ConsentRecords => "Consent records",
            Self::System => "System",
        }
    }
}

/// Who a row belongs to, and through which column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The row belongs to the user named by this column.
    User(&'static str),
    /// The row belongs to the workspace named by this column.
    Workspace(&'static str),
    /// The row belongs to whoever owns the row of `table` that `column` references (a post's
    /// targets belong to the post's workspace).
    Parent {
        column: &'static str,
        table: &'static str,
    },
    /// No person owns the row.
    Nobody,
}

/// What deleting an account does to a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDeletion {
    /// The user's rows are deleted.
    Delete,
    /// The rows go with their workspace: deleted when the user was its only owner, otherwise
    /// kept for the remaining members with every column that names the user cleared.
    FollowWorkspace,
    /// Kept, for the stated reason, with nothing that identifies the person.
    Retain(&'static str),
}

/// What "export all my data" does with a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExport {
    Include,
    /// Left out, for the stated reason (secrets, or nothing personal).
    Exclude(&'static str),
}

/// One table's classification.
#[derive(Debug, Clone, Copy)]
pub struct TableClass {
    pub table: &'static str,
    pub category: Category,
    pub owner: Owner,
    /// Columns other than the owner column that may name the user (to clear, or to check that
    /// no residue remains after a deletion).
    pub user_refs: &'static [&'static str],
    pub deletion: OnDeletion,
    pub export: OnExport,
    /// What the table holds, in a sentence a person can read.
    pub holds: &'static str,
}

/// Every table of the schema. Keep it in the order of the migrations.
pub const TABLES: &[TableClass] = &[
    TableClass {
        table: "users",
        category: Category::AccountProfile,
        owner: Owner::User("id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Name, e-mail address, time zone, language and the password hash.",
    },
    TableClass {
        table: "sessions",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Signed-in browsers: a hash of the session token, a short device description, \
                when the session started and was last used.",
    },
    TableClass {
        table: "email_tokens",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("single-use links: hashes of secrets that expire within days"),
        holds: "Hashes of the single-use links sent by e-mail (verification, password reset, \
                change of address).",
    },
    TableClass {
        table: "workspaces",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("id"),
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Workspace names.",
    },
    TableClass {
        table: "memberships",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Who belongs to which workspace, with which role.",
    },
    TableClass {
        table: "invitations",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &["invited_by", "email"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Invitations to a workspace: the invited address, the role and who invited.",
    },
    TableClass {
        table: "activity_log",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &["actor_user_id", "actor_name"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Who did what, to which object and when, in each workspace.",
    },
    TableClass {
        table: "jobs",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("transient background work, removed once done"),
        holds: "Background work waiting or running (e-mails to send, posts to publish).",
    },
    TableClass {
        table: "consent_ledger",
        category: Category::ConsentRecords,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Retain(
            "proof of consent: kept, detached from the person (user id cleared; the row hash does not cover it)",
        ),
        export: OnExport::Include,
        holds: "Every cookie decision and policy acceptance: consent id, categories, policy versions, \
                source, language, time, a keyed hash of the address, the browser family, and the \
                hash chain.",
    },
    TableClass {
        table: "consent_chain",
        category: Category::System,
        owner: Owner::Nobody,
        user_refs: &[],
        deletion: OnDeletion::Retain("the head of the ledger's hash chain; holds no personal data"),
        export: OnExport::Exclude("holds no personal data"),
        holds: "The newest hash of the consent ledger and its length.",
    },
    TableClass {
        table: "policy_versions",
        category: Category::System,
        owner: Owner::Nobody,
        user_refs: &[],
        deletion: OnDeletion::Retain("the published policies; hold no personal data"),
        export: OnExport::Exclude("public documents, not personal data"),
        holds: "Every published version of each policy: text, summary, effective date, SHA-256.",
    },
    TableClass {
        table: "policy_acceptances",
        category: Category::ConsentRecords,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Which version of which policy each person accepted, when and where (the proof \
                is in the consent ledger).",
    },
    TableClass {
        table: "social_accounts",
        category: Category::ConnectedAccounts,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The platform accounts a workspace publishes to: platform, the account's id there, \
                username, display name, avatar address, follower count, connection status, and for \
                pages the platform id of the person who authorised them.",
    },
    TableClass {
        table: "campaigns",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &["created_by"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Campaigns: name, description, date range, colour and who created them.",
    },
    TableClass {
        table: "posts",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &["author_id"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Posts in every state: text, first comment, schedule and time zone, campaign, \
                author, state and the reason of a failure.",
    },
    TableClass {
        table: "post_targets",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Parent {
            column: "post_id",
            table: "posts",
        },
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Each account a post goes to: its variant of the text, platform options, state, \
                attempts, and the platform's post id and link once published.",
    },
    TableClass {
        table: "publish_attempts",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Parent {
            column: "target_id",
            table: "post_targets",
        },
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Every call made to a platform to publish a post: when it started and ended, its \
                idempotency key, outcome and error.",
    },
    TableClass {
        table: "job_slots",
        category: Category::System,
        owner: Owner::Nobody,
        user_refs: &[],
        deletion: OnDeletion::Retain(
            "concurrency bookkeeping of the queue; holds no personal data",
        ),
        export: OnExport::Exclude("holds no personal data"),
        holds: "The queue's concurrency limits: one row per slot, naming the job that holds it.",
    },
    TableClass {
        table: "media_items",
        category: Category::MediaAssets,
        owner: Owner::Workspace("workspace_id"),
        user_refs: &["uploaded_by"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The media library: file name, type, size, dimensions, folder and tags, who \
                uploaded it, where the file and its thumbnail are stored, and for AI-generated \
                files the provider and the prompt.",
    },
    TableClass {
        table: "post_media",
        category: Category::MediaAssets,
        owner: Owner::Parent {
            column: "post_id",
            table: "posts",
        },
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Which library files a post carries, in which order, and the files chosen for \
                one of its accounts instead.",
    },
    TableClass {
        table: "account_tokens",
        category: Category::ConnectedAccounts,
        owner: Owner::Parent {
            column: "account_id",
            table: "social_accounts",
        },
        user_refs: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Exclude(
            "platform tokens are secrets; the export lists the account, never its tokens",
        ),
        holds: "The platform tokens of each connected account, sealed with envelope encryption \
                (never stored in plain text), their expiry and the scopes granted.",
    },
    TableClass {
        table: "oauth_states",
        category: Category::ConnectedAccounts,
        owner: Owner::User("user_id"),
        user_refs: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("single-use authorisations that expire within ten minutes"),
        holds: "Platform authorisations in progress: a hash of the state sent to the platform, \
                the session, workspace and platform it belongs to, the scopes asked for, and \
                when it expires; while the person chooses which page to connect, their grant \
                (encrypted) and the names of the pages offered.",
    },
    TableClass {
        table: "seaql_migrations",
        category: Category::System,
        owner: Owner::Nobody,
        user_refs: &[],
        deletion: OnDeletion::Retain("schema bookkeeping; holds no personal data"),
        export: OnExport::Exclude("holds no personal data"),
        holds: "Which schema migrations have been applied.",
    },
];

/// The classification of `table`, if it has one.
pub fn classify(table: &str) -> Option<&'static TableClass> {
    TABLES.iter().find(|t| t.table == table)
}

/// Compares the registry with the tables that exist. Returns the tables missing from the
/// registry and the registry entries with no table, both empty when they agree.
pub fn compare(live: &[String]) -> (Vec<String>, Vec<&'static str>) {
    let unclassified = live
        .iter()
        .filter(|t| classify(t).is_none())
        .cloned()
        .collect();
    let stale = TABLES
        .iter()
        .map(|t| t.table)
        .filter(|t| !live.iter().any(|l| l == t))
        .collect();
    (unclassified, stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_is_classified_once_and_personal_tables_have_an_owner() {
        for (i, t) in TABLES.iter().enumerate() {
            assert!(
                TABLES[i + 1..].iter().all(|o| o.table != t.table),
                "{} is classified twice",
                t.table
            );
            if t.category != Category::System {
                assert_ne!(
                    t.owner,
                    Owner::Nobody,
                    "{} holds personal data but has no owner",
                    t.table
                );
            }
            assert!(!t.holds.is_empty());
            if let Owner::Parent { table, .. } = t.owner {
                assert!(
                    classify(table).is_some_and(|p| p.owner != Owner::Nobody),
                    "{} names parent {table}, which is not an owned table",
                    t.table
                );
            }
        }
    }

    #[test]
    fn compare_reports_both_directions() {
        let live = vec!["users".to_owned(), "mystery".to_owned()];
        let (unclassified, stale) = compare(&live);
        assert_eq!(unclassified, vec!["mystery".to_owned()]);
        assert!(stale.contains(&"sessions"));
        assert!(!stale.contains(&"users"));
    }
}
