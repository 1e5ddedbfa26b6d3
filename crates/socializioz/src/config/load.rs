//! Reading the settings: the TOML file, then `SOCIALIZIOZ__SECTION__KEY` environment variables,
//! then `<key>_file` indirections, into one table that becomes [`Settings`] and is validated.

use super::{ConfigError, DEFAULT_FILE, ENV_PREFIX, Settings, err};
use std::path::Path;

/// Reads the settings: the file (the given one, which must exist, or `socializioz.toml` when
/// present), then the environment, then `_file` indirections; then validates them.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut table = match file {
        Some(path) => read_table(path)?,
        None if Path::new(DEFAULT_FILE).exists() => read_table(Path::new(DEFAULT_FILE))?,
        None => toml::Table::new(),
    };
    for (key, value) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|s| s.to_lowercase()).collect();
        if path.iter().any(String::is_empty) {
            return Err(err(format!(
                "the environment variable {key} has an empty part; write it like SOCIALIZIOZ__SERVER__LISTEN"
            )));
        }
        insert(&mut table, &path, toml::Value::String(value), &key)?;
    }
    resolve_files(&mut table, "")?;
    let text = toml::to_string(&table)
        .map_err(|e| err(format!("the configuration could not be assembled: {e}")))?;
    let settings: Settings = toml::from_str(&text).map_err(|e| {
        err(format!(
            "the configuration is not valid: {}\nSettings come from {DEFAULT_FILE} and SOCIALIZIOZ__SECTION__KEY environment variables; the README lists every key.",
            e.message()
        ))
    })?;
    settings.validate()?;
    Ok(settings)
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(format!(
            "the configuration file {} could not be read: {e}",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        err(format!(
            "the configuration file {} is not valid TOML: {e}",
            path.display()
        ))
    })
}

fn insert(
    table: &mut toml::Table,
    path: &[String],
    value: toml::Value,
    origin: &str,
) -> Result<(), ConfigError> {
    match path {
        [] => Ok(()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => insert(inner, rest, value, origin),
                _ => Err(err(format!(
                    "{origin} sets a key below {first:?}, which is not a section"
                ))),
            }
        }
    }
}

/// Replaces every `<key>_file = "path"` with `<key> = <contents of path>`.
fn resolve_files(table: &mut toml::Table, prefix: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(toml::Value::Table(inner)) = table.get_mut(&key) {
            resolve_files(inner, &name)?;
            continue;
        }
        let Some(base) = key.strip_suffix("_file") else {
            continue;
        };
        if table.contains_key(base) {
            return Err(err(format!(
                "{name} and {} are both set; keep only one",
                name.trim_end_matches("_file")
            )));
        }
        let Some(toml::Value::String(path)) = table.remove(&key) else {
            return Err(err(format!("{name} must be a path to a file")));
        };
        let contents = std::fs::read_to_string(&path)
            .map_err(|e| err(format!("{name} names {path}, which could not be read: {e}")))?;
        let value = contents.strip_suffix('\n').unwrap_or(&contents);
        let value = value.strip_suffix('\r').unwrap_or(value);
        table.insert(base.to_owned(), toml::Value::String(value.to_owned()));
    }
    Ok(())
}
