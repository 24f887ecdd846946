//! A tenant's User Pool, app client and first user (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`
//! locally: moto). Every call here is safe to repeat: a pool is found again by its tags, a
//! client by its name, a user by its email.

use aws_sdk_cognitoidentityprovider as idp;
use idp::types::{
    AdminCreateUserConfigType, AttributeType, DeletionProtectionType, DeliveryMediumType,
    EmailConfigurationType, EmailSendingAccountType, ExplicitAuthFlowsType, MessageActionType,
    PasswordPolicyType, PreventUserExistenceErrorTypes, SoftwareTokenMfaConfigType, TimeUnitsType,
    TokenValidityUnitsType, UserAttributeUpdateSettingsType, UserPoolMfaType, UserPoolPolicyType,
    UsernameAttributeType, VerifiedAttributeType,
};
use shared::pool_settings::{
    CLIENT, EmailSender, IDENTITY_POOL_TAG, Mfa, PoolOptions, TENANT_TAG, USER_POOL,
};
use shared::tenancy::TenantId;

use crate::error::{Error, Result};

/// ListUserPools / ListUserPoolClients page size (the API's maximum).
const PAGE: i32 = 60;

/// A tenant's pool as onboard found or made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPool {
    pub id: String,
    pub name: String,
}

/// How [`UserPools::find`] found the tenant's pool, for the reports: `registry` (one
/// DescribeUserPool per registered pool) or `tags` (the fallback that describes every pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lookup {
    pub via: &'static str,
    pub cognito_calls: u32,
}

/// A user of a pool as `remove-user` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUser {
    pub sub: String,
    pub enabled: bool,
}

/// The tenant's first user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstUser {
    pub sub: String,
    /// False when the user existed already (a resumed run).
    pub created: bool,
}

/// How the first user gets their temporary password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitation {
    /// Cognito emails an invitation with a password it generates (AWS; the default).
    Email,
    /// This password, not emailed (the operator hands it over; the local stack).
    Password(String),
}

#[derive(Debug, Clone)]
pub struct UserPools {
    client: idp::Client,
    region: String,
}

impl UserPools {
    pub fn new(client: idp::Client, region: String) -> Self {
        UserPools { client, region }
    }

    /// `cognito-idp.<region>.amazonaws.com/<poolId>`: the pool's name in the Identity Pool and
    /// its provider key in the registry.
    pub fn provider_name(&self, pool_id: &str) -> String {
        format!("cognito-idp.{}.amazonaws.com/{pool_id}", self.region)
    }

    /// The User Pool ids among provider keys (`cognito-idp.<region>.amazonaws.com/<poolId>`).
    pub fn pool_ids(providers: &[String]) -> Vec<String> {
        providers
            .iter()
            .filter_map(|k| {
                k.strip_prefix("cognito-idp.")
                    .and_then(|rest| rest.split_once(".amazonaws.com/"))
                    .map(|(_, id)| id.to_owned())
            })
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .collect()
    }

    /// The tenant's pool: the one tagged `tenant=<id>` and `identity-pool=<identityPoolId>`.
    ///
    /// First through the registry: `registered` are the provider keys the registry maps to the
    /// tenant, so its pool is one DescribeUserPool away (the tags confirm it is the pool onboard
    /// made for this tenant and this Identity Pool). Only when the registry names no such pool
    /// (onboard adopting a pool it created before it registered it; an offboard resumed past its
    /// registry step) does it search by tags, which describes every pool of the account: one
    /// ListUserPools per 60 pools and one DescribeUserPool per pool, for every command, with a
    /// throttled DescribeUserPool quota. More than one tagged pool is an error an operator must
    /// resolve (onboard reconciles a duplicate of its own: [`UserPools::converge`]).
    pub async fn find(
        &self,
        tenant: &TenantId,
        identity_pools: &[String],
        registered: &[String],
    ) -> Result<(Option<TenantPool>, Lookup)> {
        let (mut found, lookup) = self.find_all(tenant, identity_pools, registered).await?;
        match found.len() {
            0 => Ok((None, lookup)),
            1 => Ok((found.pop(), lookup)),
            _ => Err(duplicates(tenant, &identity_pools.join("|"), &found)),
        }
    }

