//! The person's own settings: profile, e-mail address, password, sessions.

pub mod delete;
pub mod email;
pub mod password;
pub mod privacy;
pub mod profile;
pub mod sessions;
