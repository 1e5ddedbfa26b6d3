//! The list of a workspace's posts, filtered by state, account and campaign, in sections
//! (needs attention, scheduled, drafts, published), each sorted by the time that matters for
//! its posts (see `services::posts::PostGroup`), [`LIST_PAGE`] posts a page: the "Next page"
//! link carries where the next page starts (`after`) and the filters.

use super::{StateBadge, badge_at, shown_state, zone_of};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::{Query, State};
use domain::schedule;
use services::posts::{LIST_PAGE, ListCursor, PostFilter, PostGroup, PostState, PostSummary};
use store::entities::{campaign, social_account};

/// The filters of the list and the calendar, as they come in the query.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct Filters {
    pub state: String,
    pub account: String,
    pub campaign: String,
}

impl Filters {
    pub fn to_filter(&self) -> PostFilter {
        PostFilter {
            state: PostState::parse(&self.state),
            account_id: self.account.parse().ok(),
            campaign_id: self.campaign.parse().ok(),
            from: None,
            to: None,
            undated: false,
        }
    }

    /// The same filters with the state `state` instead.
    pub fn with_state(&self, state: &str) -> Self {
        Self {
            state: state.to_owned(),
            ..self.clone()
        }
    }

    /// The filters as a query string to carry into links (`&state=…`), or "".
    pub fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("state", &self.state),
            ("account", &self.account),
            ("campaign", &self.campaign),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        let q = q.finish();
        if q.is_empty() { q } else { format!("&{q}") }
    }
}

/// The filter form's choices.
pub struct FilterChoices {
    pub states: Vec<(&'static str, &'static str)>,
    pub accounts: Vec<social_account::Model>,
    pub campaigns: Vec<campaign::Model>,
    pub current: Filters,
}

impl FilterChoices {
    pub async fn load(state: &AppState, m: &WorkspaceMember, current: Filters) -> AppResult<Self> {
        let ws = m.membership.workspace_id();
        Ok(Self {
            states: PostState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label()))
                .collect(),
            accounts: state.services.accounts_of(ws).await?,
            campaigns: state.services.campaigns_of(ws).await?,
            current,
        })
    }

    pub fn state_selected(&self, s: &&str) -> bool {
        self.current.state == *s
    }

    pub fn account_selected(&self, id: &i64) -> bool {
        self.current.account == id.to_string()
    }

    pub fn campaign_selected(&self, id: &i64) -> bool {
        self.current.campaign == id.to_string()
    }

    /// The name of an account's platform, as people know it.
    pub fn platform<'a>(&self, account: &'a social_account::Model) -> &'a str {
        domain::Platform::label_of(&account.platform)
    }
}

/// A post as a line of the list or an entry of the calendar.
pub struct PostLine {
    pub id: i64,
    /// The time that matters for the post (see `PostSummary::when`), or "No time set".
    pub when: String,
    /// When it was last changed (drafts are sorted by it).
    pub edited: String,
    /// Its time of day on the calendar ("" without a time).
    pub time: String,
    pub excerpt: String,
    pub state: StateBadge,
    pub scheduled: bool,
    pub platforms: Vec<&'static str>,
    pub accounts: String,
    pub campaign: Option<String>,
    /// The campaign colour without '#', for the `c-…` class; "none" without a campaign.
    pub colour: String,
    pub local_value: String,
}

