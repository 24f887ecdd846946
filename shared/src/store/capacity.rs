//! What DynamoDB capacity an invocation consumed, for the per-tenant cost metric.
//!
//! One interceptor on the client does both halves: it asks every request for
//! `ReturnConsumedCapacity: TOTAL` and adds every answer's `ConsumedCapacity` to a meter, so no
//! call site can forget either. The meter is per process: a Lambda instance runs one invocation
//! at a time, and the glue takes the figure at the end of each one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
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
    builder.interceptor(MeterCapacity(meter.clone()))
}

#[derive(Debug)]
struct MeterCapacity(Arc<CapacityMeter>);

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

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error() {
            self.0.add(consumed(output));
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
}
