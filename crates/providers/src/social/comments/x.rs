//! The replies under an X post, with the user's token.
//!
//! X has no comments: the replies are the posts of the conversation the post started, found
//! with a recent search, `GET /2/tweets/search/recent?query=conversation_id:{id}` (the last
//! seven days only), 100 a page, following `meta.next_token` for at most [`MOST_PAGES`] pages.
//! Each page is a billed read, counted in [`Thread::calls`]. A reply answers the post it names
//! as `replied_to`: the post itself (then it is a reply to the post) or another reply. The
//! search also finds the post itself, which is left out, and says nothing of hidden replies, so
//! every reply reads as shown. A read with `since` asks X for posts from then on
//! (`start_time`, never further back than the search reaches).
//!
//! A reply is a post, `POST /2/tweets {text, reply:{in_reply_to_tweet_id}}`; hiding is
//! `PUT /2/tweets/{id}/hidden {hidden}` (`tweet.moderate.write`, the one permission asked beyond
//! publishing's); deleting is `DELETE /2/tweets/{id}`, which X allows on the user's own posts
//! only: the account's own replies can be deleted, others' cannot (X refuses).

use super::super::x::X;
use super::super::{AccountRef, with_query};
use super::{
    Abilities, Comment, CommentError, Conversations, Thread, oldest_first, send_failed, unreadable,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration as Span, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// What hiding replies needs beyond publishing.
const MODERATE_SCOPE: &str = "tweet.moderate.write";
/// What searching needs (asked for publishing).
const READ_SCOPES: &str = "tweet.read and users.read";
/// What replying and deleting need (asked for publishing).
const WRITE_SCOPE: &str = "tweet.write";
/// The most pages (billed reads) one read follows.
const MOST_PAGES: u32 = 10;
/// How far back a recent search reaches, less a margin for the clocks' difference.
const SEARCH_REACH: Span = Span::minutes(7 * 24 * 60 - 10);

#[derive(Deserialize, Default)]
#[serde(default)]
struct Search {
    data: Vec<Tweet>,
    includes: Option<Includes>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    author_id: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Includes {
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    data: CreatedData,
}

#[derive(Deserialize)]
struct CreatedData {
    id: String,
}

/// X's problem body, and its older `errors` list.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    errors: Vec<ProblemError>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProblemError {
    message: Option<String>,
}

impl Problem {
    fn reason(&self) -> String {
        self.errors
            .iter()
            .find_map(|e| e.message.clone())
            .or_else(|| self.detail.clone())
            .or_else(|| self.title.clone())
            .unwrap_or_else(|| "no reason given".into())
    }
}

/// X sends `x-rate-limit-reset` (Unix seconds) and no `Retry-After`; a minute without it.
fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let secs = reset.map_or(60, |reset| reset - Utc::now().timestamp());
    Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1))
}

/// X's refusal, for a call that needs `scope` (and, when `write`, may have changed something).
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    scope: &str,
    write: bool,
) -> CommentError {
    let problem: Problem = serde_json::from_str(body).unwrap_or_default();
    let reason = problem.reason();
    match status.as_u16() {
        401 => CommentError::TokenExpired,
        429 => CommentError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        404 => CommentError::Gone,
        // The app's own access to the API is ours to fix, not the account's.
        403 if problem
            .kind
            .as_deref()
            .is_some_and(|k| k.ends_with("/client-forbidden")) =>
        {
            CommentError::Unavailable {
                reason: format!("X refused the app: {reason}"),
                maybe_done: false,
            }
        }
        403 if reason.contains("scope") => {
            CommentError::MissingPermission(format!("X needs the {scope} permission ({reason})"))
        }
        400..=499 => CommentError::Refused(reason),
        _ => CommentError::Unavailable {
            reason: format!("X answered {status}: {reason}"),
            maybe_done: write,
        },
    }
}

impl X {
    /// Sends a call needing `scope` and reads its JSON answer.
    async fn comment_call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
        scope: &str,
        write: bool,
    ) -> Result<T, CommentError> {
        let res = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| send_failed(&e, write))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.map_err(|e| send_failed(&e, write))?;
        if !status.is_success() {
            return Err(refusal(status, &headers, &body, scope, write));
        }
        serde_json::from_str(&body).map_err(|e| CommentError::Unavailable {
            reason: format!("X's answer could not be read ({})", unreadable(&e)),
            maybe_done: write,
        })
    }

    fn comments_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base)
    }
}

