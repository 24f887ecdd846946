//! Real time: the note publisher (its stream, its one grant, its sizing) and the subscriptions
//! fed by the internal mutation.

use std::collections::BTreeSet;

use serde_norway::Value;

use crate::support::*;

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
    let names = |set: &graphql_parser::query::SelectionSet<'_, String>| -> BTreeSet<String> {
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
