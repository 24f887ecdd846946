//! Note items and their idempotency tokens, reachable only through a tenant-scoped handle
//! ([`TenantStore`]) or the read-only [`PublicReader`] view.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde::{Deserialize, Serialize};

use super::keys::{
    self, GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_SK, ListingRange, NOTE_PREFIX, PK, SK, TTL_ATTRIBUTE,
};
use super::write::{self, Sent, Tries};
use super::{Db, Item, TenantStore, from_item, n, s, sdk_err, to_item, value};
use crate::error::AppError;
use crate::identity::IdentityId;
use crate::notes::{
    self, Body, ClientToken, Note, NoteId, NoteUpdate, Title, Visibility, can_read,
};
use crate::pagination::{Limit, Position};
use crate::profiles::Admin;
use crate::tenancy::{ActiveTenant, TenantId};

/// How long an idempotency token is remembered.
const CLIENT_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A page is one query per range unless DynamoDB's 1 MB response limit cut one short (a page of
/// 100 notes of 10,000 characters each is more than 1 MB); past this many rounds a short page
/// with a `nextToken` is returned rather than holding the request.
const MAX_QUERY_ROUNDS: usize = 4;

/// The flags of a `notes` cursor ([`Position::flags`]): which listing ranges are exhausted below
/// the cursor (so the next page does not read them again), and which range led the last page (it
/// is read first next time: the range that fills most of a page should be the one read in full).
const SHARED_DONE: u8 = 1;
const OWN_DONE: u8 = 2;
const OWN_LEADS: u8 = 4;
const KNOWN_FLAGS: u8 = SHARED_DONE | OWN_DONE | OWN_LEADS;

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
    /// The note's place in the listing index (absent only on items written before it existed,
    /// until `tenantctl backfill-indexes` adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    id: NoteId,
    tenant_id: TenantId,
    owner_id: IdentityId,
    title: Title,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Body>,
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

/// One page of notes and where the next one starts, if there may be more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Note>,
    pub next: Option<Position>,
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

/// Read access to the PUBLIC notes of one active tenant, for anyone (guests included).
#[derive(Debug, Clone)]
pub struct PublicReader {
    db: Db,
    tenant: ActiveTenant,
}

/// Notes: create, read, update, delete and list.
impl TenantStore {
    fn item_of(&self, note: &Note) -> Result<Item, AppError> {
        let public = note.visibility == Visibility::Public;
        to_item(&NoteItem {
            pk: self.partition().to_owned(),
            sk: keys::note_sk(&note.id),
            gsi1pk: public.then(|| keys::public_partition(self.tenant().id())),
            gsi1sk: public.then(|| keys::note_sk(&note.id)),
            gsi2sk: Some(keys::listing_range(&note.owner_id, note.visibility).sk(&note.id)),
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

    /// A note of this tenant as `create_note` writes it, for loading many at once (the bench's
    /// large tenants): the keys come from here, not from the loader.
    pub fn note_item(&self, note: &Note) -> Result<HashMap<String, AttributeValue>, AppError> {
        self.check_tenant(&note.tenant_id, "note")?;
        self.item_of(note)
    }

    /// Decodes an item of this tenant's partition (an item of any other tenant is refused).
    fn note_of(&self, item: Item) -> Result<Note, AppError> {
        let note = from_item::<NoteItem>(item)?.into_note();
        self.check_tenant(&note.tenant_id, "note")?;
        Ok(note)
    }

    /// The note with this id in this tenant, whoever may read it (rules are the caller's job).
    pub async fn get_note(&self, id: &NoteId) -> Result<Option<Note>, AppError> {
        // Read-your-writes: a client that just created a note must be able to read it.
        let item = self.get("GetItem note", keys::note_sk(id), true).await?;
        item.map(|i| self.note_of(i)).transpose()
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
            const OP: &str = "PutItem note";
            let put = self
                .db()
                .client
                .put_item()
                .table_name(&self.db().table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)");
            return match write::conditional(OP, put).await? {
                Ok(_) => Ok(CreateOutcome::Created(note.clone())),
                // The id is a fresh UUIDv7: one that exists already is not the client's doing.
                Err(refused) => Err(refused.unexpected(OP)),
            };
        };

        const OP: &str = "TransactWriteItems create note";
        let token_sk = keys::token_sk(owner, token);
        let expires_at = now_epoch() + CLIENT_TOKEN_TTL.as_secs() as i64;
        let token_item = to_item(&TokenItem {
            pk: self.partition().to_owned(),
            sk: token_sk.clone(),
            note_id: note.id.clone(),
            expires_at,
        })?;
        debug_assert!(token_item.contains_key(TTL_ATTRIBUTE));
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.db().table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| AppError::internal("transaction put", e))
        };
        let tx = self
            .db()
            .client
            .transact_write_items()
            .transact_items(put(item)?)
            .transact_items(put(token_item)?);
        // A concurrent request with the same token may hold the token item in its own
        // transaction: retry until one of them has committed.
        let mut tries = Tries::default();
        while tries.next().await {
            match write::send(OP, tx.clone()).await? {
                Sent::Written(_) => return Ok(CreateOutcome::Created(note.clone())),
                // The token was used before: answer with the note it created.
                Sent::Refused(refused) if refused.failed(1) => break,
                Sent::Refused(refused) => return Err(refused.unexpected(OP)),
                Sent::Contended => {}
            }
        }
        // Used before, or still contended: whichever request won has committed by now or will
        // answer itself.
        self.replay(&token_sk).await
    }

