//! What DynamoDB capacity an invocation consumed, for the per-tenant cost metric.
//!
//! One interceptor on the client does both halves: it asks every request for
//! `ReturnConsumedCapacity: TOTAL` and adds every answer's `ConsumedCapacity` to a meter, so no
//! call site can forget either. The meter is per process: a Lambda instance runs one invocation
//! at a time, and the glue takes the figure at the end of each one.
//!
//! The same interceptor is the tests' and the benchmark's witness when given an [`Observer`]
//! ([`observed`]): it then also counts the requests sent, per operation, and reads what
//! DynamoDB reported (`ConsumedCapacity`, `ScannedCount`) from the raw HTTP answers —
//! independently of the parsed outputs the meter reads. Functions never pass one.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item, batch_write_item, delete_item, get_item, put_item, query, scan,
    transact_get_items, transact_write_items, update_item,
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

/// Consumed capacity units, summed. Kept in thousandths so an atomic integer can hold them
/// (DynamoDB reports halves for eventually consistent reads, never finer than 0.5).
#[derive(Debug, Default)]
pub struct CapacityMeter(AtomicU64);

impl CapacityMeter {
    fn add(&self, units: f64) {
        if units.is_finite() && units > 0.0 {
            self.0
                .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        }
    }

    /// The units consumed since the last `take`, and start again from zero.
    pub fn take(&self) -> f64 {
        self.0.swap(0, Ordering::Relaxed) as f64 / 1000.0
    }
}

/// Adds the interceptor that meters into `meter` to a client configuration.
pub fn metered(
    builder: aws_sdk_dynamodb::config::Builder,
    meter: &Arc<CapacityMeter>,
) -> aws_sdk_dynamodb::config::Builder {
    builder.interceptor(MeterCapacity {
        meter: meter.clone(),
        observer: None,
    })
}

/// [`metered`], and every request and answer also recorded in `observer` (tests, benchmark).
pub fn observed(
    builder: aws_sdk_dynamodb::config::Builder,
    meter: &Arc<CapacityMeter>,
    observer: &Observer,
) -> aws_sdk_dynamodb::config::Builder {
    builder.interceptor(MeterCapacity {
        meter: meter.clone(),
        observer: Some(observer.clone()),
    })
}

/// What an [`Observer`] saw: requests sent (per operation, retries included), and what the raw
/// answers reported.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Observed {
    pub requests: BTreeMap<String, usize>,
    /// `ScannedCount`s summed (Query and Scan): the items DynamoDB evaluated.
    pub scanned: u64,
    /// `ConsumedCapacity` units as the HTTP answers carried them.
    pub reported: f64,
}

impl Observed {
    /// Requests of every operation.
    pub fn total(&self) -> usize {
        self.requests.values().sum()
    }
}

/// A shared record of what a client sent and was answered (see [`observed`]).
#[derive(Debug, Default, Clone)]
pub struct Observer(Arc<Mutex<Observed>>);

