//! Property tests over the hostile-input surface: the identity parser and the event decoder.
//! Whatever comes in, the result is a typed caller or a typed error, never a panic, and a
//! provider string never names a tenant other than the one it carries.

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::AppError;
use shared::event::{Field, ResolverEvent};
use shared::identity::{Caller, ProviderKey, parse_caller, parse_provider};
use shared::notes::NoteId;
use shared::pagination::{Binding, open};

const NOTE: Field = Field {
    type_name: "Query",
    field_name: "note",
};

/// Arbitrary JSON, biased towards the shapes an identity and an event have.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "(authenticated|unauthenticated|\"|,|:CognitoSignIn:|cognito-idp\\.[a-z0-9-]{0,12}\\.amazonaws\\.com/[A-Za-z0-9_#/]{0,12}){0,4}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("cognitoIdentityId".to_owned()),
                    Just("cognitoIdentityAuthType".to_owned()),
                    Just("cognitoIdentityAuthProvider".to_owned()),
                    Just("cognitoIdentityPoolId".to_owned()),
                    Just("sub".to_owned()),
                    Just("claims".to_owned()),
                    Just("resolverContext".to_owned()),
                    Just("arguments".to_owned()),
                    Just("identity".to_owned()),
                    Just("info".to_owned()),
                    Just("parentTypeName".to_owned()),
                    Just("fieldName".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn pool_key() -> impl Strategy<Value = String> {
    ("[a-z]{2}-[a-z]{4,9}-[1-3]", "[A-Za-z0-9]{9}")
        .prop_map(|(r, p)| format!("cognito-idp.{r}.amazonaws.com/{r}_{p}"))
}

fn identity(provider: Value, auth_type: &str) -> Value {
    json!({
        "cognitoIdentityId": "eu-central-1:59ec6a11-3585-4ad0-9eb6-c9b7a58295b1",
        "cognitoIdentityAuthType": auth_type,
        "cognitoIdentityAuthProvider": provider,
        "cognitoIdentityPoolId": "eu-central-1:pool",
        "sourceIp": ["1.2.3.4"]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn any_identity_is_a_caller_or_unauthorized(v in json_value(), pool in prop::option::of(".{0,20}")) {
        match parse_caller(Some(&v), pool.as_deref()) {
            Ok(_) | Err(AppError::Unauthorized(_)) => {}
            Err(other) => prop_assert!(false, "untyped outcome {other:?}"),
        }
    }

    #[test]
    fn any_provider_string_is_a_caller_or_unauthorized(p in ".{0,300}") {
        match parse_caller(Some(&identity(json!(p), "authenticated")), None) {
            Ok(Caller::User(u)) => {
                // Whatever was accepted is a key an operator could register, and key-safe.
                prop_assert!(ProviderKey::parse(u.provider.as_str()).is_ok());
                prop_assert!(!u.provider.as_str().contains('#'));
            }
            Ok(Caller::Guest(_)) => prop_assert!(false, "an authenticated identity became a guest"),
            Err(AppError::Unauthorized(_)) => {}
            Err(other) => prop_assert!(false, "untyped outcome {other:?}"),
        }
    }

    #[test]
    fn a_user_pool_sign_in_names_exactly_its_pool(key in pool_key(), sub in "[0-9a-f-]{8,36}", quoted in any::<bool>()) {
        let q = |s: String| if quoted { format!("\"{s}\"") } else { s };
        let p = format!("{},{}", q(key.clone()), q(format!("{key}:CognitoSignIn:{sub}")));
        let (k, s) = parse_provider(&p).unwrap();
        prop_assert_eq!(k.as_str(), key.as_str());
        prop_assert_eq!(s.as_deref(), Some(sub.as_str()));
    }

    #[test]
    fn another_provider_smuggled_in_never_wins(key in pool_key(), other in pool_key(), junk in ".{0,40}", at_front in any::<bool>()) {
        prop_assume!(key != other);
        for extra in [other.clone(), format!("{other}:CognitoSignIn:abc"), junk.clone(), format!("\"{other}\"")] {
            let p = if at_front { format!("{extra},\"{key}\"") } else { format!("\"{key}\",{extra}") };
            match parse_provider(&p) {
                // Every entry must name the same provider: only the string's own can come out.
                Ok((k, _)) => prop_assert_eq!(k.as_str(), key.as_str(), "{:?}", p),
                Err(AppError::Unauthorized(_)) => {}
                Err(e) => prop_assert!(false, "{e:?}"),
            }
        }
    }

    #[test]
    fn any_event_decodes_or_is_a_validation_error(v in json_value()) {
        match ResolverEvent::decode(v, NOTE) {
            Ok(e) => {
                prop_assert_eq!(e.info.parent_type_name.as_str(), "Query");
                prop_assert_eq!(e.info.field_name.as_str(), "note");
            }
            Err(AppError::Validation(_)) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn note_ids_are_key_safe_or_refused(id in ".{0,80}") {
        match NoteId::parse(&id) {
            Ok(n) => prop_assert!(n.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
            Err(AppError::Validation(_)) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn any_page_token_string_is_refused_unless_minted(token in ".{0,200}") {
        let b = Binding { query: "notes".into(), tenant: "acme".into(), caller: "x".into() };
        prop_assert!(matches!(open(b"k", &b, &token), Err(AppError::Validation(_))));
    }
}
