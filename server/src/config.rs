//! Command line and environment: every setting has a flag and a `STOOK_*` variable. The
//! operator commands' own arguments live beside their handlers in `cli`.

use crate::cli::{BucketCommand, CredentialCommand, DemoOptions, RegionCommand, UserCommand};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "stook",
    version,
    about = "Stook: a control panel for scoped S3 access keys, the S3 endpoint that honours them, \
             and the operator's command line.",
    long_about = "Stook: a control panel where customers create S3 access keys scoped to one bucket, \
                  an optional folder and chosen S3 actions, and admins revoke them; and an S3 endpoint \
                  where those keys work at once and stop when revoked.\n\n\
                  Without a command, `stook` runs `stook serve`. Every flag can also be given by the \
                  environment variable shown beside it."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`
    /// [default: SQLite file stook.db in the data directory; DATABASE_URL is read too]
    #[arg(long, env = "STOOK_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the SQLite database, the master key file and (local backend) the objects
    #[arg(long, env = "STOOK_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// File holding the 32-byte master key (base64) that encrypts secret keys at rest;
    /// created with mode 0600 when absent [default: master.key in the data directory]
    #[arg(long, env = "STOOK_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// Log filter, e.g. `info` or `warn,server=debug,app=debug`: levels, or target=level
    /// [default: info for `serve`; warn for the operator commands, which print only their
    /// result]
    #[arg(long = "log", env = "RUST_LOG", global = true, value_parser = parse_log_filter)]
    pub log_filter: Option<String>,

    /// Print results as JSON (for scripts)
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalOptions {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("stook.db").display()))
    }

    /// The host and port a PostgreSQL URL names, to check something listens there before
    /// the pool waits its full timeout (`None` for SQLite, or a URL without a TCP host).
    pub fn database_address(&self) -> Option<(String, u16)> {
        database_address(&self.database_url())
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

/// `host:port` of a `postgres://[user[:password]@]host[:port][/db][?...]` URL (port 5432
/// when not given); `None` for another scheme or a socket-only URL.
fn database_address(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "postgres" | "postgresql") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => 5432,
    };
    Some((host.to_string(), port))
}

/// A log filter as `tracing` reads it, checked whole: a mistyped level would otherwise
/// be read as the name of a module to log, and the log would go quiet without a word.
fn parse_log_filter(text: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare_word = !directive.contains(['=', ':', '[']);
        if bare_word && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "“{directive}” is not a log level: give one of {}, or target=level like server=debug",
                LEVELS.join(", ")
            ));
        }
        directive
            .parse::<tracing_subscriber::filter::Directive>()
            .map_err(|e| format!("“{directive}” is not a log filter ({e}): give a level like info, or target=level"))?;
    }
    Ok(text.to_string())
}

// Parsed once at start: boxing the serve options would save nothing worth the noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the panel and the S3 endpoint (the default command)
    Serve(ServeOptions),
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Manage regions
    #[command(subcommand)]
    Region(RegionCommand),
    /// Manage buckets (each is created with its master key pair)
    #[command(subcommand)]
    Bucket(BucketCommand),
    /// Manage credentials (scoped key pairs)
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Load the demo customer, regions, buckets and credentials (once)
    Demo(DemoOptions),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum S3Backend {
    Local,
    Proxy,
}

#[derive(Debug, Clone, Args)]
pub struct ServeOptions {
    /// Address the panel listens on
    #[arg(long, env = "STOOK_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Address the S3 endpoint listens on (the demo regions advertise it)
    #[arg(long, env = "STOOK_S3_LISTEN", default_value = "127.0.0.1:9000")]
    pub s3_listen: SocketAddr,

    /// Domain for virtual-hosted-style S3 requests (`<bucket>.<domain>`), like
    /// `s3.example.com`; path-style requests work on any host name either way
    #[arg(long, env = "STOOK_S3_DOMAIN")]
    pub s3_domain: Option<String>,

    /// Where objects live: `local` (the embedded store in <data-dir>/objects) or `proxy` (an upstream
    /// S3-compatible store; set the STOOK_S3_UPSTREAM_* options)
    #[arg(long, env = "STOOK_S3_BACKEND", value_enum, default_value = "local")]
    pub s3_backend: S3Backend,

    /// Upstream S3 endpoint URL for the proxy backend, like `http://127.0.0.1:3900`
    #[arg(long, env = "STOOK_S3_UPSTREAM_URL", required_if_eq("s3_backend", "proxy"))]
    pub s3_upstream_url: Option<String>,

    /// Upstream region for the proxy backend
    #[arg(long, env = "STOOK_S3_UPSTREAM_REGION", default_value = "us-east-1")]
    pub s3_upstream_region: String,

    /// The operator's upstream access key id for the proxy backend
    #[arg(long, env = "STOOK_S3_UPSTREAM_ACCESS_KEY_ID", required_if_eq("s3_backend", "proxy"))]
    pub s3_upstream_access_key_id: Option<String>,

