//! `Subscription.onNoteChanged`: the field and its handler live in `shared::api`; this binary only runs
//! them.

fn main() -> Result<(), lambda_runtime::Error> {
    shared::lambda::serve(shared::api::OnNoteChanged)
}
