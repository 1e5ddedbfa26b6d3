//! Deletion requests received by e-mail.
//!
//! The privacy page tells people who cannot use the app to e-mail the privacy address, and
//! promises that such a request is carried out within 30 days. An administrator records each
//! request (the address and the day it arrived); from then on the product keeps the deadline:
//!
//! - Recording e-mails the address at once. When an account uses it, the message carries a
//!   single-use link (only its hash is stored) that works until the deadline; the page behind
//!   it says what will be deleted and what is kept, and its button starts the account deletion
//!   (the e-mail proves the address, so no sign-in is needed). When no account uses it, the
//!   message says that nothing is held for it. Both cases write the same kind of row, queue one
//!   e-mail, and answer the administrator in the same words, so recording a request never tells
//!   anyone whether an address has an account.
//! - A daily check e-mails the administrators about every open request 7 and 2 days before its
//!   deadline (each reminder once), notes when a request goes past its deadline (the list shows
//!   it, highlighted, until someone closes it), and finishes the bookkeeping of confirmed
//!   requests whose deletion ended later than the confirmation.
//!
//! What the row keeps: the address only while the request is open, a keyed hash of it for good
//! (proof that this address's request was answered, and when), the dates and the state.

pub mod check;

/// Where a request stands, as stored in `deletion_requests.state`.
pub use store::entities::states::RequestState as State;

use check::ensure_check;

use crate::deletion::receipt::Via;
use crate::{Result, ServiceError, Services, datamap as plan, emails, tokens};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{DeletionRequestId, Email, Invalid, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use store::datamap::{Names, TABLES, Then};
use store::entities::{deletion_request, user};

/// How many days after it arrives a request must be carried out.
pub const DEADLINE_DAYS: i64 = 30;
/// A received date further back than this is taken for a typing mistake.
const OLDEST_DAYS: i64 = 365;
/// A link sent late (the deadline close or past) still works this long.
const MIN_LINK_DAYS: i64 = 7;
/// The purpose of the keyed hash of the address.
const ADDRESS_HASH: &str = "deletion-request-address";

/// The day a request arrived: not in the future, and not more than a year back (a typing
/// mistake). A day more than 30 days back is accepted: the request was found late, its
/// deadline has passed, and it is listed as overdue from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedOn(NaiveDate);

impl ReceivedOn {
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Invalid::new(
                "Enter the day the request arrived, like 2026-11-29.",
            ));
        }
        let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            Invalid(format!(
                "“{raw}” is not a date: write the day the request arrived like 2026-11-29."
            ))
        })?;
        if day > today {
            return Err(Invalid(format!(
                "{day} is in the future: enter the day the request arrived (today is {today})."
            )));
        }
        if today - day > Duration::days(OLDEST_DAYS) {
            return Err(Invalid(format!(
                "{day} is more than a year ago: check the year."
            )));
        }
        Ok(Self(day))
    }

    pub fn date(&self) -> NaiveDate {
        self.0
    }

    /// The last day to carry the request out.
    pub fn deadline(&self) -> NaiveDate {
        self.0 + Duration::days(DEADLINE_DAYS)
    }
}

/// Who recorded a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedBy {
    /// `socializioz admin deletion-request add`.
    Cli,
    /// An administrator, on the admin page.
    Admin(i64),
}

/// What the administrator is told after recording a request: the same whether or not an
/// account uses the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: i64,
    pub received_on: NaiveDate,
    pub deadline_on: NaiveDate,
}

/// The answer to the administrator, in the same words for every address.
pub const RECORDED_NOTICE: &str = "A message went to the address: a link to confirm the \
     deletion if an account uses it, otherwise word that nothing is held for it.";

impl Recorded {
    pub fn summary(&self) -> String {
        format!(
            "Recorded deletion request #{}: received {}, to be carried out by {}. {RECORDED_NOTICE}",
            self.id, self.received_on, self.deadline_on
        )
    }
}

