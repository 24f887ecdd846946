//! Real time on DynamoDB Local: the table streams every write with both images (what the note
//! publisher reads), also when it was created before the stream existed; the subscription
//! fields answer the caller's own filters whatever the event's arguments say. The filters'
//! semantics are proven in `shared::realtime` and per caller in the isolation matrix; the whole
//! chain (stream → publisher → AppSync protocol) runs in local/e2e/realtime*.e2e.mjs.

use integration_tests::*;
use serde_json::json;
use shared::api::{OnNoteChanged, OnPublicNoteChanged};
use shared::identity::IdentityId;
use shared::realtime::{SubscriptionGrant, invalidation_filter};
use shared::store::Db;
use shared::store::admin::{Admin, table_spec};
use shared::tenancy::TenantId;

async fn stream_view(client: &aws_sdk_dynamodb::Client, table: &str) -> Option<String> {
    let out = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let spec = out.table()?.stream_specification()?;
    spec.stream_enabled()
        .then(|| spec.stream_view_type().map(|v| v.as_str().to_owned()))
        .flatten()
}

#[tokio::test]
async fn the_table_streams_every_write_with_both_images() {
    let fx = Fixture::new().await;
    assert_eq!(
        stream_view(&client(), fx.db().table_name())
            .await
            .as_deref(),
        Some(table_spec().stream_view_type)
    );
    assert_eq!(table_spec().stream_view_type, "NEW_AND_OLD_IMAGES");
}

#[tokio::test]
async fn create_table_turns_the_stream_on_for_a_table_made_without_it() {
    let table = format!("notes-nostream-{}", uuid::Uuid::new_v4().simple());
    // create_table adds the indexes too: a database of its own (see client_of_own_database).
    let client = client_of_own_database();
    create_older_table(&client, &table, &[]).await;
    assert_eq!(stream_view(&client, &table).await, None);
    let created = Admin::new(Db::new(client.clone(), table.clone()))
        .create_table()
        .await
        .unwrap();
    assert!(!created, "the table existed");
    assert_eq!(
        stream_view(&client, &table).await.as_deref(),
        Some("NEW_AND_OLD_IMAGES")
    );
}

#[tokio::test]
async fn subscriptions_answer_the_callers_filters_whatever_the_arguments() {
    let fx = Fixture::new().await;
    let acme = TenantId::parse("acme").unwrap();
    for who in [Who::alice(), Who::carol()] {
        // Arguments a forged event might carry are not read.
        let forged =
            json!({"tenantId": "globex", "filter": "{}", "ownerId": Who::bob().identity_id()});
        let grant = fx.call(OnNoteChanged, &who, forged).await.unwrap();
        let me = IdentityId::parse(who.identity_id()).unwrap();
        // The User Pool sub AppSync reports (`...:CognitoSignIn:<sub>`): remove-user ends the
        // user's subscriptions by it.
        let provider = who.identity["cognitoIdentityAuthProvider"]
            .as_str()
            .unwrap();
        let (_, sub) = provider.split_once(":CognitoSignIn:").unwrap();
        let sub = sub.trim_end_matches('"');
        assert_eq!(
            grant,
            serde_json::to_value(SubscriptionGrant::member(&acme, &me, Some(sub))).unwrap()
        );
        assert!(
            serde_json::to_string(&grant["invalidationFilter"])
                .unwrap()
                .contains(sub)
        );
    }
    let grant = fx
        .call(OnNoteChanged, &Who::bob(), json!({}))
        .await
        .unwrap();
    assert_eq!(grant["tenantId"], "globex");
    assert_err(
        &fx.call(OnNoteChanged, &Who::guest("g"), json!({})).await,
        "Unauthorized",
    );
    // The public channel: anyone, an active tenant's only.
    let grant = fx
        .call(
            OnPublicNoteChanged,
            &Who::guest("g"),
            json!({"tenantId": "acme", "filter": "{}"}),
        )
        .await
        .unwrap();
    assert_eq!(
        grant,
        serde_json::to_value(SubscriptionGrant::public(&acme)).unwrap()
    );
    assert_eq!(
        grant["invalidationFilter"],
        invalidation_filter(&acme),
        "suspending acme ends it"
    );
    assert_err(
        &fx.call(
            OnPublicNoteChanged,
            &Who::bob(),
            json!({"tenantId": "nosuch"}),
        )
        .await,
        "NotFound",
    );
}
