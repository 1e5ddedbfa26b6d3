//! What the composer sends, and its checks: the text against each selected platform's limits
//! (through the domain counters), the accounts, campaign and media against the workspace, and
//! the time against the author's time zone. A post is written only from a [`Checked`] input.

use crate::{Result, ServiceError};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::content::{self, Platform};
use domain::{PostId, Timezone, WorkspaceId, schedule};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::BTreeSet;
use store::entities::states::AccountStatus;
use store::entities::{campaign, media_item, post_media, social_account};

/// The longest text a post may hold at all (the largest platform limit).
pub const MAX_TEXT: usize = 63_206;

/// What to do with the post once saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Draft,
    /// At this wall-clock time in the author's time zone.
    Schedule(NaiveDateTime),
    PublishNow,
}

/// One account the post goes to, with its own text when it differs from the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInput {
    pub account_id: i64,
    pub body: Option<String>,
    /// Files for this account instead of the post's; empty means the post's.
    pub media: Vec<i64>,
}

/// A post as the composer sends it.
#[derive(Debug, Clone)]
pub struct PostInput {
    pub body: String,
    pub first_comment: Option<String>,
    pub campaign_id: Option<i64>,
    pub targets: Vec<TargetInput>,
    /// Library files, in order.
    pub media: Vec<i64>,
    pub intent: Intent,
    /// The AI generation whose suggestion the text came from (taken with "Use this"): the post
    /// records its provider and model, and who took it when. Ignored unless it is the author's
    /// own, in this workspace, and taken.
    pub ai_suggestion: Option<i64>,
}

/// Browsers send line breaks as CR LF; the product stores and publishes LF.
pub(crate) fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

/// The checked form of a post, ready to write.
pub(crate) struct Checked {
    pub(crate) body: String,
    pub(crate) first_comment: Option<String>,
    pub(crate) campaign_id: Option<i64>,
    pub(crate) targets: Vec<(social_account::Model, Option<String>, Vec<i64>)>,
    pub(crate) media: Vec<i64>,
    pub(crate) scheduled_at: Option<DateTime<Utc>>,
}

