//! The states of a data export (`data_exports.state`).

pub const QUEUED: &str = "queued";
pub const BUILDING: &str = "building";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";
pub const EXPIRED: &str = "expired";
