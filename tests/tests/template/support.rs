//! What every concern reads: the template as a document (resources, intrinsics, the functions
//! and resolvers it wires), the schema's fields, a function role's grants in each credentials
//! mode, and the field lists more than one concern checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;

/// Fields guests may call (the unauthenticated role's policy must name exactly these).
pub(crate) const GUEST_FIELDS: &[(&str, &str)] = &[
    ("Query", "me"),
    ("Query", "publicNotes"),
    ("Subscription", "onPublicNoteChanged"),
];

/// Root fields on a NONE data source that no Identity Pool role may call: (field, its handler,
/// the one principal granted it: a template resource).
pub(crate) const INTERNAL_FIELDS: &[(&str, &str, &str, &str)] = &[
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

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) type Fields = BTreeSet<(String, String)>;

pub(crate) struct Template {
    pub(crate) doc: Value,
    pub(crate) resources: BTreeMap<String, Value>,
}

pub(crate) fn template_text() -> String {
    std::fs::read_to_string(root().join("template.yaml")).unwrap()
}

pub(crate) fn schema_text() -> String {
    std::fs::read_to_string(root().join("schema.graphql")).unwrap()
}

/// The text of a `!GetAtt A.B` / `!GetAtt [A, B]` / `!Ref A` / `!Sub "..."`, or a plain string.
pub(crate) fn intrinsic(v: &Value) -> (String, String) {
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
    pub(crate) fn load() -> Template {
        Template::parse(&template_text())
    }

    pub(crate) fn parse(text: &str) -> Template {
        let doc: Value = serde_norway::from_str(text).unwrap();
        let resources = doc["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.clone()))
            .collect();
        Template { doc, resources }
    }

    pub(crate) fn parameter(&self, name: &str) -> &Value {
        let p = &self.doc["Parameters"][name];
        assert!(!p.is_null(), "template.yaml has no parameter {name}");
        p
    }

    /// `Globals: Function:`.
    pub(crate) fn globals(&self) -> &Value {
        &self.doc["Globals"]["Function"]
    }

    /// A function's property, or the Globals value it inherits.
    pub(crate) fn function_property<'a>(&'a self, f: &'a Value, prop: &str) -> &'a Value {
        let own = &f["Properties"][prop];
        if own.is_null() {
            &self.globals()[prop]
        } else {
            own
        }
    }

    /// Resolver function crate → (resource name, resource); workers are listed by `workers`.
    pub(crate) fn functions_by_crate(&self) -> BTreeMap<String, (String, &Value)> {
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

    pub(crate) fn of_type<'a>(
        &'a self,
        ty: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.resources
            .iter()
            .filter(move |(_, r)| r["Type"].as_str() == Some(ty))
    }

    pub(crate) fn get(&self, name: &str) -> &Value {
        self.resources
            .get(name)
            .unwrap_or_else(|| panic!("template.yaml has no resource {name}"))
    }

    /// GetAtt target resource name.
    pub(crate) fn target(v: &Value, attr: &str) -> String {
        let (tag, body) = intrinsic(v);
        assert_eq!(tag, "GetAtt", "expected !GetAtt X.{attr}, got {v:?}");
        body.strip_suffix(&format!(".{attr}"))
            .unwrap_or_else(|| panic!("expected .{attr} in {body}"))
            .to_owned()
    }

    /// Every (TypeName, FieldName) with a resolver → the function crate that serves it.
    pub(crate) fn resolvers(&self) -> BTreeMap<(String, String), String> {
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
    pub(crate) fn internal_resolvers(&self) -> BTreeMap<(String, String), String> {
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
    pub(crate) fn workers(&self) -> BTreeMap<String, (String, &Value)> {
        self.of_type("AWS::Serverless::Function")
            .filter(|(_, f)| Self::is_worker(f))
            .map(|(name, f)| {
                let bin = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
                (name.clone(), (bin.to_owned(), f))
            })
            .collect()
    }

    pub(crate) fn is_worker(f: &Value) -> bool {
        f["Properties"]["CodeUri"]
            .as_str()
            .is_some_and(|c| c.starts_with("workers/"))
    }

    /// Resolver function resource name → its crate (workers are listed by `workers`).
    pub(crate) fn functions(&self) -> BTreeMap<String, String> {
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
    pub(crate) fn granted_fields(&self, role: &str) -> Fields {
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
pub(crate) fn schema_fields() -> Fields {
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

/// Which branch `!If [UseTenantScopedCredentials, …, …]` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `TenantScopedCredentials=true`: tenant data only through `TenantDataRole`.
    Scoped,
    /// The default: the functions' own roles reach the table.
    Shared,
}

pub(crate) const MODES: [Mode; 2] = [Mode::Scoped, Mode::Shared];

/// `v` with every `!If [UseTenantScopedCredentials, a, b]` replaced by the branch `mode` takes;
/// `None` for `!Ref AWS::NoValue`.
pub(crate) fn in_mode(v: &Value, mode: Mode) -> Option<Value> {
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
pub(crate) struct Grants {
    pub(crate) managed: Vec<String>,
    pub(crate) statements: Vec<Value>,
}

pub(crate) fn grants(f: &Value, mode: Mode) -> Grants {
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
pub(crate) fn strings(v: &Value) -> Vec<String> {
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
pub(crate) fn resources(v: &Value) -> Vec<String> {
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

/// A YAML value as JSON, for comparing literal properties with the settings in Rust; an
/// intrinsic function (`!Ref`, ...) becomes `{"!Ref": "..."}` so it can never equal a literal.
pub(crate) fn to_json(v: &Value) -> serde_json::Value {
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
