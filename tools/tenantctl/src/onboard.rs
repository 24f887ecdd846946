//! `tenantctl onboard`: a tenant from nothing to signed-in admin, in six resumable steps.
//!
//! 1. user pool    find the pool tagged `tenant=<id>`, `identity-pool=<id>` (through the
//!    registry's provider keys once registered, else by the tags), or create it
//! 2. app client   find the pool's `web` client, or create it
//! 3. identity pool  list the pool (and `--federated` providers) in the Identity Pool
//! 4. registry     map each provider key to the tenant (created ACTIVE)
//! 5. first admin  create the first user (or find them)
//! 6. admin grant  record them as the tenant's pending admin: their first call makes them ADMIN
//!
//! Every step looks before it acts, so a run stopped between any two steps (killed, or by the
//! test hook) finishes the job when run again, without a second pool, client, user or mapping.
//!
//! Why a pending admin: `grant-admin` needs the admin's Identity Pool identity id, and Cognito
//! creates that id only at their first sign-in. The User Pool user is known now — (pool, sub) —
//! and every call they make carries it (`cognitoIdentityAuthProvider` ends in
//! `:CognitoSignIn:<sub>`). So onboard records (provider, sub) on the tenant's registry item, and
//! the functions make the caller whose provider and sub match ADMIN on their first call, once:
//! only while the tenant has no ADMIN yet.

use std::collections::BTreeSet;

use serde::Serialize;
use shared::identity::ProviderKey;
use shared::pool_settings::{Mfa, PoolOptions, SERVER_SIDE_TOKEN_CHECK};
use shared::store::admin::RegistryEntry;
use shared::tenancy::{PendingAdmin, TenantId};

use crate::Ctx;
use crate::error::{Error, Result};
use crate::identity_pool::{Additions, Federated, UserPoolProvider, limit_refusal};
use crate::placement;
use crate::steps::{StepReport, Steps};
use crate::user_pools::{Invitation, Lookup, generate_temporary_password};
use shared::store::admin::UserPoolRecord;

/// What `onboard` was asked to do, checked before any step runs.
#[derive(Debug, Clone)]
pub struct Request {
    pub tenant: TenantId,
    pub name: String,
    pub admin_email: String,
    pub federated: Vec<Federated>,
    pub invitation: Invitation,
    /// The password was generated here, so the report must show it.
    pub generated_password: bool,
    pub max_providers: usize,
    pub pool_name: String,
    /// What a pool onboard creates gets (`--mfa`, `--email-identity-arn`, `--email-from`).
    pub pool_options: PoolOptions,
    /// `--mfa` as given: applied to a pool that exists already too (how a tenant's MFA is
    /// changed later). Without it a found pool keeps its own (the template's pools: their
    /// `TenantPoolMfa` parameter).
    pub mfa: Option<Mfa>,
}