/// Checks a post against the rules and the workspace: the accounts and campaign exist there,
/// each target's text fits its platform (when the post is to be scheduled), the time is valid.
/// Collects every problem, keyed by field, so the form can show them all at once.
pub(crate) async fn check<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    input: &PostInput,
    tz: Timezone,
    now: DateTime<Utc>,
) -> Result<Checked> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let body = normalise(&input.body);
    if body.chars().count() > MAX_TEXT {
        errors.push((
            "body".into(),
            format!("A post can be at most {MAX_TEXT} characters long."),
        ));
    }
    let first_comment = input
        .first_comment
        .as_deref()
        .map(normalise)
        .filter(|c| !c.is_empty());
    let scheduled_at = match input.intent {
        Intent::Draft => None,
        Intent::PublishNow => Some(now),
        Intent::Schedule(local) => match schedule::schedule_at(local, tz, now) {
            Ok(at) => Some(at.utc),
            Err(e) => {
                errors.push(("scheduled_at".into(), e.0));
                None
            }
        },
    };
    let going_out = input.intent != Intent::Draft;

    let media_ids = dedup(&input.media);
    let wanted_files: BTreeSet<i64> = media_ids
        .iter()
        .chain(input.targets.iter().flat_map(|t| t.media.iter()))
        .copied()
        .collect();
    let files = media_item::Entity::find()
        .filter(media_item::Column::WorkspaceId.eq(ws.0))
        .filter(media_item::Column::Id.is_in(wanted_files.iter().copied()))
        .all(conn)
        .await?;
    if files.len() != wanted_files.len() {
        errors.push((
            "media".into(),
            "One of the chosen files is no longer in the media library. Choose again.".into(),
        ));
    }
    let kinds_of = |ids: &[i64]| -> Vec<domain::media::MediaType> {
        ids.iter()
            .filter_map(|id| files.iter().find(|f| f.id == *id))
            .filter_map(|f| domain::media::MediaType::from_mime(&f.mime))
            .collect()
    };

    let wanted: BTreeSet<i64> = input.targets.iter().map(|t| t.account_id).collect();
    let accounts = social_account::Entity::find()
        .filter(social_account::Column::WorkspaceId.eq(ws.0))
        .filter(social_account::Column::Id.is_in(wanted.iter().copied()))
        .all(conn)
        .await?;
    let mut targets = Vec::new();
    let mut seen = BTreeSet::new();
    for t in &input.targets {
        if !seen.insert(t.account_id) {
            continue;
        }
        let Some(account) = accounts.iter().find(|a| a.id == t.account_id) else {
            errors.push((
                "targets".into(),
                "One of the chosen accounts is no longer connected to this workspace. Reload \
                 the page and choose again."
                    .into(),
            ));
            continue;
        };
        if going_out && account.status == AccountStatus::Disconnected {
            errors.push((
                format!("target-{}", account.id),
                format!(
                    "@{} is disconnected. Reconnect it on the accounts page, or leave it out.",
                    account.username
                ),
            ));
        }
        let variant = t.body.as_deref().map(normalise).filter(|b| !b.is_empty());
        let text = effective_text(&body, variant.as_deref());
        let own_media = dedup(&t.media);
        let kinds = kinds_of(if own_media.is_empty() {
            &media_ids
        } else {
            &own_media
        });
        let field = format!("target-{}", account.id);
        let platform = Platform::parse(&account.platform).map_err(|e| anyhow::anyhow!("{e}"))?;
        if going_out {
            if text.trim().is_empty() && kinds.is_empty() {
                errors.push((
                    if variant.is_none() {
                        "body".into()
                    } else {
                        field.clone()
                    },
                    format!(
                        "Write the text to publish on {} (@{}).",
                        platform, account.username
                    ),
                ));
            } else if let Err(e) = content::check(platform, text) {
                let whose = if variant.is_some() {
                    "The text for"
                } else {
                    "The post's text is too long for"
                };
                errors.push((
                    field.clone(),
                    format!("{whose} @{} on {platform}: {}", account.username, e.0),
                ));
            }
            if let Err(e) = domain::media::check_for_platform(platform, &kinds) {
                errors.push((
                    field.clone(),
                    format!("@{} on {platform}: {}", account.username, e.0),
                ));
            }
            if let Some(comment) = &first_comment
                && let Err(e) = content::check(platform, comment)
            {
                errors.push((
                    "first_comment".into(),
                    format!("First comment on {platform}: {}", e.0),
                ));
            }
        }
        if variant
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_TEXT)
        {
            errors.push((
                field,
                format!("A post can be at most {MAX_TEXT} characters long."),
            ));
        }
        targets.push((account.clone(), variant, own_media));
    }
    if going_out && input.targets.is_empty() {
        errors.push((
            "targets".into(),
            "Choose at least one account to publish to.".into(),
        ));
    }
    if first_comment.is_some()
        && !targets.is_empty()
        && targets
            .iter()
            .all(|(account, _, _)| account.platform == Platform::TikTok.slug())
    {
        errors.push((
            "first_comment".into(),
            "TikTok's API takes no comments, so a first comment cannot go out with this post: \
             leave it empty, or add an account on another platform."
                .into(),
        ));
    }
    if let Some(id) = input.campaign_id {
        let found = campaign::Entity::find_by_id(id)
            .filter(campaign::Column::WorkspaceId.eq(ws.0))
            .one(conn)
            .await?;
        if found.is_none() {
            errors.push((
                "campaign_id".into(),
                "That campaign no longer exists. Choose another one.".into(),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Fields(errors));
    }
    Ok(Checked {
        body,
        first_comment,
        campaign_id: input.campaign_id,
        targets,
        media: media_ids,
        scheduled_at,
    })
}

/// Replaces a post's files with `media`, in that order.
pub(crate) async fn set_media<C: ConnectionTrait>(
    conn: &C,
    post_id: PostId,
    media: &[i64],
    per_account: &[(i64, Vec<i64>)],
) -> Result<()> {
    post_media::Entity::delete_many()
        .filter(post_media::Column::PostId.eq(post_id.0))
        .exec(conn)
        .await?;
    let lists = std::iter::once((None, media))
        .chain(per_account.iter().map(|(a, m)| (Some(*a), m.as_slice())));
    for (account_id, files) in lists {
        for (position, media_id) in files.iter().enumerate() {
            post_media::ActiveModel {
                post_id: Set(post_id.0),
                media_id: Set(*media_id),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                account_id: Set(account_id),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

/// The ids in their first order, without repeats.
pub(crate) fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

/// The text a target publishes: its own, or the post's base text.
pub fn effective_text<'a>(post_body: &'a str, target_body: Option<&'a str>) -> &'a str {
    target_body
        .filter(|b| !b.trim().is_empty())
        .unwrap_or(post_body)
}
