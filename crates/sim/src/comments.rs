//! The conversation under published posts, for the comments workspace: comments (and replies)
//! that people leave, the account's own replies, and what the account hid or deleted.
//!
//! People's comments arrive on every published post by themselves, as a deterministic function
//! of the post's id and its age on the simulator's clock ([`Simulator::now`],
//! [`Simulator::advance_clock`]): a few in the first hours, fewer later, none after two days.
//! Their authors and texts come from small fixed lists (some texts ask a question, some
//! complain of a "refund" or something "broken", some want to "order" or "buy"), and their ids
//! are stable, so a read repeated later gives the same comments plus the newer ones. Tests that
//! want exact threads turn the arrivals off ([`Simulator::set_comments_auto`]) and add comments
//! one by one ([`Simulator::add_comment`]).
//!
//! The account's first comments (kept by the publishing routes) are part of the thread, as the
//! account's own comments. Hiding and deleting are flags over all of them; a deleted comment and
//! the replies under it are left out of every read, but [`Simulator::comments_on`] still shows
//! them.
//!
//! This file holds the platform-neutral model; each platform's routes (in its answer shapes,
//! with its permissions and refusals) are in `facebook/comments.rs`, `instagram/comments.rs`,
//! `x/comments.rs` and `linkedin/comments.rs`.

use crate::Simulator;
use crate::metrics::seed;
use chrono::{DateTime, Duration, Utc};
use domain::Platform;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// A comment under a post, as the simulator keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimComment {
    pub platform: Platform,
    /// The post it is under.
    pub post_id: String,
    /// Its id in the platform's shape (Facebook `{post}_{n}`, LinkedIn's comment URN, a number
    /// elsewhere).
    pub id: String,
    /// The comment it answers; none for a comment on the post itself.
    pub parent_id: Option<String>,
    /// The author at the platform (LinkedIn: a person's or an organisation's URN).
    pub author_id: String,
    /// The author's name (Facebook, LinkedIn) or handle (Instagram, X).
    pub author_name: String,
    pub text: String,
    /// By the simulator's clock.
    pub created_at: DateTime<Utc>,
    /// Written by the account that published the post.
    pub by_account: bool,
    pub hidden: bool,
    pub deleted: bool,
}

/// People who comment.
const NAMES: [&str; 8] = [
    "Maya Chen",
    "Liam Byrne",
    "Sofia Rossi",
    "Noah Fischer",
    "Amara Okafor",
    "Lucas Martin",
    "Yuki Tanaka",
    "Elena Petrova",
];

/// What they write.
const TEXTS: [&str; 12] = [
    "Love this!",
    "What time do you open on Sundays?",
    "Mine arrived broken, can I get a refund?",
    "How do I order one of these?",
    "Where can I buy this?",
    "Great work, as always.",
    "Is this still available?",
    "I asked for a refund two weeks ago and heard nothing.",
    "Beautiful.",
    "Do you ship abroad?",
    "The last one I got was broken.",
    "I want to buy two. Do you have them in blue?",
];

/// The most comments that arrive by themselves on one post.
const MOST_ARRIVALS: u64 = 8;

/// What the simulator keeps beyond the arrivals it computes.
#[derive(Default)]
struct Store {
    /// Automatic arrivals switched off.
    manual: bool,
    /// Comments added by tests and the account's replies.
    added: Vec<SimComment>,
    /// Hidden (or shown again) comments, by platform and id.
    hidden: HashMap<(Platform, String), bool>,
    deleted: HashSet<(Platform, String)>,
}

fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// A person's handle from their name (`Maya Chen` → `maya.chen`).
pub(crate) fn handle(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', ".")
}

/// How a comment's number is written as its id on `platform`.
pub(crate) fn shaped_id(platform: Platform, post_id: &str, number: &str) -> String {
    match platform {
        Platform::Facebook => {
            let post = post_id.rsplit('_').next().unwrap_or(post_id);
            format!("{post}_{number}")
        }
        Platform::LinkedIn => format!("urn:li:comment:({post_id},{number})"),
        _ => number.to_owned(),
    }
}