    /// Every pool [`find`](Self::find) would consider the tenant's: tagged for the tenant and
    /// for one of `identity_pools` (this stack's pools, never another stack's `tenant` tag).
    pub async fn find_all(
        &self,
        tenant: &TenantId,
        identity_pools: &[String],
        registered: &[String],
    ) -> Result<(Vec<TenantPool>, Lookup)> {
        let mut lookup = Lookup {
            via: "registry",
            cognito_calls: 0,
        };
        let mut found = Vec::new();
        for id in Self::pool_ids(registered) {
            lookup.cognito_calls += 1;
            if let Some(p) = self.tagged(&id, tenant, identity_pools).await? {
                found.push(p);
            }
        }
        if found.is_empty() {
            lookup.via = "tags";
            found = self
                .find_by_tags(tenant, identity_pools, &mut lookup.cognito_calls)
                .await?;
        }
        Ok((found, lookup))
    }

    /// Onboard's step 1 when several pools are tagged for the tenant: what a run killed while
    /// `CreateUserPool` was in flight leaves when a rerun started at once (it found no pool, and
    /// both created one). Keeps the pool the registry names, else the oldest, and deletes the
    /// others — only if they hold no user (onboard creates the first user after step 1, so a
    /// duplicate of its own is empty); one with users is left for the operator, refused. The
    /// pool kept and the ids deleted.
    pub async fn converge(
        &self,
        tenant: &TenantId,
        identity_pool: &str,
        mut pools: Vec<TenantPool>,
        registered: &[String],
    ) -> Result<(TenantPool, Vec<String>)> {
        let named = Self::pool_ids(registered);
        let mut dated = Vec::new();
        for p in pools.drain(..) {
            let created = self
                .client
                .describe_user_pool()
                .user_pool_id(&p.id)
                .send()
                .await
                .map_err(|e| Error::cognito("DescribeUserPool", e))?
                .user_pool()
                .and_then(|d| d.creation_date())
                .map(|d| (d.secs(), d.subsec_nanos()));
            dated.push((!named.contains(&p.id), created, p));
        }
        // Registered first, then the oldest (a pool with no date last), then by id: every run
        // that races here picks the same one.
        dated.sort_by(|a, b| {
            (a.0, a.1.is_none(), a.1, &a.2.id).cmp(&(b.0, b.1.is_none(), b.1, &b.2.id))
        });
        let mut rest = dated.into_iter().map(|(_, _, p)| p);
        let Some(keep) = rest.next() else {
            return Err(Error::Refused(format!(
                "no User Pool is tagged for tenant {tenant}"
            )));
        };
        let mut deleted = Vec::new();
        for p in rest {
            let users = self
                .client
                .list_users()
                .user_pool_id(&p.id)
                .limit(1)
                .send()
                .await
                .map_err(|e| Error::cognito("ListUsers", e))?;
            if !users.users().is_empty() {
                return Err(Error::Refused(format!(
                    "{} and {} are both tagged {TENANT_TAG}={tenant}, \
                     {IDENTITY_POOL_TAG}={identity_pool}, and {} has users, so onboard will \
                     not delete it: remove the tags from the pool that is not the tenant's, then \
                     run again.",
                    keep.id, p.id, p.id
                )));
            }
            eprintln!(
                "user pool {} duplicates {} for tenant {tenant} (an interrupted onboard): empty, deleted",
                p.id, keep.id
            );
            self.delete(&p.id).await?;
            deleted.push(p.id);
        }
        Ok((keep, deleted))
    }

    /// The pool `id` if it exists and is tagged for `tenant` and one of `identity_pools`.
    async fn tagged(
        &self,
        id: &str,
        tenant: &TenantId,
        identity_pools: &[String],
    ) -> Result<Option<TenantPool>> {
        let described = match self
            .client
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
        {
            Ok(d) => d,
            // Deleted (between a list and the describe, or since it was registered).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(Error::cognito("DescribeUserPool", e)),
        };
        let Some(pool) = described.user_pool() else {
            return Ok(None);
        };
        let tags = pool.user_pool_tags();
        let tag = |k: &str| tags.and_then(|t| t.get(k)).map(String::as_str);
        // Both tags: the tenant's alone would match another stack's pool for the same tenant id
        // in this account and Region.
        Ok((tag(TENANT_TAG) == Some(tenant.as_str())
            && tag(IDENTITY_POOL_TAG).is_some_and(|ip| identity_pools.iter().any(|p| p == ip)))
        .then(|| TenantPool {
            id: id.to_owned(),
            name: pool.name().unwrap_or_default().to_owned(),
        }))
    }