    async fn replay(&self, token_sk: &str) -> Result<CreateOutcome, AppError> {
        let Some(item) = self.get("GetItem token", token_sk, true).await? else {
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
        let mut set = vec!["version = version + :one", "updatedAt = :now"];
        let mut cond = String::from("attribute_exists(pk) AND version = :expected");
        let mut remove = Vec::new();
        let mut req = self
            .db()
            .client
            .update_item()
            .table_name(&self.db().table)
            .set_key(Some(self.key(keys::note_sk(&change.id))))
            .expression_attribute_values(":expected", n(change.expected_version))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now));
        if let Some(title) = &change.title {
            set.push("title = :title");
            req = req.expression_attribute_values(":title", s(title.as_str()));
        }
        match &change.body {
            None => {}
            Some(Some(body)) => {
                set.push("body = :body");
                req = req.expression_attribute_values(":body", s(body.as_str()));
            }
            Some(None) => remove.push("body"),
        }
        if let Some(v) = change.visibility {
            set.push("visibility = :vis");
            req = req.expression_attribute_values(":vis", value(&v)?);
            // Only PUBLIC notes are in the public index (a sparse GSI).
            if v == Visibility::Public {
                set.push("gsi1pk = :gpk, gsi1sk = :gsk");
                req = req
                    .expression_attribute_values(
                        ":gpk",
                        s(keys::public_partition(self.tenant().id())),
                    )
                    .expression_attribute_values(":gsk", s(keys::note_sk(&change.id)));
            } else {
                remove.extend(["gsi1pk", "gsi1sk"]);
            }
            // The listing index: the note moves to the range of its new visibility. A PRIVATE
            // note's range names its owner, which an admin's write does not know: it is read
            // first (an admin making someone else's note PRIVATE is rare), and the write is
            // conditioned on that owner, so the key always names the note's real owner.
            let listing_sk = match (&writer, v) {
                (_, Visibility::Tenant | Visibility::Public) => ListingRange::Shared.sk(&change.id),
                // The condition `ownerId = :owner` holds the owner to the writer.
                (Writer::Owner(me), Visibility::Private) => {
                    ListingRange::PrivateOf(me).sk(&change.id)
                }
                (Writer::Admin(_), Visibility::Private) => {
                    let Some(current) = self.get_note(&change.id).await? else {
                        return Err(self.rejection(
                            None,
                            &writer,
                            Some(change.expected_version),
                        )?);
                    };
                    cond.push_str(" AND ownerId = :listingOwner");
                    req = req
                        .expression_attribute_values(":listingOwner", s(current.owner_id.as_str()));
                    ListingRange::PrivateOf(&current.owner_id).sk(&change.id)
                }
            };
            set.push("gsi2sk = :listingSk");
            req = req.expression_attribute_values(":listingSk", s(listing_sk));
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let (extra, values) = writer_condition(&writer)?;
        cond.push_str(extra);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        let req = req
            .condition_expression(cond)
            .update_expression(expr)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match write::conditional("UpdateItem note", req).await? {
            Ok(out) => self.returned_note(out.attributes, "UpdateItem"),
            Err(refused) => {
                Err(self.rejection(refused.into_old(), &writer, Some(change.expected_version))?)
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
        let mut cond = String::from("attribute_exists(pk)");
        let mut req = self
            .db()
            .client
            .delete_item()
            .table_name(&self.db().table)
            .set_key(Some(self.key(keys::note_sk(id))));
        let (extra, values) = writer_condition(&writer)?;
        cond.push_str(extra);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        if let Some(v) = expected_version {
            cond.push_str(" AND version = :expected");
            req = req.expression_attribute_values(":expected", n(v));
        }
        let req = req
            .condition_expression(cond)
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match write::conditional("DeleteItem note", req).await? {
            Ok(out) => self.returned_note(out.attributes, "DeleteItem"),
            Err(refused) => Err(self.rejection(refused.into_old(), &writer, expected_version)?),
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

    /// The notes of this tenant that `viewer` may read, newest first, continuing at `from`.
    ///
    /// Two ranges of the listing index hold them, disjoint and each in id (= creation) order:
    /// the tenant's shared notes and the viewer's own PRIVATE notes. A page merges them. The
    /// range that led the last page is read first, a page's worth; the other is read only down
    /// to where that read ended, since nothing below it can make this page. So a page reads the
    /// notes it returns plus at most the other range's share of it, never another user's
    /// PRIVATE notes, whatever the tenant holds. A range known to be exhausted is not read again.
    pub async fn list_readable(
        &self,
        viewer: &IdentityId,
        limit: Limit,
        from: Option<&Position>,
    ) -> Result<Page, AppError> {
        let flags = from.map_or(0, |p| p.flags);
        if flags & !KNOWN_FLAGS != 0 {
            // Only this function mints flags, under the MAC: unknown ones are not ours.
            return Err(AppError::validation(
                "nextToken is invalid: pass back the nextToken of the same query unchanged.",
            ));
        }
        let ranges = [ListingRange::Shared, ListingRange::PrivateOf(viewer)];
        let mut done = [flags & SHARED_DONE != 0, flags & OWN_DONE != 0];
        let lead = usize::from(flags & OWN_LEADS != 0);
        let mut after: Option<NoteId> = from.map(|p| p.after.clone());
        let mut items: Vec<Note> = Vec::with_capacity(limit.get());
        let mut taken = [0usize; 2];
        for _ in 0..MAX_QUERY_ROUNDS {
            let need = limit.get() - items.len();
            if need == 0 || done.iter().all(|d| *d) {
                break;
            }
            let (first, second) = (lead, 1 - lead);
            let a = match done[first] {
                true => RangeRead::default(),
                false => {
                    self.read_range(ranges[first], viewer, after.as_ref(), None, need)
                        .await?
                }
            };
            // Where the first read stopped: below it, its range is unknown.
            let a_floor = if a.more { a.last.clone() } else { None };
            if a.more && a_floor.is_none() {
                break;
            }
            let b = match done[second] {
                true => RangeRead::default(),
                false => {
                    self.read_range(
                        ranges[second],
                        viewer,
                        after.as_ref(),
                        a_floor.as_ref(),
                        need,
                    )
                    .await?
                }
            };
            let b_floor = if b.more { b.last.clone() } else { None };
            // Both ranges are known from `after` down to `floor` (None: to their ends).
            let floor = a_floor.clone().max(b_floor);
            let known = |n: &Note| floor.as_ref().is_none_or(|f| n.id >= *f);
            let mut merged: Vec<(usize, Note)> = a
                .notes
                .into_iter()
                .map(|n| (first, n))
                .chain(b.notes.into_iter().map(|n| (second, n)))
                .filter(|(_, n)| known(n))
                .collect();
            merged.sort_by(|x, y| y.1.id.cmp(&x.1.id));
            let all_known = merged.len();
            let mut this_round = [0usize; 2];
            for (range, note) in merged.into_iter().take(need) {
                this_round[range] += 1;
                after = Some(note.id.clone());
                items.push(note);
            }
            let took = this_round[0] + this_round[1];
            // A range is done when it was read to its end (the second one only when it was
            // read without a lower bound) and everything it returned is on the page.
            if !a.more && this_round[first] == a.returned {
                done[first] = true;
            }
            if !b.more && a_floor.is_none() && this_round[second] == b.returned {
                done[second] = true;
            }
            taken[0] += this_round[0];
            taken[1] += this_round[1];
            if took < all_known {
                // The page is full; the next one starts after its last note.
                break;
            }
            // Everything known was taken: both ranges are consumed down to `floor` (entries
            // skipped as unreadable included), so the cursor moves there even when no note was
            // taken — a page of skipped entries must not hand back the same cursor forever.
            match floor {
                Some(floor) if after.as_ref() != Some(&floor) => after = Some(floor),
                Some(_) if took > 0 => {}
                // No movement at all (cannot happen: a range with more has a last entry).
                Some(_) => break,
                // Both ranges read to their ends: the flags say so.
                None => {}
            }
        }
        let next_lead = match taken[1].cmp(&taken[0]) {
            std::cmp::Ordering::Greater => 1,
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => lead,
        };
        let next = match (after, done) {
            (_, [true, true]) | (None, _) => None,
            (Some(after), done) => Some(Position {
                after,
                flags: [
                    (done[0], SHARED_DONE),
                    (done[1], OWN_DONE),
                    (next_lead == 1, OWN_LEADS),
                ]
                .iter()
                .filter(|(set, _)| *set)
                .fold(0, |flags, (_, bit)| flags | bit),
            }),
        };
        Ok(Page { items, next })
    }

    /// Up to `limit` notes of one listing range, newest first, below `after` and above `above`
    /// (both exclusive; `None`: unbounded). Only notes `viewer` may read are returned: an entry
    /// in the wrong range (written by an older version before `tenantctl backfill-indexes`
    /// fixed it) is skipped, never shown.
    async fn read_range(
        &self,
        range: ListingRange<'_>,
        viewer: &IdentityId,
        after: Option<&NoteId>,
        above: Option<&NoteId>,
        limit: usize,
    ) -> Result<RangeRead, AppError> {
        if let (Some(lo), Some(hi)) = (above, after)
            && lo >= hi
        {
            return Ok(RangeRead::default());
        }
        let low = match above {
            Some(id) => range.sk(id),
            None => range.prefix(),
        };
        let start = after.map(|id| {
            let mut start = self.key(keys::note_sk(id));
            start.insert(GSI2_SK.into(), s(range.sk(id)));
            start
        });
        let out = self
            .db()
            .client
            .query()
            .table_name(&self.db().table)
            .index_name(GSI2)
            .key_condition_expression("#p = :p AND #s BETWEEN :low AND :high")
            .expression_attribute_names("#p", PK)
            .expression_attribute_names("#s", GSI2_SK)
            .expression_attribute_values(":p", s(self.partition()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(range.end()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_err("Query notes", e))?;
        let raw = out.items.unwrap_or_default();
        let mut read = RangeRead {
            returned: 0,
            notes: Vec::with_capacity(raw.len()),
            last: None,
            more: out.last_evaluated_key.is_some(),
        };
        for item in raw {
            let note = self.note_of(item)?;
            read.last = Some(note.id.clone());
            if can_read(&note, viewer) {
                read.returned += 1;
                read.notes.push(note);
            } else {
                tracing::warn!(note = %note.id, "listing index entry in the wrong range: skipped; run tenantctl backfill-indexes");
            }
        }
        Ok(read)
    }
}

/// One read of a listing range.
#[derive(Default)]
struct RangeRead {
    /// The notes it returned that the viewer may read, newest first.
    notes: Vec<Note>,
    /// How many those are.
    returned: usize,
    /// The id of the last item read (returned or skipped): the range is known down to it.
    last: Option<NoteId>,
    /// Whether the range may hold more below `last`.
    more: bool,
}

impl PublicReader {
    pub fn new(db: Db, tenant: ActiveTenant) -> Self {
        PublicReader { db, tenant }
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
            start: after.map(|id| {
                let mut start = super::key(keys::tenant_partition(tenant), keys::note_sk(id));
                start.insert(GSI1_PK.into(), s(&partition));
                start.insert(GSI1_SK.into(), s(keys::note_sk(id)));
                start
            }),
        };
        let (raw, last) = run_query(&self.db, query, limit).await?;
        let mut items = Vec::with_capacity(raw.len());
        for item in raw {
            let note = from_item::<NoteItem>(item)?.into_note();
            // The index is keyed by tenant, so this holds by construction; refuse rather than leak.
            if note.tenant_id != *tenant || note.visibility != Visibility::Public {
                return Err(AppError::Internal(format!(
                    "public index returned a foreign item {}",
                    note.id.as_str()
                )));
            }
            items.push(note);
        }
        Ok(Page {
            items,
            next: last.map(Position::after),
        })
    }
}

struct QuerySpec {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition: String,
    /// The `ExclusiveStartKey`: the table's key and, on an index, the index's key too.
    start: Option<Item>,
}

/// Runs a query over one partition of note items, newest first, until `limit` items were read
/// or the partition ends (more than one round only when the 1 MB response limit cut one short).
/// Asking DynamoDB for exactly the missing count each round keeps
/// its `LastEvaluatedKey` on the last item we return, so the next page starts right after it.
async fn run_query(
    db: &Db,
    spec: QuerySpec,
    limit: Limit,
) -> Result<(Vec<Item>, Option<NoteId>), AppError> {
    let mut out: Vec<Item> = Vec::with_capacity(limit.get());
    let mut start: Option<Item> = spec.start;
    for _ in 0..MAX_QUERY_ROUNDS {
        let want = limit.get() - out.len();
        let req = db
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
type Condition = (&'static str, Vec<(&'static str, AttributeValue)>);

fn writer_condition(writer: &Writer) -> Result<Condition, AppError> {
    Ok(match writer {
        Writer::Owner(owner) => (" AND ownerId = :owner", vec![(":owner", s(owner.as_str()))]),
        Writer::Admin(_) => (
            " AND visibility <> :private",
            vec![(":private", value(&Visibility::Private)?)],
        ),
    })
}

fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
