//! Note items, reachable only through a tenant-scoped handle.

use std::time::Duration;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde::{Deserialize, Serialize};

use super::keys::{self, GSI1, GSI1_PK, GSI1_SK, NOTE_PREFIX, PK, SK, TTL_ATTRIBUTE};
use super::{Db, Item, from_item, n, s, sdk_err, to_item};
use crate::error::AppError;
use crate::identity::IdentityId;
use crate::notes::{self, ClientToken, Note, NoteId, NoteUpdate, Visibility};
use crate::pagination::Limit;
use crate::profiles::Admin;
use crate::tenancy::ActiveTenant;

/// How long an idempotency token is remembered.
const CLIENT_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Filtered queries may need several DynamoDB pages to fill one GraphQL page; past this many a
/// short page with a `nextToken` is returned rather than holding the request.
const MAX_QUERY_ROUNDS: usize = 8;

/// A note as stored: the API fields plus the keys.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NoteItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    id: NoteId,
    tenant_id: String,
    owner_id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    visibility: Visibility,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl NoteItem {
    fn into_note(self) -> Note {
        Note {
            id: self.id,
            tenant_id: self.tenant_id,
            owner_id: self.owner_id,
            title: self.title,
            body: self.body,
            visibility: self.visibility,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenItem {
    pk: String,
    sk: String,
    note_id: NoteId,
    expires_at: i64,
}

/// Who is writing a note: its owner (the condition checks `ownerId`), or an admin of the
/// tenant (proven by [`Admin`], which only a profile read can make).
#[derive(Debug, Clone)]
pub enum Writer {
    Owner(IdentityId),
    Admin(Admin),
}

/// One page of notes and the id to continue after, if there may be more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Note>,
    pub last: Option<NoteId>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created(Note),
    /// The caller's `clientToken` was used before: this is the note it created then.
    Replayed(Note),
}

impl CreateOutcome {
    pub fn into_note(self) -> Note {
        match self {
            CreateOutcome::Created(n) | CreateOutcome::Replayed(n) => n,
        }
    }
}

/// Read/write access to the notes of one active tenant.
#[derive(Debug, Clone)]
pub struct TenantStore {
    db: Db,
    tenant: ActiveTenant,
    partition: String,
}

/// Read access to the PUBLIC notes of one active tenant, for anyone (guests included).
#[derive(Debug, Clone)]
pub struct PublicNotes {
    db: Db,
    tenant: ActiveTenant,
}

impl TenantStore {
    pub fn new(db: Db, tenant: ActiveTenant) -> Self {
        let partition = keys::tenant_partition(tenant.id());
        TenantStore {
            db,
            tenant,
            partition,
        }
    }

    pub fn tenant(&self) -> &ActiveTenant {
        &self.tenant
    }

    pub(crate) fn partition(&self) -> &str {
        &self.partition
    }

    pub(crate) fn table(&self) -> &str {
        &self.db.table
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.db.client
    }

    fn key(&self, id: &NoteId) -> [(&'static str, aws_sdk_dynamodb::types::AttributeValue); 2] {
        [(PK, s(&self.partition)), (SK, s(keys::note_sk(id)))]
    }

    fn item_of(&self, note: &Note) -> Result<Item, AppError> {
        let public = note.visibility == Visibility::Public;
        to_item(&NoteItem {
            pk: self.partition.clone(),
            sk: keys::note_sk(&note.id),
            gsi1pk: public.then(|| keys::public_partition(self.tenant.id())),
            gsi1sk: public.then(|| keys::note_sk(&note.id)),
            id: note.id.clone(),
            tenant_id: note.tenant_id.clone(),
            owner_id: note.owner_id.clone(),
            title: note.title.clone(),
            body: note.body.clone(),
            visibility: note.visibility,
            version: note.version,
            created_at: note.created_at.clone(),
            updated_at: note.updated_at.clone(),
        })
    }

    /// Decodes an item of this tenant's partition; an item of any other tenant is refused even
    /// though the key layout cannot produce one (belt and braces for the product's one promise).
    fn note_of(&self, item: Item) -> Result<Note, AppError> {
        let note = from_item::<NoteItem>(item)?.into_note();
        if note.tenant_id != self.tenant.id().as_str() {
            return Err(AppError::Internal(format!(
                "item of tenant {} read through the store of {}",
                note.tenant_id,
                self.tenant.id()
            )));
        }
        Ok(note)
    }

    /// The note with this id in this tenant, whoever may read it (rules are the caller's job).
    pub async fn get_note(&self, id: &NoteId) -> Result<Option<Note>, AppError> {
        let [pk, sk] = self.key(id);
        let out = self
            .db
            .client
            .get_item()
            .table_name(&self.db.table)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            // Read-your-writes: a client that just created a note must be able to read it.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem note", e))?;
        out.item.map(|i| self.note_of(i)).transpose()
    }

    /// Writes a new note; never overwrites. With a client token, the note and the token are
    /// written in one transaction, and a token the caller used before returns the first note.
    pub async fn create_note(
        &self,
        note: &Note,
        token: Option<(&IdentityId, &ClientToken)>,
    ) -> Result<CreateOutcome, AppError> {
        let item = self.item_of(note)?;
        let Some((owner, token)) = token else {
            self.db
                .client
                .put_item()
                .table_name(&self.db.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(|e| sdk_err("PutItem note", e))?;
            return Ok(CreateOutcome::Created(note.clone()));
        };

        let token_sk = keys::token_sk(owner, token);
        let expires_at = now_epoch() + CLIENT_TOKEN_TTL.as_secs() as i64;
        let token_item = to_item(&TokenItem {
            pk: self.partition.clone(),
            sk: token_sk.clone(),
            note_id: note.id.clone(),
            expires_at,
        })?;
        debug_assert!(token_item.contains_key(TTL_ATTRIBUTE));
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.db.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| AppError::internal("transaction put", e))
        };
        // A concurrent request with the same token may hold the item in its own transaction:
        // retry a few times until one of them has committed.
        for attempt in 0..5u32 {
            let res = self
                .db
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put(item.clone())?).build())
                .transact_items(
                    TransactWriteItem::builder()
                        .put(put(token_item.clone())?)
                        .build(),
                )
                .send()
                .await;
            let err = match res {
                Ok(_) => return Ok(CreateOutcome::Created(note.clone())),
                Err(e) => e,
            };
            let reasons: Vec<Option<String>> = err
                .as_service_error()
                .and_then(|s| match s {
                    TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                    _ => None,
                })
                .map(|c| {
                    c.cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let token_taken =
                reasons.get(1).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed");
            let conflict = reasons
                .iter()
                .any(|c| c.as_deref() == Some("TransactionConflict"))
                || err
                    .as_service_error()
                    .is_some_and(|s| s.is_transaction_in_progress_exception());
            if token_taken {
                return self.replay(&token_sk).await;
            }
            if !conflict {
                return Err(sdk_err("TransactWriteItems create note", err));
            }
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1))).await;
        }
        // Still contended: whichever request won has committed by now or will answer itself.
        self.replay(&token_sk).await
    }

    async fn replay(&self, token_sk: &str) -> Result<CreateOutcome, AppError> {
        let out = self
            .db
            .client
            .get_item()
            .table_name(&self.db.table)
            .key(PK, s(&self.partition))
            .key(SK, s(token_sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("GetItem token", e))?;
        let Some(item) = out.item else {
            return Err(AppError::Conflict(
                "Another request with this clientToken is in progress; retry shortly.".into(),
            ));
        };
        let token: TokenItem = from_item(item)?;
        match self.get_note(&token.note_id).await? {
            Some(note) => Ok(CreateOutcome::Replayed(note)),
            None => Err(AppError::Conflict(
                "This clientToken was already used for a note that has since been deleted; use a new clientToken.".into(),
            )),
        }
    }

    /// Applies `change` if `writer` may (the owner, or an admin of this tenant) and the note is
    /// still at `expected_version`.
    pub async fn update_note(
        &self,
        writer: Writer,
        change: &NoteUpdate,
        now: &str,
    ) -> Result<Note, AppError> {
        let [pk, sk] = self.key(&change.id);
        let mut set = vec!["version = version + :one", "updatedAt = :now"];
        let mut remove = Vec::new();
        let mut req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1)
            .expression_attribute_values(":expected", n(change.expected_version))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now));
        if let Some(title) = &change.title {
            set.push("title = :title");
            req = req.expression_attribute_values(":title", s(title));
        }
        match &change.body {
            None => {}
            Some(Some(body)) => {
                set.push("body = :body");
                req = req.expression_attribute_values(":body", s(body));
            }
            Some(None) => remove.push("body"),
        }
        if let Some(v) = change.visibility {
            set.push("visibility = :vis");
            req = req.expression_attribute_values(":vis", s(visibility_str(v)));
            // Only PUBLIC notes are in the public index (a sparse GSI).
            if v == Visibility::Public {
                set.push("gsi1pk = :gpk, gsi1sk = :gsk");
                req = req
                    .expression_attribute_values(
                        ":gpk",
                        s(keys::public_partition(self.tenant.id())),
                    )
                    .expression_attribute_values(":gsk", s(keys::note_sk(&change.id)));
            } else {
                remove.extend(["gsi1pk", "gsi1sk"]);
            }
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut cond = String::from("attribute_exists(pk) AND version = :expected");
        let (extra, values) = writer_condition(&writer);
        cond.push_str(extra);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        let res = req
            .condition_expression(cond)
            .update_expression(expr)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => self.returned_note(out.attributes, "UpdateItem"),
            Err(e) => {
                let old = e.as_service_error().and_then(|s| match s {
                    UpdateItemError::ConditionalCheckFailedException(c) => Some(c.item().cloned()),
                    _ => None,
                });
                match old {
                    Some(old) => {
                        Err(self.rejection(old, &writer, Some(change.expected_version))?)
                    }
                    None => Err(sdk_err("UpdateItem note", e)),
                }
            }
        }
    }

    /// Deletes the note if `writer` may (and, if given, it is at `expected_version`).
    pub async fn delete_note(
        &self,
        writer: Writer,
        id: &NoteId,
        expected_version: Option<i64>,
    ) -> Result<Note, AppError> {
        let [pk, sk] = self.key(id);
        let mut cond = String::from("attribute_exists(pk)");
        let mut req = self
            .db
            .client
            .delete_item()
            .table_name(&self.db.table)
            .key(pk.0, pk.1)
            .key(sk.0, sk.1);
        let (extra, values) = writer_condition(&writer);
        cond.push_str(extra);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        if let Some(v) = expected_version {
            cond.push_str(" AND version = :expected");
            req = req.expression_attribute_values(":expected", n(v));
        }
        let res = req
            .condition_expression(cond)
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => self.returned_note(out.attributes, "DeleteItem"),
            Err(e) => {
                let old = e.as_service_error().and_then(|s| match s {
                    DeleteItemError::ConditionalCheckFailedException(c) => Some(c.item().cloned()),
                    _ => None,
                });
                match old {
                    Some(old) => Err(self.rejection(old, &writer, expected_version)?),
                    None => Err(sdk_err("DeleteItem note", e)),
                }
            }
        }
    }

    /// The note a write returned (`ReturnValues`); none is a store bug, not a client error.
    fn returned_note(&self, attributes: Option<Item>, op: &str) -> Result<Note, AppError> {
        let item =
            attributes.ok_or_else(|| AppError::Internal(format!("{op} returned no attributes")))?;
        self.note_of(item)
    }

    fn rejection(
        &self,
        old: Option<Item>,
        writer: &Writer,
        expected: Option<i64>,
    ) -> Result<AppError, AppError> {
        let current = old.map(|i| self.note_of(i)).transpose()?;
        Ok(match writer {
            Writer::Owner(viewer) => notes::write_rejection(current.as_ref(), viewer, expected),
            Writer::Admin(admin) => notes::admin_write_rejection(current.as_ref(), admin, expected),
        })
    }

    /// The notes of this tenant that `viewer` may read, newest first.
    pub async fn list_readable(
        &self,
        viewer: &IdentityId,
        limit: Limit,
        after: Option<&NoteId>,
    ) -> Result<Page, AppError> {
        let query = QuerySpec {
            index: None,
            partition_attr: PK,
            partition: self.partition.clone(),
            filter: Some((
                "visibility <> :private OR ownerId = :me",
                vec![
                    (":private", s(visibility_str(Visibility::Private))),
                    (":me", s(viewer.as_str())),
                ],
            )),
            start: after.map(|id| vec![(PK, s(&self.partition)), (SK, s(keys::note_sk(id)))]),
        };
        let page = run_query(&self.db, query, limit).await?;
        let items = page
            .0
            .into_iter()
            .map(|i| self.note_of(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            last: page.1,
        })
    }
}

