//! The comments under an Instagram professional account's media, with the account's token
//! (Instagram Login).
//!
//! One read is `GET /{media-id}/comments` asking each comment's replies in the same call
//! (`replies{…}`), following `paging.next` for at most [`MOST_PAGES`] pages; the replies are
//! flattened into the thread, each answering its top-level comment. Instagram names no
//! commenter's id in these fields, only the handle: the account's own comments are those with
//! its username. A reply is `POST /{comment-id}/replies?message=` (Instagram takes replies to
//! top-level comments that are not hidden only, and says so in a refusal), hiding
//! `POST /{comment-id}?hide=…`, deleting `DELETE /{comment-id}`.
//!
//! Everything needs `instagram_business_manage_comments`, which publishing already asks for
//! (the first comment): nothing more is asked.

use super::super::graph::call;
use super::super::instagram::Instagram;
use super::super::{AccountRef, with_query};
use super::facebook::{Created, MOST_PAGES, Paging, failure, graph_time, graph_write};
use super::{Abilities, Comment, CommentError, Conversations, Thread, oldest_first};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

/// What the comment calls need (Instagram Login's name for it; asked for publishing).
const COMMENT_SCOPE: &str = "instagram_business_manage_comments";
/// Each comment's fields, its replies' with it.
const FIELDS: &str = "id,text,timestamp,username,like_count,hidden,\
                      replies{id,text,timestamp,username,hidden}";

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Node>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    replies: Option<Replies>,
}

#[derive(Deserialize)]
struct Replies {
    #[serde(default)]
    data: Vec<Node>,
    /// A next page of replies (not followed): the read is then not the whole conversation.
    #[serde(default)]
    paging: Option<Paging>,
}

impl Instagram {
    fn comments_url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.config.graph_base, self.config.version)
    }
}

/// `node` as a comment of the thread, answering `parent` (none for a top-level one).
fn comment(node: &Node, parent: Option<&str>, account: &AccountRef) -> Option<Comment> {
    let created_at = node.timestamp.as_deref().and_then(graph_time)?;
    Some(Comment {
        id: node.id.clone(),
        parent_id: parent.map(str::to_owned),
        author_id: None,
        author_name: node.username.clone(),
        text: node.text.clone(),
        created_at,
        hidden: node.hidden,
        by_account: node.username.eq_ignore_ascii_case(&account.username),
    })
}

#[async_trait]
impl Conversations for Instagram {
    fn comment_scopes(&self) -> &'static [&'static str] {
        &[]
    }

    /// A professional account reads, answers, hides and deletes the comments under its media.
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
            &[("fields", FIELDS), ("limit", "50")],
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
                .map_err(|e| failure(e, "Instagram", COMMENT_SCOPE, false))?;
            for node in &page.data {
                cut |= node
                    .replies
                    .as_ref()
                    .and_then(|r| r.paging.as_ref())
                    .is_some_and(|p| p.next.is_some());
                thread.comments.extend(comment(node, None, account));
                for reply in node.replies.iter().flat_map(|r| &r.data) {
                    thread
                        .comments
                        .extend(comment(reply, Some(&node.id), account));
                }
            }
            url = page
                .paging
                .and_then(|p| p.next)
                .filter(|next| next.starts_with(&self.config.graph_base));
        }
        if let Some(since) = since {
            thread.comments.retain(|c| c.created_at >= since);
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
            .post(self.comments_url(&format!("/{comment_id}/replies")))
            .form(&[("message", text)]);
        let created: Created = graph_write(request, token, "Instagram", COMMENT_SCOPE).await?;
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
            .form(&[("hide", flag)]);
        let _: Value = graph_write(request, token, "Instagram", COMMENT_SCOPE).await?;
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
        let _: Value = graph_write(request, token, "Instagram", COMMENT_SCOPE).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::instagram::InstagramConfig;
    use domain::Platform;
    use std::time::Duration;
    use wiremock::matchers::{body_string_contains, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn adapter(server: &MockServer) -> Instagram {
        let mut config = InstagramConfig::simulated(&server.uri());
        config.graph_base = server.uri();
        Instagram::new(config)
    }

    fn account() -> AccountRef {
        AccountRef {
            id: 1,
            platform: Platform::Instagram,
            external_id: "178".into(),
            username: "acme".into(),
        }
    }

    fn token() -> SecretString {
        SecretString::from("ig-token-secret")
    }

    #[tokio::test]
    async fn replies_are_flattened_under_their_comment() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v25.0/900/comments"))
            .and(query_param("fields", FIELDS))
            .and(header("authorization", "Bearer ig-token-secret"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "data": [
                    {"id": "2", "text": "Broken on arrival", "username": "sam",
                     "timestamp": "2026-12-01T11:00:00+0000", "hidden": true},
                    {"id": "1", "text": "Where to buy?", "username": "ana",
                     "timestamp": "2026-12-01T10:00:00+0000", "hidden": false,
                     "replies": {"data": [
                        {"id": "3", "text": "In the shop", "username": "ACME",
                         "timestamp": "2026-12-01T10:30:00+0000"}
                     ]}},
                ],
            })))
            .expect(1)
            .mount(&server)
            .await;
        let since = graph_time("2026-12-01T10:15:00+0000");
        let thread = adapter(&server)
            .comments(&account(), &token(), "900", since)
            .await
            .unwrap();
        assert_eq!(thread.calls, 1);
        let ids: Vec<&str> = thread.comments.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["3", "2"], "the one before `since` is left out");
        assert_eq!(thread.comments[0].parent_id.as_deref(), Some("1"));
        assert!(thread.comments[0].by_account);
        assert!(thread.comments[1].hidden && !thread.comments[1].by_account);
    }

    #[tokio::test]
    async fn a_refused_reply_carries_instagrams_reason() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v25.0/3/replies"))
            .and(body_string_contains("message=Thanks"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": {"message": "Replies can only be made to top-level comments.",
                          "type": "OAuthException", "code": 100}
            })))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .reply(&account(), &token(), "900", "3", "Thanks")
            .await;
        assert_eq!(
            got,
            Err(CommentError::Refused(
                "Replies can only be made to top-level comments.".into()
            ))
        );
    }

    #[tokio::test]
    async fn hiding_and_deleting_and_their_failures() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v25.0/1"))
            .and(body_string_contains("hide=false"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"success": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/v25.0/1"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": {"message": "(#10) needs instagram_business_manage_comments", "code": 10}
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/v25.0/2"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": {"message": "Session has expired", "code": 190}
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/v25.0/4"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .expect(1)
            .mount(&server)
            .await;
        let ig = adapter(&server);
        ig.hide(&account(), &token(), "1", false).await.unwrap();
        let got = ig.delete(&account(), &token(), "1").await;
        assert!(
            matches!(&got, Err(CommentError::MissingPermission(why)) if why.contains(COMMENT_SCOPE)),
            "{got:?}"
        );
        assert_eq!(
            ig.delete(&account(), &token(), "2").await,
            Err(CommentError::TokenExpired)
        );
        assert_eq!(
            ig.delete(&account(), &token(), "4").await,
            Err(CommentError::RateLimited {
                retry_after: Duration::from_secs(30)
            })
        );
    }
}
