//! Who may reach what inside `shared`: a function crate builds `shared` without the `operator`
//! feature (the registry's writes, a tenant's whole partition, the table's schema) and without
//! `test-support` (fixtures, fuzzing), and code written like a function's cannot call either.
//!
//! Cargo unifies features when several crates are built together (`cargo build --workspace`),
//! so the proof builds a function-like crate on its own, the way SAM's `rust-cargolambda` build
//! (`cargo lambda build --bin <function>`) builds each deployed binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// The crates that are deployed: every `functions/*` and `workers/*`.
fn deployed_crates() -> Vec<String> {
    let mut crates = Vec::new();
    for dir in ["functions", "workers"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.join("Cargo.toml").is_file() {
                crates.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    crates.sort();
    assert!(crates.len() >= 15, "found {crates:?}");
    crates
}

/// `cargo tree`'s view of `shared`'s features in a crate's own build.
#[test]
fn no_deployed_crate_builds_shared_with_operator_or_test_support() {
    for krate in deployed_crates() {
        let out = cargo()
            .args([
                "tree",
                "--offline",
                "--locked",
                "-e",
                "features",
                "--prefix",
                "none",
            ])
            .args(["-p", &krate, "-i", "shared"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo tree -p {krate}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8_lossy(&out.stdout);
        assert!(
            tree.contains("shared feature \"default\""),
            "{krate}: {tree}"
        );
        for feature in ["operator", "test-support"] {
            assert!(
                !tree.contains(&format!("shared feature \"{feature}\"")),
                "{krate} builds shared with `{feature}`:\n{tree}"
            );
        }
    }
}

/// A crate that depends on `shared` as a function does and calls `code`: the errors of
/// `cargo check`, or `None` if it compiled.
fn check_as_function(name: &str, code: &str) -> Option<String> {
    let dir = root().join("target").join("boundaries").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let shared = root().join("shared");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nshared = {{ path = {shared:?} }}\n\
             lambda_runtime = {{ version = \"1.5\", default-features = false, features = [\"tracing\"] }}\n\n\
             [workspace]\n\n\
             # The workspace's dev profile, so the check reuses what clippy and the test build\n\
             # compiled for the dependencies instead of compiling them again.\n\
             [profile.dev]\ndebug = \"line-tables-only\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), code).unwrap();
    // The workspace's lock file, so the check resolves the same versions, offline.
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = cargo()
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        // The workspace's target directory: `cargo test` does not hold its lock while tests
        // run, and the dependencies' check artifacts (clippy's, `cargo check`'s) are there.
        .env("CARGO_TARGET_DIR", root().join("target"))
        .output()
        .unwrap();
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_function_cannot_reach_the_operator_surface_or_test_support() {
    // The control: what a function's main does compiles, so a failure below is the boundary.
    assert_eq!(
        check_as_function(
            "function-as-deployed",
            "fn main() -> Result<(), lambda_runtime::Error> {\n    \
             shared::lambda::serve(shared::api::GetNote)\n}\n",
        ),
        None,
        "a function's main must compile"
    );
    for (name, code, missing) in [
        (
            "function-purges-a-partition",
            "async fn purge(db: shared::store::Db, t: &shared::tenancy::TenantId) {\n    \
             let _ = shared::store::admin::Admin::new(db).purge_partition(t).await;\n}\n\
             fn main() {}\n",
            "admin",
        ),
        (
            "function-reads-pool-settings",
            "fn main() { let _ = shared::pool_settings::USER_POOL; }\n",
            "pool_settings",
        ),
        (
            "function-uses-fixtures",
            "fn main() { let _ = shared::fixtures::user_identity; }\n",
            "fixtures",
        ),
    ] {
        let errors = check_as_function(name, code)
            .unwrap_or_else(|| panic!("{name}: compiled; the `{missing}` boundary is open"));
        assert!(
            errors.contains(&format!("`{missing}`")),
            "{name} failed for another reason than `{missing}` missing:\n{errors}"
        );
    }
}