impl Request {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        tenant_id: &str,
        name: &str,
        admin_email: &str,
        federated: &[String],
        shared_issuer: bool,
        temporary_password: Option<String>,
        generate_password: bool,
        max_providers: usize,
        pool_name: Option<String>,
    ) -> Result<Self> {
        let tenant = TenantId::parse(tenant_id)?;
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(Error::Usage("--name must be 1-200 characters.".into()));
        }
        if !plausible_email(admin_email) {
            return Err(Error::Usage(format!(
                "--admin-email {admin_email:?} is not an email address"
            )));
        }
        let federated = federated
            .iter()
            .map(|f| Federated::parse(f))
            .collect::<Result<Vec<_>>>()?;
        for f in &federated {
            let key = f.key()?;
            if let Some(issuer) = key.shared_issuer()
                && !shared_issuer
            {
                return Err(Error::Refused(format!(
                    "{issuer} is the same provider key for every account it signs in: \
                     registering it would admit all of them to tenant {tenant}. Federate it \
                     through the tenant's own User Pool (a User Pool identity provider), or pass \
                     --shared-issuer if every {issuer} account really belongs to this tenant."
                )));
            }
        }
        let (invitation, generated_password) = match (temporary_password, generate_password) {
            (Some(_), true) => {
                return Err(Error::Usage(
                    "give --temporary-password or --generate-temporary-password, not both".into(),
                ));
            }
            (Some(p), false) => {
                if !shared::pool_settings::meets_password_policy(&p) {
                    return Err(Error::Usage(
                        "--temporary-password does not meet the pool's password policy (12+ \
                         characters with lower case, upper case and a digit)"
                            .into(),
                    ));
                }
                (Invitation::Password(p), false)
            }
            (None, true) => (Invitation::Password(generate_temporary_password()), true),
            (None, false) => (Invitation::Email, false),
        };
        if max_providers == 0 {
            return Err(Error::Usage("--max-providers must be at least 1".into()));
        }
        let pool_name = pool_name.unwrap_or_else(|| format!("notes-{tenant}"));
        Ok(Request {
            tenant,
            name: name.trim().to_owned(),
            admin_email: admin_email.to_owned(),
            federated,
            invitation,
            generated_password,
            max_providers,
            pool_name,
            pool_options: PoolOptions::default(),
            mfa: None,
        })
    }

    /// The pool settings of `--mfa` (None: not given) and the e-mail sender.
    pub fn with_pool_options(
        mut self,
        mfa: Option<Mfa>,
        email: shared::pool_settings::EmailSender,
    ) -> Self {
        self.pool_options = PoolOptions {
            mfa: mfa.unwrap_or_default(),
            email,
        };
        self.mfa = mfa;
        self
    }
}

/// A sanity check, not RFC 5322: Cognito has the final word.
fn plausible_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                && !domain.ends_with('.')
    ) && e.len() <= 254
        && !e.chars().any(char::is_whitespace)
}

/// What onboard did, and the tenant's front-end configuration.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tenant_id: String,
    pub name: String,
    pub region: String,
    pub identity_pool_id: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    /// The pool's `MfaConfiguration` (`OFF`, `OPTIONAL`, `ON`) after step 1.
    pub user_pool_mfa: Option<&'static str>,
    pub provider_key: String,
    /// How step 1 looked for the pool: through the registry, or by the tag search.
    pub user_pool_lookup: Lookup,
    pub federated: Vec<String>,
    pub admin: AdminReport,
    pub identity_pool: ProviderCount,
    /// How the tenant got its Identity Pool: `bound` (the registry's), `placed` (by this run),
    /// `placed before` (a rerun).
    pub identity_pool_placement: &'static str,
    /// The Identity Pool this run created because every pool was full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_identity_pool: Option<String>,
    /// The AWS calls this run made, `service:Operation` → attempts (constant per onboarding
    /// however many tenants and pools there are; more when it creates a pool).
    pub aws_calls: std::collections::BTreeMap<String, u64>,
    pub steps: Vec<StepReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminReport {
    pub email: String,
    pub sub: String,
    pub created: bool,
    /// How the admin learns their first password.
    pub invitation: &'static str,
    /// Only when onboard generated it (`--generate-temporary-password`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
    pub role: &'static str,
}

/// How full the Identity Pool is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCount {
    pub user_pool_providers: usize,
    pub max_providers: usize,
}

