//! Routes: one folder per area, one file per action.

pub(crate) mod accounts;
mod admin;
mod assets;
mod auth;
mod campaigns;
mod deletion_requests;
mod health;
mod help;
mod home;
mod legal;
mod media;
pub mod posts;
mod settings;
mod workspaces;

use crate::error::{AppError, AppResult};
use crate::{AppState, context, security};
use askama::Template;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home::landing))
        .route("/consent", post(legal::consent::save))
        .route("/legal", get(legal::index::page))
        .route("/legal/cookies", get(legal::cookies::page))
        .route("/policies/review", get(legal::review::page))
        .route("/policies/accept", post(legal::review::accept))
        .route("/policies/later", post(legal::review::later))
        .route("/legal/{kind}", get(legal::policy::current))
        .route("/legal/{kind}/versions", get(legal::policy::versions))
        .route("/legal/{kind}/v/{version}", get(legal::policy::version))
        .route("/legal/{kind}/diff", get(legal::policy::diff))
        .route(
            "/signup",
            get(auth::signup::form).post(auth::signup::submit),
        )
        .route("/signup/sent", get(auth::signup::sent))
        .route("/login", get(auth::login::form).post(auth::login::submit))
        .route("/logout", post(auth::logout::submit))
        .route(
            "/password/forgot",
            get(auth::password::forgot_form).post(auth::password::forgot_submit),
        )
        .route(
            "/password/reset/{token}",
            get(auth::password::reset_form).post(auth::password::reset_submit),
        )
        .route("/verify/resend", post(auth::verify::resend))
        .route(
            "/verify/{token}",
            get(auth::verify::page).post(auth::verify::confirm),
        )
        .route("/dashboard", get(workspaces::open::dashboard))
        .route(
            "/workspaces/new",
            get(workspaces::create::form).post(workspaces::create::submit),
        )
        .route("/w/{wid}", get(workspaces::open::show))
        .route("/w/{wid}/settings", get(workspaces::settings::page))
        .route("/w/{wid}/rename", post(workspaces::settings::rename))
        .route(
            "/w/{wid}/invitations",
            post(workspaces::invitations::create),
        )
        .route(
            "/w/{wid}/invitations/{iid}/revoke",
            post(workspaces::invitations::revoke),
        )
        .route(
            "/w/{wid}/members/{mid}/role",
            post(workspaces::members::change_role),
        )
        .route(
            "/w/{wid}/members/{mid}/remove",
            post(workspaces::members::remove),
        )
        .route("/w/{wid}/leave", post(workspaces::members::leave))
        .route("/w/{wid}/activity", get(workspaces::activity::page))
        .route(
            "/w/{wid}/posts",
            get(posts::list::page).post(posts::compose::create),
        )
        .route("/w/{wid}/posts/new", get(posts::compose::new_form))
        .route(
            "/w/{wid}/posts/{pid}",
            get(posts::show::page).post(posts::compose::update),
        )
        .route("/w/{wid}/posts/{pid}/edit", get(posts::compose::edit_form))
        .route("/w/{wid}/posts/{pid}/status", get(posts::status::status))
        .route(
            "/w/{wid}/posts/{pid}/duplicate",
            post(posts::actions::duplicate),
        )
        .route(
            "/w/{wid}/posts/{pid}/delete",
            get(posts::actions::confirm_delete).post(posts::actions::delete),
        )
        .route(
            "/w/{wid}/posts/{pid}/unschedule",
            post(posts::actions::unschedule),
        )
        .route(
            "/w/{wid}/posts/{pid}/reschedule",
            post(posts::actions::reschedule),
        )
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/retry",
            post(posts::actions::retry),
        )
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/resolve",
            post(posts::actions::resolve),
        )
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/comment/retry",
            post(posts::actions::retry_comment),
        )
        .route("/w/{wid}/calendar", get(posts::calendar::page))
        .route(
            "/w/{wid}/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route(
            "/w/{wid}/campaigns/{cid}",
            get(campaigns::show).post(campaigns::update),
        )
        .route("/w/{wid}/campaigns/{cid}/delete", post(campaigns::delete))
        .route("/w/{wid}/accounts", get(accounts::page))
        .route(
            "/w/{wid}/accounts/connect/{platform}",
            post(accounts::connect),
        )
        .route(
            "/w/{wid}/accounts/{aid}/disconnect",
            get(accounts::confirm_disconnect).post(accounts::disconnect),
        )
        .route("/oauth/{platform}/callback", get(accounts::callback))
        .route("/oauth/choose", post(accounts::choose))
        .route("/w/{wid}/media", get(media::page))
        .route("/w/{wid}/media/{mid}", get(media::show).post(media::update))
        .route(
            "/w/{wid}/media/{mid}/delete",
            get(media::confirm_delete).post(media::delete),
        )
        .route("/w/{wid}/media/{mid}/thumb", get(media::thumb))
        .route("/w/{wid}/media/{mid}/file", get(media::original))
        .route(
            "/invitations/{token}",
            get(workspaces::invitations::show).post(workspaces::invitations::accept),
        )
        .route(
            "/deletion-requests/confirm/{token}",
            get(deletion_requests::confirm::page).post(deletion_requests::confirm::confirm),
        )
        .route(
            "/admin/deletion-requests",
            get(admin::deletion_requests::page).post(admin::deletion_requests::record),
        )
        .route(
            "/admin/deletion-requests/{id}/resend",
            post(admin::deletion_requests::resend),
        )
        .route(
            "/admin/deletion-requests/{id}/close",
            post(admin::deletion_requests::close),
        )
        .route(
            "/settings",
            get(settings::profile::form).post(settings::profile::submit),
        )
        .route(
            "/settings/email",
            get(settings::email::form).post(settings::email::submit),
        )
        .route(
            "/settings/password",
            get(settings::password::form).post(settings::password::submit),
        )
        .route("/settings/sessions", get(settings::sessions::page))
        .route("/settings/privacy", get(settings::privacy::page))
        .route(
            "/settings/privacy/export",
            post(settings::privacy::request_export),
        )
        .route(
            "/settings/privacy/export/status",
            get(settings::privacy::export_status),
        )
        .route(
            "/settings/privacy/export/{id}/download",
            get(settings::privacy::download_export),
        )
        .route(
            "/settings/privacy/consent.json",
            get(settings::privacy::download),
        )
        .route(
            "/settings/sessions/others/end",
            post(settings::sessions::end_others),
        )
        .route(
            "/settings/sessions/{sid}/end",
            post(settings::sessions::end_one),
        )
        .route(
            "/settings/account/delete",
            get(settings::delete::form).post(settings::delete::submit),
        )
        .route("/account-deleted", get(settings::delete::deleted))
        .route("/help/revoke-access", get(help::revoke_access))
        .fallback(|| async { AppError::NotFound })
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    // Uploads stream up to the video limit and may take long; each file's own limit is held
    // while it arrives (in the media service).
    let upload_limit = usize::try_from(
        state
            .services
            .media_limits
            .video_bytes
            .saturating_add(1024 * 1024),
    )
    .unwrap_or(usize::MAX);
    let uploads = Router::new()
        .route("/w/{wid}/media/upload", post(media::upload))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(2 * 3600),
        ));
    let mut app = pages
        .merge(uploads)
        .route_layer(middleware::from_fn_with_state(state.clone(), context::load))
        .route("/.well-known/gpc.json", get(legal::cookies::gpc_json))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js))
        .route("/static/composer.js", get(assets::composer_js))
        .route("/static/export.js", get(assets::export_js))
        .route("/static/post.js", get(assets::post_js))
        .route("/favicon.svg", get(assets::favicon_svg))
        .route("/favicon.ico", get(assets::favicon_ico))
        .route("/media/{id}/{expires}/{sig}", get(media::signed))
        // No address, query or form of ours takes a control character: refused here, once.
        .layer(middleware::from_fn(
            crate::hygiene::refuse_control_characters,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                // The route template, never the path itself: paths can carry one-time tokens.
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "(unmatched)".to_owned());
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        );
    let tag_origins: Vec<String> = [
        &state.config.analytics_script,
        &state.config.marketing_script,
    ]
    .into_iter()
    .flatten()
    .filter_map(|url| security::origin_of(url))
    .collect();
    // A connect form's redirect leads to the platform's authorisation page.
    let connectors = &state.services.connectors;
    let mut form_origins: Vec<String> = connectors
        .platforms()
        .into_iter()
        .filter_map(|p| connectors.get(p))
        .filter_map(|c| security::origin_of(&c.authorize_url("", None, "", &[])))
        .collect();
    form_origins.sort();
    form_origins.dedup();
    for layer in security::layers(state.config.https, &tag_origins, &form_origins) {
        app = app.layer(layer);
    }
    app.with_state(state)
}

