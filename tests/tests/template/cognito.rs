//! The User Pools, their app clients and the Identity Pool: the settings onboard gives its
//! pools, the providers left to tenantctl, and pools that outlive the stack.

use std::collections::BTreeMap;

use serde_norway::Value;

use crate::support::*;

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
