//! Campaigns: the list with a form to start one, and a campaign's page with its posts.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::posts::list::PostLine;
use crate::routes::posts::zone_of;
use crate::routes::render;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use domain::{CampaignId, WorkspaceId};
use services::ServiceError;
use services::campaigns::{COLOURS, CampaignInput};
use services::posts::PostFilter;
use store::entities::campaign;

/// The routes of a workspace's campaigns.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/campaigns", get(list).post(create))
        .route("/w/{wid}/campaigns/{cid}", get(show).post(update))
        .route("/w/{wid}/campaigns/{cid}/delete", post(delete))
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct CampaignForm {
    name: String,
    description: String,
    starts_on: String,
    ends_on: String,
    colour: String,
    spend: String,
    click_value: String,
    conversions: String,
    conversion_value: String,
    currency: String,
    utm_campaign: String,
}

impl CampaignForm {
    fn of(c: &campaign::Model) -> Self {
        Self {
            name: c.name.clone(),
            description: c.description.clone(),
            starts_on: c.starts_on.map(|d| d.to_string()).unwrap_or_default(),
            ends_on: c.ends_on.map(|d| d.to_string()).unwrap_or_default(),
            colour: c.colour.clone(),
            spend: c.spend_cents.map(amount).unwrap_or_default(),
            click_value: c.click_value_cents.map(amount).unwrap_or_default(),
            conversions: c.conversions.map(|n| n.to_string()).unwrap_or_default(),
            conversion_value: c.conversion_value_cents.map(amount).unwrap_or_default(),
            currency: c.currency.clone(),
            utm_campaign: c.utm_campaign.clone().unwrap_or_default(),
        }
    }

    fn input(&self) -> CampaignInput {
        CampaignInput {
            name: self.name.clone(),
            description: self.description.clone(),
            starts_on: self.starts_on.clone(),
            ends_on: self.ends_on.clone(),
            colour: self.colour.clone(),
            spend: self.spend.clone(),
            click_value: self.click_value.clone(),
            conversions: self.conversions.clone(),
            conversion_value: self.conversion_value.clone(),
            currency: self.currency.clone(),
            utm_campaign: self.utm_campaign.clone(),
        }
    }
}

/// An amount in cents as the form shows it again ("1250.50").
fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A campaign's results as its page shows them: what was measured, what was entered, and what
/// follows from the two.
pub struct Results {
    pub published: String,
    pub measured: Vec<(String, String)>,
    pub clicks_note: String,
    pub entered: Vec<(String, String)>,
    pub returns: Vec<(String, String)>,
}

fn results_of(r: &services::analytics::campaigns::CampaignResults) -> Results {
    use domain::metrics::Metric;
    use services::analytics::shown::{entered, number, returns_shown};
    let currency = r.campaign.currency.as_str();
    let not_entered = || "not entered".to_owned();
    let mut measured: Vec<(String, String)> = [Metric::Views, Metric::Reach]
        .iter()
        .filter_map(|m| {
            r.totals
                .get(m.key())
                .map(|v| (m.label().to_owned(), number(*v)))
        })
        .collect();
    measured.push(("Interactions".into(), number(r.interactions)));
    measured.push((
        "Link clicks".into(),
        r.clicks
            .map(number)
            .unwrap_or_else(|| "not measured".into()),
    ));
    let clicks_note = if r.clicks_from.is_empty() {
        "No platform these posts went to has reported link clicks yet.".to_owned()
    } else {
        format!(
            "Link clicks as reported by {}.",
            r.clicks_from
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let c = &r.campaign;
    let shown = returns_shown(r);
    Results {
        published: domain::counted(r.published, "published post", "published posts"),
        measured,
        clicks_note,
        entered: vec![
            (
                "Spend".into(),
                entered(c.spend_cents, currency).unwrap_or_else(not_entered),
            ),
            (
                "Value of a click".into(),
                entered(c.click_value_cents, currency).unwrap_or_else(not_entered),
            ),
            (
                "Conversions".into(),
                c.conversions.map(number).unwrap_or_else(not_entered),
            ),
            (
                "Value of a conversion".into(),
                entered(c.conversion_value_cents, currency).unwrap_or_else(not_entered),
            ),
        ],
        returns: vec![
            ("Cost per engagement".into(), shown.per_engagement),
            ("Cost per click".into(), shown.per_click),
            ("Value".into(), shown.value),
            ("Return on spend".into(), shown.return_on_spend),
        ],
    }
}

/// A colour of the palette: its value, its class suffix and its name.
pub struct Colour {
    pub value: &'static str,
    pub class: &'static str,
    pub label: &'static str,
}

fn currencies() -> Vec<&'static str> {
    domain::campaign::CURRENCIES
        .iter()
        .map(|(c, _)| *c)
        .collect()
}

fn colours() -> Vec<Colour> {
    COLOURS
        .iter()
        .map(|(value, label)| Colour {
            value,
            class: value.trim_start_matches('#'),
            label,
        })
        .collect()
}

pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub dates: String,
    pub colour: String,
}

fn dates(c: &campaign::Model) -> String {
    let fmt = |d: chrono::NaiveDate| d.format("%-d %b %Y").to_string();
    match (c.starts_on, c.ends_on) {
        (Some(s), Some(e)) => format!("{} – {}", fmt(s), fmt(e)),
        (Some(s), None) => format!("from {}", fmt(s)),
        (None, Some(e)) => format!("until {}", fmt(e)),
        (None, None) => String::new(),
    }
}

