//! Versioned policies: publishing, the version in effect, and acceptance (recorded in the
//! consent ledger, with the quick answer kept in `policy_acceptances`).

use crate::consent::{Decision, Event, Source};
use crate::{Result, ServiceError, Services};
use chrono::{DateTime, Utc};
use domain::UserId;
use domain::policy::{PolicyKind, PolicyVersion};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::entities::{policy_acceptance, policy_version};

/// Who accepts, and from where (for the ledger).
#[derive(Debug, Clone)]
pub struct Acceptor {
    pub user_id: i64,
    pub consent_id: Option<String>,
    pub locale: String,
    pub client: String,
    pub browser: String,
}

pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Services {
    /// The version of `kind` in effect now: the newest one whose effective date has come.
    pub async fn policy_in_effect(
        &self,
        kind: PolicyKind,
    ) -> Result<Option<policy_version::Model>> {
        Ok(policy_version::Entity::find()
            .filter(policy_version::Column::Kind.eq(kind.slug()))
            .filter(policy_version::Column::EffectiveAt.lte(crate::now()))
            .order_by_desc(policy_version::Column::EffectiveAt)
            .order_by_desc(policy_version::Column::Id)
            .one(&self.db)
            .await?)
    }

    /// Every version of `kind`, newest first (including ones not yet in effect).
    pub async fn policy_versions(&self, kind: PolicyKind) -> Result<Vec<policy_version::Model>> {
        let mut all = policy_version::Entity::find()
            .filter(policy_version::Column::Kind.eq(kind.slug()))
            .all(&self.db)
            .await?;
        all.sort_by_key(|v| std::cmp::Reverse(version_of(v)));
        Ok(all)
    }

    pub async fn policy_version(
        &self,
        kind: PolicyKind,
        version: &str,
    ) -> Result<policy_version::Model> {
        policy_version::Entity::find()
            .filter(policy_version::Column::Kind.eq(kind.slug()))
            .filter(policy_version::Column::Version.eq(version))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Publishes a new version. Its number must be greater than every earlier one, and its
    /// effective date may not lie in the past.
    pub async fn publish_policy(
        &self,
        kind: PolicyKind,
        version: &PolicyVersion,
        effective: DateTime<Utc>,
        body: &str,
        summary: &str,
    ) -> Result<policy_version::Model> {
        let today = crate::now().date_naive();
        if effective.date_naive() < today {
            return Err(ServiceError::invalid(
                "effective",
                format!(
                    "The effective date {} lies in the past; a new version can take effect today or later.",
                    effective.date_naive()
                ),
            ));
        }
        if body.trim().is_empty() {
            return Err(ServiceError::invalid("file", "The policy text is empty."));
        }
        let summary = summary.trim();
        if summary.is_empty() || summary.chars().count() > 1000 {
            return Err(ServiceError::invalid(
                "summary",
                "Give a summary of the changes, at most 1000 characters.",
            ));
        }
        let txn = self.db.begin().await?;
        let existing = policy_version::Entity::find()
            .filter(policy_version::Column::Kind.eq(kind.slug()))
            .all(&txn)
            .await?;
        let newest = existing.iter().filter_map(version_of).max();
        if let Some(newest) = newest
            && *version <= newest
        {
            return Err(ServiceError::invalid(
                "version",
                format!(
                    "Version {} of the {} is not greater than the newest one, {}.",
                    version.as_str(),
                    kind.title(),
                    newest.as_str()
                ),
            ));
        }
        // A later version taking effect before an earlier one would hand the earlier one back
        // the moment its date arrives.
        if let Some(latest) = existing.iter().map(|p| p.effective_at).max()
            && effective < latest
        {
            return Err(ServiceError::invalid(
                "effective",
                format!(
                    "An earlier version takes effect on {}; a newer version cannot take effect before it.",
                    latest.date_naive()
                ),
            ));
        }
        let now = crate::now();
        let row = policy_version::ActiveModel {
            kind: Set(kind.slug().to_owned()),
            version: Set(version.as_str().to_owned()),
            effective_at: Set(effective),
            summary: Set(summary.to_owned()),
            body: Set(body.to_owned()),
            sha256: Set(sha256(body)),
            published_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                ServiceError::invalid("version", "This version was published a moment ago.")
            } else {
                e.into()
            }
        })?;
        txn.commit().await?;
        *self.policy_cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(row)
    }

    /// The versions of `kinds` in effect now (every one must have one).
    pub async fn versions_in_effect(
        &self,
        kinds: &[PolicyKind],
    ) -> Result<Vec<policy_version::Model>> {
        let mut list = Vec::with_capacity(kinds.len());
        for kind in kinds {
            list.push(self.policy_in_effect(*kind).await?.ok_or_else(|| {
                ServiceError::Unexpected(anyhow::anyhow!("no {} is in effect", kind.title()))
            })?);
        }
        Ok(list)
    }

    /// Records that a person accepted `versions` (read before the caller's transaction began,
    /// so that the transaction only writes: on SQLite a read followed by a write can fail when
    /// another connection commits in between), within that transaction: one ledger row naming
    /// every policy with its version and SHA-256, and the quick-answer rows.
    pub async fn accept_policies<C: ConnectionTrait + TransactionTrait>(
        &self,
        conn: &C,
        who: &Acceptor,
        versions: &[policy_version::Model],
        source: Source,
    ) -> Result<()> {
        let now = crate::now();
        let mut accepted = serde_json::Map::new();
        for policy in versions {
            policy_acceptance::ActiveModel {
                user_id: Set(who.user_id),
                kind: Set(policy.kind.clone()),
                version: Set(policy.version.clone()),
                sha256: Set(policy.sha256.clone()),
                source: Set(source.as_str().to_owned()),
                accepted_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            accepted.insert(
                policy.kind.clone(),
                serde_json::json!({ "version": policy.version, "sha256": policy.sha256 }),
            );
        }
        let decision = Decision {
            consent_id: who
                .consent_id
                .clone()
                .unwrap_or_else(crate::tokens::random_token),
            user_id: Some(who.user_id),
            event: Event::PolicyAccept,
            categories: String::new(),
            policies: serde_json::Value::Object(accepted),
            source,
            locale: who.locale.clone(),
            client: who.client.clone(),
            browser: who.browser.clone(),
        };
        self.record_consent_in(conn, decision).await?;
        Ok(())
    }

    /// The billing checkout's acceptance of the Terms and the Refund Policy.
    pub async fn accept_at_checkout(&self, who: &Acceptor) -> Result<()> {
        let txn = self.db.begin().await?;
        self.accept_at_checkout_in(&txn, who).await?;
        txn.commit().await?;
        Ok(())
    }

    /// [`Services::accept_at_checkout`] in the caller's transaction (with the checkout's row).
    pub(crate) async fn accept_at_checkout_in<C: ConnectionTrait + TransactionTrait>(
        &self,
        conn: &C,
        who: &Acceptor,
    ) -> Result<()> {
        let versions = self.versions_in_effect(&PolicyKind::AT_CHECKOUT).await?;
        self.accept_policies(conn, who, &versions, Source::BillingCheckout)
            .await
    }
}

