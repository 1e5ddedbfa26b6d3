//! The inbox: the Instagram direct messages people send to a workspace's accounts, read back
//! every quarter of an hour while a conversation's reply window is open and hourly otherwise
//! (`messages:<account>`), stored once by the platform's ids, and the text replies members send
//! within Instagram's reply window (24 hours after the person's last message; past it the page
//! says so and nothing is sent).
//!
//! Part of the comments workspace (its plan, its retention period): the people who write never
//! signed up here, so their names and words are kept only until the conversation has been quiet
//! for the workspace's period, and are exported only to the workspace's owners.

use crate::account_tokens::connected_account;
use crate::analytics::ingest::missing_scopes;
use crate::comments::reply::Sent;
use crate::comments::{account_ref, answerer};
use crate::jobs::{Job, JobError};
use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_manager, names_of};
use crate::{Result, ServiceError, Services, activity, queue};
use chrono::{DateTime, Duration, Utc};
use domain::comments::stored_text;
use domain::plans::Feature;
use domain::{Platform, SocialAccountId, WorkspaceId};
use providers::social::messages::{Inbox, MessageError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::entities::states::AccountStatus;
use store::entities::{conversation, direct_message, job, social_account, user, workspace};

/// States of a message.
pub const RECEIVED: &str = "received";
pub const SENT: &str = "sent";
pub const SENDING: &str = "sending";
pub const UNCONFIRMED: &str = "unconfirmed";
pub const REFUSED: &str = "refused";

/// How often an account is read while one of its conversations can be answered, and otherwise.
const OPEN_EVERY: Duration = Duration::minutes(15);
const QUIET_EVERY: Duration = Duration::hours(1);
/// The most conversations a page lists.
pub const PAGE: u64 = 100;
/// The longest reply, in bytes of UTF-8 (Instagram's limit for a text message).
pub const MAX_REPLY: usize = 1000;

/// A read of an account's direct messages.
#[derive(Serialize, Deserialize)]
pub struct MessagesOf {
    pub account: i64,
}

impl queue::Payload for MessagesOf {
    const KIND: &'static str = "read_messages";
}

impl queue::AccountRead for MessagesOf {
    const PREFIX: &'static str = "messages";
    fn of(account: i64) -> Self {
        Self { account }
    }
}

/// A conversation as the inbox lists it.
#[derive(Debug, Clone)]
pub struct ConversationLine {
    pub conversation: conversation::Model,
    pub account: String,
    /// The last message cut at 60 characters, with "You: " when the account sent it.
    pub last: String,
    /// Until when a reply can be sent (none: the window has closed).
    pub open_until: Option<DateTime<Utc>>,
}

/// A conversation with its messages, oldest first, each with the member who sent it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub line: ConversationLine,
    pub messages: Vec<(direct_message::Model, Option<String>)>,
}

/// Until when `c` can be answered, if it still can.
fn open_until(
    c: &conversation::Model,
    window: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    c.person_last_at
        .map(|at| at + window)
        .filter(|until| *until > now)
}

fn cut(text: &str, by_account: bool) -> String {
    let mut short: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        short.push('…');
    }
    if by_account {
        format!("You: {short}")
    } else {
        short
    }
}

impl Services {
    /// Whether `ctx`'s workspace has its inbox on.
    pub fn inbox_on(&self, ctx: &Membership) -> bool {
        ctx.workspace.inbox_on_at.is_some()
    }

