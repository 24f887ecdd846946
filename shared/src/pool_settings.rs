//! The settings every tenant's Cognito User Pool and app client get: one definition, used by
//! `tenantctl onboard` to create a tenant's pool and checked against `template.yaml`'s pool
//! resources by `tests/tests/template/cognito.rs`, so a setting changed in one place and not the other
//! fails CI instead of giving tenants onboarded later different sign-in rules.
//!
//! Plain data (no Cognito SDK here: the functions link this crate and never call Cognito). The
//! property names are CloudFormation's, which are also the Cognito API's input names for every
//! setting here but one: CloudFormation's `EnabledMfas` is the API's `SetUserPoolMfaConfig`
//! ([`mfa_config_input`]). So [`UserPoolSettings::properties_with`] is the template's
//! `Properties` (minus the name and tags) and [`UserPoolSettings::create_input`] the
//! `CreateUserPool` input (minus `PoolName`).
//!
//! Two settings are per deployment ([`PoolOptions`]): the template's parameters `TenantPoolMfa`,
//! `PoolEmailIdentityArn` and `PoolEmailFrom`, and `tenantctl onboard`'s `--mfa`,
//! `--email-identity-arn` and `--email-from`.

use serde_json::{Value, json};

/// A User Pool's password policy (`Policies.PasswordPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// How long an invitation's temporary password (onboard's first admin) stays valid.
    pub temporary_password_validity_days: i32,
}

/// The pool-level settings of a tenant's User Pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPoolSettings {
    /// `ACTIVE`: the pool holds the users, whose identity ids own their notes; deleting it is a
    /// deliberate two-step act (`tenantctl offboard --delete-pool` turns this off first).
    pub deletion_protection: &'static str,
    pub username_attributes: &'static [&'static str],
    pub auto_verified_attributes: &'static [&'static str],
    /// Users are invited by the tenant's admin (or onboard), never self-registered: a pool is a
    /// tenant, and a stranger signing up would become that tenant's user.
    pub allow_admin_create_user_only: bool,
    pub password_policy: PasswordPolicy,
    /// A changed e-mail address applies only once the user has verified it (the code goes to
    /// the new address); until then the old, verified one stays. Without this a user could set
    /// any address, verified or not, as the one their password resets go to.
    pub attributes_require_verification_before_update: &'static [&'static str],
    /// The second factors a pool offers when MFA is not [`Mfa::Off`]: TOTP apps only (SMS
    /// needs an SNS role and costs per message).
    pub enabled_mfas: &'static [&'static str],
}

/// A tenant pool's multi-factor sign-in (`MfaConfiguration`), with TOTP as the factor.
///
/// Required is per pool, so per tenant: a pool is a tenant. Requiring MFA for a tenant's ADMINs
/// only cannot be decided in the functions: under AWS_IAM the resolver event's identity carries
/// the Identity Pool's view of the caller (identity id, provider, `:CognitoSignIn:<sub>`), and
/// nothing in it, nor in the User Pool's id token it was exchanged for, says whether the sign-in
/// used a second factor. So a tenant that wants its ADMINs on TOTP runs
/// `tenantctl onboard --mfa required` (every user of that tenant then signs in with TOTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mfa {
    /// No second factor.
    Off,
    /// Users may enrol a TOTP app; once they have, every sign-in asks for it.
    #[default]
    Optional,
    /// Every sign-in needs TOTP; a user without one enrols at their next sign-in.
    Required,
}

impl Mfa {
    /// The Cognito / CloudFormation value of `MfaConfiguration`.
    pub fn cognito(self) -> &'static str {
        match self {
            Mfa::Off => "OFF",
            Mfa::Optional => "OPTIONAL",
            Mfa::Required => "ON",
        }
    }

    /// From `MfaConfiguration` (the template's `TenantPoolMfa`).
    pub fn from_cognito(value: &str) -> Option<Self> {
        [Mfa::Off, Mfa::Optional, Mfa::Required]
            .into_iter()
            .find(|m| m.cognito() == value)
    }

    /// From `tenantctl onboard --mfa off|optional|required`.
    pub fn from_flag(value: &str) -> Option<Self> {
        match value {
            "off" => Some(Mfa::Off),
            "optional" => Some(Mfa::Optional),
            "required" => Some(Mfa::Required),
            _ => None,
        }
    }
}

