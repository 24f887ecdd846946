//! `tenantctl`: the operator's CLI for the tenant registry. Reads `TABLE_NAME` and the standard
//! AWS environment (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB`), like the functions.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::AppError;
use shared::identity::ProviderKey;
use std::time::Duration;

use shared::store::{Db, TenantStore};
use shared::tenancy::{TenantId, TenantRegistry, TenantStatus};
use shared::{notes, profiles};

#[derive(Parser)]
#[command(version, about = "Manage the tenants of the notes API")]
struct Cli {
    /// The DynamoDB table (defaults to $TABLE_NAME).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table_name: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (keys, public index, TTL) if it does not exist.
    CreateTable,
    /// Register a tenant (created ACTIVE if new) and map a provider key to it. Repeat to map
    /// more providers; a provider already mapped to another tenant is refused.
    Register {
        #[arg(long)]
        tenant_id: String,
        #[arg(long)]
        name: String,
        /// e.g. cognito-idp.<region>.amazonaws.com/<poolId>, accounts.google.com, or an IAM
        /// OIDC/SAML provider ARN.
        #[arg(long)]
        provider: String,
        /// Allow a provider key that every account of a public identity provider shares
        /// (accounts.google.com, graph.facebook.com, www.amazon.com, appleid.apple.com,
        /// multi-tenant OIDC issuers): EVERY account of that provider then becomes a user of
        /// this tenant. Without it such keys are refused; federate those providers through the
        /// tenant's own User Pool instead, so the pool is the key.
        #[arg(long)]
        shared_issuer: bool,
    },
    /// Refuse the tenant's users (Forbidden) until resumed.
    Suspend {
        #[arg(long)]
        tenant_id: String,
    },
    /// Serve a suspended tenant again.
    Resume {
        #[arg(long)]
        tenant_id: String,
    },
    /// Make a user an ADMIN of its tenant (the first admin; later ones can use setRole).
    GrantAdmin {
        #[arg(long)]
        tenant_id: String,
        /// The user's Cognito identity id (`<region>:<guid>`, Query.me's identityId).
        #[arg(long)]
        identity_id: String,
    },
    /// Print every tenant with its providers, one JSON object per line.
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(table) = cli.table_name.filter(|t| !t.is_empty()) else {
        eprintln!("tenantctl: set TABLE_NAME or pass --table-name");
        return ExitCode::from(2);
    };
    let db = Db::from_env(table).await;
    match run(&db, cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // An operator needs the detail that a GraphQL client must not see.
            match &e {
                AppError::Internal(detail) => eprintln!("tenantctl: {detail}"),
                other => eprintln!(
                    "tenantctl: {}: {}",
                    other.error_type(),
                    other.client_message()
                ),
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(db: &Db, command: Command) -> Result<(), AppError> {
    match command {
        Command::CreateTable => {
            let created = db.create_table().await?;
            let verb = if created {
                "created"
            } else {
                "already exists:"
            };
            println!("table {verb} {}", db.table_name());
        }
        Command::Register {
            tenant_id,
            name,
            provider,
            shared_issuer,
        } => {
            let id = TenantId::parse(&tenant_id)?;
            let provider = ProviderKey::parse(&provider)?;
            if let Some(issuer) = provider.shared_issuer()
                && !shared_issuer
            {
                return Err(AppError::Validation(format!(
                    "{issuer} is the same provider key for every account it signs in: registering \
                     it would admit all of them to tenant {id}. Federate it through the tenant's \
                     own User Pool and register the pool, or pass --shared-issuer if every \
                     {issuer} account really belongs to this tenant."
                )));
            }
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err(AppError::Validation(
                    "--name must be 1-200 characters.".into(),
                ));
            }
            db.registry_register(&id, &name, &provider).await?;
            println!("registered {provider} -> {id}");
        }
        Command::Suspend { tenant_id } => {
            let rec = db
                .registry_set_status(&TenantId::parse(&tenant_id)?, TenantStatus::Suspended)
                .await?;
            println!("suspended {}", rec.tenant_id);
        }
        Command::Resume { tenant_id } => {
            let rec = db
                .registry_set_status(&TenantId::parse(&tenant_id)?, TenantStatus::Active)
                .await?;
            println!("resumed {}", rec.tenant_id);
        }
        Command::GrantAdmin {
            tenant_id,
            identity_id,
        } => {
            let id = TenantId::parse(&tenant_id)?;
            let user = profiles::parse_identity_arg(&identity_id)?;
            // Uncached: an operator acts on the registry as it is now.
            let tenant = TenantRegistry::new(db.clone(), Duration::ZERO)
                .active_by_id(&id)
                .await?;
            let store = TenantStore::new(db.clone(), tenant);
            let profile = store.grant_admin(&user, &notes::now_timestamp()).await?;
            println!("{} is ADMIN of {id}", profile.identity_id);
        }
        Command::List => {
            for entry in db.registry_list().await? {
                let line =
                    serde_json::to_string(&entry).map_err(|e| AppError::internal("json", e))?;
                println!("{line}");
            }
        }
    }
    Ok(())
}
