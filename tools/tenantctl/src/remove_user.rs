//! `tenantctl remove-user`: a user out of their tenant, in five resumable steps.
//!
//! 1. user          find the tenant's User Pool (the registry's provider keys; by tags only for
//!    a pool not registered) and the user in it (AdminGetUser: their `sub`)
//! 2. disable       AdminDisableUser: no more sign-ins
//! 3. sign out      AdminUserGlobalSignOut: their refresh tokens are revoked, so no new id token
//!    and no new Identity Pool credentials come from an existing session
//! 4. subscriptions end their open `onNoteChanged` subscriptions (invalidateTenantSubscriptions
//!    with `userSub` at `--graphql-url`); the tenant's other users keep theirs
//! 5. delete        AdminDeleteUser (skipped with `--keep-disabled`: the user stays, disabled,
//!    and AdminEnableUser brings them back)
//!
//! Why the `sub`: the subscriptions are ended by the key the function saw when the user
//! subscribed, and the only key of a User Pool user that tenantctl can find from a username is
//! the `sub` AdminGetUser answers (their Identity Pool identity id is created at their first
//! sign-in and recorded under no username); see shared/src/realtime.rs.
//!
//! Idempotent: every step can be repeated; once step 5 deleted the user, a run finds no user
//! and reports it as removed already (steps 2-4 ran before the deletion, in every run that got
//! there). What stays: the notes they wrote and their profile belong to the tenant, and AWS
//! credentials the Identity Pool issued before step 3 keep signing requests until they expire
//! (at most 1 hour): the user can still call the API and subscribe again meanwhile
//! (docs/operations/tenants.md, "Remove a user").

use serde::Serialize;
use shared::AppError;
use shared::tenancy::TenantId;

use crate::Ctx;
use crate::error::{Error, Result};
use crate::steps::{StepReport, Steps};
use crate::subscriptions::{Invalidator, Whose, no_url_warning};
use crate::user_pools::UserPools;

#[derive(Debug, Clone)]
pub struct Request {
    pub tenant: TenantId,
    pub username: String,
    pub keep_disabled: bool,
    pub graphql_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tenant_id: String,
    pub username: String,
    pub user_pool_id: String,
    /// The user's `sub`; `None` when the pool had no such user (removed already).
    pub sub: Option<String>,
    pub disabled: bool,
    pub signed_out: bool,
    pub subscriptions_ended: bool,
    pub deleted: bool,
    pub steps: Vec<StepReport>,
}

pub async fn run(ctx: &Ctx, req: &Request) -> Result<Report> {
    let mut steps = Steps::new(5)?;
    let tenant = &req.tenant;
    let entry = ctx.db.registry_entry(tenant).await?;
    // The tenant's Identity Pool: the registry's binding, its placement, else the first.
    let bound = match entry
        .as_ref()
        .and_then(|e| e.tenant.identity_pool_id.clone())
    {
        Some(id) => id,
        None => ctx
            .db
            .pools_placement(tenant)
            .await?
            .unwrap_or_else(|| ctx.identity.id().to_owned()),
    };
    let registered: Vec<String> = entry
        .map(|e| e.providers.iter().map(|p| p.as_str().to_owned()).collect())
        .unwrap_or_default();

    // 1. user: in the pools the registry maps to the tenant (the registry decides who its users
    // are, tagged or not), else in the pool onboard tagged for it.
    let mut found = Vec::new();
    let mut pools = UserPools::pool_ids(&registered);
    if pools.is_empty()
        && let (Some(p), _) = ctx.pools.find(tenant, &[bound], &[]).await?
    {
        pools.push(p.id);
    }
    if pools.is_empty() {
        return Err(Error::App(AppError::NotFound(format!(
            "Tenant '{tenant}' has no User Pool: none is registered for it and none is tagged for \
             it."
        ))));
    }
    for pool in &pools {
        if let Some(u) = ctx.pools.user(pool, &req.username).await? {
            found.push((pool.clone(), u));
        }
    }
    let (pool, user) = match found.len() {
        0 => {
            steps.finish(
                1,
                "user",
                format!(
                    "{} is in none of {tenant}'s pools ({}): removed already, or never a user",
                    req.username,
                    pools.join(", ")
                ),
            )?;
            return Ok(Report {
                tenant_id: tenant.to_string(),
                username: req.username.clone(),
                user_pool_id: pools.join(","),
                sub: None,
                disabled: false,
                signed_out: false,
                subscriptions_ended: false,
                deleted: false,
                steps: steps.done,
            });
        }
        1 => found.remove(0),
        _ => {
            return Err(Error::Refused(format!(
                "{} is a user of several of {tenant}'s pools ({}); remove them with the Cognito \
                 API, pool by pool.",
                req.username,
                found
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    steps.finish(
        1,
        "user",
        format!(
            "{} in {pool}: sub {} ({})",
            req.username,
            user.sub,
            if user.enabled { "enabled" } else { "disabled" }
        ),
    )?;
    let mut report = Report {
        tenant_id: tenant.to_string(),
        username: req.username.clone(),
        user_pool_id: pool.clone(),
        sub: Some(user.sub.clone()),
        disabled: false,
        signed_out: false,
        subscriptions_ended: false,
        deleted: false,
        steps: Vec::new(),
    };

    // 2. disable
    ctx.pools.disable_user(&pool, &req.username).await?;
    report.disabled = true;
    steps.finish(
        2,
        "disable",
        if user.enabled {
            "disabled (no more sign-ins)"
        } else {
            "disabled already"
        },
    )?;

    // 3. sign out
    ctx.pools.sign_out_user(&pool, &req.username).await?;
    report.signed_out = true;
    steps.finish(
        3,
        "sign out",
        "refresh tokens revoked (credentials issued before expire within 1 hour)",
    )?;

    // 4. subscriptions
    let whose = Whose::User(tenant, &user.sub);
    let outcome = match &req.graphql_url {
        Some(url) => {
            Invalidator::connect(url).await?.invalidate(whose).await?;
            report.subscriptions_ended = true;
            format!("ended {}'s onNoteChanged subscriptions", req.username)
        }
        None => {
            let warning = no_url_warning(whose);
            eprintln!("tenantctl: {warning}");
            format!("skipped: {warning}")
        }
    };
    steps.finish(4, "subscriptions", outcome)?;

    // 5. delete
    let outcome = if req.keep_disabled {
        "kept, disabled (--keep-disabled; AdminEnableUser brings them back)".to_owned()
    } else {
        report.deleted = ctx.pools.delete_user(&pool, &req.username).await?;
        if report.deleted {
            format!("deleted {} from {pool}", req.username)
        } else {
            "deleted already".to_owned()
        }
    };
    steps.finish(5, "delete", outcome)?;

    report.steps = steps.done;
    Ok(report)
}

pub fn print(report: &Report) {
    match &report.sub {
        None => println!(
            "{} is not a user of {} (removed already)",
            report.username, report.tenant_id
        ),
        Some(sub) => {
            println!(
                "removed {} (sub {sub}) from {}: {}",
                report.username,
                report.tenant_id,
                if report.deleted {
                    "deleted"
                } else {
                    "disabled"
                }
            );
            if !report.subscriptions_ended {
                println!("  subscriptions: left open (no --graphql-url)");
            }
        }
    }
}
