//! Workspaces: open and switch, create, members and invitations, activity.

pub mod activity;
pub mod create;
pub mod invitations;
pub mod members;
pub mod open;
pub mod settings;
