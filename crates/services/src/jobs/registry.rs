//! Every kind of job the worker runs, in one list. A job's kind is looked up here, its payload
//! decoded once, and its [`Job::run`] called; a kind missing from the list ends its job with
//! "no handler".

use super::{Job, JobError};
use crate::Services;
use std::future::Future;
use std::pin::Pin;
use store::entities::job;

type Running<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// One kind of job: its name in `jobs.kind` and how to run it.
pub struct Kind {
    pub name: &'static str,
    run: for<'a> fn(&'a Services, &'a job::Model) -> Running<'a>,
}

const fn kind<J: Job>() -> Kind {
    Kind {
        name: <J::Payload as crate::queue::Payload>::KIND,
        run: decode_and_run::<J>,
    }
}

/// The kinds of job, one line each.
pub const KINDS: &[Kind] = &[
    kind::<crate::emails::Deliver>(),
    kind::<crate::publishing::job::Publish>(),
    kind::<crate::first_comments::PostFirstComment>(),
    kind::<crate::deletion::DeleteAccount>(),
    kind::<crate::token_refresh::RefreshTokens>(),
    kind::<crate::account_profiles::RefreshProfile>(),
    kind::<crate::export::BuildExport>(),
    kind::<crate::export::ExpireExport>(),
    kind::<crate::deletion_requests::check::CheckRequests>(),
    kind::<crate::housekeeping::Retention>(),
    kind::<crate::usage::Rollup>(),
    kind::<crate::accounts::signup::SignUp>(),
    kind::<crate::billing::RunDeadline>(),
    kind::<crate::billing::RunCancel>(),
    kind::<crate::media::generate::GenerateMedia>(),
    kind::<crate::analytics::ingest::ReadMetrics>(),
    kind::<crate::comments::ingest::ReadComments>(),
    kind::<crate::inbox::ReadMessages>(),
];

fn decode_and_run<'a, J: Job>(services: &'a Services, job: &'a job::Model) -> Running<'a> {
    Box::pin(async move {
        let payload: J::Payload =
            serde_json::from_str(&job.payload).map_err(|e| JobError::Permanent(unreadable(&e)))?;
        J::run(services, job, payload).await
    })
}

/// Why a payload could not be read: where it stopped making sense, not what it held (a payload
/// can carry an address or a name, and the reason is logged and kept on the job).
fn unreadable(err: &serde_json::Error) -> String {
    format!(
        "unreadable payload ({:?} error at line {}, column {})",
        err.classify(),
        err.line(),
        err.column()
    )
}

/// Runs `job` with the handler of its kind.
pub async fn run(services: &Services, job: &job::Model) -> Result<(), JobError> {
    match KINDS.iter().find(|k| k.name == job.kind) {
        Some(kind) => (kind.run)(services, job).await,
        None => Err(JobError::Permanent(format!(
            "no handler for job kind {:?}",
            job.kind
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::KINDS;

    #[test]
    fn an_unreadable_payload_is_not_repeated_in_the_reason() {
        let err = serde_json::from_str::<crate::publishing::PublishTarget>(
            r#"{"target": "ada@example.com", "revision": 1}"#,
        )
        .expect_err("a text where an id belongs");
        assert!(
            err.to_string().contains("ada@example.com"),
            "serde's own message names it"
        );
        let reason = super::unreadable(&err);
        assert!(reason.starts_with("unreadable payload"), "{reason}");
        assert!(!reason.contains("ada@example.com"), "{reason}");
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut names: Vec<_> = KINDS.iter().map(|k| k.name).collect();
        let listed = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), listed, "a kind is listed twice: {names:?}");
    }
}
