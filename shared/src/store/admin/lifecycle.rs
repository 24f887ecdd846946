//! A tenant's whole partition at once, for `tenantctl` (never a function): export it as JSON
//! Lines, purge it, import an export into another tenant; and the registry bookkeeping of
//! onboarding and offboarding (the pending first admin, the export marker, removing a tenant's
//! registry items).
//!
//! Everything of a tenant lives under `pk = TENANT#<id>` (notes, profiles, the counters item,
//! idempotency tokens); its public-index entries (`gsi1pk = PUBLIC#<id>`) are attributes of its
//! note items. So one Query on that exact partition key finds all of it, and nothing else: a
//! purge cannot reach another tenant's items (every key it deletes is also checked to be the
//! tenant's before the request is sent).
//!
//! Export format: one line per item, `{"Item":{"pk":{"S":"TENANT#acme"},...}}` — DynamoDB JSON,
//! the format of DynamoDB's own table exports (`ExportFormat: DYNAMODB_JSON`), so the types
//! (numbers, sets, binary) survive a round trip exactly.

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, Select, WriteRequest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::{Map, Value};

use super::Admin;
use crate::error::AppError;
use crate::profiles::Role;
use crate::store::batch::backoff;
use crate::store::keys::{
    self, GSI1_PK, IMPORT_SK, META_SK, PK, PROFILE_PREFIX, SK, TENANT_PREFIX,
};
use crate::store::{Item, key, s, sdk_err, write};
use crate::tenancy::TenantId;

/// BatchWriteItem takes at most 25 requests.
pub const BATCH_WRITE_MAX_ITEMS: usize = 25;
/// Rounds of retrying `UnprocessedItems` of one batch before giving up (the purge is resumable:
/// running it again continues where it stopped).
const BATCH_WRITE_ATTEMPTS: u32 = 8;
/// The attribute every tenant item carries its tenant in.
const TENANT_ID_ATTRIBUTE: &str = "tenantId";

/// Where an import may write: see [`Admin::import_items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportTarget {
    /// Only a tenant with no items, or one that this same import began and did not finish.
    EmptyTenant,
    /// Also a tenant that holds data (`tenantctl import --into-existing`): the export's items
    /// are added beside it, and an item whose key exists stays as it is.
    ExistingData,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Items written.
    pub written: u64,
    /// Items left alone because an item with that key exists already (an import never
    /// overwrites; running it again after an interruption skips what it wrote before).
    pub present: u64,
}

