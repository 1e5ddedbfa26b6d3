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

/// What a column other than the owner column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// A user's id.
    User,
    /// A workspace's id.
    Workspace,
    /// An e-mail address (compared without regard to case).
    Address,
    /// A person's name, copied beside the user id in the given column.
    NameOf(&'static str),
    /// Free text that may mention a person by name or address (an activity summary such as
    /// "invited ada@example.com"): the mentions are replaced where the row stays.
    Mentions,
}

/// What a deletion does to a kept row whose column names a deleted person or workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// The column is cleared (set to NULL).
    Clear,
    /// The row is deleted.
    DeleteRow,
    /// The column is overwritten with this text.
    Replace(&'static str),
}

/// A column that names a person, a workspace or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ref {
    pub column: &'static str,
    pub names: Names,
    pub then: Then,
}

/// What a deleted person's name becomes where a workspace keeps the row (an activity log).
pub const FORMER_MEMBER: &str = "Former member";

impl Ref {
    /// A user id that is cleared where the row stays (a post's author).
    pub const fn user(column: &'static str) -> Self {
        Self {
            column,
            names: Names::User,
            then: Then::Clear,
        }
    }
    /// A copy of the person's name beside their id in `id`, overwritten where the row stays.
    pub const fn name_of(column: &'static str, id: &'static str) -> Self {
        Self {
            column,
            names: Names::NameOf(id),
            then: Then::Replace(FORMER_MEMBER),
        }
    }
    /// An e-mail address whose rows go with the person (invitations sent to them).
    pub const fn address_rows(column: &'static str) -> Self {
        Self {
            column,
            names: Names::Address,
            then: Then::DeleteRow,
        }
    }
    /// A workspace id that is cleared when the workspace is deleted (someone's last workspace).
    pub const fn workspace(column: &'static str) -> Self {
        Self {
            column,
            names: Names::Workspace,
            then: Then::Clear,
        }
    }
    /// Free text whose mentions of the person's name or address are replaced where the row
    /// stays.
    pub const fn mentions(column: &'static str) -> Self {
        Self {
            column,
            names: Names::Mentions,
            then: Then::Replace(FORMER_MEMBER),
        }
    }
    /// A workspace id whose rows go with the workspace (its queued work).
    pub const fn workspace_rows(column: &'static str) -> Self {
        Self {
            column,
            names: Names::Workspace,
            then: Then::DeleteRow,
        }
    }
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
    /// Included without these columns, which hold secrets (a password hash, the hash of a
    /// session or invitation token).
    IncludeWithout(&'static [&'static str]),
    /// Only the rows whose given column names the person (a workspace's activity log holds
    /// other members' actions too; the export carries the person's own), without the listed
    /// secret columns.
    IncludeOwn(&'static str, &'static [&'static str]),
    /// Only to the owners of the row's workspace (third parties' data, such as the comments
    /// people left under the workspace's posts, goes to whoever answers for the workspace).
    ToOwners,
    /// As [`OnExport::ToOwners`], and to the person the given column names (their own words
    /// among the workspace's rows: a reply they wrote).
    ToOwnersAndAuthor(&'static str),
    /// Left out, for the stated reason (secrets, or nothing personal).
    Exclude(&'static str),
}

/// One table's classification.
#[derive(Debug, Clone, Copy)]
pub struct TableClass {
    pub table: &'static str,
    pub category: Category,
    pub owner: Owner,
    /// Columns other than the owner column that name a person, a workspace or an address, and
    /// what a deletion does to the rows it keeps that name the deleted ones. The residue check
    /// reads them too.
    pub refs: &'static [Ref],
    /// Columns that hold keys of the media store: the objects go with the rows.
    pub objects: &'static [&'static str],
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
        refs: &[Ref::workspace("last_workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::IncludeWithout(&["password_hash"]),
        holds: "Name, e-mail address, time zone, language and the password hash.",
    },
    TableClass {
        table: "sessions",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::IncludeWithout(&["token_hash"]),
        holds: "Signed-in browsers: a hash of the session token, a short device description, \
                when the session started and was last used.",
    },
    TableClass {
        table: "email_tokens",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("single-use links: hashes of secrets that expire within days"),
        holds: "Hashes of the single-use links sent by e-mail (verification, password reset, \
                change of address).",
    },
    TableClass {
        table: "workspaces",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Workspace names and settings (its plan, AI, analytics, the comments workspace \
                and how long it keeps conversations, and whether posts wait for approval, who \
                approves them and whether approvers approve their own).",
    },
    TableClass {
        table: "memberships",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[Ref::workspace_rows("workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Who belongs to which workspace, with which role, whether they are named as an \
                approver, and whether they asked for its weekly analytics report by e-mail (and \
                the day the last one went).",
    },
    TableClass {
        table: "invitations",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("invited_by"), Ref::address_rows("email")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::IncludeOwn("invited_by", &["token_hash"]),
        holds: "Invitations to a workspace: the invited address, the role and who invited.",
    },
    TableClass {
        table: "activity_log",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[
            Ref::name_of("actor_name", "actor_user_id"),
            Ref::mentions("summary"),
            Ref::user("actor_user_id"),
        ],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::IncludeOwn("actor_user_id", &[]),
        holds: "Who did what, to which object and when, in each workspace.",
    },
    TableClass {
        table: "jobs",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[
            Ref::workspace_rows("workspace_id"),
            Ref::address_rows("recipient"),
        ],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude(
            "transient background work: payload and address emptied when done, the row deleted \
             retention.done_jobs_hours later (failed work: retention.dead_jobs_days)",
        ),
        holds: "Background work waiting or running (e-mails to send, with the address each goes to \
                and any file attached, such as the weekly analytics report's PDF; posts to \
                publish; sign-ups waiting to be carried out, with the name, address, password \
                hash, time zone, language, network address and browser family given, emptied in \
                the step that makes the account), and the random id of the request that \
                enqueued each, which its log lines carry.",
    },
    TableClass {
        table: "consent_ledger",
        category: Category::ConsentRecords,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain(
            "proof of consent: kept, detached from the person (user id cleared; the ledger records \
             the detachment, and the pseudonym left on the rows no longer leads to anyone once \
             the person's consent salt is deleted)",
        ),
        export: OnExport::Include,
        holds: "Every cookie decision and policy acceptance: consent id, categories, policy versions, \
                source, language, time, a keyed hash of the address, the browser family, a keyed \
                hash of who was signed in, and the hash chain.",
    },
    TableClass {
        table: "consent_subjects",
        category: Category::ConsentRecords,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::IncludeWithout(&["salt"]),
        holds: "A random value per person that ties their consent records to them (deleted with \
                the account; left out of the export: it is a key, not information about them).",
    },
    TableClass {
        table: "consent_chain",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("the head of the ledger's hash chain; holds no personal data"),
        export: OnExport::Exclude("holds no personal data"),
        holds: "The newest hash of the consent ledger and its length.",
    },
    TableClass {
        table: "policy_versions",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("the published policies; hold no personal data"),
        export: OnExport::Exclude("public documents, not personal data"),
        holds: "Every published version of each policy: text, summary, effective date, SHA-256.",
    },
    TableClass {
        table: "policy_acceptances",
        category: Category::ConsentRecords,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Which version of which policy each person accepted, when and where (the proof \
                is in the consent ledger).",
    },
    TableClass {
        table: "social_accounts",
        category: Category::ConnectedAccounts,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The platform accounts a workspace publishes to: platform, the account's id there, \
                username, display name, avatar address, follower count, connection status, for \
                pages the platform id of the person who authorised them, and why its figures \
                could not be read the last time (the platform's reason, when).",
    },
    TableClass {
        table: "campaigns",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("created_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Campaigns: name, description, date range, colour and who created them; what \
                a campaign cost and what its clicks and conversions are worth, as entered; the \
                UTM name its posts' links are tagged with.",
    },
    TableClass {
        table: "posts",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[
            Ref::user("author_id"),
            Ref::user("ai_accepted_by"),
            Ref::user("reviewed_by"),
            Ref::user("approved_by"),
            Ref::user("submitted_by"),
        ],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Posts in every state: text, first comment, schedule and time zone, campaign, \
                author, state and the reason of a failure, when the text came from an AI \
                suggestion, the provider and model that wrote it, who accepted it and when, and \
                the last review (the reviewer, their note and when), who sent it for approval and \
                who approved it.",
    },
    TableClass {
        table: "preview_links",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("created_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::IncludeWithout(&["token_hash"]),
        holds: "Client preview links: a hash of the link's secret (the link is shown once), \
                what it shows (a post or a range of days), until when, whether it was revoked, \
                whether the client may respond, and who made it.",
    },
    TableClass {
        table: "preview_feedback",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "What clients without an account said through a preview link: the name they \
                gave, an approval or a comment on a post, and when.",
    },
    TableClass {
        table: "post_reviews",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("reviewer_id")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Each decision on a post sent for approval: the revision reviewed, the reviewer, \
                approved, rejected or changes asked for, the reviewer's note and when.",
    },
    TableClass {
        table: "post_targets",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Parent {
            column: "post_id",
            table: "posts",
        },
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Each account a post goes to: its variant of the text, platform options, state, \
                attempts, the platform's post id and link once published, and when its figures \
                and comments were last read.",
    },
    TableClass {
        table: "publish_attempts",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Parent {
            column: "target_id",
            table: "post_targets",
        },
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Every call made to a platform to publish a post: when it started and ended, its \
                idempotency key, outcome and error.",
    },
    TableClass {
        table: "account_metrics",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Analytics of each connected account as the platform reported them: a day's \
                value (views, reach, engagement, new followers) or a lifetime total (followers) \
                as of the day it was read.",
    },
    TableClass {
        table: "post_metrics",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Analytics of each published post at each account: its lifetime totals (views, \
                reach, reactions, comments, shares, saves, clicks) as read on each day.",
    },
    TableClass {
        table: "metric_answers",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The platforms' answers to analytics reads as they came (figures only, no \
                token), kept 30 days to trace a figure back to its source.",
    },
    TableClass {
        table: "job_slots",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
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
        refs: &[Ref::user("uploaded_by"), Ref::user("reviewed_by")],
        objects: &["object_key", "thumb_key"],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The media library: file name, type, size, dimensions, folder and tags, who \
                uploaded it, where the file and its thumbnail are stored, and for AI-generated \
                files the provider, model and prompt, who asked for it, and who reviewed it \
                before it could be published and when.",
    },
    TableClass {
        table: "media_generations",
        category: Category::MediaAssets,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("requested_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Requests to generate media with AI: the prompt and the options chosen, the \
                provider and model (and a video's task id at the provider and when it was sent), \
                who asked and when, how far it got, how it ended and which library file it \
                made. Deleted after 30 days; the file keeps its own provenance.",
    },
    TableClass {
        table: "post_media",
        category: Category::MediaAssets,
        owner: Owner::Parent {
            column: "post_id",
            table: "posts",
        },
        refs: &[],
        objects: &[],
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
        refs: &[],
        objects: &[],
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
        refs: &[Ref::workspace_rows("workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("single-use authorisations that expire within ten minutes"),
        holds: "Platform authorisations in progress: a hash of the state sent to the platform, \
                the session, workspace and platform it belongs to, the scopes asked for, and \
                when it expires; while the person chooses which page to connect, their grant \
                (encrypted) and the names of the pages offered.",
    },
    TableClass {
        table: "account_deletions",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain(
            "proof that a deletion was carried out: when, and how many rows of each kind; the \
             address, name and user id are cleared when it ends",
        ),
        export: OnExport::Exclude("exists only while the account is being deleted"),
        holds: "Account deletions under way: the address the receipt goes to, the step reached \
                and the receipt; once finished, only the dates and counts, with a keyed hash \
                of the user id.",
    },
    TableClass {
        table: "forget_list",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain(
            "keyed hashes of deleted ids, so that a restored backup forgets them again",
        ),
        export: OnExport::Exclude("holds no personal data"),
        holds: "Keyed hashes (not reversible without the server's key) of deleted user ids, \
                workspace ids and addresses, kept longer than backups.",
    },
    TableClass {
        table: "legal_records",
        category: Category::Billing,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain(
            "tax law requires invoices to be kept; detached from the person (no name, address, \
             account or workspace) and deleted when the legal period ends",
        ),
        export: OnExport::Exclude("names no person, so no row can be matched to an account"),
        holds: "For each invoice: its number, issue date, amount, currency and country, and the \
                day it is deleted.",
    },
    TableClass {
        table: "plan_usage",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "How much of each monthly plan limit a workspace used, per month (posts \
                scheduled, AI generations); counted up only.",
    },
    TableClass {
        table: "subscriptions",
        category: Category::Billing,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("started_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::IncludeWithout(&["approve_url"]),
        holds: "Each checkout of a paid plan: the plan and interval, PayPal's subscription id, \
                its status, the end of the paid period, a payment failure's date, a \
                cancellation's end and a change of plan, and who started it. No card or bank \
                detail: those stay with PayPal.",
    },
    TableClass {
        table: "invoices",
        category: Category::Billing,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Invoices: number, dates, what was bought, net, tax and gross, the seller's and \
                the buyer's details as printed, and PayPal's transaction id. When they are \
                deleted with the workspace, each one's legal record stays (see legal records).",
    },
    TableClass {
        table: "billing_details",
        category: Category::Billing,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("updated_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Who a workspace's invoices are made out to: name, address, country and VAT id, \
                as an owner entered them.",
    },
    TableClass {
        table: "invoice_counter",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("one number: the last invoice number issued"),
        export: OnExport::Exclude("one number; nothing personal"),
        holds: "The last invoice number issued, so that numbers have no gaps.",
    },
    TableClass {
        table: "billing_events",
        category: Category::Billing,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain(
            "names no person: PayPal's event, delivery and subscription ids and the event type, \
             kept so that each event is handled once, and deleted after 90 days",
        ),
        export: OnExport::Exclude("names no person, only PayPal's ids"),
        holds: "For each PayPal webhook handled: its event id, type, the subscription or sale \
                it was about, the delivery's id, what was done and when (never the body).",
    },
    TableClass {
        table: "billing_catalogue",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("the instance's configuration at PayPal; names no person"),
        export: OnExport::Exclude("the instance's configuration; nothing personal"),
        holds: "The product, plans and webhook this instance created at PayPal, with prices.",
    },
    TableClass {
        table: "usage_daily",
        category: Category::Diagnostics,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("anonymized aggregates"),
        export: OnExport::Exclude("anonymized aggregates: counts that name no person"),
        holds: "Anonymized aggregates: per day, feature and platform, how often it was used \
                (posts created, publishing outcomes, media added); no user or workspace id.",
    },
    TableClass {
        table: "deletion_requests",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[
            // The address goes with the account; a closed request has none left anyway.
            Ref {
                column: "email",
                names: Names::Address,
                then: Then::Clear,
            },
            Ref::user("recorded_by"),
        ],
        objects: &[],
        deletion: OnDeletion::Retain(
            "proof that a request e-mailed to the privacy address was answered within 30 days: \
             the dates, the state and a keyed hash of the address; the address and user id are \
             cleared",
        ),
        export: OnExport::IncludeWithout(&["token_hash"]),
        holds: "Deletion requests received by e-mail: the address (only while the request is \
                open), a keyed hash of it, the day it arrived and its deadline, the state, a \
                hash of the confirmation link, the account it matched, when the administrators \
                were reminded, and who recorded it.",
    },
    TableClass {
        table: "data_exports",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &["object_key"],
        deletion: OnDeletion::Delete,
        export: OnExport::Exclude("the bookkeeping of the exports themselves"),
        holds: "Each data export asked for: when, its progress, its size, where the ZIP is kept \
                until it expires seven days after it is ready, and why a build failed.",
    },
    TableClass {
        table: "notices",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Notices waiting to be shown to a person once, on the next page they open: a \
                workspace they belonged to that was deleted with its owner's account (its name \
                and the date), or the posts and files someone made in one of their workspaces, \
                deleted with that person's account (the workspace's name, how many, the first \
                words of the posts concerned and the due times of those withdrawn). Deleted when \
                shown.",
    },
    TableClass {
        table: "known_devices",
        category: Category::AccountProfile,
        owner: Owner::User("user_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::IncludeWithout(&["token_hash"]),
        holds: "Browsers that signed in to the account before, so that they are not slowed down \
                when someone keeps guessing its password: a hash of the browser's device cookie, \
                a short device description, when it first and last signed in. A browser that has \
                not signed in for a year no longer counts, and its row is deleted at the \
                account's next log-in; all of them are deleted when the password changes.",
    },
    TableClass {
        table: "brand_profiles",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("updated_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "A workspace's brand profile for the AI assistant: the brand's name, what it \
                does, its audience and voice, words to use and to avoid, example posts, and who \
                changed it last.",
    },
    TableClass {
        table: "ai_generations",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[Ref::workspace_rows("workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "The AI assistant's answers to you: the suggestions offered, which provider and \
                model wrote them, the tokens they used, and when you took one. What you typed \
                for it is not kept. Deleted after 30 days.",
    },
    TableClass {
        table: "agent_conversations",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[Ref::workspace_rows("workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "Your conversations with the AI agent in a workspace: a title (the start of the \
                first message) and when they were started and last used.",
    },
    TableClass {
        table: "agent_messages",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Parent {
            column: "conversation_id",
            table: "agent_conversations",
        },
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "The messages of those conversations: what you wrote, what the agent answered \
                and which tools it used, and what the tools returned to it (the workspace's \
                posts, accounts, campaigns or files it asked for).",
    },
    TableClass {
        table: "agent_proposals",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[Ref::workspace_rows("workspace_id")],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "The changes the agent proposed to you (draft, schedule or move a post, create a \
                campaign), whether you approved or rejected them, when, and what came of them.",
    },
    TableClass {
        table: "seaql_migrations",
        category: Category::System,
        owner: Owner::Nobody,
        refs: &[],
        objects: &[],
        deletion: OnDeletion::Retain("schema bookkeeping; holds no personal data"),
        export: OnExport::Exclude("holds no personal data"),
        holds: "Which schema migrations have been applied.",
    },
    TableClass {
        table: "comments",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("assigned_to")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::ToOwners,
        holds: "Comments and replies under the workspace's published posts, read from the \
                platforms: the name and text of people who never signed up here (third-party \
                personal data), when they wrote, whether hidden or deleted, and the team's \
                labels, assignee and done state. Purged once a post's conversation has been \
                quiet for the workspace's retention period.",
    },
    TableClass {
        table: "comment_replies",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("author_id"), Ref::user("reviewed_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::ToOwnersAndAuthor("author_id"),
        holds: "Replies members wrote to comments (some begun as an AI suggestion), from draft \
                to sent, who approved them when replies need approval, and the platform's \
                reason when it refused; purged with their comment.",
    },
    TableClass {
        table: "comment_rules",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "The workspace's keyword rules that label comments (question, complaint, order).",
    },
    TableClass {
        table: "post_notes",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("author_id"), Ref::mentions("body")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::Include,
        holds: "Notes members wrote on posts for one another (never published): the text, \
                which may mention members by name, who wrote it and when.",
    },
    TableClass {
        table: "notifications",
        category: Category::WorkspaceAndUsage,
        owner: Owner::User("user_id"),
        refs: &[
            Ref::workspace_rows("workspace_id"),
            Ref::user("actor_id"),
            Ref::mentions("summary"),
        ],
        objects: &[],
        deletion: OnDeletion::Delete,
        export: OnExport::Include,
        holds: "What you were told inside the app in each workspace (mentioned in a note, a \
                post waiting for your approval, a decision on your post): who caused it, a \
                short summary, what it links to, when, and when you read it. Deleted when you \
                leave the workspace.",
    },
    TableClass {
        table: "conversations",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::ToOwners,
        holds: "Instagram direct-message conversations of the workspace's accounts: the other \
                person's id and name at Instagram (third-party personal data), when the last \
                message was sent and when the person last wrote. Purged once quiet for the \
                workspace's retention period.",
    },
    TableClass {
        table: "direct_messages",
        category: Category::WorkspaceAndUsage,
        owner: Owner::Workspace("workspace_id"),
        refs: &[Ref::user("sent_by")],
        objects: &[],
        deletion: OnDeletion::FollowWorkspace,
        export: OnExport::ToOwnersAndAuthor("sent_by"),
        holds: "The messages of those conversations: the person's words and the replies \
                members sent (who sent each, and the platform's reason when it refused); \
                purged with their conversation.",
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
            // A table of a personal category owned by nobody is only allowed when deletion
            // keeps it for a stated reason: it must then name nobody (legal records,
            // anonymized aggregates).
            if t.category != Category::System && t.owner == Owner::Nobody {
                assert!(
                    matches!(t.deletion, OnDeletion::Retain(_)) && t.refs.is_empty(),
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
