//! What every page's frame shows: the signed-in person, their workspaces (the switcher), the
//! current workspace, the flash message, and the CSRF token for the page's forms.

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use domain::Role;
use services::workspaces::Membership;

#[derive(Debug, Clone)]
pub struct UserView {
    pub name: String,
    pub email: String,
    pub verified: bool,
}

#[derive(Debug, Clone)]
pub struct WorkspaceLink {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl From<&Membership> for WorkspaceLink {
    fn from(m: &Membership) -> Self {
        Self {
            id: m.workspace.id,
            name: m.workspace.name.clone(),
            role: m.role,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub user: Option<UserView>,
    pub workspaces: Vec<WorkspaceLink>,
    pub current: Option<WorkspaceLink>,
    pub flash: Option<&'static str>,
    pub outbox: Option<String>,
    /// Built without knowing who is asking (error pages): no account links at all, rather than
    /// "Log in" shown to someone who is signed in.
    pub bare: bool,
}

impl Layout {
    /// A frame with nothing personal in it (error pages).
    pub fn bare(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            csrf: String::new(),
            user: None,
            workspaces: Vec::new(),
            current: None,
            flash: None,
            outbox: None,
            bare: true,
        }
    }

    /// The frame for this request; loads the switcher's workspaces when someone is signed in.
    pub async fn new(state: &AppState, ctx: &RequestCtx, title: &str) -> AppResult<Self> {
        let memberships = match &ctx.auth {
            Some(auth) => state.services.memberships_of(auth.user_id()).await?,
            None => Vec::new(),
        };
        Ok(Self::framed(state, ctx, title, &memberships))
    }

    /// The frame for a page of the member's workspace, built from what the extractor loaded.
    pub fn for_member(state: &AppState, m: &WorkspaceMember, title: &str) -> Self {
        let mut layout = Self::framed(state, &m.ctx, title, &m.memberships);
        layout.current = Some(WorkspaceLink::from(&m.membership));
        layout
    }

    fn framed(state: &AppState, ctx: &RequestCtx, title: &str, memberships: &[Membership]) -> Self {
        let mut layout = Self::bare(title);
        layout.bare = false;
        layout.csrf = ctx.csrf.clone();
        layout.flash = ctx.flash.map(|f| f.message());
        layout.outbox = state.config.outbox.clone();
        if let Some(auth) = &ctx.auth {
            layout.user = Some(UserView {
                name: auth.user.name.clone(),
                email: auth.user.email.clone(),
                verified: auth.user.email_verified_at.is_some(),
            });
            layout.workspaces = memberships.iter().map(WorkspaceLink::from).collect();
        }
        layout
    }

    pub fn can_manage(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.role.can_manage_members())
    }
}
