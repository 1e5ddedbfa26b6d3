//! Deletion requests received by e-mail: the open ones by age, recording one, sending its
//! message again, closing one that will not be confirmed.

use super::Admin;
use crate::AppState;
use crate::error::AppResult;
use crate::extract::PathIds;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use domain::{DeletionRequestId, Email};
use services::deletion_requests::{Closing, DEADLINE_DAYS, ReceivedOn, RecordedBy, RequestRow};

const PATH: &str = "/admin/deletion-requests";

/// A request as a line of the list.
struct Row {
    id: i64,
    email: String,
    received: String,
    deadline: String,
    days_left: String,
    status: &'static str,
    overdue: bool,
    open: bool,
    /// The link has expired: the request may be closed as not confirmed.
    expired: bool,
    closed: String,
    via: &'static str,
}

impl Row {
    fn new(r: RequestRow, tz: &str) -> Self {
        let days_left = match r.days_left {
            d if d < 0 => format!("{} overdue", plural(-d)),
            0 => "due today".to_owned(),
            d => plural(d),
        };
        Self {
            id: r.id,
            open: r.is_open(),
            expired: r.link_expires_at <= services::now(),
            email: r.email.clone().unwrap_or_default(),
            received: r.received_on.to_string(),
            deadline: r.deadline_on.to_string(),
            days_left,
            status: r.status,
            overdue: r.overdue,
            closed: r.closed_at.map(|t| fmt_time(&t, tz)).unwrap_or_default(),
            via: if r.recorded_via == "cli" {
                "command line"
            } else {
                "this page"
            },
        }
    }
}

fn plural(days: i64) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

#[derive(Template)]
#[template(path = "admin/deletion_requests.html")]
struct RequestsPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
    received: String,
    received_hint: String,
    pending: Vec<Row>,
    closed: Vec<Row>,
    deadline_days: i64,
    reminder_days: String,
    admins: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RecordForm {
    email: String,
    received: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    outcome: String,
}

async fn build(
    state: &AppState,
    admin: &Admin,
    form: RecordForm,
    errors: FieldErrors,
) -> AppResult<RequestsPage> {
    let now = services::now();
    let tz = admin.auth.user.timezone.clone();
    let list = state.services.deletion_requests(now).await?;
    let today = now.date_naive().to_string();
    Ok(RequestsPage {
        layout: Layout::new(state, &admin.ctx, "Deletion requests").await?,
        errors,
        email: form.email,
        received: if form.received.is_empty() {
            today.clone()
        } else {
            form.received
        },
        received_hint: format!(
            "The day the e-mail arrived (today is {today}, UTC). The deadline is {DEADLINE_DAYS} days later."
        ),
        pending: list.pending.into_iter().map(|r| Row::new(r, &tz)).collect(),
        closed: list.closed.into_iter().map(|r| Row::new(r, &tz)).collect(),
        deadline_days: DEADLINE_DAYS,
        reminder_days: services::deletion_requests::check::REMINDER_DAYS
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        admins: state.services.admins.join(", "),
    })
}

pub async fn page(State(state): State<AppState>, admin: Admin) -> AppResult {
    render(build(&state, &admin, RecordForm::default(), FieldErrors::new()).await?)
}

pub async fn record(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<RecordForm>,
) -> AppResult {
    let now = services::now();
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&form.email));
    let received = errors.check(
        "received",
        ReceivedOn::parse(&form.received, now.date_naive()),
    );
    if let (Some(email), Some(received)) = (email, received) {
        match state
            .services
            .record_deletion_request(&email, received, RecordedBy::Admin(admin.auth.user.id), now)
            .await
        {
            Ok(_) => return Ok(redirect_with(PATH, Flash::DeletionRequestRecorded)),
            Err(err) => errors.absorb(err)?,
        }
    }
    rerender(build(&state, &admin, form, errors).await?)
}

pub async fn resend(
    State(state): State<AppState>,
    admin: Admin,
    PathIds(id): PathIds<DeletionRequestId>,
) -> AppResult {
    let result = state
        .services
        .resend_deletion_request(id, services::now())
        .await;
    outcome(&state, &admin, result, Flash::DeletionRequestResent).await
}

pub async fn close(
    State(state): State<AppState>,
    admin: Admin,
    PathIds(id): PathIds<DeletionRequestId>,
    Form(form): Form<CloseForm>,
) -> AppResult {
    let result = match Closing::parse(&form.outcome) {
        Ok(closing) => {
            state
                .services
                .close_deletion_request(id, closing, services::now())
                .await
        }
        Err(invalid) => Err(services::ServiceError::invalid("request", invalid.0)),
    };
    outcome(&state, &admin, result, Flash::DeletionRequestClosed).await
}

/// Back to the list with `done`, or the list again with the refusal at the top.
async fn outcome(
    state: &AppState,
    admin: &Admin,
    result: services::Result<()>,
    done: Flash,
) -> AppResult {
    let mut errors = FieldErrors::new();
    match result {
        Ok(()) => Ok(redirect_with(PATH, done)),
        Err(err) => {
            errors.absorb(err)?;
            rerender(build(state, admin, RecordForm::default(), errors).await?)
        }
    }
}