#[derive(Template)]
#[template(path = "campaigns/list.html")]
struct ListPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    campaigns: Vec<CampaignRow>,
    form: CampaignForm,
    colours: Vec<Colour>,
    currencies: Vec<&'static str>,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    id: i64,
    name: String,
    description: String,
    dates: String,
    colour: String,
    posts: Vec<PostLine>,
    form: CampaignForm,
    colours: Vec<Colour>,
    currencies: Vec<&'static str>,
    can_edit: bool,
    /// The results, or why the plan does not show them.
    results: Option<Results>,
    results_refused: Option<String>,
    /// The campaign's links as they will be published to one platform, when it tags them.
    utm_example: Option<String>,
}

async fn list_page(
    state: &AppState,
    m: &WorkspaceMember,
    form: CampaignForm,
    errors: FieldErrors,
) -> AppResult<ListPage> {
    let campaigns = state
        .services
        .campaigns_of(m.membership.workspace_id())
        .await?
        .iter()
        .map(|c| CampaignRow {
            id: c.id,
            name: c.name.clone(),
            dates: dates(c),
            colour: c.colour.trim_start_matches('#').to_owned(),
        })
        .collect();
    Ok(ListPage {
        layout: Layout::for_member(state, m, "Campaigns"),
        errors,
        ws: m.membership.workspace.id,
        campaigns,
        form,
        colours: colours(),
        currencies: currencies(),
        can_edit: m.membership.role.can_publish(),
    })
}

async fn show_page(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    form: Option<CampaignForm>,
    errors: FieldErrors,
) -> AppResult<ShowPage> {
    let ws = m.membership.workspace_id();
    let c = state.services.campaign(ws, CampaignId(id)).await?;
    let tz = zone_of(m);
    let posts = state
        .services
        .list_posts(
            ws,
            &PostFilter {
                campaign_id: Some(c.id),
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(|p| PostLine::from(p, tz))
        .collect();
    let (results, results_refused) = match state.services.require_roi_reporting(ws).await {
        Ok(()) => (
            Some(results_of(
                &state.services.campaign_results(ws, c.clone()).await?,
            )),
            None,
        ),
        Err(ServiceError::PlanLimit { refusal, .. }) => (None, Some(refusal.to_string())),
        Err(other) => return Err(other.into()),
    };
    let utm_example = c.utm_campaign.as_deref().map(|utm| {
        domain::campaign::tag_links("https://example.com/page", domain::Platform::Instagram, utm)
    });
    Ok(ShowPage {
        results,
        results_refused,
        utm_example,
        currencies: currencies(),
        layout: Layout::for_member(state, m, &c.name),
        errors,
        ws: ws.0,
        id: c.id,
        form: form.unwrap_or_else(|| CampaignForm::of(&c)),
        dates: dates(&c),
        colour: c.colour.trim_start_matches('#').to_owned(),
        name: c.name,
        description: c.description,
        posts,
        colours: colours(),
        can_edit: m.membership.role.can_publish(),
    })
}

/// The status and field errors of a refusal.
fn refusal(err: ServiceError) -> AppResult<(StatusCode, FieldErrors)> {
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::Forbidden(message) => {
            errors.add("campaign", message);
            StatusCode::FORBIDDEN
        }
        ServiceError::NotFound => return Err(AppError::NotFound),
        other => {
            errors.absorb(other)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok((status, errors))
}

pub async fn list(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let form = CampaignForm {
        colour: COLOURS[0].0.to_owned(),
        currency: "USD".to_owned(),
        ..Default::default()
    };
    render(list_page(&state, &m, form, FieldErrors::new()).await?)
}

pub async fn create(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<CampaignForm>,
) -> AppResult {
    let result = state
        .services
        .save_campaign(&m.membership, &m.auth.user, None, &form.input())
        .await;
    match result {
        Ok(c) => Ok(redirect_with(
            &format!("/w/{}/campaigns/{}", c.workspace_id, c.id),
            Flash::CampaignSaved,
        )),
        Err(err) => {
            let (status, errors) = refusal(err)?;
            let mut res = render(list_page(&state, &m, form, errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, CampaignId)>,
) -> AppResult {
    render(show_page(&state, &m, id.0, None, FieldErrors::new()).await?)
}

pub async fn update(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, CampaignId)>,
    Form(form): Form<CampaignForm>,
) -> AppResult {
    let result = state
        .services
        .save_campaign(&m.membership, &m.auth.user, Some(id), &form.input())
        .await;
    match result {
        Ok(_) => Ok(redirect_with(
            &format!("/w/{ws}/campaigns/{id}"),
            Flash::CampaignSaved,
        )),
        Err(err) => {
            let (status, errors) = refusal(err)?;
            let mut res = render(show_page(&state, &m, id.0, Some(form), errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, CampaignId)>,
) -> AppResult {
    let result = state
        .services
        .delete_campaign(&m.membership, &m.auth.user, id)
        .await;
    match result {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{ws}/campaigns"),
            Flash::CampaignDeleted,
        )),
        Err(err) => {
            let (status, errors) = refusal(err)?;
            let mut res = render(show_page(&state, &m, id.0, None, errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}
