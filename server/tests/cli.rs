//! The operator CLI, run as the real binary against a fresh SQLite data directory:
//! every command with good input, and bad input that is refused and changes nothing.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

struct Stook {
    dir: PathBuf,
}

impl Stook {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("stook-cli-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        Stook { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_logging(args, Some("warn"))
    }

    /// Runs a command with RUST_LOG set to `log`, or unset.
    fn run_logging(&self, args: &[&str], log: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stook"));
        command
            .args(args)
            .env("STOOK_DATA_DIR", &self.dir)
            .env_remove("STOOK_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("STOOK_MASTER_KEY_FILE")
            .env_remove("RUST_LOG");
        if let Some(log) = log {
            command.env("RUST_LOG", log);
        }
        command.output().unwrap()
    }

    /// Runs a command that must succeed and returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "stook {args:?} failed: {}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs a command that must be refused as bad input (exit 2) and returns stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(2),
            "stook {args:?} should be refused: {stderr}{}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    fn count(&self, args: &[&str]) -> usize {
        self.json(args).as_array().unwrap().len()
    }
}

impl Drop for Stook {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn rand_suffix() -> String {
    app::services::key_pairs::new_access_key_id()
}

#[test]
fn users() {
    let stook = Stook::new();
    let added = stook.json(&["user", "add", "--email", "Ann@Example.com"]);
    assert_eq!(added["email"], "ann@example.com");
    assert_eq!(added["role"], "customer");
    assert_eq!(added["generated_password"].as_str().unwrap().len(), 24);
    let text = stook.ok(&[
        "user",
        "add",
        "--email",
        "root@example.com",
        "--role",
        "admin",
        "--password",
        "a long enough password",
    ]);
    assert!(
        text.contains("Added root@example.com (admin)") && !text.contains("Password"),
        "{text}"
    );

    assert!(
        stook
            .refused(&["user", "add", "--email", "ann@example.com"])
            .contains("already exists")
    );
    assert!(
        stook
            .refused(&["user", "add", "--email", "not-an-email"])
            .contains("not a valid email")
    );
    assert!(
        stook
            .refused(&["user", "add", "--email", "c@example.com", "--password", "short"])
            .contains("at least 12")
    );
    assert!(
        stook
            .refused(&["user", "add", "--email", "d@example.com", "--role", "king"])
            .contains("Role must be")
    );
    let list = stook.json(&["user", "list"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "refused commands wrote nothing: {list}"
    );
    assert!(stook.ok(&["user", "list"]).contains("root@example.com"));
}

#[test]
fn regions_buckets_and_credentials() {
    let stook = Stook::new();
    stook.ok(&["user", "add", "--email", "ann@example.com"]);
    stook.ok(&[
        "region",
        "add",
        "--name",
        "eu-west-1",
        "--endpoint",
        "https://s3.eu-west-1.example.com/",
    ]);
    assert!(
        stook
            .refused(&[
                "region",
                "add",
                "--name",
                "eu-west-1",
                "--endpoint",
                "https://x.example.com"
            ])
            .contains("already exists")
    );
    assert!(
        stook
            .refused(&[
                "region",
                "add",
                "--name",
                "EU West",
                "--endpoint",
                "https://x.example.com"
            ])
            .contains("not a region name")
    );
    assert!(
        stook
            .refused(&["region", "add", "--name", "us-east-1", "--endpoint", "s3.example.com"])
            .contains("not an endpoint URL")
    );
    let regions = stook.json(&["region", "list"]);
    assert_eq!(regions.as_array().unwrap().len(), 1);
    assert_eq!(
        regions[0]["endpoint_url"], "https://s3.eu-west-1.example.com",
        "trailing slash trimmed"
    );

    let bucket = stook.json(&[
        "bucket",
        "add",
        "--owner",
        "ann@example.com",
        "--region",
        "eu-west-1",
        "--name",
        "ann-photos",
    ]);
    let master_id = bucket["master_key"]["access_key_id"].as_str().unwrap().to_string();
    assert_eq!(master_id.len(), 20);
    assert_eq!(bucket["master_key"]["secret_key"].as_str().unwrap().len(), 40);
    assert!(
        stook
            .refused(&[
                "bucket",
                "add",
                "--owner",
                "ann@example.com",
                "--region",
                "eu-west-1",
                "--name",
                "ann-photos"
            ])
            .contains("is taken")
    );
    assert!(
        stook
            .refused(&[
                "bucket",
                "add",
                "--owner",
                "ann@example.com",
                "--region",
                "eu-west-1",
                "--name",
                "Bad_Name"
            ])
            .contains("bucket name")
    );
    assert!(
        stook
            .refused(&[
                "bucket",
                "add",
                "--owner",
                "zed@example.com",
                "--region",
                "eu-west-1",
                "--name",
                "zed-bucket"
            ])
            .contains("no user")
    );
    assert!(
        stook
            .refused(&[
                "bucket",
                "add",
                "--owner",
                "ann@example.com",
                "--region",
                "mars-1",
                "--name",
                "ann-mars"
            ])
            .contains("no region")
    );
    assert_eq!(stook.count(&["bucket", "list"]), 1);
    assert_eq!(
        stook.count(&["credential", "list"]),
        1,
        "only the master key, no key from a refused bucket"
    );

    let created = stook.json(&[
        "credential",
        "create",
        "--bucket",
        "ann-photos",
        "--name",
        "uploader",
        "--path",
        "photos//2024",
        "--actions",
        "s3:GetObject,s3:PutObject",
    ]);
    assert_eq!(created["credential"]["path"], "photos/2024/");
    assert_eq!(created["credential"]["permission_summary"], "Custom — 2 actions");
    assert_eq!(created["secret_key"].as_str().unwrap().len(), 40);
    let key_id = created["credential"]["access_key_id"].as_str().unwrap().to_string();
    let human = stook.ok(&[
        "credential",
        "create",
        "--bucket",
        "ann-photos",
        "--name",
        "reader",
        "--actions",
        "read-only",
        "--expires-in-days",
        "30",
    ]);
    assert!(
        human.contains("Read Only") && human.contains("Secret key (shown once): "),
        "{human}"
    );

    for (args, message) in [
        (
            vec!["--bucket", "ann-photos", "--name", "uploader", "--actions", "all"],
            "already have a credential",
        ),
        (
            vec!["--bucket", "ann-photos", "--name", "x", "--actions", "s3:Teleport"],
            "not an S3 action",
        ),
        (
            vec![
                "--bucket",
                "ann-photos",
                "--name",
                "x",
                "--actions",
                "all",
                "--path",
                "/abs",
            ],
            "leading",
        ),
        (
            vec![
                "--bucket",
                "ann-photos",
                "--name",
                "x",
                "--actions",
                "all",
                "--path",
                "a/../b",
            ],
            "“..”",
        ),
        (
            vec!["--bucket", "nope-bucket", "--name", "x", "--actions", "all"],
            "no bucket",
        ),
        (
            vec!["--bucket", "ann-photos", "--name", "  ", "--actions", "all"],
            "name",
        ),
        (
            vec![
                "--bucket",
                "ann-photos",
                "--name",
                "x",
                "--actions",
                "all",
                "--expires-in-days",
                "0",
            ],
            "from 1 to 3650 days",
        ),
    ] {
        let mut all = vec!["credential", "create"];
        all.extend(args);
        assert!(
            stook.refused(&all).contains(message),
            "{all:?} should mention {message}"
        );
    }
    assert_eq!(stook.count(&["credential", "list"]), 3, "master + two credentials");

    let revoked = stook.json(&["credential", "revoke", &key_id]);
    assert_eq!(revoked["status"], "revoked");
    assert!(
        stook
            .refused(&["credential", "revoke", "AAAAAAAAAAAAAAAAAAAA"])
            .contains("not found")
    );
    let list = stook.json(&["credential", "list", "--owner", "ann@example.com"]);
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "revoked").count(), 1);
    assert!(
        !list.to_string().contains(created["secret_key"].as_str().unwrap()),
        "a list never shows a secret"
    );
    assert!(
        stook
            .refused(&["credential", "list", "--owner", "nobody@example.com"])
            .contains("no user")
    );
}