impl Admin {
    /// How many items the tenant's partition holds (a COUNT query: keys are read, not returned).
    pub async fn partition_count(&self, tenant: &TenantId) -> Result<u64, AppError> {
        let mut count = 0u64;
        let mut pages = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(keys::tenant_partition(tenant)))
            .select(Select::Count)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_err("Query partition count", e))?;
            count += u64::try_from(page.count()).unwrap_or(0);
        }
        Ok(count)
    }

    /// Writes every item of the tenant's partition to `out`, one [`export_line`] each; the
    /// number of items. Strongly consistent, page by page: a tenant that is still being written
    /// to is exported item by item, not as one snapshot (suspend it first for that).
    pub async fn export_partition(
        &self,
        tenant: &TenantId,
        out: &mut impl Write,
    ) -> Result<u64, AppError> {
        let partition = keys::tenant_partition(tenant);
        let mut pages = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(&partition))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut n = 0u64;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_err("Query partition export", e))?;
            for item in page.items() {
                check_partition(item, &partition)?;
                if is_import_marker(item) {
                    continue;
                }
                let line = export_line(item)?;
                writeln!(out, "{line}").map_err(|e| AppError::internal("writing the export", e))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Deletes every item of the tenant's partition: its notes (and with them their
    /// public-index entries), profiles, counters and idempotency tokens. BatchWriteItem, 25
    /// deletes a request, `UnprocessedItems` retried with jittered backoff. Reads the partition's
    /// keys again after each round (strongly consistent), so an interrupted purge simply runs
    /// again. The number of items deleted.
    pub async fn purge_partition(&self, tenant: &TenantId) -> Result<u64, AppError> {
        let partition = keys::tenant_partition(tenant);
        let mut deleted = 0u64;
        loop {
            let page = self
                .db
                .client
                .query()
                .table_name(&self.db.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(&partition))
                .projection_expression("#pk, #sk")
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_err("Query partition keys", e))?;
            let keys = page.items.unwrap_or_default();
            if keys.is_empty() {
                return Ok(deleted);
            }
            for chunk in keys.chunks(BATCH_WRITE_MAX_ITEMS) {
                let mut requests = Vec::with_capacity(chunk.len());
                for k in chunk {
                    // The Query can only return this partition; checked anyway, because this
                    // is the one place that deletes in bulk.
                    check_partition(k, &partition)?;
                    let delete = DeleteRequest::builder()
                        .set_key(Some(k.clone()))
                        .build()
                        .map_err(|e| AppError::internal("delete request", e))?;
                    requests.push(WriteRequest::builder().delete_request(delete).build());
                }
                self.batch_write("BatchWriteItem purge", requests).await?;
                deleted += chunk.len() as u64;
            }
        }
    }

    /// One BatchWriteItem of at most 25 requests, retrying what DynamoDB hands back unprocessed.
    async fn batch_write(
        &self,
        op: &'static str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), AppError> {
        let mut pending = requests;
        let mut attempt = 0;
        while !pending.is_empty() {
            let out = self
                .db
                .client
                .batch_write_item()
                .request_items(&self.db.table, pending)
                .send()
                .await
                .map_err(|e| sdk_err(op, e))?;
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.db.table))
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt >= BATCH_WRITE_ATTEMPTS {
                    return Err(AppError::Unavailable(format!(
                        "{op} left {} items unprocessed after {attempt} attempts",
                        pending.len()
                    )));
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    /// Writes `items` (already rewritten for `tenant`: [`retarget`], [`restore_roles`]) with
    /// conditional puts: nothing that exists is overwritten. Into a tenant that holds data only
    /// with [`ImportTarget::ExistingData`]; otherwise an import goes into an empty tenant, so
    /// one tenant's export cannot be mixed into another's notes and profiles by a typo. While it
    /// writes, a marker item holds the digest of `items`: the same import run again after an
    /// interruption resumes (the partition is not empty, but it is this import's), and a
    /// different one is refused until that is finished.
    pub async fn import_items(
        &self,
        tenant: &TenantId,
        items: Vec<Item>,
        target: ImportTarget,
    ) -> Result<ImportReport, AppError> {
        const OP: &str = "PutItem import";
        let partition = keys::tenant_partition(tenant);
        // A marker inside the file (an export taken while an import ran) is not data.
        let items: Vec<Item> = items.into_iter().filter(|i| !is_import_marker(i)).collect();
        for item in &items {
            check_partition(item, &partition)?;
        }
        let marker = import_marker(tenant, &items)?;
        let digest = marker.get("digest").cloned();
        let (holds_data, found) = self.import_state(&partition).await?;
        match found {
            Some(m) if Some(s(&m)) == digest => {}
            Some(_) => {
                return Err(AppError::Conflict(format!(
                    "Another import into tenant '{tenant}' was interrupted (from a different \
                     file): run that import again to finish it, or purge the tenant first."
                )));
            }
            None if holds_data && target == ImportTarget::EmptyTenant => {
                return Err(AppError::Conflict(format!(
                    "Tenant '{tenant}' already holds data (notes, profiles, counters or tokens): \
                     import writes only into an empty tenant. To add this export's items to it \
                     anyway, pass --into-existing (items whose keys exist stay as they are)."
                )));
            }
            None => {
                if !self.put_new("PutItem import marker", marker).await? {
                    return Err(AppError::Conflict(format!(
                        "Another import into tenant '{tenant}' started just now."
                    )));
                }
            }
        }
        let mut report = ImportReport::default();
        for item in items {
            if self.put_new(OP, item).await? {
                report.written += 1;
            } else {
                report.present += 1;
            }
        }
        self.db
            .client
            .delete_item()
            .table_name(&self.db.table)
            .set_key(Some(key(&partition, IMPORT_SK)))
            .send()
            .await
            .map_err(|e| sdk_err("DeleteItem import marker", e))?;
        Ok(report)
    }

    /// Puts `item` unless an item with its key exists: true if it was written.
    async fn put_new(&self, op: &'static str, item: Item) -> Result<bool, AppError> {
        let put = self
            .db
            .client
            .put_item()
            .table_name(&self.db.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        Ok(write::conditional(op, put).await?.is_ok())
    }

    /// Whether the partition holds data (anything but an import marker), and the marker's digest.
    async fn import_state(&self, partition: &str) -> Result<(bool, Option<String>), AppError> {
        let page = self
            .db
            .client
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(partition))
            .consistent_read(true)
            .limit(2)
            .send()
            .await
            .map_err(|e| sdk_err("Query import target", e))?;
        let mut holds_data = false;
        let mut marker = None;
        for item in page.items() {
            if is_import_marker(item) {
                marker = item
                    .get("digest")
                    .and_then(|d| d.as_s().ok())
                    .map(String::to_owned);
            } else {
                holds_data = true;
            }
        }
        Ok((holds_data, marker))
    }
}

