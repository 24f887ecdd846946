//! The Identity Pool's provider list, changed without losing anyone else's change.
//!
//! `UpdateIdentityPool` replaces the whole configuration and has no condition, so two operators
//! onboarding at once can each read the list, add their tenant and write: the second write drops
//! the first tenant. Every change here is therefore read → change → write → wait → read again:
//! after the write it waits `settle` (longer than any concurrent tenantctl takes from its read to
//! its write landing) and reads the list again; if its providers are not (or, for a removal, still)
//! there, someone's stale write won and it starts over after a jittered backoff. A writer whose
//! change is lost notices it; a writer whose change survives the settle window has nothing left
//! that could overwrite it (every later writer read after it).
//!
//! Providers are compared by name; every other provider, flag and tag of the pool is written
//! back as it was read.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentity as identity;
use identity::types::CognitoIdentityProvider;
use shared::identity::ProviderKey;

use crate::error::{Error, Result};

/// Tries of one change before giving up (each after a settle and a backoff).
const ATTEMPTS: u32 = 8;
/// Test hook: a pause between reading the pool and writing it, so a test can make two
/// onboardings read the same list before either writes (a guaranteed lost update).
pub const TEST_PAUSE_BEFORE_UPDATE: &str = "TENANTCTL_TEST_PAUSE_BEFORE_UPDATE_MS";

/// A User Pool as the Identity Pool lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPoolProvider {
    /// `cognito-idp.<region>.amazonaws.com/<poolId>`.
    pub provider_name: String,
    pub client_id: String,
    pub server_side_token_check: Option<bool>,
}

/// A provider that is not a User Pool: where `--federated` puts it in the Identity Pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Federated {
    /// An IAM OIDC identity provider ARN (`OpenIdConnectProviderARNs`).
    Oidc(String),
    /// An IAM SAML provider ARN (`SamlProviderARNs`).
    Saml(String),
    /// A public login provider's domain and the app's id there (`SupportedLoginProviders`).
    Login { domain: String, app_id: String },
}

impl Federated {
    /// Parses `--federated`: an OIDC or SAML provider ARN, or `DOMAIN=APP_ID`
    /// (`accounts.google.com=<client id>`).
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        if raw.starts_with("arn:") {
            if raw.contains(":oidc-provider/") {
                return Ok(Federated::Oidc(raw.to_owned()));
            }
            if raw.contains(":saml-provider/") {
                return Ok(Federated::Saml(raw.to_owned()));
            }
            return Err(Error::Usage(format!(
                "--federated {raw}: an ARN must name an IAM oidc-provider or saml-provider"
            )));
        }
        if raw.starts_with("cognito-idp.") {
            return Err(Error::Usage(format!(
                "--federated {raw}: a tenant's User Pool is onboard's own pool; federate other \
                 identity providers through it, or onboard the other pool as its own tenant"
            )));
        }
        match raw.split_once('=') {
            Some((domain, app_id)) if !domain.is_empty() && !app_id.is_empty() => {
                Ok(Federated::Login {
                    domain: domain.to_owned(),
                    app_id: app_id.to_owned(),
                })
            }
            _ => Err(Error::Usage(format!(
                "--federated {raw}: expected an OIDC/SAML provider ARN or DOMAIN=APP_ID \
                 (accounts.google.com=<client id>)"
            ))),
        }
    }

    /// The provider key the registry maps to the tenant: the ARN, or the domain.
    pub fn key(&self) -> Result<ProviderKey> {
        let raw = match self {
            Federated::Oidc(arn) | Federated::Saml(arn) => arn.as_str(),
            Federated::Login { domain, .. } => domain.as_str(),
        };
        Ok(ProviderKey::parse(raw)?)
    }
}

/// The Identity Pool's configuration, as read and as written back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolConfig {
    pub id: String,
    pub name: String,
    pub allow_unauthenticated: bool,
    pub allow_classic_flow: Option<bool>,
    pub login_providers: BTreeMap<String, String>,
    pub developer_provider_name: Option<String>,
    pub oidc: Vec<String>,
    pub saml: Vec<String>,
    pub user_pools: Vec<UserPoolProvider>,
    pub tags: Option<HashMap<String, String>>,
}

/// What onboard adds: the tenant's User Pool (with its app client) and its federated providers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Additions {
    pub user_pools: Vec<UserPoolProvider>,
    pub federated: Vec<Federated>,
}