/// An X post id made at `at`: X's ids grow with time (milliseconds since X's epoch, shifted
/// over 22 bits that tell apart posts of the same millisecond), which `since_id` relies on.
fn snowflake(at: DateTime<Utc>, low: u64) -> String {
    const X_EPOCH_MS: i64 = 1_288_834_974_657;
    let ms = u64::try_from(at.timestamp_millis() - X_EPOCH_MS).unwrap_or(0);
    ((ms << 22) | (low & 0x3F_FFFF)).to_string()
}

/// The author id of a person called `name` on `platform`.
fn person_id(platform: Platform, name: &str) -> String {
    let id = crate::oauth::user_id(platform, &format!("commenter/{name}"));
    if platform == Platform::LinkedIn {
        format!("urn:li:person:{id}")
    } else {
        id
    }
}

/// Everything that arrives by itself on the post `post_id` published at `published_at`, arrived
/// yet or not, oldest first.
fn arrivals(platform: Platform, post_id: &str, published_at: DateTime<Utc>) -> Vec<SimComment> {
    let slug = platform.slug();
    let count = 3 + seed(&["comments", slug, post_id]) % (MOST_ARRIVALS - 2);
    let mut out: Vec<SimComment> = Vec::new();
    for k in 0..count {
        let key = k.to_string();
        let one = |what: &str| seed(&["comment", slug, post_id, &key, what]);
        let minutes = 10 + k * k * 45 + one("when") % 30;
        let name = NAMES[(one("name") % NAMES.len() as u64) as usize];
        let text = TEXTS[(one("text") % TEXTS.len() as u64) as usize];
        let created_at = published_at + Duration::minutes(i64::try_from(minutes).unwrap_or(0));
        let number = match platform {
            Platform::X => snowflake(created_at, one("id")),
            _ => (10_000_000_000_000_000 + one("id") % 9_000_000_000_000_000).to_string(),
        };
        // Now and then, someone answers the first comment.
        let parent_id = (k > 0 && one("reply") % 4 == 0)
            .then(|| out.first().map(|first| first.id.clone()))
            .flatten();
        let author_name = match platform {
            Platform::Instagram | Platform::X => handle(name),
            _ => name.to_owned(),
        };
        out.push(SimComment {
            platform,
            post_id: post_id.to_owned(),
            id: shaped_id(platform, post_id, &number),
            parent_id,
            author_id: person_id(platform, name),
            author_name,
            text: text.to_owned(),
            created_at,
            by_account: false,
            hidden: false,
            deleted: false,
        });
    }
    out
}

/// The name the account `user_id` goes by on `platform`, as far as the simulator knows it.
fn account_name(sim: &Simulator, platform: Platform, user_id: &str) -> String {
    if platform == Platform::Facebook
        && let Some(name) = crate::facebook::pages::page_name(sim, user_id)
    {
        return name;
    }
    let state = sim.state();
    state
        .access
        .values()
        .map(|t| &t.grant)
        .find(|g| g.platform == platform && g.user_id == user_id)
        .map(|g| g.username.clone())
        .unwrap_or_else(|| user_id.to_owned())
}