    /// Turns the inbox on or off (owners and admins, on a plan with the comments workspace);
    /// logged. On: every connected Instagram account is read (those connected without the
    /// messaging permission are listed until connected again); off: reading stops.
    pub async fn set_inbox(&self, ctx: &Membership, actor: &user::Model, on: bool) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        lock_as_manager(&txn, ctx).await.map_err(|err| match err {
            ServiceError::Forbidden(_) => ServiceError::Forbidden(
                "Only owners and admins can turn the inbox on or off.".into(),
            ),
            other => other,
        })?;
        if on {
            self.entitle(
                &txn,
                ctx.workspace_id(),
                Need::Feature(Feature::CommentsWorkspace),
            )
            .await?;
        }
        let now = crate::now();
        workspace::Entity::update_many()
            .col_expr(workspace::Column::InboxOnAt, Expr::value(on.then_some(now)))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        for account in instagram_accounts(&txn, ctx.workspace_id()).await? {
            queue::plan_read::<MessagesOf, _>(&txn, &account, on.then_some(now)).await?;
        }
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if on {
                    "inbox.turned_on"
                } else {
                    "inbox.turned_off"
                },
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: if on {
                    "turned the inbox on".to_owned()
                } else {
                    "turned the inbox off".to_owned()
                },
            },
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The workspace's Instagram accounts that must be connected again for the inbox, with the
    /// permissions they lack.
    pub async fn inbox_reconnect(&self, ws: WorkspaceId) -> Result<Vec<(String, String)>> {
        let Some(adapter) = self.messages.get(Platform::Instagram) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for account in instagram_accounts(&self.db, ws).await? {
            let granted = match self.tokens_of(SocialAccountId(account.id)).await {
                Ok(Some(tokens)) => tokens.scopes,
                _ => Vec::new(),
            };
            if let Some(missing) = missing_scopes(adapter.message_scopes(), &granted) {
                out.push((account.display_name, missing));
            }
        }
        Ok(out)
    }

    /// The workspace's conversations, most recently active first ([`PAGE`] at most).
    pub async fn inbox_conversations(&self, ctx: &Membership) -> Result<Vec<ConversationLine>> {
        let rows = conversation::Entity::find()
            .filter(conversation::Column::WorkspaceId.eq(ctx.workspace.id))
            .order_by_desc(conversation::Column::LastAt)
            .order_by_desc(conversation::Column::Id)
            .limit(PAGE)
            .all(&self.db)
            .await?;
        self.conversation_lines(rows).await
    }

    async fn conversation_lines(
        &self,
        rows: Vec<conversation::Model>,
    ) -> Result<Vec<ConversationLine>> {
        let accounts: HashMap<i64, String> = social_account::Entity::find()
            .filter(social_account::Column::Id.is_in(rows.iter().map(|c| c.account_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.display_name))
            .collect();
        let window = self.reply_window();
        let now = crate::now();
        let mut out = Vec::new();
        for c in rows {
            let last = direct_message::Entity::find()
                .filter(direct_message::Column::ConversationId.eq(c.id))
                .filter(direct_message::Column::State.ne(REFUSED))
                .order_by_desc(direct_message::Column::SentAt)
                .order_by_desc(direct_message::Column::Id)
                .one(&self.db)
                .await?
                .map(|m| cut(&m.body, m.by_account))
                .unwrap_or_default();
            out.push(ConversationLine {
                account: accounts.get(&c.account_id).cloned().unwrap_or_default(),
                last,
                open_until: open_until(&c, window, now),
                conversation: c,
            });
        }
        Ok(out)
    }

    fn reply_window(&self) -> Duration {
        self.messages
            .get(Platform::Instagram)
            .map_or(Duration::hours(24), |a| a.reply_window())
    }

    /// The conversation `id` of `ctx`'s workspace with its messages.
    pub async fn inbox_conversation(&self, ctx: &Membership, id: i64) -> Result<Thread> {
        let c = conversation::Entity::find_by_id(id)
            .filter(conversation::Column::WorkspaceId.eq(ctx.workspace.id))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let messages = direct_message::Entity::find()
            .filter(direct_message::Column::ConversationId.eq(c.id))
            .order_by_asc(direct_message::Column::SentAt)
            .order_by_asc(direct_message::Column::Id)
            .all(&self.db)
            .await?;
        let names = names_of(&self.db, messages.iter().filter_map(|m| m.sent_by)).await?;
        let messages = messages
            .into_iter()
            .map(|m| {
                let name = m.sent_by.and_then(|u| names.get(&u).cloned());
                (m, name)
            })
            .collect();
        let line = self
            .conversation_lines(vec![c])
            .await?
            .pop()
            .ok_or(ServiceError::NotFound)?;
        Ok(Thread { line, messages })
    }

    /// Sends `text` as the account's reply in conversation `id` (editors and up), while the
    /// reply window is open. A reply the platform refuses is kept with its reason, and the
    /// refusal returned.
    pub async fn send_message(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
        text: &str,
    ) -> Result<Sent> {
        let body = text.trim();
        if body.is_empty() {
            return Err(ServiceError::invalid("reply", "Write the reply first."));
        }
        if body.len() > MAX_REPLY {
            return Err(ServiceError::invalid(
                "reply",
                format!(
                    "Instagram takes at most {MAX_REPLY} bytes in a message (about as many \
                     letters, fewer with emoji); this one has {}.",
                    body.len()
                ),
            ));
        }
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        answerer(self, &txn, ctx).await?;
        inbox_is_on(&txn, ctx).await?;
        let c = conversation::Entity::find_by_id(id)
            .filter(conversation::Column::WorkspaceId.eq(ctx.workspace.id))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if open_until(&c, self.reply_window(), now).is_none() {
            return Err(ServiceError::invalid("reply", window_closed()));
        }
        // Written before the call, so that a second click sees it on its way.
        let in_flight = direct_message::Entity::find()
            .filter(direct_message::Column::ConversationId.eq(c.id))
            .filter(direct_message::Column::State.eq(SENDING))
            .filter(direct_message::Column::SentAt.gt(now - Duration::minutes(10)))
            .one(&txn)
            .await?;
        if in_flight.is_some() {
            return Err(ServiceError::invalid(
                "reply",
                "A reply in this conversation is being sent; this page shows it once it is.",
            ));
        }
        let claim = direct_message::ActiveModel {
            workspace_id: Set(ctx.workspace.id),
            conversation_id: Set(c.id),
            platform_id: Set(None),
            by_account: Set(true),
            body: Set(body.to_owned()),
            sent_at: Set(now),
            sent_by: Set(Some(actor.id)),
            state: Set(SENDING.to_owned()),
            error: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;

        let sent = self.deliver(&c, body).await;
        let settle = |state: &str, platform_id: Option<String>, error: Option<String>| {
            direct_message::Entity::update_many()
                .col_expr(direct_message::Column::State, Expr::value(state))
                .col_expr(direct_message::Column::PlatformId, Expr::value(platform_id))
                .col_expr(direct_message::Column::Error, Expr::value(error))
                .filter(direct_message::Column::Id.eq(claim.id))
        };
        match sent {
            Ok(message_id) => {
                let txn = store::begin_write(&self.db).await?;
                // A read that ran while this was sent may have stored it already: one row.
                direct_message::Entity::delete_many()
                    .filter(direct_message::Column::ConversationId.eq(c.id))
                    .filter(direct_message::Column::PlatformId.eq(message_id.as_str()))
                    .filter(direct_message::Column::Id.ne(claim.id))
                    .exec(&txn)
                    .await?;
                settle(SENT, Some(message_id), None).exec(&txn).await?;
                activity::record(
                    &txn,
                    ctx.workspace_id(),
                    Some(actor),
                    activity::Entry {
                        action: "message.sent",
                        object_type: "conversation",
                        object_id: Some(c.id),
                        summary: "replied to a direct message on Instagram".to_owned(),
                    },
                )
                .await?;
                txn.commit().await?;
                Ok(Sent::Posted)
            }
            Err(MessageError::Unavailable {
                reason,
                maybe_done: true,
            }) => {
                let txn = store::begin_write(&self.db).await?;
                settle(
                    UNCONFIRMED,
                    None,
                    Some(format!(
                        "Instagram did not answer ({reason}); the reply may be there. The next \
                         read of the conversation shows it if it is."
                    )),
                )
                .exec(&txn)
                .await?;
                activity::record(
                    &txn,
                    ctx.workspace_id(),
                    Some(actor),
                    activity::Entry {
                        action: "message.unconfirmed",
                        object_type: "conversation",
                        object_id: Some(c.id),
                        summary: "sent a direct message on Instagram that Instagram did not \
                                  confirm"
                            .to_owned(),
                    },
                )
                .await?;
                txn.commit().await?;
                Ok(Sent::Unconfirmed)
            }
            Err(err) => {
                let why = match &err {
                    MessageError::WindowClosed => window_closed().to_owned(),
                    MessageError::Refused(reason) => format!("Instagram refused: {reason}"),
                    MessageError::MissingPermission(which) => format!(
                        "The account was connected without the permission messages need \
                         ({which}). Connect it again, then retry."
                    ),
                    MessageError::TokenExpired => "Instagram no longer accepts this account's \
                         authorisation. Connect it again, then retry."
                        .to_owned(),
                    MessageError::RateLimited { retry_after } => format!(
                        "Instagram's rate limit was reached. Try again in {}.",
                        crate::human_wait(*retry_after)
                    ),
                    MessageError::Unavailable { reason, .. } => format!(
                        "Instagram could not be reached ({reason}). Nothing was sent; try again."
                    ),
                };
                settle(REFUSED, None, Some(why.clone()))
                    .exec(&self.db)
                    .await?;
                Err(ServiceError::invalid("reply", why))
            }
        }
    }

    /// Sends `body` to the person of `c` through the platform.
    async fn deliver(
        &self,
        c: &conversation::Model,
        body: &str,
    ) -> std::result::Result<String, MessageError> {
        let unavailable = |reason: &str| MessageError::Unavailable {
            reason: reason.to_owned(),
            maybe_done: false,
        };
        let account = social_account::Entity::find_by_id(c.account_id)
            .one(&self.db)
            .await
            .map_err(|_| unavailable("the account could not be read"))?
            .ok_or_else(|| unavailable("the account is gone"))?;
        let adapter = self
            .messages
            .get(Platform::Instagram)
            .ok_or_else(|| unavailable("Instagram is not configured"))?;
        let tokens = self
            .tokens_of(SocialAccountId(account.id))
            .await
            .ok()
            .flatten()
            .ok_or(MessageError::TokenExpired)?;
        let who = account_ref(&account, Platform::Instagram);
        adapter
            .send(&who, &tokens.access, &c.person_platform_id, body)
            .await
    }
}

fn window_closed() -> &'static str {
    "Instagram's reply window has closed: a business may answer only within 24 hours of the \
     person's last message. Their next message opens it again."
}

