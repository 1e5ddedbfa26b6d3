//! The comments under a Facebook Page's posts, read and answered with the page's token.
//!
//! One read is `GET /{post-id}/comments` with `filter=stream` (replies too, each naming its
//! `parent`), newest first, 100 a page, following `paging.next` for at most
//! [`MOST_PAGES`] pages; a read with `since` stops at the first page that reaches back before
//! it. The page's own comments are those `from` the page itself. A reply is
//! `POST /{comment-id}/comments {message}`, hiding `POST /{comment-id}?is_hidden=…`, deleting
//! `DELETE /{comment-id}`.
//!
//! Reading needs `pages_read_engagement` (asked for publishing) and `pages_read_user_content`
//! (the people's comments and their names); answering, hiding and deleting need
//! `pages_manage_engagement` (asked for publishing, for the first comment). Graph's failures
//! are mapped here for Instagram's comments too.

use super::super::facebook::Facebook;
pub(super) use super::super::graph::graph_time;
use super::super::graph::{CallError, call};
use super::super::{AccountRef, with_query};
use super::{Abilities, Comment, CommentError, Conversations, Thread, oldest_first, send_failed};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

/// What reading people's comments needs beyond publishing.
const READ_SCOPE: &str = "pages_read_user_content";
/// What answering, hiding and deleting need (asked for publishing).
const MANAGE_SCOPE: &str = "pages_manage_engagement";
/// The fields of each comment read.
const FIELDS: &str = "id,message,from,created_time,like_count,comment_count,is_hidden,parent";
/// The most pages of comments one read follows.
pub(super) const MOST_PAGES: usize = 20;

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Node>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
pub(super) struct Paging {
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    from: Option<From>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    is_hidden: bool,
    #[serde(default)]
    parent: Option<Parent>,
}

#[derive(Deserialize)]
struct From {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Parent {
    id: String,
}

/// A Graph call's failure, for the comments workspace. `scope` is named when Graph refuses for
/// want of a permission; `write` says whether the call may have changed something.
pub(super) fn failure(err: CallError, platform: &str, scope: &str, write: bool) -> CommentError {
    match err {
        CallError::Send(e) => send_failed(&e, write),
        CallError::Body(why) => CommentError::Unavailable {
            reason: format!("{platform}'s answer could not be read: {why}"),
            maybe_done: write,
        },
        CallError::Graph(f) => {
            if f.token_refused() {
                CommentError::TokenExpired
            } else if f.rate_limited() {
                CommentError::RateLimited {
                    retry_after: f.retry_after(),
                }
            } else if f.permission_missing() {
                CommentError::MissingPermission(format!(
                    "{platform} needs the {scope} permission ({})",
                    f.reason()
                ))
            } else if f.unknown_object() {
                CommentError::Gone
            } else if f.transient() {
                CommentError::Unavailable {
                    reason: format!("{platform} answered {}: {}", f.status, f.reason()),
                    maybe_done: write,
                }
            } else {
                CommentError::Refused(f.reason())
            }
        }
    }
}

/// Graph's answer to something made.
#[derive(Deserialize)]
pub(super) struct Created {
    pub id: String,
}

impl Facebook {
    fn comments_url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.config.graph_base, self.config.version)
    }
}

/// A Graph write on a comment (a reply, a hide, a delete) with the account's token: Graph's
/// answer, or its failure as the comment kinds (the request may have reached the platform).
pub(super) async fn graph_write<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    token: &SecretString,
    platform: &str,
    scope: &str,
) -> Result<T, CommentError> {
    call(request.bearer_auth(token.expose_secret()))
        .await
        .map_err(|e| failure(e, platform, scope, true))
}

