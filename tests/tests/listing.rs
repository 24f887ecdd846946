//! `notes` from the listing index: a model of who may read what, checked page by page against
//! the merged ranges for every viewer and page size, through creates, visibility changes (by
//! owners and by an admin) and deletes; and entries in the wrong range are never shown.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::*;
use serde_json::{Value, json};
use shared::api::{DeleteNote, ListNotes, UpdateNote};

/// A small deterministic generator: the test is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const VISIBILITIES: [&str; 3] = ["PRIVATE", "TENANT", "PUBLIC"];

/// What the model says `viewer` may read, newest first.
fn readable(model: &BTreeMap<String, (String, String)>, viewer: &Who) -> Vec<String> {
    model
        .iter()
        .rev()
        .filter(|(_, (owner, vis))| vis != "PRIVATE" || owner == viewer.identity_id())
        .map(|(id, _)| id.clone())
        .collect()
}

/// Every page of `viewer`'s listing at `limit`: the ids of each page.
async fn pages(fx: &Fixture, viewer: &Who, limit: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut token = Value::Null;
    for _ in 0..500 {
        let page = fx
            .call(
                ListNotes,
                viewer,
                json!({"limit": limit, "nextToken": token}),
            )
            .await
            .unwrap();
        out.push(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned())
                .collect(),
        );
        token = page["nextToken"].clone();
        if token.is_null() {
            return out;
        }
    }
    panic!("the listing never ended");
}

#[tokio::test]
async fn every_page_is_the_model_s_next_slice() {
    let fx = Fixture::new().await;
    let users = [
        Who::alice(),
        Who::carol(),
        Who::user(POOL_A, "dave"),
        Who::user(POOL_A, "erin"),
    ];
    let admin = &users[3];
    grant_admin(&fx, "acme", admin).await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // id -> (owner, visibility), and each note's version.
    let mut model: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..60 {
        // Mostly alice and carol; erin (the admin) owns a few.
        let owner = &users[[0, 0, 1, 1, 2, 3][rng.below(6)]];
        let vis = VISIBILITIES[rng.below(3)];
        let n = fx.create(owner, &format!("n{i}"), vis).await;
        let id = n["id"].as_str().unwrap().to_owned();
        model.insert(id.clone(), (owner.identity_id().to_owned(), vis.to_owned()));
        versions.insert(id, 1);
    }
    // Visibility changes by owners and by the admin (on notes it can read), and deletes.
    for _ in 0..40 {
        let ids: Vec<String> = model.keys().cloned().collect();
        let id = ids[rng.below(ids.len())].clone();
        let (owner, vis) = model[&id].clone();
        let owner_who = users.iter().find(|u| u.identity_id() == owner).unwrap();
        let by_admin = vis != "PRIVATE" && owner != admin.identity_id() && rng.below(2) == 0;
        let writer = if by_admin { admin } else { owner_who };
        let version = versions[&id];
        if rng.below(5) == 0 {
            fx.call(
                DeleteNote,
                writer,
                json!({"id": id, "expectedVersion": version}),
            )
            .await
            .unwrap();
            model.remove(&id);
            continue;
        }
        let to = VISIBILITIES[rng.below(3)];
        let n = fx
            .call(
                UpdateNote,
                writer,
                json!({"input": {"id": id, "visibility": to, "expectedVersion": version}}),
            )
            .await
            .unwrap_or_else(|e| panic!("{vis} -> {to} by admin={by_admin}: {e:?}"));
        // Still the owner's note, whoever changed it.
        assert_eq!(n["ownerId"], owner.as_str());
        model.insert(id.clone(), (owner, to.to_owned()));
        versions.insert(id, version + 1);
    }
    for viewer in &users {
        let want = readable(&model, viewer);
        for limit in [1, 2, 3, 5, 8, 100] {
            let got = pages(&fx, viewer, limit).await;
            let flat: Vec<String> = got.iter().flatten().cloned().collect();
            assert_eq!(flat, want, "limit {limit}");
            // Full pages, then the rest; at most one extra (empty) page at the end.
            let (last, full) = got.split_last().unwrap();
            assert!(
                full.iter().all(|p| p.len() == limit),
                "limit {limit}: short page"
            );
            assert!(last.len() <= limit);
            assert!(
                got.len() <= want.len().div_ceil(limit) + 1,
                "limit {limit}: {} pages for {} notes",
                got.len(),
                want.len()
            );
        }
    }
}

#[tokio::test]
async fn an_admin_making_a_note_private_moves_it_to_its_owner() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    grant_admin(&fx, "acme", &alice).await;
    let n = fx.create(&carol, "carol's", "TENANT").await;
    fx.requests.reset();
    let u = fx
        .call(
            UpdateNote,
            &alice,
            json!({"input": {"id": n["id"], "visibility": "PRIVATE", "expectedVersion": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (u["ownerId"].clone(), u["visibility"].clone()),
        (json!(carol.identity_id()), json!("PRIVATE"))
    );
    // The owner's try, the admin's profile, the note's owner, the admin's write.
    assert_eq!(fx.requests.count("UpdateItem"), 2);
    assert_eq!(fx.requests.count("GetItem"), 2);
    let ids = |page: Value| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].clone())
            .collect()
    };
    assert_eq!(
        ids(fx.call(ListNotes, &carol, json!({})).await.unwrap()),
        vec![n["id"].clone()]
    );
    assert!(
        ids(fx.call(ListNotes, &alice, json!({})).await.unwrap()).is_empty(),
        "no longer the admin's to read"
    );
}

/// Keys acme's note `id` in the shared range of the listing index whatever its visibility, as an
/// older version could leave a note it made PRIVATE before `tenantctl backfill-indexes`.
async fn key_as_shared(fx: &Fixture, id: &str) {
    fx.db()
        .client()
        .update_item()
        .table_name(fx.db().table_name())
        .key("pk", AttributeValue::S("TENANT#acme".into()))
        .key("sk", AttributeValue::S(format!("NOTE#{id}")))
        .update_expression("SET gsi2sk = :k")
        .expression_attribute_values(":k", AttributeValue::S(format!("SHARED#{id}")))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_entry_in_the_wrong_range_is_never_shown_to_others() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let n = fx.create(&alice, "secret", "PRIVATE").await;
    let id = n["id"].as_str().unwrap();
    // As an older version would have left it: PRIVATE, but still keyed as shared.
    key_as_shared(&fx, id).await;
    let listed = |page: Value| page["items"].as_array().unwrap().len();
    assert_eq!(
        listed(fx.call(ListNotes, &carol, json!({})).await.unwrap()),
        0
    );
    assert_eq!(
        listed(fx.call(ListNotes, &alice, json!({})).await.unwrap()),
        1
    );
}

#[tokio::test]
async fn pages_of_misplaced_entries_still_move_the_cursor() {
    let fx = Fixture::new().await;
    let (alice, carol) = (Who::alice(), Who::carol());
    let shared_note = fx.create(&alice, "older, shared", "TENANT").await;
    // More PRIVATE notes of alice's than a page, all left in the shared range (as an older
    // version could during a migration): carol's pages read them, skip them, and move on.
    for i in 0..12 {
        let n = fx.create(&alice, &format!("secret {i}"), "PRIVATE").await;
        let id = n["id"].as_str().unwrap();
        key_as_shared(&fx, id).await;
    }
    let got = pages(&fx, &carol, 2).await;
    let flat: Vec<String> = got.iter().flatten().cloned().collect();
    assert_eq!(flat, vec![shared_note["id"].as_str().unwrap().to_owned()]);
    assert!(got.len() <= 4, "{got:?}");
}
