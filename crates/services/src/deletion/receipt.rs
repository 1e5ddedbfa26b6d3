//! What a deletion records: how it was asked for, the step it is at, and its receipt (what was
//! deleted, what is kept and why, what happened at each platform). These types hold data only,
//! so the e-mails and the deletion requests can use them without depending on the steps.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::datamap::{self};

pub use store::entities::states::{DeletionStep as Step, DeletionVia as Via};

/// What a deletion did to one connected account at its platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationLine {
    pub account_id: i64,
    pub platform: String,
    pub username: String,
    /// `revoked`, `not_offered`, `failed`, `shared`.
    pub outcome: String,
    /// For people: what happened and what is left to do.
    pub detail: String,
}

impl RevocationLine {
    pub fn revoked(&self) -> bool {
        self.outcome == "revoked"
    }
}

/// A workspace the deletion removes or hands over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceLine {
    pub id: i64,
    pub name: String,
    /// The other people in it: (user id, name, address, role).
    pub others: Vec<(i64, String, String, String)>,
}

/// The record a deletion builds as it goes (stored as JSON on its row): the plan, the
/// revocations, and what was deleted. Reduced to counts when the deletion ends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Receipt {
    pub user_id: i64,
    /// Workspaces deleted with the account (it was their only owner).
    pub deleted: Vec<WorkspaceLine>,
    /// Workspaces kept by their other owners.
    pub handed_over: Vec<WorkspaceLine>,
    /// Every workspace the person belonged to (where kept text may name them).
    #[serde(default)]
    pub member_of: Vec<i64>,
    /// What the person chose for the posts and files they made in workspaces others keep.
    #[serde(default = "KeptWork::before_the_choice")]
    pub kept_work: KeptWork,
    /// Those workspaces, with what the person made in each (counted for the receipt).
    #[serde(default)]
    pub kept: Vec<KeptLine>,
    /// Rows deleted from those workspaces, by table (apart from `rows`, which counts what the
    /// deletion page listed).
    #[serde(default)]
    pub kept_rows: BTreeMap<String, u64>,
    /// Posts with a platform call under way when the rows were deleted, and the files such
    /// posts carry: deleted once the call has ended.
    #[serde(default)]
    pub in_flight_posts: Vec<i64>,
    #[serde(default)]
    pub in_flight_files: Vec<i64>,
    pub revocations: Vec<RevocationLine>,
    /// Rows deleted, by table (those of `signed_out` included).
    pub rows: BTreeMap<String, u64>,
    /// Rows deleted when the deletion started, to stop sign-in at once (sessions and links),
    /// by table: counted in `rows` with everything deleted later, so that the receipt counts
    /// what the deletion page said would go.
    #[serde(default)]
    pub signed_out: BTreeMap<String, u64>,
    /// Rows kept (by workspaces that stay, or as proof) with the person's name or id cleared.
    #[serde(default)]
    pub detached: BTreeMap<String, u64>,
    /// Media store keys of the deleted rows, removed in the last step.
    pub objects: Vec<String>,
    pub objects_deleted: u64,
    pub mailed: bool,
    /// The receipt, when sending it at once failed: queued with the rows' transaction instead
    /// (the address is still known there), so an outage of the mail server does not hold the
    /// deletion back.
    #[serde(default)]
    pub unsent: Option<providers::mail::Email>,
}

impl Receipt {
    /// `rows`, deleted in the last step, with the rows deleted when sign-in stopped.
    pub(crate) fn with_signed_out(&self, mut rows: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        for (table, n) in &self.signed_out {
            *rows.entry(table.clone()).or_default() += n;
        }
        rows
    }

    /// The rows deleted per data category of the privacy page.
    pub fn by_category(&self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<(&'static str, u64)> = Vec::new();
        for (table, n) in &self.rows {
            let Some(class) = datamap::classify(table) else {
                continue;
            };
            let label = class.category.label();
            match out.iter_mut().find(|(l, _)| *l == label) {
                Some((_, total)) => *total += n,
                None => out.push((label, *n)),
            }
        }
        out
    }
}

/// What an account deletion does with the person's posts and files in workspaces others keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptWork {
    /// Deleted with the account (the default, and what a request e-mailed to us does).
    #[default]
    Delete,
    /// Left with the workspace, no longer linked to the person (ticked on the deletion page).
    Leave,
}

impl KeptWork {
    /// What deletions recorded before the choice existed did: they left them.
    pub(super) fn before_the_choice() -> Self {
        Self::Leave
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Leave => "leave",
        }
    }
}

/// A workspace someone else keeps, with what the person made there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptLine {
    pub id: i64,
    pub name: String,
    pub drafts: u64,
    /// Still to go out: scheduled, being published, or waiting for a reconnection.
    pub scheduled: u64,
    pub published: u64,
    /// Failed, partly published, or waiting for someone to check the outcome.
    pub other: u64,
    /// Library files: uploaded, or made with an AI feature.
    pub files: u64,
    /// Posts with a platform call under way when counted.
    pub publishing_now: u64,
}

impl KeptLine {
    pub fn posts(&self) -> u64 {
        self.drafts + self.scheduled + self.published + self.other
    }

    /// "3 posts (1 draft, 1 scheduled, 1 published) and 1 file".
    pub fn describe(&self) -> String {
        let mut kinds = Vec::new();
        if self.drafts > 0 {
            kinds.push(domain::counted(self.drafts, "draft", "drafts"));
        }
        for (n, label) in [
            (self.scheduled, "scheduled"),
            (self.published, "published"),
            (self.other, "needing attention"),
        ] {
            if n > 0 {
                kinds.push(format!("{n} {label}"));
            }
        }
        let posts = match self.posts() {
            0 => None,
            n => Some(format!(
                "{} ({})",
                domain::counted(n, "post", "posts"),
                kinds.join(", ")
            )),
        };
        let files = (self.files > 0).then(|| domain::counted(self.files, "file", "files"));
        match (posts, files) {
            (Some(p), Some(f)) => format!("{p} and {f}"),
            (Some(p), None) => p,
            (None, Some(f)) => f,
            (None, None) => "nothing".to_owned(),
        }
    }
}

/// The choice a deletion record holds for the posts and files the person made in workspaces
/// others keep (its receipt while it runs, its summary once finished; records made before the
/// choice existed left them).
pub(crate) fn recorded_choice(receipt: Option<&str>) -> KeptWork {
    let value: serde_json::Value = receipt
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    match value["kept_work"].as_str() {
        Some(c) if c == KeptWork::Delete.as_str() => KeptWork::Delete,
        _ => KeptWork::before_the_choice(),
    }
}
