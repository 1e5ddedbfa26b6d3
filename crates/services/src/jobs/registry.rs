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
        name: J::KIND,
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
];

fn decode_and_run<'a, J: Job>(services: &'a Services, job: &'a job::Model) -> Running<'a> {
    Box::pin(async move {
        let payload: J::Payload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("unreadable payload: {e}")))?;
        J::run(services, job, payload).await
    })
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
    fn every_kind_is_listed_once() {
        let mut names: Vec<_> = KINDS.iter().map(|k| k.name).collect();
        let listed = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), listed, "a kind is listed twice: {names:?}");
    }
}
