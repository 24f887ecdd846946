//! Reading many items at once: BatchGetItem in requests of at most 100 keys, with the keys
//! DynamoDB hands back unprocessed retried on one bounded, jittered policy.

use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::{Db, Item, sdk_err};
use crate::error::AppError;

/// BatchGetItem takes at most 100 keys a request.
pub const BATCH_GET_MAX_KEYS: usize = 100;
/// Rounds of retrying `UnprocessedKeys` before giving up.
const BATCH_GET_ATTEMPTS: u32 = 6;

/// Full jitter backoff: a random wait below 20 ms × 2^attempt (capped at 1 s).
pub(crate) fn backoff(attempt: u32) -> Duration {
    let cap = (20u64 << attempt.min(6)).min(1000);
    Duration::from_millis(fastrand::u64(1..=cap))
}

impl Db {
    /// Every item of `keys` that exists, in no particular order: one BatchGetItem per 100 keys
    /// (plus retries of unprocessed keys). `op` names the read in errors and logs.
    pub(crate) async fn batch_get(
        &self,
        op: &'static str,
        keys: Vec<Item>,
    ) -> Result<Vec<Item>, AppError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| AppError::internal("batch keys", e))?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_err(op, e))?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt >= BATCH_GET_ATTEMPTS {
                        // Unprocessed keys are DynamoDB shedding load: retryable, like throttling.
                        return Err(AppError::Unavailable(format!(
                            "{op} left keys unprocessed after {attempt} attempts"
                        )));
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            assert!(d >= Duration::from_millis(1) && d <= Duration::from_millis(1000));
        }
    }
}