/// A stored version number (validated when it was published).
fn version_of(row: &policy_version::Model) -> Option<PolicyVersion> {
    PolicyVersion::parse(&row.version).ok()
}

/// How long the versions in effect are remembered.
pub const IN_EFFECT_TTL: Duration = Duration::from_secs(30);

/// A policy's version in effect, without its text.
#[derive(Debug, Clone)]
pub struct InEffect {
    kind: String,
    version: String,
    summary: String,
    sha256: String,
}

/// The cache of `InEffect` rows, shared by clones of `Services`.
pub type PolicyCache = Arc<Mutex<Option<(Instant, Arc<Vec<InEffect>>)>>>;

/// A policy the person accepted whose newer version is now in effect.
#[derive(Debug, Clone)]
pub struct Pending {
    pub kind: PolicyKind,
    /// The version accepted before, if any (none for an account that never accepted).
    pub accepted: Option<String>,
    pub current: String,
    pub summary: String,
}

/// The newest version of each policy a person accepted, and whether they accepted anything at
/// all: what [`Services::pending_for`] compares with the versions in effect. The signed-in
/// frame reads it with the session (`crate::frame`).
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    newest: Vec<(PolicyKind, String)>,
    any: bool,
}

impl Accepted {
    /// From the newest accepted version of each kind (`None`: never accepted), and whether any
    /// acceptance exists.
    pub(crate) fn new(
        newest: impl IntoIterator<Item = (PolicyKind, Option<String>)>,
        any: bool,
    ) -> Self {
        Self {
            newest: newest
                .into_iter()
                .filter_map(|(kind, version)| Some((kind, version?)))
                .collect(),
            any,
        }
    }

    fn of(&self, kind: PolicyKind) -> Option<&str> {
        self.newest
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }
}

