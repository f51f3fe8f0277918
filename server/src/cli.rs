//! The operator's commands: their arguments (clap parses them) and handlers that call a
//! service in `app::services`, which decides, and print its answer.

use crate::config::GlobalOptions;
use app::domain::Role;
use app::error::AppError;
use app::services::caller::Caller;
use app::services::credentials::CreateCredential;
use app::services::secrets::SecretBox;
use app::services::{buckets, credentials, demo, now, regions, users};
use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;
use serde::Serialize;

/// How a command ended: its output, or an error for stderr.
pub type Outcome = Result<String, AppError>;

pub struct Context<'a> {
    pub db: &'a DatabaseConnection,
    pub secrets: &'a SecretBox,
    pub global: &'a GlobalOptions,
}

impl Context<'_> {
    fn output<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> Outcome {
        if self.global.json {
            serde_json::to_string_pretty(value).map_err(|_| AppError::Internal)
        } else {
            Ok(human(value))
        }
    }
}

/// Columns padded to their widest cell.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        return "(none)".into();
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    std::iter::once(line(headers.iter().map(|h| h.to_string()).collect()))
        .chain(rows.into_iter().map(line))
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn user(cx: &Context<'_>, command: UserCommand) -> Outcome {
    match command {
        UserCommand::Add { email, role, password } => {
            let role = Role::parse(&role).map_err(|m| AppError::invalid("role", m))?;
            let generated = password.is_none().then(users::generate_password);
            let password = password.or_else(|| generated.clone()).unwrap_or_default();
            let user = users::create_user(cx.db, &Caller::Operator, &email, &password, role).await?;
            #[derive(Serialize)]
            struct Added {
                #[serde(flatten)]
                user: users::UserSummary,
                generated_password: Option<String>,
            }
            cx.output(
                &Added {
                    user,
                    generated_password: generated,
                },
                |a| {
                    let mut out = format!("Added {} ({}).", a.user.email, a.user.role.as_str());
                    if let Some(p) = &a.generated_password {
                        out += &format!("\nPassword (shown once): {p}");
                    }
                    out
                },
            )
        }
        UserCommand::List => {
            let list = users::list_users(cx.db).await?;
            cx.output(&list, |list| {
                table(
                    &["ID", "EMAIL", "ROLE", "CREATED"],
                    list.iter()
                        .map(|u| {
                            vec![
                                u.id.to_string(),
                                u.email.clone(),
                                u.role.as_str().into(),
                                app::domain::format_utc(u.created_at),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn region(cx: &Context<'_>, command: RegionCommand) -> Outcome {
    #[derive(Serialize)]
    struct RegionOut {
        name: String,
        endpoint_url: String,
    }
    let out = |r: app::services::entities::region::Model| RegionOut {
        name: r.name,
        endpoint_url: r.endpoint_url,
    };
    match command {
        RegionCommand::Add { name, endpoint } => {
            let region = regions::add_region(cx.db, &Caller::Operator, &name, &endpoint).await?;
            cx.output(&out(region), |r| {
                format!("Added region {} at {}.", r.name, r.endpoint_url)
            })
        }
        RegionCommand::List => {
            let list: Vec<RegionOut> = regions::list_regions(cx.db).await?.into_iter().map(out).collect();
            cx.output(&list, |list| {
                table(
                    &["NAME", "ENDPOINT"],
                    list.iter()
                        .map(|r| vec![r.name.clone(), r.endpoint_url.clone()])
                        .collect(),
                )
            })
        }
    }
}

async fn owner_id(db: &DatabaseConnection, owner: Option<String>) -> Result<Option<i32>, AppError> {
    match owner {
        None => Ok(None),
        Some(email) => users::find_by_email(db, &email)
            .await?
            .map(|u| Some(u.id))
            .ok_or_else(|| AppError::invalid("owner", format!("there is no user with the email “{}”", email.trim()))),
    }
}

pub async fn bucket(cx: &Context<'_>, command: BucketCommand) -> Outcome {
    match command {
        BucketCommand::Add { owner, region, name } => {
            let (bucket, key) =
                buckets::add_bucket(cx.db, cx.secrets, &Caller::Operator, &owner, &region, &name).await?;
            #[derive(Serialize)]
            struct Added {
                bucket: app::domain::BucketView,
                master_key: buckets::IssuedKey,
            }
            cx.output(
                &Added {
                    bucket,
                    master_key: key,
                },
                |a| {
                    format!(
                        "Added bucket {} in {} for {}.\nMaster access key id: {}\nMaster secret key (shown once): {}",
                        a.bucket.name,
                        a.bucket.region,
                        a.bucket.owner_email,
                        a.master_key.access_key_id,
                        a.master_key.secret_key
                    )
                },
            )
        }
        BucketCommand::Rename { name, region, to } => {
            let bucket = buckets::rename_bucket(cx.db, &Caller::Operator, &name, region.as_deref(), &to).await?;
            cx.output(&bucket, |b| {
                format!(
                    "Renamed bucket {name} in {} to {}. Its keys keep working under the new name. \
                     Objects are not moved: on the local backend, move them from objects/{name}/ to \
                     objects/{}/ in the data directory if they belong to this bucket.",
                    b.region, b.name, b.name
                )
            })
        }
        BucketCommand::List { owner } => {
            let list = buckets::list_buckets(cx.db, owner_id(cx.db, owner).await?).await?;
            cx.output(&list, |list| {
                table(
                    &["REGION", "BUCKET", "OWNER", "ENDPOINT"],
                    list.iter()
                        .map(|b| {
                            vec![
                                b.region.clone(),
                                b.name.clone(),
                                b.owner_email.clone(),
                                b.endpoint_url.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn credential(cx: &Context<'_>, command: CredentialCommand) -> Outcome {
    let operator = Caller::Operator;
    match command {
        CredentialCommand::Create {
            bucket,
            region,
            name,
            path,
            actions,
            expires_in_days,
            networks,
        } => {
            let bucket = buckets::find_bucket(cx.db, &bucket, region.as_deref()).await?;
            let expires_at = match expires_in_days {
                Some(0) => {
                    return Err(AppError::invalid(
                        "expires_in_days",
                        "give at least 1 day, or leave the flag out",
                    ));
                }
                Some(days) => Some(now() + i64::from(days) * 86_400),
                None => None,
            };
            let input = CreateCredential {
                bucket_id: bucket.id,
                name: &name,
                path: &path,
                actions: &actions,
                networks: &networks,
                expires_at,
            };
            let (credential, key) = credentials::create_credential(cx.db, cx.secrets, &operator, input).await?;
            #[derive(Serialize)]
            struct Created {
                credential: app::domain::CredentialView,
                secret_key: String,
            }
            cx.output(
                &Created {
                    credential,
                    secret_key: key.secret_key,
                },
                |c| {
                    format!(
                        "Created credential “{}” on {} ({}): {}.\nAccess key id: {}\nSecret key (shown once): {}",
                        c.credential.name.clone().unwrap_or_default(),
                        c.credential.bucket,
                        c.credential.region,
                        c.credential.permission_summary,
                        c.credential.access_key_id,
                        c.secret_key
                    )
                },
            )
        }
        CredentialCommand::List { owner } => {
            let list = credentials::list_credentials(cx.db, owner_id(cx.db, owner).await?, None).await?;
            cx.output(&list, |list| {
                table(
                    &[
                        "ACCESS KEY ID",
                        "KIND",
                        "NAME",
                        "OWNER",
                        "BUCKET",
                        "PATH",
                        "PERMISSIONS",
                        "STATUS",
                    ],
                    list.iter()
                        .map(|c| {
                            vec![
                                c.access_key_id.clone(),
                                c.kind.as_str().into(),
                                c.name.clone().unwrap_or_else(|| "-".into()),
                                c.owner_email.clone(),
                                format!("{}/{}", c.region, c.bucket),
                                c.path.clone().unwrap_or_else(|| "/".into()),
                                c.permission_summary.clone(),
                                c.status.as_str().into(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        CredentialCommand::Revoke { access_key_id } => {
            let credential = credentials::revoke_credential(cx.db, &operator, &access_key_id).await?;
            cx.output(&credential, |c| format!("Revoked {}.", c.access_key_id))
        }
        CredentialCommand::Pause { access_key_id } => {
            let credential = credentials::set_paused(cx.db, &operator, &access_key_id, true).await?;
            cx.output(&credential, |c| {
                format!("Paused {}: refused until resumed.", c.access_key_id)
            })
        }
        CredentialCommand::Resume { access_key_id } => {
            let credential = credentials::set_paused(cx.db, &operator, &access_key_id, false).await?;
            cx.output(&credential, |c| format!("Resumed {}.", c.access_key_id))
        }
        CredentialCommand::Setup { access_key_id, client } => {
            use app::client_setups;
            let (access, secret) = credentials::setup_material(cx.db, cx.secrets, &access_key_id).await?;
            let text = match client.as_str() {
                "aws" => client_setups::aws_cli(&access, &secret).text,
                "rclone" => client_setups::rclone(&access, &secret).text,
                "s3cmd" => client_setups::s3cmd(&access, &secret).text,
                "boto3" => client_setups::boto3(&access, &secret).text,
                "restic" => client_setups::restic(&access, &secret).text,
                _ => client_setups::cyberduck_bookmark(&access),
            };
            #[derive(Serialize)]
            struct Setup {
                client: String,
                text: String,
            }
            // The text as it is (it ends in a newline): ready to redirect into a file.
            cx.output(&Setup { client, text }, |s| s.text.trim_end().to_string())
        }
    }
}

pub async fn load_demo(cx: &Context<'_>, options: DemoOptions) -> Outcome {
    let password = options.password.unwrap_or_else(users::generate_password);
    let loaded = demo::load_demo(cx.db, cx.secrets, &options.s3_endpoint, &password).await?;
    cx.output(&loaded, |loaded| match loaded {
        Some(d) => format!(
            "Loaded demo data: {} with buckets {}.\nDemo password (shown once): {}",
            d.email,
            d.buckets.join(", "),
            d.password
        ),
        None => format!("Demo data is already loaded ({}).", demo::DEMO_EMAIL),
    })
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user
    Add {
        #[arg(long)]
        email: String,
        /// `customer` or `admin`
        #[arg(long, default_value = "customer")]
        role: String,
        /// At least 12 characters [default: generated and printed once]
        #[arg(long, env = "STOOK_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List users
    List,
}

#[derive(Debug, Subcommand)]
pub enum RegionCommand {
    /// Add a region
    Add {
        /// Like `eu-west-1`
        #[arg(long)]
        name: String,
        /// The region's S3 endpoint URL, like `https://s3.eu-west-1.example.com`
        #[arg(long)]
        endpoint: String,
    },
    /// List regions
    List,
}

#[derive(Debug, Subcommand)]
pub enum BucketCommand {
    /// Add a bucket for a customer; prints its master key pair once
    Add {
        /// Email of the owning user
        #[arg(long)]
        owner: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        name: String,
    },
    /// Rename a bucket (names are unique across all regions); its keys keep working
    Rename {
        /// The bucket's current name
        #[arg(long)]
        name: String,
        /// The bucket's region: needed only when a database made before names were unique
        /// has several buckets of this name
        #[arg(long)]
        region: Option<String>,
        /// The new name
        #[arg(long)]
        to: String,
    },
    /// List buckets
    List {
        /// Only this user's buckets
        #[arg(long)]
        owner: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Create a credential on a bucket; prints its access key id and secret once
    Create {
        /// Bucket name
        #[arg(long)]
        bucket: String,
        /// Region of the bucket, checked when given
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        name: String,
        /// Folder the key is limited to, like `photos/2024/` [default: the whole bucket]
        #[arg(long, default_value = "")]
        path: String,
        /// Actions: `read-only`, `read-write`, `all`, or S3 action names such as
        /// `s3:GetObject,s3:ListBucket`
        #[arg(long)]
        actions: String,
        /// The key stops working after this many days [default: never]
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Networks the key may be used from, like `10.0.0.0/8,2001:db8::/32`
        /// [default: anywhere]
        #[arg(long, default_value = "")]
        networks: String,
    },
    /// List credentials and master keys
    List {
        /// Only this user's keys
        #[arg(long)]
        owner: Option<String>,
    },
    /// Revoke a key by its access key id: it stops working at once
    Revoke { access_key_id: String },
    /// Pause a key: refused as inactive until resumed
    Pause { access_key_id: String },
    /// Resume a paused key
    Resume { access_key_id: String },
    /// Print a ready-to-use client configuration for a key (with its secret, except the
    /// Cyberduck bookmark)
    Setup {
        access_key_id: String,
        /// The client: aws (~/.aws/config and credentials), rclone, s3cmd, boto3, restic,
        /// or cyberduck (a .duck bookmark)
        #[arg(long, value_parser = ["aws", "rclone", "s3cmd", "boto3", "restic", "cyberduck"])]
        client: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoOptions {
    /// Password of the demo customer [default: generated and printed once]
    #[arg(long, env = "STOOK_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// S3 endpoint URL the demo regions advertise
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub s3_endpoint: String,
}
