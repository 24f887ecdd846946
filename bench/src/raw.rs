//! Raw functions: each does only its field's DynamoDB requests — the same requests the real
//! function sends for the benchmark's events — with the functions' client configuration
//! (timeouts, retries, the capacity meter that asks every request for `ConsumedCapacity`), on a
//! current-thread runtime, through `lambda_runtime` like them. What a real function costs beyond
//! its raw one (warm, interleaved, through the same runtime API) is the glue's.
//!
//! The benchmark checks with a counting proxy that a raw function and its real one send the same
//! requests per call (`bench` binary, "Warm path" table).

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use shared::store::Db;

/// The tenant every benchmark caller belongs to: the real functions find it in their (warm)
/// tenant cache, so a raw function sends no request for it.
pub const PARTITION: &str = "TENANT#acme";

/// Serves `handler` as a Lambda function: the functions' client, a current-thread runtime.
pub fn serve<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(&'static Db, Value) -> Fut,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>>,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let table = std::env::var("TABLE_NAME")?;
            let sdk = aws_config::load_from_env().await;
            let conf = shared::store::capacity::metered(
                shared::store::with_budget(aws_sdk_dynamodb::config::Builder::from(&sdk)),
                &std::sync::Arc::default(),
            )
            .build();
            // Lives as long as the process: the handler's futures borrow it.
            let db: &'static Db = Box::leak(Box::new(Db::new(
                aws_sdk_dynamodb::Client::from_conf(conf),
                table,
            )));
            let handler = &handler;
            lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| {
                handler(db, e.payload)
            }))
            .await
        })
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The caller's identity id, as the event carries it.
pub fn caller(event: &Value) -> &str {
    event["identity"]["cognitoIdentityId"]
        .as_str()
        .unwrap_or_default()
}

/// get-note's request: one strongly consistent GetItem of the note.
pub async fn get_note(db: &Db, id: &str) -> Result<bool, lambda_runtime::Error> {
    let out = db
        .client()
        .get_item()
        .table_name(db.table_name())
        .key("pk", s(PARTITION))
        .key("sk", s(format!("NOTE#{id}")))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item.is_some())
}

/// One read of a range of the listing index, newest first, as list-notes sends it.
async fn listing_range(
    db: &Db,
    low: String,
    high: String,
    limit: i32,
) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, lambda_runtime::Error> {
    Ok(db
        .client()
        .query()
        .table_name(db.table_name())
        .index_name(shared::store::GSI2)
        .key_condition_expression("#p = :p AND #s BETWEEN :low AND :high")
        .expression_attribute_names("#p", "pk")
        .expression_attribute_names("#s", "gsi2sk")
        .expression_attribute_values(":p", s(PARTITION))
        .expression_attribute_values(":low", s(low))
        .expression_attribute_values(":high", s(high))
        .scan_index_forward(false)
        .limit(limit)
        .send()
        .await?)
}

/// list-notes' requests for a first page: the tenant's shared range, a page's worth; then the
/// caller's own PRIVATE range down to where that read ended. The number of notes read.
pub async fn list_notes(db: &Db, owner: &str, limit: i32) -> Result<usize, lambda_runtime::Error> {
    let shared = listing_range(db, "SHARED#".into(), "SHARED#~".into(), limit).await?;
    let last = shared
        .last_evaluated_key
        .is_some()
        .then(|| shared.items().last().and_then(|i| i.get("id")?.as_s().ok()))
        .flatten();
    let own = listing_range(
        db,
        format!("PRIVATE#{owner}#{}", last.map_or("", |id| id.as_str())),
        format!("PRIVATE#{owner}#~"),
        limit,
    )
    .await?;
    Ok(shared.items().len() + own.items().len())
}

/// create-note's request (no client token): one conditional PutItem of the note as the store
/// writes it, with its place in the listing index. The new note's id.
pub async fn create_note(
    db: &Db,
    owner: &str,
    input: &Value,
) -> Result<String, lambda_runtime::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = shared::notes::now_timestamp();
    let visibility = input["visibility"].as_str().unwrap_or("PRIVATE");
    let listing = match visibility {
        "PRIVATE" => format!("PRIVATE#{owner}#{id}"),
        _ => format!("SHARED#{id}"),
    };
    db.client()
        .put_item()
        .table_name(db.table_name())
        .item("pk", s(PARTITION))
        .item("sk", s(format!("NOTE#{id}")))
        .item("gsi2sk", s(listing))
        .item("id", s(id.as_str()))
        .item("tenantId", s("acme"))
        .item("ownerId", s(owner))
        .item("title", s(input["title"].as_str().unwrap_or_default()))
        .item("body", s(input["body"].as_str().unwrap_or_default()))
        .item("visibility", s(visibility))
        .item("version", AttributeValue::N("1".into()))
        .item("createdAt", s(now.as_str()))
        .item("updatedAt", s(now))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await?;
    Ok(id)
}
