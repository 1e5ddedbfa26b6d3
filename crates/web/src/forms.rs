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
}
