//! One list of fields: `schema.graphql`, `template.yaml` and `functions/*` are checked against
//! each other, and the template's table against `tenantctl create-table`. Adding a field is a
//! folder, a template block and a handler; this test says which one is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;
use shared::api::{
    CreateNote, DeleteNote, GetNote, ListNotes, Me, MyProfile, NoteAuthor, PublicNotes, SetRole,
    TenantInfo, UpdateMyProfile, UpdateNote,
};
use shared::event::Field;
use shared::lambda::{BatchResolver, Resolver};

/// Fields guests may call (the unauthenticated role's policy must name exactly these).
const GUEST_FIELDS: &[(&str, &str)] = &[("Query", "me"), ("Query", "publicNotes")];
/// DynamoDB actions that do not write.
const READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The field a resolver type in `shared::api` serves.
fn field_of(resolver: &str) -> Field {
    match resolver {
        "Me" => Me::FIELD,
        "GetNote" => GetNote::FIELD,
        "ListNotes" => ListNotes::FIELD,
        "PublicNotes" => PublicNotes::FIELD,
        "CreateNote" => CreateNote::FIELD,
        "UpdateNote" => UpdateNote::FIELD,
        "DeleteNote" => DeleteNote::FIELD,
        "MyProfile" => MyProfile::FIELD,
        "TenantInfo" => TenantInfo::FIELD,
        "UpdateMyProfile" => UpdateMyProfile::FIELD,
        "SetRole" => SetRole::FIELD,
        "NoteAuthor" => <NoteAuthor as BatchResolver>::FIELD,
        other => panic!(
            "shared::api::{other} is served by a function but not listed in this test's field_of"
        ),
    }
}

type Fields = BTreeSet<(String, String)>;
/// (index name, key schema, projection type).
type Gsi = (String, Vec<(String, String)>, String);

struct Template {
    resources: BTreeMap<String, Value>,
}

/// The text of a `!GetAtt A.B` / `!GetAtt [A, B]` / `!Ref A` / `!Sub "..."`, or a plain string.
fn intrinsic(v: &Value) -> (String, String) {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let body = match &t.value {
                Value::String(s) => s.clone(),
                Value::Sequence(parts) => parts
                    .iter()
                    .filter_map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
                other => panic!("unexpected {tag} body {other:?}"),
            };
            (tag.trim_start_matches('!').to_owned(), body)
        }
        Value::String(s) => (String::new(), s.clone()),
        other => panic!("expected a string or intrinsic, got {other:?}"),
    }
}

impl Template {
    fn load() -> Template {
        let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        let resources = doc["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
            .collect();
        Template { resources }
    }

    fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.resources
            .iter()
            .filter(move |(_, r)| r["Type"].as_str() == Some(ty))
    }

    fn get(&self, name: &str) -> &Value {
        self.resources
            .get(name)
            .unwrap_or_else(|| panic!("template.yaml has no resource {name}"))
    }

    /// GetAtt target resource name.
    fn target(v: &Value, attr: &str) -> String {
        let (tag, body) = intrinsic(v);
        assert_eq!(tag, "GetAtt", "expected !GetAtt X.{attr}, got {v:?}");
        body.strip_suffix(&format!(".{attr}"))
            .unwrap_or_else(|| panic!("expected .{attr} in {body}"))
            .to_owned()
    }

    /// Every (TypeName, FieldName) with a resolver → the function crate that serves it.
    fn resolvers(&self) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        for (name, r) in self.of_type("AWS::AppSync::Resolver") {
            let p = &r["Properties"];
            let field = (
                p["TypeName"].as_str().unwrap().to_owned(),
                p["FieldName"].as_str().unwrap().to_owned(),
            );
            let ds_name = Self::target(&p["DataSourceName"], "Name");
            let ds = self.get(&ds_name);
            assert_eq!(
                ds["Type"].as_str(),
                Some("AWS::AppSync::DataSource"),
                "{name}: {ds_name}"
            );
            assert_eq!(
                ds["Properties"]["Type"].as_str(),
                Some("AWS_LAMBDA"),
                "{ds_name}"
            );
            let fn_name = Self::target(
                &ds["Properties"]["LambdaConfig"]["LambdaFunctionArn"],
                "Arn",
            );
            let func = self.get(&fn_name);
            assert_eq!(
                func["Type"].as_str(),
                Some("AWS::Serverless::Function"),
                "{fn_name}"
            );
            assert_eq!(
                func["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{fn_name}"
            );
            let binary = func["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                func["Properties"]["CodeUri"].as_str(),
                Some(format!("functions/{binary}").as_str()),
                "{fn_name} must build its own crate"
            );
            let code = p["CodeS3Location"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no CodeS3Location"));
            assert!(root().join(code).is_file(), "{name}: {code} does not exist");
            assert_eq!(p["Runtime"]["Name"].as_str(), Some("APPSYNC_JS"), "{name}");
            assert!(
                out.insert(field.clone(), binary).is_none(),
                "two resolvers for {field:?}"
            );
        }
        out
    }

    /// Function resource name → its crate.
    fn functions(&self) -> BTreeMap<String, String> {
        self.of_type("AWS::Serverless::Function")
            .map(|(name, f)| {
                let bin = f["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: no Binary"));
                (name.clone(), bin.to_owned())
            })
            .collect()
    }

