//! Campaigns: named groups of posts with an optional date range and a colour.

use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services, activity};
use chrono::NaiveDate;
use domain::campaign as rules;
use domain::plans::Limit;
use domain::{CampaignId, WorkspaceId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TryIntoModel,
};
use store::entities::{campaign, post, user};

/// A campaign as the form sends it, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    pub name: String,
    pub description: String,
    pub starts_on: String,
    pub ends_on: String,
    pub colour: String,
    /// What it cost and what its results are worth ("1,250.50"; empty: not entered).
    pub spend: String,
    pub click_value: String,
    pub conversions: String,
    pub conversion_value: String,
    /// ISO 4217 code, one of [`CURRENCIES`].
    pub currency: String,
    /// `utm_campaign` for its posts' links (empty: links are published as written).
    pub utm_campaign: String,
}

/// The colours a campaign can have (a fixed palette, so that the stylesheet has a class for
/// each and pages need no inline styles).
pub const COLOURS: [(&str, &str); 8] = [
    ("#2563eb", "Blue"),
    ("#16a34a", "Green"),
    ("#dc2626", "Red"),
    ("#9333ea", "Purple"),
    ("#ea580c", "Orange"),
    ("#0891b2", "Teal"),
    ("#db2777", "Pink"),
    ("#4b5563", "Grey"),
];

pub(crate) struct Checked {
    name: String,
    description: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    colour: String,
    spend_cents: Option<i64>,
    click_value_cents: Option<i64>,
    conversions: Option<i64>,
    conversion_value_cents: Option<i64>,
    currency: String,
    utm_campaign: Option<String>,
}

pub(crate) fn check(input: &CampaignInput) -> Result<Checked> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(("name".into(), "Give the campaign a name.".into()));
    } else if name.chars().count() > 100 {
        errors.push((
            "name".into(),
            "A campaign name can be at most 100 characters long.".into(),
        ));
    }
    let description = input.description.replace("\r\n", "\n").trim().to_owned();
    if description.chars().count() > 2000 {
        errors.push((
            "description".into(),
            "A description can be at most 2000 characters long.".into(),
        ));
    }
    let mut date = |field: &str, raw: &str| -> Option<NaiveDate> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    field.to_owned(),
                    "Enter the date as YYYY-MM-DD, or leave it empty.".into(),
                ));
                None
            }
        }
    };
    let starts_on = date("starts_on", &input.starts_on);
    let ends_on = date("ends_on", &input.ends_on);
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        errors.push((
            "ends_on".into(),
            "The campaign cannot end before it starts.".into(),
        ));
    }
    let colour = input.colour.trim().to_lowercase();
    if !COLOURS.iter().any(|(c, _)| *c == colour) {
        errors.push(("colour".into(), "Choose one of the colours.".into()));
    }
    let mut read = |field: &str, parsed: std::result::Result<Option<i64>, domain::Invalid>| {
        parsed.unwrap_or_else(|e| {
            errors.push((field.to_owned(), e.0));
            None
        })
    };
    let spend_cents = read("spend", rules::parse_amount(&input.spend));
    let click_value_cents = read("click_value", rules::parse_amount(&input.click_value));
    let conversions = read("conversions", rules::parse_count(&input.conversions));
    let conversion_value_cents = read(
        "conversion_value",
        rules::parse_amount(&input.conversion_value),
    );
    let currency = input.currency.trim().to_uppercase();
    let currency = if currency.is_empty() {
        "USD".to_owned()
    } else if rules::CURRENCIES.iter().any(|(c, _)| *c == currency) {
        currency
    } else {
        errors.push(("currency".into(), "Choose one of the currencies.".into()));
        currency
    };
    let utm_campaign = if input.utm_campaign.trim().is_empty() {
        None
    } else {
        match rules::utm_value(&input.utm_campaign) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(("utm_campaign".into(), e.0));
                None
            }
        }
    };
    if !errors.is_empty() {
        return Err(ServiceError::Fields(errors));
    }
    Ok(Checked {
        name: name.to_owned(),
        description,
        starts_on,
        ends_on,
        colour,
        spend_cents,
        click_value_cents,
        conversions,
        conversion_value_cents,
        currency,
        utm_campaign,
    })
}

fn duplicate_name(err: sea_orm::DbErr) -> ServiceError {
    if store::is_unique_violation(&err) {
        ServiceError::invalid(
            "name",
            "This workspace already has a campaign with that name.",
        )
    } else {
        err.into()
    }
}