pub async fn run(ctx: &Ctx, req: &Request) -> Result<Report> {
    let mut steps = Steps::new(6)?;

    // Before anything is made: a tenant onboarded before may only be onboarded again by the same
    // operation (a rerun finishing an interrupted one), never renamed or handed to another
    // admin by a typo. One read of the tenant's registry item, however many tenants there are.
    let entry = ctx.db.registry_entry(&req.tenant).await?;
    if let Some(entry) = &entry {
        check_same_operation(entry, req)?;
    }
    let registered: Vec<String> = entry
        .as_ref()
        .map(|e| e.providers.iter().map(|p| p.as_str().to_owned()).collect())
        .unwrap_or_default();

    // Which Identity Pool: the one the registry binds the tenant to; else the one it was placed
    // in (a rerun); a tenant registered before pools were counted is in the first; a new tenant
    // goes into the oldest pool with room, a new pool when every one is full.
    let bound = match entry.as_ref() {
        Some(e) => match &e.tenant.identity_pool_id {
            Some(id) => Some(id.clone()),
            None => Some(
                ctx.db
                    .pools_placement(&req.tenant)
                    .await?
                    .unwrap_or_else(|| ctx.identity.id().to_owned()),
            ),
        },
        None => None,
    };
    let capacity = u32::try_from(req.max_providers).unwrap_or(u32::MAX);
    let placed = placement::place(ctx, &req.tenant, bound.as_deref(), capacity).await?;
    let identity = &placed.pool;
    let identity_pool_id = identity.id().to_owned();
    // Placed by this run: no earlier run got as far as creating a User Pool for the tenant, so
    // there is nothing to search for (the tag search describes every pool of the account).
    let fresh = placed.how == "placed" && registered.is_empty();
    eprintln!(
        "identity pool {identity_pool_id}: {}{}",
        placed.how,
        placed
            .created
            .as_ref()
            .map_or(String::new(), |id| format!(" (created {id} for it)"))
    );

    // The tenant's User Pool: through the registry once step 4 of a run registered it. Before
    // that, a rerun searches by its tags (describing every pool of the account: a run stopped
    // while CreateUserPool was in flight leaves a pool nothing names), and keeps the one step 1
    // recorded on the placement if there are several. A tenant this run placed has none yet.
    let this_stack = [identity_pool_id.clone()];
    let recorded = if fresh || !registered.is_empty() {
        None
    } else {
        ctx.db.pools_placed_user_pool(&req.tenant).await?
    };
    // The pools a duplicate is judged against: the registry's, else the recorded one.
    let named: Vec<String> = match &recorded {
        Some(id) if registered.is_empty() => vec![ctx.pools.provider_name(id)],
        _ => registered.clone(),
    };
    let (found, lookup) = if fresh {
        (
            Vec::new(),
            Lookup {
                via: "placement",
                cognito_calls: 0,
            },
        )
    } else {
        ctx.pools
            .find_all(&req.tenant, &this_stack, &registered)
            .await?
    };
    // Two pools for the tenant: a run killed while CreateUserPool was in flight, rerun at once.
    let existing = match found.len() {
        0 => None,
        1 => found.into_iter().next(),
        _ => {
            let (keep, _) = ctx
                .pools
                .converge(&req.tenant, &identity_pool_id, found, &named)
                .await?;
            Some(keep)
        }
    };
    let config = identity.describe().await?;
    let already_listed = existing.as_ref().is_some_and(|p| {
        let name = ctx.pools.provider_name(&p.id);
        config.user_pools.iter().any(|u| u.provider_name == name)
    });
    eprintln!(
        "identity pool {identity_pool_id}: {} of at most {} User Pool providers",
        config.user_pool_count(),
        req.max_providers
    );
    if !already_listed && config.user_pool_count() >= req.max_providers {
        if placed.how != "bound" && existing.is_none() {
            // The registry counted room this pool does not have (providers listed outside
            // tenantctl, or counted at a larger capacity): the slot goes back, the pool is
            // recounted (so it is no longer offered), and the next run places the tenant again.
            let listed = u32::try_from(config.user_pool_count()).unwrap_or(u32::MAX);
            ctx.db.pools_release(&req.tenant).await?;
            ctx.db
                .pools_recount(&identity_pool_id, listed, capacity)
                .await?;
            return Err(Error::Refused(format!(
                "Identity Pool {identity_pool_id} lists {listed} User Pool providers, though the \
                 registry counted room in it for tenant {}: recounted; run onboard again (it \
                 places the tenant in a pool with room).",
                req.tenant
            )));
        }
        return Err(limit_refusal(config.user_pool_count(), req.max_providers));
    }

    // 1. user pool (and its MFA: Cognito sets TOTP apart from CreateUserPool)
    let (pool, mfa) = match existing {
        Some(p) => {
            let mfa = match req.mfa {
                Some(m) => {
                    ctx.pools.set_mfa(&p.id, m).await?;
                    Some(m)
                }
                None => ctx.pools.mfa(&p.id).await?,
            };
            steps.finish(
                1,
                "user pool",
                format!(
                    "found {} ({}) {} ({} Cognito calls); MFA {}",
                    p.id,
                    p.name,
                    if lookup.via == "registry" {
                        "through the registry"
                    } else {
                        "by its tags"
                    },
                    lookup.cognito_calls,
                    mfa.map_or("unknown", Mfa::cognito)
                ),
            )?;
            (p, mfa)
        }
        None => {
            let created = ctx
                .pools
                .create(
                    &req.tenant,
                    &identity_pool_id,
                    &req.pool_name,
                    &req.pool_options,
                )
                .await?;
            // Another run of this onboarding (one killed with its create in flight, or started
            // at the same time) may have made a pool as well. The placement keeps the first one
            // recorded: a run whose pool came second deletes its own (empty: no user yet) and
            // goes on with that one. Without a placement (a tenant from before pools were
            // counted), the tag search after the create does the same.
            let p = match ctx
                .db
                .pools_record_user_pool(&req.tenant, &created.id)
                .await?
            {
                UserPoolRecord::Earlier(first) => {
                    let named = [ctx.pools.provider_name(&first)];
                    let (mut theirs, _) =
                        ctx.pools.find_all(&req.tenant, &this_stack, &named).await?;
                    match theirs.pop() {
                        Some(theirs) => {
                            eprintln!(
                                "user pool {} duplicates {} for tenant {} (a concurrent run): deleted",
                                created.id, theirs.id, req.tenant
                            );
                            ctx.pools.delete(&created.id).await?;
                            theirs
                        }
                        None => created,
                    }
                }
                // A rerun (not placed by this run, or without a placement): a run stopped with
                // its create in flight may have left a pool nothing names; the tag search after
                // the create finds it, and the one recorded (or the oldest) is kept.
                record if !fresh => {
                    let keep = match record {
                        UserPoolRecord::Recorded => vec![ctx.pools.provider_name(&created.id)],
                        _ => registered.clone(),
                    };
                    let (all, _) = ctx.pools.find_all(&req.tenant, &this_stack, &[]).await?;
                    if all.len() > 1 {
                        ctx.pools
                            .converge(&req.tenant, &identity_pool_id, all, &keep)
                            .await?
                            .0
                    } else {
                        created
                    }
                }
                _ => created,
            };
            // Stopped between these two calls, a run again finds the pool with MFA OFF: the
            // report says so, and `onboard --mfa ...` sets it.
            ctx.pools.set_mfa(&p.id, req.pool_options.mfa).await?;
            steps.finish(
                1,
                "user pool",
                format!(
                    "created {} ({}); MFA {}",
                    p.id,
                    p.name,
                    req.pool_options.mfa.cognito()
                ),
            )?;
            (p, Some(req.pool_options.mfa))
        }
    };
    let provider_name = ctx.pools.provider_name(&pool.id);
    let provider = ProviderKey::parse(&provider_name)?;

    // 2. app client
    let (client_id, created) = ctx.pools.ensure_client(&pool.id).await?;
    steps.finish(
        2,
        "app client",
        format!("{} {client_id}", if created { "created" } else { "found" }),
    )?;

    // 3. identity pool
    let additions = Additions {
        user_pools: vec![UserPoolProvider {
            provider_name: provider_name.clone(),
            client_id: client_id.clone(),
            server_side_token_check: Some(SERVER_SIDE_TOKEN_CHECK),
        }],
        federated: req.federated.clone(),
    };
    let config = identity.add(&additions, req.max_providers).await?;
    steps.finish(
        3,
        "identity pool",
        format!(
            "lists {provider_name} ({} of at most {} User Pool providers)",
            config.user_pool_count(),
            req.max_providers
        ),
    )?;

    // 4. registry
    let mut keys = vec![provider.clone()];
    for f in &req.federated {
        keys.push(f.key()?);
    }
    for key in &keys {
        ctx.db
            .registry_register(&req.tenant, &req.name, key)
            .await?;
    }
    // The tenant's users are admitted only with credentials of the pool that lists them.
    ctx.db
        .registry_bind_identity_pool(&req.tenant, &identity_pool_id)
        .await?;
    steps.finish(
        4,
        "registry",
        format!(
            "{} -> {} (Identity Pool {identity_pool_id})",
            keys.iter()
                .map(ProviderKey::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            req.tenant
        ),
    )?;

    // 5. first admin
    let user = ctx
        .pools
        .ensure_user(&pool.id, &req.admin_email, &req.invitation)
        .await?;
    steps.finish(
        5,
        "first admin",
        format!(
            "{} {} (sub {})",
            if user.created { "created" } else { "found" },
            req.admin_email,
            user.sub
        ),
    )?;

    // 6. admin grant
    ctx.db
        .registry_set_pending_admin(
            &req.tenant,
            &PendingAdmin {
                provider: provider_name.clone(),
                sub: user.sub.clone(),
                email: req.admin_email.clone(),
            },
        )
        .await?;
    steps.finish(
        6,
        "admin grant",
        format!(
            "{} becomes ADMIN of {} on their first call (while the tenant has no ADMIN)",
            req.admin_email, req.tenant
        ),
    )?;

    Ok(Report {
        tenant_id: req.tenant.to_string(),
        name: req.name.clone(),
        region: ctx.region.clone(),
        identity_pool_id,
        user_pool_id: pool.id,
        user_pool_client_id: client_id,
        user_pool_mfa: mfa.map(Mfa::cognito),
        provider_key: provider_name,
        user_pool_lookup: lookup,
        federated: keys[1..].iter().map(|k| k.as_str().to_owned()).collect(),
        admin: AdminReport {
            email: req.admin_email.clone(),
            sub: user.sub,
            created: user.created,
            invitation: admin_invitation(&req.invitation, req.generated_password, user.created),
            // Only a password this run set: for an admin who existed, a generated one was never
            // given to Cognito, and printing it would hand over a password that does not work.
            temporary_password: match (&req.invitation, req.generated_password, user.created) {
                (Invitation::Password(p), true, true) => Some(p.clone()),
                _ => None,
            },
            role: "ADMIN on first sign-in",
        },
        identity_pool: ProviderCount {
            user_pool_providers: config.user_pool_count(),
            max_providers: req.max_providers,
        },
        identity_pool_placement: placed.how,
        created_identity_pool: placed.created.clone(),
        aws_calls: ctx.calls.snapshot(),
        steps: steps.done,
    })
}

/// How the admin learns their first password, as the report says it.
fn admin_invitation(invitation: &Invitation, generated: bool, created: bool) -> &'static str {
    match (invitation, generated, created) {
        (_, _, false) => {
            "the user existed already: no password was set and no invitation sent (the one \
             handed over before still applies; AdminSetUserPassword sets a new one)"
        }
        (Invitation::Email, _, true) => "Cognito emailed an invitation with a temporary password",
        (Invitation::Password(_), true, true) => "temporary password below; hand it over",
        (Invitation::Password(_), false, true) => "the --temporary-password given",
    }
}