    /// `appsync:GraphQL` field ARNs a role grants, as (type, field) (wildcards kept as `*`).
    fn granted_fields(&self, role: &str) -> Fields {
        let mut out = Fields::new();
        let policies = self.get(role)["Properties"]["Policies"]
            .as_sequence()
            .unwrap();
        for p in policies {
            for st in p["PolicyDocument"]["Statement"].as_sequence().unwrap() {
                let actions: Vec<&str> = match &st["Action"] {
                    Value::String(s) => vec![s.as_str()],
                    Value::Sequence(v) => v.iter().filter_map(|a| a.as_str()).collect(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(
                    actions,
                    vec!["appsync:GraphQL"],
                    "{role} may only call GraphQL"
                );
                assert_eq!(st["Effect"].as_str(), Some("Allow"));
                let resources = match &st["Resource"] {
                    Value::Sequence(v) => v.clone(),
                    one => vec![one.clone()],
                };
                for r in resources {
                    let (_, arn) = intrinsic(&r);
                    let rest = arn
                        .split_once("/types/")
                        .unwrap_or_else(|| panic!("{role}: {arn} is not a field ARN"))
                        .1;
                    let (ty, field) = rest
                        .split_once("/fields/")
                        .unwrap_or_else(|| panic!("{role}: {arn}"));
                    out.insert((ty.to_owned(), field.to_owned()));
                }
            }
        }
        out
    }
}

/// Every (object type, field) of the schema.
fn schema_fields() -> Fields {
    let text = std::fs::read_to_string(root().join("schema.graphql")).unwrap();
    let doc = graphql_parser::parse_schema::<String>(&text).unwrap();
    let mut out = Fields::new();
    for def in doc.definitions {
        if let graphql_parser::schema::Definition::TypeDefinition(
            graphql_parser::schema::TypeDefinition::Object(o),
        ) = def
        {
            for f in o.fields {
                out.insert((o.name.clone(), f.name));
            }
        }
    }
    out
}

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
        out.insert(name, field_of(resolver));
    }
    out
}

