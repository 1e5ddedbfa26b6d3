//! Where log lines go and how they look: standard error, filtered by `SOCIALIZIOZ_LOG` (by
//! default `info,sqlx=warn,sea_orm=warn`), written as text or, with
//! `SOCIALIZIOZ_LOG_FORMAT=json`, as one JSON object a line that also carries the fields of the
//! span it was written in and of the spans around it (the request id, a job's id), for a log
//! collector to index.

use tracing_subscriber::EnvFilter;

/// The variable holding the filter (`debug`, `info,services=debug`, …).
pub const FILTER_VAR: &str = "SOCIALIZIOZ_LOG";
/// The variable choosing the format: `text` (the default) or `json`.
pub const FORMAT_VAR: &str = "SOCIALIZIOZ_LOG_FORMAT";
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event, with the current span and the list of spans it is in.
    Json,
}

impl LogFormat {
    /// Reads the value of [`FORMAT_VAR`]: unset or empty means text; case does not matter.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(Self::Json),
            Some(other) => Err(format!(
                "{FORMAT_VAR} is {other:?}; set it to \"json\" for one JSON object a line, or to \
                 \"text\" (the default)"
            )),
        }
    }
}

/// Starts logging to standard error, as the environment says. Fails only when
/// [`FORMAT_VAR`] names a format it does not know.
pub fn init() -> Result<(), String> {
    let format = LogFormat::parse(std::env::var(FORMAT_VAR).ok().as_deref())?;
    let filter =
        EnvFilter::try_from_env(FILTER_VAR).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_unless_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some(" JSON ")), Ok(LogFormat::Json));
        let refused = LogFormat::parse(Some("xml"));
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("SOCIALIZIOZ_LOG_FORMAT is \"xml\"")),
            "{refused:?}"
        );
    }
}
