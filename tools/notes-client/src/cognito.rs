//! The Cognito calls: SRP sign-in and token refresh at a tenant's User Pool, identity and
//! credentials from the Identity Pool. All of them are unsigned operations, so the clients carry
//! no credentials provider (and never look for one).

use std::time::Duration;

use aws_sdk_cognitoidentity as identity;
use aws_sdk_cognitoidentityprovider as idp;
use base64::Engine as _;
use idp::config::timeout::TimeoutConfig;
use idp::error::ProvideErrorMetadata;
use idp::types::{AuthFlowType, ChallengeNameType};

use crate::error::{Error, Result};
use crate::outputs::{Outputs, TenantOutputs, login_provider};
use crate::session::{AwsCredentials, Session, Tokens, UserSession};
use crate::srp::SrpSignIn;

/// The two SDK clients for one stack.
#[derive(Debug, Clone)]
pub struct Cognito {
    idp: idp::Client,
    identity: identity::Client,
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(30))
        .build()
}

impl Cognito {
    /// Clients for the stack in `outputs`: its region, and its endpoints where the file names
    /// them (locally); the SDK's default endpoints otherwise.
    pub fn new(outputs: &Outputs) -> Self {
        let region = idp::config::Region::new(outputs.region.clone());
        let mut idp_config = idp::Config::builder()
            .behavior_version(idp::config::BehaviorVersion::latest())
            .region(region.clone())
            .timeout_config(timeouts());
        if let Some(endpoint) = &outputs.cognito_idp_endpoint {
            idp_config = idp_config.endpoint_url(endpoint);
        }
        let mut identity_config = identity::Config::builder()
            .behavior_version(identity::config::BehaviorVersion::latest())
            .region(identity::config::Region::new(outputs.region.clone()))
            .timeout_config(timeouts());
        if let Some(endpoint) = &outputs.cognito_identity_endpoint {
            identity_config = identity_config.endpoint_url(endpoint);
        }
        Cognito {
            idp: idp::Client::from_conf(idp_config.build()),
            identity: identity::Client::from_conf(identity_config.build()),
        }
    }

    /// USER_SRP_AUTH + PASSWORD_VERIFIER at the tenant's pool, then GetId and
    /// GetCredentialsForIdentity with the id token: a new session with fresh credentials.
    pub async fn sign_in(
        &self,
        outputs: &Outputs,
        tenant: &TenantOutputs,
        username: &str,
        password: &str,
        now: i64,
    ) -> Result<Session> {
        let srp = SrpSignIn::start(
            &tenant.user_pool_id,
            &tenant.user_pool_client_id,
            username,
            password,
        );
        let started = self
            .idp
            .initiate_auth()
            .auth_flow(AuthFlowType::UserSrpAuth)
            .client_id(&tenant.user_pool_client_id)
            .auth_parameters("USERNAME", username)
            .auth_parameters("SRP_A", &srp.srp_a)
            .send()
            .await
            .map_err(|e| aws_error("InitiateAuth(USER_SRP_AUTH)", e))?;
        match started.challenge_name() {
            Some(ChallengeNameType::PasswordVerifier) => {}
            Some(other) => return Err(Error::UnsupportedChallenge(other.as_str().to_string())),
            None => {
                return Err(Error::Srp(
                    "InitiateAuth answered without the PASSWORD_VERIFIER challenge".into(),
                ));
            }
        }
        let challenge = started.challenge_parameters().cloned().unwrap_or_default();
        let responses = srp.respond(&challenge)?;
        let answered = self
            .idp
            .respond_to_auth_challenge()
            .client_id(&tenant.user_pool_client_id)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .set_challenge_responses(Some(responses))
            .set_session(started.session().map(str::to_string))
            .send()
            .await
            .map_err(|e| aws_error("RespondToAuthChallenge(PASSWORD_VERIFIER)", e))?;
        if let Some(next) = answered.challenge_name() {
            return Err(Error::UnsupportedChallenge(next.as_str().to_string()));
        }
        let result = answered.authentication_result().ok_or_else(|| Error::Aws {
            operation: "RespondToAuthChallenge(PASSWORD_VERIFIER)",
            message: "no AuthenticationResult".into(),
        })?;
        let tokens = tokens_from(result, None, now)?;

        // The tenant's own Identity Pool (tenants are spread over several), else the top-level one.
        let identity_pool_id = outputs.tenant_identity_pool_id(tenant);
        let provider = tenant.login_provider();
        let identity_id = self
            .identity
            .get_id()
            .identity_pool_id(identity_pool_id)
            .logins(&provider, &tokens.id_token)
            .send()
            .await
            .map_err(|e| aws_error("GetId", e))?
            .identity_id()
            .map(str::to_string)
            .ok_or_else(|| Error::Aws {
                operation: "GetId",
                message: "no IdentityId".into(),
            })?;
        let mut session = Session::new_user(
            &outputs.region,
            identity_pool_id,
            identity_id,
            UserSession {
                tenant_id: tenant.tenant_id.clone(),
                username: username.to_string(),
                user_pool_id: tenant.user_pool_id.clone(),
                user_pool_client_id: tenant.user_pool_client_id.clone(),
                tokens,
            },
        );
        session.credentials = Some(self.credentials(&session).await?);
        Ok(session)
    }