#[test]
fn schema_resolvers_and_functions_agree() {
    let t = Template::load();
    let resolvers = t.resolvers();
    let crates = function_crates();

    let schema = schema_fields();
    for field in schema
        .iter()
        .filter(|(ty, _)| ty == "Query" || ty == "Mutation")
    {
        assert!(
            resolvers.contains_key(field),
            "schema field {}.{} has no resolver in template.yaml",
            field.0,
            field.1
        );
    }
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
fn guests_are_granted_exactly_the_guest_fields() {
    let t = Template::load();
    let expected: Fields = GUEST_FIELDS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(
        t.granted_fields("GuestRole"),
        expected,
        "the unauthenticated role must name exactly the guest fields"
    );
    // Every guest field is a real, resolved field.
    let resolvers = t.resolvers();
    for f in &expected {
        assert!(resolvers.contains_key(f), "{f:?}");
    }
    // Users may call every root type.
    let users = t.granted_fields("UserRole");
    for ty in ["Query", "Mutation"] {
        assert!(
            users.contains(&(ty.to_owned(), "*".to_owned())),
            "UserRole lacks {ty}"
        );
    }
    // The roles are the Identity Pool's, each trusting only its own kind of identity.
    let attach = &t.get("IdentityPoolRoles")["Properties"]["Roles"];
    assert_eq!(
        Template::target(&attach["unauthenticated"], "Arn"),
        "GuestRole"
    );
    assert_eq!(
        Template::target(&attach["authenticated"], "Arn"),
        "UserRole"
    );
    for (role, amr) in [
        ("GuestRole", "unauthenticated"),
        ("UserRole", "authenticated"),
    ] {
        let st = &t.get(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            st["Condition"]["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"]
                .as_str(),
            Some(amr)
        );
        assert_eq!(
            intrinsic(&st["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"]).1,
            "IdentityPool"
        );
    }
}

#[test]
fn read_only_functions_get_read_only_actions() {
    let t = Template::load();
    let resolvers = t.resolvers();
    let functions = t.functions();
    for (fn_name, krate) in &functions {
        let Some(((ty, field), _)) = resolvers.iter().find(|(_, k)| *k == krate) else {
            continue;
        };
        let policies = t.get(fn_name)["Properties"]["Policies"]
            .as_sequence()
            .unwrap();
        let mut actions = BTreeSet::new();
        for p in policies {
            // The shared managed policy only lets functions assume the tenant data role.
            if matches!(p, Value::Tagged(_)) {
                assert_eq!(
                    intrinsic(p),
                    ("Ref".to_owned(), "AssumeTenantDataRolePolicy".to_owned()),
                    "{fn_name}"
                );
                continue;
            }
            for st in p["Statement"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{fn_name}: inline statements only"))
            {
                for a in st["Action"].as_sequence().unwrap() {
                    actions.insert(a.as_str().unwrap().to_owned());
                }
            }
        }
        assert!(!actions.is_empty(), "{fn_name}");
        assert!(
            actions.iter().all(|a| a.starts_with("dynamodb:")),
            "{fn_name}: {actions:?}"
        );
        if ty == "Query" {
            for a in &actions {
                assert!(
                    READ_ACTIONS.contains(&a.as_str()),
                    "{fn_name} resolves {ty}.{field} but may {a}"
                );
            }
        }
    }
}

#[test]
fn table_matches_tenantctl_create_table() {
    let t = Template::load();
    let spec = shared::store::table_spec();
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
        "AttributeDefinitions differ from shared::store::table_spec()"
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
        let krate = &resolvers[&field];
        let main =
            std::fs::read_to_string(root().join("functions").join(krate).join("src/main.rs"))
                .unwrap();
        let batched = main.contains("serve_batch");
        let code = p["CodeS3Location"].as_str().unwrap();
        if batched {
            assert_eq!(
                code, "resolvers/batch-invoke.js",
                "{name}: {krate} is a batch resolver"
            );
            let max = p["MaxBatchSize"].as_u64().unwrap_or(0);
            assert!(
                (2..=2000).contains(&max),
                "{name}: MaxBatchSize must be set (2..=2000), is {max}"
            );
        } else {
            assert_eq!(
                code, "resolvers/invoke.js",
                "{name}: {krate} takes single events"
            );
            assert!(
                p["MaxBatchSize"].is_null(),
                "{name}: batching on for a function that takes single events"
            );
        }
    }
}

#[test]
fn the_tenant_data_role_reaches_only_the_tagged_tenants_partition() {
    let t = Template::load();
    let role = &t.get("TenantDataRole")["Properties"];
    let tag = shared::tenant_credentials::TENANT_TAG;
    // The partition a tenant's keys start with, as the store builds them.
    let expected = format!(
        "{}${{aws:PrincipalTag/{tag}}}",
        shared::store::TENANT_PREFIX
    );
    for p in role["Policies"].as_sequence().unwrap() {
        for st in p["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            assert_eq!(st["Effect"].as_str(), Some("Allow"));
            let keys = &st["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"];
            assert_eq!(
                keys.as_sequence().map(|v| v.len()),
                Some(1),
                "exactly one allowed partition"
            );
            assert_eq!(keys[0].as_str(), Some(expected.as_str()));
            for a in st["Action"].as_sequence().unwrap() {
                let a = a.as_str().unwrap();
                assert!(
                    a.starts_with("dynamodb:") && !a.contains('*') && a != "dynamodb:Scan",
                    "{a}"
                );
            }
        }
    }
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Condition"]["StringLike"][format!("aws:RequestTag/{tag}").as_str()].as_str(),
        Some("?*")
    );
    assert_eq!(
        trust["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"][0].as_str(),
        Some(tag)
    );
    // Off by default; on, every function gets the role's ARN.
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(
        doc["Parameters"]["TenantScopedCredentials"]["Default"].as_str(),
        Some("false")
    );
    assert!(!doc["Globals"]["Function"]["Environment"]["Variables"]["TENANT_ROLE_ARN"].is_null());
}
