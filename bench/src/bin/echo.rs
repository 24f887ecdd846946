//! A no-op function: answers its event. Its round trip through the benchmark's runtime API is
//! the "echo" cost that the resolver ratios subtract out.
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| async move {
        Ok::<Value, lambda_runtime::Error>(e.payload)
    }))
    .await
}
