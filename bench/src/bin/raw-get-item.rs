//! The floor of a cold get-note: a function that does nothing but the one strongly consistent
//! GetItem of the note, with the functions' client configuration (timeouts, retries, and the
//! capacity meter that asks every request for ConsumedCapacity). get-note's first invoke is
//! compared with this one's, interleaved (issue: the cold tenant look-up's extra read).
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let table = std::env::var("TABLE_NAME")?;
    let sdk = aws_config::load_from_env().await;
    let conf = shared::store::capacity::metered(
        shared::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)),
        &std::sync::Arc::default(),
    )
    .build();
    let db = shared::store::Db::new(aws_sdk_dynamodb::Client::from_conf(conf), table);
    let db = &db;
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| async move {
        let id = e.payload["arguments"]["id"].as_str().unwrap_or_default();
        let out = db
            .client()
            .get_item()
            .table_name(db.table_name())
            .key("pk", AttributeValue::S("TENANT#acme".into()))
            .key("sk", AttributeValue::S(format!("NOTE#{id}")))
            .consistent_read(true)
            .send()
            .await?;
        Ok::<Value, lambda_runtime::Error>(json!({"found": out.item.is_some()}))
    }))
    .await
}