/// `Internal` unless `item`'s partition key is exactly `partition`.
fn check_partition(item: &Item, partition: &str) -> Result<(), AppError> {
    match item.get(PK).and_then(|v| v.as_s().ok()) {
        Some(pk) if pk == partition => Ok(()),
        other => Err(AppError::Internal(format!(
            "an item of partition {other:?} where only {partition} was expected"
        ))),
    }
}

/// One export line: `{"Item":{<attribute>:{<type>:<value>}}}` (DynamoDB JSON).
pub fn export_line(item: &Item) -> Result<String, AppError> {
    let mut attrs = Map::new();
    // Sorted, so the same item always gives the same line (diffable exports).
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    for name in names {
        attrs.insert(name.clone(), to_json(&item[name])?);
    }
    let mut line = Map::new();
    line.insert("Item".into(), Value::Object(attrs));
    serde_json::to_string(&Value::Object(line)).map_err(|e| AppError::internal("export json", e))
}

/// Parses one export line back into an item. The error names what is wrong, for the operator.
pub fn parse_export_line(line: &str) -> Result<Item, AppError> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| AppError::Validation(format!("not a JSON object: {e}")))?;
    let Some(Value::Object(attrs)) = v.get("Item") else {
        return Err(AppError::Validation(
            "expected {\"Item\": {...}} (DynamoDB JSON)".into(),
        ));
    };
    attrs
        .iter()
        .map(|(k, v)| from_json(v).map(|a| (k.clone(), a)))
        .collect()
}

/// The tenant an export's items belong to: every item must be in one tenant's partition.
pub fn source_tenant(items: &[Item]) -> Result<TenantId, AppError> {
    let mut found: Option<TenantId> = None;
    for (i, item) in items.iter().enumerate() {
        let pk = item
            .get(PK)
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| AppError::Validation(format!("item {}: no string pk", i + 1)))?;
        let id = pk
            .strip_prefix(TENANT_PREFIX)
            .ok_or_else(|| {
                AppError::Validation(format!("item {}: pk {pk:?} is not a tenant's", i + 1))
            })
            .and_then(TenantId::parse)?;
        match &found {
            None => found = Some(id),
            Some(t) if *t == id => {}
            Some(t) => {
                return Err(AppError::Validation(format!(
                    "item {}: tenant {id}, but earlier items are of tenant {t}: an export holds one tenant",
                    i + 1
                )));
            }
        }
    }
    found.ok_or_else(|| AppError::Validation("the export holds no items".into()))
}

/// `item` of tenant `from`, rewritten for tenant `to`: its partition key, its public-index
/// partition (PUBLIC notes) and its `tenantId` attribute. Anything else naming `from` in those
/// places is refused rather than copied: the new tenant must not carry keys of the old one.
pub fn retarget(mut item: Item, from: &TenantId, to: &TenantId) -> Result<Item, AppError> {
    let old_pk = keys::tenant_partition(from);
    check_partition(&item, &old_pk)
        .map_err(|_| AppError::Validation(format!("an item outside partition {old_pk}")))?;
    item.insert(PK.into(), s(keys::tenant_partition(to)));
    if let Some(gsi) = item.get(GSI1_PK) {
        let old_public = keys::public_partition(from);
        if gsi.as_s().ok() != Some(&old_public) {
            return Err(AppError::Validation(format!(
                "an item whose {GSI1_PK} is not {old_public}"
            )));
        }
        item.insert(GSI1_PK.into(), s(keys::public_partition(to)));
    }
    if let Some(t) = item.get(TENANT_ID_ATTRIBUTE) {
        if t.as_s().ok().map(String::as_str) != Some(from.as_str()) {
            return Err(AppError::Validation(format!(
                "an item whose {TENANT_ID_ATTRIBUTE} is not {from}"
            )));
        }
        item.insert(TENANT_ID_ATTRIBUTE.into(), s(to.as_str()));
    }
    Ok(item)
}