impl PoolConfig {
    fn from_describe(
        d: &identity::operation::describe_identity_pool::DescribeIdentityPoolOutput,
    ) -> Self {
        PoolConfig {
            id: d.identity_pool_id().to_owned(),
            name: d.identity_pool_name().to_owned(),
            allow_unauthenticated: d.allow_unauthenticated_identities(),
            allow_classic_flow: d.allow_classic_flow(),
            login_providers: d
                .supported_login_providers()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            developer_provider_name: d.developer_provider_name().map(str::to_owned),
            oidc: d.open_id_connect_provider_arns().to_vec(),
            saml: d.saml_provider_arns().to_vec(),
            user_pools: d
                .cognito_identity_providers()
                .iter()
                .map(|p| UserPoolProvider {
                    provider_name: p.provider_name().unwrap_or_default().to_owned(),
                    client_id: p.client_id().unwrap_or_default().to_owned(),
                    server_side_token_check: p.server_side_token_check(),
                })
                .collect(),
            tags: d.identity_pool_tags().cloned(),
        }
    }

    /// How many User Pool providers the pool lists (the quota counts these).
    pub fn user_pool_count(&self) -> usize {
        self.user_pools.len()
    }

    /// Does the pool list every provider of `add` (User Pools by name and client)?
    pub fn holds_all(&self, add: &Additions) -> bool {
        add.user_pools.iter().all(|u| {
            self.user_pools
                .iter()
                .any(|p| p.provider_name == u.provider_name && p.client_id == u.client_id)
        }) && add.federated.iter().all(|f| match f {
            Federated::Oidc(arn) => self.oidc.contains(arn),
            Federated::Saml(arn) => self.saml.contains(arn),
            Federated::Login { domain, app_id } => self.login_providers.get(domain) == Some(app_id),
        })
    }

    /// Does the pool list none of these provider names (in any of its lists)?
    pub fn holds_none(&self, names: &[String]) -> bool {
        !names.iter().any(|n| {
            self.user_pools.iter().any(|p| &p.provider_name == n)
                || self.oidc.contains(n)
                || self.saml.contains(n)
                || self.login_providers.contains_key(n)
        })
    }

    /// This configuration with `add`'s providers added and everything else kept. Refused when
    /// the User Pool providers would exceed `max_user_pools`, or a login domain is already
    /// configured with another app id (that provider belongs to someone else's setup).
    pub fn with_added(&self, add: &Additions, max_user_pools: usize) -> Result<PoolConfig> {
        let mut next = self.clone();
        for u in &add.user_pools {
            let listed = next
                .user_pools
                .iter()
                .any(|p| p.provider_name == u.provider_name && p.client_id == u.client_id);
            if !listed {
                next.user_pools.push(u.clone());
            }
        }
        if next.user_pool_count() > max_user_pools {
            return Err(limit_refusal(self.user_pool_count(), max_user_pools));
        }
        for f in &add.federated {
            match f {
                Federated::Oidc(arn) if !next.oidc.contains(arn) => next.oidc.push(arn.clone()),
                Federated::Saml(arn) if !next.saml.contains(arn) => next.saml.push(arn.clone()),
                Federated::Login { domain, app_id } => match next.login_providers.get(domain) {
                    Some(existing) if existing != app_id => {
                        return Err(Error::Refused(format!(
                            "The Identity Pool already accepts {domain} with app id {existing}; \
                             it takes one app id per login provider, so {app_id} cannot be added \
                             beside it."
                        )));
                    }
                    _ => {
                        next.login_providers.insert(domain.clone(), app_id.clone());
                    }
                },
                _ => {}
            }
        }
        Ok(next)
    }

    /// This configuration without the providers named `names` (a User Pool with every client
    /// it is listed with), everything else kept.
    pub fn with_removed(&self, names: &[String]) -> PoolConfig {
        let mut next = self.clone();
        next.user_pools
            .retain(|p| !names.contains(&p.provider_name));
        next.oidc.retain(|a| !names.contains(a));
        next.saml.retain(|a| !names.contains(a));
        next.login_providers.retain(|d, _| !names.contains(d));
        next
    }
}

/// The refusal at the User Pool provider limit: what it is, where it comes from, what to do.
pub fn limit_refusal(count: usize, max: usize) -> Error {
    Error::Refused(format!(
        "The Identity Pool lists {count} User Pool providers and the limit is {max} \
         (--max-providers). Cognito's default quota is 50 User Pool providers per Identity Pool, \
         adjustable up to 1,000 in Service Quotas: raise it there first, then pass \
         --max-providers with the new quota. Beyond that, serve further tenants from a second \
         Identity Pool or a Lambda authorizer (docs/operations/tenants.md, \"Limits\")."
    ))
}

/// The Identity Pool control plane (`AWS_ENDPOINT_URL_COGNITO_IDENTITY` locally: our data-plane
/// server, which hands these calls to moto).
#[derive(Debug, Clone)]
pub struct IdentityPool {
    client: identity::Client,
    id: String,
    settle: Duration,
}

