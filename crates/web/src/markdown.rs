//! Markdown to HTML for policy texts, safely: raw HTML in the source is shown as text, and links
//! may only point to this site, `https:`/`http:` or `mailto:`.

pub mod diff;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with('/') && !lower.starts_with("//")
        || lower.starts_with('#')
        || lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
}

pub fn to_html(source: &str) -> String {
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events(source));
    out
}

/// The events of `source`, made safe: raw HTML becomes text, links to other schemes go
/// nowhere, images become their address.
fn events(source: &str) -> impl Iterator<Item = Event<'_>> {
    Parser::new_ext(source, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::from("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image { dest_url, .. }) => Event::Text(dest_url),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn raw_html_and_script_links_are_neutralised() {
        let html = to_html(
            "# Title\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [ok](/legal/cookies) <b>x</b>",
        );
        assert!(html.contains("<h1>Title</h1>"));
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains("href=\"/legal/cookies\""));
        assert!(!html.contains("<b>"));
    }
}
