//! `tenantctl offboard`: a tenant out of service and out of the table, in seven resumable steps.
//!
//! 1. suspend       registry status SUSPENDED: its users get Forbidden within the cache TTL
//! 2. subscriptions end its open subscriptions (invalidateTenantSubscriptions at
//!    `--graphql-url`, now and once more after the cache TTL): otherwise an old
//!    subscriber keeps its connection, and once the tenant id is imported again
//!    it would receive the new tenant's notes
//! 3. identity pool remove its providers: its users get no new credentials
//! 4. export        its partition to `--export FILE` (JSON Lines), marked done in the registry
//! 5. purge         delete its partition (BatchWriteItem, 25 a request)
//! 6. registry      delete its tenant and provider items
//! 7. user pool     with `--delete-pool`: deletion protection off, pool deleted
//!
//! Each step looks before it acts (step 2 repeats its calls, which end nothing twice). The
//! export is written to `FILE.partial` and renamed when complete, and the tenant's registry item
//! records it, so a resumed run never exports a half-purged partition over a good file; the
//! purge only starts after that record exists. The tenant's pool is found through the registry's
//! provider keys, and by its tags once step 6 removed them, so steps 3 and 7 still work then.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use shared::tenancy::{TenantId, TenantStatus};

use crate::Ctx;
use crate::error::{Error, Result};
use crate::portability::{export_to_file, is_export_of};
use crate::steps::{StepReport, Steps};
use crate::subscriptions::{Invalidator, Whose, no_url_warning};
use crate::user_pools::Lookup;

/// What happens to the tenant's data.
#[derive(Debug, Clone)]
pub enum Keep {
    /// Exported to this file before the purge.
    Export(PathBuf),
    /// Purged without an export (`--discard-data`).
    Discard,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub tenant: TenantId,
    pub keep: Keep,
    pub delete_pool: bool,
    /// Where the tenant's subscriptions are ended (step 2); `None`: they stay open (warned).
    pub graphql_url: Option<String>,
    /// The functions' tenant cache TTL: the second invalidation waits it out.
    pub cache_ttl: Duration,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tenant_id: String,
    pub user_pool_id: Option<String>,
    /// How the pool was found: through the registry, or by the tag search.
    pub user_pool_lookup: Lookup,
    /// False without `--graphql-url`: the tenant's subscriptions were left open.
    pub subscriptions_ended: bool,
    pub removed_providers: Vec<String>,
    pub exported_to: Option<String>,
    pub exported_items: Option<u64>,
    pub purged_items: u64,
    pub pool_deleted: bool,
    pub steps: Vec<StepReport>,
}