/// What a restore does to roles. Every imported profile comes back as a MEMBER and the counters
/// item is rewritten from the imported profiles (`memberCount` = their number, `adminCount` = 0).
/// ADMIN rights are not data to carry over: the old admins' identities are the old pool's (in
/// another tenant or a new pool they never sign in), and an `adminCount` of 1 with no admin who
/// can sign in would block the first-admin claim for good. So after `import` and `onboard`, the
/// admin named at onboarding claims ADMIN at their first `myProfile` and grants the rest again.
/// Items must already be one tenant's ([`retarget`]); the number of profiles demoted.
pub fn restore_roles(items: &mut Vec<Item>) -> u64 {
    let admin = s(role_text(Role::Admin));
    let mut demoted = 0;
    let mut profiles = 0i64;
    for item in items.iter_mut() {
        let is_profile = item
            .get(SK)
            .and_then(|v| v.as_s().ok())
            .is_some_and(|sk| sk.starts_with(PROFILE_PREFIX));
        if !is_profile {
            continue;
        }
        profiles += 1;
        if item.get("role") == Some(&admin) {
            item.insert("role".into(), s(role_text(Role::Member)));
            demoted += 1;
        }
    }
    let is_meta =
        |i: &Item| i.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(META_SK);
    let meta_at = items.iter().position(is_meta);
    let Some(template) = meta_at.or(if profiles > 0 { Some(0) } else { None }) else {
        return demoted;
    };
    let mut meta = Item::new();
    for attr in [PK, TENANT_ID_ATTRIBUTE] {
        if let Some(v) = items[template].get(attr) {
            meta.insert(attr.to_owned(), v.clone());
        }
    }
    meta.insert(SK.to_owned(), s(META_SK));
    meta.insert(
        "memberCount".to_owned(),
        AttributeValue::N(profiles.to_string()),
    );
    meta.insert("adminCount".to_owned(), AttributeValue::N("0".to_owned()));
    match meta_at {
        Some(i) => items[i] = meta,
        None => items.push(meta),
    }
    demoted
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Admin => "ADMIN",
        Role::Member => "MEMBER",
    }
}

fn is_import_marker(item: &Item) -> bool {
    item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(IMPORT_SK)
}

/// The marker an import of `items` into `tenant` keeps while it writes: the digest of the items,
/// whatever their order, which tells a resumed import from another one.
pub fn import_marker(tenant: &TenantId, items: &[Item]) -> Result<Item, AppError> {
    Ok(Item::from([
        (PK.to_owned(), s(keys::tenant_partition(tenant))),
        (SK.to_owned(), s(IMPORT_SK)),
        ("digest".to_owned(), s(import_digest(items)?)),
        (TENANT_ID_ATTRIBUTE.to_owned(), s(tenant.as_str())),
    ]))
}