/// Who sends a pool's e-mails (invitations, verification codes, password resets).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EmailSender {
    /// Cognito's own sender, limited to 50 e-mails a day per AWS account and region, all pools
    /// together (Amazon Cognito Developer Guide, "Quotas in Amazon Cognito",
    /// <https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html>; the same figure
    /// in aws-amplify/amplify-cli#5104): every invitation and verification code of every tenant
    /// counts, so onboarding at scale stops there. Fine for a demo.
    #[default]
    CognitoDefault,
    /// Amazon SES (`EmailSendingAccount: DEVELOPER`): a verified SES identity in the pool's
    /// region (or a supported one), with the SES account's own quota.
    Ses {
        /// The SES identity's ARN (`arn:aws:ses:<region>:<account>:identity/<address or domain>`).
        source_arn: String,
        /// The From header (`Notes <no-reply@example.com>`); none = the identity's address.
        from: Option<String>,
    },
}

impl EmailSender {
    /// From the template's `PoolEmailIdentityArn` / `PoolEmailFrom` (or onboard's flags):
    /// an empty ARN is Cognito's sender, a From without an ARN is refused.
    pub fn from_parameters(source_arn: &str, from: &str) -> Result<Self, String> {
        match (source_arn.trim(), from.trim()) {
            ("", "") => Ok(EmailSender::CognitoDefault),
            ("", _) => {
                Err("an e-mail From address needs the SES identity ARN it is sent with".into())
            }
            (arn, _)
                if !arn.starts_with("arn:")
                    || !arn.contains(":ses:")
                    || !arn.contains(":identity/") =>
            {
                Err(format!(
                    "{arn:?} is not an SES identity ARN (arn:aws:ses:<region>:<account>:identity/<address or domain>)"
                ))
            }
            (arn, from) => Ok(EmailSender::Ses {
                source_arn: arn.to_owned(),
                from: (!from.is_empty()).then(|| from.to_owned()),
            }),
        }
    }

    /// `EmailConfiguration`.
    pub fn email_configuration(&self) -> Value {
        match self {
            EmailSender::CognitoDefault => json!({"EmailSendingAccount": "COGNITO_DEFAULT"}),
            EmailSender::Ses { source_arn, from } => {
                let mut v = json!({"EmailSendingAccount": "DEVELOPER", "SourceArn": source_arn});
                if let Some(from) = from {
                    v["From"] = json!(from);
                }
                v
            }
        }
    }
}

/// The per-deployment settings of a tenant's pool: the template's parameters, onboard's flags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolOptions {
    pub mfa: Mfa,
    pub email: EmailSender,
}

/// The settings of the app client a tenant's front end signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSettings {
    pub client_name: &'static str,
    /// A browser app cannot keep a secret.
    pub generate_secret: bool,
    /// SRP only (no password ever leaves the client) plus refresh.
    pub explicit_auth_flows: &'static [&'static str],
    pub prevent_user_existence_errors: &'static str,
    pub access_token_validity_minutes: i32,
    pub id_token_validity_minutes: i32,
    pub refresh_token_validity_days: i32,
    pub enable_token_revocation: bool,
}

pub const USER_POOL: UserPoolSettings = UserPoolSettings {
    deletion_protection: "ACTIVE",
    username_attributes: &["email"],
    auto_verified_attributes: &["email"],
    allow_admin_create_user_only: true,
    password_policy: PasswordPolicy {
        minimum_length: 12,
        require_lowercase: true,
        require_uppercase: true,
        require_numbers: true,
        require_symbols: false,
        temporary_password_validity_days: 7,
    },
    attributes_require_verification_before_update: &["email"],
    enabled_mfas: &["SOFTWARE_TOKEN_MFA"],
};

