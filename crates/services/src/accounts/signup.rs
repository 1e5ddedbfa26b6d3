//! Sign-up, which does not say whether an address already has an account: the request only
//! hashes the password and queues the `sign_up` job (the same work either way) and answers
//! "check your inbox"; the job creates the account and sends its confirmation link, or, when the
//! address is taken, e-mails the owner instead. The confirmation link signs in only the browser
//! that signed up (it holds the keyed proof of the link in a cookie).

use super::*;
use crate::jobs::{Job, JobError};
use crate::sessions::{self};
use crate::{Result, ServiceError, Services, emails, passwords, queue, tokens};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use store::entities::{job, policy_version, user};

/// Where a sign-up came from, for the record of the policies it accepted.
#[derive(Debug, Clone, Default)]
pub struct SignupOrigin {
    /// The browser's consent id, when it has one.
    pub consent_id: Option<String>,
    pub locale: String,
    pub client: String,
}

/// What the sign-up job needs, written by the request. It holds the password's hash, never the
/// password, and is emptied in the transaction that carries the sign-up out.
#[derive(Serialize, Deserialize)]
pub struct SignupRequest {
    name: String,
    email: String,
    password_hash: String,
    timezone: String,
    language: String,
    /// The policy versions shown on the form (ids of `policy_versions`).
    policies: Vec<i64>,
    consent_id: Option<String>,
    locale: String,
    client: String,
    browser: String,
    /// The confirmation link's secret, chosen by the request (see [`Services::signup_proof`]).
    link_token: String,
    /// Where to go once the address is confirmed (a local path), or empty.
    next: String,
}

/// Shows what is safe in a log: not the name, address, password hash, link secret or network
/// address.
impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRequest")
            .field("timezone", &self.timezone)
            .field("language", &self.language)
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// The sign-up job's payload: the request, or `{}` once the step that makes the account has
/// emptied it (a retry of that job then has nothing left to do).
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SignUpPayload {
    Waiting(Box<SignupRequest>),
    Emptied(EmptyObject),
}

/// `{}` and nothing else.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyObject {}

impl queue::Payload for SignUpPayload {
    const KIND: &'static str = "sign_up";
}

/// Runs a queued sign-up (see [`Services::sign_up`]).
pub struct SignUp;

impl Job for SignUp {
    type Payload = SignUpPayload;

    async fn run(
        services: &Services,
        job: &job::Model,
        payload: SignUpPayload,
    ) -> Result<(), JobError> {
        match payload {
            SignUpPayload::Emptied(_) => Ok(()),
            SignUpPayload::Waiting(request) => services
                .complete_sign_up(job.id, *request)
                .await
                .map_err(JobError::retry),
        }
    }
}

impl Services {
    /// Starts a sign-up; returns the proof for the browser's sign-up cookie (see
    /// [`Self::signup_proof`]). The work and the answer are the same whether the address is
    /// new or already has an account, so neither reveals which: the password is hashed and a
    /// job is queued, nothing else. The job ([`run_sign_up`]) creates the account, records the
    /// policies it accepted with where the acceptance came from (`origin`) and sends the
    /// confirmation link (carrying `next`, a local path, or empty); or it tells the owner of
    /// the address. Sign-ups are limited per client and overall.
    #[tracing::instrument(skip_all)]
    pub async fn sign_up(
        &self,
        account: NewAccount,
        user_agent: &str,
        origin: &SignupOrigin,
        next: &str,
    ) -> Result<String, AuthError> {
        let client_key = self.keys.mac("throttle", origin.client.as_bytes());
        self.signup_throttle.admit(&client_key).map_err(|refusal| {
            tracing::warn!(?refusal, "sign-up refused by its limit");
            AuthError::signup(refusal)
        })?;
        let password_hash = passwords::hash(&account.password).await?;
        let policies = self
            .versions_in_effect(&domain::policy::PolicyKind::AT_SIGNUP)
            .await?;
        let link_token = tokens::random_token();
        let request = SignupRequest {
            name: account.name.as_str().to_owned(),
            email: account.email.as_str().to_owned(),
            password_hash,
            timezone: account.timezone.name().to_owned(),
            language: account.language.code().to_owned(),
            policies: policies.iter().map(|p| p.id).collect(),
            consent_id: origin.consent_id.clone(),
            locale: origin.locale.clone(),
            client: origin.client.clone(),
            browser: sessions::describe_device(user_agent),
            next: next.to_owned(),
            link_token,
        };
        let recipient = request.email.clone();
        let proof = self.signup_proof(&request.link_token);
        let mut job = queue::NewJob::of(&SignUpPayload::Waiting(Box::new(request)))?;
        // A deletion request for the address withdraws a sign-up that has not run yet.
        job.recipient = Some(recipient);
        queue::enqueue(&self.db, job).await?;
        self.wake.notify_one();
        tracing::info!("sign-up queued");
        Ok(proof)
    }

