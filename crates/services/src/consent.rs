//! The consent ledger: an append-only record of every cookie decision and policy acceptance,
//! each row carrying the hash of the one before it, so that an edit or a deletion anywhere
//! breaks the chain and `verify_chain` says where.

use crate::{Result, ServiceError, Services};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionSession,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use store::entities::{consent_chain, consent_record};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A first choice for this browser.
    Grant,
    /// A later choice that adds categories or keeps them.
    Update,
    /// A later choice that takes categories back.
    Withdraw,
    /// The browser's Global Privacy Control signal was applied.
    Gpc,
    PolicyAccept,
}

impl Event {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Update => "update",
            Self::Withdraw => "withdraw",
            Self::Gpc => "gpc",
            Self::PolicyAccept => "policy_accept",
        }
    }
}

impl Event {
    const ALL: [Event; 5] = [
        Self::Grant,
        Self::Update,
        Self::Withdraw,
        Self::Gpc,
        Self::PolicyAccept,
    ];

    /// The event a ledger row names; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == code)
    }
}

/// Where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CookieBanner,
    CookiePolicyPage,
    Gpc,
    Signup,
    BillingCheckout,
    PolicyUpdate,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CookieBanner => "cookie_banner",
            Self::CookiePolicyPage => "cookie_policy_page",
            Self::Gpc => "gpc",
            Self::Signup => "signup",
            Self::BillingCheckout => "billing_checkout",
            Self::PolicyUpdate => "policy_update",
        }
    }

    const ALL: [Source; 6] = [
        Self::CookieBanner,
        Self::CookiePolicyPage,
        Self::Gpc,
        Self::Signup,
        Self::BillingCheckout,
        Self::PolicyUpdate,
    ];

    /// The source a ledger row names; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// Where, in words that follow what was decided.
    pub fn label(&self) -> &'static str {
        match self {
            Self::CookieBanner => "from the cookie banner",
            Self::CookiePolicyPage => "from the cookie policy page",
            Self::Gpc => "by your browser's Global Privacy Control signal",
            Self::Signup => "at sign-up",
            Self::BillingCheckout => "at the billing checkout",
            Self::PolicyUpdate => "when the policies were updated",
        }
    }
}

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
    let allowed = if event == Some(Event::PolicyAccept) {
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

/// The fields a row's hash covers, in a fixed order, serialised as a JSON array so that no two
/// different rows can produce the same text.
fn row_hash(row: &consent_record::Model) -> String {
    let fields = serde_json::json!([
        row.id,
        row.consent_id,
        row.event,
        row.categories,
        row.policies,
        row.banner_version,
        row.source,
        row.locale,
        row.ip_hash,
        row.browser,
        row.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        row.prev_hash,
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// Where the chain check found a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact { rows: u64 },
    Broken { row: Option<i64>, reason: String },
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
        let mut row = consent_record::ActiveModel {
            consent_id: Set(d.consent_id),
            user_id: Set(d.user_id),
            event: Set(d.event.as_str().to_owned()),
            categories: Set(d.categories),
            policies: Set(d.policies.to_string()),
            banner_version: Set(domain::consent::BANNER_VERSION.to_owned()),
            source: Set(d.source.as_str().to_owned()),
            locale: Set(d.locale),
            ip_hash: Set(self.keys.mac("ip", d.client.as_bytes())),
            browser: Set(d.browser),
            created_at: Set(crate::now()),
            prev_hash: Set(head.head_hash.clone()),
            // Unique and unknown until the id is known; replaced below in the same transaction.
            row_hash: Set(format!("pending-{}", crate::tokens::random_token())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let hash = row_hash(&row);
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

    /// Walks the whole ledger and checks every link and every row's hash, and that the head
    /// names the last row and counts them all.
    pub async fn verify_consent_chain(&self) -> Result<ChainReport> {
        // The head first: rows appended after it was read are not part of this check, so a
        // running server appending meanwhile is not mistaken for tampering.
        let head = consent_chain::Entity::find_by_id(1).one(&self.db).await?;
        let mut rows = consent_record::Entity::find()
            .order_by_asc(consent_record::Column::Id)
            .all(&self.db)
            .await?;
        let Some(head) = head else {
            return Ok(ChainReport::Broken {
                row: None,
                reason: "the chain head is missing".into(),
            });
        };
        rows.truncate(usize::try_from(head.length).unwrap_or(usize::MAX));
        let mut prev = store::migration::m20261129_000002_consent::GENESIS.to_owned();
        for row in &rows {
            if row.prev_hash != prev {
                return Ok(ChainReport::Broken {
                    row: Some(row.id),
                    reason: "it does not link to the row before it (a row was deleted or inserted)"
                        .into(),
                });
            }
            if row_hash(row) != row.row_hash {
                return Ok(ChainReport::Broken {
                    row: Some(row.id),
                    reason: "its content does not match its hash (the row was edited)".into(),
                });
            }
            prev = row.row_hash.clone();
        }
        if head.head_hash != prev || head.length != rows.len() as i64 {
            return Ok(ChainReport::Broken {
                row: rows.last().map(|r| r.id),
                reason: format!(
                    "the chain head expects {} rows ending in {}…, the ledger has {} (rows were removed from the end)",
                    head.length,
                    &head.head_hash[..12.min(head.head_hash.len())],
                    rows.len()
                ),
            });
        }
        Ok(ChainReport::Intact {
            rows: rows.len() as u64,
        })
    }

    /// A person's own consent history, oldest first: what they decided while signed in, and
    /// what this browser (`consent_id`) decided before they signed in.
    pub async fn consent_history(
        &self,
        user_id: i64,
        consent_id: Option<&str>,
    ) -> Result<Vec<consent_record::Model>> {
        use sea_orm::Condition;
        let mut mine = Condition::any().add(consent_record::Column::UserId.eq(user_id));
        if let Some(id) = consent_id {
            // This browser's decisions made while nobody was signed in; never another person's.
            mine = mine.add(
                Condition::all()
                    .add(consent_record::Column::ConsentId.eq(id))
                    .add(consent_record::Column::UserId.is_null()),
            );
        }
        Ok(consent_record::Entity::find()
            .filter(mine)
            .order_by_asc(consent_record::Column::Id)
            .all(&self.db)
            .await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Described, describe};
    use store::entities::consent_record;

    fn row(event: &str, categories: &str, policies: &str, source: &str) -> consent_record::Model {
        consent_record::Model {
            id: 1,
            consent_id: "c".into(),
            user_id: Some(1),
            event: event.into(),
            categories: categories.into(),
            policies: policies.into(),
            banner_version: "v".into(),
            source: source.into(),
            locale: "en".into(),
            ip_hash: "h".into(),
            browser: "Firefox on Linux".into(),
            created_at: chrono::Utc::now(),
            prev_hash: String::new(),
            row_hash: String::new(),
        }
    }

    #[test]
    fn ledger_rows_read_as_words() {
        assert_eq!(
            describe(&row(
                "withdraw",
                "essential,marketing",
                "{}",
                "cookie_banner"
            )),
            Described {
                what: "Turned Marketing on, Analytics off".into(),
                allowed: "Essential, Marketing".into(),
                source: "from the cookie banner".into(),
            }
        );
        assert_eq!(
            describe(&row("grant", "essential", "{}", "gpc")).what,
            "Chose Analytics off, Marketing off"
        );
        let accepted = describe(&row(
            "policy_accept",
            "",
            r#"{"privacy":{"version":"1.0"},"terms":{"version":"1.1"}}"#,
            "policy_update",
        ));
        assert_eq!(
            accepted.what,
            "Accepted Terms of Service 1.1, Privacy Policy 1.0"
        );
        assert_eq!(accepted.allowed, "");
        assert_eq!(accepted.source, "when the policies were updated");
    }
}