/// Every comment under the post `post_id` of `platform` by now, deleted ones included, oldest
/// first.
pub(crate) fn thread(sim: &Simulator, platform: Platform, post_id: &str) -> Vec<SimComment> {
    let now = sim.now();
    let published_at = sim.published_at(platform, post_id);
    let owner = sim.post(platform, post_id).map(|p| p.user_id);
    let firsts: Vec<crate::Comment> = sim
        .state()
        .comments
        .iter()
        .filter(|c| c.platform == platform && c.post_id == post_id)
        .cloned()
        .collect();
    let store = store(sim);
    let (manual, added) = {
        let store = lock(&store);
        let added: Vec<SimComment> = store
            .added
            .iter()
            .filter(|c| c.platform == platform && c.post_id == post_id)
            .cloned()
            .collect();
        (store.manual, added)
    };
    let mut all = Vec::new();
    if let Some(at) = published_at
        && !manual
    {
        all.extend(
            arrivals(platform, post_id, at)
                .into_iter()
                .filter(|c| c.created_at <= now),
        );
    }
    for first in firsts {
        let author_name = account_name(sim, platform, &first.user_id);
        let author_id = match platform {
            Platform::LinkedIn => format!("urn:li:person:{}", first.user_id),
            _ => first.user_id.clone(),
        };
        // Facebook answered a first comment with the post's whole id in front of its number.
        let id = match platform {
            Platform::Facebook => format!("{post_id}_{}", first.id),
            _ => shaped_id(platform, post_id, &first.id),
        };
        all.push(SimComment {
            platform,
            post_id: post_id.to_owned(),
            id,
            parent_id: None,
            author_id,
            author_name,
            text: first.text,
            created_at: published_at.unwrap_or(now),
            by_account: owner.as_deref() == Some(first.user_id.as_str()),
            hidden: false,
            deleted: false,
        });
    }
    all.extend(added);
    let store = lock(&store);
    for comment in &mut all {
        let key = (platform, comment.id.clone());
        comment.hidden = store.hidden.get(&key).copied().unwrap_or(false);
        comment.deleted = store.deleted.contains(&key);
    }
    all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    all
}

/// The comments a read of the post shows: those not deleted, under no deleted comment.
pub(crate) fn visible(sim: &Simulator, platform: Platform, post_id: &str) -> Vec<SimComment> {
    let all = thread(sim, platform, post_id);
    let gone: HashSet<String> = all
        .iter()
        .filter(|c| c.deleted)
        .map(|c| c.id.clone())
        .collect();
    all.into_iter()
        .filter(|c| !c.deleted && c.parent_id.as_ref().is_none_or(|p| !gone.contains(p)))
        .collect()
}

/// The comment `id` on `platform` (deleted or not), looked for under every post of the
/// platform.
pub(crate) fn find(sim: &Simulator, platform: Platform, id: &str) -> Option<SimComment> {
    let posts: Vec<String> = {
        let state = sim.state();
        state
            .posts
            .iter()
            .filter(|p| p.platform == platform)
            .map(|p| p.id.clone())
            .collect()
    };
    // Ids that name their post are looked for there first.
    let named = match platform {
        Platform::LinkedIn => id
            .strip_prefix("urn:li:comment:(")
            .and_then(|rest| rest.rsplit_once(','))
            .map(|(post, _)| post.to_owned()),
        _ => None,
    };
    named.into_iter().chain(posts).find_map(|post| {
        thread(sim, platform, &post)
            .into_iter()
            .find(|c| c.id == id)
    })
}

/// Whether `comment` can be acted on: neither it nor the comment it answers was deleted.
pub(crate) fn live(sim: &Simulator, comment: &SimComment) -> bool {
    if comment.deleted {
        return false;
    }
    match &comment.parent_id {
        Some(parent) => find(sim, comment.platform, parent).is_some_and(|p| !p.deleted),
        None => true,
    }
}

/// Who writes a new comment.
pub(crate) struct Author {
    pub id: String,
    pub name: String,
    pub by_account: bool,
}

/// Keeps a new comment under `post_id` (answering `parent_id`, if any) written now.
pub(crate) fn keep(
    sim: &Simulator,
    platform: Platform,
    post_id: &str,
    parent_id: Option<&str>,
    author: Author,
    text: &str,
) -> SimComment {
    let number = sim.next_id();
    let now = sim.now();
    let number = match platform {
        Platform::X => snowflake(now, number.parse().unwrap_or(0)),
        _ => number,
    };
    let comment = SimComment {
        platform,
        post_id: post_id.to_owned(),
        id: shaped_id(platform, post_id, &number),
        parent_id: parent_id.map(str::to_owned),
        author_id: author.id,
        author_name: author.name,
        text: text.to_owned(),
        created_at: now,
        by_account: author.by_account,
        hidden: false,
        deleted: false,
    };
    lock(&store(sim)).added.push(comment.clone());
    comment
}

