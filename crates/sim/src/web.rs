//! The pages behind the links to posts that each simulated platform hands out ("View on X"):
//! `/x/web/{user}/status/{id}`, `/facebook/web/{id}`, `/instagram/web/p/{shortcode}/`,
//! `/tiktok/web/{@user}/video/{id}` and `/linkedin/web/feed/update/{urn}`. Each shows the
//! platform, the account, the text and the media of the post the simulator kept, under a banner
//! that says nothing was published; an id it does not know is a 404.

use crate::{Post, Simulator, html_escape};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use domain::Platform;

pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/x/web/{user}/status/{id}", get(x))
        .route("/facebook/web/{id}", get(facebook))
        .route("/instagram/web/p/{shortcode}/", get(instagram))
        .route("/tiktok/web/{user}/video/{id}", get(tiktok))
        .route("/linkedin/web/feed/update/{urn}", get(linkedin))
        .with_state(sim)
}

async fn x(State(sim): State<Simulator>, Path((_, id)): Path<(String, String)>) -> Response {
    page(&sim, Platform::X, &id)
}

async fn facebook(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    page(&sim, Platform::Facebook, &id)
}

async fn instagram(State(sim): State<Simulator>, Path(shortcode): Path<String>) -> Response {
    match crate::instagram::post_of_shortcode(&sim, &shortcode) {
        Some(id) => page(&sim, Platform::Instagram, &id),
        None => not_found(Platform::Instagram),
    }
}

async fn tiktok(State(sim): State<Simulator>, Path((_, id)): Path<(String, String)>) -> Response {
    page(&sim, Platform::TikTok, &id)
}

async fn linkedin(State(sim): State<Simulator>, Path(urn): Path<String>) -> Response {
    page(&sim, Platform::LinkedIn, &urn)
}

/// The page of the post `id` on `platform`, or a 404.
fn page(sim: &Simulator, platform: Platform, id: &str) -> Response {
    let post = sim.post(platform, id);
    match post {
        Some(post) => Html(render(&post, &account_name(sim, &post))).into_response(),
        None => not_found(platform),
    }
}

fn not_found(platform: Platform) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found · {name} \
             (simulated)</title></head><body><main><h1>This simulated {name} post does not \
             exist</h1><p>The Socializioz platform simulator has no post at this address.</p>\
             </main></body></html>",
            name = platform.label(),
        )),
    )
        .into_response()
}

/// Who posted: the page's name on Facebook, the username elsewhere (the account's id when the
/// simulator no longer knows the person who authorised it).
fn account_name(sim: &Simulator, post: &Post) -> String {
    if post.platform == Platform::Facebook {
        return crate::facebook::pages::page_name(sim, &post.user_id)
            .unwrap_or_else(|| post.user_id.clone());
    }
    let state = sim.state();
    let grants = state
        .access
        .values()
        .map(|t| &t.grant)
        .chain(state.refresh.values());
    grants
        .filter(|g| g.platform == post.platform && g.user_id == post.user_id)
        .map(|g| format!("@{}", g.username.trim_start_matches('@')))
        .next()
        .unwrap_or_else(|| post.user_id.clone())
}

fn render(post: &Post, account: &str) -> String {
    let name = post.platform.label();
    let media: String = if post.media.is_empty() {
        "<p id=\"media\">No media.</p>".to_owned()
    } else {
        let items: String = post
            .media
            .iter()
            .map(|m| {
                format!(
                    "<li>{} · {} ({} bytes)</li>",
                    html_escape(&m.kind),
                    size(m.bytes),
                    m.bytes
                )
            })
            .collect();
        format!("<ul id=\"media\">{items}</ul>")
    };
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulated {name} post by {account}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
#simulated{{background:#fff3c4;border:2px solid #8a6d00;padding:.75rem 1rem;border-radius:6px}}
#text{{white-space:pre-wrap;border-left:4px solid #ccc;padding-left:1rem}}</style></head>
<body><main>
<p id="simulated" role="status"><strong>Simulated post — nothing was published.</strong> This page is the Socializioz platform simulator, not {name}: no one else can see this post.</p>
<h1>{name} post by {account}</h1>
<p id="text">{text}</p>
<h2>Media</h2>
{media}
<p><small>Post id {id}</small></p>
</main></body></html>"#,
        account = html_escape(account),
        text = html_escape(&post.text),
        id = html_escape(&post.id),
    )
}

/// A size for people: `834 B`, `12.5 KB`, `3.2 MB`.
fn size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size(834), "834 B");
        assert_eq!(size(12_800), "12.5 KB");
        assert_eq!(size(3_355_443), "3.2 MB");
    }
}