    /// Every pool of the account tagged for the tenant (ListUserPools carries no tags, so each
    /// pool is described); `calls` counts the Cognito calls made.
    async fn find_by_tags(
        &self,
        tenant: &TenantId,
        identity_pools: &[String],
        calls: &mut u32,
    ) -> Result<Vec<TenantPool>> {
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        loop {
            *calls += 1;
            let page = self
                .client
                .list_user_pools()
                .max_results(PAGE)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| Error::cognito("ListUserPools", e))?;
            for p in page.user_pools() {
                let Some(id) = p.id() else { continue };
                *calls += 1;
                if let Some(pool) = self.tagged(id, tenant, identity_pools).await? {
                    found.push(pool);
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => return Ok(found),
            }
        }
    }

    /// Creates the tenant's pool with [`USER_POOL`]'s settings and `options`' e-mail sender,
    /// tagged in the same call (so a pool that exists is always findable). MFA starts `OFF`:
    /// Cognito turns TOTP on with [`UserPools::set_mfa`], which onboard calls next.
    pub async fn create(
        &self,
        tenant: &TenantId,
        identity_pool: &str,
        name: &str,
        options: &PoolOptions,
    ) -> Result<TenantPool> {
        let out = create_request(&self.client, name, options)
            .user_pool_tags(TENANT_TAG, tenant.as_str())
            .user_pool_tags(IDENTITY_POOL_TAG, identity_pool)
            .send()
            .await
            .map_err(|e| Error::cognito("CreateUserPool", e))?;
        let id = out
            .user_pool()
            .and_then(|p| p.id())
            .ok_or_else(|| Error::Cognito {
                op: "CreateUserPool",
                code: None,
                detail: "the answer has no pool id".into(),
            })?;
        Ok(TenantPool {
            id: id.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Gives the pool `mfa` (TOTP as the factor): `SetUserPoolMfaConfig`, safe to repeat.
    pub async fn set_mfa(&self, pool_id: &str, mfa: Mfa) -> Result<()> {
        mfa_request(&self.client, pool_id, mfa)
            .send()
            .await
            .map_err(|e| Error::cognito("SetUserPoolMfaConfig", e))?;
        Ok(())
    }

    /// The pool's `MfaConfiguration` as Cognito reports it.
    pub async fn mfa(&self, pool_id: &str) -> Result<Option<Mfa>> {
        let out = self
            .client
            .get_user_pool_mfa_config()
            .user_pool_id(pool_id)
            .send()
            .await
            .map_err(|e| Error::cognito("GetUserPoolMfaConfig", e))?;
        Ok(out
            .mfa_configuration()
            .and_then(|m| Mfa::from_cognito(m.as_str())))
    }

    /// The pool's app client named [`CLIENT`]`.client_name`, created with [`CLIENT`]'s settings
    /// if there is none; (client id, created?).
    pub async fn ensure_client(&self, pool_id: &str) -> Result<(String, bool)> {
        match self.find_client(pool_id).await? {
            Some(id) => Ok((id, false)),
            None => Ok((self.create_client(pool_id).await?, true)),
        }
    }

    /// The id of the pool's app client named [`CLIENT`]`.client_name`, if it has one.
    pub async fn find_client(&self, pool_id: &str) -> Result<Option<String>> {
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .list_user_pool_clients()
                .user_pool_id(pool_id)
                .max_results(PAGE)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| Error::cognito("ListUserPoolClients", e))?;
            if let Some(c) = page
                .user_pool_clients()
                .iter()
                .find(|c| c.client_name() == Some(CLIENT.client_name))
                && let Some(id) = c.client_id()
            {
                return Ok(Some(id.to_owned()));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    async fn create_client(&self, pool_id: &str) -> Result<String> {
        let out = self
            .client
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(CLIENT.client_name)
            .generate_secret(CLIENT.generate_secret)
            .set_explicit_auth_flows(Some(
                CLIENT
                    .explicit_auth_flows
                    .iter()
                    .map(|f| ExplicitAuthFlowsType::from(*f))
                    .collect(),
            ))
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::from(
                CLIENT.prevent_user_existence_errors,
            ))
            .access_token_validity(CLIENT.access_token_validity_minutes)
            .id_token_validity(CLIENT.id_token_validity_minutes)
            .refresh_token_validity(CLIENT.refresh_token_validity_days)
            .token_validity_units(
                TokenValidityUnitsType::builder()
                    .access_token(TimeUnitsType::Minutes)
                    .id_token(TimeUnitsType::Minutes)
                    .refresh_token(TimeUnitsType::Days)
                    .build(),
            )
            .enable_token_revocation(CLIENT.enable_token_revocation)
            .send()
            .await
            .map_err(|e| Error::cognito("CreateUserPoolClient", e))?;
        let id = out
            .user_pool_client()
            .and_then(|c| c.client_id())
            .ok_or_else(|| Error::Cognito {
                op: "CreateUserPoolClient",
                code: None,
                detail: "the answer has no client id".into(),
            })?;
        Ok(id.to_owned())
    }

    /// Creates the first user (email as username, verified) or finds them; their `sub`.
    pub async fn ensure_user(
        &self,
        pool_id: &str,
        email: &str,
        invitation: &Invitation,
    ) -> Result<FirstUser> {
        let attr = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| Error::Usage(format!("user attribute {name}: {e}")))
        };
        let mut req = self
            .client
            .admin_create_user()
            .user_pool_id(pool_id)
            .username(email)
            .user_attributes(attr("email", email)?)
            .user_attributes(attr("email_verified", "true")?)
            .desired_delivery_mediums(DeliveryMediumType::Email);
        if let Invitation::Password(p) = invitation {
            req = req
                .temporary_password(p)
                .message_action(MessageActionType::Suppress);
        }
        match req.send().await {
            Ok(out) => {
                let sub = out
                    .user()
                    .and_then(|u| u.attributes().iter().find(|a| a.name() == "sub"))
                    .and_then(|a| a.value())
                    .map(str::to_owned);
                match sub {
                    Some(sub) => Ok(FirstUser { sub, created: true }),
                    None => Ok(FirstUser {
                        sub: self.sub_of(pool_id, email).await?,
                        created: true,
                    }),
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_username_exists_exception()) =>
            {
                Ok(FirstUser {
                    sub: self.sub_of(pool_id, email).await?,
                    created: false,
                })
            }
            Err(e) => Err(Error::cognito("AdminCreateUser", e)),
        }
    }

    async fn sub_of(&self, pool_id: &str, email: &str) -> Result<String> {
        let out = self
            .client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(email)
            .send()
            .await
            .map_err(|e| Error::cognito("AdminGetUser", e))?;
        out.user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .map(str::to_owned)
            .ok_or_else(|| Error::Cognito {
                op: "AdminGetUser",
                code: None,
                detail: format!("{email} has no sub attribute"),
            })
    }

    /// The user `username` of the pool (its `sub` and whether it is enabled), or `None` when the
    /// pool has no such user (never created, or already deleted).
    pub async fn user(&self, pool_id: &str, username: &str) -> Result<Option<PoolUser>> {
        let out = match self
            .client
            .admin_get_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_user_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(Error::cognito("AdminGetUser", e)),
        };
        let sub = out
            .user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .map(str::to_owned)
            .ok_or_else(|| Error::Cognito {
                op: "AdminGetUser",
                code: None,
                detail: format!("{username} has no sub attribute"),
            })?;
        Ok(Some(PoolUser {
            sub,
            enabled: out.enabled(),
        }))
    }

    /// AdminDisableUser: the user can no longer sign in (refresh included). Repeatable.
    pub async fn disable_user(&self, pool_id: &str, username: &str) -> Result<()> {
        self.client
            .admin_disable_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| Error::cognito("AdminDisableUser", e))?;
        Ok(())
    }