/// Refuses when the inbox is off (read under the caller's lock).
async fn inbox_is_on<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<()> {
    let on = workspace::Entity::find_by_id(ctx.workspace.id)
        .one(conn)
        .await?
        .is_some_and(|w| w.inbox_on_at.is_some());
    if on {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "The inbox is off in this workspace. An owner or admin can turn it on.".into(),
        ))
    }
}

async fn instagram_accounts<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
) -> Result<Vec<social_account::Model>> {
    Ok(social_account::Entity::find()
        .filter(social_account::Column::WorkspaceId.eq(ws.0))
        .filter(social_account::Column::Platform.eq(Platform::Instagram.slug()))
        .filter(social_account::Column::Status.eq(AccountStatus::Connected))
        .all(conn)
        .await?)
}

/// One read of an account's direct messages.
pub struct ReadMessages;

impl Job for ReadMessages {
    type Payload = MessagesOf;

    async fn run(
        services: &Services,
        _job: &job::Model,
        payload: MessagesOf,
    ) -> Result<(), JobError> {
        read(services, SocialAccountId(payload.account))
            .await
            .map_err(JobError::retry)
    }
}

async fn read(services: &Services, account_id: SocialAccountId) -> Result<()> {
    let Ok(Some((account, platform))) = connected_account(&services.db, account_id).await else {
        return Ok(());
    };
    let Some(ws_row) = workspace::Entity::find_by_id(account.workspace_id)
        .one(&services.db)
        .await?
    else {
        return Ok(());
    };
    let (Some(_), Some(adapter)) = (ws_row.inbox_on_at, services.messages.get(platform)) else {
        return Ok(());
    };
    let ws = WorkspaceId(account.workspace_id);
    match services.require_comments(ws).await {
        Ok(()) => {}
        Err(ServiceError::PlanLimit { .. }) => return Ok(()),
        Err(e) => return Err(e),
    }
    let Some(tokens) = services.tokens_of(account_id).await? else {
        return Ok(());
    };
    if missing_scopes(adapter.message_scopes(), &tokens.scopes).is_some() {
        return Ok(());
    }
    let now = crate::now();
    let last_read = conversation::Entity::find()
        .filter(conversation::Column::AccountId.eq(account.id))
        .order_by_desc(conversation::Column::LastAt)
        .one(&services.db)
        .await?
        .map(|c| c.last_at - Duration::hours(1));
    let kept_from = now - Duration::days(i64::from(Ord::max(ws_row.comments_kept_days, 1)));
    match adapter
        .conversations(&account_ref(&account, platform), &tokens.access, last_read)
        .await
    {
        Ok(inbox) => store_inbox(&services.db, &account, inbox, kept_from, now).await?,
        Err(MessageError::RateLimited { retry_after }) => {
            let at = now + Duration::from_std(retry_after).unwrap_or(QUIET_EVERY);
            return queue::plan_read::<MessagesOf, _>(&services.db, &account, Some(at)).await;
        }
        Err(e) => tracing::info!(account = account.id, "direct messages not read: {e}"),
    }
    // Sooner while someone can still be answered.
    let window = adapter.reply_window();
    let open = conversation::Entity::find()
        .filter(conversation::Column::AccountId.eq(account.id))
        .filter(conversation::Column::PersonLastAt.gt(now - window))
        .one(&services.db)
        .await?
        .is_some();
    let next = now + if open { OPEN_EVERY } else { QUIET_EVERY };
    queue::plan_read::<MessagesOf, _>(&services.db, &account, Some(next)).await
}