/// A list's `after` cursor (Graph's paging): where the next page starts.
pub(crate) fn cursor(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

/// Where the page a cursor names starts.
pub(crate) fn offset_of(cursor: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// Hides or shows again the comment `id`.
pub(crate) fn set_hidden(sim: &Simulator, platform: Platform, id: &str, hidden: bool) {
    lock(&store(sim))
        .hidden
        .insert((platform, id.to_owned()), hidden);
}

/// Deletes the comment `id`.
pub(crate) fn delete(sim: &Simulator, platform: Platform, id: &str) {
    lock(&store(sim)).deleted.insert((platform, id.to_owned()));
}

impl Simulator {
    /// A comment by someone called `author_name` arriving now on the post `post_id` of
    /// `platform`, on the post itself; returns its id in the platform's shape. On Instagram and
    /// X the name is used as the person's handle.
    pub fn add_comment(
        &self,
        platform: Platform,
        post_id: &str,
        author_name: &str,
        text: &str,
    ) -> String {
        let author = Author {
            id: person_id(platform, author_name),
            name: author_name.to_owned(),
            by_account: false,
        };
        keep(self, platform, post_id, None, author, text).id
    }

    /// Every comment under the post `post_id` (of whichever platform has it) so far: people's,
    /// the account's first comments and replies, with their hidden flags, deleted ones too;
    /// oldest first.
    pub fn comments_on(&self, post_id: &str) -> Vec<SimComment> {
        let platforms: Vec<Platform> = {
            let state = self.state();
            Platform::ALL
                .into_iter()
                .filter(|p| state.post_at.contains_key(&(*p, post_id.to_owned())))
                .collect()
        };
        let mut all: Vec<SimComment> = platforms
            .into_iter()
            .flat_map(|platform| thread(self, platform, post_id))
            .collect();
        // Comments added under a post the simulator does not have.
        let known: HashSet<String> = all.iter().map(|c| c.id.clone()).collect();
        let store = store(self);
        let extra: Vec<SimComment> = lock(&store)
            .added
            .iter()
            .filter(|c| c.post_id == post_id && !known.contains(&c.id))
            .cloned()
            .collect();
        all.extend(extra);
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    /// The comment `id` deleted at the platform (by its author, or by the account elsewhere).
    pub fn delete_comment_at(&self, platform: Platform, id: &str) {
        delete(self, platform, id);
    }

    /// Turns the comments that arrive by themselves on every post on or off (on by default, so
    /// the sandbox shows comments; tests of exact threads turn them off).
    pub fn set_comments_auto(&self, on: bool) {
        lock(&store(self)).manual = !on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_repeat_and_thin_out() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let one = arrivals(Platform::X, "1234", at);
        assert_eq!(one, arrivals(Platform::X, "1234", at));
        assert!((3..=MOST_ARRIVALS as usize).contains(&one.len()));
        let first_hours = one
            .iter()
            .filter(|c| c.created_at <= at + Duration::hours(4))
            .count();
        assert!(first_hours >= 3, "{one:?}");
        assert!(
            one.iter()
                .all(|c| c.created_at > at && c.created_at < at + Duration::days(2))
        );
        let ids: HashSet<&str> = one.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), one.len());
        assert_ne!(one[0].id, arrivals(Platform::X, "1235", at)[0].id);
    }

    #[test]
    fn ids_take_each_platforms_shape() {
        assert_eq!(shaped_id(Platform::Facebook, "11_22", "33"), "22_33");
        assert_eq!(
            shaped_id(Platform::LinkedIn, "urn:li:share:5", "6"),
            "urn:li:comment:(urn:li:share:5,6)"
        );
        assert_eq!(shaped_id(Platform::X, "5", "6"), "6");
    }
}
