//! A campaign's returns and the UTM parameters of its links: what people enter (spend, the value
//! of a click or a conversion, conversions counted elsewhere) set against what the platforms
//! measured (interactions, link clicks). Nothing here guesses a figure that is missing: a ratio
//! without its two sides is `None`.

use crate::Invalid;
use crate::content::Platform;

/// What a campaign's report is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Entered: what the campaign cost, in cents.
    pub spend: Option<i64>,
    /// Entered: what one link click is worth, in cents.
    pub click_value: Option<i64>,
    /// Entered: conversions counted elsewhere (a shop, a sign-up form).
    pub conversions: Option<i64>,
    /// Entered: what one conversion is worth, in cents.
    pub conversion_value: Option<i64>,
    /// Measured: reactions, comments, shares and saves of the campaign's posts.
    pub interactions: i64,
    /// Measured: link clicks, where a platform reports them.
    pub clicks: Option<i64>,
}

/// A campaign's returns, each `None` when what it needs is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Returns {
    /// Cents spent per interaction.
    pub cost_per_engagement: Option<f64>,
    /// Cents spent per link click.
    pub cost_per_click: Option<f64>,
    /// The value of the clicks and conversions, in cents (what is known of it).
    pub value: Option<i64>,
    /// Value divided by spend (2.0: every cent spent brought two back).
    pub return_on_spend: Option<f64>,
}

impl Inputs {
    pub fn returns(&self) -> Returns {
        let spend = self.spend.filter(|s| *s > 0);
        let per = |count: i64| spend.filter(|_| count > 0).map(|s| s as f64 / count as f64);
        let from_clicks = match (self.clicks, self.click_value) {
            (Some(c), Some(v)) => Some(c.saturating_mul(v)),
            _ => None,
        };
        let from_conversions = match (self.conversions, self.conversion_value) {
            (Some(c), Some(v)) => Some(c.saturating_mul(v)),
            _ => None,
        };
        let value = match (from_clicks, from_conversions) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        Returns {
            cost_per_engagement: per(self.interactions),
            cost_per_click: self.clicks.and_then(per),
            value,
            return_on_spend: match (value, spend) {
                (Some(v), Some(s)) => Some(v as f64 / s as f64),
                _ => None,
            },
        }
    }
}

/// An amount typed by a person ("1,250.50", "$ 80", "19,99" is refused as ambiguous) in cents;
/// empty is `None`.
pub fn parse_amount(raw: &str) -> Result<Option<i64>, Invalid> {
    let cleaned: String = raw
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let refused = || Invalid::new("Enter an amount such as 1250 or 1,250.50, or leave it empty.");
    // Commas only as thousands separators, before a decimal point.
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() > 1;
    if grouped
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return Err(refused());
    }
    let digits: String = groups.concat();
    if digits.is_empty()
        || fraction.len() > 2
        || !digits
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(refused());
    }
    let whole: i64 = digits.parse().map_err(|_| refused())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| refused())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .filter(|c| *c <= 1_000_000_000_000)
        .map(Some)
        .ok_or_else(|| Invalid::new("That amount is too large."))
}

/// A count typed by a person (conversions); empty is `None`.
pub fn parse_count(raw: &str) -> Result<Option<i64>, Invalid> {
    let cleaned: String = raw.trim().chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=1_000_000_000).contains(n))
        .map(Some)
        .ok_or_else(|| Invalid::new("Enter a whole number such as 42, or leave it empty."))
}

/// The currencies a campaign's amounts can be in, with their symbols where one is common.
pub const CURRENCIES: [(&str, &str); 8] = [
    ("USD", "$"),
    ("EUR", "€"),
    ("GBP", "£"),
    ("CHF", "CHF "),
    ("CAD", "CA$"),
    ("AUD", "A$"),
    ("SEK", "SEK "),
    ("JPY", "¥"),
];

/// "$1,250.50", "€80.00", "CHF 3.20": an amount in cents as people read it.
pub fn money(cents: i64, currency: &str) -> String {
    let symbol = CURRENCIES
        .iter()
        .find(|(code, _)| *code == currency)
        .map(|(_, s)| (*s).to_owned())
        .unwrap_or_else(|| format!("{currency} "));
    let sign = if cents < 0 { "−" } else { "" };
    let abs = cents.unsigned_abs();
    format!(
        "{sign}{symbol}{}.{:02}",
        crate::plans::thousands(abs / 100),
        abs % 100
    )
}

/// A campaign's `utm_campaign` value from what a person typed: lower case, letters, digits,
/// `-`, `_` and `.`, spaces turned into `-`; at most 60 characters.
pub fn utm_value(raw: &str) -> Result<String, Invalid> {
    let value: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    if value.is_empty()
        || value.chars().count() > 60
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Invalid::new(
            "Use letters, digits, dashes, dots or underscores (at most 60), such as spring-sale.",
        ));
    }
    Ok(value)
}

