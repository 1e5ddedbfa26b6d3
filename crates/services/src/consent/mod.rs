//! The consent ledger: an append-only record of every cookie decision and policy acceptance,
//! each row carrying the hash of the one before it, so that an edit or a deletion anywhere
//! breaks the chain and [`Services::check_consent_ledger`] says where.
//!
//! **Who consented.** A row recorded while someone was signed in carries a `subject`: a keyed
//! hash (the instance's secret key) of their user id and a random salt of theirs
//! (`consent_subjects`); a row recorded while nobody was signed in carries none. The row hash
//! covers the subject but not `user_id`, and the check recomputes the subject from `user_id`,
//! so a row set onto a person it was not recorded for (an anonymous visitor's choice, or
//! another person's) breaks the chain at that row. The row hash itself is keyed too (hash
//! version 2), so without the key nobody can write a row, or a subject, that passes.
//!
//! **Detachment.** Deleting an account keeps its rows as proof of consent and clears their
//! `user_id`. In the same transaction the deletion appends one `detach` marker per subject
//! (a row of the chain like any other, naming the subject and nobody else), and deletes the
//! person's salt, after which the subject left on their rows leads to nobody, even for
//! someone who holds the key. The check accepts a row without `user_id` but with a subject
//! only when a later marker names that subject; a row detached any other way breaks the chain.
//!
//! **Rows from before subjects were bound** (hash version 1, written before migration 18) keep
//! their plain SHA-256 over the other fields and are checked as they always were: rewriting
//! their hashes would erase the very evidence the chain exists for. Who they belong to is not
//! covered, and the check says how many there are. No version-1 row may follow a version-2 one.
//!
//! **Outside witness.** The chain's head lives in the same database, so someone who can write
//! to it could cut the newest rows and move the head back. The head and length ([`Head`],
//! `HASH:LENGTH`) are printed by `admin consent verify`, logged by the daily retention run and,
//! with `consent.witness_file`, appended to a file outside the database; `verify --expect-head`
//! then checks that the row at the witnessed position still has the witnessed hash (rows
//! appended since are fine; a shortened or rewritten chain is not).

use domain::UserId;
pub mod chain;
pub mod kinds;

pub use kinds::{Event, Source};

pub use chain::{ChainReport, Head, LedgerCheck, WitnessCheck, Witnessed};
use chain::{VERSION, row_hash_v2, subject_of};

use crate::{Result, ServiceError, Services};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use store::entities::{consent_chain, consent_record, consent_subject};

/// A ledger row in words, for the person's own history (the download keeps the codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// "Accepted Terms of Service 1.1", "Turned Marketing on, Analytics off".
    pub what: String,
    /// The cookie categories allowed from then on ("Essential, Marketing"); empty for policy
    /// acceptances.
    pub allowed: String,
    /// "from the cookie banner", "at sign-up".
    pub source: String,
}

/// Describes a ledger row in English.
pub fn describe(row: &consent_record::Model) -> Described {
    use domain::Language::English;
    use domain::consent::Category;
    use domain::policy::PolicyKind;
    let granted: Vec<Category> = row
        .categories
        .split(',')
        .filter_map(|key| Category::parse(key).ok())
        .collect();
    let event = Event::parse(&row.event);
    let what = match event {
        Some(Event::PolicyAccept) => {
            let policies: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&row.policies).unwrap_or_default();
            let named: Vec<String> = PolicyKind::ALL
                .iter()
                .filter_map(|kind| {
                    let version = policies.get(kind.slug())?.get("version")?.as_str()?;
                    Some(format!("{} {version}", kind.title()))
                })
                .collect();
            if named.is_empty() {
                "Accepted the policies".to_owned()
            } else {
                format!("Accepted {}", named.join(", "))
            }
        }
        Some(Event::Detach) => "Detached from a deleted account".to_owned(),
        Some(cookie_event) => {
            // Those turned on first, then those turned off.
            let (on, off): (Vec<Category>, Vec<Category>) = Category::ALL
                .into_iter()
                .filter(Category::optional)
                .partition(|c| granted.contains(c));
            let states: Vec<String> = on
                .iter()
                .map(|c| format!("{} on", c.name(English)))
                .chain(off.iter().map(|c| format!("{} off", c.name(English))))
                .collect();
            let verb = if cookie_event == Event::Grant {
                "Chose"
            } else {
                "Turned"
            };
            format!("{verb} {}", states.join(", "))
        }
        None => "A decision this version cannot describe".to_owned(),
    };
    let allowed = if matches!(event, Some(Event::PolicyAccept | Event::Detach)) {
        String::new()
    } else {
        granted
            .iter()
            .map(|c| c.name(English))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Described {
        what,
        allowed,
        source: Source::parse(&row.source)
            .map(|s| s.label().to_owned())
            .unwrap_or_else(|| "elsewhere".to_owned()),
    }
}

