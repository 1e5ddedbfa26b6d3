//! The comments under a LinkedIn organisation page's posts.
//!
//! Only an organisation's comments can be read: a member's need a restricted permission the
//! product does not have, so a member account can do nothing here (see
//! [`Conversations::abilities`]). An organisation account is one whose id at the platform is
//! its URN, `urn:li:organization:{id}`; it reads with `r_organization_social_feed` and writes
//! with `w_organization_social_feed`, and acts as that URN.
//!
//! A read is `GET /rest/socialActions/{post-urn}/comments` (100 a page, `start` moving on until
//! `paging.total`), and for each comment that has replies, the same call on the comment's URN.
//! LinkedIn names a commenter only by URN: a person shows as "LinkedIn member". A reply is
//! `POST /rest/socialActions/{comment-urn}/comments {actor, object, message:{text},
//! parentComment}` (LinkedIn nests one level: it refuses a reply to a reply), its URN coming
//! back in `x-restli-id`; deleting is `DELETE /rest/socialActions/{post-urn}/comments/{id}
//! ?actor=`. LinkedIn's API cannot hide a comment. Every call carries `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`.

use super::super::linkedin::LinkedIn;
use super::super::{AccountRef, retry_after_header};
use super::{
    Abilities, Comment, CommentError, Conversations, Thread, oldest_first, send_failed, unreadable,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

const READ_SCOPE: &str = "r_organization_social_feed";
const WRITE_SCOPE: &str = "w_organization_social_feed";
const ORGANIZATION: &str = "urn:li:organization:";
/// How a person commenting shows (LinkedIn gives only their URN).
const MEMBER: &str = "LinkedIn member";
/// The most pages one list follows.
const MOST_PAGES: u32 = 20;
const PAGE_SIZE: usize = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Comments {
    elements: Vec<Element>,
    paging: Option<Paging>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Paging {
    total: Option<usize>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "commentUrn")]
    comment_urn: Option<String>,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    object: String,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    created: Option<Stamp>,
    #[serde(default, rename = "parentComment")]
    parent_comment: Option<String>,
    #[serde(default, rename = "commentsSummary")]
    summary: Option<Summary>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Stamp {
    time: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Summary {
    #[serde(rename = "aggregatedTotalComments")]
    aggregated: Option<u64>,
    #[serde(rename = "totalFirstLevelComments")]
    first_level: Option<u64>,
}

/// LinkedIn's error body.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    code: String,
    message: String,
}

/// The organisation URN an account acts as, if it is an organisation.
fn organisation(account: &AccountRef) -> Option<&str> {
    account
        .external_id
        .starts_with(ORGANIZATION)
        .then_some(account.external_id.as_str())
}

fn member_refusal() -> CommentError {
    CommentError::Refused(
        "LinkedIn lets an app read and answer the comments of organisation pages only".into(),
    )
}

/// A URN as a path segment (its colons, parentheses and commas encoded).
fn encoded(urn: &str) -> String {
    form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

/// The post and the comment's own id in a comment's URN, `urn:li:comment:({post},{id})`.
fn parts(comment_urn: &str) -> Option<(&str, &str)> {
    let inner = comment_urn
        .strip_prefix("urn:li:comment:(")?
        .strip_suffix(')')?;
    inner.rsplit_once(',')
}

/// LinkedIn's refusal of a call needing `scope`.
fn refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    scope: &str,
    version: &str,
    write: bool,
) -> CommentError {
    let error: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let message = if error.message.is_empty() {
        error.code.clone()
    } else {
        error.message
    };
    match status.as_u16() {
        401 => CommentError::TokenExpired,
        403 => CommentError::MissingPermission(format!(
            "LinkedIn needs the {scope} permission and an administrator of the page ({message})"
        )),
        404 => CommentError::Gone,
        429 => CommentError::RateLimited {
            retry_after: retry_after_header(headers).unwrap_or_else(until_midnight),
        },
        426 => CommentError::Unavailable {
            reason: format!(
                "LinkedIn no longer serves API version {version} ({message}); set the LinkedIn \
                 API version setting (LinkedIn-Version) to a current month"
            ),
            maybe_done: false,
        },
        400..=499 => CommentError::Refused(message),
        _ => CommentError::Unavailable {
            reason: format!("LinkedIn answered {status}: {message}"),
            maybe_done: write,
        },
    }
}

/// Until midnight UTC, when LinkedIn's daily limits start again.
fn until_midnight() -> Duration {
    let now = Utc::now();
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Duration::from_secs(u64::try_from((midnight - now).num_seconds().max(1)).unwrap_or(1))
}

/// What a call answered: its headers and body.
struct Answered {
    headers: HeaderMap,
    body: String,
}

impl LinkedIn {
    fn social_actions(&self, urn: &str) -> String {
        format!(
            "{}/rest/socialActions/{}/comments",
            self.config.api_base,
            encoded(urn)
        )
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
        scope: &str,
        write: bool,
    ) -> Result<Answered, CommentError> {
        let res = request
            .bearer_auth(token.expose_secret())
            .header("LinkedIn-Version", &self.config.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .send()
            .await
            .map_err(|e| send_failed(&e, write))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.map_err(|e| send_failed(&e, write))?;
        if status.is_success() {
            Ok(Answered { headers, body })
        } else {
            Err(refusal(
                status,
                &headers,
                &body,
                scope,
                &self.config.version,
                write,
            ))
        }
    }

    /// Every comment listed under `urn` (a post, or a comment for its replies).
    async fn list(
        &self,
        token: &SecretString,
        urn: &str,
        calls: &mut u32,
    ) -> Result<Vec<Element>, CommentError> {
        let mut all = Vec::new();
        let mut start = 0usize;
        loop {
            *calls += 1;
            let url = format!(
                "{}?start={start}&count={PAGE_SIZE}",
                self.social_actions(urn)
            );
            let answered = self
                .send(self.http.get(url), token, READ_SCOPE, false)
                .await?;
            let page: Comments =
                serde_json::from_str(&answered.body).map_err(|e| CommentError::Unavailable {
                    reason: format!("LinkedIn's answer could not be read ({})", unreadable(&e)),
                    maybe_done: false,
                })?;
            let got = page.elements.len();
            all.extend(page.elements);
            start += got;
            let total = page.paging.and_then(|p| p.total).unwrap_or(start);
            if got == 0 || start >= total || *calls >= MOST_PAGES {
                return Ok(all);
            }
        }
    }
}

/// `element` as a comment of the thread of `account` (the organisation `org`).
fn comment(element: Element, org: &str, account: &AccountRef) -> Option<Comment> {
    let created_at = DateTime::from_timestamp_millis(element.created.as_ref()?.time)?;
    let id = element.comment_urn.clone().or_else(|| {
        element
            .id
            .as_ref()
            .map(|id| format!("urn:li:comment:({},{id})", element.object))
    })?;
    let by_account = element.actor == org;
    Some(Comment {
        id,
        parent_id: element.parent_comment,
        author_name: if by_account {
            account.username.clone()
        } else {
            MEMBER.to_owned()
        },
        author_id: Some(element.actor),
        text: element.message.map(|m| m.text).unwrap_or_default(),
        created_at,
        hidden: false,
        by_account,
    })
}

#[async_trait]
impl Conversations for LinkedIn {
    /// None yet. Only members connect (through Sign In with LinkedIn), and a member's comments
    /// cannot be read; asking an app without LinkedIn's organisation product for the
    /// organisation scopes ([`READ_SCOPE`], [`WRITE_SCOPE`]) would make LinkedIn refuse the whole
    /// authorisation. They are asked once organisation pages connect.
    fn comment_scopes(&self) -> &'static [&'static str] {
        &[]
    }

    /// An organisation reads, answers and deletes; nothing hides. A member can do nothing.
    fn abilities(&self, account: &AccountRef) -> Abilities {
        let org = organisation(account).is_some();
        Abilities {
            read: org,
            reply: org,
            hide: false,
            delete: org,
        }
    }

    async fn comments(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Thread, CommentError> {
        let org = organisation(account).ok_or_else(member_refusal)?;
        let mut thread = Thread::default();
        let top = self.list(token, post_id, &mut thread.calls).await?;
        let mut all = Vec::new();
        for element in top {
            let has_replies = element
                .summary
                .as_ref()
                .is_some_and(|s| s.aggregated.or(s.first_level).unwrap_or(0) > 0);
            let urn = element.comment_urn.clone();
            all.push(element);
            if let (true, Some(urn)) = (has_replies, urn) {
                let replies = self.list(token, &urn, &mut thread.calls).await?;
                all.extend(replies.into_iter().map(|mut reply| {
                    reply.parent_comment.get_or_insert_with(|| urn.clone());
                    reply
                }));
            }
        }
        thread.comments = all
            .into_iter()
            .filter_map(|e| comment(e, org, account))
            .filter(|c| since.is_none_or(|since| c.created_at >= since))
            .collect();
        oldest_first(&mut thread.comments);
        Ok(thread)
    }

    async fn reply(
        &self,
        account: &AccountRef,
        token: &SecretString,
        post_id: &str,
        comment_id: &str,
        text: &str,
    ) -> Result<String, CommentError> {
        let org = organisation(account).ok_or_else(member_refusal)?;
        let body = json!({
            "actor": org,
            "object": post_id,
            "message": {"text": text},
            "parentComment": comment_id,
        });
        let answered = self
            .send(
                self.http.post(self.social_actions(comment_id)).json(&body),
                token,
                WRITE_SCOPE,
                true,
            )
            .await?;
        let from_header = answered
            .headers
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let from_body = serde_json::from_str::<serde_json::Value>(&answered.body)
            .ok()
            .and_then(|b| b["commentUrn"].as_str().map(str::to_owned));
        from_header
            .or(from_body)
            .ok_or_else(|| CommentError::Unavailable {
                reason: "LinkedIn did not say which comment it made".into(),
                maybe_done: true,
            })
    }

    async fn hide(
        &self,
        _account: &AccountRef,
        _token: &SecretString,
        _comment_id: &str,
        _hidden: bool,
    ) -> Result<(), CommentError> {
        Err(CommentError::Refused(
            "LinkedIn's API cannot hide comments".into(),
        ))
    }

    async fn delete(
        &self,
        account: &AccountRef,
        token: &SecretString,
        comment_id: &str,
    ) -> Result<(), CommentError> {
        let org = organisation(account).ok_or_else(member_refusal)?;
        let (post, id) = parts(comment_id).ok_or_else(|| {
            CommentError::Refused(format!("{comment_id} is not a LinkedIn comment"))
        })?;
        let url = format!(
            "{}/{}?actor={}",
            self.social_actions(post),
            encoded(id),
            encoded(org)
        );
        self.send(self.http.delete(url), token, WRITE_SCOPE, true)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::linkedin::LinkedInConfig;
    use domain::Platform;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn adapter(server: &MockServer) -> LinkedIn {
        let mut config = LinkedInConfig::simulated(&server.uri());
        config.api_base = server.uri();
        LinkedIn::new(config)
    }

    fn org() -> AccountRef {
        AccountRef {
            id: 1,
            platform: Platform::LinkedIn,
            external_id: "urn:li:organization:5".into(),
            username: "Acme".into(),
        }
    }

    fn token() -> SecretString {
        SecretString::from("li-token-secret")
    }

    #[test]
    fn only_an_organisation_can_do_anything() {
        let adapter = LinkedIn::new(LinkedInConfig::simulated("http://127.0.0.1:9"));
        let member = AccountRef {
            external_id: "abc".into(),
            ..org()
        };
        assert_eq!(adapter.abilities(&member), Abilities::default());
        assert_eq!(
            adapter.abilities(&org()),
            Abilities {
                read: true,
                reply: true,
                hide: false,
                delete: true
            }
        );
        assert_eq!(
            parts("urn:li:comment:(urn:li:share:7,99)"),
            Some(("urn:li:share:7", "99"))
        );
    }

    #[tokio::test]
    async fn a_read_takes_the_replies_of_comments_that_have_some() {
        let server = MockServer::start().await;
        let post = "urn:li:share:7";
        let first = "urn:li:comment:(urn:li:share:7,1)";
        Mock::given(method("GET"))
            .and(path("/rest/socialActions/urn%3Ali%3Ashare%3A7/comments"))
            .and(header("LinkedIn-Version", "202601"))
            .and(header("X-Restli-Protocol-Version", "2.0.0"))
            .and(query_param("count", "100"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "paging": {"start": 0, "count": 100, "total": 1},
                "elements": [{"id": "1", "commentUrn": first, "actor": "urn:li:person:a",
                    "object": post, "message": {"text": "Refund?"},
                    "created": {"time": 1_780_000_000_000_i64},
                    "commentsSummary": {"totalFirstLevelComments": 1, "aggregatedTotalComments": 1}}],
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(
                "/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Ashare%3A7%2C1%29/comments",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "paging": {"start": 0, "count": 100, "total": 1},
                "elements": [{"id": "2", "commentUrn": "urn:li:comment:(urn:li:share:7,2)",
                    "actor": "urn:li:organization:5", "object": post,
                    "message": {"text": "Sorted"}, "parentComment": first,
                    "created": {"time": 1_780_000_060_000_i64}}],
            })))
            .expect(1)
            .mount(&server)
            .await;
        let thread = adapter(&server)
            .comments(&org(), &token(), post, None)
            .await
            .unwrap();
        assert_eq!(thread.calls, 2);
        assert_eq!(thread.comments.len(), 2);
        assert_eq!(thread.comments[0].author_name, MEMBER);
        assert_eq!(thread.comments[1].parent_id.as_deref(), Some(first));
        assert!(thread.comments[1].by_account);
    }

    #[tokio::test]
    async fn replies_and_deletes_as_the_organisation() {
        let server = MockServer::start().await;
        let post = "urn:li:share:7";
        let first = "urn:li:comment:(urn:li:share:7,1)";
        Mock::given(method("POST"))
            .and(path(
                "/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Ashare%3A7%2C1%29/comments",
            ))
            .and(body_json(
                json!({"actor": "urn:li:organization:5", "object": post,
                "message": {"text": "Hi"}, "parentComment": first}),
            ))
            .respond_with(
                ResponseTemplate::new(201)
                    .insert_header("x-restli-id", "urn:li:comment:(urn:li:share:7,3)"),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/rest/socialActions/urn%3Ali%3Ashare%3A7/comments/3"))
            .and(query_param("actor", "urn:li:organization:5"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let li = adapter(&server);
        let id = li.reply(&org(), &token(), post, first, "Hi").await.unwrap();
        assert_eq!(id, "urn:li:comment:(urn:li:share:7,3)");
        li.delete(&org(), &token(), &id).await.unwrap();
        assert!(matches!(
            li.hide(&org(), &token(), &id, true).await,
            Err(CommentError::Refused(_))
        ));
    }

    #[test]
    fn linkedins_refusals_map_to_the_comment_kinds() {
        let none = HeaderMap::new();
        let status = |n: u16| StatusCode::from_u16(n).unwrap_or(StatusCode::IM_A_TEAPOT);
        let denied = r#"{"status":403,"code":"ACCESS_DENIED","message":"Not enough permissions"}"#;
        assert!(matches!(
            refusal(status(403), &none, denied, READ_SCOPE, "202601", false),
            CommentError::MissingPermission(why) if why.contains(READ_SCOPE)
        ));
        assert_eq!(
            refusal(status(401), &none, "", READ_SCOPE, "202601", false),
            CommentError::TokenExpired
        );
        assert_eq!(
            refusal(status(404), &none, "", WRITE_SCOPE, "202601", true),
            CommentError::Gone
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            reqwest::header::HeaderValue::from_static("9"),
        );
        assert_eq!(
            refusal(status(429), &headers, "", READ_SCOPE, "202601", false),
            CommentError::RateLimited {
                retry_after: Duration::from_secs(9)
            }
        );
        let nested = r#"{"message":"parentComment must be a top-level comment"}"#;
        assert_eq!(
            refusal(status(422), &none, nested, WRITE_SCOPE, "202601", true),
            CommentError::Refused("parentComment must be a top-level comment".into())
        );
        assert!(matches!(
            refusal(status(502), &none, "", WRITE_SCOPE, "202601", true),
            CommentError::Unavailable {
                maybe_done: true,
                ..
            }
        ));
    }
}