/// The `utm_campaign` of the campaign of the post `post_id`, when it tags its links.
pub(crate) async fn utm_of_post<C: sea_orm::ConnectionTrait>(
    conn: &C,
    post_id: i64,
) -> Result<Option<String>> {
    // One look-up: the campaign whose id the post holds.
    Ok(campaign::Entity::find()
        .filter(
            campaign::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(post::Column::CampaignId)
                    .from(post::Entity)
                    .and_where(post::Column::Id.eq(post_id))
                    .to_owned(),
            ),
        )
        .one(conn)
        .await?
        .and_then(|c| c.utm_campaign))
}

impl Services {
    /// The campaigns of a workspace, newest first.
    pub async fn campaigns_of(&self, ws: WorkspaceId) -> Result<Vec<campaign::Model>> {
        Ok(campaign::Entity::find()
            .filter(campaign::Column::WorkspaceId.eq(ws.0))
            .order_by_desc(campaign::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn campaign(&self, ws: WorkspaceId, id: CampaignId) -> Result<campaign::Model> {
        campaign::Entity::find_by_id(id)
            .filter(campaign::Column::WorkspaceId.eq(ws.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Creates a campaign (`id` None) or changes one.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn save_campaign(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: Option<CampaignId>,
        input: &CampaignInput,
    ) -> Result<campaign::Model> {
        let checked = check(input)?;
        let ws = ctx.workspace_id();
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let mut row = match id {
            Some(id) => {
                let found = campaign::Entity::find_by_id(id)
                    .filter(campaign::Column::WorkspaceId.eq(ws.0))
                    .one(&txn)
                    .await?
                    .ok_or(ServiceError::NotFound)?;
                found.into()
            }
            None => {
                self.entitle(&txn, ws, Need::More(Limit::Campaigns, 1))
                    .await?;
                campaign::ActiveModel {
                    workspace_id: Set(ws.0),
                    created_by: Set(Some(actor.id)),
                    created_at: Set(now),
                    ..Default::default()
                }
            }
        };
        row.name = Set(checked.name);
        row.description = Set(checked.description);
        row.starts_on = Set(checked.starts_on);
        row.ends_on = Set(checked.ends_on);
        row.colour = Set(checked.colour);
        row.spend_cents = Set(checked.spend_cents);
        row.click_value_cents = Set(checked.click_value_cents);
        row.conversions = Set(checked.conversions);
        row.conversion_value_cents = Set(checked.conversion_value_cents);
        row.currency = Set(checked.currency);
        row.utm_campaign = Set(checked.utm_campaign);
        row.updated_at = Set(now);
        let saved = row
            .save(&txn)
            .await
            .map_err(duplicate_name)?
            .try_into_model()?;
        // The analytics page lists the campaigns.
        crate::analytics::kept::figures_changed(&txn, ws.0).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: if id.is_some() {
                    "campaign.updated"
                } else {
                    "campaign.created"
                },
                object_type: "campaign",
                object_id: Some(saved.id),
                summary: format!(
                    "{} the campaign “{}”",
                    if id.is_some() { "changed" } else { "created" },
                    saved.name
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Deletes a campaign; its posts stay, without a campaign.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn delete_campaign(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: CampaignId,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let found = campaign::Entity::find_by_id(id)
            .filter(campaign::Column::WorkspaceId.eq(ws.0))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let posts = post::Entity::find()
            .filter(post::Column::CampaignId.eq(found.id))
            .count(&txn)
            .await?;
        campaign::Entity::delete_by_id(found.id).exec(&txn).await?;
        crate::analytics::kept::figures_changed(&txn, ws.0).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "campaign.deleted",
                object_type: "campaign",
                object_id: Some(found.id),
                summary: format!(
                    "deleted the campaign “{}” ({} kept without a campaign)",
                    found.name,
                    domain::counted(posts, "post", "posts")
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CampaignInput {
        CampaignInput {
            name: "Spring launch".into(),
            description: String::new(),
            starts_on: "2026-03-01".into(),
            ends_on: "2026-03-31".into(),
            colour: "#2563EB".into(),
            ..CampaignInput::default()
        }
    }

    #[test]
    fn a_campaign_is_checked_field_by_field() {
        let ok = check(&input()).map_err(|e| e.to_string());
        assert_eq!(ok.as_ref().map(|c| c.colour.as_str()), Ok("#2563eb"));
        let bad = CampaignInput {
            name: " ".into(),
            ends_on: "2026-02-01".into(),
            colour: "blue".into(),
            ..input()
        };
        match check(&bad) {
            Err(ServiceError::Fields(fields)) => {
                let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                assert_eq!(names, ["name", "ends_on", "colour"]);
            }
            other => panic!("expected field errors, got {:?}", other.err()),
        }
    }
}
