//! `tenantctl` as an operator runs it, against DynamoDB Local (`scripts/test.sh` exports
//! `AWS_ENDPOINT_URL_DYNAMODB`).

use std::process::{Command, Output};

fn tenantctl(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .env("TABLE_NAME", table)
        .args(args)
        .output()
        .expect("run tenantctl")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn shared_issuers_need_an_explicit_flag() {
    let table = format!("tenantctl-cli-{}", std::process::id());
    assert!(tenantctl(&table, &["create-table"]).status.success());
    let register = |provider: &str, extra: &[&str]| {
        let mut args = vec![
            "register",
            "--tenant-id",
            "acme",
            "--name",
            "Acme",
            "--provider",
            provider,
        ];
        args.extend_from_slice(extra);
        tenantctl(&table, &args)
    };
    for shared in [
        "accounts.google.com",
        "graph.facebook.com",
        "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
    ] {
        let refused = register(shared, &[]);
        assert!(!refused.status.success(), "{shared}: {}", text(&refused));
        assert!(
            text(&refused).contains("--shared-issuer"),
            "{}",
            text(&refused)
        );
    }
    let listed = tenantctl(&table, &["list"]);
    assert!(!text(&listed).contains("google"), "nothing was registered");

    let allowed = register("accounts.google.com", &["--shared-issuer"]);
    assert!(allowed.status.success(), "{}", text(&allowed));
    let own_pool = register(
        "cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1",
        &[],
    );
    assert!(own_pool.status.success(), "{}", text(&own_pool));
    let help = tenantctl(&table, &["register", "--help"]);
    assert!(text(&help).contains("EVERY account"), "{}", text(&help));
}
