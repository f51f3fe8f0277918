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
                Some(days) => Some(now() + expiry_days(days, "or leave the flag out")?),
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
        CredentialCommand::Update {
            access_key_id,
            name,
            path,
            actions,
            expires_in_days,
            never_expires,
            networks,
            dry_run,
        } => {
            use app::services::key_edits::{self, EditCredential};
            let expires_at = match (expires_in_days, never_expires) {
                (Some(days), _) => Some(Some(now() + expiry_days(days, "or --never-expires")?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let input = EditCredential {
                name: name.as_deref(),
                path: path.as_deref(),
                actions: actions.as_deref(),
                expires_at,
                networks: networks.as_deref(),
                // The operator is not held to the customers' lifetime limit.
                lifetime_cap: None,
            };
            if dry_run {
                let preview = key_edits::preview_edit(cx.db, &operator, &access_key_id, input).await?;
                return cx.output(&preview, |p| {
                    if p.changes_nothing() {
                        return "Nothing would change.".into();
                    }
                    let mut out: Vec<String> = p
                        .changes
                        .iter()
                        .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
                        .collect();
                    if !p.gained.is_empty() {
                        out.push(format!("Actions gained: {}", p.gained.join(", ")));
                    }
                    if !p.lost.is_empty() {
                        out.push(format!("Actions lost: {}", p.lost.join(", ")));
                    }
                    out.extend(p.would_fail.iter().map(|f| format!("{} ({})", f.sentence(), f.reason)));
                    if !p.addresses_left_out.is_empty() {
                        out.push(format!(
                            "Would refuse requests from: {}",
                            p.addresses_left_out.join(", ")
                        ));
                    }
                    out.push("Nothing was changed (--dry-run).".into());
                    out.join("\n")
                });
            }
            let credential = key_edits::edit_credential(cx.db, &operator, &access_key_id, input).await?;
            cx.output(&credential, |c| {
                format!(
                    "Updated {} “{}”: {} on {}{}.",
                    c.access_key_id,
                    c.name.clone().unwrap_or_default(),
                    c.permission_summary,
                    c.bucket,
                    c.path.as_deref().map(|p| format!("/{p}")).unwrap_or_default()
                )
            })
        }
        CredentialCommand::Rotate { access_key_id, grace } => {
            let grace_secs = parse_grace(&grace).map_err(|m| AppError::invalid("grace", m))?;
            let (credential, key) =
                credentials::rotate_credential(cx.db, cx.secrets, &operator, &access_key_id, grace_secs, None).await?;
            #[derive(Serialize)]
            struct Rotated {
                credential: app::domain::CredentialView,
                secret_key: String,
                old_access_key_id: String,
                grace_secs: i64,
            }
            cx.output(
                &Rotated {
                    credential,
                    secret_key: key.secret_key,
                    old_access_key_id: access_key_id.trim().to_string(),
                    grace_secs,
                },
                |r| {
                    let old = if r.grace_secs == 0 {
                        format!("{} stopped working now.", r.old_access_key_id)
                    } else {
                        format!(
                            "{} keeps working until {} at the latest, then retires.",
                            r.old_access_key_id,
                            app::domain::format_utc(now() + r.grace_secs)
                        )
                    };
                    format!(
                        "Rotated “{}”: {old}\nAccess key id: {}\nSecret key (shown once): {}",
                        r.credential.name.clone().unwrap_or_default(),
                        r.credential.access_key_id,
                        r.secret_key
                    )
                },
            )
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

/// `--expires-in-days` in seconds: from 1 day to the longest the API allows (ten years).
fn expiry_days(days: u32, otherwise: &str) -> Result<i64, AppError> {
    let longest = app::domain::LONGEST_LIMIT_DAYS;
    if !(1..=longest).contains(&days) {
        return Err(AppError::invalid(
            "expires_in_days",
            format!("give from 1 to {longest} days (ten years), {otherwise}"),
        ));
    }
    Ok(i64::from(days) * 86_400)
}

/// A rotation's grace period in seconds: `now`, or a number with `s`, `m`, `h` or `d`.
fn parse_grace(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text == "now" {
        return Ok(0);
    }
    let unit = match text.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3_600,
        Some('d') => 86_400,
        _ => {
            return Err(format!(
                "“{text}” is not a grace period: give now, or a number with s, m, h or d (like 1h)."
            ));
        }
    };
    let secs = text[..text.len() - 1]
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| n.saturating_mul(unit))
        .ok_or_else(|| format!("“{text}” is not a grace period: give now, or a number with s, m, h or d (like 1h)."))?;
    if secs > 30 * 86_400 {
        return Err("A grace period lasts at most 30 days.".into());
    }
    Ok(secs)
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
    /// Change a key's name, path, actions, expiry or networks; flags left out keep their
    /// value. It takes effect at the S3 endpoint within a second
    Update {
        access_key_id: String,
        #[arg(long)]
        name: Option<String>,
        /// Folder the key is limited to; an empty value for the whole bucket
        #[arg(long)]
        path: Option<String>,
        /// Actions: `read-only`, `read-write`, `all`, or S3 action names
        #[arg(long)]
        actions: Option<String>,
        /// The key stops working this many days from now
        #[arg(long, conflicts_with = "never_expires")]
        expires_in_days: Option<u32>,
        /// The key never expires
        #[arg(long)]
        never_expires: bool,
        /// Networks the key may be used from; an empty value for anywhere
        #[arg(long)]
        networks: Option<String>,
        /// Print what would change (and which of the last 7 days' requests would now be
        /// denied) without changing anything
        #[arg(long)]
        dry_run: bool,
    },
    /// Rotate a key: a new pair with the same scope takes its name (printed once), and the
    /// old pair keeps working for the grace period, then retires on its own
    Rotate {
        access_key_id: String,
        /// How long the old pair keeps working: `now`, or a number with s, m, h or d
        /// (`90s`, `1h`, `7d`; at most 30 days)
        #[arg(long)]
        grace: String,
    },
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

#[cfg(test)]
mod tests {
    use super::parse_grace;

    #[test]
    fn grace_periods_read_like_durations() {
        assert_eq!(parse_grace("now"), Ok(0));
        assert_eq!(parse_grace("90s"), Ok(90));
        assert_eq!(parse_grace("2m"), Ok(120));
        assert_eq!(parse_grace("1h"), Ok(3_600));
        assert_eq!(parse_grace("7d"), Ok(604_800));
        assert!(parse_grace("31d").is_err());
        assert!(parse_grace("-1h").is_err());
        assert!(parse_grace("soon").is_err());
        assert!(parse_grace("h").is_err());
    }
}
