//! `tenantctl offboard`: a tenant out of service and out of the table, in six resumable steps.
//!
//! 1. suspend       registry status SUSPENDED: its users get Forbidden within the cache TTL
//! 2. identity pool remove its providers: its users get no new credentials
//! 3. export        its partition to `--export FILE` (JSON Lines), marked done in the registry
//! 4. purge         delete its partition (BatchWriteItem, 25 a request)
//! 5. registry      delete its tenant and provider items
//! 6. user pool     with `--delete-pool`: deletion protection off, pool deleted
//!
//! Each step looks before it acts. The export is written to `FILE.partial` and renamed when
//! complete, and the tenant's registry item records it, so a resumed run never exports a
//! half-purged partition over a good file; the purge only starts after that record exists.
//! The tenant's pool is found by its tags, so steps 2 and 6 still work after step 5 removed the
//! registry items.

use std::path::{Path, PathBuf};

use serde::Serialize;
use shared::tenancy::{TenantId, TenantStatus};

use crate::Ctx;
use crate::error::{Error, Result};
use crate::portability::{export_to_file, is_export_of};
use crate::steps::{StepReport, Steps};

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
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub tenant_id: String,
    pub user_pool_id: Option<String>,
    pub removed_providers: Vec<String>,
    pub exported_to: Option<String>,
    pub exported_items: Option<u64>,
    pub purged_items: u64,
    pub pool_deleted: bool,
    pub steps: Vec<StepReport>,
}

pub async fn run(ctx: &Ctx, req: &Request) -> Result<Report> {
    let mut steps = Steps::new(6)?;
    let tenant = &req.tenant;
    let state = ctx.db.registry_offboard_state(tenant).await?;
    let pool = ctx.pools.find(tenant, ctx.identity.id()).await?;
    let registered: Vec<String> = ctx
        .db
        .registry_list()
        .await?
        .into_iter()
        .find(|e| e.tenant.tenant_id == *tenant)
        .map(|e| e.providers.iter().map(|p| p.as_str().to_owned()).collect())
        .unwrap_or_default();
    let remaining = ctx.db.partition_count(tenant).await?;
    if state.is_none() && pool.is_none() && remaining == 0 {
        return Err(Error::App(shared::AppError::NotFound(format!(
            "Nothing to offboard: no tenant '{tenant}' is registered, it has no data and no User \
             Pool tagged for it (already offboarded?)."
        ))));
    }
    let mut report = Report {
        tenant_id: tenant.to_string(),
        user_pool_id: pool.as_ref().map(|p| p.id.clone()),
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

    // 2. identity pool
    let mut names = registered.clone();
    if let Some(p) = &pool {
        let name = ctx.pools.provider_name(&p.id);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let before = ctx.identity.describe().await?;
    let listed: Vec<String> = names
        .iter()
        .filter(|n| !before.holds_none(std::slice::from_ref(*n)))
        .cloned()
        .collect();
    let after = ctx.identity.remove(&names).await?;
    steps.finish(
        2,
        "identity pool",
        if listed.is_empty() {
            format!("lists none of {names:?}")
        } else {
            format!(
                "removed {} ({} User Pool providers left)",
                listed.join(", "),
                after.user_pool_count()
            )
        },
    )?;
    report.removed_providers = listed;

    // 3. export
    let outcome = match (&req.keep, state.as_ref().and_then(|s| s.exported.clone())) {
        (Keep::Export(_), Some((file, n))) => {
            report.exported_to = Some(file.clone());
            report.exported_items = Some(n);
            format!("already exported to {file} ({n} items)")
        }
        (Keep::Export(path), None) => {
            if state.is_none() && remaining == 0 {
                // Past step 5 of an earlier run: purged and unregistered; that run exported.
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
    steps.finish(3, "export", outcome)?;

    // 4. purge
    report.purged_items = ctx.db.purge_partition(tenant).await?;
    steps.finish(
        4,
        "purge",
        format!("deleted {} items of TENANT#{tenant}", report.purged_items),
    )?;

    // 5. registry
    let removal = ctx.db.registry_remove_tenant(tenant).await?;
    steps.finish(
        5,
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

    // 6. user pool
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
    steps.finish(6, "user pool", outcome)?;

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
    match (&report.user_pool_id, report.pool_deleted) {
        (Some(id), true) => println!("  user pool {id}: deleted"),
        (Some(id), false) => println!("  user pool {id}: kept"),
        (None, _) => {}
    }
}
