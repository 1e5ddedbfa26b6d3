//! The request id: one short random id per web request, carried on every log line of the
//! request and into the jobs it enqueues, so one post can be followed from the click to the
//! platform call. It names nothing about the person (no address, name, token or text).

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// A new request id: 16 hexadecimal characters.
pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Runs `work` with `id` as the current request id.
pub async fn with_request_id<F: Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The request id of the work running now, if it runs for a request or a job that one
/// enqueued.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