#[async_trait]
impl Conversations for Facebook {
    fn comment_scopes(&self) -> &'static [&'static str] {
        &[READ_SCOPE]
    }

    /// A page reads, answers, hides and deletes the comments under its posts.
    fn abilities(&self, _account: &AccountRef) -> Abilities {
        Abilities {
            read: true,
            reply: true,
            hide: true,
            delete: true,
        }
    }

    async fn comments(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Thread, CommentError> {
        let mut thread = Thread::default();
        let mut url = Some(with_query(
            &self.comments_url(&format!("/{post_id}/comments")),
            &[
                ("fields", FIELDS),
                ("filter", "stream"),
                ("order", "reverse_chronological"),
                ("summary", "true"),
                ("limit", "100"),
            ],
        ));
        let mut cut = since.is_some();
        while let Some(next) = url.take() {
            if thread.calls as usize >= MOST_PAGES {
                cut = true;
                break;
            }
            thread.calls += 1;
            let page: Page = call(self.http.get(&next).bearer_auth(token.expose_secret()))
                .await
                .map_err(|e| failure(e, "Facebook", READ_SCOPE, false))?;
            let mut reached_since = false;
            for node in page.data {
                let Some(created_at) = node.created_time.as_deref().and_then(graph_time) else {
                    continue;
                };
                if since.is_some_and(|since| created_at < since) {
                    reached_since = true;
                    continue;
                }
                let (author_id, author_name) = match node.from {
                    Some(from) => (Some(from.id), from.name),
                    None => (None, String::new()),
                };
                thread.comments.push(Comment {
                    by_account: author_id.as_deref() == Some(account.external_id.as_str()),
                    id: node.id,
                    parent_id: node.parent.map(|p| p.id),
                    author_id,
                    author_name,
                    text: node.message,
                    created_at,
                    hidden: node.is_hidden,
                });
            }
            // Only Graph's own addresses are followed (the token goes with them).
            url = page
                .paging
                .and_then(|p| p.next)
                .filter(|next| next.starts_with(&self.config.graph_base))
                .filter(|_| !reached_since);
        }
        thread.complete = !cut;
        oldest_first(&mut thread.comments);
        Ok(thread)
    }

    async fn reply(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        _post_id: &str,
        comment_id: &str,
        text: &str,
    ) -> Result<String, CommentError> {
        let request = self
            .http
            .post(self.comments_url(&format!("/{comment_id}/comments")))
            .json(&serde_json::json!({ "message": text }));
        let created: Created = graph_write(request, token, "Facebook", MANAGE_SCOPE).await?;
        Ok(created.id)
    }

    async fn hide(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
        hidden: bool,
    ) -> Result<(), CommentError> {
        let flag = if hidden { "true" } else { "false" };
        let request = self
            .http
            .post(self.comments_url(&format!("/{comment_id}")))
            .form(&[("is_hidden", flag)]);
        let _: Value = graph_write(request, token, "Facebook", MANAGE_SCOPE).await?;
        Ok(())
    }

    async fn delete(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
    ) -> Result<(), CommentError> {
        let request = self
            .http
            .delete(self.comments_url(&format!("/{comment_id}")));
        let _: Value = graph_write(request, token, "Facebook", MANAGE_SCOPE).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::facebook::FacebookConfig;
    use domain::Platform;
    use std::time::Duration;
    use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn adapter(server: &MockServer) -> Facebook {
        let mut config = FacebookConfig::simulated(&server.uri());
        config.graph_base = server.uri();
        Facebook::with_http_client(
            config,
            reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap_or_default(),
        )
    }

    fn page() -> AccountRef {
        AccountRef {
            id: 1,
            platform: Platform::Facebook,
            external_id: "111".into(),
            username: "Bakery".into(),
        }
    }

    fn token() -> SecretString {
        SecretString::from("page-token-secret")
    }

    fn graph_error(
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: &str,
    ) -> ResponseTemplate {
        let mut error =
            serde_json::json!({"message": message, "type": "OAuthException", "code": code});
        if let Some(subcode) = subcode {
            error["error_subcode"] = subcode.into();
        }
        ResponseTemplate::new(status).set_body_json(serde_json::json!({ "error": error }))
    }

    #[tokio::test]
    async fn a_read_follows_the_pages_and_gives_the_oldest_first() {
        let server = MockServer::start().await;
        let next = format!("{}/v25.0/111_5/comments?after=QQ", server.uri());
        Mock::given(method("GET"))
            .and(path("/v25.0/111_5/comments"))
            .and(query_param("filter", "stream"))
            .and(query_param("order", "reverse_chronological"))
            .and(query_param("fields", FIELDS))
            .and(header("authorization", "Bearer page-token-secret"))
            .and(wiremock::matchers::query_param_is_missing("after"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "data": [
                    {"id": "5_3", "message": "Thanks!", "from": {"id": "111", "name": "Bakery"},
                     "created_time": "2026-12-01T12:00:00+0000", "is_hidden": false,
                     "parent": {"id": "5_1"}},
                    {"id": "5_2", "message": "Refund?", "from": {"id": "9", "name": "Sam"},
                     "created_time": "2026-12-01T11:00:00+0000", "is_hidden": true},
                ],
                "paging": {"next": next},
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v25.0/111_5/comments"))
            .and(query_param("after", "QQ"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "data": [
                    {"id": "5_1", "message": "Open Sunday?", "from": {"id": "8", "name": "Ana"},
                     "created_time": "2026-12-01T10:00:00+0000"},
                ],
                "paging": {"next": "https://elsewhere.example/steal"},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let thread = adapter(&server)
            .comments(&page(), &token(), "111_5", None)
            .await
            .unwrap();
        assert_eq!(thread.calls, 2);
        let ids: Vec<&str> = thread.comments.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["5_1", "5_2", "5_3"]);
        assert!(thread.comments[1].hidden);
        assert_eq!(thread.comments[2].parent_id.as_deref(), Some("5_1"));
        assert!(thread.comments[2].by_account && !thread.comments[0].by_account);
        assert_eq!(thread.comments[0].author_name, "Ana");
    }

    #[tokio::test]
    async fn replies_hides_and_deletes_in_graphs_shapes() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v25.0/5_1/comments"))
            .and(body_json(serde_json::json!({"message": "We are!"})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "5_9"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v25.0/5_1"))
            .and(body_string_contains("is_hidden=true"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"success": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/v25.0/5_1"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"success": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let fb = adapter(&server);
        let id = fb
            .reply(&page(), &token(), "111_5", "5_1", "We are!")
            .await
            .unwrap();
        assert_eq!(id, "5_9");
        fb.hide(&page(), &token(), "5_1", true).await.unwrap();
        fb.delete(&page(), &token(), "5_1").await.unwrap();
    }

    #[tokio::test]
    async fn graphs_failures_map_to_the_comment_kinds() {
        let cases = [
            (
                graph_error(400, 190, Some(463), "expired"),
                CommentError::TokenExpired,
            ),
            (
                graph_error(404, 100, Some(33), "does not exist"),
                CommentError::Gone,
            ),
            (
                graph_error(400, 100, None, "A page cannot hide its own comments."),
                CommentError::Refused("A page cannot hide its own comments.".into()),
            ),
        ];
        for (answer, expected) in cases {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(answer)
                .expect(1)
                .mount(&server)
                .await;
            let got = adapter(&server).hide(&page(), &token(), "5_1", true).await;
            assert_eq!(got, Err(expected));
        }

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(graph_error(
                400,
                10,
                None,
                "(#10) needs pages_read_user_content",
            ))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .comments(&page(), &token(), "111_5", None)
            .await;
        assert!(
            matches!(&got, Err(CommentError::MissingPermission(why)) if why.contains(READ_SCOPE)),
            "{got:?}"
        );

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                graph_error(400, 32, None, "Page request limit reached").insert_header(
                    "x-business-use-case-usage",
                    r#"{"111":[{"estimated_time_to_regain_access":7}]}"#,
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .comments(&page(), &token(), "111_5", None)
            .await;
        assert_eq!(
            got,
            Err(CommentError::RateLimited {
                retry_after: Duration::from_secs(420)
            })
        );

        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(graph_error(500, 2, None, "unexpected").set_body_json(
                serde_json::json!({"error": {"message": "unexpected", "code": 2, "is_transient": true}}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .reply(&page(), &token(), "111_5", "5_1", "Hi")
            .await;
        assert!(
            matches!(
                got,
                Err(CommentError::Unavailable {
                    maybe_done: true,
                    ..
                })
            ),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn a_timeout_after_sending_a_reply_may_have_replied_and_names_no_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .reply(&page(), &token(), "111_5", "5_1", "Hi")
            .await;
        match got {
            Err(CommentError::Unavailable { reason, maybe_done }) => {
                assert!(maybe_done);
                assert!(!reason.contains("page-token-secret"));
            }
            other => panic!("{other:?}"),
        }
    }
}
