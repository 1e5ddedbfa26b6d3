//! facebook under `/facebook` (being written).

use crate::Simulator;
use axum::Router;

pub fn router(sim: Simulator) -> Router {
    Router::new().with_state(sim)
}
