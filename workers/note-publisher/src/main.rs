//! The note publisher: a Lambda function on the table's DynamoDB stream. Every write to a note
//! item arrives here with its old and new image; `shared::realtime` turns it into the events to
//! publish, and each is sent to AppSync as the internal mutation `publishNoteChange`, signed with
//! this function's role (the only principal granted that field). AppSync then delivers it to the
//! subscriptions whose filters match.
//!
//! Order and loss: Lambda reads a shard in order and this function publishes one record at a
//! time, waiting for each answer. A failed publish ends the batch with that record as its
//! `batchItemFailures` entry, so Lambda retries from it (bounded, then the on-failure
//! destination in template.yaml) and nothing before it is sent twice.

mod publish;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::realtime::stream::{BatchResponse, ItemFailure, StreamEvent};

use publish::Publisher;

/// Where the changes go: AppSync ([`Publisher`]), or a test's stand-in.
trait Publish {
    fn publish(
        &self,
        change: &shared::realtime::NoteChange,
    ) -> impl std::future::Future<Output = Result<(), String>>;
}

impl Publish for Publisher {
    async fn publish(&self, change: &shared::realtime::NoteChange) -> Result<(), String> {
        Publisher::publish(self, change).await
    }
}

fn main() -> Result<(), Error> {
    // One invocation at a time per instance: a single-threaded runtime, like the resolvers.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            shared::lambda::init_tracing();
            let publisher = Publisher::from_env().await?;
            let publisher = &publisher;
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                handle(publisher, event.payload).await
            }))
            .await
        })
}

/// Publishes every record of the batch in order; the first one that cannot be published (or
/// decoded) is reported, and Lambda resumes from it.
async fn handle(publisher: &impl Publish, payload: Value) -> Result<BatchResponse, Error> {
    let event: StreamEvent =
        serde_json::from_value(payload).map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
    let mut published = 0usize;
    for record in &event.records {
        let outcome = match record.changes() {
            Ok(changes) => publish_all(publisher, &changes, &mut published).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = outcome {
            tracing::warn!(
                event_id = %record.event_id,
                sequence_number = %record.dynamodb.sequence_number,
                published,
                why,
                "publishing stopped at this record; Lambda retries from it"
            );
            return Ok(BatchResponse {
                batch_item_failures: vec![ItemFailure {
                    item_identifier: record.dynamodb.sequence_number.clone(),
                }],
            });
        }
    }
    tracing::info!(records = event.records.len(), published, "batch published");
    Ok(BatchResponse::default())
}

/// Publishes one record's changes in order, counting them; stops at the first failure.
async fn publish_all(
    publisher: &impl Publish,
    changes: &[shared::realtime::NoteChange],
    published: &mut usize,
) -> Result<(), String> {
    for change in changes {
        publisher.publish(change).await?;
        *published += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;
    use shared::realtime::{NoteChange, NoteChangeKind};

    use super::*;

    /// Records what it publishes; fails the `fail_at`-th publish (0-based).
    struct Fake {
        sent: RefCell<Vec<NoteChange>>,
        fail_at: Option<usize>,
    }

    impl Publish for Fake {
        async fn publish(&self, change: &NoteChange) -> Result<(), String> {
            if self.fail_at == Some(self.sent.borrow().len()) {
                return Err("AppSync said no".into());
            }
            self.sent.borrow_mut().push(change.clone());
            Ok(())
        }
    }

    fn image(visibility: &str, version: u32) -> Value {
        json!({
            "pk": {"S": "TENANT#acme"}, "sk": {"S": "NOTE#n-1"}, "id": {"S": "n-1"},
            "tenantId": {"S": "acme"}, "ownerId": {"S": "eu-central-1:a11ce000-0000-4000-8000-00000000000a"},
            "title": {"S": "t"}, "visibility": {"S": visibility}, "version": {"N": version.to_string()},
            "createdAt": {"S": "2026-01-01T00:00:00Z"}, "updatedAt": {"S": "2026-01-01T00:00:00Z"}
        })
    }

    fn record(seq: &str, old: Option<Value>, new: Option<Value>) -> Value {
        let mut d = json!({"Keys": {"pk": {"S": "TENANT#acme"}, "sk": {"S": "NOTE#n-1"}}, "SequenceNumber": seq});
        if let Some(o) = old {
            d["OldImage"] = o;
        }
        if let Some(n) = new {
            d["NewImage"] = n;
        }
        json!({"eventID": seq, "eventName": "MODIFY", "dynamodb": d})
    }

    fn batch() -> Value {
        json!({"Records": [
            record("1", None, Some(image("TENANT", 1))),
            // Narrowed: a revocation, then the update.
            record("2", Some(image("TENANT", 1)), Some(image("PRIVATE", 2))),
            record("3", Some(image("PRIVATE", 2)), None),
        ]})
    }

    #[tokio::test]
    async fn a_batch_is_published_in_order() {
        let fake = Fake {
            sent: RefCell::new(Vec::new()),
            fail_at: None,
        };
        assert_eq!(
            handle(&fake, batch()).await.unwrap(),
            BatchResponse::default()
        );
        let kinds: Vec<_> = fake
            .sent
            .borrow()
            .iter()
            .map(|c| (c.kind, c.revoked))
            .collect();
        assert_eq!(
            kinds,
            [
                (NoteChangeKind::Created, false),
                (NoteChangeKind::Deleted, true),
                (NoteChangeKind::Updated, false),
                (NoteChangeKind::Deleted, false),
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_publish_reports_its_record_and_stops() {
        // The update of record 2 fails after its revocation went out: Lambda resumes at 2.
        let fake = Fake {
            sent: RefCell::new(Vec::new()),
            fail_at: Some(2),
        };
        let answer = handle(&fake, batch()).await.unwrap();
        assert_eq!(
            answer.batch_item_failures,
            [ItemFailure {
                item_identifier: "2".into()
            }]
        );
        assert_eq!(fake.sent.borrow().len(), 2);
    }

    #[tokio::test]
    async fn an_undecodable_note_is_reported_not_skipped() {
        let mut bad = image("TENANT", 1);
        bad["tenantId"] = json!({"S": "NOT A TENANT"});
        let fake = Fake {
            sent: RefCell::new(Vec::new()),
            fail_at: None,
        };
        let answer = handle(&fake, json!({"Records": [record("7", None, Some(bad))]}))
            .await
            .unwrap();
        assert_eq!(answer.batch_item_failures[0].item_identifier, "7");
        assert!(handle(&fake, json!("not an event")).await.is_err());
    }
}