    /// The operator's upstream secret key for the proxy backend (prefer the environment
    /// variable: a flag shows in process lists)
    #[arg(
        long,
        env = "STOOK_S3_UPSTREAM_SECRET_ACCESS_KEY",
        hide_env_values = true,
        required_if_eq("s3_backend", "proxy")
    )]
    pub s3_upstream_secret_access_key: Option<String>,

    /// Mark the session cookie Secure; switch off (`false`) only for plain-HTTP development
    #[arg(long, env = "STOOK_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Email of the first admin, created at start when there is no admin
    #[arg(long, env = "STOOK_ADMIN_EMAIL", default_value = "admin@stook.local")]
    pub admin_email: String,

    /// Password of the first admin [default: generated and printed once]
    #[arg(long, env = "STOOK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Load demo data at start when it is not there yet
    #[arg(long, env = "STOOK_DEMO", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub demo: bool,

    /// Password of the demo customer [default: generated and printed once]
    #[arg(long, env = "STOOK_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,

    /// Reverse proxies whose forwarding header (--client-ip-header) names the client, as a
    /// comma-separated list of networks like `127.0.0.1/32,10.0.0.0/8,fd00::/8` [default:
    /// none: the TCP peer is the client]. The sign-in throttles, the audit log and keys'
    /// network limits use that client address
    #[arg(long, env = "STOOK_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: crate::client_ip::TrustedProxies,

    /// The one header the trusted proxies name the client in: `X-Forwarded-For`,
    /// `Forwarded` (RFC 7239), or another such as `X-Real-IP`. Only it is read; a request
    /// whose `X-Forwarded-For` and `Forwarded` name different clients is refused (400)
    #[arg(long, env = "STOOK_CLIENT_IP_HEADER", default_value = "X-Forwarded-For")]
    pub client_ip_header: crate::client_ip::ClientIpHeader,

    /// Directory with the built site (pkg/stook.js, .wasm, .css)
    /// [default: `site` beside the binary, then `../site`, then ./target/site]
    #[arg(long, env = "STOOK_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// The longest lifetime, in days, a customer may give a new key (they must then choose
    /// an expiry); admins and the operator are not limited [default: no limit]
    #[arg(long, env = "STOOK_MAX_KEY_LIFETIME_DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub max_key_lifetime_days: Option<u32>,

    /// Unfinished multipart uploads on the local backend are removed after this many days
    #[arg(long, env = "STOOK_S3_MULTIPART_MAX_AGE_DAYS", default_value_t = 7)]
    pub s3_multipart_max_age_days: u64,

    /// An S3 request body that sends no byte for this many seconds is cut off
    #[arg(long, env = "STOOK_S3_BODY_IDLE_TIMEOUT_SECS", default_value_t = 60, hide = true)]
    pub s3_body_idle_timeout_secs: u64,

    /// On SIGTERM or Ctrl-C, requests still under way after this many seconds are cut off
    #[arg(long, env = "STOOK_SHUTDOWN_GRACE_SECS", default_value_t = 10, hide = true)]
    pub shutdown_grace_secs: u64,
}

impl ServeOptions {
    /// Whose forwarding header is believed, and which header that is.
    pub fn client_addresses(&self) -> crate::client_ip::TrustedProxies {
        self.trusted_proxies.clone().with_header(self.client_ip_header.clone())
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        // Parsing no arguments applies the environment and the defaults above.
        match Cli::parse_from(["stook", "serve"]).command {
            Some(Command::Serve(options)) => options,
            _ => unreachable!("`stook serve` parses to the serve command"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_backend_needs_its_upstream_settings() {
        let refused = Cli::try_parse_from(["stook", "serve", "--s3-backend", "proxy"]).unwrap_err();
        assert_eq!(refused.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let text = refused.to_string();
        for flag in [
            "--s3-upstream-url",
            "--s3-upstream-access-key-id",
            "--s3-upstream-secret-access-key",
        ] {
            assert!(text.contains(flag), "{text}");
        }
        let given = Cli::try_parse_from([
            "stook",
            "serve",
            "--s3-backend",
            "proxy",
            "--s3-upstream-url",
            "http://127.0.0.1:3900",
            "--s3-upstream-access-key-id",
            "GK1",
            "--s3-upstream-secret-access-key",
            "s",
        ]);
        assert!(given.is_ok());
        // The local backend needs none of them.
        assert!(Cli::try_parse_from(["stook", "serve"]).is_ok());
    }

    #[test]
    fn log_filters_are_checked_whole() {
        for good in [
            "info",
            "WARN",
            "warn,server=debug,app=debug",
            "debug,s3s=debug,sqlx=warn,hyper=info",
            "server::s3=trace",
            "",
        ] {
            assert_eq!(parse_log_filter(good).as_deref(), Ok(good), "{good}");
        }
        for bad in ["verbose", "infoo", "warn,server=debugg", "info,quiet"] {
            let err = parse_log_filter(bad).unwrap_err();
            assert!(err.contains("log"), "{bad}: {err}");
        }
    }

    #[test]
    fn postgres_urls_name_their_address() {
        let address = |url: &str| database_address(url);
        assert_eq!(
            address("postgres://postgres@127.0.0.1:5432/postgres"),
            Some(("127.0.0.1".into(), 5432))
        );
        assert_eq!(
            address("postgresql://u:p%40ss@db.example:6543/x?sslmode=require"),
            Some(("db.example".into(), 6543))
        );
        assert_eq!(address("postgres://u@db.example/x"), Some(("db.example".into(), 5432)));
        assert_eq!(address("postgres://[::1]:5433/x"), Some(("::1".into(), 5433)));
        assert_eq!(address("postgres://[::1]/x"), Some(("::1".into(), 5432)));
        assert_eq!(address("postgres:///x?host=/run/postgresql"), None);
        assert_eq!(address("sqlite://data/stook.db?mode=rwc"), None);
        assert_eq!(address("sqlite::memory:"), None);
    }
}
