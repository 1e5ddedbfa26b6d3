//! A campaign's results: its posts' latest figures added up, set against what was entered about
//! its cost and the value of its clicks and conversions.

use crate::analytics::sql::{self, Targets};
use crate::plans::Need;
use crate::{Result, Services};
use domain::campaign::{Inputs, Returns};
use domain::metrics::Metric;
use domain::plans::Feature;
use domain::{Platform, WorkspaceId};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use store::entities::states::PostState;
use store::entities::{campaign, post, post_target, social_account};

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
        let platforms = self.platforms_of(ws).await?;
        self.results_with(ws, campaign, &platforms).await
    }

    /// Each of the workspace's accounts' platform.
    async fn platforms_of(&self, ws: WorkspaceId) -> Result<HashMap<i64, Platform>> {
        Ok(social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|a| Platform::parse(&a.platform).ok().map(|p| (a.id, p)))
            .collect())
    }

    async fn results_with(
        &self,
        ws: WorkspaceId,
        campaign: campaign::Model,
        platforms: &HashMap<i64, Platform>,
    ) -> Result<CampaignResults> {
        let posts = post::Entity::find()
            .filter(post::Column::WorkspaceId.eq(ws.0))
            .filter(post::Column::CampaignId.eq(campaign.id))
            .count(&self.db)
            .await?;
        let targets = post_target::Entity::find()
            .filter(
                post_target::Column::PostId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(post::Column::Id)
                        .from(post::Entity)
                        .and_where(post::Column::WorkspaceId.eq(ws.0))
                        .and_where(post::Column::CampaignId.eq(campaign.id))
                        .to_owned(),
                ),
            )
            .filter(post_target::Column::State.eq(PostState::Published))
            .all(&self.db)
            .await?;
        let latest = sql::latest_totals(&self.db, ws.0, Targets::Campaign(campaign.id)).await?;
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        let mut clicks_from = BTreeSet::new();
        for target in &targets {
            let Some(figures) = latest.get(&target.id) else {
                continue;
            };
            for (metric, value) in figures {
                *totals.entry(metric.clone()).or_default() += value;
            }
            if figures.contains_key(Metric::Clicks.key())
                && let Some(p) = platforms.get(&target.account_id)
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
        Ok(CampaignResults {
            posts,
            published: targets
                .iter()
                .map(|t| t.post_id)
                .collect::<BTreeSet<_>>()
                .len() as u64,
            totals,
            interactions,
            clicks,
            clicks_from,
            returns,
            campaign,
        })
    }

    /// The results of each of the workspace's campaigns that has published posts, by name.
    pub async fn campaigns_results(&self, ws: WorkspaceId) -> Result<Vec<CampaignResults>> {
        let campaigns = self.campaigns_of(ws).await?;
        self.results_of_campaigns(ws, campaigns).await
    }

    /// The results of `campaigns` (the workspace's, as [`Self::campaigns_of`] reads them) that
    /// have published posts, by name; nothing is read when there are none.
    pub async fn results_of_campaigns(
        &self,
        ws: WorkspaceId,
        campaigns: Vec<campaign::Model>,
    ) -> Result<Vec<CampaignResults>> {
        if campaigns.is_empty() {
            return Ok(Vec::new());
        }
        let platforms = self.platforms_of(ws).await?;
        let mut out = Vec::new();
        for campaign in campaigns {
            let results = self.results_with(ws, campaign, &platforms).await?;
            if results.published > 0 {
                out.push(results);
            }
        }
        out.sort_by(|a, b| a.campaign.name.cmp(&b.campaign.name));
        Ok(out)
    }
}