#[async_trait]
impl Conversations for X {
    fn comment_scopes(&self) -> &'static [&'static str] {
        &[MODERATE_SCOPE]
    }

    /// Replies are read, answered and hidden; others' replies cannot be deleted (X deletes only
    /// the user's own posts).
    fn abilities(&self, _account: &AccountRef) -> Abilities {
        Abilities {
            read: true,
            reply: true,
            hide: true,
            delete: false,
        }
    }

    async fn comments(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Thread, CommentError> {
        let query = format!("conversation_id:{post_id}");
        let start_time = since.map(|since| {
            since
                .max(Utc::now() - SEARCH_REACH)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        });
        let mut thread = Thread::default();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut tweets: Vec<Tweet> = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let mut params: Vec<(&str, &str)> = vec![
                ("query", &query),
                (
                    "tweet.fields",
                    "author_id,created_at,in_reply_to_user_id,referenced_tweets,conversation_id",
                ),
                ("expansions", "author_id"),
                ("user.fields", "username"),
                ("max_results", "100"),
            ];
            if let Some(start) = &start_time {
                params.push(("start_time", start));
            }
            if let Some(token) = &next_token {
                params.push(("next_token", token));
            }
            let url = with_query(&self.comments_url("/2/tweets/search/recent"), &params);
            thread.calls += 1;
            let page: Search = self
                .comment_call(self.http.get(url), token, READ_SCOPES, false)
                .await?;
            for user in page.includes.map(|i| i.users).unwrap_or_default() {
                names.insert(user.id, user.username);
            }
            tweets.extend(page.data);
            next_token = page.meta.and_then(|m| m.next_token);
            if next_token.is_none() || thread.calls >= MOST_PAGES {
                break;
            }
        }
        for tweet in tweets {
            if tweet.id == post_id {
                continue;
            }
            let Some(created_at) = tweet
                .created_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
            else {
                continue;
            };
            let parent_id = tweet
                .referenced_tweets
                .iter()
                .find(|r| r.kind == "replied_to")
                .map(|r| r.id.clone())
                .filter(|id| id != post_id);
            let author_name = tweet
                .author_id
                .as_ref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_default();
            thread.comments.push(Comment {
                by_account: tweet.author_id.as_deref() == Some(account.external_id.as_str()),
                id: tweet.id,
                parent_id,
                author_id: tweet.author_id,
                author_name,
                text: tweet.text,
                created_at,
                hidden: false,
            });
        }
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
        let body = json!({"text": text, "reply": {"in_reply_to_tweet_id": comment_id}});
        let created: Created = self
            .comment_call(
                self.http.post(self.comments_url("/2/tweets")).json(&body),
                token,
                WRITE_SCOPE,
                true,
            )
            .await?;
        Ok(created.data.id)
    }

    async fn hide(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
        hidden: bool,
    ) -> Result<(), CommentError> {
        let _: Value = self
            .comment_call(
                self.http
                    .put(self.comments_url(&format!("/2/tweets/{comment_id}/hidden")))
                    .json(&json!({ "hidden": hidden })),
                token,
                MODERATE_SCOPE,
                true,
            )
            .await?;
        Ok(())
    }

    /// Deletes one of the account's own replies; X refuses anyone else's.
    async fn delete(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
    ) -> Result<(), CommentError> {
        let _: Value = self
            .comment_call(
                self.http
                    .delete(self.comments_url(&format!("/2/tweets/{comment_id}"))),
                token,
                WRITE_SCOPE,
                true,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::x::XConfig;
    use domain::Platform;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn adapter(server: &MockServer) -> X {
        X::new(XConfig::simulated(&server.uri()))
    }

    fn account() -> AccountRef {
        AccountRef {
            id: 1,
            platform: Platform::X,
            external_id: "42".into(),
            username: "acme".into(),
        }
    }

    fn token() -> SecretString {
        SecretString::from("x-token-secret")
    }

    #[tokio::test]
    async fn a_conversation_is_searched_page_by_page_and_each_page_counted() {
        let server = MockServer::start().await;
        let base = XConfig::simulated(&server.uri()).api_base;
        let prefix = base.trim_start_matches(&server.uri()).to_owned();
        Mock::given(method("GET"))
            .and(path(format!("{prefix}/2/tweets/search/recent")))
            .and(query_param("query", "conversation_id:100"))
            .and(query_param("expansions", "author_id"))
            .and(query_param("max_results", "100"))
            .and(header("authorization", "Bearer x-token-secret"))
            .and(wiremock::matchers::query_param_is_missing("next_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [
                    {"id": "103", "text": "@ana thanks", "author_id": "42",
                     "created_at": "2026-12-01T12:00:00.000Z",
                     "referenced_tweets": [{"type": "replied_to", "id": "101"}]},
                    {"id": "100", "text": "The post", "author_id": "42",
                     "created_at": "2026-12-01T09:00:00.000Z"},
                ],
                "includes": {"users": [{"id": "42", "name": "Acme", "username": "acme"}]},
                "meta": {"result_count": 2, "next_token": "n1"},
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{prefix}/2/tweets/search/recent")))
            .and(query_param("next_token", "n1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [
                    {"id": "101", "text": "Refund?", "author_id": "7",
                     "created_at": "2026-12-01T10:00:00.000Z",
                     "referenced_tweets": [{"type": "replied_to", "id": "100"}]},
                ],
                "includes": {"users": [{"id": "7", "name": "Ana", "username": "ana"}]},
                "meta": {"result_count": 1},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let thread = adapter(&server)
            .comments(&account(), &token(), "100", None)
            .await
            .unwrap();
        assert_eq!(thread.calls, 2);
        let ids: Vec<&str> = thread.comments.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["101", "103"], "the post itself is not a reply");
        assert_eq!(thread.comments[0].parent_id, None);
        assert_eq!(thread.comments[0].author_name, "ana");
        assert_eq!(thread.comments[1].parent_id.as_deref(), Some("101"));
        assert!(thread.comments[1].by_account);
    }

    #[tokio::test]
    async fn replies_hides_and_deletes_in_xs_shapes() {
        let server = MockServer::start().await;
        let base = XConfig::simulated(&server.uri()).api_base;
        let prefix = base.trim_start_matches(&server.uri()).to_owned();
        Mock::given(method("POST"))
            .and(path(format!("{prefix}/2/tweets")))
            .and(body_json(
                json!({"text": "Sorry!", "reply": {"in_reply_to_tweet_id": "101"}}),
            ))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"data": {"id": "104", "text": "Sorry!"}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path(format!("{prefix}/2/tweets/101/hidden")))
            .and(body_json(json!({"hidden": true})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"hidden": true}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path(format!("{prefix}/2/tweets/104")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": true}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path(format!("{prefix}/2/tweets/101")))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "title": "Forbidden", "status": 403,
                "detail": "You are not allowed to delete a post you did not create."
            })))
            .expect(1)
            .mount(&server)
            .await;
        let x = adapter(&server);
        let id = x
            .reply(&account(), &token(), "100", "101", "Sorry!")
            .await
            .unwrap();
        assert_eq!(id, "104");
        x.hide(&account(), &token(), "101", true).await.unwrap();
        x.delete(&account(), &token(), "104").await.unwrap();
        assert_eq!(
            x.delete(&account(), &token(), "101").await,
            Err(CommentError::Refused(
                "You are not allowed to delete a post you did not create.".into()
            ))
        );
    }

    #[test]
    fn xs_refusals_map_to_the_comment_kinds() {
        let none = HeaderMap::new();
        let status = |n: u16| StatusCode::from_u16(n).unwrap_or(StatusCode::IM_A_TEAPOT);
        assert_eq!(
            refusal(status(401), &none, "", MODERATE_SCOPE, false),
            CommentError::TokenExpired
        );
        assert_eq!(
            refusal(status(404), &none, "{}", MODERATE_SCOPE, true),
            CommentError::Gone
        );
        let scope = r#"{"title":"Forbidden","detail":"missing scope tweet.moderate.write"}"#;
        assert!(matches!(
            refusal(status(403), &none, scope, MODERATE_SCOPE, true),
            CommentError::MissingPermission(why) if why.contains(MODERATE_SCOPE)
        ));
        let mut headers = HeaderMap::new();
        let reset = (Utc::now().timestamp() + 120).to_string();
        headers.insert(
            "x-rate-limit-reset",
            reqwest::header::HeaderValue::from_str(&reset).unwrap(),
        );
        match refusal(status(429), &headers, "", READ_SCOPES, false) {
            CommentError::RateLimited { retry_after } => {
                assert!(
                    (100..=120).contains(&retry_after.as_secs()),
                    "{retry_after:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refusal(status(503), &none, "", WRITE_SCOPE, true),
            CommentError::Unavailable {
                maybe_done: true,
                ..
            }
        ));
        assert!(matches!(
            refusal(status(500), &none, "", READ_SCOPES, false),
            CommentError::Unavailable {
                maybe_done: false,
                ..
            }
        ));
    }
}