/// Refuses a run of onboard for a tenant that exists unless it asks for what the earlier run
/// did: the same name, the same admin, the same federated providers (a run stopped before it
/// registered all of them has registered some: those must be among the ones asked for). The
/// sentence names each difference and the command that makes that change on purpose.
pub fn check_same_operation(entry: &RegistryEntry, req: &Request) -> Result<()> {
    let tenant = &req.tenant;
    let mut differs = Vec::new();
    if entry.tenant.name != req.name {
        differs.push(format!(
            "its name is '{}', not '{}' (rename: tenantctl rename --tenant-id {tenant} --name NEW)",
            entry.tenant.name, req.name
        ));
    }
    if let Some(admin) = &entry.tenant.pending_admin
        && !admin.email.eq_ignore_ascii_case(&req.admin_email)
    {
        differs.push(format!(
            "its first admin is {}, not {} (more admins: the ADMIN grants the role with setRole, \
             or tenantctl grant-admin)",
            admin.email, req.admin_email
        ));
    }
    let asked: BTreeSet<String> = req
        .federated
        .iter()
        .map(|f| f.key().map(|k| k.as_str().to_owned()))
        .collect::<Result<_>>()?;
    // Registered keys other than User Pools are the federated ones (a User Pool is never a
    // --federated key).
    let registered: BTreeSet<String> = entry
        .providers
        .iter()
        .map(|p| p.as_str().to_owned())
        .filter(|k| !k.starts_with("cognito-idp."))
        .collect();
    let finished = entry.tenant.pending_admin.is_some();
    let extra: Vec<&String> = registered.difference(&asked).collect();
    let missing: Vec<&String> = asked.difference(&registered).collect();
    if !extra.is_empty() || (finished && !missing.is_empty()) {
        differs.push(format!(
            "its federated providers are [{}], this run asks for [{}] (add one: tenantctl \
             register --tenant-id {tenant} --name '{}' --provider KEY)",
            join(&registered),
            join(&asked),
            entry.tenant.name
        ));
    }
    if differs.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "tenant {tenant} is onboarded already, and a rerun of onboard must repeat the same \
         operation; nothing was changed. This run differs: {}.",
        differs.join("; ")
    )))
}

