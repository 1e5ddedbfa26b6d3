//! A campaign's results: its posts' latest figures added up, set against what was entered about
//! its cost and the value of its clicks and conversions.

use crate::analytics::sql::{self, Binder, Targets};
use crate::plans::Need;
use crate::{Result, Services};
use domain::campaign::{Inputs, Returns};
use domain::metrics::Metric;
use domain::plans::Feature;
use domain::{Platform, WorkspaceId};
use sea_orm::ConnectionTrait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use store::entities::campaign;
use store::entities::states::PostState;

/// What a campaign's posts did, and what it was worth.
#[derive(Debug, Clone)]
pub struct CampaignResults {
    pub campaign: campaign::Model,
    /// Its posts, in any state.
    pub posts: u64,
    /// Its posts published (to one account or more).
    pub published: u64,
    /// Each metric's latest lifetime totals added up over the published targets.
    pub totals: BTreeMap<String, i64>,
    /// Reactions, comments, shares and saves.
    pub interactions: i64,
    /// Link clicks, when some platform reported them (none: nothing measured them).
    pub clicks: Option<i64>,
    /// The platforms whose posts' clicks were measured.
    pub clicks_from: BTreeSet<Platform>,
    pub returns: Returns,
}

impl Services {
    /// Refuses, naming the plan that has it, when the workspace's plan has no ROI reporting.
    pub async fn require_roi_reporting(&self, ws: WorkspaceId) -> Result<()> {
        self.entitle(&self.db, ws, Need::Feature(Feature::RoiReporting))
            .await
    }

    /// The results of `campaign` (of the workspace `ws`) as read so far.
    pub async fn campaign_results(
        &self,
        ws: WorkspaceId,
        campaign: campaign::Model,
    ) -> Result<CampaignResults> {
        let mut results = self.results_of(ws, std::slice::from_ref(&campaign)).await?;
        results.pop().ok_or(crate::ServiceError::NotFound)
    }

    /// The results of each of `campaigns` (the workspace's), in their order: three statements
    /// whatever their number (their posts counted; their published targets with each one's
    /// platform; those targets' latest totals).
    async fn results_of(
        &self,
        ws: WorkspaceId,
        campaigns: &[campaign::Model],
    ) -> Result<Vec<CampaignResults>> {
        if campaigns.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = campaigns.iter().map(|c| c.id).collect();
        let of_campaigns = |b: &mut Binder| {
            format!(
                "p.workspace_id = {} AND p.campaign_id IN ({})",
                b.bind(ws.0),
                b.bind_all(ids.iter().copied())
            )
        };
        let mut b = Binder::new(self.db.get_database_backend());
        let which = of_campaigns(&mut b);
        let counted = b.statement(format!(
            "SELECT p.campaign_id, COUNT(*) AS posts FROM posts p WHERE {which} GROUP BY \
             p.campaign_id"
        ));
        let mut posts: HashMap<i64, u64> = HashMap::new();
        for row in self.db.query_all_raw(counted).await? {
            let n: i64 = row.try_get("", "posts")?;
            posts.insert(row.try_get("", "campaign_id")?, n.max(0) as u64);
        }
        let mut b = Binder::new(self.db.get_database_backend());
        let which = of_campaigns(&mut b);
        let published = b.bind(PostState::Published.as_str());
        let targets = b.statement(format!(
            "SELECT t.id, t.post_id, p.campaign_id, a.platform FROM post_targets t JOIN posts p \
             ON p.id = t.post_id JOIN social_accounts a ON a.id = t.account_id WHERE {which} AND \
             t.state = {published}"
        ));
        // Campaign → its published targets (id, post, platform).
        let mut targets_of: HashMap<i64, Vec<(i64, i64, Option<Platform>)>> = HashMap::new();
        for row in self.db.query_all_raw(targets).await? {
            let platform: String = row.try_get("", "platform")?;
            targets_of
                .entry(row.try_get("", "campaign_id")?)
                .or_default()
                .push((
                    row.try_get("", "id")?,
                    row.try_get("", "post_id")?,
                    Platform::parse(&platform).ok(),
                ));
        }
        let latest = sql::latest_totals(&self.db, ws.0, Targets::Campaigns(ids)).await?;
        Ok(campaigns
            .iter()
            .map(|campaign| {
                let targets = targets_of.remove(&campaign.id).unwrap_or_default();
                let posts = posts.get(&campaign.id).copied().unwrap_or(0);
                results_from(campaign, posts, &targets, &latest)
            })
            .collect())
    }

    /// The results of each of the workspace's campaigns that has published posts, by name.
    pub async fn campaigns_results(&self, ws: WorkspaceId) -> Result<Vec<CampaignResults>> {
        let campaigns = self.campaigns_of(ws).await?;
        self.results_of_campaigns(ws, &campaigns).await
    }

    /// The results of `campaigns` (the workspace's, as [`Self::campaigns_of`] reads them) that
    /// have published posts, by name; nothing is read when there are none.
    pub async fn results_of_campaigns(
        &self,
        ws: WorkspaceId,
        campaigns: &[campaign::Model],
    ) -> Result<Vec<CampaignResults>> {
        let mut out: Vec<CampaignResults> = self
            .results_of(ws, campaigns)
            .await?
            .into_iter()
            .filter(|r| r.published > 0)
            .collect();
        out.sort_by(|a, b| a.campaign.name.cmp(&b.campaign.name));
        Ok(out)
    }
}

/// A campaign's results from its posts' count, its published targets (id, post, platform)
/// and the latest totals of targets (those without figures yet add nothing).
fn results_from(
    campaign: &campaign::Model,
    posts: u64,
    targets: &[(i64, i64, Option<Platform>)],
    latest: &HashMap<i64, BTreeMap<String, i64>>,
) -> CampaignResults {
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut clicks_from = BTreeSet::new();
    for (target, _, platform) in targets {
        let Some(figures) = latest.get(target) else {
            continue;
        };
        for (metric, value) in figures {
            *totals.entry(metric.clone()).or_default() += value;
        }
        if figures.contains_key(Metric::Clicks.key())
            && let Some(p) = platform
        {
            clicks_from.insert(*p);
        }
    }
    let interactions = Metric::interactions_of(&totals).unwrap_or(0);
    let clicks = totals.get(Metric::Clicks.key()).copied();
    let returns = Inputs {
        spend: campaign.spend_cents,
        click_value: campaign.click_value_cents,
        conversions: campaign.conversions,
        conversion_value: campaign.conversion_value_cents,
        interactions,
        clicks,
    }
    .returns();
    CampaignResults {
        posts,
        published: targets
            .iter()
            .map(|(_, post, _)| *post)
            .collect::<BTreeSet<_>>()
            .len() as u64,
        totals,
        interactions,
        clicks,
        clicks_from,
        returns,
        campaign: campaign.clone(),
    }
}
