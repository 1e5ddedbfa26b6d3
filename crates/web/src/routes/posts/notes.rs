//! Notes on a post: add one (mentioning members, who are told), delete one.

use super::actions::refused;
use super::{FormPairs, post_path};
use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::routes::render;
use axum::body::Bytes;
use axum::extract::State;
use domain::{NoteId, PostId, UserId, WorkspaceId};

/// Adds a note from the post's page: its text (`body`) and the members ticked under "Notify"
/// (`notify`, user ids). A refusal shows the page again with the reason and the note as typed.
pub async fn add(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): PathIds<(WorkspaceId, PostId)>,
    body: Bytes,
) -> AppResult {
    let form = FormPairs::parse(&body);
    let ticked: Vec<i64> = form
        .all("notify")
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let notify: Vec<UserId> = ticked.iter().copied().map(UserId).collect();
    let result = state
        .services
        .add_note(
            &m.membership,
            &m.auth.user,
            post_id,
            form.get("body"),
            &notify,
        )
        .await;
    match result {
        Ok(added) => Ok(redirect_with(
            &format!("{}#note-{}", post_path(ws.0, post_id.0), added.note.id),
            Flash::NoteAdded,
        )),
        Err(err) => {
            let (mut page, status) = refused(&state, &m, post_id.0, err).await?;
            page.note_typed = form.get("body").to_owned();
            page.note_ticked = ticked;
            let mut res = render(page)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

/// Deletes a note: its author's own, or anyone's for owners and admins.
pub async fn delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id, note_id)): PathIds<(WorkspaceId, PostId, NoteId)>,
) -> AppResult {
    let result = state
        .services
        .delete_note(&m.membership, &m.auth.user, post_id, note_id)
        .await;
    match result {
        Ok(()) => Ok(redirect_with(
            &format!("{}#notes", post_path(ws.0, post_id.0)),
            Flash::NoteDeleted,
        )),
        Err(err) => {
            let (page, status) = refused(&state, &m, post_id.0, err).await?;
            let mut res = render(page)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}
