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
//!
//! Time: each publish gets at most [`CALL_BUDGET`], and a record is started only while the
//! invocation's deadline leaves room for all of its publishes plus [`MARGIN`]; otherwise the
//! batch ends there, reported from that record on, and Lambda resumes from it. template.yaml
//! sizes the batch so that this cut is a safety net: BatchSize 10 records x at most 2 publishes
//! per record ([`MAX_PUBLISHES_PER_RECORD`]) x 5 s = 100 s, under the function's 120 s timeout.

mod publish;

use std::time::{Duration, SystemTime};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::realtime::stream::{BatchResponse, ItemFailure, StreamEvent};

use publish::Publisher;

/// The longest one publish may take, signing to answer (iam-graphql's own request timeout is
/// 5 s too; this bound holds whatever it becomes). template.yaml's Timeout is sized with it.
pub const CALL_BUDGET: Duration = Duration::from_secs(5);
/// What one stream record can publish: a revocation and the update (`shared::realtime::changes`).
pub const MAX_PUBLISHES_PER_RECORD: u32 = 2;
/// Left before the deadline for answering Lambda (the batch response, the log line).
pub const MARGIN: Duration = Duration::from_secs(1);

/// When the invocation must have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    At(SystemTime),
    /// No usable deadline: emulators (`cargo lambda watch`) send a fixed one in the past, which
    /// Lambda never does. Nothing is cut then.
    Unknown,
}

impl Deadline {
    /// From the context's `deadline` (ms since the epoch), as seen at `now`.
    fn from_context(deadline: SystemTime, now: SystemTime) -> Self {
        if deadline > now {
            Deadline::At(deadline)
        } else {
            Deadline::Unknown
        }
    }

    /// Is there time, at `now`, to make `calls` publishes and still answer?
    fn leaves_room_for(&self, calls: usize, now: SystemTime) -> bool {
        match self {
            Deadline::Unknown => true,
            Deadline::At(at) => {
                // Checked: a count too large for a Duration never has room.
                let needed = u32::try_from(calls)
                    .ok()
                    .and_then(|n| CALL_BUDGET.checked_mul(n))
                    .and_then(|d| d.checked_add(MARGIN));
                match (needed, at.duration_since(now)) {
                    (Some(needed), Ok(left)) => left >= needed,
                    _ => false,
                }
            }
        }
    }
}

/// What time it is: the system clock, or a test's.
trait Clock {
    fn now(&self) -> SystemTime;
}

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Where the changes go: AppSync ([`Publisher`]), or a test's stand-in.
trait Publish {
    fn publish(
        &self,
        change: &shared::realtime::NoteChange,
    ) -> impl std::future::Future<Output = Result<(), String>>;
}

impl Publish for Publisher {
    async fn publish(&self, change: &shared::realtime::NoteChange) -> Result<(), String> {
        tokio::time::timeout(CALL_BUDGET, Publisher::publish(self, change))
            .await
            .map_err(|_| format!("no answer within {}s", CALL_BUDGET.as_secs()))?
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
                let deadline = Deadline::from_context(event.context.deadline(), SystemTime::now());
                handle(publisher, event.payload, deadline, &SystemClock).await
            }))
            .await
        })
}

