//! Abuse limits and what keeps a deployment observable: logs and their retention, the guest
//! functions' concurrency cap, query depth and resolver count, the optional WAF, alarms.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;

use crate::support::*;

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
