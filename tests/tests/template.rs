//! One list of fields: `schema.graphql`, `template.yaml` and `functions/*` are checked against
//! each other, and the template's table against `tenantctl create-table`. Adding a field is a
//! folder, a template block and a handler; this test says which one is missing.
//!
//! Where the code meets AWS: every function's grants (in both credential modes), the tenant data
//! role, the page-token secret, logs, retention policies and the API's abuse limits are checked
//! as documents here; AWS enforces them (README "Security model").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;
use shared::api::{FIELDS, Kind, NoteAuthor};
use shared::event::Field;
use shared::lambda::BatchResolver;

/// Fields guests may call (the unauthenticated role's policy must name exactly these).
const GUEST_FIELDS: &[(&str, &str)] = &[
    ("Query", "me"),
    ("Query", "publicNotes"),
    ("Subscription", "onPublicNoteChanged"),
];
/// Root fields on a NONE data source that no Identity Pool role may call: (field, its handler,
/// the one principal granted it: a template resource).
const INTERNAL_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "Mutation",
        "publishNoteChange",
        "resolvers/publish-note-change.js",
        "NotePublisherFunction",
    ),
    (
        "Mutation",
        "invalidateTenantSubscriptions",
        "resolvers/invalidate-tenant.js",
        "OperatorPolicy",
    ),
];
/// DynamoDB actions that do not write.
const READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

type Fields = BTreeSet<(String, String)>;
/// (index name, key schema, projection type).
type Gsi = (String, Vec<(String, String)>, String);

struct Template {
    doc: Value,
    resources: BTreeMap<String, Value>,
}

fn template_text() -> String {
    std::fs::read_to_string(root().join("template.yaml")).unwrap()
}