impl PostLine {
    pub fn from(summary: &PostSummary, tz: domain::Timezone) -> Self {
        let post = &summary.post;
        let now = services::now();
        let full = |t| {
            schedule::to_local(t, tz)
                .format("%a %-d %b %Y, %H:%M")
                .to_string()
        };
        let planned = post.scheduled_at.map(|t| schedule::to_local(t, tz));
        let excerpt = services::posts::excerpt(&post.body);
        Self {
            id: post.id,
            when: summary
                .when()
                .map_or_else(|| "No time set".to_owned(), full),
            edited: full(post.updated_at),
            time: planned
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            excerpt: if excerpt.is_empty() {
                "(no text yet)".into()
            } else {
                excerpt
            },
            state: badge_at(post.state, post.scheduled_at, now),
            // Movable on the calendar: scheduled, or waiting for approval.
            scheduled: [PostState::Scheduled, PostState::PendingApproval].contains(&shown_state(
                post.state,
                post.scheduled_at,
                now,
            )),
            platforms: summary
                .accounts
                .iter()
                .filter_map(|a| domain::Platform::parse(&a.platform).ok())
                .map(|p| p.label())
                .collect(),
            accounts: summary
                .accounts
                .iter()
                .map(|a| format!("@{}", a.username))
                .collect::<Vec<_>>()
                .join(", "),
            campaign: summary.campaign.as_ref().map(|c| c.name.clone()),
            colour: summary
                .campaign
                .as_ref()
                .map(|c| c.colour.trim_start_matches('#').to_owned())
                .unwrap_or_else(|| "none".into()),
            local_value: planned
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
        }
    }
}

/// One section of the list.
pub struct Section {
    pub title: &'static str,
    /// The anchor of its heading.
    pub anchor: &'static str,
    /// The heading of its time column.
    pub when_header: &'static str,
    pub drafts: bool,
    pub posts: Vec<PostLine>,
}

impl Section {
    /// The list's sections that have posts, in order; `summaries` come sorted from the service.
    fn of(summaries: &[PostSummary], tz: domain::Timezone) -> Vec<Self> {
        PostGroup::ALL
            .into_iter()
            .map(|group| Self {
                title: group.title(),
                anchor: match group {
                    PostGroup::NeedsAttention => "attention",
                    PostGroup::PendingApproval => "approval",
                    PostGroup::Scheduled => "scheduled",
                    PostGroup::Drafts => "drafts",
                    PostGroup::Published => "published",
                },
                when_header: match group {
                    PostGroup::NeedsAttention
                    | PostGroup::PendingApproval
                    | PostGroup::Scheduled => "Due",
                    PostGroup::Drafts => "Time",
                    PostGroup::Published => "Published",
                },
                drafts: group == PostGroup::Drafts,
                posts: summaries
                    .iter()
                    .filter(|s| s.group() == group)
                    .map(|s| PostLine::from(s, tz))
                    .collect(),
            })
            .filter(|section| !section.posts.is_empty())
            .collect()
    }
}

/// The list's query: the filters, and where the page starts.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    #[serde(flatten)]
    filters: Filters,
    /// After which post the page starts (a link's `ListCursor`); none: the first page.
    after: String,
}

#[derive(Template)]
#[template(path = "posts/list.html")]
struct ListPage {
    layout: Layout,
    ws: i64,
    sections: Vec<Section>,
    filters: FilterChoices,
    can_edit: bool,
    timezone: String,
    /// The first page, when this is a later one.
    first: Option<String>,
    /// The next page, when there is one.
    next: Option<String>,
    per_page: usize,
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<ListQuery>,
) -> AppResult {
    let after = match query.after.as_str() {
        "" => None,
        text => Some(ListCursor::parse(text).ok_or_else(|| {
            AppError::BadRequest(
                "This link to a page of the list is damaged. Open the list again from its first \
                 page."
                    .to_owned(),
            )
        })?),
    };
    let tz = zone_of(&m);
    let ws = m.membership.workspace.id;
    let filters = query.filters;
    let page = state
        .services
        .post_page(m.membership.workspace_id(), &filters.to_filter(), after)
        .await?;
    let filter_query = filters.query();
    render(ListPage {
        layout: Layout::for_member(&state, &m, "Posts"),
        ws,
        sections: Section::of(&page.posts, tz),
        first: after.map(|_| format!("/w/{ws}/posts{}", filter_query.replacen('&', "?", 1))),
        next: page
            .next
            .map(|c| format!("/w/{ws}/posts?after={}{filter_query}", c.encode())),
        filters: FilterChoices::load(&state, &m, filters).await?,
        can_edit: m.membership.role.can_publish(),
        timezone: tz.name().to_owned(),
        per_page: LIST_PAGE,
    })
}