    /// A new guest: GetId without logins (the unauthenticated identities of the top-level pool,
    /// the one that serves guests), then its credentials.
    pub async fn guest(&self, outputs: &Outputs) -> Result<Session> {
        if !outputs.allow_guests {
            return Err(Error::GuestsNotAllowed);
        }
        let identity_pool_id = outputs.guest_identity_pool_id();
        let identity_id = self
            .identity
            .get_id()
            .identity_pool_id(identity_pool_id)
            .send()
            .await
            .map_err(|e| aws_error("GetId", e))?
            .identity_id()
            .map(str::to_string)
            .ok_or_else(|| Error::Aws {
                operation: "GetId",
                message: "no IdentityId".into(),
            })?;
        let mut session = Session::new_guest(&outputs.region, identity_pool_id, identity_id);
        session.credentials = Some(self.credentials(&session).await?);
        Ok(session)
    }

    /// REFRESH_TOKEN_AUTH: new id and access tokens (the refresh token is kept unless the pool
    /// rotates it).
    pub async fn refresh_tokens(&self, user: &mut UserSession, now: i64) -> Result<()> {
        let refreshed = self
            .idp
            .initiate_auth()
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .client_id(&user.user_pool_client_id)
            .auth_parameters("REFRESH_TOKEN", &user.tokens.refresh_token)
            .send()
            .await
            .map_err(|e| {
                if e.code() == Some("NotAuthorizedException") {
                    Error::RefreshRefused(
                        e.message().unwrap_or("NotAuthorizedException").to_string(),
                    )
                } else {
                    aws_error("InitiateAuth(REFRESH_TOKEN_AUTH)", e)
                }
            })?;
        let result = refreshed
            .authentication_result()
            .ok_or_else(|| Error::Aws {
                operation: "InitiateAuth(REFRESH_TOKEN_AUTH)",
                message: "no AuthenticationResult".into(),
            })?;
        user.tokens = tokens_from(result, Some(&user.tokens.refresh_token), now)?;
        Ok(())
    }

    /// GetCredentialsForIdentity for the session's identity, with the id token in `Logins` for a
    /// user and without for a guest.
    pub async fn credentials(&self, session: &Session) -> Result<AwsCredentials> {
        let mut request = self
            .identity
            .get_credentials_for_identity()
            .identity_id(&session.identity_id);
        if let Some(user) = &session.user {
            let provider = login_provider(&user.user_pool_id);
            request = request.logins(provider, &user.tokens.id_token);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| aws_error("GetCredentialsForIdentity", e))?;
        let missing = |what: &str| Error::Aws {
            operation: "GetCredentialsForIdentity",
            message: format!("no {what}"),
        };
        let c = answer.credentials().ok_or_else(|| missing("Credentials"))?;
        Ok(AwsCredentials {
            access_key_id: c
                .access_key_id()
                .ok_or_else(|| missing("AccessKeyId"))?
                .to_string(),
            secret_access_key: c
                .secret_key()
                .ok_or_else(|| missing("SecretKey"))?
                .to_string(),
            session_token: c
                .session_token()
                .ok_or_else(|| missing("SessionToken"))?
                .to_string(),
            expires_at: c.expiration().ok_or_else(|| missing("Expiration"))?.secs(),
        })
    }
}

fn tokens_from(
    result: &idp::types::AuthenticationResultType,
    previous_refresh_token: Option<&str>,
    now: i64,
) -> Result<Tokens> {
    let missing = |what: &str| Error::Aws {
        operation: "Cognito sign-in",
        message: format!("the AuthenticationResult has no {what}"),
    };
    let id_token = result
        .id_token()
        .ok_or_else(|| missing("IdToken"))?
        .to_string();
    let expires_at = jwt_exp(&id_token).unwrap_or(now + i64::from(result.expires_in()));
    Ok(Tokens {
        access_token: result
            .access_token()
            .ok_or_else(|| missing("AccessToken"))?
            .to_string(),
        refresh_token: result
            .refresh_token()
            .or(previous_refresh_token)
            .ok_or_else(|| missing("RefreshToken"))?
            .to_string(),
        id_token,
        expires_at,
    })
}

/// The `exp` claim of a JWT, read without verifying it (the client only needs to know when to
/// refresh; the Identity Pool verifies).
pub fn jwt_exp(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

/// `Operation: Code: message` for a service error; the cause chain otherwise (e.g. a connection
/// refused).
fn aws_error<E, R>(operation: &'static str, err: idp::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => {
            let mut chain = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                source = cause.source();
            }
            chain
        }
    };
    Error::Aws { operation, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            enc(r#"{"alg":"RS256","kid":"dummy"}"#),
            enc(claims)
        )
    }

    #[test]
    fn jwt_exp_reads_the_claim() {
        assert_eq!(
            jwt_exp(&jwt(r#"{"exp":1800000000,"token_use":"id"}"#)),
            Some(1_800_000_000)
        );
        assert_eq!(jwt_exp(&jwt(r#"{"token_use":"id"}"#)), None);
        assert_eq!(jwt_exp("not a jwt"), None);
        assert_eq!(jwt_exp("a.!!!.c"), None);
    }

    #[test]
    fn token_expiry_comes_from_the_id_token_or_expires_in() {
        let result = |id_token: String| {
            idp::types::AuthenticationResultType::builder()
                .id_token(id_token)
                .access_token("access")
                .expires_in(3600)
                .build()
        };
        let t = tokens_from(&result(jwt(r#"{"exp":1800000123}"#)), Some("old"), 1_000).unwrap();
        assert_eq!(t.expires_at, 1_800_000_123);
        assert_eq!(t.refresh_token, "old");
        let t = tokens_from(&result("opaque".into()), Some("old"), 1_000).unwrap();
        assert_eq!(t.expires_at, 4_600);
        assert!(tokens_from(&result("opaque".into()), None, 1_000).is_err());
    }
}
