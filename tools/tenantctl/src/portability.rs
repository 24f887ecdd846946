//! `tenantctl export` and `import`: a tenant's data as a JSON Lines file, and back into a tenant.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use shared::store::admin::{
    Admin, ImportReport, ImportTarget, parse_export_line, restore_roles, retarget, source_tenant,
};
use shared::tenancy::TenantId;

use crate::error::{Error, Result};

/// Writes the tenant's partition to `path`: to `<path>.partial` first, flushed and synced, then
/// renamed, so `path` only ever holds a complete export. An existing `path` is refused unless
/// `overwrite`. The number of items.
pub async fn export_to_file(
    db: &Admin,
    tenant: &TenantId,
    path: &Path,
    overwrite: bool,
) -> Result<u64> {
    if path.exists() && !overwrite {
        return Err(Error::Refused(format!(
            "{} exists; choose another file (or pass --force to replace it)",
            path.display()
        )));
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let partial = partial_path(path);
    let file = File::create(&partial).map_err(|source| Error::Io {
        path: partial.clone(),
        source,
    })?;
    let mut out = BufWriter::new(file);
    let n = db.export_partition(tenant, &mut out).await?;
    out.flush().map_err(io)?;
    out.get_ref().sync_all().map_err(io)?;
    drop(out);
    std::fs::rename(&partial, path).map_err(io)?;
    Ok(n)
}

/// Is `path` an export of `tenant` (its first item is in the tenant's partition, or it is empty)? An offboard
/// stopped after writing its export but before recording it may write it again; any other file
/// of that name is left alone.
pub fn is_export_of(path: &Path, tenant: &TenantId) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        // An empty file (a tenant without data): replacing it loses nothing.
        return true;
    };
    parse_export_line(first)
        .ok()
        .and_then(|item| source_tenant(&[item]).ok())
        .is_some_and(|t| t == *tenant)
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// What an import did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub from_tenant: String,
    pub to_tenant: String,
    pub items: u64,
    /// ADMIN profiles of the export restored as MEMBERs.
    pub demoted_admins: u64,
    #[serde(flatten)]
    pub report: ImportReport,
}

/// Reads an export, rewrites it for `tenant` and writes it with conditional puts (nothing that
/// exists is overwritten; a second run writes only what the first did not).
pub async fn import_from_file(
    db: &Admin,
    tenant: &TenantId,
    path: &Path,
    target: ImportTarget,
) -> Result<ImportSummary> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = parse_export_line(line)
            .map_err(|e| Error::Usage(format!("{} line {}: {}", path.display(), i + 1, e)))?;
        items.push(item);
    }
    let from =
        source_tenant(&items).map_err(|e| Error::Usage(format!("{}: {}", path.display(), e)))?;
    let count = items.len() as u64;
    let mut items = items
        .into_iter()
        .map(|item| retarget(item, &from, tenant))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Usage(format!("{}: {}", path.display(), e)))?;
    // Roles are not restored: every profile comes back a MEMBER, the counters match (see
    // shared::store::restore_roles), and onboard's admin claims ADMIN at their first myProfile.
    let demoted = restore_roles(&mut items);
    let report = db.import_items(tenant, items, target).await?;
    Ok(ImportSummary {
        from_tenant: from.to_string(),
        to_tenant: tenant.to_string(),
        items: count,
        demoted_admins: demoted,
        report,
    })
}
