//! Form errors: one message per field, shown next to it when the form is rendered again.

use services::ServiceError;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// Keeps the value when it parsed; records the message under `field` when it did not.
    pub fn check<T>(
        &mut self,
        field: &'static str,
        parsed: Result<T, domain::Invalid>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(field, err.0);
                None
            }
        }
    }

    pub fn get(&self, field: impl AsRef<str>) -> Option<&String> {
        self.0.get(field.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, for the summary at the top of a form.
    pub fn all(&self) -> Vec<(&str, &String)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }

    /// Takes a service's refusal of a field; any other error is handed back.
    pub fn absorb(&mut self, err: ServiceError) -> Result<(), ServiceError> {
        match err {
            ServiceError::Invalid { field, message } => {
                self.add(field, message);
                Ok(())
            }
            ServiceError::Fields(fields) => {
                for (field, message) in fields {
                    self.add(field, message);
                }
                Ok(())
            }
            other => Err(other),
        }
    }

    /// Takes a service's refusal into the form, to show it again with what was typed: a
    /// field's refusal at that field, a plan's limit, a role's refusal or an unavailable
    /// provider under `general`; returns the status it answers with. Anything else (not found,
    /// a fault) is handed back for the error page.
    pub fn refuse(
        &mut self,
        err: ServiceError,
        general: &str,
    ) -> Result<axum::http::StatusCode, ServiceError> {
        use axum::http::StatusCode;
        let status = match &err {
            ServiceError::PlanLimit { .. } => StatusCode::PAYMENT_REQUIRED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => {
                self.absorb(err)?;
                return Ok(StatusCode::UNPROCESSABLE_ENTITY);
            }
        };
        self.add(general, err.to_string());
        Ok(status)
    }
}

/// An on/off form (`on=1` turns something on, anything else off): AI, the agent's leash,
/// analytics.
#[derive(serde::Deserialize)]
pub struct Switch {
    on: String,
}

impl Switch {
    pub fn on(&self) -> bool {
        self.on == "1"
    }
}