/// Renders a page.
pub fn render(page: impl Template) -> AppResult {
    let html = page
        .render()
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("template: {e}")))?;
    Ok(Html(html).into_response())
}

/// Renders a form again with its errors, with the status that says the input was refused.
pub fn rerender(page: impl Template) -> AppResult {
    let mut res = render(page)?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// Where to go after logging in: only a path of this site, never another origin.
/// Only a path of this site passes: it starts with one `/`, and every character is one that a
/// path or query of ours uses (no whitespace or control characters, which browsers drop while
/// reading a `Location` and so turn `/\t/evil.example` into `//evil.example`; no backslash).
pub fn safe_next(next: &str) -> &str {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.~?=&%+".contains(c);
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && next.chars().all(allowed);
    if ok { next } else { "/dashboard" }
}

pub fn fmt_time(t: &chrono::DateTime<chrono::Utc>, tz: &str) -> String {
    let tz = domain::Timezone::parse(tz).unwrap_or_else(|_| domain::Timezone::utc());
    t.with_timezone(&tz.tz())
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

/// Pages reached through a link that carries a secret must not pass it on: no referrer at all.
pub fn no_referrer(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for ok in [
            "/settings",
            "/w/12/settings",
            "/invitations/abc-DEF_123",
            "/login?next=%2Fw%2F1",
        ] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/ /x",
            "evil",
            "",
            "/%0a\r\n",
        ] {
            assert_eq!(safe_next(bad), "/dashboard", "{bad:?}");
        }
    }
}
