//! `tenantctl backfill-indexes`: gives every note written before the listing index existed its
//! `gsi2sk`, and corrects one an older version left in the wrong range.
//!
//! A parallel Scan reads the table; each note whose `gsi2sk` is missing or differs from what its
//! owner and visibility say gets one conditional UpdateItem, conditioned on the owner and
//! visibility the scan saw (and on the key still being wrong): a note changed meanwhile is left
//! to the writer that changed it, and running the backfill again is always safe. A note already
//! right is not written, so a second run writes nothing.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;

use super::Admin;
use crate::error::AppError;
use crate::identity::IdentityId;
use crate::notes::{NoteId, Visibility};
use crate::store::keys::{self, GSI2_SK, NOTE_PREFIX, PK, SK, TENANT_PREFIX};
use crate::store::{Item, s, sdk_err, write};

/// What a backfill did (cumulative while it runs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackfillReport {
    /// Items the scan read (every item type).
    pub scanned: u64,
    /// Note items among them.
    pub notes: u64,
    /// Notes whose `gsi2sk` this run wrote.
    pub updated: u64,
    /// Notes whose `gsi2sk` was right already.
    pub correct: u64,
    /// Notes changed between the scan and the write (their writer set the key; with an older
    /// version still deployed, run the backfill again).
    pub changed: u64,
    /// Note items that do not decode (missing or malformed id, owner or visibility): left alone.
    pub skipped: u64,
    /// Tenants whose record was written to every provider item (the copies a cold look-up
    /// reads; see `registry`).
    pub tenants: u64,
}

impl BackfillReport {
    fn add(&mut self, other: &BackfillReport) {
        self.scanned += other.scanned;
        self.notes += other.notes;
        self.updated += other.updated;
        self.correct += other.correct;
        self.changed += other.changed;
        self.skipped += other.skipped;
        self.tenants += other.tenants;
    }
}

/// Most parallel scan segments a backfill runs.
pub const MAX_BACKFILL_SEGMENTS: u32 = 16;

/// What the conditional write of one note's key came to.
enum Outcome {
    Updated,
    Correct,
    Changed,
}

/// What a note item says about its place in the listing index.
enum Found {
    NotANote,
    Malformed,
    Note {
        key: Item,
        owner: String,
        visibility: AttributeValue,
        want: String,
        has: Option<String>,
    },
}

fn inspect(item: &Item) -> Found {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    let (Some(pk), Some(sk)) = (text(PK), text(SK)) else {
        return Found::NotANote;
    };
    if !pk.starts_with(TENANT_PREFIX) || !sk.starts_with(NOTE_PREFIX) {
        return Found::NotANote;
    }
    let id = sk
        .strip_prefix(NOTE_PREFIX)
        .and_then(|i| NoteId::parse(i).ok());
    let owner = text("ownerId").and_then(|o| IdentityId::parse(o).ok());
    let visibility = item
        .get("visibility")
        .and_then(|v| serde_dynamo::from_attribute_value::<_, Visibility>(v.clone()).ok());
    let (Some(id), Some(owner), Some(visibility_value), Some(raw_visibility)) =
        (id, owner, visibility, item.get("visibility"))
    else {
        return Found::Malformed;
    };
    Found::Note {
        key: crate::store::key(pk, sk),
        want: keys::listing_range(&owner, visibility_value).sk(&id),
        owner: owner.as_str().to_owned(),
        visibility: raw_visibility.clone(),
        has: text(GSI2_SK).cloned(),
    }
}

impl Admin {
    /// `tenantctl backfill-indexes`: [`Self::backfill_listing_keys`], then every tenant's record
    /// copied to its provider items. Idempotent; `progress` sees the running totals.
    pub async fn backfill_indexes(
        &self,
        segments: u32,
        mut progress: impl FnMut(&BackfillReport),
    ) -> Result<BackfillReport, AppError> {
        let mut report = self.backfill_listing_keys(segments, &mut progress).await?;
        for entry in self.registry_list().await? {
            // No change to the record: the write itself is the point (copies and version).
            self.registry_change(&entry.tenant.tenant_id, |_| {})
                .await?;
            report.tenants += 1;
            progress(&report);
        }
        Ok(report)
    }

