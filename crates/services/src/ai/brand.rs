//! A workspace's brand profile: what the AI is told about the brand in every prompt of that
//! workspace. Owners and admins edit it; every member reads it; each change is logged.

use crate::workspaces::{Membership, lock_as_member};
use crate::{Result, ServiceError, Services, activity};
use domain::Role;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use store::entities::{brand_profile, user};

/// The profile's fields as typed (every one may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandProfile {
    pub name: String,
    pub about: String,
    pub audience: String,
    pub voice: String,
    pub words_to_use: String,
    pub words_to_avoid: String,
    /// Example posts, separated by blank lines.
    pub examples: String,
}

/// The longest single-line field.
pub const MAX_NAME: usize = 120;
/// The longest of the other fields.
pub const MAX_FIELD: usize = 1_000;
/// The longest examples (several posts).
pub const MAX_EXAMPLES: usize = 4_000;

impl BrandProfile {
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|(_, _, v)| v.trim().is_empty())
    }

    /// (form field, label, value), in the order of the form.
    pub fn fields(&self) -> [(&'static str, &'static str, &str); 7] {
        [
            ("name", "Brand name", &self.name),
            ("about", "What the brand does", &self.about),
            ("audience", "Audience", &self.audience),
            ("voice", "Voice", &self.voice),
            ("words_to_use", "Words to use", &self.words_to_use),
            ("words_to_avoid", "Words to avoid", &self.words_to_avoid),
            ("examples", "Example posts", &self.examples),
        ]
    }

    fn from_row(row: brand_profile::Model) -> Self {
        BrandProfile {
            name: row.name,
            about: row.about,
            audience: row.audience,
            voice: row.voice,
            words_to_use: row.words_to_use,
            words_to_avoid: row.words_to_avoid,
            examples: row.examples,
        }
    }

    /// Trimmed, line breaks as LF, checked: no control characters other than line breaks and
    /// tabs, the name on one line, each field within its length.
    fn checked(&self) -> Result<BrandProfile> {
        let mut errors = Vec::new();
        let clean = |field: &'static str,
                     label: &str,
                     raw: &str,
                     max: usize,
                     errors: &mut Vec<(String, String)>| {
            let value = raw.replace("\r\n", "\n").trim().to_owned();
            let chars = value.chars().count();
            if chars > max {
                errors.push((
                    field.to_owned(),
                    format!("{label} can be at most {max} characters long (this has {chars})."),
                ));
            } else if value
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
                || (field == "name" && value.contains('\n'))
            {
                errors.push((
                    field.to_owned(),
                    format!("{label} cannot contain control characters."),
                ));
            }
            value
        };
        let profile = BrandProfile {
            name: clean("name", "The brand name", &self.name, MAX_NAME, &mut errors),
            about: clean(
                "about",
                "What the brand does",
                &self.about,
                MAX_FIELD,
                &mut errors,
            ),
            audience: clean(
                "audience",
                "The audience",
                &self.audience,
                MAX_FIELD,
                &mut errors,
            ),
            voice: clean("voice", "The voice", &self.voice, MAX_FIELD, &mut errors),
            words_to_use: clean(
                "words_to_use",
                "Words to use",
                &self.words_to_use,
                MAX_FIELD,
                &mut errors,
            ),
            words_to_avoid: clean(
                "words_to_avoid",
                "Words to avoid",
                &self.words_to_avoid,
                MAX_FIELD,
                &mut errors,
            ),
            examples: clean(
                "examples",
                "Example posts",
                &self.examples,
                MAX_EXAMPLES,
                &mut errors,
            ),
        };
        if errors.is_empty() {
            Ok(profile)
        } else {
            Err(ServiceError::Fields(errors))
        }
    }
}

/// The stored profile of a workspace (empty when none was saved).
pub(crate) async fn profile_of<C: ConnectionTrait>(
    conn: &C,
    ws: domain::WorkspaceId,
) -> Result<(BrandProfile, Option<brand_profile::Model>)> {
    let row = brand_profile::Entity::find()
        .filter(brand_profile::Column::WorkspaceId.eq(ws.0))
        .one(conn)
        .await?;
    Ok((
        row.clone().map(BrandProfile::from_row).unwrap_or_default(),
        row,
    ))
}

impl Services {
    /// The workspace's brand profile, for any member.
    pub async fn brand_profile(&self, ctx: &Membership) -> Result<BrandProfile> {
        Ok(profile_of(&self.db, ctx.workspace_id()).await?.0)
    }

    /// Saves the brand profile (owners and admins); logs which fields changed. Returns whether
    /// anything changed.
    pub async fn save_brand_profile(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        input: &BrandProfile,
    ) -> Result<bool> {
        let profile = input.checked()?;
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        if !Role::parse(&me.role).is_ok_and(|r| r.can_manage_members()) {
            return Err(ServiceError::Forbidden(
                "Only owners and admins can change the brand profile; every member can read it."
                    .into(),
            ));
        }
        let (before, row) = profile_of(&txn, ctx.workspace_id()).await?;
        let changed: Vec<&str> = before
            .fields()
            .iter()
            .zip(profile.fields().iter())
            .filter(|(a, b)| a.2 != b.2)
            .map(|(_, b)| b.1)
            .collect();
        if changed.is_empty() {
            return Ok(false);
        }
        let now = crate::now();
        let mut active: brand_profile::ActiveModel = match row {
            Some(row) => row.into(),
            None => brand_profile::ActiveModel {
                workspace_id: Set(ctx.workspace.id),
                ..Default::default()
            },
        };
        active.name = Set(profile.name.clone());
        active.about = Set(profile.about.clone());
        active.audience = Set(profile.audience.clone());
        active.voice = Set(profile.voice.clone());
        active.words_to_use = Set(profile.words_to_use.clone());
        active.words_to_avoid = Set(profile.words_to_avoid.clone());
        active.examples = Set(profile.examples.clone());
        active.updated_by = Set(Some(actor.id));
        active.updated_at = Set(now);
        active.save(&txn).await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: "brand.updated",
                object_type: "brand_profile",
                object_id: Some(ctx.workspace.id),
                summary: format!(
                    "changed the brand profile: {}",
                    changed
                        .iter()
                        .map(|c| c.to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}