impl Observer {
    fn with<T>(&self, f: impl FnOnce(&mut Observed) -> T) -> T {
        // A test that panicked while holding the lock leaves the counts usable.
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Everything seen so far.
    pub fn now(&self) -> Observed {
        self.with(|o| o.clone())
    }

    /// Forgets the requests counted so far (not the capacity: see [`Self::take_reported`]).
    pub fn reset_requests(&self) {
        self.with(|o| o.requests.clear());
    }

    /// The capacity reported since the last call, and start again from zero.
    pub fn take_reported(&self) -> f64 {
        self.with(|o| std::mem::take(&mut o.reported))
    }

    fn request(&self, operation: &str) {
        self.with(|o| *o.requests.entry(operation.to_owned()).or_default() += 1);
    }

    /// Reads an answer's raw JSON body: its own parse, not the SDK's, so the witness does not
    /// share a mistake with the meter.
    fn answer(&self, body: &[u8]) {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        let units = |c: &serde_json::Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
        let reported = match &json["ConsumedCapacity"] {
            serde_json::Value::Array(all) => all.iter().map(units).sum(),
            one @ serde_json::Value::Object(_) => units(one),
            _ => 0.0,
        };
        let scanned = json["ScannedCount"].as_u64().unwrap_or(0);
        self.with(|o| {
            o.reported += reported;
            o.scanned += scanned;
        });
    }
}

#[derive(Debug)]
struct MeterCapacity {
    meter: Arc<CapacityMeter>,
    observer: Option<Observer>,
}

fn units(c: &ConsumedCapacity) -> f64 {
    c.capacity_units.unwrap_or(0.0)
}

/// `$single`: operations that answer one `ConsumedCapacity`; `$many`: a list of them.
macro_rules! per_operation {
    (single: $($single:ident :: $sin:ident / $sout:ident),*; many: $($many:ident :: $min:ident / $mout:ident),*) => {
        fn ask(input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) {
            $(if let Some(i) = input.downcast_mut::<$single::$sin>() {
                i.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
                return;
            })*
            $(if let Some(i) = input.downcast_mut::<$many::$min>() {
                i.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
                return;
            })*
        }

        fn consumed(output: &aws_smithy_runtime_api::client::interceptors::context::Output) -> f64 {
            $(if let Some(o) = output.downcast_ref::<$single::$sout>() {
                return o.consumed_capacity.as_ref().map_or(0.0, units);
            })*
            $(if let Some(o) = output.downcast_ref::<$many::$mout>() {
                return o.consumed_capacity.iter().flatten().map(units).sum();
            })*
            0.0
        }
    };
}

per_operation! {
    single: get_item::GetItemInput / GetItemOutput,
        put_item::PutItemInput / PutItemOutput,
        update_item::UpdateItemInput / UpdateItemOutput,
        delete_item::DeleteItemInput / DeleteItemOutput,
        query::QueryInput / QueryOutput,
        scan::ScanInput / ScanOutput;
    many: batch_get_item::BatchGetItemInput / BatchGetItemOutput,
        batch_write_item::BatchWriteItemInput / BatchWriteItemOutput,
        transact_get_items::TransactGetItemsInput / TransactGetItemsOutput,
        transact_write_items::TransactWriteItemsInput / TransactWriteItemsOutput
}

impl Intercept for MeterCapacity {
    fn name(&self) -> &'static str {
        "MeterCapacity"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ask(context.input_mut());
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(observer) = &self.observer {
            let operation = cfg
                .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
                .map_or("", |m| m.name());
            observer.request(operation);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error() {
            self.meter.add(consumed(output));
        }
        if let Some(observer) = &self.observer
            && let Some(body) = context.response().body().bytes()
        {
            observer.answer(body);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_sums_halves_and_starts_again() {
        let m = CapacityMeter::default();
        m.add(0.5);
        m.add(1.5);
        m.add(f64::NAN);
        m.add(-1.0);
        assert_eq!(m.take(), 2.0);
        assert_eq!(m.take(), 0.0);
    }

    #[test]
    fn the_observer_reads_single_and_listed_capacity_and_scanned_counts() {
        let o = Observer::default();
        o.request("Query");
        o.request("Query");
        o.request("BatchGetItem");
        o.answer(br#"{"ConsumedCapacity":{"CapacityUnits":1.5},"ScannedCount":7}"#);
        o.answer(br#"{"ConsumedCapacity":[{"CapacityUnits":0.5},{"CapacityUnits":1}]}"#);
        o.answer(b"not json");
        let seen = o.now();
        assert_eq!((seen.total(), seen.requests["Query"]), (3, 2));
        assert_eq!((seen.scanned, seen.reported), (7, 3.0));
        o.reset_requests();
        assert_eq!(o.now().total(), 0);
        assert_eq!((o.take_reported(), o.take_reported()), (3.0, 0.0));
        assert_eq!(o.now().scanned, 7);
    }
}