impl Services {
    /// The policies this person must accept now: those they accepted whose newer version is in
    /// effect, and, for an account that never accepted anything (one an administrator created),
    /// the policies of sign-up.
    pub async fn pending_policies(&self, user_id: UserId) -> Result<Vec<Pending>> {
        let rows = policy_acceptance::Entity::find()
            .filter(policy_acceptance::Column::UserId.eq(user_id.0))
            .order_by_asc(policy_acceptance::Column::Id)
            .all(&self.db)
            .await?;
        // The newest acceptance of each policy counts.
        let accepted = Accepted::new(
            PolicyKind::ALL.map(|kind| {
                let newest = rows.iter().rev().find(|a| a.kind == kind.slug());
                (kind, newest.map(|a| a.version.clone()))
            }),
            !rows.is_empty(),
        );
        self.pending_for(&accepted).await
    }

    /// [`Services::pending_policies`] for what the person accepted, read already: against the
    /// versions in effect, which are cached (no statement most of the time).
    pub async fn pending_for(&self, accepted: &Accepted) -> Result<Vec<Pending>> {
        let in_effect = self.policies_in_effect().await?;
        let mut pending = Vec::new();
        for kind in PolicyKind::ALL {
            let Some(now) = in_effect.iter().find(|p| p.kind == kind.slug()) else {
                continue;
            };
            let mine = accepted.of(kind);
            let due = match mine {
                Some(mine) => match (
                    PolicyVersion::parse(&now.version),
                    PolicyVersion::parse(mine),
                ) {
                    (Ok(now), Ok(mine)) => now > mine,
                    _ => now.version != mine,
                },
                None => !accepted.any && PolicyKind::AT_SIGNUP.contains(&kind),
            };
            if due {
                pending.push(Pending {
                    kind,
                    accepted: mine.map(str::to_owned),
                    current: now.version.clone(),
                    summary: now.summary.clone(),
                });
            }
        }
        Ok(pending)
    }

    /// The version in effect of every policy. Every signed-in page asks, so the answer is kept
    /// for a short while (and dropped when this process publishes); another process's new
    /// version, or one whose effective date arrives, shows within `IN_EFFECT_TTL`.
    async fn policies_in_effect(&self) -> Result<Arc<Vec<InEffect>>> {
        if let Some((at, list)) = self
            .policy_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && at.elapsed() < IN_EFFECT_TTL
        {
            return Ok(list.clone());
        }
        let mut rows = policy_version::Entity::find()
            .filter(policy_version::Column::EffectiveAt.lte(crate::now()))
            .order_by_desc(policy_version::Column::EffectiveAt)
            .order_by_desc(policy_version::Column::Id)
            .all(&self.db)
            .await?;
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.kind.clone()));
        let list: Arc<Vec<InEffect>> = Arc::new(
            rows.into_iter()
                .map(|r| InEffect {
                    kind: r.kind,
                    version: r.version,
                    summary: r.summary,
                    sha256: r.sha256,
                })
                .collect(),
        );
        *self.policy_cache.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), list.clone()));
        Ok(list)
    }

    /// Accepts every pending policy (the interstitial's button).
    /// The Cookie Policy in effect: (version, SHA-256). Cookie choices are made under it, and a
    /// choice made under another version is asked again.
    pub async fn cookie_policy(&self) -> Result<(String, String)> {
        let list = self.policies_in_effect().await?;
        list.iter()
            .find(|p| p.kind == PolicyKind::Cookies.slug())
            .map(|p| (p.version.clone(), p.sha256.clone()))
            .ok_or_else(|| {
                ServiceError::Unexpected(anyhow::anyhow!("no Cookie Policy is in effect"))
            })
    }

    /// Accepts the pending policies the person was shown (`shown`: kind and version of each).
    /// When what is pending has changed since (a newer version took effect meanwhile), nothing
    /// is recorded and the person is shown the page again.
    pub async fn accept_pending(
        &self,
        who: &Acceptor,
        shown: &[(PolicyKind, String)],
    ) -> Result<()> {
        let kinds: Vec<PolicyKind> = self
            .pending_policies(UserId(who.user_id))
            .await?
            .iter()
            .map(|p| p.kind)
            .collect();
        if kinds.is_empty() {
            return Ok(());
        }
        // Read from the database, not the short-lived cache: exactly what is in effect now.
        let versions = self.versions_in_effect(&kinds).await?;
        let current: Vec<(PolicyKind, String)> = kinds
            .iter()
            .zip(&versions)
            .map(|(k, v)| (*k, v.version.clone()))
            .collect();
        if current != shown {
            return Err(ServiceError::invalid(
                "policies",
                "The policies changed while you were reading them. Please read the current versions.",
            ));
        }
        let txn = self.db.begin().await?;
        self.accept_policies(&txn, who, &versions, Source::PolicyUpdate)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
