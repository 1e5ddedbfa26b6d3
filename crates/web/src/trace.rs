//! The request's trace: a new request id for every request, a `request` span around all the
//! work done for it, one log line when its response is ready (with how many database
//! statements the request ran), and the id in the `X-Request-Id` response header so a person
//! reporting a problem can quote it.
//!
//! The span names the route template (`/w/{wid}/posts/{pid}`), never the path itself, the
//! query or the cookies: paths can carry one-time tokens. A request that matched no route is
//! logged as "unmatched".

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use services::trace::{new_request_id, with_request_id};
use std::time::Instant;
use tracing::Instrument;

/// The response header that carries the request id.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Runs the rest of the stack inside the request's span and with its request id (which the
/// jobs the request enqueues take with them).
pub async fn request(req: Request, next: Next) -> Response {
    let id = new_request_id();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = %route,
    );
    let header = HeaderValue::from_str(&id).ok();
    let started = Instant::now();
    let (mut res, statements) =
        store::statements::counted(with_request_id(id, next.run(req)).instrument(span.clone()))
            .await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms,
            statements,
            "response ready"
        );
    });
    if let Some(header) = header {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), header);
    }
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_response_carries_the_id_its_work_ran_under() {
        let app = Router::new()
            .route(
                "/w/{wid}",
                get(|| async { services::trace::current_request_id().unwrap_or_default() }),
            )
            .layer(axum::middleware::from_fn(request));
        let mut ids = Vec::new();
        for uri in ["/w/7", "/w/7", "/nowhere"] {
            let res = app
                .clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let id = res.headers()[REQUEST_ID_HEADER]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            if uri != "/nowhere" {
                let body = axum::body::to_bytes(res.into_body(), 64).await.unwrap();
                assert_eq!(
                    body,
                    id.as_bytes(),
                    "the handler ran under the response's id"
                );
            }
            ids.push(id);
        }
        assert_ne!(ids[0], ids[1], "each request has its own id");
    }
}