/// `text` with UTM parameters added to each web link: `utm_source` the platform,
/// `utm_medium=social` and `utm_campaign`. A link that already has one of them keeps its own and
/// gets only the others; a fragment stays last; punctuation that ends a sentence after a link is
/// not taken as part of it.
pub fn tag_links(text: &str, platform: Platform, campaign: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let mut link = &tail[..end];
        // Sentence punctuation and a closing bracket without its opening one end the link.
        while let Some(last) = link.chars().last() {
            let unbalanced = last == ')' && link.matches('(').count() < link.matches(')').count();
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'') || unbalanced {
                link = &link[..link.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        out.push_str(&tagged(link, platform.slug(), campaign));
        rest = &tail[link.len()..];
    }
    out.push_str(rest);
    out
}

/// [`tag_links`] when the tagged text still fits `platform`'s limit; otherwise `text` as it is
/// (a post is never refused at publishing for its tags).
pub fn tag_links_within(text: &str, platform: Platform, campaign: &str) -> String {
    let tagged = tag_links(text, platform, campaign);
    if crate::content::count(platform, &tagged).fits() {
        tagged
    } else {
        text.to_owned()
    }
}

/// Where the next `http://` or `https://` link starts.
fn find_link(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

fn tagged(link: &str, source: &str, campaign: &str) -> String {
    let (base, fragment) = match link.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (link, None),
    };
    // A bare scheme is not a link.
    if base.ends_with("://") {
        return link.to_owned();
    }
    let query = base.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let has = |key: &str| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key))
    };
    let mut added: Vec<String> = Vec::new();
    for (key, value) in [
        ("utm_source", source),
        ("utm_medium", "social"),
        ("utm_campaign", campaign),
    ] {
        if !has(key) {
            added.push(format!("{key}={value}"));
        }
    }
    if added.is_empty() {
        return link.to_owned();
    }
    let joiner = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    let mut out = format!("{base}{joiner}{}", added.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_tagged_once_with_the_platform_and_the_campaign() {
        let text = "New shoes: https://shop.example/spring. More at http://example.org/a?b=1#top, \
                    and https://x.example/?utm_source=mail (see https://w.example/Foo_(bar)).";
        let out = tag_links(text, Platform::Instagram, "spring-sale");
        assert_eq!(
            out,
            "New shoes: https://shop.example/spring?utm_source=instagram&utm_medium=social&\
             utm_campaign=spring-sale. More at http://example.org/a?b=1&utm_source=instagram&\
             utm_medium=social&utm_campaign=spring-sale#top, and https://x.example/?\
             utm_source=mail&utm_medium=social&utm_campaign=spring-sale (see \
             https://w.example/Foo_(bar)?utm_source=instagram&utm_medium=social&\
             utm_campaign=spring-sale)."
        );
        // Tagging again changes nothing.
        assert_eq!(tag_links(&out, Platform::Instagram, "spring-sale"), out);
        assert_eq!(
            tag_links("no links here", Platform::X, "a"),
            "no links here"
        );
        assert_eq!(tag_links("https://", Platform::X, "a"), "https://");
        // Where the tags would take a text over the platform's limit, it goes as written.
        let full = format!("{} https://example.org", "a".repeat(2170));
        assert_eq!(tag_links_within(&full, Platform::Instagram, "spring"), full);
        assert_ne!(tag_links_within(&full, Platform::LinkedIn, "spring"), full);
        // X counts every link as 23 characters, however long its tags make it.
        let tweet = format!("{} https://example.org", "a".repeat(250));
        assert_ne!(tag_links_within(&tweet, Platform::X, "spring"), tweet);
    }

    #[test]
    fn returns_need_both_sides_of_each_ratio() {
        let r = Inputs {
            spend: Some(10_000),
            click_value: Some(50),
            conversions: Some(4),
            conversion_value: Some(2_500),
            interactions: 400,
            clicks: Some(100),
        }
        .returns();
        assert_eq!(r.cost_per_engagement, Some(25.0));
        assert_eq!(r.cost_per_click, Some(100.0));
        assert_eq!(r.value, Some(100 * 50 + 4 * 2_500));
        assert_eq!(r.return_on_spend, Some(1.5));
        let unmeasured = Inputs {
            spend: Some(10_000),
            click_value: Some(50),
            interactions: 0,
            clicks: None,
            ..Inputs::default()
        }
        .returns();
        assert_eq!(unmeasured, Returns::default());
        let free = Inputs {
            spend: Some(0),
            conversions: Some(3),
            conversion_value: Some(100),
            interactions: 10,
            ..Inputs::default()
        }
        .returns();
        assert_eq!(free.value, Some(300));
        assert_eq!(free.return_on_spend, None);
        assert_eq!(free.cost_per_engagement, None);
    }

    #[test]
    fn amounts_and_counts_are_read_as_people_type_them() {
        assert_eq!(parse_amount("1,250.50"), Ok(Some(125_050)));
        assert_eq!(parse_amount(" $ 80 "), Ok(Some(8_000)));
        assert_eq!(parse_amount("0.5"), Ok(Some(50)));
        assert_eq!(parse_amount(""), Ok(None));
        for bad in ["19,99", "1.234", "-5", "abc", "1,2345", "99999999999999"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_count("1,200"), Ok(Some(1_200)));
        assert!(parse_count("-1").is_err() && parse_count("2.5").is_err());
        assert_eq!(money(125_050, "USD"), "$1,250.50");
        assert_eq!(money(-320, "CHF"), "−CHF 3.20");
        assert_eq!(money(100, "NOK"), "NOK 1.00");
        assert_eq!(utm_value(" Spring Sale "), Ok("spring-sale".to_owned()));
        assert!(utm_value("a&b=c").is_err() && utm_value("").is_err());
    }
}