    /// AdminUserGlobalSignOut: revokes every refresh token the user holds, so no new id token
    /// (and so no new Identity Pool credentials) comes from an existing session. Repeatable.
    pub async fn sign_out_user(&self, pool_id: &str, username: &str) -> Result<()> {
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
            .map_err(|e| Error::cognito("AdminUserGlobalSignOut", e))?;
        Ok(())
    }

    /// AdminDeleteUser; a user already gone is not an error.
    pub async fn delete_user(&self, pool_id: &str, username: &str) -> Result<bool> {
        match self
            .client
            .admin_delete_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_user_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(Error::cognito("AdminDeleteUser", e)),
        }
    }

    /// Deletes the pool: deletion protection off (with the pool's own settings sent again,
    /// because UpdateUserPool resets whatever it is not given), then DeleteUserPool.
    pub async fn delete(&self, pool_id: &str) -> Result<()> {
        self.client
            .update_user_pool()
            .user_pool_id(pool_id)
            .deletion_protection(DeletionProtectionType::Inactive)
            .set_auto_verified_attributes(Some(auto_verified_attributes()))
            .admin_create_user_config(admin_create_user_config())
            .policies(pool_policies())
            .send()
            .await
            .map_err(|e| Error::cognito("UpdateUserPool", e))?;
        match self
            .client
            .delete_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::cognito("DeleteUserPool", e)),
        }
    }
}

