//! What every page's frame shows: the signed-in person, their workspaces (the switcher), the
//! current workspace, the flash message, and the CSRF token for the page's forms.

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::i18n::{self, ConsentText};
use domain::consent::{Category, ConsentChoice};
use domain::{Language, Role, UserId};
use services::workspaces::Membership;

#[derive(Debug, Clone)]
pub struct UserView {
    pub name: String,
    pub email: String,
    pub verified: bool,
    /// An administrator of the instance (`[admin] emails`): the header links to their pages.
    pub admin: bool,
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

#[derive(Clone)]
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
    pub lang: Language,
    /// The cookie banner, when this browser has not chosen yet.
    pub banner: Option<Banner>,
    /// The consent in effect (for the cookie page's toggles).
    pub consent: ConsentChoice,
    /// Optional tags (script URLs) that the consent in effect allows.
    pub tags: Vec<String>,
    /// Updated policies wait for the person's acceptance.
    pub policies_pending: bool,
    /// The platforms are the built-in simulator.
    pub sandbox: bool,
    /// Plans are on (`[billing]`): each workspace has a billing page and there is a pricing page.
    pub plans: bool,
    /// Plans are sold through PayPal (in the sandbox: its simulator).
    pub paypal: bool,
    /// An AI provider is configured: each workspace has an AI page.
    pub ai: bool,
    /// What happened while the person was away (a workspace of theirs deleted), said once.
    pub notices: Vec<String>,
    /// The person's unread notifications in the current workspace.
    pub unread: u64,
}

/// What the cookie banner shows.
#[derive(Clone)]
pub struct Banner {
    pub text: &'static ConsentText,
    pub gpc_honoured: bool,
    /// Where the banner's form returns to.
    pub back: String,
    pub categories: [Category; 3],
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
            lang: Language::English,
            banner: None,
            consent: ConsentChoice::REJECT,
            tags: Vec::new(),
            policies_pending: false,
            sandbox: false,
            plans: false,
            paypal: false,
            ai: false,
            notices: Vec::new(),
            unread: 0,
        }
    }

    /// The frame of a page shown to someone outside the workspace by a secret link: the form's
    /// CSRF token and the flash, and nothing else (no one's name or workspaces, no consent
    /// banner, no tags, whoever opens it).
    pub fn outside(ctx: &RequestCtx, title: &str) -> Self {
        let mut layout = Self::bare(title);
        layout.csrf = ctx.csrf.clone();
        layout.flash = ctx.flash.map(|f| f.message_in(ctx.lang));
        layout
    }

    /// The frame for this request, with the switcher's workspaces read with the session.
    pub async fn new(state: &AppState, ctx: &RequestCtx, title: &str) -> AppResult<Self> {
        Ok(Self::framed(state, ctx, title, &ctx.memberships))
    }

    /// The frame for a page of the member's workspace, built from what the extractor loaded.
    pub fn for_member(state: &AppState, m: &WorkspaceMember, title: &str) -> Self {
        let mut layout = Self::framed(state, &m.ctx, title, &m.memberships);
        layout.current = Some(WorkspaceLink::from(&m.membership));
        layout.unread = m.unread;
        layout
    }

    fn framed(state: &AppState, ctx: &RequestCtx, title: &str, memberships: &[Membership]) -> Self {
        let mut layout = Self::bare(title);
        layout.bare = false;
        layout.csrf = ctx.csrf.clone();
        layout.flash = ctx.flash.map(|f| f.message_in(ctx.lang));
        layout.outbox = state.config.outbox.clone();
        layout.sandbox = state.services.sandbox;
        layout.plans = state.services.billing.is_on();
        layout.paypal = state.services.billing.paypal.is_some();
        layout.ai = state.services.ai.is_some();
        layout.lang = ctx.lang;
        layout.policies_pending = !ctx.pending_policies.is_empty();
        layout.consent = ctx.consent.effective;
        layout.banner = ctx.consent.show_banner().then(|| Banner {
            text: i18n::consent(ctx.lang),
            gpc_honoured: ctx.consent.gpc_honoured,
            back: ctx.here.clone(),
            categories: Category::ALL,
        });
        for (category, tag) in [
            (Category::Analytics, &state.config.analytics_script),
            (Category::Marketing, &state.config.marketing_script),
        ] {
            if let Some(url) = tag
                && ctx.consent.effective.allows(category)
            {
                layout.tags.push(url.clone());
            }
        }
        if let Some(auth) = &ctx.auth {
            layout.user = Some(UserView {
                name: auth.user.name.clone(),
                email: auth.user.email.clone(),
                verified: auth.user.email_verified_at.is_some(),
                admin: state.services.is_admin(&auth.user),
            });
            layout.workspaces = memberships.iter().map(WorkspaceLink::from).collect();
        }
        layout
    }

    /// Whether the consent in effect allows `category` (for the toggles).
    pub fn allowed(&self, category: &Category) -> bool {
        self.consent.allows(*category)
    }

    /// A category's name in this page's language.
    pub fn category_name(&self, category: &Category) -> &'static str {
        category.name(self.lang)
    }

    /// A category's description in this page's language.
    pub fn category_text(&self, category: &Category) -> &'static str {
        category.description(self.lang)
    }

    /// Takes the notices waiting for the signed-in person into this page (they are not shown
    /// again). For the pages people land on: the dashboard and "Create your first workspace".
    pub async fn take_notices(&mut self, state: &AppState, ctx: &RequestCtx) -> AppResult<()> {
        if let Some(auth) = ctx.auth.as_ref().filter(|_| ctx.notices_waiting) {
            let tz = domain::Timezone::parse(&auth.user.timezone)
                .unwrap_or_else(|_| domain::Timezone::utc());
            self.notices = state
                .services
                .take_notices(UserId(auth.user.id))
                .await?
                .iter()
                .map(|n| n.text(tz))
                .collect();
        }
        Ok(())
    }

    pub fn can_manage(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.role.can_manage_members())
    }
}