pub const CLIENT: ClientSettings = ClientSettings {
    client_name: "web",
    generate_secret: false,
    explicit_auth_flows: &["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    prevent_user_existence_errors: "ENABLED",
    access_token_validity_minutes: 60,
    id_token_validity_minutes: 60,
    refresh_token_validity_days: 30,
    enable_token_revocation: true,
};

/// Every tenant pool is listed in the Identity Pool with the server-side token check on: a user
/// signed out globally or deleted in the pool gets no more credentials.
pub const SERVER_SIDE_TOKEN_CHECK: bool = true;

/// The User Pool tag naming the tenant a pool belongs to (`tenant=<tenantId>`): how onboard finds
/// the pool it created (or the template's demo pool) again, so a second run never makes a
/// second pool.
pub const TENANT_TAG: &str = "tenant";
/// The User Pool tag naming the Identity Pool the tenant is served through. Two stacks in one
/// account (staging, production) may both have a tenant `acme`; this keeps each onboard to its
/// own stack's pools.
pub const IDENTITY_POOL_TAG: &str = "identity-pool";

impl UserPoolSettings {
    /// The settings with the default [`PoolOptions`] (the template's parameter defaults).
    pub fn properties(&self) -> Value {
        self.properties_with(&PoolOptions::default())
    }

    /// The settings as CloudFormation properties, without `UserPoolName` and `UserPoolTags`.
    pub fn properties_with(&self, options: &PoolOptions) -> Value {
        let mut v = self.create_input(options);
        v["MfaConfiguration"] = json!(options.mfa.cognito());
        if options.mfa != Mfa::Off
            && let Some(m) = v.as_object_mut()
        {
            m.insert("EnabledMfas".into(), json!(self.enabled_mfas));
        }
        v
    }

    /// The `CreateUserPool` input, without `PoolName` and `UserPoolTags`. MFA is `OFF` here:
    /// Cognito turns TOTP on only through `SetUserPoolMfaConfig` ([`mfa_config_input`]), which
    /// onboard calls next.
    pub fn create_input(&self, options: &PoolOptions) -> Value {
        let p = &self.password_policy;
        json!({
            "DeletionProtection": self.deletion_protection,
            "UsernameAttributes": self.username_attributes,
            "AutoVerifiedAttributes": self.auto_verified_attributes,
            "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": self.allow_admin_create_user_only },
            "Policies": { "PasswordPolicy": {
                "MinimumLength": p.minimum_length,
                "RequireLowercase": p.require_lowercase,
                "RequireUppercase": p.require_uppercase,
                "RequireNumbers": p.require_numbers,
                "RequireSymbols": p.require_symbols,
                "TemporaryPasswordValidityDays": p.temporary_password_validity_days,
            }},
            "UserAttributeUpdateSettings": {
                "AttributesRequireVerificationBeforeUpdate": self.attributes_require_verification_before_update,
            },
            "MfaConfiguration": Mfa::Off.cognito(),
            "EmailConfiguration": options.email.email_configuration(),
        })
    }
}

/// The `SetUserPoolMfaConfig` input (without `UserPoolId`) that gives a pool `mfa`.
pub fn mfa_config_input(mfa: Mfa) -> Value {
    match mfa {
        Mfa::Off => json!({"MfaConfiguration": "OFF"}),
        on => json!({
            "MfaConfiguration": on.cognito(),
            "SoftwareTokenMfaConfiguration": {"Enabled": true},
        }),
    }
}

impl ClientSettings {
    /// The settings as CloudFormation properties (= `CreateUserPoolClient` input), without
    /// `UserPoolId`.
    pub fn properties(&self) -> Value {
        json!({
            "ClientName": self.client_name,
            "GenerateSecret": self.generate_secret,
            "ExplicitAuthFlows": self.explicit_auth_flows,
            "PreventUserExistenceErrors": self.prevent_user_existence_errors,
            "AccessTokenValidity": self.access_token_validity_minutes,
            "IdTokenValidity": self.id_token_validity_minutes,
            "RefreshTokenValidity": self.refresh_token_validity_days,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
            "EnableTokenRevocation": self.enable_token_revocation,
        })
    }
}