/// One request, as the administrators' list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: i64,
    /// Only while the request is open.
    pub email: Option<String>,
    pub received_on: NaiveDate,
    pub deadline_on: NaiveDate,
    /// Days until the deadline (negative once past it).
    pub days_left: i64,
    pub state: State,
    /// Still not carried out, and the deadline has passed.
    pub overdue: bool,
    pub status: &'static str,
    pub recorded_via: String,
    pub closed_at: Option<DateTime<Utc>>,
    /// Until when the e-mailed link works.
    pub link_expires_at: DateTime<Utc>,
}

impl RequestRow {
    /// Whether the administrators can still act on it (send it again, close it).
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }
}

/// The requests the administrators see: those still to be carried out (oldest first), and
/// the latest closed ones.
#[derive(Debug, Clone, Default)]
pub struct RequestList {
    pub pending: Vec<RequestRow>,
    pub closed: Vec<RequestRow>,
}

/// How an administrator closes a request that was not confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The person wrote that they no longer want it.
    Withdrawn,
    /// The link expired unused.
    Expired,
}

impl Closing {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "withdrawn" => Ok(Self::Withdrawn),
            "expired" => Ok(Self::Expired),
            other => Err(Invalid(format!(
                "“{other}” is not a way to close a request: use withdrawn or expired."
            ))),
        }
    }

    fn state(self) -> State {
        match self {
            Self::Withdrawn => State::Withdrawn,
            Self::Expired => State::Expired,
        }
    }
}

/// Why a confirmation link cannot be used (the page says it in these words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLink {
    /// No request has this link (mistyped, or made up).
    Unknown,
    /// The request was confirmed already.
    Used,
    Withdrawn,
    Expired,
    /// No account uses the address (any more), or it moved to another address.
    NoAccount,
}

impl DeadLink {
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => {
                "This link does not belong to any deletion request. Check that you opened the \
                 whole link from the e-mail."
            }
            Self::Used => {
                "This request was confirmed already, so the link cannot be used again. The \
                 deletion was started then; nothing more happens now."
            }
            Self::Withdrawn => {
                "This request was withdrawn, so the link no longer works and nothing was \
                 deleted. To delete your account, write to the privacy address again, or \
                 delete it from your settings."
            }
            Self::Expired => {
                "This link has expired and nothing was deleted. To delete your account, write \
                 to the privacy address again, or delete it from your settings."
            }
            Self::NoAccount => {
                "No account uses this address any more, so there is nothing to delete with \
                 this link."
            }
        }
    }
}

impl From<DeadLink> for ServiceError {
    fn from(dead: DeadLink) -> Self {
        ServiceError::invalid("token", dead.message())
    }
}

/// A usable confirmation link: the request and the account it deletes.
#[derive(Debug, Clone)]
pub struct LiveLink {
    pub request: deletion_request::Model,
    pub user: user::Model,
}

/// How a confirmation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The account and its data are deleted.
    Deleted,
    /// The deletion started and did not finish at once; its job finishes it.
    UnderWay,
}