fn join(keys: &BTreeSet<String>) -> String {
    keys.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The human form of the report.
pub fn print(report: &Report) {
    println!("onboarded {} ({})", report.tenant_id, report.name);
    println!(
        "  admin: {} ({}; {})",
        report.admin.email,
        if report.admin.created {
            "created"
        } else {
            "existed"
        },
        report.admin.invitation
    );
    if let Some(p) = &report.admin.temporary_password {
        println!("  temporary password: {p}");
    }
    println!(
        "  user pool {}: MFA {}",
        report.user_pool_id,
        report.user_pool_mfa.unwrap_or("unknown")
    );
    println!(
        "  identity pool {}: {} of at most {} User Pool providers",
        report.identity_pool_id,
        report.identity_pool.user_pool_providers,
        report.identity_pool.max_providers
    );
    println!("front-end configuration (Amplify Auth.Cognito):");
    let config = serde_json::json!({
        "region": report.region,
        "identityPoolId": report.identity_pool_id,
        "userPoolId": report.user_pool_id,
        "userPoolClientId": report.user_pool_client_id,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&config).unwrap_or_else(|_| config.to_string())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(federated: &[&str], shared: bool) -> Result<Request> {
        Request::parse(
            "initech",
            "Initech",
            "admin@initech.example",
            &federated.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            shared,
            None,
            false,
            50,
            None,
        )
    }

    #[test]
    fn shared_issuers_are_refused_without_the_flag() {
        assert!(matches!(
            parse(&["accounts.google.com=123"], false),
            Err(Error::Refused(m)) if m.contains("accounts.google.com")
        ));
        assert!(parse(&["accounts.google.com=123"], true).is_ok());
        assert!(
            parse(
                &["arn:aws:iam::123456789012:oidc-provider/login.initech.example"],
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_arguments_fail_before_any_step() {
        let bad = |tenant: &str, name: &str, email: &str, pw: Option<&str>, generate: bool| {
            Request::parse(
                tenant,
                name,
                email,
                &[],
                false,
                pw.map(str::to_owned),
                generate,
                50,
                None,
            )
            .is_err()
        };
        assert!(bad("Initech", "I", "a@b.example", None, false));
        assert!(bad("initech", " ", "a@b.example", None, false));
        for email in ["", "a", "a@b", "a b@c.example", "@c.example", "a@.example"] {
            assert!(bad("initech", "I", email, None, false), "{email}");
        }
        assert!(bad("initech", "I", "a@b.example", Some("short"), false));
        assert!(bad(
            "initech",
            "I",
            "a@b.example",
            Some("Long-Enough-Pass-1"),
            true
        ));
        assert!(!bad(
            "initech",
            "I",
            "a@b.example",
            Some("Long-Enough-Pass-1"),
            false
        ));
    }

    #[test]
    fn a_generated_password_is_shown_once_chosen() {
        let r = Request::parse(
            "initech",
            "I",
            "a@b.example",
            &[],
            false,
            None,
            true,
            50,
            None,
        )
        .unwrap();
        assert!(r.generated_password);
        assert!(matches!(r.invitation, Invitation::Password(_)));
        assert_eq!(r.pool_name, "notes-initech");
    }
}