/// The `CreateUserPool` request of [`USER_POOL`] with `options`' e-mail sender (without tags):
/// [`USER_POOL`]`.create_input` as SDK calls, built apart from sending so a test can read it.
pub fn create_request(
    client: &idp::Client,
    name: &str,
    options: &PoolOptions,
) -> idp::operation::create_user_pool::builders::CreateUserPoolFluentBuilder {
    let update_settings = UserAttributeUpdateSettingsType::builder()
        .set_attributes_require_verification_before_update(Some(
            USER_POOL
                .attributes_require_verification_before_update
                .iter()
                .map(|a| VerifiedAttributeType::from(*a))
                .collect(),
        ))
        .build();
    client
        .create_user_pool()
        .pool_name(name)
        .deletion_protection(DeletionProtectionType::from(USER_POOL.deletion_protection))
        .set_username_attributes(Some(
            USER_POOL
                .username_attributes
                .iter()
                .map(|a| UsernameAttributeType::from(*a))
                .collect(),
        ))
        .set_auto_verified_attributes(Some(auto_verified_attributes()))
        .admin_create_user_config(admin_create_user_config())
        .policies(pool_policies())
        .user_attribute_update_settings(update_settings)
        .mfa_configuration(UserPoolMfaType::Off)
        .email_configuration(email_configuration(&options.email))
}

// The settings CreateUserPool gives a pool, and UpdateUserPool must send again (it resets
// whatever it is not given): built once here for both.
fn auto_verified_attributes() -> Vec<VerifiedAttributeType> {
    USER_POOL
        .auto_verified_attributes
        .iter()
        .map(|a| VerifiedAttributeType::from(*a))
        .collect()
}

fn admin_create_user_config() -> AdminCreateUserConfigType {
    AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(USER_POOL.allow_admin_create_user_only)
        .build()
}

fn pool_policies() -> UserPoolPolicyType {
    let p = &USER_POOL.password_policy;
    UserPoolPolicyType::builder()
        .password_policy(
            PasswordPolicyType::builder()
                .minimum_length(p.minimum_length)
                .require_lowercase(p.require_lowercase)
                .require_uppercase(p.require_uppercase)
                .require_numbers(p.require_numbers)
                .require_symbols(p.require_symbols)
                .temporary_password_validity_days(p.temporary_password_validity_days)
                .build(),
        )
        .build()
}

/// `EmailConfiguration` of [`EmailSender`] (= its `email_configuration()` JSON).
fn email_configuration(email: &EmailSender) -> EmailConfigurationType {
    match email {
        EmailSender::CognitoDefault => EmailConfigurationType::builder()
            .email_sending_account(EmailSendingAccountType::CognitoDefault)
            .build(),
        EmailSender::Ses { source_arn, from } => EmailConfigurationType::builder()
            .email_sending_account(EmailSendingAccountType::Developer)
            .source_arn(source_arn)
            .set_from(from.clone())
            .build(),
    }
}

/// The `SetUserPoolMfaConfig` request that gives a pool `mfa` (= `mfa_config_input(mfa)`).
pub fn mfa_request(
    client: &idp::Client,
    pool_id: &str,
    mfa: Mfa,
) -> idp::operation::set_user_pool_mfa_config::builders::SetUserPoolMfaConfigFluentBuilder {
    let req = client
        .set_user_pool_mfa_config()
        .user_pool_id(pool_id)
        .mfa_configuration(UserPoolMfaType::from(mfa.cognito()));
    match mfa {
        Mfa::Off => req,
        Mfa::Optional | Mfa::Required => req.software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        ),
    }
}

