//! One list of fields: `schema.graphql`, `template.yaml`, `functions/*` and
//! `shared::api::FIELDS` against each other, the batch resolvers' wiring, the functions'
//! runtime and the template's table against `tenantctl create-table`.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;
use shared::api::{FIELDS, Kind, NoteAuthor};
use shared::event::Field;
use shared::lambda::BatchResolver;

use crate::support::*;

/// (index name, key schema, projection type).
type Gsi = (String, Vec<(String, String)>, String);

fn function_crates() -> BTreeMap<String, Field> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        let resolver = main
            .split("shared::api::")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next())
            .unwrap_or_else(|| {
                panic!("functions/{name}/src/main.rs serves no shared::api resolver")
            });
        let entry = shared::api::entry(&name)
            .unwrap_or_else(|| panic!("functions/{name} is not in shared::api::FIELDS"));
        assert_eq!(
            entry.resolver, resolver,
            "functions/{name} serves {resolver}, the field table says {}",
            entry.resolver
        );
        out.insert(name, entry.field);
    }
    out
}

#[test]
fn schema_resolvers_and_functions_agree() {
    let t = Template::load();
    let resolvers = t.resolvers();
    let crates = function_crates();

    let internal = t.internal_resolvers();
    let schema = schema_fields();
    for field in schema
        .iter()
        .filter(|(ty, _)| matches!(ty.as_str(), "Query" | "Mutation" | "Subscription"))
    {
        // A subscription without a resolver would be filtered by its client's arguments only.
        assert!(
            resolvers.contains_key(field) || internal.contains_key(field),
            "schema field {}.{} has no resolver in template.yaml",
            field.0,
            field.1
        );
    }
    let expected_internal: BTreeMap<(String, String), String> = INTERNAL_FIELDS
        .iter()
        .map(|(ty, f, code, _)| ((ty.to_string(), f.to_string()), code.to_string()))
        .collect();
    assert_eq!(
        internal, expected_internal,
        "NONE data sources resolve exactly the internal fields"
    );
    for ((ty, field), krate) in &resolvers {
        assert!(
            schema.contains(&(ty.clone(), field.clone())),
            "resolver for {ty}.{field}, which schema.graphql lacks"
        );
        let served = crates.get(krate).unwrap_or_else(|| {
            panic!("resolver {ty}.{field} names function {krate}, which has no crate in functions/")
        });
        assert_eq!(
            (served.type_name, served.field_name),
            (ty.as_str(), field.as_str()),
            "functions/{krate} serves {served}, but template.yaml routes {ty}.{field} to it"
        );
    }
    let in_template: BTreeSet<String> = t.functions().into_values().collect();
    for krate in crates.keys() {
        assert!(
            in_template.contains(krate),
            "functions/{krate} has no AWS::Serverless::Function in template.yaml"
        );
    }
    assert_eq!(resolvers.len(), crates.len());
}

