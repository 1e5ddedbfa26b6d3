//! Internal notes on a post: the team's discussion of it, never published, and the members a
//! note mentions, who are told in the app and by e-mail.
//!
//! Who may do what:
//! - every member reads a post's notes, and every member writes them, viewers too: a note
//!   changes nothing that is published, and a viewer (a client or a stakeholder) is often
//!   exactly who has something to say about a post;
//! - a note's author deletes it; owners and admins delete any note;
//! - writing a note is team collaboration, which the workspace's plan must include (reading
//!   and deleting are not refused on a plan without it, so a workspace that moved down keeps
//!   its discussion and can clean it up).
//!
//! Mentions: the note form offers each other member as a checkbox, and `@Display Name` in the
//! text mentions a member too (the rule is in `domain::notes`). Everyone mentioned who is still
//! a member, other than the note's author, gets an in-app notification and an e-mail. Adding or
//! deleting a note is in the activity log.

use super::{excerpt, log_post, post_in};
use crate::notifications::{self, Notice, NotificationKind};
use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_member, names_of, role_of};
use crate::{Result, ServiceError, Services, emails};
use domain::notes::{NoteText, mentioned};
use domain::plans::Feature;
use domain::{NoteId, PostId, UserId, WorkspaceId};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use store::entities::{membership, post_note, user};

/// A note as the post's page shows it.
#[derive(Debug, Clone)]
pub struct NoteLine {
    pub note: post_note::Model,
    /// Its author's name; none when their account is gone.
    pub author: Option<String>,
    /// Whether the reader may delete it.
    pub deletable: bool,
}

/// A note just added, and whom it told.
#[derive(Debug, Clone)]
pub struct Added {
    pub note: post_note::Model,
    /// The names of the members who were notified.
    pub notified: Vec<String>,
}

/// The path of a note on its post's page.
pub fn note_path(ws: WorkspaceId, post: PostId, note: i64) -> String {
    format!("/w/{}/posts/{}#note-{note}", ws.0, post.0)
}

impl Services {
    /// Adds a note to `post_id`, written by `actor`, and tells the members it mentions: those
    /// ticked in `notify` (user ids; each must be a member) and those named as `@Name` in the
    /// text. The author is never told of their own note.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0))]
    pub async fn add_note(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        body: &str,
        notify: &[UserId],
    ) -> Result<Added> {
        let ws = ctx.workspace_id();
        let text = NoteText::parse(body).map_err(|e| ServiceError::invalid("note_body", e.0))?;
        let txn = store::begin_write(&self.db).await?;
        lock_as_member(&txn, ctx).await?;
        self.entitle(&txn, ws, Need::Feature(Feature::TeamCollaboration))
            .await?;
        let post = post_in(&txn, ws, post_id).await?;
        let members = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .find_also_related(user::Entity)
            .all(&txn)
            .await?;
        let people: Vec<user::Model> = members.into_iter().filter_map(|(_, u)| u).collect();
        if let Some(stranger) = notify
            .iter()
            .find(|id| !people.iter().any(|p| p.id == id.0))
        {
            return Err(ServiceError::invalid(
                "notify",
                format!("User {stranger} is not a member of this workspace."),
            ));
        }
        let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
        let named = mentioned(text.as_str(), &names);
        let told: Vec<&user::Model> = people
            .iter()
            .enumerate()
            .filter(|(i, p)| named.contains(i) || notify.iter().any(|id| id.0 == p.id))
            .map(|(_, p)| p)
            .filter(|p| p.id != actor.id)
            .collect();
        let note = post_note::ActiveModel {
            workspace_id: Set(ws.0),
            post_id: Set(post.id),
            author_id: Set(Some(actor.id)),
            body: Set(text.as_str().to_owned()),
            created_at: Set(crate::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let about = excerpt(&post.body);
        let path = note_path(ws, post_id, note.id);
        let notice = Notice {
            kind: NotificationKind::Mention,
            actor: Some(UserId(actor.id)),
            summary: format!("mentioned you in a note on “{about}”"),
            link: path.clone(),
            object_type: "post_note",
            object_id: note.id,
        };
        for person in &told {
            notifications::notify(&txn, UserId(person.id), ws, &notice).await?;
            let email = emails::mentioned_in_note(
                &person.email,
                &person.name,
                &actor.name,
                &ctx.workspace.name,
                &about,
                text.as_str(),
                &format!("{}{path}", self.base_url),
            );
            emails::queue(&txn, email, Some(UserId(person.id))).await?;
        }
        let notified: Vec<String> = told.iter().map(|p| p.name.clone()).collect();
        let mentions = if notified.is_empty() {
            String::new()
        } else {
            format!(", mentioning {}", notified.join(", "))
        };
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.note_added",
            post_id,
            format!("added a note to the post “{about}”{mentions}"),
        )
        .await?;
        txn.commit().await?;
        Ok(Added { note, notified })
    }

    /// The notes on `post_id`, oldest first, as `reader` (a member: `ctx`) sees them.
    pub async fn notes_of(
        &self,
        ctx: &Membership,
        reader: &user::Model,
        post_id: PostId,
    ) -> Result<Vec<NoteLine>> {
        let ws = ctx.workspace_id();
        let notes = post_note::Entity::find()
            .filter(post_note::Column::WorkspaceId.eq(ws.0))
            .filter(post_note::Column::PostId.eq(post_id.0))
            .order_by_asc(post_note::Column::Id)
            .all(&self.db)
            .await?;
        let names = names_of(&self.db, notes.iter().filter_map(|n| n.author_id)).await?;
        let manager = ctx.role.can_manage_members();
        Ok(notes
            .into_iter()
            .map(|note| NoteLine {
                author: note.author_id.and_then(|id| names.get(&id).cloned()),
                deletable: manager || note.author_id == Some(reader.id),
                note,
            })
            .collect())
    }

    /// Deletes note `note_id` of `post_id`: its author may, and owners and admins may delete
    /// anyone's. The notifications it caused go with it.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, post = post_id.0, note = note_id.0))]
    pub async fn delete_note(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        note_id: NoteId,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        let post = post_in(&txn, ws, post_id).await?;
        let note = post_note::Entity::find_by_id(note_id.0)
            .filter(post_note::Column::WorkspaceId.eq(ws.0))
            .filter(post_note::Column::PostId.eq(post.id))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let own = note.author_id == Some(actor.id);
        if !own && !role_of(&me.role)?.can_manage_members() {
            return Err(ServiceError::Forbidden(
                "Only the note's author, owners and admins can delete a note.".into(),
            ));
        }
        post_note::Entity::delete_by_id(note.id).exec(&txn).await?;
        notifications::withdraw(&txn, "post_note", [note.id]).await?;
        let whose = if own {
            "their note".to_owned()
        } else {
            let author = match note.author_id {
                Some(id) => names_of(&txn, [id]).await?.remove(&id),
                None => None,
            };
            format!(
                "a note by {}",
                author.as_deref().unwrap_or("a former member")
            )
        };
        log_post(
            &txn,
            ws,
            Some(actor),
            "post.note_deleted",
            post_id,
            format!("deleted {whose} on the post “{}”", excerpt(&post.body)),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