fn import_digest(items: &[Item]) -> Result<String, AppError> {
    use sha2::{Digest, Sha256};
    let mut lines = items
        .iter()
        .map(export_line)
        .collect::<Result<Vec<_>, _>>()?;
    lines.sort();
    let mut h = Sha256::new();
    for line in &lines {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn to_json(v: &AttributeValue) -> Result<Value, AppError> {
    let (tag, value) = match v {
        AttributeValue::S(x) => ("S", Value::String(x.clone())),
        AttributeValue::N(x) => ("N", Value::String(x.clone())),
        AttributeValue::B(b) => ("B", Value::String(B64.encode(b.as_ref()))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null(b) => ("NULL", Value::Bool(*b)),
        AttributeValue::Ss(x) => ("SS", x.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(x) => ("NS", x.iter().cloned().map(Value::String).collect()),
        AttributeValue::Bs(x) => (
            "BS",
            x.iter()
                .map(|b| Value::String(B64.encode(b.as_ref())))
                .collect(),
        ),
        AttributeValue::L(x) => ("L", x.iter().map(to_json).collect::<Result<_, _>>()?),
        AttributeValue::M(x) => {
            let mut m = Map::new();
            let mut names: Vec<&String> = x.keys().collect();
            names.sort();
            for k in names {
                m.insert(k.clone(), to_json(&x[k])?);
            }
            ("M", Value::Object(m))
        }
        other => {
            return Err(AppError::Internal(format!(
                "an attribute type the export does not know: {other:?}"
            )));
        }
    };
    let mut m = Map::new();
    m.insert(tag.into(), value);
    Ok(Value::Object(m))
}

fn from_json(v: &Value) -> Result<AttributeValue, AppError> {
    let bad = || AppError::Validation(format!("not a DynamoDB JSON attribute value: {v}"));
    let Value::Object(m) = v else {
        return Err(bad());
    };
    let mut entries = m.iter();
    let (Some((tag, value)), None) = (entries.next(), entries.next()) else {
        return Err(bad());
    };
    let string = |x: &Value| x.as_str().map(str::to_owned).ok_or_else(bad);
    let strings = |x: &Value| -> Result<Vec<String>, AppError> {
        x.as_array().ok_or_else(bad)?.iter().map(string).collect()
    };
    let blob = |x: &Value| -> Result<Blob, AppError> {
        B64.decode(x.as_str().ok_or_else(bad)?)
            .map(Blob::new)
            .map_err(|_| bad())
    };
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(string(value)?),
        "N" => AttributeValue::N(string(value)?),
        "B" => AttributeValue::B(blob(value)?),
        "BOOL" => AttributeValue::Bool(value.as_bool().ok_or_else(bad)?),
        "NULL" => AttributeValue::Null(value.as_bool().ok_or_else(bad)?),
        "SS" => AttributeValue::Ss(strings(value)?),
        "NS" => AttributeValue::Ns(strings(value)?),
        "BS" => AttributeValue::Bs(
            value
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        "L" => AttributeValue::L(
            value
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(from_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(
            value
                .as_object()
                .ok_or_else(bad)?
                .iter()
                .map(|(k, v)| from_json(v).map(|a| (k.clone(), a)))
                .collect::<Result<HashMap<_, _>, _>>()?,
        ),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_brings_profiles_back_as_members_with_counters_to_match() {
        let pk = s("TENANT#acme2");
        let profile = |id: &str, role: &str| {
            Item::from([
                (PK.to_owned(), pk.clone()),
                (SK.to_owned(), s(format!("PROFILE#eu-central-1:{id}"))),
                ("role".to_owned(), s(role)),
                ("tenantId".to_owned(), s("acme2")),
            ])
        };
        let meta = Item::from([
            (PK.to_owned(), pk.clone()),
            (SK.to_owned(), s(META_SK)),
            ("memberCount".to_owned(), AttributeValue::N("7".into())),
            ("adminCount".to_owned(), AttributeValue::N("2".into())),
            ("tenantId".to_owned(), s("acme2")),
        ]);
        let note = Item::from([
            (PK.to_owned(), pk.clone()),
            (SK.to_owned(), s("NOTE#n")),
            ("role".to_owned(), s("ADMIN")),
        ]);
        let mut items = vec![
            profile("a", "ADMIN"),
            note.clone(),
            meta,
            profile("b", "MEMBER"),
            profile("c", "ADMIN"),
        ];
        assert_eq!(restore_roles(&mut items), 2);
        let roles: Vec<_> = items.iter().filter_map(|i| i.get("role")).collect();
        assert_eq!(
            roles,
            [&s("MEMBER"), &s("ADMIN"), &s("MEMBER"), &s("MEMBER")],
            "a note's attribute is not a role"
        );
        let meta = items
            .iter()
            .find(|i| i.get(SK) == Some(&s(META_SK)))
            .unwrap();
        assert_eq!(meta["memberCount"], AttributeValue::N("3".into()));
        assert_eq!(meta["adminCount"], AttributeValue::N("0".into()));
        assert_eq!(meta["tenantId"], s("acme2"));
        assert_eq!(items.len(), 5);
        // Profiles without a counters item get one; no profiles, no counters item is made.
        let mut only_profiles = vec![profile("a", "ADMIN")];
        restore_roles(&mut only_profiles);
        assert_eq!(only_profiles.len(), 2);
        assert_eq!(
            only_profiles[1]["memberCount"],
            AttributeValue::N("1".into())
        );
        let mut notes_only = vec![note];
        assert_eq!(restore_roles(&mut notes_only), 0);
        assert_eq!(notes_only.len(), 1);
    }

    fn tid(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    fn note(tenant: &str, public: bool) -> Item {
        let t = tid(tenant);
        let mut item: Item = HashMap::from([
            (PK.to_owned(), s(keys::tenant_partition(&t))),
            (SK.to_owned(), s("NOTE#n1")),
            ("tenantId".to_owned(), s(tenant)),
            ("version".to_owned(), AttributeValue::N("3".into())),
            ("flag".to_owned(), AttributeValue::Bool(true)),
            ("nothing".to_owned(), AttributeValue::Null(true)),
            (
                "tags".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "nums".to_owned(),
                AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
            ),
            (
                "raw".to_owned(),
                AttributeValue::B(Blob::new(vec![0u8, 255, 7])),
            ),
            (
                "raws".to_owned(),
                AttributeValue::Bs(vec![Blob::new(vec![1u8]), Blob::new(vec![2u8])]),
            ),
            (
                "nested".to_owned(),
                AttributeValue::M(HashMap::from([(
                    "list".to_owned(),
                    AttributeValue::L(vec![s("x"), AttributeValue::N("1".into())]),
                )])),
            ),
        ]);
        if public {
            item.insert(GSI1_PK.into(), s(keys::public_partition(&t)));
            item.insert("gsi1sk".into(), s("NOTE#n1"));
        }
        item
    }

    #[test]
    fn an_export_line_round_trips_every_attribute_type() {
        let item = note("acme", true);
        let line = export_line(&item).unwrap();
        assert!(line.starts_with("{\"Item\":{"), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(parse_export_line(&line).unwrap(), item);
        // Deterministic: the same item, the same line.
        assert_eq!(export_line(&item).unwrap(), line);
    }

    #[test]
    fn malformed_lines_are_refused_with_a_reason() {
        for bad in [
            "",
            "[]",
            "{\"Item\":[]}",
            "{\"Item\":{\"pk\":{\"S\":1}}}",
            "{\"Item\":{\"pk\":{\"X\":\"a\"}}}",
            "{\"Item\":{\"pk\":{\"S\":\"a\",\"N\":\"1\"}}}",
            "{\"Item\":{\"b\":{\"B\":\"***\"}}}",
        ] {
            assert!(
                matches!(parse_export_line(bad), Err(AppError::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn retarget_rewrites_partition_public_index_and_tenant_id() {
        let moved = retarget(note("initech", true), &tid("initech"), &tid("initech2")).unwrap();
        assert_eq!(moved[PK], s("TENANT#initech2"));
        assert_eq!(moved[GSI1_PK], s("PUBLIC#initech2"));
        assert_eq!(moved["tenantId"], s("initech2"));
        assert_eq!(moved[SK], s("NOTE#n1"));
        let private = retarget(note("initech", false), &tid("initech"), &tid("x")).unwrap();
        assert!(!private.contains_key(GSI1_PK));
    }

    #[test]
    fn retarget_refuses_items_of_another_tenant() {
        assert!(retarget(note("globex", false), &tid("initech"), &tid("x")).is_err());
        let mut odd = note("initech", true);
        odd.insert(GSI1_PK.into(), s("PUBLIC#globex"));
        assert!(retarget(odd, &tid("initech"), &tid("x")).is_err());
        let mut odd = note("initech", false);
        odd.insert("tenantId".into(), s("globex"));
        assert!(retarget(odd, &tid("initech"), &tid("x")).is_err());
    }

    #[test]
    fn an_export_holds_exactly_one_tenant() {
        assert_eq!(
            source_tenant(&[note("acme", false), note("acme", true)]).unwrap(),
            tid("acme")
        );
        assert!(source_tenant(&[note("acme", false), note("globex", false)]).is_err());
        assert!(source_tenant(&[]).is_err());
        let mut registry = note("acme", false);
        registry.insert(PK.into(), s("REGISTRY"));
        assert!(source_tenant(&[registry]).is_err());
    }
}