#[test]
fn table_matches_tenantctl_create_table() {
    let t = Template::load();
    let spec = shared::store::admin::table_spec();
    let table = &t.get("NotesTable")["Properties"];
    let pairs = |v: &Value, a: &str, b: &str| -> Vec<(String, String)> {
        v.as_sequence()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e[a].as_str().unwrap().to_owned(),
                    e[b].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let own = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(pairs(
            &table["AttributeDefinitions"],
            "AttributeName",
            "AttributeType"
        )),
        sorted(own(&spec.attributes)),
        "AttributeDefinitions differ from shared::store::admin::table_spec()"
    );
    assert_eq!(
        pairs(&table["KeySchema"], "AttributeName", "KeyType"),
        own(&spec.key_schema),
        "KeySchema differs"
    );
    let gsis: Vec<Gsi> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .map(|v| {
            v.iter()
                .map(|g| {
                    (
                        g["IndexName"].as_str().unwrap().to_owned(),
                        pairs(&g["KeySchema"], "AttributeName", "KeyType"),
                        g["Projection"]["ProjectionType"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<Gsi> = spec
        .global_secondary_indexes
        .iter()
        .map(|(n, k, p)| (n.to_string(), own(k), p.to_string()))
        .collect();
    assert_eq!(gsis, expected, "GlobalSecondaryIndexes differ");
    assert_eq!(table["BillingMode"].as_str(), Some(spec.billing_mode));
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(spec.ttl_attribute)
    );
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some(spec.stream_view_type),
        "the stream differs from tenantctl create-table"
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert!(
        !table["DeletionProtectionEnabled"].is_null(),
        "deletion protection must be set (a parameter)"
    );
}

#[test]
fn functions_run_on_arm64_provided_al2023_with_the_shared_environment() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap();
    let g = &doc["Globals"]["Function"];
    assert_eq!(g["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(g["Architectures"][0].as_str(), Some("arm64"));
    let env = &g["Environment"]["Variables"];
    for var in [
        "TABLE_NAME",
        "IDENTITY_POOL_ID",
        "LOG_LEVEL",
        "TENANT_CACHE_TTL_SECONDS",
    ] {
        assert!(!env[var].is_null(), "Globals lacks {var}");
    }
    for (name, f) in Template::load().of_type("AWS::Serverless::Function") {
        assert!(
            f["Properties"]["Runtime"].is_null(),
            "{name} overrides the global runtime"
        );
        assert!(
            f["Properties"]["Architectures"].is_null(),
            "{name} overrides the global architecture"
        );
    }
}

#[test]
fn batch_resolvers_are_wired_for_batch_invoke() {
    let t = Template::load();
    let resolvers = t.resolvers();
    for (name, r) in t.of_type("AWS::AppSync::Resolver") {
        let p = &r["Properties"];
        let field = (
            p["TypeName"].as_str().unwrap().to_owned(),
            p["FieldName"].as_str().unwrap().to_owned(),
        );
        // The internal fields have no function (NONE data source).
        let Some(krate) = resolvers.get(&field) else {
            continue;
        };
        let entry = FIELDS
            .iter()
            .find(|e| e.function == krate.as_str())
            .unwrap_or_else(|| panic!("{krate} is not in shared::api::FIELDS"));
        let code = p["CodeS3Location"].as_str().unwrap();
        if entry.kind == Kind::Batch {
            assert_eq!(
                code, "resolvers/batch-invoke.js",
                "{name}: {krate} is a batch resolver"
            );
            let max = p["MaxBatchSize"].as_u64().unwrap_or(0);
            assert!(
                (2..=2000).contains(&max),
                "{name}: MaxBatchSize must be set (2..=2000), is {max}"
            );
            // The function refuses arrays longer than its own bound: the same number.
            let bound = match entry.resolver {
                "NoteAuthor" => NoteAuthor::MAX_BATCH_SIZE,
                other => panic!("add {other}'s MAX_BATCH_SIZE here"),
            };
            assert_eq!(
                max, bound as u64,
                "{name}: MaxBatchSize vs {krate}'s MAX_BATCH_SIZE"
            );
        } else {
            // A subscription's handler sets the filters its function answers.
            let want = if field.0 == "Subscription" {
                "resolvers/subscribe.js"
            } else {
                "resolvers/invoke.js"
            };
            assert_eq!(code, want, "{name}: {krate} takes single events");
            assert!(
                p["MaxBatchSize"].is_null(),
                "{name}: batching on for a function that takes single events"
            );
        }
    }
}

#[test]
fn the_template_needs_no_lint_exceptions() {
    let t = Template::load();
    assert!(
        t.doc["Metadata"]["cfn-lint"].is_null(),
        "cfn-lint needs no ignore_checks (scripts/lint-template.sh pins a current release)"
    );
}

/// The registry is the list of fields: every entry needs its schema field, its crate and its
/// template function, and every schema field its entry. One failure names everything missing,
/// so adding a field is: fix what this test lists.
#[test]
fn every_registry_entry_has_its_schema_field_crate_and_template_function() {
    let t = Template::load();
    let schema = schema_fields();
    let in_template: BTreeSet<String> = t.functions().into_values().collect();
    let mut missing = Vec::new();
    for e in FIELDS {
        let field = (e.field.type_name.to_owned(), e.field.field_name.to_owned());
        if !schema.contains(&field) {
            missing.push(format!(
                "schema.graphql: add {} (field table row \"{}\")",
                e.field, e.function
            ));
        }
        if !root()
            .join("functions")
            .join(e.function)
            .join("src/main.rs")
            .exists()
        {
            missing.push(format!(
                "functions/{}/: add the crate, main.rs = shared::lambda::serve(shared::api::{})",
                e.function, e.resolver
            ));
        }
        if !in_template.contains(e.function) {
            missing.push(format!(
                "template.yaml: add the function (Binary: {}), its data source and the resolver for {}",
                e.function, e.field
            ));
        }
    }
    let listed: BTreeSet<(String, String)> = FIELDS
        .iter()
        .map(|e| (e.field.type_name.to_owned(), e.field.field_name.to_owned()))
        .collect();
    for (ty, field) in &schema {
        let resolved = matches!(ty.as_str(), "Query" | "Mutation" | "Subscription")
            || t.resolvers().contains_key(&(ty.clone(), field.clone()));
        let internal = INTERNAL_FIELDS
            .iter()
            .any(|(t, f, _, _)| t == ty && f == field);
        if resolved && !internal && !listed.contains(&(ty.clone(), field.clone())) {
            missing.push(format!(
                "shared/src/api.rs: add {ty}.{field}'s resolver and its line in resolvers!"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "to add a field, still missing:\n  {}",
        missing.join("\n  ")
    );
}