/// Publishes every record of the batch in order; the first one that cannot be published (or
/// decoded), or that the deadline leaves no room for, is reported, and Lambda resumes from it
/// (ReportBatchItemFailures: everything from that sequence number on is retried).
async fn handle(
    publisher: &impl Publish,
    payload: Value,
    deadline: Deadline,
    clock: &impl Clock,
) -> Result<BatchResponse, Error> {
    let event: StreamEvent =
        serde_json::from_value(payload).map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
    let mut published = 0usize;
    for record in &event.records {
        let outcome = match record.changes() {
            Ok(changes) if !deadline.leaves_room_for(changes.len(), clock.now()) => Err(format!(
                "the invocation's deadline leaves no room for {} publish(es) of {}s",
                changes.len(),
                CALL_BUDGET.as_secs()
            )),
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
    use std::cell::{Cell, RefCell};

    use serde_json::json;
    use shared::realtime::{NoteChange, NoteChangeKind};

    use super::*;

    /// Records what it publishes; fails the `fail_at`-th publish (0-based). Its clock starts at
    /// [`T0`] and each publish takes `takes`.
    struct Fake {
        sent: RefCell<Vec<NoteChange>>,
        fail_at: Option<usize>,
        now: Cell<SystemTime>,
        takes: Duration,
    }

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    impl Fake {
        fn new(fail_at: Option<usize>) -> Self {
            Fake {
                sent: RefCell::new(Vec::new()),
                fail_at,
                now: Cell::new(T0 + Duration::from_secs(1_800_000_000)),
                takes: Duration::from_millis(50),
            }
        }
    }

    impl Publish for Fake {
        async fn publish(&self, change: &NoteChange) -> Result<(), String> {
            self.now.set(self.now.get() + self.takes);
            if self.fail_at == Some(self.sent.borrow().len()) {
                return Err("AppSync said no".into());
            }
            self.sent.borrow_mut().push(change.clone());
            Ok(())
        }
    }

    impl Clock for Fake {
        fn now(&self) -> SystemTime {
            self.now.get()
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
        let fake = Fake::new(None);
        assert_eq!(
            handle(&fake, batch(), Deadline::Unknown, &fake)
                .await
                .unwrap(),
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
        let fake = Fake::new(Some(2));
        let answer = handle(&fake, batch(), Deadline::Unknown, &fake)
            .await
            .unwrap();
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
        let fake = Fake::new(None);
        let answer = handle(
            &fake,
            json!({"Records": [record("7", None, Some(bad))]}),
            Deadline::Unknown,
            &fake,
        )
        .await
        .unwrap();
        assert_eq!(answer.batch_item_failures[0].item_identifier, "7");
        assert!(
            handle(&fake, json!("not an event"), Deadline::Unknown, &fake)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_batch_stops_before_the_deadline_at_the_first_record_it_has_no_room_for() {
        // Publishes take 4 s each; 12 s are left. Record 1 (one publish) needs 5 s + 1 s: sent.
        // Record 2 (revocation + update) needs 2 x 5 s + 1 s = 11 s, but 8 s are left: the batch
        // ends there, before either of its publishes, and Lambda resumes from record 2.
        let mut fake = Fake::new(None);
        fake.takes = Duration::from_secs(4);
        let deadline = Deadline::At(fake.now() + Duration::from_secs(12));
        let answer = handle(&fake, batch(), deadline, &fake).await.unwrap();
        assert_eq!(
            answer.batch_item_failures,
            [ItemFailure {
                item_identifier: "2".into()
            }],
            "everything from the first unpublished record on is retried"
        );
        assert_eq!(fake.sent.borrow().len(), 1, "nothing of record 2 went out");
        assert!(fake.now() < T0 + Duration::from_secs(1_800_000_012));
    }

    #[tokio::test]
    async fn no_room_for_the_first_record_reports_the_whole_batch() {
        let fake = Fake::new(None);
        let deadline = Deadline::At(fake.now() + CALL_BUDGET);
        let answer = handle(&fake, batch(), deadline, &fake).await.unwrap();
        assert_eq!(answer.batch_item_failures[0].item_identifier, "1");
        assert!(fake.sent.borrow().is_empty());
    }

    #[tokio::test]
    async fn a_batch_with_room_to_spare_is_published_whole() {
        // The template's sizing: 10 records x 2 publishes x 5 s + 1 s fits its 120 s timeout.
        let fake = Fake::new(None);
        let deadline = Deadline::At(fake.now() + Duration::from_secs(120));
        assert!(deadline.leaves_room_for(10 * MAX_PUBLISHES_PER_RECORD as usize, fake.now()));
        let answer = handle(&fake, batch(), deadline, &fake).await.unwrap();
        assert_eq!(answer, BatchResponse::default());
        assert_eq!(fake.sent.borrow().len(), 4);
    }

    #[test]
    fn a_deadline_already_past_at_the_start_is_an_emulators_and_cuts_nothing() {
        let now = T0 + Duration::from_secs(1_800_000_000);
        // cargo lambda watch sends 600000 (ms since the epoch): 1970.
        let emulated = Deadline::from_context(T0 + Duration::from_millis(600_000), now);
        assert_eq!(emulated, Deadline::Unknown);
        assert!(emulated.leaves_room_for(1000, now));
        let real = Deadline::from_context(now + Duration::from_secs(120), now);
        assert_eq!(real, Deadline::At(now + Duration::from_secs(120)));
        assert!(!real.leaves_room_for(24, now), "24 x 5 s + 1 s > 120 s");
        assert!(real.leaves_room_for(23, now));
        assert!(!real.leaves_room_for(usize::MAX, now), "no overflow");
    }
}
