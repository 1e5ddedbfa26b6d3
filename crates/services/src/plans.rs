//! Plans at work: which plan a workspace is on, what it has used, and the one entitlement check
//! every feature calls ([`Services::entitle`]).
//!
//! With no `[billing]` section ([`Billing::off`]) nothing is counted against anything: every
//! workspace has every feature with no limits, and the check answers at once without reading
//! the database. With plans on, monthly limits are counted in `plan_usage` per calendar month
//! in the workspace owner's time zone, counted up only (deleting a published post does not
//! give its count back); the other limits count what the workspace has now, so a workspace over
//! a limit after a downgrade keeps everything and cannot add more.

use crate::{Result, ServiceError, Services, activity};
use chrono::{DateTime, Utc};
use domain::plans::{Ask, Catalogue, Entitlement, Feature, Limit, PlanId};
use domain::{Platform, Role, Timezone, WorkspaceId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use store::entities::states::AccountStatus;
use store::entities::{
    campaign, media_item, membership, plan_usage, social_account, user, workspace,
};

/// How the instance sells its plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No `[billing]`: every workspace has everything (self-hosting stays free).
    Off,
    /// Limits enforced; the operator assigns plans (`socializioz admin workspace plan`).
    Assigned,
    /// Limits enforced; owners buy plans through PayPal (and the operator may still assign).
    PayPal,
}

/// The instance's plans and how they are sold.
#[derive(Debug, Clone)]
pub struct Billing {
    pub mode: Mode,
    pub catalogue: Catalogue,
    /// PayPal, in [`Mode::PayPal`].
    pub paypal: Option<std::sync::Arc<crate::billing::setup::PayPalBilling>>,
}

impl Billing {
    /// No `[billing]` section.
    pub fn off() -> Self {
        Billing {
            mode: Mode::Off,
            catalogue: Catalogue::unlimited(),
            paypal: None,
        }
    }

    pub fn is_on(&self) -> bool {
        self.mode != Mode::Off
    }
}

/// A thing a workspace asks to do, before its use is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Feature(Feature),
    Platform(Platform),
    /// `amount` more of `limit`.
    More(Limit, u64),
}

/// One line of the billing page: a limit, what is used and the most allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLine {
    pub limit: Limit,
    pub used: u64,
    /// `None`: unlimited.
    pub most: Option<u64>,
}

impl UsageLine {
    /// How full, from 0 to 100 (0 when unlimited).
    pub fn percent(&self) -> u64 {
        match self.most {
            Some(0) => 100,
            Some(most) => Ord::min(self.used.saturating_mul(100) / most, 100),
            None => 0,
        }
    }
}

/// A workspace's plan and use, for the billing page.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub plan: PlanId,
    /// `YYYY-MM` of the monthly counts.
    pub month: String,
    pub lines: Vec<UsageLine>,
}

/// The plan stored for a workspace; an unknown slug reads as Free (and is logged).
pub(crate) async fn plan_of<C: ConnectionTrait>(conn: &C, ws: WorkspaceId) -> Result<PlanId> {
    let slug: Option<String> = workspace::Entity::find_by_id(ws.0)
        .select_only()
        .column(workspace::Column::Plan)
        .into_tuple()
        .one(conn)
        .await?;
    let slug = slug.ok_or(ServiceError::NotFound)?;
    Ok(PlanId::parse(&slug).unwrap_or_else(|_| {
        tracing::warn!(
            workspace = ws.0,
            "a workspace's stored plan is unknown; read as Free"
        );
        PlanId::Free
    }))
}

/// The month `now` falls in for the workspace's owner (`YYYY-MM`; UTC when it has none).
pub(crate) async fn month_of<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<String> {
    let zone: Option<String> = membership::Entity::find()
        .select_only()
        .column(user::Column::Timezone)
        .inner_join(user::Entity)
        .filter(membership::Column::WorkspaceId.eq(ws.0))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .order_by_asc(membership::Column::Id)
        .into_tuple()
        .one(conn)
        .await?;
    let tz = zone
        .and_then(|z| Timezone::parse(&z).ok())
        .unwrap_or_else(Timezone::utc);
    Ok(now.with_timezone(&tz.tz()).format("%Y-%m").to_string())
}