fn schema_text() -> String {
    std::fs::read_to_string(root().join("schema.graphql")).unwrap()
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
        Template::parse(&template_text())
    }

    fn parse(text: &str) -> Template {
        let doc: Value = serde_norway::from_str(text).unwrap();
        let resources = doc["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
            .collect();
        Template { doc, resources }
    }

    fn parameter(&self, name: &str) -> &Value {
        let p = &self.doc["Parameters"][name];
        assert!(!p.is_null(), "template.yaml has no parameter {name}");
        p
    }

    /// `Globals: Function:`.
    fn globals(&self) -> &Value {
        &self.doc["Globals"]["Function"]
    }

    /// A function's property, or the Globals value it inherits.
    fn function_property<'a>(&'a self, f: &'a Value, prop: &str) -> &'a Value {
        let own = &f["Properties"][prop];
        if own.is_null() {
            &self.globals()[prop]
        } else {
            own
        }
    }

    /// Resolver function crate → (resource name, resource); workers are listed by `workers`.
    fn functions_by_crate(&self) -> BTreeMap<String, (String, &Value)> {
        self.of_type("AWS::Serverless::Function")
            .filter(|(_, f)| !Self::is_worker(f))
            .map(|(name, f)| {
                let krate = f["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (krate, (name.clone(), f))
            })
            .collect()
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
            if ds["Properties"]["Type"].as_str() == Some("NONE") {
                // The internal and operator mutations: see `internal_resolvers`.
                continue;
            }
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

    /// Every (TypeName, FieldName) resolved on a NONE data source → its handler file.
    fn internal_resolvers(&self) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        for (name, r) in self.of_type("AWS::AppSync::Resolver") {
            let p = &r["Properties"];
            let ds = self.get(&Self::target(&p["DataSourceName"], "Name"));
            if ds["Properties"]["Type"].as_str() != Some("NONE") {
                continue;
            }
            assert_eq!(p["Runtime"]["Name"].as_str(), Some("APPSYNC_JS"), "{name}");
            let code = p["CodeS3Location"].as_str().unwrap().to_owned();
            assert!(
                root().join(&code).is_file(),
                "{name}: {code} does not exist"
            );
            out.insert(
                (
                    p["TypeName"].as_str().unwrap().to_owned(),
                    p["FieldName"].as_str().unwrap().to_owned(),
                ),
                code,
            );
        }
        out
    }

    /// Functions that resolve no field (CodeUri `workers/…`): resource name → (crate, resource).
    fn workers(&self) -> BTreeMap<String, (String, &Value)> {
        self.of_type("AWS::Serverless::Function")
            .filter(|(_, f)| Self::is_worker(f))
            .map(|(name, f)| {
                let bin = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
                (name.clone(), (bin.to_owned(), f))
            })
            .collect()
    }

    fn is_worker(f: &Value) -> bool {
        f["Properties"]["CodeUri"]
            .as_str()
            .is_some_and(|c| c.starts_with("workers/"))
    }

    /// Resolver function resource name → its crate (workers are listed by `workers`).
    fn functions(&self) -> BTreeMap<String, String> {
        self.of_type("AWS::Serverless::Function")
            .filter(|(_, f)| !Self::is_worker(f))
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
        let entry = shared::api::entry(&name)
            .unwrap_or_else(|| panic!("functions/{name} is not in shared::api::FIELDS"));
        assert_eq!(
            entry.resolver, resolver,
            "functions/{name} serves {resolver}, the registry says {}",
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
    // Users may call every root field of the schema but the internal ones, named one by one: a
    // `Mutation/*` would include publishNoteChange and invalidateTenantSubscriptions.
    let internal: Fields = INTERNAL_FIELDS
        .iter()
        .map(|(ty, f, _, _)| (ty.to_string(), f.to_string()))
        .collect();
    let user_fields: Fields = schema_fields()
        .into_iter()
        .filter(|(ty, _)| matches!(ty.as_str(), "Query" | "Mutation" | "Subscription"))
        .filter(|f| !internal.contains(f))
        .collect();
    assert_eq!(
        t.granted_fields("UserRole"),
        user_fields,
        "the authenticated role must name exactly the API's fields, no wildcard"
    );
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

/// Which branch `!If [UseTenantScopedCredentials, …, …]` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `TenantScopedCredentials=true`: tenant data only through `TenantDataRole`.
    Scoped,
    /// The default: the functions' own roles reach the table.
    Shared,
}

const MODES: [Mode; 2] = [Mode::Scoped, Mode::Shared];

/// `v` with every `!If [UseTenantScopedCredentials, a, b]` replaced by the branch `mode` takes;
/// `None` for `!Ref AWS::NoValue`.
fn in_mode(v: &Value, mode: Mode) -> Option<Value> {
    match v {
        Value::Tagged(t) if t.tag == "If" => {
            let parts = t.value.as_sequence().expect("!If [condition, then, else]");
            assert_eq!(parts.len(), 3, "{v:?}");
            assert_eq!(
                parts[0].as_str(),
                Some("UseTenantScopedCredentials"),
                "a function's grants may depend on the credentials mode only"
            );
            in_mode(&parts[if mode == Mode::Scoped { 1 } else { 2 }], mode)
        }
        Value::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some("AWS::NoValue") => None,
        Value::Sequence(items) => Some(Value::Sequence(
            items.iter().filter_map(|i| in_mode(i, mode)).collect(),
        )),
        Value::Mapping(m) => Some(Value::Mapping(
            m.iter()
                .filter_map(|(k, v)| in_mode(v, mode).map(|v| (k.clone(), v)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// A function role's grants in one mode: the managed policies it names (by `!Ref`) and its
/// inline statements.
struct Grants {
    managed: Vec<String>,
    statements: Vec<Value>,
}

fn grants(f: &Value, mode: Mode) -> Grants {
    let policies = in_mode(&f["Properties"]["Policies"], mode).unwrap_or(Value::Null);
    let mut g = Grants {
        managed: Vec::new(),
        statements: Vec::new(),
    };
    for p in policies
        .as_sequence()
        .map(|s| s.as_slice())
        .unwrap_or_default()
    {
        if let Value::Tagged(_) = p {
            let (tag, name) = intrinsic(p);
            assert_eq!(tag, "Ref", "managed policies by !Ref only: {p:?}");
            g.managed.push(name);
        } else {
            let statements = p["Statement"]
                .as_sequence()
                .unwrap_or_else(|| panic!("inline policy documents only: {p:?}"));
            g.statements.extend(statements.iter().cloned());
        }
    }
    g
}

/// A string or a list of strings.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_owned())
            .collect(),
        Value::String(s) => vec![s.clone()],
        other => panic!("expected a string or a list of strings, got {other:?}"),
    }
}

/// Resources as written: `!GetAtt NotesTable.Arn`, `!Sub ${NotesTable.Arn}/index/gsi1`, `*`.
fn resources(v: &Value) -> Vec<String> {
    let list = match v {
        Value::Sequence(items) => items.clone(),
        one => vec![one.clone()],
    };
    list.iter()
        .map(|r| match intrinsic(r) {
            (tag, body) if tag.is_empty() => body,
            (tag, body) => format!("!{tag} {body}"),
        })
        .collect()
}

const TABLE_ARN: &str = "!GetAtt NotesTable.Arn";

fn gsi1_arn() -> String {
    index_arn(shared::store::GSI1)
}

/// An index's ARN as the template writes it.
fn index_arn(index: &str) -> String {
    format!("!Sub ${{NotesTable.Arn}}/index/{index}")
}

/// The tenant registry's partition key (`REGISTRY_PK` in shared/src/store/keys.rs).
const REGISTRY_PARTITION: &str = "REGISTRY";
/// A tenant's partition of the public index (`public_partition` in shared/src/store/keys.rs).
const PUBLIC_PARTITION_PREFIX: &str = "PUBLIC#";
/// The one action on the page-token secret.
const SECRET_READ: &str = "secretsmanager:GetSecretValue";

/// (index, action) pairs a function is granted on the table's indexes.
type IndexGrants = &'static [(&'static str, &'static str)];

/// In the default mode each function's own role gets exactly the DynamoDB actions its code
/// calls: (crate, actions on the table, (index, action) on the indexes). A grant the code never
/// uses is a finding; a new function must be added here.
const SHARED_MODE_GRANTS: &[(&str, &[&str], IndexGrants)] = &[
    // The registry only (provider → tenant).
    ("me", &["GetItem"], &[]),
    ("get-note", &["GetItem"], &[]),
    // The registry (GetItem); a page comes from the listing index alone, never the table.
    ("list-notes", &["GetItem"], &[("gsi2", "Query")]),
    // The registry (GetItem) and the tenant's PUBLIC notes on the sparse index.
    ("public-notes", &["GetItem"], &[("gsi1", "Query")]),
    // PutItem, or TransactWriteItems of two Puts (authorized as PutItem).
    ("create-note", &["GetItem", "PutItem"], &[]),
    ("update-note", &["GetItem", "UpdateItem"], &[]),
    ("delete-note", &["GetItem", "DeleteItem"], &[]),
    // Registry and profiles, batched.
    ("note-author", &["GetItem", "BatchGetItem"], &[]),
    // The registry only: who the subscriber is, whether the tenant is active.
    ("on-note-changed", &["GetItem"], &[]),
    ("on-public-note-changed", &["GetItem"], &[]),
    ("my-profile", &["GetItem"], &[]),
    ("tenant", &["GetItem"], &[]),
    (
        "update-my-profile",
        &["GetItem", "UpdateItem", "PutItem"],
        &[],
    ),
    (
        "set-role",
        &["GetItem", "UpdateItem", "ConditionCheckItem"],
        &[],
    ),
];

/// Functions that never touch tenant data, so never assume `TenantDataRole`.
const NO_TENANT_DATA: &[&str] = &["me", "on-note-changed", "on-public-note-changed"];

/// The function whose field settles onboard's pending first-admin claim
/// (`shared::lambda::Claimant`, on `Query.myProfile`).
const CLAIM_FUNCTION: &str = "my-profile";

/// A statement that allows its actions only inside a `TransactWriteItems`.
fn transaction_only(st: &Value) -> bool {
    let c = &st["Condition"];
    c.as_mapping().map(|m| m.len()) == Some(1)
        && c["StringEquals"].as_mapping().map(|m| m.len()) == Some(1)
        && c["StringEquals"]["dynamodb:EnclosingOperation"].as_str() == Some("TransactWriteItems")
}

/// The first admin's claim is a TransactWriteItems of the profile's Put or Update and the
/// counters' Update. IAM authorizes each element as its own action, so the function that claims
/// needs PutItem and UpdateItem — a function without them refuses the admin on every call (the
/// deploy-day outage DynamoDB Local cannot show). Exactly one function claims, and its role may
/// write only inside a transaction; in the scoped mode TenantDataRole holds both rights.
#[test]
fn only_the_claiming_function_may_write_and_only_inside_a_transaction() {
    let t = Template::load();
    for (krate, (name, f)) in t.functions_by_crate() {
        let claim: Vec<Value> = grants(f, Mode::Shared)
            .statements
            .into_iter()
            .filter(transaction_only)
            .collect();
        if krate != CLAIM_FUNCTION {
            assert!(
                claim.is_empty(),
                "{name}: only {CLAIM_FUNCTION} claims: {claim:?}"
            );
            continue;
        }
        assert_eq!(claim.len(), 1, "{name}: {claim:?}");
        let st = &claim[0];
        assert_eq!(st["Effect"].as_str(), Some("Allow"));
        let actions: BTreeSet<String> = strings(&st["Action"]).into_iter().collect();
        let want: BTreeSet<String> = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
            .map(String::from)
            .into();
        assert_eq!(actions, want, "{name}");
        assert_eq!(
            resources(&st["Resource"]),
            vec![TABLE_ARN.to_owned()],
            "{name}"
        );
        // Scoped mode: the claim runs under TenantDataRole, which may write the partition.
        let g = grants(f, Mode::Scoped);
        assert!(
            g.managed.iter().any(|m| m == "AssumeTenantDataRolePolicy"),
            "{name}"
        );
    }
    let tdr = &t.get("TenantDataRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [0]["Action"];
    let tdr: BTreeSet<String> = strings(tdr).into_iter().collect();
    assert!(tdr.contains("dynamodb:PutItem") && tdr.contains("dynamodb:UpdateItem"));
    // The claim's access type sits on exactly that function's field.
    let claims = shared::api::FIELDS
        .iter()
        .filter(|r| r.claims_first_admin)
        .map(|r| r.function)
        .collect::<Vec<_>>();
    assert_eq!(claims, vec![CLAIM_FUNCTION]);
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
        for mode in MODES {
            let g = grants(t.get(fn_name), mode);
            // The first-admin claim's writes, checked on their own below.
            let actions: BTreeSet<String> = g
                .statements
                .iter()
                .filter(|st| !transaction_only(st))
                .flat_map(|st| strings(&st["Action"]))
                .collect();
            assert!(!actions.is_empty(), "{fn_name} ({mode:?})");
            for a in &actions {
                assert!(
                    (a.starts_with("dynamodb:") && !a.contains('*')) || a == SECRET_READ,
                    "{fn_name} ({mode:?}): {a}"
                );
                if ty == "Query" && a.starts_with("dynamodb:") {
                    assert!(
                        READ_ACTIONS.contains(&a.as_str()),
                        "{fn_name} resolves {ty}.{field} but may {a} ({mode:?})"
                    );
                }
            }
        }
    }
}

#[test]
fn in_the_default_mode_each_function_gets_exactly_what_it_calls() {
    let t = Template::load();
    let functions = t.functions_by_crate();
    let listed: BTreeSet<&str> = SHARED_MODE_GRANTS.iter().map(|(k, _, _)| *k).collect();
    let deployed: BTreeSet<&str> = functions.keys().map(String::as_str).collect();
    assert_eq!(
        deployed, listed,
        "SHARED_MODE_GRANTS must list every function"
    );
    for (krate, table_actions, index_actions) in SHARED_MODE_GRANTS {
        let (name, f) = &functions[*krate];
        let mut got = BTreeSet::new();
        for st in grants(f, Mode::Shared).statements {
            if transaction_only(&st) {
                continue;
            }
            assert_eq!(st["Effect"].as_str(), Some("Allow"), "{name}");
            assert!(
                st["NotAction"].is_null() && st["NotResource"].is_null(),
                "{name}"
            );
            let actions = strings(&st["Action"]);
            if actions == [SECRET_READ] {
                continue;
            }
            for a in actions {
                for r in resources(&st["Resource"]) {
                    got.insert((a.clone(), r));
                }
            }
        }
        let want: BTreeSet<(String, String)> = table_actions
            .iter()
            .map(|a| (format!("dynamodb:{a}"), TABLE_ARN.to_owned()))
            .chain(
                index_actions
                    .iter()
                    .map(|(index, a)| (format!("dynamodb:{a}"), index_arn(index))),
            )
            .collect();
        assert_eq!(
            got, want,
            "{name} ({krate}): grants differ from what its code calls"
        );
    }
}

#[test]
fn only_functions_that_touch_tenant_data_may_assume_the_tenant_data_role() {
    let t = Template::load();
    for (krate, (name, f)) in t.functions_by_crate() {
        for mode in MODES {
            let expected: Vec<String> = if NO_TENANT_DATA.contains(&krate.as_str()) {
                Vec::new()
            } else {
                vec!["AssumeTenantDataRolePolicy".to_owned()]
            };
            assert_eq!(grants(f, mode).managed, expected, "{name} ({mode:?})");
        }
    }
    let statements =
        t.get("AssumeTenantDataRolePolicy")["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(
        strings(&statements[0]["Action"]),
        ["sts:AssumeRole", "sts:TagSession"]
    );
    assert_eq!(
        resources(&statements[0]["Resource"]),
        ["!GetAtt TenantDataRole.Arn"]
    );
}

/// What the functions' own roles may do beyond reading the registry, with
/// `TenantScopedCredentials=true`: every finding is one line naming the function.
fn scoped_mode_findings(t: &Template) -> Vec<String> {
    let registry_only: Value = serde_norway::from_str(&format!(
        "ForAllValues:StringEquals:\n  dynamodb:LeadingKeys: [{REGISTRY_PARTITION}]\n"
    ))
    .unwrap();
    let mut out = Vec::new();
    // The stream worker touches no table data through its own grants (its test:
    // the_note_publisher_may_only_publish).
    for (name, f) in t
        .of_type("AWS::Serverless::Function")
        .filter(|(_, f)| !Template::is_worker(f))
    {
        let g = grants(f, Mode::Scoped);
        for m in &g.managed {
            if m != "AssumeTenantDataRolePolicy" {
                out.push(format!("{name}: managed policy {m}"));
            }
        }
        for st in &g.statements {
            let actions = strings(&st["Action"]);
            let res = resources(&st["Resource"]);
            if actions == [SECRET_READ] && res == ["!Ref PageTokenSecret"] {
                continue;
            }
            if st["Effect"].as_str() != Some("Allow")
                || !st["NotAction"].is_null()
                || !st["NotResource"].is_null()
            {
                out.push(format!("{name}: a statement other than a plain Allow"));
            }
            for a in &actions {
                if a != "dynamodb:GetItem" && a != "dynamodb:BatchGetItem" {
                    out.push(format!("{name}: {a} (only registry reads in scoped mode)"));
                }
            }
            if res != [TABLE_ARN] {
                out.push(format!("{name}: on {res:?} (the table only)"));
            }
            if st["Condition"] != registry_only {
                out.push(format!(
                    "{name}: {actions:?} without the dynamodb:LeadingKeys [{REGISTRY_PARTITION}] condition"
                ));
            }
        }
    }
    out
}

#[test]
fn in_scoped_mode_the_functions_own_roles_only_read_the_registry() {
    let t = Template::load();
    assert_eq!(scoped_mode_findings(&t), Vec::<String>::new());
    // Each function can still read the registry (GetItem), and note-author in batches.
    for (krate, (name, f)) in t.functions_by_crate() {
        let actions: BTreeSet<String> = grants(f, Mode::Scoped)
            .statements
            .iter()
            .flat_map(|st| strings(&st["Action"]))
            .filter(|a| a.starts_with("dynamodb:"))
            .collect();
        assert!(actions.contains("dynamodb:GetItem"), "{name}");
        assert_eq!(
            actions.contains("dynamodb:BatchGetItem"),
            krate == "note-author",
            "{name}"
        );
    }
}

#[test]
fn widening_a_function_role_in_scoped_mode_is_caught() {
    let text = template_text();
    // ListNotesFunction's scoped branch is the first registry read after its name.
    let (head, tail) = text
        .split_once("\n  ListNotesFunction:\n")
        .expect("ListNotesFunction");
    let mutate = |from: &str, to: &str| -> Template {
        assert!(tail.contains(from), "the template's layout changed: {from}");
        Template::parse(&format!(
            "{head}\n  ListNotesFunction:\n{}",
            tail.replacen(from, to, 1)
        ))
    };
    let cases = [
        (
            "Action: [dynamodb:GetItem]",
            "Action: [dynamodb:GetItem, dynamodb:PutItem]",
            "dynamodb:PutItem",
        ),
        (
            "Action: [dynamodb:GetItem]",
            "Action: [dynamodb:GetItem, dynamodb:Query]",
            "dynamodb:Query",
        ),
        (
            "Action: [dynamodb:GetItem]",
            "Action: [\"dynamodb:*\"]",
            "dynamodb:*",
        ),
        (
            "dynamodb:LeadingKeys: [REGISTRY]",
            "dynamodb:LeadingKeys: [\"TENANT#acme\"]",
            "LeadingKeys",
        ),
        (
            "                Condition:\n                  ForAllValues:StringEquals:\n                    dynamodb:LeadingKeys: [REGISTRY]\n",
            "",
            "LeadingKeys",
        ),
        (
            "Resource: !GetAtt NotesTable.Arn\n                Condition:",
            "Resource: \"*\"\n                Condition:",
            "the table only",
        ),
    ];
    for (from, to, finding) in cases {
        let findings = scoped_mode_findings(&mutate(from, to));
        assert!(
            findings
                .iter()
                .any(|f| f.starts_with("ListNotesFunction:") && f.contains(finding)),
            "{from:?} -> {to:?} went unnoticed: {findings:?}"
        );
    }
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
fn the_tenant_data_role_reaches_only_the_tagged_tenants_partitions() {
    let t = Template::load();
    let role = &t.get("TenantDataRole")["Properties"];
    let tag = shared::tenant_credentials::TENANT_TAG;
    // The partitions a tenant's keys start with, as the store builds them: its own on the table,
    // its PUBLIC notes on the public index.
    let tenant = format!(
        "{}${{aws:PrincipalTag/{tag}}}",
        shared::store::TENANT_PREFIX
    );
    let public = format!("{PUBLIC_PARTITION_PREFIX}${{aws:PrincipalTag/{tag}}}");
    let mut reached = BTreeMap::new();
    for p in role["Policies"].as_sequence().unwrap() {
        for st in p["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            assert_eq!(st["Effect"].as_str(), Some("Allow"));
            let keys = &st["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"];
            assert_eq!(
                keys.as_sequence().map(|v| v.len()),
                Some(1),
                "exactly one allowed partition"
            );
            let actions = strings(&st["Action"]);
            for a in &actions {
                assert!(
                    a.starts_with("dynamodb:") && !a.contains('*') && a != "dynamodb:Scan",
                    "{a}"
                );
            }
            for r in resources(&st["Resource"]) {
                let key = keys[0].as_str().unwrap().to_owned();
                assert!(
                    reached.insert(r.clone(), (key, actions.clone())).is_none(),
                    "{r} twice"
                );
            }
        }
    }
    let listing = index_arn(shared::store::GSI2);
    assert_eq!(
        reached.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([TABLE_ARN.to_owned(), gsi1_arn(), listing.clone()]),
        "the table, the public index and the listing index, nothing else"
    );
    assert_eq!(reached[TABLE_ARN].0, tenant);
    // The listing index's hash key is the table's pk: the same one partition.
    assert_eq!(
        reached[&listing],
        (tenant.clone(), vec!["dynamodb:Query".to_owned()])
    );
    assert_eq!(
        reached[&gsi1_arn()],
        (public, vec!["dynamodb:Query".to_owned()])
    );
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
    assert_eq!(
        t.parameter("TenantScopedCredentials")["Default"].as_str(),
        Some("false")
    );
    assert!(!t.globals()["Environment"]["Variables"]["TENANT_ROLE_ARN"].is_null());
}

#[test]
fn the_tenant_data_role_trusts_the_functions_role_path_not_a_name_prefix() {
    let t = Template::load();
    let (tag, path) = intrinsic(&t.globals()["RolePath"]);
    assert_eq!(tag, "Sub", "RolePath is per stack");
    // IAM paths: start and end with '/', printable ASCII, at most 512 characters.
    assert!(
        path.starts_with('/')
            && path.ends_with('/')
            && path.len() <= 512
            && path.chars().all(|c| ('!'..='~').contains(&c)),
        "{path}"
    );
    assert!(
        path.contains("${AWS::StackName}"),
        "{path}: one stack's roles"
    );
    for (name, f) in t.of_type("AWS::Serverless::Function") {
        for prop in ["RolePath", "Role"] {
            assert!(
                f["Properties"][prop].is_null(),
                "{name} sets {prop}: it would leave the trusted path"
            );
        }
    }
    let trust = &t.get("TenantDataRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_sequence().map(|s| s.len()), Some(1));
    let (_, principal) = intrinsic(&trust[0]["Condition"]["ArnLike"]["aws:PrincipalArn"]);
    assert_eq!(
        principal,
        format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path}*")
    );
    assert!(
        !principal.contains("${AWS::StackName}-"),
        "a name prefix matches any role named so: {principal}"
    );
}

/// CloudWatch Logs' retention values (`RetentionInDays`).
const CLOUDWATCH_RETENTION_DAYS: &[u64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[test]
fn logs_leave_out_verbose_content_and_expire() {
    let t = Template::load();
    let log = &t.get("GraphQLApi")["Properties"]["LogConfig"];
    assert_eq!(log["ExcludeVerboseContent"].as_bool(), Some(true));
    assert_eq!(log["FieldLogLevel"].as_str(), Some("ERROR"));

    let days = t.parameter("LogRetentionDays");
    assert_eq!(days["Default"].as_u64(), Some(30));
    let allowed: Vec<u64> = days["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(allowed, CLOUDWATCH_RETENTION_DAYS);

    // Every log group keeps its logs for LogRetentionDays.
    let groups: BTreeMap<&String, String> = t
        .of_type("AWS::Logs::LogGroup")
        .map(|(name, g)| {
            assert_eq!(
                intrinsic(&g["Properties"]["RetentionInDays"]),
                ("Ref".to_owned(), "LogRetentionDays".to_owned()),
                "{name}"
            );
            (name, intrinsic(&g["Properties"]["LogGroupName"]).1)
        })
        .collect();
    // The API's: AppSync writes to /aws/appsync/apis/<apiId>.
    assert!(
        groups
            .values()
            .any(|n| n == "/aws/appsync/apis/${GraphQLApi.ApiId}"),
        "no log group for the API: {groups:?}"
    );
    // Every function's: the group its LoggingConfig names, or /aws/lambda/<function>.
    for (name, f) in t.of_type("AWS::Serverless::Function") {
        let config = t.function_property(f, "LoggingConfig");
        let covered = if config.is_null() {
            groups
                .values()
                .any(|n| *n == format!("/aws/lambda/${{{name}}}"))
        } else {
            let (tag, group) = intrinsic(&config["LogGroup"]);
            tag == "Ref" && groups.keys().any(|g| **g == group)
        };
        assert!(covered, "{name} logs to a group without a retention");
    }
}

/// Fields with a `nextToken` argument: their functions mint and open page tokens.
fn paginated_fields() -> Fields {
    let text = schema_text();
    let doc = graphql_parser::parse_schema::<String>(&text).unwrap();
    let mut out = Fields::new();
    for def in doc.definitions {
        if let graphql_parser::schema::Definition::TypeDefinition(
            graphql_parser::schema::TypeDefinition::Object(o),
        ) = def
        {
            for f in o.fields {
                if f.arguments.iter().any(|a| a.name == "nextToken") {
                    out.insert((o.name.clone(), f.name));
                }
            }
        }
    }
    out
}

#[test]
fn the_page_token_secret_is_generated_and_read_only_by_the_paginating_functions() {
    let t = Template::load();
    assert!(
        t.doc["Parameters"]["PageTokenSecret"].is_null(),
        "the page-token key is not a parameter"
    );
    let globals = &t.globals()["Environment"]["Variables"];
    for var in ["PAGE_TOKEN_SECRET", "PAGE_TOKEN_SECRET_ARN"] {
        assert!(globals[var].is_null(), "Globals must not set {var}");
    }
    let secret = t.get("PageTokenSecret");
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    let generate = &secret["Properties"]["GenerateSecretString"];
    assert_eq!(generate["PasswordLength"].as_u64(), Some(64));
    assert_eq!(generate["ExcludePunctuation"].as_bool(), Some(true));
    assert!(secret["Properties"]["SecretString"].is_null());
    // Replacing the key voids every outstanding nextToken: the stack never deletes or replaces it.
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(secret["UpdateReplacePolicy"].as_str(), Some("Retain"));

    let resolvers = t.resolvers();
    let paginating: BTreeSet<&String> = paginated_fields()
        .iter()
        .map(|f| {
            resolvers
                .get(f)
                .unwrap_or_else(|| panic!("{f:?} has no resolver"))
        })
        .collect();
    assert_eq!(
        paginating,
        BTreeSet::from([&"list-notes".to_owned(), &"public-notes".to_owned()])
    );
    for (krate, (name, f)) in t.functions_by_crate() {
        let env = &f["Properties"]["Environment"]["Variables"];
        assert!(env["PAGE_TOKEN_SECRET"].is_null(), "{name}");
        let mints = paginating.contains(&krate);
        assert_eq!(
            !env["PAGE_TOKEN_SECRET_ARN"].is_null(),
            mints,
            "{name}: PAGE_TOKEN_SECRET_ARN only where page tokens are made"
        );
        if mints {
            assert_eq!(
                intrinsic(&env["PAGE_TOKEN_SECRET_ARN"]),
                ("Ref".to_owned(), "PageTokenSecret".to_owned())
            );
        }
        for mode in MODES {
            let secret_grants: Vec<(Vec<String>, Vec<String>)> = grants(f, mode)
                .statements
                .iter()
                .map(|st| (strings(&st["Action"]), resources(&st["Resource"])))
                .filter(|(actions, _)| actions.iter().any(|a| a.starts_with("secretsmanager:")))
                .collect();
            let expected = if mints {
                vec![(
                    vec![SECRET_READ.to_owned()],
                    vec!["!Ref PageTokenSecret".to_owned()],
                )]
            } else {
                Vec::new()
            };
            assert_eq!(secret_grants, expected, "{name} ({mode:?})");
        }
    }
}

/// Properties of an Identity Pool that list who may sign in: onboard's and offboard's alone.
const PROVIDER_PROPERTIES: [&str; 5] = [
    "CognitoIdentityProviders",
    "OpenIdConnectProviderARNs",
    "SamlProviderARNs",
    "SupportedLoginProviders",
    "DeveloperProviderName",
];

#[test]
fn the_identity_pool_leaves_its_providers_to_tenantctl() {
    // A provider listed here would make the next deploy the owner of the list, and a deploy
    // would drop every tenant `tenantctl onboard` added since.
    let t = Template::load();
    let pools: Vec<_> = t.of_type("AWS::Cognito::IdentityPool").collect();
    assert_eq!(pools.len(), 1);
    for (name, pool) in pools {
        for p in PROVIDER_PROPERTIES {
            assert!(
                pool["Properties"][p].is_null(),
                "{name}.{p}: the provider list belongs to tenantctl onboard/offboard"
            );
        }
    }
    let params = t.doc["Parameters"].as_mapping().unwrap();
    for (k, _) in params {
        let k = k.as_str().unwrap();
        for gone in ["ExtraUserPool", "ProviderArns", "GoogleClientId"] {
            assert!(
                !k.contains(gone),
                "parameter {k}: providers are added with tenantctl onboard --federated"
            );
        }
    }
}

/// A YAML value as JSON, for comparing literal properties with the settings in Rust; an
/// intrinsic function (`!Ref`, ...) becomes `{"!Ref": "..."}` so it can never equal a literal.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::from_str(&n.to_string()).unwrap(),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => items.iter().map(to_json).collect(),
        Value::Mapping(m) => m
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Value::Tagged(t) => serde_json::json!({ t.tag.to_string(): to_json(&t.value) }),
    }
}

/// Template parameters by name, for [`resolve`].
type Params = BTreeMap<String, String>;

/// The template's parameter defaults.
fn parameter_defaults(t: &Template) -> Params {
    t.doc["Parameters"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| {
            let d = match &v["Default"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.as_str().unwrap().to_owned(), d))
        })
        .collect()
}

/// A condition of the template under `params` (`!Equals`, `!Not` over `!Ref`s and literals).
fn condition(v: &Value, params: &Params) -> bool {
    let scalar = |v: &Value| match to_json(v) {
        serde_json::Value::String(s) => s,
        serde_json::Value::Object(m) if m.contains_key("!Ref") => {
            let name = m["!Ref"].as_str().unwrap().to_owned();
            params
                .get(&name)
                .cloned()
                .unwrap_or_else(|| panic!("parameter {name}"))
        }
        other => other.to_string(),
    };
    match v {
        Value::Tagged(tag) if tag.tag == "!Equals" => {
            let args = tag.value.as_sequence().unwrap();
            scalar(&args[0]) == scalar(&args[1])
        }
        Value::Tagged(tag) if tag.tag == "!Not" => {
            !condition(&tag.value.as_sequence().unwrap()[0], params)
        }
        other => panic!("condition {other:?} is not evaluated here"),
    }
}

/// `v` with `!Ref <parameter>` replaced by its value, `!If` decided and `!Ref AWS::NoValue`
/// dropped, as CloudFormation would under `params`; other intrinsics stay as they are. `None`
/// is `AWS::NoValue`.
fn resolve(t: &Template, v: &Value, params: &Params) -> Option<Value> {
    match v {
        Value::Tagged(tag) if tag.tag == "!Ref" => {
            let name = tag.value.as_str().unwrap();
            if name == "AWS::NoValue" {
                None
            } else if let Some(p) = params.get(name) {
                Some(Value::String(p.clone()))
            } else {
                Some(v.clone())
            }
        }
        Value::Tagged(tag) if tag.tag == "!If" => {
            let args = tag.value.as_sequence().unwrap();
            let name = args[0].as_str().unwrap();
            let c = &t.doc["Conditions"][name];
            assert!(!c.is_null(), "no condition {name}");
            let branch = if condition(c, params) {
                &args[1]
            } else {
                &args[2]
            };
            resolve(t, branch, params)
        }
        Value::Mapping(m) => Some(Value::Mapping(
            m.iter()
                .filter_map(|(k, v)| resolve(t, v, params).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Sequence(items) => Some(Value::Sequence(
            items.iter().filter_map(|i| resolve(t, i, params)).collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The pool parameters a deployment can choose, each with the `PoolOptions` it must equal:
/// the defaults, and every MFA setting with and without an SES sender.
fn pool_parameter_cases(t: &Template) -> Vec<(Params, shared::pool_settings::PoolOptions)> {
    use shared::pool_settings::{EmailSender, Mfa, PoolOptions};
    let defaults = parameter_defaults(t);
    let mut cases = vec![(defaults.clone(), PoolOptions::default())];
    let arn = "arn:aws:ses:eu-central-1:123456789012:identity/example.com";
    for mfa in ["OFF", "OPTIONAL", "ON"] {
        for (arn, from) in [("", ""), (arn, ""), (arn, "Notes <no-reply@example.com>")] {
            let mut p = defaults.clone();
            p.insert("TenantPoolMfa".into(), mfa.into());
            p.insert("PoolEmailIdentityArn".into(), arn.into());
            p.insert("PoolEmailFrom".into(), from.into());
            let options = PoolOptions {
                mfa: Mfa::from_cognito(mfa).unwrap(),
                email: EmailSender::from_parameters(arn, from).unwrap(),
            };
            cases.push((p, options));
        }
    }
    cases
}

/// What differs between the template's tenant pools and clients and `shared::pool_settings`,
/// under every choice of the pool parameters.
fn pool_setting_findings(t: &Template) -> Vec<String> {
    use shared::pool_settings::{CLIENT, IDENTITY_POOL_TAG, PoolOptions, TENANT_TAG, USER_POOL};
    let mut findings = Vec::new();
    let pools: Vec<_> = t.of_type("AWS::Cognito::UserPool").collect();
    if pools.is_empty() {
        findings.push("no tenant User Pool".to_owned());
    }
    // The parameters' defaults are the settings onboard gives a pool without flags.
    let defaults = parameter_defaults(t);
    let default_options = PoolOptions::default();
    for (param, want) in [
        ("TenantPoolMfa", default_options.mfa.cognito()),
        ("PoolEmailIdentityArn", ""),
        ("PoolEmailFrom", ""),
    ] {
        if defaults.get(param).map(String::as_str) != Some(want) {
            findings.push(format!(
                "parameter {param} must default to {want:?} (PoolOptions::default())"
            ));
        }
    }
    for (name, pool) in pools {
        for (params, options) in pool_parameter_cases(t) {
            let resolved = resolve(t, &pool["Properties"], &params).unwrap();
            let mut props = to_json(&resolved);
            let tags = props
                .as_object_mut()
                .and_then(|m| {
                    m.remove("UserPoolName");
                    m.remove("UserPoolTags")
                })
                .unwrap_or_default();
            let want = USER_POOL.properties_with(&options);
            if props != want {
                findings.push(format!(
                    "{name} with {:?}: {props} differs from shared::pool_settings::USER_POOL {want}",
                    ["TenantPoolMfa", "PoolEmailIdentityArn", "PoolEmailFrom"]
                        .map(|p| params.get(p).cloned().unwrap_or_default())
                ));
            }
            if !tags[TENANT_TAG].is_string() {
                findings.push(format!(
                    "{name}: no {TENANT_TAG} tag (onboard adopts pools by it)"
                ));
            }
            if tags[IDENTITY_POOL_TAG] != serde_json::json!({"!Ref": "IdentityPool"}) {
                findings.push(format!(
                    "{name}: {IDENTITY_POOL_TAG} tag must be !Ref IdentityPool"
                ));
            }
        }
    }
    for (name, client) in t.of_type("AWS::Cognito::UserPoolClient") {
        let mut props = to_json(&client["Properties"]);
        if let Some(m) = props.as_object_mut() {
            m.remove("UserPoolId");
        }
        if props != CLIENT.properties() {
            findings.push(format!(
                "{name}: {props} differs from shared::pool_settings::CLIENT {}",
                CLIENT.properties()
            ));
        }
    }
    findings.dedup();
    findings
}

#[test]
fn tenant_pools_have_the_settings_onboard_gives_its_pools() {
    let findings = pool_setting_findings(&Template::load());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_pool_setting_changed_in_the_template_alone_is_caught() {
    let text = template_text();
    for (from, to) in [
        ("MinimumLength: 12", "MinimumLength: 8"),
        (
            "ExplicitAuthFlows: [ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH]",
            "ExplicitAuthFlows: [ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]",
        ),
        ("RefreshTokenValidity: 30", "RefreshTokenValidity: 3650"),
        (
            "AllowAdminCreateUserOnly: true",
            "AllowAdminCreateUserOnly: false",
        ),
        (
            "AttributesRequireVerificationBeforeUpdate: [email]",
            "AttributesRequireVerificationBeforeUpdate: []",
        ),
        (
            "MfaConfiguration: !Ref TenantPoolMfa",
            "MfaConfiguration: \"OFF\"",
        ),
        (
            "[PoolMfaOff, !Ref AWS::NoValue, [SOFTWARE_TOKEN_MFA]]",
            "[PoolMfaOff, !Ref AWS::NoValue, [SOFTWARE_TOKEN_MFA, SMS_MFA]]",
        ),
        // Seen only when a deployment sets an SES identity.
        (
            "EmailSendingAccount: DEVELOPER",
            "EmailSendingAccount: COGNITO_DEFAULT",
        ),
        (
            "From: !If [HasPoolEmailFrom, !Ref PoolEmailFrom, !Ref AWS::NoValue]",
            "From: !Ref PoolEmailFrom",
        ),
        ("Default: \"OPTIONAL\"", "Default: \"ON\""),
    ] {
        assert!(text.contains(from), "the template no longer has {from:?}");
        let drifted = Template::parse(&text.replacen(from, to, 1));
        assert!(
            !pool_setting_findings(&drifted).is_empty(),
            "{from:?} -> {to:?} went unnoticed"
        );
    }
}

#[test]
fn user_and_identity_pools_outlive_the_stack() {
    let t = Template::load();
    let pools: Vec<_> = t
        .of_type("AWS::Cognito::UserPool")
        .chain(t.of_type("AWS::Cognito::IdentityPool"))
        .collect();
    assert!(
        pools.len() >= 3,
        "two tenant User Pools and the Identity Pool"
    );
    for (name, r) in pools {
        assert_eq!(r["DeletionPolicy"].as_str(), Some("Retain"), "{name}");
        assert_eq!(r["UpdateReplacePolicy"].as_str(), Some("Retain"), "{name}");
        if r["Type"].as_str() == Some("AWS::Cognito::UserPool") {
            assert_eq!(
                r["Properties"]["DeletionProtection"].as_str(),
                Some("ACTIVE"),
                "{name}"
            );
        }
    }
}

#[test]
fn appsync_service_roles_trust_only_this_accounts_appsync() {
    let t = Template::load();
    for (role, source_arn) in [
        // The data sources name the role, not the API: the API's own ARN.
        ("AppSyncInvokeRole", "!GetAtt GraphQLApi.Arn"),
        // The API names this role: any API of this account and region.
        (
            "AppSyncLogsRole",
            "!Sub arn:${AWS::Partition}:appsync:${AWS::Region}:${AWS::AccountId}:apis/*",
        ),
    ] {
        let statements = t.get(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        assert_eq!(statements.len(), 1, "{role}");
        let st = &statements[0];
        assert_eq!(
            st["Principal"]["Service"].as_str(),
            Some("appsync.amazonaws.com")
        );
        assert_eq!(
            intrinsic(&st["Condition"]["StringEquals"]["aws:SourceAccount"]),
            ("Ref".to_owned(), "AWS::AccountId".to_owned()),
            "{role}"
        );
        assert_eq!(
            resources(&st["Condition"]["ArnLike"]["aws:SourceArn"]),
            [source_arn],
            "{role}"
        );
    }
}

#[test]
fn guest_reachable_functions_have_a_concurrency_cap() {
    let t = Template::load();
    let p = t.parameter("GuestFunctionConcurrency");
    // 0 = no reservation: the safe first deploy. Lambda keeps 100 of the account's concurrency
    // unreserved, so reserving N for each of the three guest functions needs a quota of
    // 100 + 3N; new accounts often have 10.
    assert_eq!(p["Default"].as_u64(), Some(0));
    assert_eq!(p["MinValue"].as_u64(), Some(0));
    let text = p["Description"].as_str().unwrap_or_default();
    for needed in [
        "three functions",
        "100 + 3 x this value",
        "on-public-note-changed",
    ] {
        assert!(
            text.contains(needed),
            "the parameter text must say {needed:?}: {text}"
        );
    }
    assert_eq!(
        to_json(&t.doc["Conditions"]["CapGuestFunctions"]),
        serde_json::json!({"!Not": [{"!Equals": [{"!Ref": "GuestFunctionConcurrency"}, "0"]}]}),
        "0 must mean no reservation"
    );
    let resolvers = t.resolvers();
    let functions = t.functions_by_crate();
    let capped: BTreeSet<&String> = functions
        .values()
        .filter(|(_, f)| !f["Properties"]["ReservedConcurrentExecutions"].is_null())
        .map(|(name, _)| name)
        .collect();
    let mut guest = BTreeSet::new();
    for (ty, field) in GUEST_FIELDS {
        let krate = &resolvers[&(ty.to_string(), field.to_string())];
        let (name, f) = &functions[krate];
        guest.insert(name);
        assert_eq!(
            to_json(&f["Properties"]["ReservedConcurrentExecutions"]),
            serde_json::json!({"!If": [
                "CapGuestFunctions",
                {"!Ref": "GuestFunctionConcurrency"},
                {"!Ref": "AWS::NoValue"}
            ]}),
            "{name} serves {ty}.{field} to guests"
        );
    }
    assert_eq!(
        capped, guest,
        "exactly the guest functions reserve concurrency"
    );
    assert!(
        t.globals()["ReservedConcurrentExecutions"].is_null(),
        "one cap for every function would be shared by none"
    );
}

/// How deep a selection on type `ty` can go: a leaf field counts 1, an object field 1 + its
/// type's depth. Panics on a type that reaches itself (the depth limit would then be the only
/// bound).
fn selection_depth(
    types: &BTreeMap<String, Vec<String>>,
    ty: &str,
    path: &mut Vec<String>,
) -> usize {
    assert!(
        !path.iter().any(|p| p == ty),
        "{ty} nests itself ({path:?}): revisit QueryDepthLimit"
    );
    path.push(ty.to_owned());
    let depth = types[ty]
        .iter()
        .map(|f| match types.contains_key(f) {
            true => 1 + selection_depth(types, f, path),
            false => 1,
        })
        .max()
        .unwrap_or(0);
    path.pop();
    depth
}

#[test]
fn the_api_limits_query_depth_and_resolver_count_to_what_clients_need() {
    use graphql_parser::schema::{Definition, Type, TypeDefinition};
    fn base(t: &Type<'_, String>) -> String {
        match t {
            Type::NamedType(n) => n.clone(),
            Type::ListType(inner) | Type::NonNullType(inner) => base(inner),
        }
    }
    let text = schema_text();
    let doc = graphql_parser::parse_schema::<String>(&text).unwrap();
    // Object type → the base types of its fields.
    let types: BTreeMap<String, Vec<String>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => Some((
                o.name.clone(),
                o.fields.iter().map(|f| base(&f.field_type)).collect(),
            )),
            _ => None,
        })
        .collect();
    let deepest = ["Query", "Mutation"]
        .iter()
        .map(|root| selection_depth(&types, root, &mut Vec::new()))
        .max()
        .unwrap();
    let t = Template::load();
    let api = &t.get("GraphQLApi")["Properties"];
    let depth = api["QueryDepthLimit"].as_u64().expect("QueryDepthLimit") as usize;
    assert!(
        (deepest..=deepest + 1).contains(&depth),
        "QueryDepthLimit {depth}: the deepest query is {deepest} levels"
    );
    // One page: the list field plus one resolver per nested resolved field of each note.
    let resolvers = t.resolvers();
    let per_note = resolvers.keys().filter(|(ty, _)| ty == "Note").count();
    let needed = 1 + shared::pagination::MAX_LIMIT * per_note;
    let count = api["ResolverCountLimit"]
        .as_u64()
        .expect("ResolverCountLimit") as usize;
    assert!(
        (needed..=needed * 2).contains(&count),
        "ResolverCountLimit {count}: a full page needs {needed}"
    );
}

#[test]
fn an_optional_waf_rate_limits_the_api() {
    let t = Template::load();
    let p = t.parameter("WafRateLimit");
    assert_eq!(p["Default"].as_u64(), Some(0), "off unless asked for");
    assert_eq!(p["MinValue"].as_u64(), Some(0));
    let has_waf: Value =
        serde_norway::from_str("!Not [!Equals [!Ref WafRateLimit, \"0\"]]").unwrap();
    assert_eq!(t.doc["Conditions"]["HasWaf"], has_waf);

    let acls: Vec<_> = t.of_type("AWS::WAFv2::WebACL").collect();
    assert_eq!(acls.len(), 1);
    let (acl_name, acl) = acls[0];
    assert_eq!(acl["Condition"].as_str(), Some("HasWaf"));
    assert_eq!(acl["Properties"]["Scope"].as_str(), Some("REGIONAL"));
    let rate_rules: Vec<&Value> = acl["Properties"]["Rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|r| !r["Statement"]["RateBasedStatement"].is_null())
        .collect();
    assert_eq!(rate_rules.len(), 1);
    let rule = rate_rules[0];
    assert!(
        !rule["Action"]["Block"].is_null(),
        "over the limit: blocked"
    );
    assert_eq!(
        intrinsic(&rule["Statement"]["RateBasedStatement"]["Limit"]),
        ("Ref".to_owned(), "WafRateLimit".to_owned())
    );

    let assocs: Vec<_> = t.of_type("AWS::WAFv2::WebACLAssociation").collect();
    assert_eq!(assocs.len(), 1);
    let (_, assoc) = assocs[0];
    assert_eq!(assoc["Condition"].as_str(), Some("HasWaf"));
    assert_eq!(
        resources(&assoc["Properties"]["ResourceArn"]),
        ["!GetAtt GraphQLApi.Arn"]
    );
    assert_eq!(
        resources(&assoc["Properties"]["WebACLArn"]),
        [format!("!GetAtt {acl_name}.Arn")]
    );
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

/// Every `appsync:GraphQL` grant in the template, as (resource, fields).
fn graphql_grants(t: &Template) -> BTreeMap<String, Fields> {
    let mut out = BTreeMap::new();
    // (principal, its policy documents)
    let mut by_principal: Vec<(String, Vec<Value>)> = Vec::new();
    for (name, r) in &t.resources {
        let docs: Vec<Value> = match r["Type"].as_str() {
            Some("AWS::IAM::Role") => r["Properties"]["Policies"]
                .as_sequence()
                .map(|ps| ps.iter().map(|p| p["PolicyDocument"].clone()).collect())
                .unwrap_or_default(),
            Some("AWS::IAM::ManagedPolicy") => vec![r["Properties"]["PolicyDocument"].clone()],
            // A policy attached to a role: the role's grant (a SAM function's generated role,
            // `<Function>Role`, counts as the function's).
            Some("AWS::IAM::Policy") => {
                for role in r["Properties"]["Roles"].as_sequence().into_iter().flatten() {
                    let (_, role) = intrinsic(role);
                    let principal = match role.strip_suffix("Role") {
                        Some(f) if t.resources.contains_key(f) => f.to_owned(),
                        _ => role,
                    };
                    by_principal.push((principal, vec![r["Properties"]["PolicyDocument"].clone()]));
                }
                continue;
            }
            Some("AWS::Serverless::Function") => MODES
                .iter()
                .filter_map(|m| in_mode(&r["Properties"]["Policies"], *m))
                .flat_map(|v| v.as_sequence().cloned().unwrap_or_default())
                .collect(),
            _ => continue,
        };
        by_principal.push((name.clone(), docs));
    }
    for (name, docs) in &by_principal {
        for st in docs
            .iter()
            .flat_map(|d| d["Statement"].as_sequence().cloned().unwrap_or_default())
        {
            if !strings(&st["Action"])
                .iter()
                .any(|a| a.starts_with("appsync:"))
            {
                continue;
            }
            for arn in resources(&st["Resource"]) {
                let (ty, field) = arn
                    .split_once("/types/")
                    .and_then(|(_, rest)| rest.split_once("/fields/"))
                    .unwrap_or_else(|| panic!("{name}: {arn} is not a field ARN"));
                out.entry(name.clone())
                    .or_insert_with(Fields::new)
                    .insert((ty.to_owned(), field.to_owned()));
            }
        }
    }
    out
}

#[test]
fn the_internal_fields_are_granted_to_their_one_principal_and_no_identity_pool_role() {
    let t = Template::load();
    let grants = graphql_grants(&t);
    let mut expected: BTreeMap<String, Fields> = BTreeMap::new();
    for (ty, field, _, principal) in INTERNAL_FIELDS {
        expected
            .entry(principal.to_string())
            .or_default()
            .insert((ty.to_string(), field.to_string()));
    }
    for role in ["UserRole", "GuestRole"] {
        expected.insert(role.to_owned(), t.granted_fields(role));
        for (ty, field, _, _) in INTERNAL_FIELDS {
            assert!(
                !grants[role].contains(&(ty.to_string(), field.to_string()))
                    && !grants[role].contains(&(ty.to_string(), "*".to_owned())),
                "{role} may call {ty}.{field}"
            );
        }
    }
    assert_eq!(
        grants, expected,
        "appsync:GraphQL: the Identity Pool roles, the publisher and the operators' policy only"
    );
    // The operators' policy is for operators to attach: the stack names it in its outputs.
    assert_eq!(
        intrinsic(&t.doc["Outputs"]["OperatorPolicyArn"]["Value"]),
        ("Ref".to_owned(), "OperatorPolicy".to_owned())
    );
}

#[test]
fn the_note_publisher_reads_the_stream_in_order_and_may_only_publish() {
    let t = Template::load();
    let workers = t.workers();
    assert_eq!(
        workers.keys().collect::<Vec<_>>(),
        ["NotePublisherFunction"],
        "the one function that resolves no field"
    );
    let (krate, f) = &workers["NotePublisherFunction"];
    assert_eq!(krate, "note-publisher");
    let p = &f["Properties"];
    assert_eq!(p["CodeUri"].as_str(), Some("workers/note-publisher"));
    assert!(root().join("workers/note-publisher/src/main.rs").is_file());
    assert_eq!(
        intrinsic(&p["Environment"]["Variables"]["GRAPHQL_URL"]),
        ("GetAtt".to_owned(), "GraphQLApi.GraphQLUrl".to_owned())
    );
    // Its own grants: publish, and record failed batches. No table access, no tenant role (the
    // stream read permissions come with the event source).
    for mode in MODES {
        let g = grants(f, mode);
        assert!(g.managed.is_empty(), "{mode:?}: {:?}", g.managed);
        let attached = &t.get("NotePublisherGraphQLPolicy")["Properties"];
        assert_eq!(
            intrinsic(&attached["Roles"][0]),
            ("Ref".to_owned(), "NotePublisherFunctionRole".to_owned())
        );
        let attached = attached["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        let got: BTreeSet<(String, String)> = g
            .statements
            .iter()
            .chain(attached)
            .flat_map(|st| {
                let r = resources(&st["Resource"]);
                strings(&st["Action"])
                    .into_iter()
                    .flat_map(move |a| r.clone().into_iter().map(move |r| (a.clone(), r)))
            })
            .collect();
        let want: BTreeSet<(String, String)> = [
            ("appsync:GraphQL", "!Sub arn:${AWS::Partition}:appsync:${AWS::Region}:${AWS::AccountId}:apis/${GraphQLApi.ApiId}/types/Mutation/fields/publishNoteChange"),
            ("sqs:SendMessage", "!GetAtt NoteChangesDeadLetterQueue.Arn"),
        ]
        .iter()
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .collect();
        assert_eq!(got, want, "{mode:?}");
    }
    // Its sessions alone pass publish-note-change.js: the API names the role's unique id.
    assert_eq!(
        intrinsic(&t.get("GraphQLApi")["Properties"]["EnvironmentVariables"]["PUBLISHER_ROLE_ID"]),
        (
            "GetAtt".to_owned(),
            "NotePublisherFunctionRole.RoleId".to_owned()
        )
    );
    let handler = std::fs::read_to_string(root().join("resolvers/publish-note-change.js")).unwrap();
    assert!(handler.contains("ctx.env.PUBLISHER_ROLE_ID") && handler.contains("isPublisher(ctx)"));
    // The stream: both images, read in order, failures retried from the failed record, bounded,
    // then recorded; only note items.
    assert_eq!(
        t.get("NotesTable")["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
    let events: Vec<&Value> = p["Events"]
        .as_mapping()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["Type"].as_str(), Some("DynamoDB"));
    let e = &events[0]["Properties"];
    assert_eq!(
        intrinsic(&e["Stream"]),
        ("GetAtt".to_owned(), "NotesTable.StreamArn".to_owned())
    );
    assert_eq!(e["ParallelizationFactor"].as_u64(), Some(1));
    // The worst batch fits the timeout: BatchSize records x 2 publishes per record (revocation +
    // update) x the publisher's per-call budget, plus the margin it keeps for answering.
    let publisher =
        std::fs::read_to_string(root().join("workers/note-publisher/src/main.rs")).unwrap();
    for constant in [
        "CALL_BUDGET: Duration = Duration::from_secs(5);",
        "MAX_PUBLISHES_PER_RECORD: u32 = 2;",
        "MARGIN: Duration = Duration::from_secs(1);",
    ] {
        assert!(
            publisher.contains(constant),
            "the publisher's {constant} changed: redo the sizing"
        );
    }
    let batch = e["BatchSize"].as_u64().unwrap_or(100);
    let timeout = t.function_property(f, "Timeout").as_u64().unwrap();
    assert!(
        batch * 2 * 5 < timeout,
        "BatchSize {batch} x 2 x 5 s + 1 s must fit the publisher's Timeout {timeout} s"
    );
    assert!(timeout <= 900, "Lambda's maximum");
    assert_eq!(e["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert_eq!(
        strings(&e["FunctionResponseTypes"]),
        ["ReportBatchItemFailures"]
    );
    assert!((1..=100).contains(&e["MaximumRetryAttempts"].as_u64().unwrap_or(0)));
    assert_eq!(
        intrinsic(&e["DestinationConfig"]["OnFailure"]["Destination"]),
        (
            "GetAtt".to_owned(),
            "NoteChangesDeadLetterQueue.Arn".to_owned()
        )
    );
    let pattern: serde_json::Value = serde_json::from_str(
        e["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pattern,
        serde_json::json!({"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "NOTE#"}]}}}})
    );
    // AppSync invokes the resolver functions and nothing else.
    let invoke =
        &t.get("AppSyncInvokeRole")["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0];
    let invoked: BTreeSet<String> = resources(&invoke["Resource"]).into_iter().collect();
    let resolvers: BTreeSet<String> = t
        .functions()
        .keys()
        .map(|n| format!("!GetAtt {n}.Arn"))
        .collect();
    assert_eq!(invoked, resolvers);
}

/// The fields of an object type of the schema (`author` and other resolved fields included).
fn object_fields(ty: &str) -> BTreeSet<String> {
    schema_fields()
        .into_iter()
        .filter(|(t, _)| t == ty)
        .map(|(_, f)| f)
        .collect()
}

#[test]
fn subscriptions_are_fed_by_the_internal_mutation_with_every_field() {
    let text = schema_text();
    let doc = graphql_parser::parse_schema::<String>(&text).unwrap();
    use graphql_parser::schema::{Definition, TypeDefinition};
    let subscription = doc
        .definitions
        .iter()
        .find_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Object(o)) if o.name == "Subscription" => {
                Some(o)
            }
            _ => None,
        })
        .expect("type Subscription");
    for f in &subscription.fields {
        let d = f
            .directives
            .iter()
            .find(|d| d.name == "aws_subscribe")
            .unwrap_or_else(|| panic!("{} has no @aws_subscribe", f.name));
        assert_eq!(
            d.arguments[0].1.to_string(),
            r#"["publishNoteChange"]"#,
            "{}",
            f.name
        );
    }
    // onNoteChanged takes no arguments: nothing a client sends can name another tenant or owner.
    let on_note = subscription
        .fields
        .iter()
        .find(|f| f.name == "onNoteChanged")
        .unwrap();
    assert!(on_note.arguments.is_empty());

    // AppSync delivers only what the publishing mutation selected: it selects every field of
    // NoteChange, and every field of Note but the resolved author.
    let q = graphql_parser::parse_query::<String>(shared::realtime::PUBLISH_MUTATION).unwrap();
    use graphql_parser::query::{Definition as D, OperationDefinition, Selection};
    let D::Operation(OperationDefinition::Mutation(m)) = &q.definitions[0] else {
        panic!("PUBLISH_MUTATION is a mutation");
    };
    let names = |set: &graphql_parser::query::SelectionSet<String>| -> BTreeSet<String> {
        set.items
            .iter()
            .map(|s| match s {
                Selection::Field(f) => f.name.clone(),
                other => panic!("plain fields only: {other:?}"),
            })
            .collect()
    };
    let Selection::Field(publish) = &m.selection_set.items[0] else {
        panic!("publishNoteChange");
    };
    assert_eq!(publish.name, "publishNoteChange");
    assert_eq!(names(&publish.selection_set), object_fields("NoteChange"));
    let note = publish
        .selection_set
        .items
        .iter()
        .find_map(|s| match s {
            Selection::Field(f) if f.name == "note" => Some(f),
            _ => None,
        })
        .unwrap();
    let mut note_fields = object_fields("Note");
    note_fields.remove("author");
    assert_eq!(names(&note.selection_set), note_fields);
}

/// The alarms every deployment needs, each to `AlarmTopic`; what is missing, by name.
fn alarm_findings(t: &Template) -> Vec<String> {
    let mut findings = Vec::new();
    // (namespace, metric, dimension name, dimension value as written) of every alarm that
    // notifies the topic.
    let alarms: BTreeSet<(String, String, String, String)> = t
        .of_type("AWS::CloudWatch::Alarm")
        .filter(|(name, a)| {
            let to_topic = to_json(&a["Properties"]["AlarmActions"])
                == serde_json::json!([{"!Ref": "AlarmTopic"}]);
            if !to_topic {
                findings.push(format!("{name}: AlarmActions must be [!Ref AlarmTopic]"));
            }
            to_topic
        })
        .flat_map(|(_, a)| {
            let p = &a["Properties"];
            let (ns, metric) = (
                p["Namespace"].as_str().unwrap_or_default().to_owned(),
                p["MetricName"].as_str().unwrap_or_default().to_owned(),
            );
            p["Dimensions"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |d| {
                    (
                        ns.clone(),
                        metric.clone(),
                        d["Name"].as_str().unwrap_or_default().to_owned(),
                        to_json(&d["Value"]).to_string(),
                    )
                })
        })
        .collect();
    let has = |ns: &str, metric: &str, dim: &str, value: serde_json::Value| {
        alarms.contains(&(ns.into(), metric.into(), dim.into(), value.to_string()))
    };
    for (name, _) in t.of_type("AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            if !has(
                "AWS/Lambda",
                metric,
                "FunctionName",
                serde_json::json!({"!Ref": name}),
            ) {
                findings.push(format!("{name} has no {metric} alarm"));
            }
        }
    }
    for (what, ns, metric, dim, value) in [
        (
            "the on-failure queue's depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            serde_json::json!({"!GetAtt": "NoteChangesDeadLetterQueue.QueueName"}),
        ),
        (
            "the stream's iterator age",
            "AWS/Lambda",
            "IteratorAge",
            "FunctionName",
            serde_json::json!({"!Ref": "NotePublisherFunction"}),
        ),
        (
            "AppSync's 5XX",
            "AWS/AppSync",
            "5XXError",
            "GraphQLAPIId",
            serde_json::json!({"!GetAtt": "GraphQLApi.ApiId"}),
        ),
    ] {
        if !has(ns, metric, dim, value) {
            findings.push(format!("no alarm on {what}"));
        }
    }
    findings
}

#[test]
fn every_function_and_the_stream_path_have_alarms_to_an_encrypted_topic() {
    let t = Template::load();
    let findings = alarm_findings(&t);
    assert!(findings.is_empty(), "{findings:#?}");
    // The topic is encrypted with a key CloudWatch may use (not aws/sns, which it cannot).
    let topic = &t.get("AlarmTopic")["Properties"];
    assert_eq!(
        to_json(&topic["KmsMasterKeyId"]),
        serde_json::json!({"!Ref": "AlarmTopicKey"})
    );
    let key = &t.get("AlarmTopicKey")["Properties"];
    assert_eq!(key["EnableKeyRotation"].as_bool(), Some(true));
    let cloudwatch = key["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|st| st["Principal"]["Service"].as_str() == Some("cloudwatch.amazonaws.com"))
        .expect("CloudWatch may use the topic's key");
    assert_eq!(
        strings(&cloudwatch["Action"]),
        ["kms:Decrypt", "kms:GenerateDataKey*"]
    );
    // Empty AlarmEmail = no subscription.
    assert_eq!(t.parameter("AlarmEmail")["Default"].as_str(), Some(""));
    assert_eq!(
        to_json(&t.doc["Conditions"]["HasAlarmEmail"]),
        serde_json::json!({"!Not": [{"!Equals": [{"!Ref": "AlarmEmail"}, ""]}]})
    );
    let sub = t.get("AlarmEmailSubscription");
    assert_eq!(sub["Condition"].as_str(), Some("HasAlarmEmail"));
    assert_eq!(sub["Properties"]["Protocol"].as_str(), Some("email"));
    assert_eq!(
        to_json(&sub["Properties"]["Endpoint"]),
        serde_json::json!({"!Ref": "AlarmEmail"})
    );
}

#[test]
fn a_function_without_its_alarms_is_caught() {
    // A new field's function added without its two alarms, or one alarm dropped.
    let text = template_text();
    let mut t = Template::parse(&text);
    t.resources.remove("MeFunctionThrottlesAlarm");
    assert_eq!(alarm_findings(&t), ["MeFunction has no Throttles alarm"]);
    let mut t = Template::parse(&text);
    let me = t.get("MeFunction").clone();
    t.resources.insert("NewFieldFunction".into(), me);
    assert_eq!(
        alarm_findings(&t),
        [
            "NewFieldFunction has no Errors alarm",
            "NewFieldFunction has no Throttles alarm"
        ]
    );
    let mut t = Template::parse(&text);
    t.resources.remove("NotePublisherIteratorAgeAlarm");
    assert_eq!(
        alarm_findings(&t),
        ["no alarm on the stream's iterator age"]
    );
}
