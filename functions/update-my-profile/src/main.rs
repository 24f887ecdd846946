//! `Mutation.updateMyProfile`: the field and its handler live in `shared::api`; this binary only runs them.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve(shared::api::UpdateMyProfile).await
}