/// What the workspace has used of `limit` (in `month`, for a monthly one; the others ignore it).
async fn used<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    limit: Limit,
    month: &str,
) -> Result<u64> {
    let n: i64 = match limit {
        Limit::Posts | Limit::AiImages | Limit::AiVideos | Limit::AiReels | Limit::AiTokens => {
            return counted(conn, ws, limit.key(), month).await;
        }
        Limit::SocialAccounts => social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .filter(social_account::Column::Status.ne(AccountStatus::Disconnected))
            .count(conn)
            .await?
            .try_into()
            .unwrap_or(i64::MAX),
        Limit::Campaigns => campaign::Entity::find()
            .filter(campaign::Column::WorkspaceId.eq(ws.0))
            .count(conn)
            .await?
            .try_into()
            .unwrap_or(i64::MAX),
        Limit::Storage => media_item::Entity::find()
            .select_only()
            // PostgreSQL sums a BIGINT as NUMERIC; read back as a BIGINT on both backends.
            .column_as(
                media_item::Column::SizeBytes
                    .sum()
                    .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
                "bytes",
            )
            .filter(media_item::Column::WorkspaceId.eq(ws.0))
            .into_tuple::<Option<i64>>()
            .one(conn)
            .await?
            .flatten()
            .unwrap_or(0),
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Adds `amount` to a monthly counter (inserting the month's row when it is the first).
pub(crate) async fn count_up<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    limit: Limit,
    month: &str,
    amount: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    count_up_key(conn, ws, limit.key(), month, amount, now).await
}

/// A monthly count kept beside the plans' (`counter`: a limit's key, or another such as
/// analytics' `x_reads`).
pub(crate) async fn counted<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    counter: &str,
    month: &str,
) -> Result<u64> {
    let n: Option<i64> = plan_usage::Entity::find()
        .select_only()
        .column(plan_usage::Column::Count)
        .filter(plan_usage::Column::WorkspaceId.eq(ws.0))
        .filter(plan_usage::Column::Month.eq(month))
        .filter(plan_usage::Column::Counter.eq(counter))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// [`count_up`] for any monthly counter.
pub(crate) async fn count_up_key<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    counter: &str,
    month: &str,
    amount: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    let amount = i64::try_from(amount).unwrap_or(i64::MAX);
    plan_usage::Entity::insert(plan_usage::ActiveModel {
        workspace_id: Set(ws.0),
        month: Set(month.to_owned()),
        counter: Set(counter.to_owned()),
        count: Set(amount),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            plan_usage::Column::WorkspaceId,
            plan_usage::Column::Month,
            plan_usage::Column::Counter,
        ])
        .value(
            plan_usage::Column::Count,
            Expr::col((plan_usage::Entity, plan_usage::Column::Count)).add(amount),
        )
        .value(plan_usage::Column::UpdatedAt, now)
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Takes `amount` back from a monthly counter (what was reserved and not used), never below 0.
pub(crate) async fn count_down<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    limit: Limit,
    month: &str,
    amount: u64,
) -> Result<()> {
    let amount = i64::try_from(amount).unwrap_or(i64::MAX);
    let count = Expr::col((plan_usage::Entity, plan_usage::Column::Count));
    plan_usage::Entity::update_many()
        .col_expr(
            plan_usage::Column::Count,
            Expr::case(count.clone().gte(amount), count.clone().sub(amount))
                .finally(0)
                .into(),
        )
        .filter(plan_usage::Column::WorkspaceId.eq(ws.0))
        .filter(plan_usage::Column::Month.eq(month))
        .filter(plan_usage::Column::Counter.eq(limit.key()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Who set a workspace's plan (`workspaces.plan_source`).
pub(crate) const SET_BY_OPERATOR: &str = "operator";
pub(crate) const SET_BY_BILLING: &str = "billing";

/// Stores `plan` as the workspace's, set by `source` ([`SET_BY_OPERATOR`] or
/// [`SET_BY_BILLING`]), and when it differs from `before` logs the change in the activity log
/// (`how`: "changed the plan", or what changed it).
pub(crate) async fn store_plan<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    (before, plan): (PlanId, PlanId),
    source: &str,
    how: &str,
) -> Result<()> {
    let now = crate::now();
    workspace::Entity::update_many()
        .col_expr(workspace::Column::Plan, Expr::value(plan.slug()))
        .col_expr(workspace::Column::PlanSource, Expr::value(source))
        .col_expr(workspace::Column::UpdatedAt, Expr::value(now))
        .filter(workspace::Column::Id.eq(ws.0))
        .exec(conn)
        .await?;
    if before != plan {
        activity::record(
            conn,
            ws,
            None,
            activity::Entry {
                action: "workspace.plan_changed",
                object_type: "workspace",
                object_id: Some(ws.0),
                summary: format!("{how} from {before} to {plan}"),
            },
        )
        .await?;
    }
    Ok(())
}

impl Services {
    /// The one entitlement check: refuses with a [`ServiceError::PlanLimit`] that names the
    /// limit, the use so far and the plan that lifts it. Call it inside the transaction that
    /// adds the thing, after the workspace's write lock, so two additions cannot both pass.
    pub(crate) async fn entitle<C: ConnectionTrait>(
        &self,
        conn: &C,
        ws: WorkspaceId,
        need: Need,
    ) -> Result<()> {
        if !self.billing.is_on() {
            return Ok(());
        }
        let plan = plan_of(conn, ws).await?;
        let ask = match need {
            Need::Feature(f) => Ask::Feature(f),
            Need::Platform(p) => Ask::Platform(p),
            Need::More(limit, amount) => {
                // Only a monthly limit needs the owner's month.
                let month = if limit.monthly() {
                    month_of(conn, ws, crate::now()).await?
                } else {
                    String::new()
                };
                Ask::Add {
                    limit,
                    used: used(conn, ws, limit, &month).await?,
                    amount,
                }
            }
        };
        self.answer(plan, ws, ask)
    }

    /// Turns the catalogue's answer into a result.
    fn answer(&self, plan: PlanId, ws: WorkspaceId, ask: Ask) -> Result<()> {
        match self.billing.catalogue.check(plan, ask) {
            Entitlement::Allowed => Ok(()),
            Entitlement::Refused(refusal) => Err(ServiceError::PlanLimit {
                workspace: ws,
                refusal: Box::new(refusal),
            }),
        }
    }

    /// Counts a post against this month's post limit when it is first scheduled (refused when
    /// the month is used up); returns the month to store on the post, or `None` when it was
    /// counted before or nothing is counted.
    pub(crate) async fn count_post<C: ConnectionTrait>(
        &self,
        conn: &C,
        ws: WorkspaceId,
        counted_in: Option<&str>,
    ) -> Result<Option<String>> {
        if !self.billing.is_on() || counted_in.is_some() {
            return Ok(None);
        }
        // The month is read once: the check and the count are for the same one.
        let now = crate::now();
        let month = month_of(conn, ws, now).await?;
        let ask = Ask::Add {
            limit: Limit::Posts,
            used: used(conn, ws, Limit::Posts, &month).await?,
            amount: 1,
        };
        self.answer(plan_of(conn, ws).await?, ws, ask)?;
        count_up(conn, ws, Limit::Posts, &month, 1, now).await?;
        Ok(Some(month))
    }

    /// The workspace's plan and its use of every limit, for the billing page.
    pub async fn plan_view(&self, ws: WorkspaceId) -> Result<PlanView> {
        let plan = plan_of(&self.db, ws).await?;
        let month = month_of(&self.db, ws, crate::now()).await?;
        let terms = self.billing.catalogue.plan(plan);
        let mut lines = Vec::new();
        for limit in Limit::ALL {
            lines.push(UsageLine {
                limit,
                used: used(&self.db, ws, limit, &month).await?,
                most: terms.limit(limit),
            });
        }
        Ok(PlanView { plan, month, lines })
    }

    /// Puts a workspace on `plan` (the operator's command). Nothing is deleted by a downgrade:
    /// what is over the new limits stays, and more cannot be added.
    pub async fn set_plan(&self, ws: WorkspaceId, plan: PlanId) -> Result<PlanId> {
        let txn = store::begin_write(&self.db).await?;
        let before = plan_of(&txn, ws).await?;
        store_plan(
            &txn,
            ws,
            (before, plan),
            SET_BY_OPERATOR,
            "changed the plan",
        )
        .await?;
        txn.commit().await?;
        tracing::info!(workspace = ws.0, plan = plan.slug(), "plan set");
        Ok(before)
    }
}
