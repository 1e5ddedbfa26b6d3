//! The weekly analytics report by e-mail: a member asks for it on the analytics page (for
//! themself only), and the daily retention run sends each one due the last seven days' key
//! figures, top posts and campaigns. On a plan with analytics exports the same report goes
//! along as a PDF, attached and linked. Sending it and noting the day are one transaction, so a
//! report goes at most once a week.

use crate::analytics::{Days, Scope, report, shown};
use crate::workspaces::Membership;
use crate::{Result, Services, emails};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Timezone, UserId, WorkspaceId};
use providers::mail::{Attachment, Email};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use store::entities::{membership, user, workspace};

/// Days between two reports to the same member.
const EVERY: i64 = 7;

impl Services {
    /// Asks for the weekly report or stops it, for the member themself; asking needs a plan
    /// with analytics.
    pub async fn set_weekly_report(&self, ctx: &Membership, on: bool) -> Result<()> {
        if on {
            self.require_analytics(ctx.workspace_id()).await?;
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::WeeklyReport, Expr::value(on))
            .filter(membership::Column::Id.eq(ctx.id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Sends the weekly report to every member due one on `now`'s day (asked for, in a
    /// workspace with analytics on and a plan that has it, none sent in the last week).
    /// Returns how many were queued.
    pub async fn send_weekly_reports(&self, now: DateTime<Utc>) -> Result<u64> {
        let today = now.date_naive();
        let members = membership::Entity::find()
            .filter(due(today))
            .all(&self.db)
            .await?;
        let mut sent = 0;
        for member in members {
            let ws = WorkspaceId(member.workspace_id);
            let Some(space) = workspace::Entity::find_by_id(ws.0).one(&self.db).await? else {
                continue;
            };
            if space.analytics_on_at.is_none() || self.require_analytics(ws).await.is_err() {
                continue;
            }
            let Some(person) = user::Entity::find_by_id(member.user_id)
                .one(&self.db)
                .await?
            else {
                continue;
            };
            // One member's report that cannot be made does not hold up the others'.
            let email = match self.weekly_email(&space, &person, now).await {
                Ok(email) => email,
                Err(err) => {
                    tracing::warn!(
                        workspace = space.id,
                        membership = member.id,
                        error = %format!("{err:#}"),
                        "a weekly analytics report could not be made"
                    );
                    continue;
                }
            };
            let txn = store::begin_write(&self.db).await?;
            // Noted only if still due: a second run the same day finds it sent.
            let noted = membership::Entity::update_many()
                .col_expr(membership::Column::WeeklyReportSentOn, Expr::value(today))
                .filter(membership::Column::Id.eq(member.id))
                .filter(due(today))
                .exec(&txn)
                .await?
                .rows_affected;
            if noted == 1 {
                emails::queue(&txn, email, Some(UserId(person.id))).await?;
                sent += 1;
            }
            txn.commit().await?;
        }
        Ok(sent)
    }

    /// The report of the seven days before `now`'s day for `person`, in their time zone.
    async fn weekly_email(
        &self,
        space: &workspace::Model,
        person: &user::Model,
        now: DateTime<Utc>,
    ) -> Result<Email> {
        let ws = WorkspaceId(space.id);
        let days = Days::last(EVERY, now.date_naive() - Duration::days(1));
        let zone = Timezone::stored(&person.timezone);
        let overview = self
            .analytics_overview(ws, days, Scope::default(), &zone)
            .await?;
        let campaigns = match self.require_roi_reporting(ws).await {
            Ok(()) => Some(self.campaigns_results(ws).await?),
            Err(_) => None,
        };
        let shown = shown::shown(&overview, &zone, campaigns.as_deref());
        let pdf = match self.require_analytics_exports(ws).await {
            Ok(()) => match weekly_pdf(space, days, &shown, &zone, now) {
                Some(file) => Pdf::Attached(file),
                None => Pdf::Linked,
            },
            Err(_) => Pdf::NotOnPlan,
        };
        Ok(weekly_text(
            &self.base_url,
            space,
            person,
            days,
            &shown,
            pdf,
        ))
    }
}

/// What a weekly e-mail carries of the PDF report.
enum Pdf {
    /// Nothing: the plan has no analytics exports.
    NotOnPlan,
    /// A link: the file could not be made this time.
    Linked,
    /// The file, and a link to it.
    Attached(Attachment),
}

/// The PDF report of `days` for the e-mail, as the report's download makes it (every platform,
/// in the member's time zone). `None` when it cannot be made: the e-mail then goes with the
/// link alone, and the reason is logged (it names no person).
fn weekly_pdf(
    space: &workspace::Model,
    days: Days,
    shown: &shown::Shown,
    zone: &Timezone,
    now: DateTime<Utc>,
) -> Option<Attachment> {
    let generated = domain::schedule::describe(now, *zone);
    let made = report::pdf(&shown.report(&space.name, "All platforms", generated));
    match made {
        Ok(bytes) => Some(Attachment {
            name: format!("analytics-{}-{}-{}.pdf", space.id, days.from, days.to),
            content_type: "application/pdf".to_owned(),
            bytes,
        }),
        Err(err) => {
            tracing::warn!(
                workspace = space.id,
                error = %err,
                "the PDF of a weekly analytics report could not be made; the e-mail goes without it"
            );
            None
        }
    }
}

/// The members who asked for the report and got none in the last [`EVERY`] days.
fn due(today: NaiveDate) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(membership::Column::WeeklyReport.eq(true))
        .add(
            sea_orm::Condition::any()
                .add(membership::Column::WeeklyReportSentOn.is_null())
                .add(membership::Column::WeeklyReportSentOn.lte(today - Duration::days(EVERY))),
        )
}

/// The e-mail of a weekly report.
fn weekly_text(
    base_url: &str,
    space: &workspace::Model,
    person: &user::Model,
    days: Days,
    shown: &shown::Shown,
    pdf: Pdf,
) -> Email {
    let mut body = format!(
        "Hello {},\n\nThis is the analytics of {} for {}.\n\n",
        person.name, space.name, shown.period
    );
    for k in &shown.figures {
        body.push_str(&format!("{}: {}", k.figure.label, k.figure.value));
        if let Some(change) = &k.figure.change {
            body.push_str(&format!(" ({change})"));
        }
        body.push('\n');
    }
    let mut tables = vec![&shown.top_posts];
    if let Some(c) = &shown.campaigns {
        tables.push(c);
    }
    for table in tables {
        body.push_str(&format!("\n{}\n", table.heading));
        if table.rows.is_empty() {
            body.push_str(&format!("{}\n", table.empty));
        }
        for row in table.rows.iter().take(5) {
            let cells: Vec<String> = table
                .headers
                .iter()
                .zip(row)
                .skip(1)
                .map(|(h, c)| format!("{h} {c}"))
                .collect();
            body.push_str(&format!(
                "- {}: {}\n",
                row.first().map(String::as_str).unwrap_or_default(),
                cells.join(", ")
            ));
        }
    }
    let base = base_url.trim_end_matches('/');
    let link = format!(
        "{base}/w/{}/analytics/report.pdf?from={}&to={}",
        space.id, days.from, days.to
    );
    let attachments = match pdf {
        Pdf::NotOnPlan => Vec::new(),
        Pdf::Linked => {
            body.push_str(&format!(
                "\nThe full report with its charts, as a PDF:\n{link}\n"
            ));
            Vec::new()
        }
        Pdf::Attached(file) => {
            body.push_str(&format!(
                "\nThe full report with its charts is attached as a PDF, and here:\n{link}\n"
            ));
            vec![file]
        }
    };
    body.push_str(&format!(
        "\nThe analytics page:\n{base}/w/{}/analytics\n\n\
         You get this because you asked for it on the analytics page of {}; stop it there at any \
         time.\n",
        space.id, space.name
    ));
    Email {
        to: person.email.clone(),
        subject: format!("{}: analytics for {}", space.name, shown.period),
        body,
        attachments,
    }
}