impl PublicNotes {
    pub fn new(db: Db, tenant: ActiveTenant) -> Self {
        PublicNotes { db, tenant }
    }

    pub fn tenant(&self) -> &ActiveTenant {
        &self.tenant
    }

    /// The tenant's PUBLIC notes, newest first, from the sparse public index.
    pub async fn list(&self, limit: Limit, after: Option<&NoteId>) -> Result<Page, AppError> {
        let tenant = self.tenant.id();
        let partition = keys::public_partition(tenant);
        let query = QuerySpec {
            index: Some(GSI1),
            partition_attr: GSI1_PK,
            partition: partition.clone(),
            filter: None,
            start: after.map(|id| {
                vec![
                    (GSI1_PK, s(&partition)),
                    (GSI1_SK, s(keys::note_sk(id))),
                    (PK, s(keys::tenant_partition(tenant))),
                    (SK, s(keys::note_sk(id))),
                ]
            }),
        };
        let (raw, last) = run_query(&self.db, query, limit).await?;
        let mut items = Vec::with_capacity(raw.len());
        for item in raw {
            let note = from_item::<NoteItem>(item)?.into_note();
            // The index is keyed by tenant, so this holds by construction; refuse rather than leak.
            if note.tenant_id != tenant.as_str() || note.visibility != Visibility::Public {
                return Err(AppError::Internal(format!(
                    "public index returned a foreign item {}",
                    note.id.as_str()
                )));
            }
            items.push(note);
        }
        Ok(Page { items, last })
    }
}