/// A temporary password that meets [`USER_POOL`]'s policy: 20 characters from each required
/// class, shuffled.
/// The refusal for more than one pool tagged as the tenant's.
fn duplicates(tenant: &TenantId, identity_pool: &str, found: &[TenantPool]) -> Error {
    Error::Refused(format!(
        "{} User Pools are tagged {TENANT_TAG}={tenant}, {IDENTITY_POOL_TAG}={identity_pool}: {}. \
         Remove the tags from all but the tenant's pool, then run again (tenantctl onboard \
         reconciles an empty duplicate of its own).",
        found.len(),
        found
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

pub fn generate_temporary_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.!";
    let pick = |set: &[u8]| char::from(set[fastrand::usize(..set.len())]);
    let mut chars: Vec<char> = vec![pick(LOWER), pick(UPPER), pick(DIGIT), pick(SYMBOL)];
    let all: Vec<u8> = [LOWER, UPPER, DIGIT].concat();
    while chars.len() < 20 {
        chars.push(pick(&all));
    }
    fastrand::shuffle(&mut chars);
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A client that is never sent anything: the requests below are only built.
    fn client() -> idp::Client {
        idp::Client::from_conf(
            idp::Config::builder()
                .behavior_version(idp::config::BehaviorVersion::latest())
                .region(idp::config::Region::new("eu-central-1"))
                .build(),
        )
    }

    #[test]
    fn create_user_pool_carries_the_shared_settings_and_the_email_sender() {
        let ses = EmailSender::Ses {
            source_arn: "arn:aws:ses:eu-central-1:123456789012:identity/example.com".into(),
            from: Some("Notes <no-reply@example.com>".into()),
        };
        for options in [
            PoolOptions::default(),
            PoolOptions {
                mfa: Mfa::Required,
                email: ses,
            },
        ] {
            let want = USER_POOL.create_input(&options);
            let c = client();
            let req = create_request(&c, "notes-initech", &options);
            let input = req.as_input();
            let update = input.get_user_attribute_update_settings().as_ref().unwrap();
            let got_update: Vec<&str> = update
                .attributes_require_verification_before_update()
                .iter()
                .map(|a| a.as_str())
                .collect();
            assert_eq!(
                json!({"AttributesRequireVerificationBeforeUpdate": got_update}),
                want["UserAttributeUpdateSettings"]
            );
            assert_eq!(
                input.get_mfa_configuration().as_ref().map(|m| m.as_str()),
                want["MfaConfiguration"].as_str()
            );
            let email = input.get_email_configuration().as_ref().unwrap();
            let mut got_email = json!({
                "EmailSendingAccount": email.email_sending_account().map(|a| a.as_str()),
            });
            if let Some(arn) = email.source_arn() {
                got_email["SourceArn"] = json!(arn);
            }
            if let Some(from) = email.from() {
                got_email["From"] = json!(from);
            }
            assert_eq!(got_email, want["EmailConfiguration"], "{options:?}");
            assert_eq!(
                input
                    .get_policies()
                    .as_ref()
                    .and_then(|p| p.password_policy())
                    .map(|p| p.minimum_length()),
                Some(Some(USER_POOL.password_policy.minimum_length))
            );
        }
    }

    #[test]
    fn set_user_pool_mfa_config_turns_totp_on_for_optional_and_required() {
        for mfa in [Mfa::Off, Mfa::Optional, Mfa::Required] {
            let want = shared::pool_settings::mfa_config_input(mfa);
            let c = client();
            let req = mfa_request(&c, "eu-central-1_x", mfa);
            let input = req.as_input();
            let mut got = json!({
                "MfaConfiguration": input.get_mfa_configuration().as_ref().map(|m| m.as_str()),
            });
            if let Some(t) = input.get_software_token_mfa_configuration() {
                got["SoftwareTokenMfaConfiguration"] = json!({"Enabled": t.enabled()});
            }
            assert_eq!(got, want, "{mfa:?}");
            assert!(input.get_sms_mfa_configuration().is_none(), "TOTP only");
        }
    }

    #[test]
    fn pool_ids_come_from_user_pool_provider_keys_only() {
        let keys = [
            "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Abc".to_owned(),
            "accounts.google.com".to_owned(),
            "arn:aws:iam::1:oidc-provider/login.x.example".to_owned(),
            "cognito-idp.eu-central-1.amazonaws.com/".to_owned(),
        ];
        assert_eq!(UserPools::pool_ids(&keys), vec!["eu-central-1_Abc"]);
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        for _ in 0..200 {
            let p = generate_temporary_password();
            assert!(shared::pool_settings::meets_password_policy(&p), "{p}");
        }
    }
}