fn day_end(day: NaiveDate) -> DateTime<Utc> {
    (day + Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

/// Until when a link sent at `now` for a request due on `deadline` works.
fn link_expiry(deadline: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    day_end(deadline).max(now + Duration::days(MIN_LINK_DAYS))
}

fn status_of(row: &deletion_request::Model, state: State, overdue: bool) -> &'static str {
    match (state, overdue, row.closed_at.is_some()) {
        (State::Open, false, _) => "Awaiting confirmation",
        (State::Open, true, _) => "Overdue: awaiting confirmation",
        (State::Confirmed, _, true) => "Confirmed: deleted",
        (State::Confirmed, true, false) => "Overdue: confirmed, deletion under way",
        (State::Confirmed, false, false) => "Confirmed: deletion under way",
        (State::Withdrawn, _, _) => "Withdrawn",
        (State::Expired, _, _) => "Closed: not confirmed",
    }
}

fn row_of(row: deletion_request::Model, today: NaiveDate) -> RequestRow {
    let state = row.state;
    let days_left = (row.deadline_on - today).num_days();
    let pending = state == State::Open || (state == State::Confirmed && row.closed_at.is_none());
    let overdue = pending && days_left < 0;
    RequestRow {
        id: row.id,
        received_on: row.received_on,
        deadline_on: row.deadline_on,
        days_left,
        state,
        overdue,
        status: status_of(&row, state, overdue),
        recorded_via: row.recorded_via.clone(),
        closed_at: row.closed_at,
        link_expires_at: row.link_expires_at,
        email: row.email,
    }
}

impl Services {
    /// Whether `person` is an administrator of this instance: their confirmed address is
    /// listed in `[admin] emails`.
    pub fn is_admin(&self, person: &user::Model) -> bool {
        person.email_verified_at.is_some()
            && self
                .admins
                .iter()
                .any(|a| a.eq_ignore_ascii_case(person.email.trim()))
    }

    fn address_hash(&self, email: &str) -> String {
        self.keys
            .mac(ADDRESS_HASH, email.trim().to_lowercase().as_bytes())
    }

    /// The link in the e-mail to the address, for a fresh token.
    fn confirm_link(&self, token: &str) -> String {
        format!("{}/deletion-requests/confirm/{token}", self.base_url)
    }

    /// Queues the message to the address: a confirmation link when `account` uses it, word
    /// that nothing is held otherwise (and then the rows that name only the address, such as
    /// invitations not accepted, are deleted, so that this is true).
    async fn queue_request_mail<C: ConnectionTrait>(
        &self,
        conn: &C,
        email: &str,
        account: Option<&user::Model>,
        token: &str,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let message = match account {
            Some(person) => emails::deletion_request_confirm(
                email,
                &person.name,
                &self.confirm_link(token),
                expires,
            ),
            None => {
                let subject = plan::Subject {
                    addresses: vec![email.to_owned()],
                    ..Default::default()
                };
                for table in TABLES {
                    for reference in table.refs {
                        if reference.names != Names::Address || reference.then != Then::DeleteRow {
                            continue;
                        }
                        if let Some(naming) = plan::referencing(table, reference, &subject) {
                            plan::execute(conn, &plan::delete(table.table, naming)).await?;
                        }
                    }
                }
                emails::deletion_request_nothing_held(email)
            }
        };
        emails::queue(conn, message, account.map(|a| UserId(a.id))).await
    }

    /// Records a deletion request received by e-mail on `received`, and e-mails the address
    /// (see the module). Answers the same whether or not an account uses the address.
    pub async fn record_deletion_request(
        &self,
        email: &Email,
        received: ReceivedOn,
        by: RecordedBy,
        now: DateTime<Utc>,
    ) -> Result<Recorded> {
        let address = email.as_str().to_owned();
        let hash = self.address_hash(&address);
        let txn = store::begin_write(&self.db).await?;
        if let Some(open) = deletion_request::Entity::find()
            .filter(deletion_request::Column::EmailHash.eq(hash.as_str()))
            .filter(deletion_request::Column::State.eq(State::Open))
            .one(&txn)
            .await?
        {
            txn.rollback().await?;
            return Err(ServiceError::invalid(
                "email",
                format!(
                    "Request #{} for this address is open already (received {}, to be carried \
                     out by {}). Send its message again from the list rather than recording it \
                     twice: the deadline counts from the first request.",
                    open.id, open.received_on, open.deadline_on
                ),
            ));
        }
        let account = user::Entity::find()
            .filter(user::Column::Email.eq(address.as_str()))
            .one(&txn)
            .await?;
        let token = tokens::random_token();
        let deadline = received.deadline();
        let (recorded_by, recorded_via) = match by {
            RecordedBy::Cli => (None, "cli"),
            RecordedBy::Admin(id) => (Some(id), "web"),
        };
        let row = deletion_request::ActiveModel {
            email: Set(Some(address.clone())),
            email_hash: Set(hash),
            received_on: Set(received.date()),
            deadline_on: Set(deadline),
            state: Set(State::Open),
            token_hash: Set(tokens::hash_token(&token)),
            link_expires_at: Set(link_expiry(deadline, now)),
            user_id: Set(account.as_ref().map(|a| a.id)),
            deletion_id: Set(None),
            recorded_by: Set(recorded_by),
            recorded_via: Set(recorded_via.to_owned()),
            seven_day_reminder_at: Set(None),
            two_day_reminder_at: Set(None),
            overdue_at: Set(None),
            confirmed_at: Set(None),
            closed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.queue_request_mail(
            &txn,
            &address,
            account.as_ref(),
            &token,
            row.link_expires_at,
        )
        .await?;
        ensure_check(&txn, now).await?;
        txn.commit().await?;
        self.wake.notify_one();
        tracing::info!(request = row.id, "deletion request recorded");
        Ok(Recorded {
            id: row.id,
            received_on: row.received_on,
            deadline_on: row.deadline_on,
        })
    }

    /// Sends an open request's message again (the person lost it, or an account now uses the
    /// address): a new link replaces the old one. Answers the same for every address.
    pub async fn resend_deletion_request(
        &self,
        id: DeletionRequestId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let row = deletion_request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let (State::Open, Some(address)) = (row.state, row.email.clone()) else {
            txn.rollback().await?;
            return Err(ServiceError::invalid(
                "request",
                "This request is closed: there is nothing to send again.",
            ));
        };
        let account = user::Entity::find()
            .filter(user::Column::Email.eq(address.as_str()))
            .one(&txn)
            .await?;
        let token = tokens::random_token();
        let expires = link_expiry(row.deadline_on, now);
        deletion_request::Entity::update_many()
            .col_expr(
                deletion_request::Column::TokenHash,
                Expr::value(tokens::hash_token(&token)),
            )
            .col_expr(
                deletion_request::Column::LinkExpiresAt,
                Expr::value(expires),
            )
            .col_expr(
                deletion_request::Column::UserId,
                Expr::value(account.as_ref().map(|a| a.id)),
            )
            .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
            .filter(deletion_request::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        self.queue_request_mail(&txn, &address, account.as_ref(), &token, expires)
            .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Closes an open request that will not be confirmed: withdrawn by the person, or expired
    /// unused (only once its link has expired). The address and the account are forgotten;
    /// the dates and the keyed hash stay as the record.
    pub async fn close_deletion_request(
        &self,
        id: DeletionRequestId,
        closing: Closing,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let row = deletion_request::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if closing == Closing::Expired && row.link_expires_at > now {
            return Err(ServiceError::invalid(
                "request",
                format!(
                    "The link of request #{} works until {}: it can be closed as not confirmed \
                     only after that.",
                    row.id,
                    row.link_expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        let closed = deletion_request::Entity::update_many()
            .col_expr(
                deletion_request::Column::State,
                Expr::value(closing.state().as_str()),
            )
            .col_expr(
                deletion_request::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                deletion_request::Column::UserId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(deletion_request::Column::ClosedAt, Expr::value(now))
            .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
            .filter(deletion_request::Column::Id.eq(row.id))
            .filter(deletion_request::Column::State.eq(State::Open))
            .exec(&self.db)
            .await?;
        if closed.rows_affected != 1 {
            return Err(ServiceError::invalid(
                "request",
                "This request is closed already.",
            ));
        }
        Ok(())
    }

    /// The requests for the administrators' list, as of `now`.
    pub async fn deletion_requests(&self, now: DateTime<Utc>) -> Result<RequestList> {
        let today = now.date_naive();
        let pending = deletion_request::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(deletion_request::Column::State.eq(State::Open))
                    .add(
                        sea_orm::Condition::all()
                            .add(deletion_request::Column::State.eq(State::Confirmed))
                            .add(deletion_request::Column::ClosedAt.is_null()),
                    ),
            )
            .order_by_asc(deletion_request::Column::ReceivedOn)
            .order_by_asc(deletion_request::Column::Id)
            .all(&self.db)
            .await?;
        let closed = deletion_request::Entity::find()
            .filter(deletion_request::Column::ClosedAt.is_not_null())
            .order_by_desc(deletion_request::Column::ClosedAt)
            .limit(50)
            .all(&self.db)
            .await?;
        Ok(RequestList {
            pending: pending.into_iter().map(|r| row_of(r, today)).collect(),
            closed: closed.into_iter().map(|r| row_of(r, today)).collect(),
        })
    }

    /// The request a confirmation link belongs to, if the link can still be used (the outer
    /// error is the database's: an outage is not reported as a dead link).
    pub async fn deletion_request_link(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<LiveLink, DeadLink>> {
        let Some(request) = deletion_request::Entity::find()
            .filter(deletion_request::Column::TokenHash.eq(tokens::hash_token(token)))
            .one(&self.db)
            .await?
        else {
            return Ok(Err(DeadLink::Unknown));
        };
        match request.state {
            State::Open => {}
            State::Confirmed => return Ok(Err(DeadLink::Used)),
            State::Withdrawn => return Ok(Err(DeadLink::Withdrawn)),
            State::Expired => return Ok(Err(DeadLink::Expired)),
        }
        if request.link_expires_at <= now {
            return Ok(Err(DeadLink::Expired));
        }
        let (Some(user_id), Some(address)) = (request.user_id, request.email.as_deref()) else {
            return Ok(Err(DeadLink::NoAccount));
        };
        let Some(person) = user::Entity::find_by_id(user_id).one(&self.db).await? else {
            return Ok(Err(DeadLink::NoAccount));
        };
        // The link proves the mailbox of the address it was sent to; an account that has
        // moved to another address is no longer that mailbox's.
        if !person.email.eq_ignore_ascii_case(address) {
            return Ok(Err(DeadLink::NoAccount));
        }
        Ok(Ok(LiveLink {
            request,
            user: person,
        }))
    }

    /// Confirms a request through its link: starts the account deletion and carries it out.
    /// A link used before, expired, withdrawn or unknown deletes nothing and says why.
    pub async fn confirm_deletion_request(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Confirmation> {
        let link = self
            .deletion_request_link(token, now)
            .await?
            .map_err(ServiceError::from)?;
        let request = &link.request;
        // Taken once: of two clicks, only one goes on. The address is no longer needed (the
        // deletion keeps its own until the receipt is sent).
        let claimed = deletion_request::Entity::update_many()
            .col_expr(
                deletion_request::Column::State,
                Expr::value(State::Confirmed),
            )
            .col_expr(deletion_request::Column::ConfirmedAt, Expr::value(now))
            .col_expr(
                deletion_request::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
            .filter(deletion_request::Column::Id.eq(request.id))
            .filter(deletion_request::Column::State.eq(State::Open))
            .filter(deletion_request::Column::TokenHash.eq(request.token_hash.as_str()))
            .filter(deletion_request::Column::LinkExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(DeadLink::Used.into());
        }
        let deletion = match self
            .begin_account_deletion(UserId(link.user.id), Via::Email)
            .await
        {
            Ok(id) => id,
            Err(err) => {
                // Nothing started: the request is open again and the link works as before.
                deletion_request::Entity::update_many()
                    .col_expr(deletion_request::Column::State, Expr::value(State::Open))
                    .col_expr(
                        deletion_request::Column::ConfirmedAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        deletion_request::Column::Email,
                        Expr::value(request.email.clone()),
                    )
                    .filter(deletion_request::Column::Id.eq(request.id))
                    .filter(deletion_request::Column::DeletionId.is_null())
                    .exec(&self.db)
                    .await?;
                return Err(err);
            }
        };
        deletion_request::Entity::update_many()
            .col_expr(
                deletion_request::Column::DeletionId,
                Expr::value(deletion.0),
            )
            .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
            .filter(deletion_request::Column::Id.eq(request.id))
            .exec(&self.db)
            .await?;
        tracing::info!(
            request = request.id,
            deletion = deletion.0,
            "deletion request confirmed"
        );
        match self.run_account_deletion(deletion).await {
            Ok(()) => {
                self.finish_deletion_request(request.id, crate::now())
                    .await?;
                Ok(Confirmation::Deleted)
            }
            Err(err) => {
                // Not the person's doing: the deletion's job takes it up again.
                tracing::warn!(request = request.id, deletion = deletion.0, error = ?err, "the deletion did not finish at once; its job resumes it");
                Ok(Confirmation::UnderWay)
            }
        }
    }

    /// The bookkeeping at the end of a confirmed request's deletion.
    async fn finish_deletion_request(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        deletion_request::Entity::update_many()
            .col_expr(deletion_request::Column::ClosedAt, Expr::value(at))
            .col_expr(
                deletion_request::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                deletion_request::Column::UserId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                deletion_request::Column::UpdatedAt,
                Expr::value(crate::now()),
            )
            .filter(deletion_request::Column::Id.eq(id))
            .filter(deletion_request::Column::ClosedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Sends one reminder about `row` to every administrator, once: the mark and the e-mails
    /// are written together, only by the check that set the mark.
    async fn remind(
        &self,
        row: &deletion_request::Model,
        column: deletion_request::Column,
        days_left: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let txn = store::begin_write(&self.db).await?;
        let marked = deletion_request::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(deletion_request::Column::Id.eq(row.id))
            .filter(deletion_request::Column::State.eq(State::Open))
            .filter(column.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        let link = format!("{}/admin/deletion-requests", self.base_url);
        for admin in &self.admins {
            emails::queue(
                &txn,
                emails::deletion_request_reminder(
                    admin,
                    DeletionRequestId(row.id),
                    row.received_on,
                    row.deadline_on,
                    days_left,
                    &link,
                ),
                None,
            )
            .await?;
        }
        txn.commit().await?;
        self.wake.notify_one();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn received_days_are_checked_against_today() {
        let today = day("2026-12-10");
        let ok = ReceivedOn::parse(" 2026-11-20 ", today).map(|r| (r.date(), r.deadline()));
        assert_eq!(ok, Ok((day("2026-11-20"), day("2026-12-20"))));
        assert!(ReceivedOn::parse("2026-12-10", today).is_ok());
        let future = ReceivedOn::parse("2026-12-11", today);
        assert!(future.is_err_and(|e| e.0.contains("future")));
        assert!(ReceivedOn::parse("10/12/2026", today).is_err_and(|e| e.0.contains("not a date")));
        assert!(ReceivedOn::parse("", today).is_err());
        // Found late: accepted, already past its deadline.
        let late = ReceivedOn::parse("2026-10-01", today).map(|r| r.deadline());
        assert_eq!(late, Ok(day("2026-10-31")));
        assert!(ReceivedOn::parse("2025-11-01", today).is_err_and(|e| e.0.contains("year")));
    }

    #[test]
    fn links_work_until_the_deadline_ends_and_at_least_a_week() {
        let now = day("2026-12-01").and_time(chrono::NaiveTime::MIN).and_utc();
        assert_eq!(
            link_expiry(day("2026-12-20"), now),
            day("2026-12-21").and_time(chrono::NaiveTime::MIN).and_utc()
        );
        assert_eq!(link_expiry(day("2026-11-20"), now), now + Duration::days(7));
    }

    #[test]
    fn closing_words_parse() {
        assert_eq!(Closing::parse("withdrawn"), Ok(Closing::Withdrawn));
        assert_eq!(Closing::parse(" expired"), Ok(Closing::Expired));
        assert!(Closing::parse("deleted").is_err());
    }
}
