//! The residue check: after a deletion, looks for anything of the person left in the database
//! rows the data map names, in the raw database files, in the media store and in the outbox,
//! and removes outbox messages that name a deleted address.

use super::receipt::{Receipt, Step};
use crate::datamap::{self as plan};
use crate::{Result, Services, emails, queue};
use domain::DeletionId;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeSet, HashSet};
use store::datamap::{Names, Owner, TABLES};
use store::entities::states::ForgetKind;
use store::entities::{account_deletion, forget_entry, user};

/// Something a deletion should have removed and did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `table.column`, or `media store`.
    pub place: String,
    pub count: u64,
}

/// Whose deletion the residue check looks at.
#[derive(Debug, Clone)]
pub enum Whom {
    Email(String),
    /// The address and the name the account had: the database files are searched for both.
    EmailAndName {
        email: String,
        name: String,
    },
    /// The keyed hash of the user id (as in the forget list and the deletion record). The
    /// address is not known then, so the database files are not searched.
    UserHash(String),
}

/// The residue check's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Residue {
    /// The account still exists (not deleted, or its deletion has not finished).
    AccountExists,
    /// No deletion is recorded for it.
    Unknown,
    /// Checked: the findings (empty when nothing remains).
    Checked {
        deletions: usize,
        findings: Vec<Finding>,
    },
}