    /// The value of the sign-up cookie for the confirmation link whose secret is `token`: a
    /// keyed hash, so only the browser that signed up holds it, and it does not reveal the link.
    pub fn signup_proof(&self, token: &str) -> String {
        self.keys.mac("signup-browser", token.as_bytes())
    }

    /// Carries out a queued sign-up, once: the job's payload is emptied in the same
    /// transaction, so a retry after a crash finds nothing left to do.
    async fn complete_sign_up(&self, job_id: i64, request: SignupRequest) -> Result<()> {
        let policies = policy_version::Entity::find()
            .filter(policy_version::Column::Id.is_in(request.policies.iter().copied()))
            .all(&self.db)
            .await?;
        let txn = store::begin_write(&self.db).await?;
        let claimed = job::Entity::update_many()
            .col_expr(job::Column::Payload, Expr::value("{}"))
            .filter(job::Column::Id.eq(job_id))
            .filter(job::Column::Payload.ne("{}"))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(());
        }
        let existing = user::Entity::find()
            .filter(user::Column::Email.eq(request.email.as_str()))
            .one(&txn)
            .await?;
        if let Some(owner) = existing {
            let login = format!("{}/login", self.base_url);
            self.send_link_as(
                &txn,
                &owner,
                Purpose::ResetPassword,
                &owner.email,
                |to, name, link| emails::sign_up_with_your_address(to, name, &login, link),
            )
            .await?;
            txn.commit().await?;
            tracing::info!(
                user = owner.id,
                "sign-up with an address in use: its owner is told"
            );
            return Ok(());
        }
        let user = user_row(
            &request.name,
            &request.email,
            request.password_hash,
            &request.timezone,
            &request.language,
            false,
        )
        .insert(&txn)
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                // Another sign-up took the address meanwhile: the next run tells its owner.
                ServiceError::Unexpected(anyhow::anyhow!("the address was taken meanwhile"))
            } else {
                e.into()
            }
        })?;
        let acceptor = crate::policies::Acceptor {
            user_id: user.id,
            consent_id: request.consent_id,
            locale: request.locale,
            client: request.client,
            browser: request.browser,
        };
        self.accept_policies(&txn, &acceptor, &policies, crate::consent::Source::Signup)
            .await?;
        let token = issue_link_with(
            &txn,
            UserId(user.id),
            Purpose::VerifyEmail,
            &user.email,
            request.link_token,
        )
        .await?;
        let mut link = format!("{}{}{token}", self.base_url, Purpose::VerifyEmail.path());
        if !request.next.is_empty() {
            link = format!(
                "{link}?next={}",
                form_urlencoded::byte_serialize(request.next.as_bytes()).collect::<String>()
            );
        }
        emails::queue(
            &txn,
            emails::verify_address(&user.email, &user.name, &link),
            Some(UserId(user.id)),
        )
        .await?;
        txn.commit().await?;
        tracing::info!(user = user.id, "account created");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SignupRequest;

    #[test]
    fn a_sign_up_request_prints_no_secret_or_personal_data() {
        let request: SignupRequest = serde_json::from_value(serde_json::json!({
            "name": "Ada Lovelace", "email": "ada@example.com", "password_hash": "$argon2id$x",
            "timezone": "Europe/London", "language": "en", "policies": [1, 2],
            "consent_id": "c0ns3nt", "locale": "en-GB", "client": "203.0.113.9",
            "browser": "Firefox", "link_token": "s3cr3t-link", "next": "/settings"
        }))
        .expect("a request");
        let shown = format!("{request:?}");
        for hidden in [
            "Ada",
            "ada@example.com",
            "argon2id",
            "203.0.113.9",
            "s3cr3t-link",
        ] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        assert!(shown.contains("Europe/London"), "{shown}");
    }
}
