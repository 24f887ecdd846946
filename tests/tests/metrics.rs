//! Per-tenant metrics: every invocation writes one CloudWatch EMF document naming its tenant and
//! field, with the DynamoDB capacity it consumed — the sum of what DynamoDB Local reported.

use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{CreateNote, GetNote, ListNotes, Me, PublicNotes, UpdateNote};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/emf-schema.json"))
        .expect("tests/emf-schema.json");
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid schema")
}

/// The rules the schema cannot express: every metric a directive names is a number at the root,
/// every dimension a string there.
fn targets_present(doc: &Value) -> Result<(), String> {
    for d in doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for m in d["Metrics"].as_array().into_iter().flatten() {
            let name = m["Name"].as_str().unwrap_or_default();
            if !doc[name].is_number() {
                return Err(format!("metric {name} is not a number at the root"));
            }
        }
        for set in d["Dimensions"].as_array().into_iter().flatten() {
            for k in set.as_array().into_iter().flatten() {
                let k = k.as_str().unwrap_or_default();
                if !doc[k].is_string() {
                    return Err(format!("dimension {k} is not a string at the root"));
                }
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_invocation_writes_one_valid_emf_document_with_its_tenant_and_capacity() {
    let fx = Fixture::new().await;
    let validator = schema();
    let (alice, bob) = (Who::alice(), Who::bob());
    fx.call(Me, &alice, json!({})).await.unwrap();
    fx.emf_lines();
    fx.capacity_reported.take();

    let note = fx.create(&alice, "metered", "PUBLIC").await;
    let calls: Vec<(&str, &Who, &str)> = vec![
        ("Mutation.createNote", &alice, "ok"),
        ("Query.note", &alice, "ok"),
        ("Query.notes", &alice, "ok"),
        ("Mutation.updateNote", &alice, "ok"),
        ("Query.publicNotes", &bob, "ok"),
        ("Query.note", &bob, "ok"),
        ("Mutation.updateNote", &bob, "NotFound"),
    ];
    // The create above was the first line; then one call per row.
    let mut reported = vec![fx.capacity_reported.take()];
    let mut lines = fx.emf_lines();
    for (field, who, _) in &calls[1..] {
        let r = match *field {
            "Query.note" => fx.call(GetNote, who, json!({"id": note["id"]})).await,
            "Query.notes" => fx.call(ListNotes, who, json!({})).await,
            "Query.publicNotes" => fx.call(PublicNotes, who, json!({"tenantId": "acme"})).await,
            "Mutation.updateNote" => {
                fx.call(
                    UpdateNote,
                    who,
                    json!({"input": {"id": note["id"], "title": "metered v2", "expectedVersion": 1}}),
                )
                .await
            }
            _ => fx.call(CreateNote, who, json!({"input": {"title": "x"}})).await,
        };
        let _ = r;
        reported.push(fx.capacity_reported.take());
        lines.extend(fx.emf_lines());
    }
    assert_eq!(
        lines.len(),
        calls.len(),
        "one line per invocation: {lines:#?}"
    );
    for (((field, who, outcome), doc), reported) in calls.iter().zip(&lines).zip(&reported) {
        let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{field}: {errors:?}\n{doc:#}");
        targets_present(doc).unwrap_or_else(|e| panic!("{field}: {e}\n{doc:#}"));
        assert_eq!(doc["field"], *field);
        assert_eq!(doc["outcome"], *outcome, "{doc:#}");
        // Billed to the tenant whose data the call touched: acme's public notes are acme's.
        let tenant = if who.identity_id() == alice.identity_id() || *field == "Query.publicNotes" {
            "acme"
        } else {
            "globex"
        };
        assert_eq!(doc["tenant"], tenant);
        let metered = doc["ConsumedCapacity"].as_f64().unwrap();
        assert!(metered > 0.0, "{field} consumed nothing? {doc:#}");
        assert!(
            (metered - reported).abs() < 1e-9,
            "{field}: the line says {metered} units, DynamoDB Local reported {reported}"
        );
    }
    // A guest's tenantId becomes the dimension only once the registry admitted it: an unknown
    // or suspended id, or a malformed one, is `-` (no metric per attacker-chosen string).
    let globex = shared::tenancy::TenantId::parse("globex").unwrap();
    let suspended = shared::tenancy::TenantStatus::Suspended;
    fx.admin()
        .registry_set_status(&globex, suspended)
        .await
        .unwrap();
    for tenant in ["nosuch", "globex", "not a tenant id!", "acme"] {
        let r = fx
            .call(PublicNotes, &Who::guest("g"), json!({"tenantId": tenant}))
            .await;
        let line = fx.emf_lines();
        assert_eq!(line.len(), 1);
        let want = if tenant == "acme" { "acme" } else { "-" };
        assert_eq!(line[0]["tenant"], want, "{tenant}: {r:?}");
    }
    // A refused caller still writes its line, with no tenant and no capacity.
    fx.call(ListNotes, &Who::guest("g"), json!({}))
        .await
        .unwrap_err();
    let refused = fx.emf_lines();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["tenant"], "-");
    assert_eq!(refused[0]["outcome"], "Unauthorized");
    assert_eq!(refused[0]["Errors"], 1);
    assert!(validator.is_valid(&refused[0]));
}

#[test]
fn the_schema_refuses_what_cloudwatch_would_drop() {
    let validator = schema();
    let ok = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["tenant"]], "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]}, "tenant": "acme", "Latency": 1.0});
    assert!(validator.is_valid(&ok));
    for bad in [
        json!({"CloudWatchMetrics": []}),
        json!({"_aws": {"CloudWatchMetrics": []}}),
        json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "", "Dimensions": [], "Metrics": []}]}}),
        json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "L", "Unit": "Parsecs"}]}]}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}
