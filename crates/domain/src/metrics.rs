//! Metrics read back from the platforms: the normalised set every platform's figures are mapped
//! into, the platform-specific ones kept beside them, the two kinds of value (a day's value and
//! a lifetime total, never added together), and the age-decayed plan by which a published post
//! is looked at again.

use crate::content::Platform;
use chrono::{DateTime, Duration, Utc};

/// A metric in the set shared by every platform. A platform's own metrics (X's quotes,
/// Instagram's profile link taps) are kept as `<platform>.<name>` and shown as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// People following the account (a lifetime total, as of a moment).
    Followers,
    /// New followers on a day.
    Follows,
    /// Times the content was seen (views or impressions, as the platform counts them).
    Views,
    /// Distinct people who saw it.
    Reach,
    /// Likes or reactions.
    Reactions,
    Comments,
    /// Shares, reposts, retweets.
    Shares,
    /// Saves and bookmarks.
    Saves,
    Clicks,
    VideoViews,
    /// Interactions of every kind, as the platform totals them.
    Engagement,
}

impl Metric {
    /// A post's interactions: its reactions, comments, shares and saves.
    pub const INTERACTIONS: [Metric; 4] = [
        Metric::Reactions,
        Metric::Comments,
        Metric::Shares,
        Metric::Saves,
    ];

    /// The interactions among `totals` (metric key → lifetime total); none when it holds none
    /// of them.
    pub fn interactions_of(totals: &std::collections::BTreeMap<String, i64>) -> Option<i64> {
        let present: Vec<i64> = Self::INTERACTIONS
            .iter()
            .filter_map(|m| totals.get(m.key()).copied())
            .collect();
        (!present.is_empty()).then(|| present.iter().sum())
    }

    pub const ALL: [Metric; 11] = [
        Metric::Followers,
        Metric::Follows,
        Metric::Views,
        Metric::Reach,
        Metric::Reactions,
        Metric::Comments,
        Metric::Shares,
        Metric::Saves,
        Metric::Clicks,
        Metric::VideoViews,
        Metric::Engagement,
    ];

    /// The key stored and used in exports.
    pub fn key(self) -> &'static str {
        match self {
            Self::Followers => "followers",
            Self::Follows => "follows",
            Self::Views => "views",
            Self::Reach => "reach",
            Self::Reactions => "reactions",
            Self::Comments => "comments",
            Self::Shares => "shares",
            Self::Saves => "saves",
            Self::Clicks => "clicks",
            Self::VideoViews => "video_views",
            Self::Engagement => "engagement",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Followers => "Followers",
            Self::Follows => "New followers",
            Self::Views => "Views",
            Self::Reach => "Reach",
            Self::Reactions => "Reactions",
            Self::Comments => "Comments",
            Self::Shares => "Shares",
            Self::Saves => "Saves",
            Self::Clicks => "Clicks",
            Self::VideoViews => "Video views",
            Self::Engagement => "Engagement",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// The "high-intent" interactions (a save, a share, a comment says more than a view).
    pub fn high_intent(self) -> bool {
        matches!(self, Self::Saves | Self::Shares | Self::Comments)
    }
}

/// The key of a platform's own metric: `instagram.profile_links_taps`.
pub fn platform_key(platform: Platform, name: &str) -> String {
    format!("{}.{name}", platform.slug())
}

/// How a shown metric reads: the normalised label, or the platform's own name with the
/// platform ("X: quotes").
pub fn label_of(key: &str) -> String {
    if let Some(metric) = Metric::parse(key) {
        return metric.label().to_owned();
    }
    match key.split_once('.') {
        Some((platform, name)) => {
            let platform = Platform::parse(platform)
                .ok()
                .map(|p| p.label().to_owned())
                .unwrap_or_else(|| platform.to_owned());
            format!("{platform}: {}", name.replace(['_', '.'], " "))
        }
        None => key.replace('_', " "),
    }
}

/// What a stored value is: the value of one day, or a running total as of a moment. The two are
/// kept apart and never added together (a lifetime total added to daily values counts the same
/// interactions twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Day,
    Lifetime,
}

impl Span {
    pub fn key(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Lifetime => "lifetime",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "day" => Some(Self::Day),
            "lifetime" => Some(Self::Lifetime),
            _ => None,
        }
    }
}

/// When a post published at `published_at`, last looked at `last` (if ever), is due to be
/// looked at again: hourly for its first 48 hours, daily to 30 days, weekly to 90 days, and
/// never after (its figures have settled).
pub fn next_look(
    published_at: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let Some(last) = last else {
        return Some(published_at);
    };
    let age = last - published_at;
    let every = if age < Duration::hours(48) {
        Duration::hours(1)
    } else if age < Duration::days(30) {
        Duration::days(1)
    } else if age < Duration::days(90) {
        Duration::weeks(1)
    } else {
        return None;
    };
    Some(last + every)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn posts_are_looked_at_less_often_as_they_age() {
        let published = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(next_look(published, None), Some(published));
        let h = Duration::hours;
        assert_eq!(
            next_look(published, Some(published + h(3))),
            Some(published + h(4))
        );
        assert_eq!(
            next_look(published, Some(published + h(47))),
            Some(published + h(48))
        );
        assert_eq!(
            next_look(published, Some(published + h(48))),
            Some(published + h(72))
        );
        let d = Duration::days;
        assert_eq!(
            next_look(published, Some(published + d(30))),
            Some(published + d(37))
        );
        assert_eq!(next_look(published, Some(published + d(90))), None);
    }

    #[test]
    fn keys_and_labels() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.key()), Some(m));
        }
        assert_eq!(label_of("saves"), "Saves");
        assert_eq!(
            platform_key(Platform::Instagram, "profile_links_taps"),
            "instagram.profile_links_taps"
        );
        assert_eq!(
            label_of("instagram.profile_links_taps"),
            "Instagram: profile links taps"
        );
        assert_eq!(label_of("x.quotes"), "X: quotes");
        assert!(Metric::Saves.high_intent() && !Metric::Views.high_intent());
        assert_eq!(Span::parse(Span::Day.key()), Some(Span::Day));
        assert_eq!(Span::parse("total"), None);
    }
}
