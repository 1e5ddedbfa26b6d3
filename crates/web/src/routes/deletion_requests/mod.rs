//! The page behind the link e-mailed for a deletion request (see
//! `services::deletion_requests`).

pub mod confirm;