pub async fn run(ctx: &Ctx, req: &Request) -> Result<Report> {
    let mut steps = Steps::new(7)?;
    let tenant = &req.tenant;
    let state = ctx.db.registry_offboard_state(tenant).await?;
    let entry = ctx.db.registry_entry(tenant).await?;
    let registered: Vec<String> = entry
        .as_ref()
        .map(|e| e.providers.iter().map(|p| p.as_str().to_owned()).collect())
        .unwrap_or_default();
    // The tenant's Identity Pool: the registry's binding, else its placement (a rerun past the
    // registry step), else the first pool for a tenant registered before pools were counted;
    // none known at all (a rerun after both are gone): its User Pool is found by its tenant tag.
    let placement = ctx.db.pools_placement(tenant).await?;
    let placed = placement.is_some();
    let known: Option<String> = entry
        .as_ref()
        .and_then(|e| e.tenant.identity_pool_id.clone())
        .or(placement)
        .or_else(|| entry.as_ref().map(|_| ctx.identity.id().to_owned()));
    let identity = ctx
        .identity
        .for_pool(known.as_deref().unwrap_or(ctx.identity.id()));
    // Its User Pool is tagged for one of this stack's pools (another stack's pool for the same
    // tenant id is never this offboard's).
    let this_stack: Vec<String> = match &known {
        Some(id) => vec![id.clone()],
        None => ctx.db.pools_ids(ctx.identity.id()).await?,
    };
    let mut lookup_keys = registered.clone();
    if lookup_keys.is_empty()
        && let Some(id) = ctx.db.pools_placed_user_pool(tenant).await?
    {
        lookup_keys.push(ctx.pools.provider_name(&id));
    }
    let (pool, lookup) = ctx.pools.find(tenant, &this_stack, &lookup_keys).await?;
    let remaining = ctx.db.partition_count(tenant).await?;
    if state.is_none() && pool.is_none() && remaining == 0 && !placed {
        return Err(Error::App(shared::AppError::NotFound(format!(
            "Nothing to offboard: no tenant '{tenant}' is registered, it has no data and no User \
             Pool tagged for it (already offboarded?)."
        ))));
    }
    let mut report = Report {
        tenant_id: tenant.to_string(),
        user_pool_id: pool.as_ref().map(|p| p.id.clone()),
        user_pool_lookup: lookup,
        subscriptions_ended: false,
        removed_providers: Vec::new(),
        exported_to: None,
        exported_items: None,
        purged_items: 0,
        pool_deleted: false,
        steps: Vec::new(),
    };

    // 1. suspend
    let outcome = match &state {
        Some(s) if s.status == TenantStatus::Active => {
            ctx.db
                .registry_set_status(tenant, TenantStatus::Suspended)
                .await?;
            "suspended (its users are refused within TENANT_CACHE_TTL_SECONDS)".to_owned()
        }
        Some(_) => "already suspended".to_owned(),
        None => "not registered (already removed)".to_owned(),
    };
    steps.finish(1, "suspend", outcome)?;

    // 2. subscriptions: after the suspension, so the second call (after the cache TTL) also
    // ends those the functions admitted from their cache meanwhile.
    let whose = Whose::Tenant(tenant);
    let outcome = match &req.graphql_url {
        Some(url) => {
            Invalidator::connect(url)
                .await?
                .end_twice(whose, req.cache_ttl, |l| eprintln!("subscriptions: {l}"))
                .await?;
            report.subscriptions_ended = true;
            format!(
                "ended on both subscription fields{}",
                if req.cache_ttl.is_zero() {
                    String::new()
                } else {
                    format!(", again after {}s", req.cache_ttl.as_secs())
                }
            )
        }
        None => {
            let warning = no_url_warning(whose);
            eprintln!("tenantctl: {warning}");
            format!("skipped: {warning}")
        }
    };
    steps.finish(2, "subscriptions", outcome)?;

    // 3. identity pool
    let mut names = registered.clone();
    if let Some(p) = &pool {
        let name = ctx.pools.provider_name(&p.id);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let before = identity.describe().await?;
    let listed: Vec<String> = names
        .iter()
        .filter(|n| !before.holds_none(std::slice::from_ref(*n)))
        .cloned()
        .collect();
    let after = identity.remove(&names).await?;
    // Its slot is free again: the next onboarding fills this pool before any newer one (a pool
    // that empties stays).
    let freed = ctx.db.pools_release(tenant).await?;
    steps.finish(
        3,
        "identity pool",
        format!(
            "{}{}",
            if listed.is_empty() {
                format!("{} lists none of {names:?}", identity.id())
            } else {
                format!(
                    "removed {} from {} ({} User Pool providers left)",
                    listed.join(", "),
                    identity.id(),
                    after.user_pool_count()
                )
            },
            freed.map_or(String::new(), |id| format!("; its slot in {id} is free"))
        ),
    )?;
    report.removed_providers = listed;

    // 4. export
    let outcome = match (&req.keep, state.as_ref().and_then(|s| s.exported.clone())) {
        (Keep::Export(_), Some((file, n))) => {
            report.exported_to = Some(file.clone());
            report.exported_items = Some(n);
            format!("already exported to {file} ({n} items)")
        }
        (Keep::Export(path), None) => {
            if state.is_none() && remaining == 0 {
                // Past step 6 of an earlier run: purged and unregistered; that run exported.
                "nothing left to export (an earlier run exported and purged it)".to_owned()
            } else {
                // No record yet, so the purge has not started: a file this offboard wrote before
                // it was stopped is replaced by a fresh, complete export.
                let n = export_to_file(&ctx.db, tenant, path, is_export_of(path, tenant)).await?;
                let shown = absolute(path);
                if state.is_some() {
                    ctx.db.registry_mark_exported(tenant, &shown, n).await?;
                }
                report.exported_to = Some(shown.clone());
                report.exported_items = Some(n);
                format!("{n} items to {shown}")
            }
        }
        (Keep::Discard, _) => "skipped (--discard-data)".to_owned(),
    };
    steps.finish(4, "export", outcome)?;

    // 5. purge
    report.purged_items = ctx.db.purge_partition(tenant).await?;
    steps.finish(
        5,
        "purge",
        format!("deleted {} items of TENANT#{tenant}", report.purged_items),
    )?;

    // 6. registry
    let removal = ctx.db.registry_remove_tenant(tenant).await?;
    steps.finish(
        6,
        "registry",
        format!(
            "removed {} and {} provider mapping(s) {:?}",
            if removal.tenant {
                "the tenant"
            } else {
                "no tenant item"
            },
            removal.providers.len(),
            removal.providers
        ),
    )?;

    // 7. user pool
    let outcome = match (&pool, req.delete_pool) {
        (Some(p), true) => {
            ctx.pools.delete(&p.id).await?;
            report.pool_deleted = true;
            format!("deleted {} (deletion protection turned off first)", p.id)
        }
        (Some(p), false) => format!(
            "kept {} (its users stay; pass --delete-pool to delete it)",
            p.id
        ),
        (None, _) => "no pool tagged for the tenant (already deleted?)".to_owned(),
    };
    steps.finish(7, "user pool", outcome)?;

    report.steps = steps.done;
    Ok(report)
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

pub fn print(report: &Report) {
    println!("offboarded {}", report.tenant_id);
    if let (Some(file), Some(n)) = (&report.exported_to, report.exported_items) {
        println!("  data: {n} items in {file} (tenantctl import --tenant-id NEW --in {file})");
    }
    println!("  purged: {} items", report.purged_items);
    if !report.subscriptions_ended {
        println!("  subscriptions: left open (no --graphql-url)");
    }
    match (&report.user_pool_id, report.pool_deleted) {
        (Some(id), true) => println!("  user pool {id}: deleted"),
        (Some(id), false) => println!("  user pool {id}: kept"),
        (None, _) => {}
    }
}