impl Services {
    /// Checks that nothing of a deleted account remains: no row in any table, through any
    /// column the data map names, refers to its user id, its deleted workspaces or its
    /// address, no row owned through a parent has lost its parent, the media store holds
    /// nothing under their prefixes, the mail outbox holds no message to or naming the address
    /// but the deletion receipt, and then (SQLite, when the address is given) the bytes of
    /// the database file and its WAL hold neither the address nor the name given.
    pub async fn residue(&self, whom: Whom) -> Result<Residue> {
        let deletion_ids: BTreeSet<Option<i64>> = match &whom {
            Whom::Email(address) | Whom::EmailAndName { email: address, .. } => {
                let address = address.trim().to_lowercase();
                let exists = user::Entity::find()
                    .filter(
                        Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                            user::Column::Email,
                        )))
                        .eq(address.as_str()),
                    )
                    .one(&self.db)
                    .await?
                    .is_some();
                if exists {
                    return Ok(Residue::AccountExists);
                }
                forget_entry::Entity::find()
                    .filter(forget_entry::Column::Kind.eq(ForgetKind::Address))
                    .filter(
                        forget_entry::Column::Hash
                            .eq(self.forget_hash(ForgetKind::Address, &address)),
                    )
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|e| e.deletion_id)
                    .collect()
            }
            Whom::UserHash(hash) => {
                let running = account_deletion::Entity::find()
                    .filter(account_deletion::Column::SubjectHash.eq(hash.as_str()))
                    .filter(account_deletion::Column::Step.ne(Step::Done))
                    .one(&self.db)
                    .await?;
                if running.is_some() {
                    return Ok(Residue::AccountExists);
                }
                forget_entry::Entity::find()
                    .filter(forget_entry::Column::Kind.eq(ForgetKind::User))
                    .filter(forget_entry::Column::Hash.eq(hash.as_str()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|e| e.deletion_id)
                    .collect()
            }
        };
        if deletion_ids.is_empty() {
            return Ok(Residue::Unknown);
        }
        let ids: Vec<i64> = deletion_ids.iter().flatten().copied().collect();
        let entries = forget_entry::Entity::find()
            .filter(forget_entry::Column::DeletionId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let set = |kind: ForgetKind| -> HashSet<String> {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.hash.clone())
                .collect()
        };
        let (users, workspaces, addresses) = (
            set(ForgetKind::User),
            set(ForgetKind::Workspace),
            set(ForgetKind::Address),
        );
        let mut findings = Vec::new();
        for table in TABLES {
            let mut columns: Vec<(&str, Names)> = table
                .refs
                .iter()
                .filter(|r| !matches!(r.names, Names::NameOf(_) | Names::Mentions))
                .map(|r| (r.column, r.names))
                .collect();
            match table.owner {
                Owner::User(column) => columns.push((column, Names::User)),
                Owner::Workspace(column) => columns.push((column, Names::Workspace)),
                Owner::Parent {
                    column,
                    table: parent,
                } => {
                    let orphans = plan::count_rows(
                        &self.db,
                        table.table,
                        Expr::col(Alias::new(column)).is_not_null().and(
                            Expr::col(Alias::new(column)).not_in_subquery(
                                Query::select()
                                    .column(Alias::new("id"))
                                    .from(Alias::new(parent))
                                    .to_owned(),
                            ),
                        ),
                    )
                    .await?;
                    if orphans > 0 {
                        findings.push(Finding {
                            place: format!(
                                "{}.{column} (rows whose {parent} row is gone)",
                                table.table
                            ),
                            count: orphans,
                        });
                    }
                }
                Owner::Nobody => {}
            }
            for (column, names) in columns {
                let hits = match names {
                    Names::User | Names::Workspace => {
                        let (kind, set) = if names == Names::User {
                            (ForgetKind::User, &users)
                        } else {
                            (ForgetKind::Workspace, &workspaces)
                        };
                        let mut hits = Vec::new();
                        for id in self.distinct::<i64>(table.table, column).await? {
                            if set.contains(&self.forget_id(kind, id)) {
                                hits.push(Expr::col(Alias::new(column)).eq(id));
                            }
                        }
                        hits
                    }
                    Names::Address => {
                        let mut hits = Vec::new();
                        for value in self.distinct::<String>(table.table, column).await? {
                            if addresses.contains(
                                &self.forget_hash(ForgetKind::Address, &value.to_lowercase()),
                            ) {
                                hits.push(Expr::col(Alias::new(column)).eq(value));
                            }
                        }
                        hits
                    }
                    Names::NameOf(_) | Names::Mentions => Vec::new(),
                };
                for hit in hits {
                    let count = plan::count_rows(&self.db, table.table, hit).await?;
                    findings.push(Finding {
                        place: format!("{}.{column}", table.table),
                        count,
                    });
                }
            }
        }
        let mut objects = 0;
        for key in self.objects.keys("").await? {
            if let Some((kind, id)) = store::objects::owner_of_key(&key) {
                let (kind, set) = if kind == "user" {
                    (ForgetKind::User, &users)
                } else {
                    (ForgetKind::Workspace, &workspaces)
                };
                if set.contains(&self.forget_id(kind, id)) {
                    objects += 1;
                }
            }
        }
        if objects > 0 {
            findings.push(Finding {
                place: "media store".to_owned(),
                count: objects,
            });
        }
        let rows_clean = findings.is_empty();
        findings.extend(
            self.residue_outside_rows(&whom, &addresses, rows_clean)
                .await?,
        );
        Ok(Residue::Checked {
            deletions: deletion_ids.len(),
            findings,
        })
    }

    /// What the residue check finds outside the rows: messages in the mail outbox to or
    /// naming the deleted addresses (the deletion receipt aside), and, on SQLite, the address
    /// and the name in the raw bytes of the database file and its WAL, free pages included.
    /// The bytes are searched when no row holds anything of the account (`rows_clean`): a hit
    /// then is a copy outside the live rows.
    pub(crate) async fn residue_outside_rows(
        &self,
        whom: &Whom,
        addresses: &HashSet<String>,
        rows_clean: bool,
    ) -> Result<Vec<Finding>> {
        let mut findings = Vec::new();
        let outbox = self.outbox_naming(addresses).await?.len() as u64;
        if outbox > 0 {
            findings.push(Finding {
                place: "mail outbox (messages to or naming the address)".to_owned(),
                count: outbox,
            });
        }
        let (address, name) = match whom {
            Whom::Email(address) => (Some(address), None),
            Whom::EmailAndName { email, name } => (Some(email), Some(name)),
            Whom::UserHash(_) => (None, None),
        };
        let needles: Vec<(&str, Vec<u8>)> = [
            ("the address", address.map(|a| a.trim().to_lowercase())),
            ("the name", name.map(|n| n.trim().to_owned())),
        ]
        .into_iter()
        .filter_map(|(what, text)| {
            text.filter(|t| !t.is_empty())
                .map(|t| (what, t.into_bytes()))
        })
        .collect();
        if needles.is_empty() || !rows_clean {
            return Ok(findings);
        }
        // A receipt that could not be sent at once waits in the queue with the address (and
        // the name), as it is meant to: until it has gone, the files are not searched.
        if let Some(address) = address
            && self.receipt_waiting(address).await?
        {
            return Ok(findings);
        }
        for path in store::database_files(&self.db).await? {
            let file = path.clone();
            let search: Vec<Vec<u8>> = needles.iter().map(|(_, n)| n.clone()).collect();
            let counts = tokio::task::spawn_blocking(move || {
                let search: Vec<&[u8]> = search.iter().map(Vec::as_slice).collect();
                store::files::occurrences(&file, &search)
            })
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| anyhow::anyhow!("could not read {}: {e}", path.display()))?;
            for ((what, _), count) in needles.iter().zip(counts) {
                if count > 0 {
                    findings.push(Finding {
                        place: format!("database file {} ({what}, in its bytes)", path.display()),
                        count,
                    });
                }
            }
        }
        Ok(findings)
    }

    /// Whether a deletion receipt to `address` waits in the queue (the mail server was down).
    pub(crate) async fn receipt_waiting(&self, address: &str) -> Result<bool> {
        let subject = Self::receipt_subject();
        let address = address.trim();
        Ok(store::entities::job::Entity::find()
            .filter(
                store::entities::job::Column::Kind
                    .eq(<providers::mail::Email as queue::Payload>::KIND),
            )
            .filter(
                store::entities::job::Column::State
                    .is_in([queue::JobState::Queued, queue::JobState::Running]),
            )
            .all(&self.db)
            .await?
            .iter()
            .filter_map(|job| serde_json::from_str::<providers::mail::Email>(&job.payload).ok())
            .any(|email| email.subject == subject && email.to.trim().eq_ignore_ascii_case(address)))
    }

    /// The subject of deletion receipts: the one message to a deleted address that stays in
    /// the outbox (until `retention.outbox_days`).
    pub(crate) fn receipt_subject() -> String {
        emails::deletion_receipt("", "", &Receipt::default(), &[], "").subject
    }

    /// The messages in the mail outbox, deletion receipts aside, to or naming an address whose
    /// forget-list hash is in `hashes` (none when mail goes to a server).
    pub(crate) async fn outbox_naming(
        &self,
        hashes: &HashSet<String>,
    ) -> Result<Vec<providers::mail::StoredMessage>> {
        let Some(outbox) = self.mailer.outbox() else {
            return Ok(Vec::new());
        };
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let receipt = Self::receipt_subject();
        let messages = outbox
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("could not read the mail outbox: {e}"))?;
        Ok(messages
            .into_iter()
            .filter(|m| {
                m.subject != receipt
                    && m.addresses
                        .iter()
                        .any(|a| hashes.contains(&self.forget_hash(ForgetKind::Address, a)))
            })
            .collect())
    }

    /// Deletes from the mail outbox the messages to or naming an address on the forget list
    /// (`deletion`: that deletion's; `None`: every one), apart from deletion receipts. A
    /// deletion does this when it finishes; the daily retention run again, in case that failed.
    /// Returns how many messages went.
    pub async fn forget_outbox(&self, deletion: Option<DeletionId>) -> Result<u64> {
        let Some(outbox) = self.mailer.outbox() else {
            return Ok(0);
        };
        let mut entries =
            forget_entry::Entity::find().filter(forget_entry::Column::Kind.eq(ForgetKind::Address));
        if let Some(id) = deletion {
            entries = entries.filter(forget_entry::Column::DeletionId.eq(id.0));
        }
        let hashes: HashSet<String> = entries
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| e.hash)
            .collect();
        let doomed = self.outbox_naming(&hashes).await?;
        Ok(outbox
            .remove(doomed)
            .await
            .map_err(|e| anyhow::anyhow!("could not delete from the mail outbox: {e}"))?)
    }
}