/// Writes what a read gave: conversations by their id, messages by theirs (once), a reply sent
/// from here whose outcome was unknown settled when it shows up; nothing older than the
/// retention period is taken in again.
async fn store_inbox<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    inbox: Inbox,
    kept_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    for c in inbox.conversations {
        let messages: Vec<_> = c
            .messages
            .iter()
            .filter(|m| m.sent_at >= kept_from)
            .collect();
        if messages.is_empty() && c.updated_at < kept_from {
            continue;
        }
        let person_last = messages
            .iter()
            .filter(|m| !m.by_account)
            .map(|m| m.sent_at)
            .max();
        conversation::Entity::insert(conversation::ActiveModel {
            workspace_id: Set(account.workspace_id),
            account_id: Set(account.id),
            platform_id: Set(c.id.clone()),
            person_platform_id: Set(c.person_id.clone()),
            person_name: Set(stored_text(&c.person_name)),
            last_at: Set(c.updated_at),
            person_last_at: Set(person_last),
            seen_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                conversation::Column::AccountId,
                conversation::Column::PlatformId,
            ])
            .update_columns([conversation::Column::PersonName])
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
        let Some(row) = conversation::Entity::find()
            .filter(conversation::Column::AccountId.eq(account.id))
            .filter(conversation::Column::PlatformId.eq(c.id.as_str()))
            .one(conn)
            .await?
        else {
            continue;
        };
        // Times only move forward (a read never takes the conversation back).
        if c.updated_at > row.last_at {
            conversation::Entity::update_many()
                .col_expr(conversation::Column::LastAt, Expr::value(c.updated_at))
                .filter(conversation::Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        }
        if let Some(at) = person_last
            && row.person_last_at.is_none_or(|known| known < at)
        {
            conversation::Entity::update_many()
                .col_expr(conversation::Column::PersonLastAt, Expr::value(at))
                .filter(conversation::Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        }
        for m in messages {
            let known = direct_message::Entity::find()
                .filter(direct_message::Column::ConversationId.eq(row.id))
                .filter(direct_message::Column::PlatformId.eq(m.id.as_str()))
                .one(conn)
                .await?
                .is_some();
            if known {
                continue;
            }
            // A reply sent from here, on its way or unconfirmed, found: that row is settled
            // (the oldest with the same text, sent before it), not a second one stored.
            if m.by_account {
                let waiting = direct_message::Entity::find()
                    .filter(direct_message::Column::ConversationId.eq(row.id))
                    .filter(direct_message::Column::State.is_in([SENDING, UNCONFIRMED]))
                    .filter(direct_message::Column::Body.eq(stored_text(m.text.trim())))
                    .filter(direct_message::Column::SentAt.lte(m.sent_at + Duration::minutes(5)))
                    .order_by_asc(direct_message::Column::Id)
                    .one(conn)
                    .await?;
                if let Some(waiting) = waiting {
                    direct_message::Entity::update_many()
                        .col_expr(direct_message::Column::State, Expr::value(SENT))
                        .col_expr(direct_message::Column::PlatformId, Expr::value(&m.id))
                        .col_expr(
                            direct_message::Column::Error,
                            Expr::value(Option::<String>::None),
                        )
                        .filter(direct_message::Column::Id.eq(waiting.id))
                        .exec(conn)
                        .await?;
                    continue;
                }
            }
            direct_message::Entity::insert(direct_message::ActiveModel {
                workspace_id: Set(account.workspace_id),
                conversation_id: Set(row.id),
                platform_id: Set(Some(m.id.clone())),
                by_account: Set(m.by_account),
                body: Set(stored_text(&m.text)),
                sent_at: Set(m.sent_at),
                sent_by: Set(None),
                state: Set(if m.by_account { SENT } else { RECEIVED }.to_owned()),
                error: Set(None),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    direct_message::Column::ConversationId,
                    direct_message::Column::PlatformId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}

/// The daily upkeep of the inbox: conversations quiet for longer than their workspace keeps
/// them are deleted with their messages, and every Instagram account of a workspace with the
/// inbox on that has no read planned gets one. Returns the conversations deleted.
pub(crate) async fn upkeep(services: &Services, now: DateTime<Utc>) -> Result<u64> {
    // Replies left `sending` by a process that stopped mid-way: the next read settles them.
    direct_message::Entity::update_many()
        .col_expr(direct_message::Column::State, Expr::value(UNCONFIRMED))
        .filter(direct_message::Column::State.eq(SENDING))
        .filter(direct_message::Column::SentAt.lt(now - Duration::minutes(10)))
        .exec(&services.db)
        .await?;
    let mut purged = 0;
    let holders: Vec<i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::WorkspaceId)
        .distinct()
        .into_tuple()
        .all(&services.db)
        .await?;
    for ws in holders {
        let Some(w) = workspace::Entity::find_by_id(ws).one(&services.db).await? else {
            continue;
        };
        let cutoff = now - Duration::days(i64::from(Ord::max(w.comments_kept_days, 1)));
        purged += conversation::Entity::delete_many()
            .filter(conversation::Column::WorkspaceId.eq(ws))
            .filter(conversation::Column::LastAt.lt(cutoff))
            .exec(&services.db)
            .await?
            .rows_affected;
    }
    let on: Vec<i64> = workspace::Entity::find()
        .filter(workspace::Column::InboxOnAt.is_not_null())
        .all(&services.db)
        .await?
        .into_iter()
        .map(|w| w.id)
        .collect();
    for ws in on {
        for account in instagram_accounts(&services.db, WorkspaceId(ws)).await? {
            if !queue::is_planned::<_, MessagesOf>(
                &services.db,
                &<MessagesOf as queue::AccountRead>::subject(account.id),
            )
            .await?
            {
                queue::plan_read::<MessagesOf, _>(&services.db, &account, Some(now)).await?;
            }
        }
    }
    Ok(purged)
}