impl IdentityPool {
    pub fn new(client: identity::Client, id: String, settle: Duration) -> Self {
        IdentityPool { client, id, settle }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The same control plane for another pool of the stack.
    pub fn for_pool(&self, id: &str) -> Self {
        IdentityPool {
            client: self.client.clone(),
            id: id.to_owned(),
            settle: self.settle,
        }
    }

    /// The SDK client (creating a pool, its roles).
    pub fn client(&self) -> &identity::Client {
        &self.client
    }

    pub async fn describe(&self) -> Result<PoolConfig> {
        let out = self
            .client
            .describe_identity_pool()
            .identity_pool_id(&self.id)
            .send()
            .await
            .map_err(|e| Error::cognito("DescribeIdentityPool", e))?;
        Ok(PoolConfig::from_describe(&out))
    }

    async fn write(&self, c: &PoolConfig) -> Result<()> {
        let mut providers = Vec::with_capacity(c.user_pools.len());
        for p in &c.user_pools {
            let mut b = CognitoIdentityProvider::builder()
                .provider_name(&p.provider_name)
                .client_id(&p.client_id);
            if let Some(check) = p.server_side_token_check {
                b = b.server_side_token_check(check);
            }
            providers.push(b.build());
        }
        self.client
            .update_identity_pool()
            .identity_pool_id(&c.id)
            .identity_pool_name(&c.name)
            .allow_unauthenticated_identities(c.allow_unauthenticated)
            .set_allow_classic_flow(c.allow_classic_flow)
            .set_supported_login_providers(Some(
                c.login_providers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ))
            .set_developer_provider_name(c.developer_provider_name.clone())
            .set_open_id_connect_provider_arns(Some(c.oidc.clone()))
            .set_saml_provider_arns(Some(c.saml.clone()))
            .set_cognito_identity_providers(Some(providers))
            .set_identity_pool_tags(c.tags.clone())
            .send()
            .await
            .map_err(|e| Error::cognito("UpdateIdentityPool", e))?;
        Ok(())
    }

    /// Adds `add`'s providers, keeping every other one; the configuration that holds them.
    pub async fn add(&self, add: &Additions, max_user_pools: usize) -> Result<PoolConfig> {
        self.change(|c| c.holds_all(add), |c| c.with_added(add, max_user_pools))
            .await
    }

    /// Removes the providers named `names`, keeping every other one.
    pub async fn remove(&self, names: &[String]) -> Result<PoolConfig> {
        self.change(|c| c.holds_none(names), |c| Ok(c.with_removed(names)))
            .await
    }

    /// Read → (write what `next` makes of it, unless `done` already) → settle → read again,
    /// until a settled read shows `done`.
    async fn change(
        &self,
        done: impl Fn(&PoolConfig) -> bool,
        next: impl Fn(&PoolConfig) -> Result<PoolConfig>,
    ) -> Result<PoolConfig> {
        let pause = test_pause()?;
        let mut current = self.describe().await?;
        for attempt in 0..ATTEMPTS {
            if !done(&current) {
                let desired = next(&current)?;
                if let Some(pause) = pause {
                    tokio::time::sleep(pause).await;
                }
                let written = Instant::now();
                self.write(&desired).await?;
                // Writes that read before ours landed must have landed by now (see the module
                // comment); anything still missing then was overwritten.
                tokio::time::sleep(self.settle.saturating_sub(written.elapsed())).await;
            } else {
                // Already in place (an earlier, interrupted run wrote it): still settle once, in
                // case that run's write is younger than a concurrent writer's read.
                tokio::time::sleep(self.settle).await;
            }
            current = self.describe().await?;
            if done(&current) {
                return Ok(current);
            }
            eprintln!(
                "identity pool: another change overwrote ours (attempt {}); trying again",
                attempt + 1
            );
            tokio::time::sleep(backoff(attempt, self.settle)).await;
            current = self.describe().await?;
        }
        Err(Error::Refused(format!(
            "The Identity Pool {} kept changing under us for {ATTEMPTS} attempts; nothing is \
             lost, run the command again.",
            self.id
        )))
    }
}

/// A full-jitter wait before another try: up to settle × 2^attempt, at most 30 s.
fn backoff(attempt: u32, settle: Duration) -> Duration {
    let base = settle.max(Duration::from_millis(100));
    let cap = base
        .saturating_mul(1 << attempt.min(6))
        .min(Duration::from_secs(30));
    let ms = u64::try_from(cap.as_millis()).unwrap_or(30_000).max(1);
    Duration::from_millis(fastrand::u64(1..=ms))
}

fn test_pause() -> Result<Option<Duration>> {
    match std::env::var(TEST_PAUSE_BEFORE_UPDATE) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .map(|ms| Some(Duration::from_millis(ms)))
            .map_err(|_| Error::Usage(format!("{TEST_PAUSE_BEFORE_UPDATE} must be milliseconds"))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str, client: &str) -> UserPoolProvider {
        UserPoolProvider {
            provider_name: format!("cognito-idp.eu-central-1.amazonaws.com/eu-central-1_{name}"),
            client_id: client.into(),
            server_side_token_check: Some(true),
        }
    }

    fn pool() -> PoolConfig {
        PoolConfig {
            id: "eu-central-1:1".into(),
            name: "ids".into(),
            allow_unauthenticated: true,
            allow_classic_flow: Some(false),
            user_pools: vec![up("Acme", "c1"), up("Globex", "c2")],
            oidc: vec!["arn:aws:iam::1:oidc-provider/login.globex.example".into()],
            tags: Some(HashMap::from([("k".into(), "v".into())])),
            ..PoolConfig::default()
        }
    }

    #[test]
    fn adding_keeps_every_other_provider_flag_and_tag() {
        let add = Additions {
            user_pools: vec![up("Initech", "c3")],
            federated: vec![
                Federated::Saml("arn:aws:iam::1:saml-provider/initech".into()),
                Federated::Login {
                    domain: "login.initech.example".into(),
                    app_id: "app".into(),
                },
            ],
        };
        let before = pool();
        let after = before.with_added(&add, 50).unwrap();
        assert!(after.holds_all(&add));
        assert!(!before.holds_all(&add));
        assert_eq!(after.user_pools[..2], before.user_pools[..]);
        assert_eq!(after.oidc, before.oidc);
        assert_eq!(after.tags, before.tags);
        assert_eq!(after.allow_classic_flow, Some(false));
        // Adding again changes nothing.
        assert_eq!(after.with_added(&add, 50).unwrap(), after);
    }

    #[test]
    fn the_user_pool_limit_refuses_before_writing() {
        let add = Additions {
            user_pools: vec![up("Initech", "c3")],
            federated: vec![],
        };
        assert!(matches!(pool().with_added(&add, 2), Err(Error::Refused(m)) if m.contains("50")));
        assert!(pool().with_added(&add, 3).is_ok());
        // A pool already listed does not count twice.
        let again = Additions {
            user_pools: vec![up("Acme", "c1")],
            federated: vec![],
        };
        assert!(pool().with_added(&again, 2).is_ok());
    }

    #[test]
    fn a_login_domain_with_another_app_id_is_not_replaced() {
        let mut p = pool();
        p.login_providers
            .insert("accounts.google.com".into(), "theirs".into());
        let add = Additions {
            user_pools: vec![],
            federated: vec![Federated::Login {
                domain: "accounts.google.com".into(),
                app_id: "ours".into(),
            }],
        };
        assert!(matches!(p.with_added(&add, 50), Err(Error::Refused(_))));
    }

    #[test]
    fn removing_takes_only_the_named_providers() {
        let names = vec![up("Acme", "x").provider_name];
        let after = pool().with_removed(&names);
        assert!(after.holds_none(&names));
        assert_eq!(after.user_pools, vec![up("Globex", "c2")]);
        assert_eq!(after.oidc, pool().oidc);
    }

    #[test]
    fn federated_arguments_go_to_their_lists() {
        assert!(matches!(
            Federated::parse("arn:aws:iam::1:oidc-provider/login.x.example").unwrap(),
            Federated::Oidc(_)
        ));
        assert!(matches!(
            Federated::parse("arn:aws:iam::1:saml-provider/x").unwrap(),
            Federated::Saml(_)
        ));
        assert_eq!(
            Federated::parse("accounts.google.com=123.apps").unwrap(),
            Federated::Login {
                domain: "accounts.google.com".into(),
                app_id: "123.apps".into()
            }
        );
        for bad in [
            "accounts.google.com",
            "arn:aws:iam::1:role/x",
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_X",
            "=x",
        ] {
            assert!(Federated::parse(bad).is_err(), "{bad}");
        }
        let google = Federated::parse("accounts.google.com=1").unwrap();
        assert_eq!(
            google.key().unwrap().shared_issuer(),
            Some("accounts.google.com")
        );
    }

    #[test]
    fn backoff_is_jittered_and_bounded() {
        for attempt in 0..20 {
            let d = backoff(attempt, Duration::from_millis(300));
            assert!(d >= Duration::from_millis(1) && d <= Duration::from_secs(30));
        }
    }
}
