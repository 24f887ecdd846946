//! Concurrent writers on real DynamoDB Local: optimistic versions never lose an update.

use integration_tests::*;
use serde_json::json;
use shared::api::{GetNote, UpdateNote};

#[tokio::test]
async fn concurrent_updates_with_one_expected_version_have_exactly_one_winner() {
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let note = fx.create(&alice, "start", "PRIVATE").await;
    for round in 1..=3i64 {
        let calls = (0..10).map(|i| {
            let (fx, alice, id) = (&fx, &alice, note["id"].clone());
            async move {
                let r = fx
                    .call(UpdateNote, alice, json!({"input": {"id": id, "title": format!("round {round} writer {i}"), "expectedVersion": round}}))
                    .await;
                (i, r)
            }
        });
        let results = futures::future::join_all(calls).await;
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, r) in &results {
            if let Err(d) = r {
                assert_eq!(d.error_type, "ConflictError");
            }
        }
        let (winner, won) = winners[0];
        let won = won.as_ref().unwrap();
        assert_eq!(won["version"], round + 1);
        let now = fx
            .call(GetNote, &alice, json!({"id": note["id"]}))
            .await
            .unwrap();
        assert_eq!(
            now["title"],
            format!("round {round} writer {winner}"),
            "the stored note is the winner's write"
        );
        assert_eq!(&now, won);
    }
}

#[tokio::test]
async fn writers_retrying_on_conflict_lose_no_update() {
    const WRITERS: usize = 4;
    const NOTES: usize = 3;
    const INCREMENTS: usize = 5;
    let fx = Fixture::new().await;
    let alice = Who::alice();
    let mut ids = Vec::new();
    for k in 0..NOTES {
        let n = fx
            .call(
                shared::api::CreateNote,
                &alice,
                json!({"input": {"title": format!("counter {k}"), "body": "0"}}),
            )
            .await
            .unwrap();
        ids.push(n["id"].clone());
    }
    // Each writer adds 1 to every note's body INCREMENTS times: read, add, write with the
    // version read; on ConflictError read again and retry.
    let writers = (0..WRITERS).map(|_| {
        let (fx, alice, ids) = (&fx, &alice, ids.clone());
        async move {
            let mut conflicts = 0usize;
            for _ in 0..INCREMENTS {
                for id in &ids {
                    loop {
                        let n = fx.call(GetNote, alice, json!({"id": id})).await.unwrap();
                        let count: u64 = n["body"].as_str().unwrap().parse().unwrap();
                        let r = fx
                            .call(UpdateNote, alice, json!({"input": {"id": id, "body": (count + 1).to_string(), "expectedVersion": n["version"]}}))
                            .await;
                        match r {
                            Ok(_) => break,
                            Err(d) if d.error_type == "ConflictError" => conflicts += 1,
                            Err(d) => panic!("{d:?}"),
                        }
                    }
                }
            }
            conflicts
        }
    });
    let conflicts: usize = futures::future::join_all(writers).await.into_iter().sum();
    for id in &ids {
        let n = fx.call(GetNote, &alice, json!({"id": id})).await.unwrap();
        assert_eq!(
            n["body"],
            (WRITERS * INCREMENTS).to_string(),
            "every success is in the final state"
        );
        assert_eq!(
            n["version"],
            (WRITERS * INCREMENTS + 1) as i64,
            "one version per success"
        );
    }
    println!(
        "no lost update: {} increments, {conflicts} conflicts retried",
        WRITERS * INCREMENTS * NOTES
    );
}