/// One decision to append.
#[derive(Debug, Clone)]
pub struct Decision {
    pub consent_id: String,
    pub user_id: Option<i64>,
    pub event: Event,
    pub categories: String,
    /// The policies the decision refers to, with version and SHA-256, as JSON.
    pub policies: serde_json::Value,
    pub source: Source,
    pub locale: String,
    /// The client's address; only its keyed hash is stored.
    pub client: String,
    /// The browser family.
    pub browser: String,
}

/// A row to append, every field as stored except the chain's.
pub(crate) struct NewRow {
    consent_id: String,
    who: Who,
    event: Event,
    categories: String,
    policies: String,
    banner_version: String,
    source: Source,
    locale: String,
    ip_hash: String,
    browser: String,
}

impl Services {
    /// Appends a decision to the ledger.
    pub async fn record_consent(&self, d: Decision) -> Result<consent_record::Model> {
        self.record_consent_in(&self.db, d).await
    }

    /// Appends a decision within the caller's transaction (a savepoint inside it), so that a
    /// decision and the change it belongs to (a new account, say) are written together or not
    /// at all.
    pub async fn record_consent_in<C: TransactionTrait>(
        &self,
        conn: &C,
        d: Decision,
    ) -> Result<consent_record::Model> {
        let row = NewRow {
            consent_id: d.consent_id,
            who: d.user_id.map(Who::Person).unwrap_or(Who::Nobody),
            event: d.event,
            categories: d.categories,
            policies: d.policies.to_string(),
            banner_version: domain::consent::BANNER_VERSION.to_owned(),
            source: d.source,
            locale: d.locale,
            ip_hash: self.keys.mac("ip", d.client.as_bytes()),
            browser: d.browser,
        };
        self.append(conn, row).await
    }

    /// Appends one detachment marker for each subject of `users`' rows, in the transaction of
    /// the deletion that is about to detach those rows (clear their `user_id`) and delete the
    /// salts. Returns the number of markers.
    pub async fn record_consent_detachments<C: TransactionTrait + ConnectionTrait>(
        &self,
        conn: &C,
        users: &[i64],
    ) -> Result<u64> {
        if users.is_empty() {
            return Ok(0);
        }
        let mut subjects: Vec<String> = consent_record::Entity::find()
            .select_only()
            .column(consent_record::Column::Subject)
            .distinct()
            .filter(consent_record::Column::UserId.is_in(users.iter().copied()))
            .filter(consent_record::Column::HashVersion.eq(VERSION))
            .filter(consent_record::Column::Subject.ne(""))
            .into_tuple()
            .all(conn)
            .await?;
        subjects.sort();
        let markers = subjects.len() as u64;
        for subject in subjects {
            let marker = NewRow {
                consent_id: String::new(),
                who: Who::Detached(subject),
                event: Event::Detach,
                categories: String::new(),
                policies: "{}".to_owned(),
                banner_version: String::new(),
                source: Source::AccountDeletion,
                locale: String::new(),
                ip_hash: String::new(),
                browser: String::new(),
            };
            self.append(conn, marker).await?;
        }
        Ok(markers)
    }

