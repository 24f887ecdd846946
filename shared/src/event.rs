//! Decoding the AppSync Direct Lambda resolver event.
//!
//! A lenient envelope of our own rather than `aws_lambda_events`' `AppSyncDirectResolverEvent`,
//! which rejects events without `stash` or `selectionSetGraphQL` (hand-written and pipeline
//! events often lack them) and whose identity enum cannot tell IAM from JWT callers. Only what
//! routing and identity need is required; the rest is kept as JSON.

use serde::Deserialize;
use serde_json::Value;

use crate::error::AppError;
use crate::text::shorten;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolverEvent {
    #[serde(default)]
    pub arguments: Value,
    #[serde(default)]
    pub identity: Option<Value>,
    /// The parent object of a nested field; `null` at the root.
    #[serde(default)]
    pub source: Option<Value>,
    pub info: Info,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub parent_type_name: String,
    pub field_name: String,
    #[serde(default)]
    pub selection_set_list: Vec<String>,
}

/// A GraphQL field, `Type.field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub type_name: &'static str,
    pub field_name: &'static str,
}

impl Field {
    pub const fn new(type_name: &'static str, field_name: &'static str) -> Self {
        Field {
            type_name,
            field_name,
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.type_name, self.field_name)
    }
}

impl ResolverEvent {
    /// Decodes one event and checks it is for `field` (a misrouted event is refused before
    /// anything else is read from it).
    pub fn decode(payload: Value, field: Field) -> Result<Self, AppError> {
        if payload.is_array() {
            return Err(AppError::validation(format!(
                "{field} does not accept batched (BatchInvoke) events."
            )));
        }
        let event: ResolverEvent = serde_json::from_value(payload).map_err(|e| {
            AppError::validation(format!("The event is not an AppSync resolver event: {e}."))
        })?;
        if event.info.parent_type_name != field.type_name
            || event.info.field_name != field.field_name
        {
            return Err(AppError::validation(format!(
                "Misrouted event: this function resolves {field}, not {}.{}.",
                shorten(&event.info.parent_type_name, 64),
                shorten(&event.info.field_name, 64)
            )));
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOTE: Field = Field::new("Query", "note");

    #[test]
    fn minimal_events_decode_without_stash_prev_or_request() {
        let e = ResolverEvent::decode(
            json!({"arguments": {"id": "n1"}, "identity": null, "info": {"parentTypeName": "Query", "fieldName": "note"}}),
            NOTE,
        )
        .unwrap();
        assert_eq!(e.arguments["id"], "n1");
    }

    #[test]
    fn misrouted_batched_and_malformed_events_are_validation_errors() {
        for bad in [
            json!({"arguments": {}, "info": {"parentTypeName": "Query", "fieldName": "notes"}}),
            json!({"arguments": {}, "info": {"parentTypeName": "Mutation", "fieldName": "note"}}),
            json!([{"arguments": {}, "info": {"parentTypeName": "Query", "fieldName": "note"}}]),
            json!({"arguments": {}}),
            json!({"info": {"parentTypeName": 1, "fieldName": "note"}}),
            json!("hello"),
            json!(null),
        ] {
            assert!(matches!(
                ResolverEvent::decode(bad, NOTE),
                Err(AppError::Validation(_))
            ));
        }
    }
}
