//! AppSync's schema parser is not graphql-js: SDL that every GraphQL tool accepts can fail
//! `StartSchemaCreation` ("Failed to parse schema document - ensure it's a valid SDL-formatted
//! document.") only at deploy time. Every restriction the project relies on is listed in
//! [`RESTRICTIONS`] with its source, and `schema.graphql` is checked against all of them here,
//! so the first deploy meets nothing the tests did not.

use std::path::PathBuf;

fn schema_text() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join("schema.graphql")).unwrap()
}

/// One rule of AppSync's SDL that graphql-js does not enforce, and where it is documented.
struct Restriction {
    rule: &'static str,
    source: &'static str,
    /// Where `schema` breaks the rule (empty: it keeps it).
    check: fn(&str) -> Vec<String>,
}

const RESTRICTIONS: &[Restriction] = &[
    Restriction {
        rule: "no string descriptions (\"…\" or \"\"\"…\"\"\"): use # comments",
        source: "https://github.com/aws/aws-appsync-community/issues/38 (open since 2019: \
                 \"Unexpected string\" / \"Failed to parse schema document\")",
        check: schema_descriptions,
    },
    Restriction {
        rule: "no # comment inside an enum body: comment the enum above it",
        source: "https://github.com/aws/aws-appsync-community/issues/55 (comments on enum values \
                 break the parser, open since 2019) and \
                 https://github.com/aws/aws-appsync-community/issues/410 (2026: a comment before \
                 an enum value that contains null/true/false fails schema creation)",
        check: enum_body_comments,
    },
    Restriction {
        rule: "AppSync's own directives and scalars are built in: never declared in the schema",
        source: "https://docs.aws.amazon.com/appsync/latest/devguide/security-authz.html \
                 (@aws_iam and the other auth directives), \
                 https://docs.aws.amazon.com/appsync/latest/devguide/aws-appsync-real-time-data.html \
                 (@aws_subscribe), \
                 https://docs.aws.amazon.com/appsync/latest/devguide/scalars.html (AWS scalars); \
                 the local endpoint declares them itself for graphql-js (local/wiring.mjs)",
        check: appsync_builtins_declared,
    },
];

