//! The table's DynamoDB stream as the `note-publisher` function receives it (Lambda's
//! DynamoDB event: `{"Records": [{"eventID", "eventName", "dynamodb": {"Keys", "OldImage",
//! "NewImage", "SequenceNumber"}}]}`, images in DynamoDB JSON), turned into the changes to
//! publish. Only note items matter; the event source mapping already filters on their sort key
//! (template.yaml), and anything else that arrives is skipped here too.

use serde::Deserialize;

use super::{NoteChange, changes};
use crate::error::AppError;
use crate::notes::Note;
use crate::store::NOTE_PREFIX;
use crate::text::shorten;

/// Lambda's DynamoDB stream event.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamData {
    #[serde(default)]
    pub keys: Option<serde_dynamo::Item>,
    #[serde(default)]
    pub old_image: Option<serde_dynamo::Item>,
    #[serde(default)]
    pub new_image: Option<serde_dynamo::Item>,
    /// Where Lambda resumes after a partial batch failure (`batchItemFailures`).
    #[serde(default)]
    pub sequence_number: String,
}

/// The function's answer with `ReportBatchItemFailures`: Lambda retries from the first failed
/// record (stream order is kept), so nothing published before it is published again.
#[derive(Debug, Default, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

fn sort_key(item: &serde_dynamo::Item) -> Option<&str> {
    match item.get("sk") {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

fn decode(image: &Option<serde_dynamo::Item>) -> Result<Option<Note>, AppError> {
    image
        .as_ref()
        .map(|item| {
            serde_dynamo::from_item(item.clone()).map_err(|e| {
                AppError::Internal(format!(
                    "a note image in the stream does not decode: {}",
                    shorten(&e.to_string(), 200)
                ))
            })
        })
        .transpose()
}

impl StreamRecord {
    /// Is this record about a note item?
    pub fn is_note(&self) -> bool {
        let d = &self.dynamodb;
        [&d.keys, &d.new_image, &d.old_image]
            .into_iter()
            .flatten()
            .filter_map(sort_key)
            .next()
            .is_some_and(|sk| sk.starts_with(NOTE_PREFIX))
    }

    /// The changes this record publishes (none for items that are not notes). A note image
    /// that does not decode is an error: the batch is retried, then set aside (template.yaml's
    /// on-failure destination), rather than silently dropped.
    pub fn changes(&self) -> Result<Vec<NoteChange>, AppError> {
        if !self.is_note() {
            return Ok(Vec::new());
        }
        let old = decode(&self.dynamodb.old_image)?;
        let new = decode(&self.dynamodb.new_image)?;
        Ok(changes(old.as_ref(), new.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::Visibility;
    use crate::realtime::NoteChangeKind;
    use serde_json::json;

    fn image(visibility: &str, version: u32) -> serde_json::Value {
        json!({
            "pk": {"S": "TENANT#acme"}, "sk": {"S": "NOTE#n-1"},
            "id": {"S": "n-1"}, "tenantId": {"S": "acme"},
            "ownerId": {"S": "eu-central-1:a11ce000-0000-4000-8000-00000000000a"},
            "title": {"S": "t"}, "visibility": {"S": visibility}, "version": {"N": version.to_string()},
            "createdAt": {"S": "2026-01-01T00:00:00Z"}, "updatedAt": {"S": "2026-01-01T00:00:00Z"}
        })
    }

    fn record(
        name: &str,
        old: Option<serde_json::Value>,
        new: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut d = json!({"Keys": {"pk": {"S": "TENANT#acme"}, "sk": {"S": "NOTE#n-1"}}, "SequenceNumber": "100", "StreamViewType": "NEW_AND_OLD_IMAGES"});
        if let Some(o) = old {
            d["OldImage"] = o;
        }
        if let Some(n) = new {
            d["NewImage"] = n;
        }
        json!({"eventID": "e1", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": d})
    }

    #[test]
    fn a_stream_event_becomes_changes() {
        let event: StreamEvent = serde_json::from_value(json!({"Records": [
            record("INSERT", None, Some(image("TENANT", 1))),
            record("MODIFY", Some(image("TENANT", 1)), Some(image("PRIVATE", 2))),
            record("REMOVE", Some(image("PRIVATE", 2)), None),
        ]}))
        .unwrap();
        let all: Vec<NoteChange> = event
            .records
            .iter()
            .flat_map(|r| r.changes().unwrap())
            .collect();
        let kinds: Vec<_> = all
            .iter()
            .map(|c| (c.kind, c.revoked, c.visibility))
            .collect();
        assert_eq!(
            kinds,
            [
                (NoteChangeKind::Created, false, Visibility::Tenant),
                (NoteChangeKind::Deleted, true, Visibility::Private),
                (NoteChangeKind::Updated, false, Visibility::Private),
                (NoteChangeKind::Deleted, false, Visibility::Private),
            ]
        );
        assert_eq!(event.records[0].dynamodb.sequence_number, "100");
    }

    #[test]
    fn other_items_publish_nothing_and_bad_notes_are_errors() {
        let mut token = record(
            "INSERT",
            None,
            Some(json!({"pk": {"S": "TENANT#acme"}, "sk": {"S": "TOKEN#x#y"}})),
        );
        token["dynamodb"]["Keys"]["sk"] = json!({"S": "TOKEN#x#y"});
        let r: StreamRecord = serde_json::from_value(token).unwrap();
        assert!(r.changes().unwrap().is_empty());
        let mut bad = image("TENANT", 1);
        bad["tenantId"] = json!({"S": "ACME#x"});
        let r: StreamRecord = serde_json::from_value(record("INSERT", None, Some(bad))).unwrap();
        assert!(r.changes().is_err());
    }
}
