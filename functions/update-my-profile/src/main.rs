//! `Mutation.updateMyProfile`: the field and its handler live in `shared::api`; this binary only runs them.

// One thread: a Lambda instance handles one invocation at a time, and a single-threaded runtime
// saves the cross-thread wake-ups on every request.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve(shared::api::UpdateMyProfile).await
}