#[test]
fn the_schema_meets_every_appsync_sdl_restriction() {
    let schema = schema_text();
    let broken: Vec<String> = RESTRICTIONS
        .iter()
        .filter_map(|r| {
            let at = (r.check)(&schema);
            (!at.is_empty()).then(|| format!("{} — at {at:?} (source: {})", r.rule, r.source))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "schema.graphql breaks AppSync's parser rules:\n{}",
        broken.join("\n")
    );
}

/// Every `#` comment inside an enum body, as `Enum: comment`. graphql_parser drops comments, so
/// this reads the text: outside strings, an `enum` keyword at the top level opens a body at its
/// next `{` and the matching `}` closes it.
fn enum_body_comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    // The enum whose header or body we are in, and whether its body is open.
    let mut current: Option<(String, bool)> = None;
    let mut word = String::new();
    let mut last_word = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            i += 1;
            continue;
        }
        if !word.is_empty() {
            if depth == 0 && last_word == "enum" && current.is_none() {
                current = Some((word.clone(), false));
            }
            last_word = std::mem::take(&mut word);
        }
        match c {
            '#' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p);
                if let Some((name, true)) = &current {
                    let comment: String = chars[i + 1..end].iter().collect();
                    out.push(format!("{name}: {}", comment.trim()));
                }
                i = end;
                continue;
            }
            '"' => {
                let block = chars[i..].starts_with(&['"', '"', '"']);
                let quote: &[char] = if block { &['"', '"', '"'] } else { &['"'] };
                let mut j = i + quote.len();
                while j < chars.len() && !chars[j..].starts_with(quote) {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                i = j + quote.len();
                continue;
            }
            '{' | '(' | '[' => {
                if c == '{' && depth == 0 {
                    if let Some((_, open)) = &mut current {
                        *open = true;
                    }
                }
                depth += 1;
            }
            '}' | ')' | ']' => {
                depth = depth.saturating_sub(1);
                if c == '}' && depth == 0 && matches!(current, Some((_, true))) {
                    current = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

const APPSYNC_DIRECTIVES: &[&str] = &[
    "aws_iam",
    "aws_api_key",
    "aws_oidc",
    "aws_lambda",
    "aws_cognito_user_pools",
    "aws_auth",
    "aws_subscribe",
];
const APPSYNC_SCALARS: &[&str] = &[
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSURL",
    "AWSPhone",
    "AWSIPAddress",
];

/// Declarations of AppSync's built-in directives and scalars.
fn appsync_builtins_declared(text: &str) -> Vec<String> {
    use graphql_parser::schema::{Definition, TypeDefinition};
    let doc = graphql_parser::parse_schema::<String>(text).unwrap();
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            Definition::DirectiveDefinition(d) if APPSYNC_DIRECTIVES.contains(&d.name.as_str()) => {
                Some(format!("directive @{}", d.name))
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(s))
                if APPSYNC_SCALARS.contains(&s.name.as_str()) =>
            {
                Some(format!("scalar {}", s.name))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_comment_inside_an_enum_body_is_caught() {
    let schema = schema_text();
    let with = |from: &str, to: &str| -> String {
        assert!(schema.contains(from), "schema.graphql changed: {from}");
        schema.replacen(from, to, 1)
    };
    // Before a value (AppSync #55), one naming a literal (#410), after the last value, and a
    // comment on the enum's header line.
    let cases = [
        (
            with("  MEMBER\n", "  # Everyone.\n  MEMBER\n"),
            "Role: Everyone.",
        ),
        (
            with("  ADMIN\n", "  # returns null\n  ADMIN\n"),
            "Role: returns null",
        ),
        (
            with("  PUBLIC\n}", "  PUBLIC\n  # the end\n}"),
            "Visibility: the end",
        ),
        (with("enum Role {", "enum Role { # roles"), "Role: roles"),
    ];
    for (text, at) in cases {
        assert_eq!(
            enum_body_comments(&text),
            vec![at.to_owned()],
            "{at} not caught"
        );
        assert!(RESTRICTIONS.iter().any(|r| !(r.check)(&text).is_empty()));
    }
    // Comments above an enum, or in strings and other bodies, are fine.
    let fine = format!(
        "{schema}\n# above\nenum Extra {{\n  A\n}}\ntype T {{ a(x: String = \"#no\"): String # ok\n}}\n"
    );
    assert_eq!(enum_body_comments(&fine), Vec::<String>::new());
}

#[test]
fn a_declared_appsync_builtin_is_caught() {
    let schema = schema_text();
    let text = format!("{schema}\ndirective @aws_iam on FIELD_DEFINITION\nscalar AWSDateTime\n");
    assert_eq!(
        appsync_builtins_declared(&text),
        vec![
            "directive @aws_iam".to_owned(),
            "scalar AWSDateTime".to_owned()
        ]
    );
}

/// Every GraphQL string description (`"…"` / `"""…"""`) in schema text, by where it is.
fn schema_descriptions(text: &str) -> Vec<String> {
    use graphql_parser::schema::{
        Definition, EnumValue, Field as GqlField, InputValue, TypeDefinition, TypeExtension,
    };
    fn input_values(out: &mut Vec<String>, at: &str, values: &[InputValue<'_, String>]) {
        for v in values {
            if v.description.is_some() {
                out.push(format!("{at}({})", v.name));
            }
        }
    }
    fn fields(out: &mut Vec<String>, ty: &str, fields: &[GqlField<'_, String>]) {
        for f in fields {
            if f.description.is_some() {
                out.push(format!("{ty}.{}", f.name));
            }
            input_values(out, &format!("{ty}.{}", f.name), &f.arguments);
        }
    }
    fn enum_values(out: &mut Vec<String>, ty: &str, values: &[EnumValue<'_, String>]) {
        for v in values {
            if v.description.is_some() {
                out.push(format!("{ty}.{}", v.name));
            }
        }
    }
    let doc = graphql_parser::parse_schema::<String>(text).unwrap();
    let mut out = Vec::new();
    for def in &doc.definitions {
        match def {
            Definition::SchemaDefinition(_) => {}
            Definition::TypeDefinition(td) => {
                let (name, description) = match td {
                    TypeDefinition::Scalar(s) => (&s.name, &s.description),
                    TypeDefinition::Object(o) => (&o.name, &o.description),
                    TypeDefinition::Interface(i) => (&i.name, &i.description),
                    TypeDefinition::Union(u) => (&u.name, &u.description),
                    TypeDefinition::Enum(e) => (&e.name, &e.description),
                    TypeDefinition::InputObject(i) => (&i.name, &i.description),
                };
                if description.is_some() {
                    out.push(format!("type {name}"));
                }
                match td {
                    TypeDefinition::Object(o) => fields(&mut out, name, &o.fields),
                    TypeDefinition::Interface(i) => fields(&mut out, name, &i.fields),
                    TypeDefinition::Enum(e) => enum_values(&mut out, name, &e.values),
                    TypeDefinition::InputObject(i) => input_values(&mut out, name, &i.fields),
                    TypeDefinition::Scalar(_) | TypeDefinition::Union(_) => {}
                }
            }
            Definition::TypeExtension(te) => match te {
                TypeExtension::Object(o) => fields(&mut out, &o.name, &o.fields),
                TypeExtension::Interface(i) => fields(&mut out, &i.name, &i.fields),
                TypeExtension::Enum(e) => enum_values(&mut out, &e.name, &e.values),
                TypeExtension::InputObject(i) => input_values(&mut out, &i.name, &i.fields),
                TypeExtension::Scalar(_) | TypeExtension::Union(_) => {}
            },
            Definition::DirectiveDefinition(d) => {
                if d.description.is_some() {
                    out.push(format!("directive @{}", d.name));
                }
                input_values(&mut out, &format!("@{}", d.name), &d.arguments);
            }
        }
    }
    out
}

#[test]
fn a_string_description_anywhere_in_the_schema_is_caught() {
    let schema = schema_text();
    let with = |from: &str, to: &str| -> String {
        assert!(schema.contains(from), "schema.graphql changed: {from}");
        schema.replacen(from, to, 1)
    };
    let cases = [
        (
            with("type Query @aws_iam {", "\"Reads.\"\ntype Query @aws_iam {"),
            "type Query",
        ),
        (
            with("  me: Caller!", "  \"\"\"Who.\"\"\"\n  me: Caller!"),
            "Query.me",
        ),
        (
            with("note(id: ID!)", "note(\"The id.\" id: ID!)"),
            "Query.note(id)",
        ),
        (
            with("  PRIVATE\n", "  \"Owner only.\" PRIVATE\n"),
            "Visibility.PRIVATE",
        ),
        (
            with("enum Role {", "\"\"\"Roles.\"\"\"\nenum Role {"),
            "type Role",
        ),
        (
            with(
                "input CreateNoteInput {\n  title",
                "input CreateNoteInput {\n  \"T.\" title",
            ),
            "CreateNoteInput(title)",
        ),
        (
            with(
                "input UpdateProfileInput {",
                "\"P.\"\ninput UpdateProfileInput {",
            ),
            "type UpdateProfileInput",
        ),
        (format!("{schema}\n\"S.\"\nscalar Extra\n"), "type Extra"),
        (
            format!("{schema}\n\"U.\"\nunion Any = Note | Profile\n"),
            "type Any",
        ),
        (
            format!("{schema}\ninterface Node {{ \"I.\" id: ID! }}\n"),
            "Node.id",
        ),
        (
            format!("{schema}\nextend type Note {{ \"E.\" extra: String }}\n"),
            "Note.extra",
        ),
        (
            format!("{schema}\n\"D.\"\ndirective @extra(\"A.\" a: Int) on FIELD_DEFINITION\n"),
            "directive @extra",
        ),
        (
            format!("{schema}\ndirective @other(\"A.\" a: Int) on FIELD_DEFINITION\n"),
            "@other(a)",
        ),
    ];
    for (text, at) in cases {
        let found = schema_descriptions(&text);
        assert!(found.iter().any(|d| d == at), "{at} not caught: {found:?}");
    }
}