struct QuerySpec {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition: String,
    filter: Option<(
        &'static str,
        Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    )>,
    start: Option<Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>>,
}

/// Runs a query over one partition of note items, newest first, until `limit` items passed the
/// filter or the partition ends. Asking DynamoDB for exactly the missing count each round keeps
/// its `LastEvaluatedKey` on the last item we return, so the next page starts right after it.
async fn run_query(
    db: &Db,
    spec: QuerySpec,
    limit: Limit,
) -> Result<(Vec<Item>, Option<NoteId>), AppError> {
    let mut out: Vec<Item> = Vec::with_capacity(limit.get());
    let mut start: Option<Item> = spec
        .start
        .map(|kv| kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
    for _ in 0..MAX_QUERY_ROUNDS {
        let want = limit.get() - out.len();
        let mut req = db
            .client
            .query()
            .table_name(&db.table)
            .set_index_name(spec.index.map(str::to_owned))
            .key_condition_expression("#p = :p AND begins_with(#s, :note)")
            .expression_attribute_names("#p", spec.partition_attr)
            .expression_attribute_names("#s", if spec.index.is_some() { GSI1_SK } else { SK })
            .expression_attribute_values(":p", s(&spec.partition))
            .expression_attribute_values(":note", s(NOTE_PREFIX))
            .scan_index_forward(false)
            .limit(i32::try_from(want).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.take());
        if let Some((filter, values)) = &spec.filter {
            req = req.filter_expression(*filter);
            for (k, v) in values {
                req = req.expression_attribute_values(*k, v.clone());
            }
        }
        let page = req.send().await.map_err(|e| sdk_err("Query notes", e))?;
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() || out.len() >= limit.get() {
            break;
        }
    }
    let last = match start {
        None => None,
        Some(key) => {
            let sk = key
                .get(SK)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                .unwrap_or_default();
            let id = sk.strip_prefix(NOTE_PREFIX).ok_or_else(|| {
                AppError::Internal(format!("unexpected sort key in LastEvaluatedKey: {sk}"))
            })?;
            Some(NoteId::parse(id).map_err(|e| AppError::internal("LastEvaluatedKey", e))?)
        }
    };
    Ok((out, last))
}

/// The part of a note write's condition that says who may write: the owner, or an admin for a
/// note the admin can read (never someone else's PRIVATE note: those are their owner's alone,
/// and the condition, not a prior read, is what enforces it).
fn writer_condition(writer: &Writer) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    match writer {
        Writer::Owner(owner) => (" AND ownerId = :owner", vec![(":owner", s(owner.as_str()))]),
        Writer::Admin(_) => (
            " AND visibility <> :private",
            vec![(":private", s(visibility_str(Visibility::Private)))],
        ),
    }
}

fn visibility_str(v: Visibility) -> &'static str {
    match v {
        Visibility::Private => "PRIVATE",
        Visibility::Tenant => "TENANT",
        Visibility::Public => "PUBLIC",
    }
}

fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
