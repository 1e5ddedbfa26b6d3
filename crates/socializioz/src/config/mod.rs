//! Configuration: one typed struct, read from an optional `socializioz.toml` and then from
//! `SOCIALIZIOZ__SECTION__KEY` environment variables (which win). Any key may instead be given
//! as `<key>_file` (or `SOCIALIZIOZ__SECTION__KEY_FILE`), naming a file that holds the value, for
//! secrets kept out of the environment. Everything is checked at start-up, and each complaint
//! says how to fix it.
//!
//! The parts:
//! - this file: the [`Settings`] struct and [`ConfigError`];
//! - `sections`: one struct per section, with its defaults and the checks of its own values;
//! - `lenient`: numbers and lists that may come as text from the environment;
//! - `load`: reading the file and the environment into [`Settings`];
//! - `validate`: the start-up checks across sections;
//! - `derived`: what the rest of the program needs from the settings (paths, URLs, limits);
//! - `keys`: the secret key and master keys, generated into the data folder on first start.

pub mod ai;
pub mod billing;
mod derived;
mod keys;
mod lenient;
mod load;
mod sections;
#[cfg(test)]
mod tests;
mod validate;

pub use load::load;
pub use sections::*;

use serde::Deserialize;

pub const DEFAULT_FILE: &str = "socializioz.toml";
pub const ENV_PREFIX: &str = "SOCIALIZIOZ__";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub tls: TlsSettings,
    pub data: DataSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub smtp: Option<SmtpSettings>,
    pub media: MediaSettings,
    pub security: SecuritySettings,
    pub signup: SignupSettings,
    pub invitations: InvitationSettings,
    pub worker: WorkerSettings,
    pub consent: ConsentSettings,
    pub platforms: PlatformSettings,
    pub retention: RetentionSettings,
    pub admin: AdminSettings,
    pub analytics: AnalyticsSettings,
    /// Plans and limits; absent, every workspace has everything.
    pub billing: Option<billing::BillingSettings>,
    /// The AI text provider; absent, the product has no AI.
    pub ai: Option<ai::AiSettings>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}