/// Does a temporary password meet [`USER_POOL`]'s policy? Checked before Cognito sees it, so a
/// bad `--temporary-password` fails before any step runs.
pub fn meets_password_policy(password: &str) -> bool {
    let p = &USER_POOL.password_policy;
    let len = i32::try_from(password.chars().count()).unwrap_or(i32::MAX);
    len >= p.minimum_length
        && len <= 256
        && (!p.require_lowercase || password.chars().any(|c| c.is_ascii_lowercase()))
        && (!p.require_uppercase || password.chars().any(|c| c.is_ascii_uppercase()))
        && (!p.require_numbers || password.chars().any(|c| c.is_ascii_digit()))
        && (!p.require_symbols || password.chars().any(|c| c.is_ascii_punctuation()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_carry_every_setting() {
        let pool = USER_POOL.properties();
        assert_eq!(pool["DeletionProtection"], "ACTIVE");
        assert_eq!(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 12);
        let client = CLIENT.properties();
        assert_eq!(
            client["ExplicitAuthFlows"],
            json!(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        );
        assert_eq!(client["TokenValidityUnits"]["RefreshToken"], "days");
    }

    #[test]
    fn mfa_and_email_are_per_deployment() {
        let default = USER_POOL.properties();
        assert_eq!(default["MfaConfiguration"], "OPTIONAL");
        assert_eq!(default["EnabledMfas"], json!(["SOFTWARE_TOKEN_MFA"]));
        assert_eq!(
            default["EmailConfiguration"],
            json!({"EmailSendingAccount": "COGNITO_DEFAULT"})
        );
        assert_eq!(
            default["UserAttributeUpdateSettings"],
            json!({"AttributesRequireVerificationBeforeUpdate": ["email"]})
        );
        let off = USER_POOL.properties_with(&PoolOptions {
            mfa: Mfa::Off,
            email: EmailSender::CognitoDefault,
        });
        assert_eq!(off["MfaConfiguration"], "OFF");
        assert!(off.get("EnabledMfas").is_none());
        let ses = EmailSender::from_parameters(
            "arn:aws:ses:eu-central-1:123456789012:identity/example.com",
            "Notes <no-reply@example.com>",
        )
        .unwrap();
        let on = USER_POOL.properties_with(&PoolOptions {
            mfa: Mfa::Required,
            email: ses,
        });
        assert_eq!(on["MfaConfiguration"], "ON");
        assert_eq!(
            on["EmailConfiguration"],
            json!({"EmailSendingAccount": "DEVELOPER",
                   "SourceArn": "arn:aws:ses:eu-central-1:123456789012:identity/example.com",
                   "From": "Notes <no-reply@example.com>"})
        );
        // The API input: MFA set afterwards, no CloudFormation-only key.
        let create = USER_POOL.create_input(&PoolOptions::default());
        assert_eq!(create["MfaConfiguration"], "OFF");
        assert!(create.get("EnabledMfas").is_none());
        assert_eq!(
            mfa_config_input(Mfa::Required),
            json!({"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": true}})
        );
        assert_eq!(
            mfa_config_input(Mfa::Off),
            json!({"MfaConfiguration": "OFF"})
        );
    }

    #[test]
    fn mfa_and_email_options_parse_strictly() {
        for m in [Mfa::Off, Mfa::Optional, Mfa::Required] {
            assert_eq!(Mfa::from_cognito(m.cognito()), Some(m));
        }
        assert_eq!(Mfa::from_flag("required"), Some(Mfa::Required));
        assert_eq!(Mfa::from_flag("ON"), None);
        assert_eq!(
            EmailSender::from_parameters("", ""),
            Ok(EmailSender::CognitoDefault)
        );
        assert!(EmailSender::from_parameters("", "a@example.com").is_err());
        assert!(EmailSender::from_parameters("example.com", "").is_err());
        assert_eq!(
            EmailSender::from_parameters("arn:aws:ses:eu-west-1:1:identity/a@example.com", " "),
            Ok(EmailSender::Ses {
                source_arn: "arn:aws:ses:eu-west-1:1:identity/a@example.com".into(),
                from: None
            })
        );
    }

    #[test]
    fn the_password_policy_is_checked_locally() {
        assert!(meets_password_policy("Admin-Local-Demo-1"));
        for bad in [
            "short-A1",
            "no-upper-case-1",
            "NO-LOWER-CASE-1",
            "No-Digits-Here",
        ] {
            assert!(!meets_password_policy(bad), "{bad}");
        }
    }
}