#[test]
fn demo_loads_once() {
    let stook = Stook::new();
    let first = stook.ok(&["demo", "--password", "demo password 123"]);
    assert!(
        first.contains("demo@stook.local")
            && first.contains("eu-west-1/demo-photos")
            && first.contains("tr-ist-1/demo-backups"),
        "{first}"
    );
    let second = stook.ok(&["demo"]);
    assert!(second.contains("already loaded"), "{second}");
    assert_eq!(stook.count(&["bucket", "list"]), 2);
    let regions: Vec<String> = stook
        .json(&["region", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(regions, ["eu-west-1", "tr-ist-1"]);
}

#[test]
fn a_wrong_or_broken_master_key_stops_with_a_clear_error() {
    let stook = Stook::new();
    stook.ok(&["user", "add", "--email", "ann@example.com"]);
    stook.ok(&[
        "region",
        "add",
        "--name",
        "eu-west-1",
        "--endpoint",
        "https://s3.example.com",
    ]);
    stook.ok(&[
        "bucket",
        "add",
        "--owner",
        "ann@example.com",
        "--region",
        "eu-west-1",
        "--name",
        "ann-photos",
    ]);
    let key_file = stook.dir.join("master.key");
    assert!(std::fs::read_to_string(&key_file).unwrap().trim().len() == 44);

    let good_key = std::fs::read(&key_file).unwrap();
    std::fs::write(&key_file, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    let out = stook.run(&["credential", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open the secrets in this database"));

    std::fs::remove_file(&key_file).unwrap();
    let out = stook.run(&["credential", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is missing, but this database holds secrets"));
    assert!(!key_file.exists(), "no new key may replace the lost one");
    std::fs::write(&key_file, &good_key).unwrap();
    assert_eq!(stook.count(&["credential", "list"]), 1);

    std::fs::write(&key_file, "garbage").unwrap();
    let out = stook.run(&["user", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not hold a key"));
}

#[test]
fn help_documents_every_setting() {
    let stook = Stook::new();
    let help = stook.ok(&["serve", "--help"]);
    for setting in [
        "STOOK_LISTEN",
        "STOOK_S3_LISTEN",
        "STOOK_SECURE_COOKIES",
        "STOOK_ADMIN_EMAIL",
        "STOOK_ADMIN_PASSWORD",
        "STOOK_DATABASE_URL",
        "STOOK_DATA_DIR",
        "STOOK_MASTER_KEY_FILE",
        "RUST_LOG",
        "STOOK_DEMO",
        "STOOK_SITE_ROOT",
    ] {
        assert!(help.contains(setting), "serve --help does not mention {setting}");
    }
    let top = stook.ok(&["--help"]);
    for command in ["serve", "user", "region", "bucket", "credential", "demo"] {
        assert!(top.contains(command), "--help does not list {command}");
    }
}

#[test]
fn bucket_names_are_unique_across_regions_and_can_be_renamed() {
    let stook = Stook::new();
    stook.ok(&["user", "add", "--email", "ann@example.com"]);
    stook.ok(&["user", "add", "--email", "bob@example.com"]);
    for (name, endpoint) in [
        ("eu-west-1", "https://eu.example.com"),
        ("tr-ist-1", "https://tr.example.com"),
    ] {
        stook.ok(&["region", "add", "--name", name, "--endpoint", endpoint]);
    }
    stook.ok(&[
        "bucket",
        "add",
        "--owner",
        "ann@example.com",
        "--region",
        "eu-west-1",
        "--name",
        "media",
    ]);
    // Another customer, another region, the same name: the S3 endpoint could not tell them apart.
    let refused = stook.refused(&[
        "bucket",
        "add",
        "--owner",
        "bob@example.com",
        "--region",
        "tr-ist-1",
        "--name",
        "media",
    ]);
    assert!(refused.contains("“media” is taken"), "{refused}");
    assert_eq!(stook.count(&["bucket", "list"]), 1);

    let renamed = stook.json(&["bucket", "rename", "--name", "media", "--to", "ann-media"]);
    assert_eq!(renamed["name"], "ann-media");
    assert_eq!(renamed["region"], "eu-west-1");
    let names: Vec<String> = stook
        .json(&["bucket", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["ann-media"]);
    // The old name is free again; a taken or invalid new name is refused.
    stook.ok(&[
        "bucket",
        "add",
        "--owner",
        "bob@example.com",
        "--region",
        "tr-ist-1",
        "--name",
        "media",
    ]);
    assert!(
        stook
            .refused(&["bucket", "rename", "--name", "media", "--to", "ann-media"])
            .contains("is taken")
    );
    assert!(
        stook
            .refused(&["bucket", "rename", "--name", "media", "--to", "Bad_Name"])
            .contains("bucket name")
    );
    assert!(
        stook
            .refused(&["bucket", "rename", "--name", "nothing-here", "--to", "other"])
            .contains("no bucket")
    );
}

#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let stook = Stook::new();
    let fresh = stook.dir.join("fresh");
    let mut command = Command::new(env!("CARGO_BIN_EXE_stook"));
    command
        .args(["user", "list"])
        .env("STOOK_DATA_DIR", &fresh)
        .env_remove("STOOK_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("STOOK_MASTER_KEY_FILE")
        .env("RUST_LOG", "warn");
    // As under the usual login umask, which leaves new files readable by everyone.
    // SAFETY: umask is async-signal-safe and touches only the child's own mask.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&fresh), 0o700, "a new data directory");
    for file in ["stook.db", "master.key"] {
        let file_mode = mode(&fresh.join(file));
        assert_eq!(file_mode & 0o077, 0, "{file} is open to others: {file_mode:o}");
    }

    // A data directory others can read, as an older Stook left it, is tightened.
    std::fs::set_permissions(&stook.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    stook.ok(&["user", "list"]);
    assert_eq!(mode(&stook.dir), 0o700, "an existing data directory");
}

/// A user, a region and a bucket `ann-photos`, ready for credentials.
fn with_a_bucket() -> Stook {
    let stook = Stook::new();
    stook.ok(&["user", "add", "--email", "ann@example.com"]);
    stook.ok(&[
        "region",
        "add",
        "--name",
        "eu-west-1",
        "--endpoint",
        "https://s3.example.com",
    ]);
    stook.ok(&[
        "bucket",
        "add",
        "--owner",
        "ann@example.com",
        "--region",
        "eu-west-1",
        "--name",
        "ann-photos",
    ]);
    stook
}

/// Creates a read-only credential `name` on `ann-photos`; its access key id.
fn credential(stook: &Stook, name: &str, more: &[&str]) -> String {
    let mut args = vec![
        "credential",
        "create",
        "--bucket",
        "ann-photos",
        "--name",
        name,
        "--actions",
        "read-only",
    ];
    args.extend(more);
    let created = stook.json(&args);
    created["credential"]["access_key_id"].as_str().unwrap().to_string()
}

/// `--expires-in-days 99999999` was taken: the API allows ten years at most.
#[test]
fn expiries_are_bounded_as_in_the_api() {
    let stook = with_a_bucket();
    let before = stook.count(&["credential", "list"]);
    for days in ["99999999", "3651", "0"] {
        let refused = stook.refused(&[
            "credential",
            "create",
            "--bucket",
            "ann-photos",
            "--name",
            "forever",
            "--actions",
            "read-only",
            "--expires-in-days",
            days,
        ]);
        assert!(refused.contains("from 1 to 3650 days"), "{days}: {refused}");
    }
    assert_eq!(
        stook.count(&["credential", "list"]),
        before,
        "a refused create made a key"
    );
    let key = credential(&stook, "decade", &["--expires-in-days", "3650"]);
    let listed = stook.json(&["credential", "list"]);
    let expires_at = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["access_key_id"] == key.as_str())
        .unwrap()["expires_at"]
        .clone();
    let refused = stook.refused(&["credential", "update", &key, "--expires-in-days", "99999999"]);
    assert!(refused.contains("from 1 to 3650 days"), "{refused}");
    let after = stook.json(&["credential", "list"]);
    let unchanged = after
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["access_key_id"] == key.as_str())
        .unwrap()["expires_at"]
        .clone();
    assert_eq!(unchanged, expires_at, "a refused update changed the expiry");
}

/// A mistyped `--log` or RUST_LOG was read as the name of a module to log: the log went
/// quiet without a word.
#[test]
fn bad_log_filters_are_refused() {
    let stook = Stook::new();
    for (flag, env, named) in [
        (Some("verbose"), None, "“verbose”"),
        (Some("warn,server=debugg"), None, "“server=debugg”"),
        (None, Some("infoo"), "“infoo”"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stook"));
        command
            .args(["user", "list"])
            .env("STOOK_DATA_DIR", stook.dir.join("never"))
            .env_remove("STOOK_DATABASE_URL")
            .env_remove("DATABASE_URL");
        if let Some(flag) = flag {
            command.args(["--log", flag]).env("RUST_LOG", "warn");
        }
        if let Some(env) = env {
            command.env("RUST_LOG", env);
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{named}: {stderr}");
        assert!(stderr.contains(named) && stderr.contains("log"), "{named}: {stderr}");
        assert!(
            !stook.dir.join("never").exists(),
            "{named}: refused after making the data directory"
        );
    }
    // A good filter works as before.
    stook.ok(&["--log", "warn,server=debug", "user", "list"]);
}

/// Every operator command printed two INFO lines about migrations on stderr: on success
/// it prints its result alone, and RUST_LOG still turns the log on.
#[test]
fn operator_commands_print_only_their_result() {
    let stook = Stook::new();
    stook.ok(&["region", "list"]); // the first run creates the master key and says so
    let quiet = |args: &[&str], log: Option<&str>| {
        let out = stook.run_logging(args, log);
        assert!(
            out.status.success(),
            "stook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let email = format!("quiet-{}@example.com", rand_suffix()).to_lowercase();
    let (added, stderr) = quiet(&["user", "add", "--email", &email], None);
    assert!(added.contains(&email), "the result is printed: {added}");
    assert_eq!(stderr, "", "user add wrote to stderr");
    let (listed, stderr) = quiet(&["user", "list"], None);
    assert!(listed.contains(&email), "{listed}");
    assert_eq!(stderr, "", "user list wrote to stderr");
    let (_, logged) = quiet(&["user", "list"], Some("info"));
    assert!(logged.contains("INFO"), "RUST_LOG=info shows the log: {logged:?}");
}

/// Resuming an active key or revoking a revoked one exited 0 without a word.
#[test]
fn a_change_that_changes_nothing_says_so() {
    let stook = with_a_bucket();
    let key = credential(&stook, "reader", &[]);
    let status = |stook: &Stook| {
        let list = stook.json(&["credential", "list"]);
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["access_key_id"] == key.as_str())
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let refused = stook.refused(&["credential", "resume", &key]);
    assert!(refused.contains("already active"), "{refused}");
    assert_eq!(status(&stook), "active");
    stook.ok(&["credential", "pause", &key]);
    let refused = stook.refused(&["credential", "pause", &key]);
    assert!(refused.contains("already paused"), "{refused}");
    assert_eq!(status(&stook), "paused");
    assert!(stook.ok(&["credential", "revoke", &key]).contains("Revoked"));
    let refused = stook.refused(&["credential", "revoke", &key]);
    assert!(refused.contains("already revoked"), "{refused}");
    let refused = stook.refused(&["credential", "resume", &key]);
    assert!(refused.contains("revoked"), "{refused}");
    assert_eq!(status(&stook), "revoked");
}

/// A PostgreSQL URL whose port had no listener waited 10 seconds and said only "pool
/// timed out".
#[test]
fn an_unreachable_database_is_named() {
    let stook = Stook::new();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stook"))
        .args(["user", "list"])
        .env("STOOK_DATA_DIR", &stook.dir)
        .env(
            "STOOK_DATABASE_URL",
            format!("postgres://postgres:secret-password@127.0.0.1:{port}/postgres"),
        )
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret-password"),
        "the password was printed: {stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
