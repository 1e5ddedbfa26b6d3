//! Values that may come as TOML values or, from the environment, as text: numbers written as
//! strings, yes-or-no settings written as `true` or `false`, and lists written as
//! comma-separated strings.

use serde::{Deserialize, Deserializer};

/// Numbers may come as TOML integers or, from the environment, as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(i64),
    Text(String),
}

fn lenient<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    let n = match NumOrText::deserialize(d)? {
        NumOrText::Num(n) => n,
        NumOrText::Text(s) => s.trim().parse::<i64>().map_err(|_| {
            serde::de::Error::custom(format!("expected a whole number, found {s:?}"))
        })?,
    };
    T::try_from(n).map_err(|_| serde::de::Error::custom(format!("the number {n} is out of range")))
}

/// Lists may come as TOML arrays or, from the environment, as comma-separated strings.
pub(super) fn lenient_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(d)? {
        ListOrText::List(list) => list,
        ListOrText::Text(text) => text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

pub(super) fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    lenient(d)
}

pub(super) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient(d)
}

pub(super) fn lenient_opt_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    lenient(d).map(Some)
}

/// Yes-or-no settings may come as TOML booleans or, from the environment, as `true`/`false`
/// (also `1`/`0`, `yes`/`no`, `on`/`off`, in any case).
pub(super) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrText {
        Bool(bool),
        Text(String),
    }
    match BoolOrText::deserialize(d)? {
        BoolOrText::Bool(b) => Ok(b),
        BoolOrText::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, found {text:?}"
            ))),
        },
    }
}
