//! An account's own posts as the platforms list them back (X's user timeline, a Facebook
//! page's posts, LinkedIn's posts by author): newest first by the simulator's clock, within a
//! time window, a page at a time. The cursor to the next page names the last post shown, so a
//! post published while a client pages through neither repeats one nor hides an older one.
//!
//! Each platform's route turns [`Listed`] posts into its own shape (`x/timeline.rs`,
//! `facebook/posts.rs`, `linkedin/posts.rs`).

use crate::{Post, Simulator};
use chrono::{DateTime, Utc};
use domain::Platform;

/// A post of the account, with when it was published (by the simulator's clock).
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub post: Post,
    pub at: DateTime<Utc>,
    /// Where it is among every post kept: later posts have larger places.
    place: usize,
}

/// The posts of `user_id` on `platform` published within `from..=until` (either open), newest
/// first.
pub(crate) fn posts_of(
    sim: &Simulator,
    platform: Platform,
    user_id: &str,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Vec<Listed> {
    let state = sim.state();
    let mut listed: Vec<Listed> = state
        .posts_at
        .get(&(platform, user_id.to_owned()))
        .into_iter()
        .flatten()
        .filter_map(|place| {
            let post = state.posts.get(*place)?;
            let at = *state.published_at.get(&(platform, post.id.clone()))?;
            Some(Listed {
                post: post.clone(),
                at,
                place: *place,
            })
        })
        .filter(|l| from.is_none_or(|from| l.at >= from) && until.is_none_or(|until| l.at <= until))
        .collect();
    listed.sort_by_key(|l| std::cmp::Reverse((l.at, l.place)));
    listed
}

/// One page of `all` (newest first): the `size` posts after the one `cursor` names (from the
/// start without one), and the cursor to the page after it when there are more. `None` for a
/// cursor this listing never gave.
pub(crate) fn page<'a>(
    all: &'a [Listed],
    cursor: Option<&str>,
    size: usize,
) -> Option<(&'a [Listed], Option<String>)> {
    let start = match cursor {
        None => 0,
        Some(raw) => {
            let (at, place) = decode(raw)?;
            all.iter()
                .position(|l| (l.at.timestamp_micros(), l.place) < (at, place))
                .unwrap_or(all.len())
        }
    };
    let end = (start + size).min(all.len());
    let shown = all.get(start..end).unwrap_or_default();
    let next = match shown.last() {
        Some(last) if end < all.len() => Some(encode(last)),
        _ => None,
    };
    Some((shown, next))
}

fn encode(last: &Listed) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "before:{}:{}",
        last.at.timestamp_micros(),
        last.place
    ))
}

fn decode(cursor: &str) -> Option<(i64, usize)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (at, place) = text.strip_prefix("before:")?.split_once(':')?;
    Some((at.parse().ok()?, place.parse().ok()?))
}
