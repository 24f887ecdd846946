//! Grants and roles: the Identity Pool roles, every function's DynamoDB and secret grants in
//! both credentials modes (`TenantScopedCredentials` off and on), the tenant data role, the
//! AppSync service roles and who may call the internal fields.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;

use crate::support::*;

/// DynamoDB actions that do not write.
const READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];

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
    // realtime::the_note_publisher_reads_the_stream_in_order_and_may_only_publish).
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