    async fn append<C: TransactionTrait>(
        &self,
        conn: &C,
        new: NewRow,
    ) -> Result<consent_record::Model> {
        use sea_orm::sea_query::ExprTrait;
        let txn = conn.begin().await?;
        // Writing the head first takes the write lock (PostgreSQL row lock, SQLite writer), so
        // appends happen one at a time and every row links to the one before it.
        let bumped = consent_chain::Entity::update_many()
            .col_expr(
                consent_chain::Column::Length,
                Expr::col(consent_chain::Column::Length).add(1),
            )
            .filter(consent_chain::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        if bumped.rows_affected != 1 {
            return Err(anyhow::anyhow!("the consent chain head is missing").into());
        }
        let head = consent_chain::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ServiceError::Unexpected(anyhow::anyhow!("the consent chain head is missing"))
            })?;
        let (user_id, subject) = match new.who {
            Who::Nobody => (None, String::new()),
            Who::Person(user) => (Some(user), self.subject_in(&txn, user).await?),
            Who::Detached(subject) => (None, subject),
        };
        let mut row = consent_record::ActiveModel {
            consent_id: Set(new.consent_id),
            user_id: Set(user_id),
            event: Set(new.event.as_str().to_owned()),
            categories: Set(new.categories),
            policies: Set(new.policies),
            banner_version: Set(new.banner_version),
            source: Set(new.source.as_str().to_owned()),
            locale: Set(new.locale),
            ip_hash: Set(new.ip_hash),
            browser: Set(new.browser),
            created_at: Set(crate::now()),
            prev_hash: Set(head.head_hash.clone()),
            // Unique and unknown until the id is known; replaced below in the same transaction.
            row_hash: Set(format!("pending-{}", crate::tokens::random_token())),
            subject: Set(subject),
            hash_version: Set(VERSION),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let hash = row_hash_v2(&self.keys, &row);
        row.row_hash = hash.clone();
        consent_record::Entity::update_many()
            .col_expr(consent_record::Column::RowHash, Expr::value(hash.clone()))
            .filter(consent_record::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        consent_chain::Entity::update_many()
            .col_expr(consent_chain::Column::HeadHash, Expr::value(hash))
            .filter(consent_chain::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// `user_id`'s subject, their salt made now if they have none. Called after the head is
    /// written, so two appends for one person never both make one.
    async fn subject_in<C: ConnectionTrait>(&self, conn: &C, user_id: i64) -> Result<String> {
        let salt = match consent_subject::Entity::find()
            .filter(consent_subject::Column::UserId.eq(user_id))
            .one(conn)
            .await?
        {
            Some(found) => found.salt,
            None => {
                let salt = crate::tokens::random_token();
                consent_subject::Entity::insert(consent_subject::ActiveModel {
                    user_id: Set(user_id),
                    salt: Set(salt.clone()),
                    ..Default::default()
                })
                .exec_without_returning(conn)
                .await?;
                salt
            }
        };
        Ok(subject_of(&self.keys, user_id, &salt))
    }

    /// A person's own consent history, oldest first: what they decided while signed in, and
    /// what this browser (`consent_id`) decided before they signed in.
    pub async fn consent_history(
        &self,
        user_id: UserId,
        consent_id: Option<&str>,
    ) -> Result<Vec<consent_record::Model>> {
        use sea_orm::Condition;
        let mut mine = Condition::any().add(consent_record::Column::UserId.eq(user_id.0));
        if let Some(id) = consent_id {
            // This browser's decisions made while nobody was signed in; never another person's
            // (a deleted account's rows, detached, keep their subject).
            mine = mine.add(
                Condition::all()
                    .add(consent_record::Column::ConsentId.eq(id))
                    .add(consent_record::Column::UserId.is_null())
                    .add(consent_record::Column::Subject.eq("")),
            );
        }
        Ok(consent_record::Entity::find()
            .filter(mine)
            .order_by_asc(consent_record::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// Who a new row is about.
pub(crate) enum Who {
    Nobody,
    /// A signed-in person: the subject is theirs (their salt is made if they have none yet).
    Person(i64),
    /// A detachment marker: the subject whose rows are detached.
    Detached(String),
}