    /// Runs the backfill over the whole table with `segments` parallel scan segments (1–16),
    /// calling `progress` with the running totals after every scanned page.
    pub async fn backfill_listing_keys(
        &self,
        segments: u32,
        mut progress: impl FnMut(&BackfillReport),
    ) -> Result<BackfillReport, AppError> {
        if !(1..=MAX_BACKFILL_SEGMENTS).contains(&segments) {
            return Err(AppError::Validation(format!(
                "segments must be 1-{MAX_BACKFILL_SEGMENTS}"
            )));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut runs = tokio::task::JoinSet::new();
        for segment in 0..segments {
            runs.spawn(self.clone().backfill_segment(segment, segments, tx.clone()));
        }
        // The channel closes when the last segment is done (or failed) and drops its sender.
        drop(tx);
        let mut total = BackfillReport::default();
        while let Some(delta) = rx.recv().await {
            total.add(&delta);
            progress(&total);
        }
        while let Some(run) = runs.join_next().await {
            run.map_err(|e| AppError::internal("backfill segment", e))??;
        }
        Ok(total)
    }

    async fn backfill_segment(
        self,
        segment: u32,
        segments: u32,
        report: tokio::sync::mpsc::UnboundedSender<BackfillReport>,
    ) -> Result<(), AppError> {
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .db
                .client
                .scan()
                .table_name(&self.db.table)
                .segment(i32::try_from(segment).unwrap_or(0))
                .total_segments(i32::try_from(segments).unwrap_or(1))
                // Strongly consistent: a note written just before the scan reaches it is seen
                // as written, not as it was.
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_err("Scan backfill", e))?;
            let mut delta = BackfillReport {
                scanned: page.items().len() as u64,
                ..BackfillReport::default()
            };
            for item in page.items() {
                match inspect(item) {
                    Found::NotANote => {}
                    Found::Malformed => {
                        delta.notes += 1;
                        delta.skipped += 1;
                        tracing::warn!(
                            pk = ?item.get(PK),
                            sk = ?item.get(SK),
                            "backfill: a note item that does not decode, left alone"
                        );
                    }
                    Found::Note { has, want, .. } if has.as_deref() == Some(want.as_str()) => {
                        delta.notes += 1;
                        delta.correct += 1;
                    }
                    Found::Note {
                        key,
                        owner,
                        visibility,
                        want,
                        ..
                    } => {
                        delta.notes += 1;
                        match self.set_listing_key(key, owner, visibility, want).await? {
                            Outcome::Updated => delta.updated += 1,
                            Outcome::Correct => delta.correct += 1,
                            Outcome::Changed => delta.changed += 1,
                        }
                    }
                }
            }
            // The receiver outlives every segment; a send can only fail if it gave up.
            let _ = report.send(delta);
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(()),
            }
        }
    }

    /// Sets `gsi2sk` if the note still has the owner and visibility the scan saw and a different
    /// key: `Updated`; `Correct` when the key is right by now (a retried request whose first try
    /// had landed); `Changed` when the note changed meanwhile (or was deleted).
    async fn set_listing_key(
        &self,
        key: Item,
        owner: String,
        visibility: AttributeValue,
        want: String,
    ) -> Result<Outcome, AppError> {
        let req = self
            .db
            .client
            .update_item()
            .table_name(&self.db.table)
            .set_key(Some(key))
            .update_expression("SET #k = :k")
            .condition_expression(
                "attribute_exists(#pk) AND ownerId = :o AND visibility = :v \
                 AND (attribute_not_exists(#k) OR #k <> :k)",
            )
            .expression_attribute_names("#k", GSI2_SK)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":k", s(want.as_str()))
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":v", visibility)
            // A refusal says why with the item as it is: no second read to tell the cases apart.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let refused = match write::conditional("UpdateItem backfill", req).await? {
            Ok(_) => return Ok(Outcome::Updated),
            Err(refused) => refused,
        };
        let now = refused.into_old();
        let has = now
            .as_ref()
            .and_then(|i| i.get(GSI2_SK))
            .and_then(|v| v.as_s().ok());
        Ok(if has == Some(&want) {
            Outcome::Correct
        } else {
            Outcome::Changed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(sk: &str, owner: &str, vis: &str, gsi2sk: Option<&str>) -> Item {
        let mut item = crate::store::key("TENANT#acme", sk);
        item.insert("ownerId".into(), s(owner));
        item.insert("visibility".into(), s(vis));
        if let Some(k) = gsi2sk {
            item.insert(GSI2_SK.into(), s(k));
        }
        item
    }

    #[test]
    fn notes_are_told_apart_and_keyed_by_owner_and_visibility() {
        let me = "eu-central-1:a";
        assert!(matches!(
            inspect(&crate::store::key("REGISTRY", "TENANT#acme")),
            Found::NotANote
        ));
        assert!(matches!(
            inspect(&crate::store::key("TENANT#acme", "PROFILE#x")),
            Found::NotANote
        ));
        assert!(matches!(
            inspect(&note("NOTE#n#1", me, "PRIVATE", None)),
            Found::Malformed
        ));
        assert!(matches!(
            inspect(&note("NOTE#n1", me, "SECRET", None)),
            Found::Malformed
        ));
        match inspect(&note("NOTE#n1", me, "PRIVATE", None)) {
            Found::Note { want, has, .. } => {
                assert_eq!((want.as_str(), has), ("PRIVATE#eu-central-1:a#n1", None));
            }
            _ => panic!("a note"),
        }
        match inspect(&note("NOTE#n1", me, "PUBLIC", Some("PRIVATE#x#n1"))) {
            Found::Note { want, has, .. } => {
                assert_eq!(want, "SHARED#n1");
                assert_eq!(has.as_deref(), Some("PRIVATE#x#n1"));
            }
            _ => panic!("a note"),
        }
    }
}
