//! Conditional writes and transactions: the one place their failures are read and the one retry
//! policy they share.
//!
//! Every write of the store is sent through [`send`], which reads DynamoDB's answer as
//! [`Sent::Written`], [`Sent::Refused`] (conditions failed: per action of a transaction, with the
//! item as it was where the write asked for it) or [`Sent::Contended`] (another transaction holds
//! an item: try again); any other failure is the store's usual `Unavailable` / `InternalError`.
//! [`Tries`] is the retry policy: a bounded number of tries with full-jitter backoff between them.
//! A write that reads first (a role change) loops over `Tries` itself, so that a retry starts from
//! a fresh read; [`conditional`] is that loop for a write that is sent as it is.

use std::future::Future;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

use super::batch::backoff;
use super::{Item, sdk_err};
use crate::error::AppError;

/// Tries of one write before it counts as contended. Two writers on one counter item, or a
/// read-then-write racing another, settle within a few.
const WRITE_ATTEMPTS: u32 = 12;

/// A write whose conditions failed: which actions (0 for a single-item write), and the item each
/// saw where the write asked for it (`ReturnValuesOnConditionCheckFailure::AllOld`).
#[derive(Debug)]
pub(crate) struct Refused {
    failed: Vec<(usize, Option<Item>)>,
}

impl Refused {
    /// Did the condition of this action fail?
    pub(crate) fn failed(&self, action: usize) -> bool {
        self.failed.iter().any(|(i, _)| *i == action)
    }

    /// The item as it was when the (first) failed condition was checked, if the write asked.
    pub(crate) fn into_old(self) -> Option<Item> {
        self.failed.into_iter().next().and_then(|(_, item)| item)
    }

    /// A refusal the caller has no answer for (a condition that cannot fail, such as a fresh
    /// UUIDv7 that exists already): a store bug, not the client's doing.
    pub(crate) fn unexpected(&self, op: &str) -> AppError {
        let actions: Vec<usize> = self.failed.iter().map(|(i, _)| *i).collect();
        AppError::Internal(format!("{op}: conditions of actions {actions:?} failed"))
    }
}

/// How one try of a write ended.
#[derive(Debug)]
pub(crate) enum Sent<T> {
    Written(T),
    Refused(Refused),
    /// Another transaction holds one of the items: nothing was written; try again.
    Contended,
}

/// A DynamoDB write request, ready to send: PutItem, UpdateItem, DeleteItem or
/// TransactWriteItems. Clone it to send it again.
pub(crate) trait Write: Clone + Send {
    type Output: Send;
    type Error: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static;

    fn dispatch(
        self,
    ) -> impl Future<Output = Result<Self::Output, SdkError<Self::Error, HttpResponse>>> + Send;

    /// The conditions this error says failed, if it is a condition failure.
    fn refusal(e: &Self::Error) -> Option<Refused>;

    /// Does this error say another transaction holds an item?
    fn contended(e: &Self::Error) -> bool;
}

macro_rules! single_item_write {
    ($builder:ty, $output:ty, $error:ident) => {
        impl Write for $builder {
            type Output = $output;
            type Error = $error;

            fn dispatch(
                self,
            ) -> impl Future<Output = Result<$output, SdkError<$error, HttpResponse>>> + Send {
                self.send()
            }

            fn refusal(e: &$error) -> Option<Refused> {
                match e {
                    $error::ConditionalCheckFailedException(c) => Some(Refused {
                        failed: vec![(0, c.item().cloned())],
                    }),
                    _ => None,
                }
            }

            fn contended(e: &$error) -> bool {
                matches!(e, $error::TransactionConflictException(_))
            }
        }
    };
}

single_item_write!(
    PutItemFluentBuilder,
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    PutItemError
);
single_item_write!(
    UpdateItemFluentBuilder,
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    UpdateItemError
);
single_item_write!(
    DeleteItemFluentBuilder,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput,
    DeleteItemError
);

impl Write for TransactWriteItemsFluentBuilder {
    type Output = aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    type Error = TransactWriteItemsError;

    fn dispatch(
        self,
    ) -> impl Future<Output = Result<Self::Output, SdkError<Self::Error, HttpResponse>>> + Send
    {
        self.send()
    }

    /// A cancelled transaction names a reason per action, in the order of the actions.
    fn refusal(e: &TransactWriteItemsError) -> Option<Refused> {
        let TransactWriteItemsError::TransactionCanceledException(c) = e else {
            return None;
        };
        let failed: Vec<(usize, Option<Item>)> = c
            .cancellation_reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, r)| (i, r.item().cloned()))
            .collect();
        (!failed.is_empty()).then_some(Refused { failed })
    }

    fn contended(e: &TransactWriteItemsError) -> bool {
        match e {
            TransactWriteItemsError::TransactionCanceledException(c) => c
                .cancellation_reasons()
                .iter()
                .any(|r| r.code() == Some("TransactionConflict")),
            TransactWriteItemsError::TransactionInProgressException(_) => true,
            _ => false,
        }
    }
}

/// Sends one try of `write`. A failed condition wins over contention: it is an answer, and
/// trying again would meet the same condition.
pub(crate) async fn send<W: Write>(
    op: &'static str,
    write: W,
) -> Result<Sent<W::Output>, AppError> {
    let e = match write.dispatch().await {
        Ok(out) => return Ok(Sent::Written(out)),
        Err(e) => e,
    };
    if let Some(service) = e.as_service_error() {
        if let Some(refused) = W::refusal(service) {
            return Ok(Sent::Refused(refused));
        }
        if W::contended(service) {
            return Ok(Sent::Contended);
        }
    }
    Err(sdk_err(op, e))
}

/// The retry policy of every write: at most [`WRITE_ATTEMPTS`] tries, each after the first one
/// preceded by a full-jitter wait ([`backoff`], the policy of batch reads too).
///
/// ```text
/// let mut tries = Tries::default();
/// while tries.next().await {
///     match write::send(OP, request.clone()).await? { ... Sent::Contended => {} }
/// }
/// // every try was contended (or asked to read again)
/// ```
#[derive(Debug, Default)]
pub(crate) struct Tries {
    done: u32,
}

impl Tries {
    /// Whether there is another try; waits before every try but the first.
    pub(crate) async fn next(&mut self) -> bool {
        if self.done >= WRITE_ATTEMPTS {
            return false;
        }
        if self.done > 0 {
            tokio::time::sleep(backoff(self.done - 1)).await;
        }
        self.done += 1;
        true
    }
}

/// Sends `write` until it is written or refused, retrying contention on [`Tries`]. Still
/// contended after every try is `Unavailable`: DynamoDB is busy on these items, try again later.
pub(crate) async fn conditional<W: Write>(
    op: &'static str,
    write: W,
) -> Result<Result<W::Output, Refused>, AppError> {
    let mut tries = Tries::default();
    while tries.next().await {
        match send(op, write.clone()).await? {
            Sent::Written(out) => return Ok(Ok(out)),
            Sent::Refused(refused) => return Ok(Err(refused)),
            Sent::Contended => {}
        }
    }
    Err(AppError::Unavailable(format!(
        "{op}: still contended after {WRITE_ATTEMPTS} tries"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_actions_and_the_old_item() {
        let old = super::super::key("TENANT#acme", "NOTE#n1");
        let r = Refused {
            failed: vec![(1, Some(old.clone())), (2, None)],
        };
        assert!(!r.failed(0) && r.failed(1) && r.failed(2));
        assert!(matches!(r.unexpected("op"), AppError::Internal(_)));
        assert_eq!(r.into_old(), Some(old));
    }
}
