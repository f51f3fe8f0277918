//! Ready-to-paste set-ups for the S3 clients people use, for one key: the AWS CLI,
//! rclone, s3cmd, boto3, restic, and a Cyberduck bookmark. The drawer builds them on the
//! server with [`SECRET_PLACEHOLDER`] for the secret, which the browser fills in once the
//! secret is revealed (so the secret never travels again for them, and these generators
//! stay out of the browser bundle); the Cyberduck bookmark never holds the secret.

use serde::{Deserialize, Serialize};

/// Where a key works and what it is called: everything a set-up needs but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAccess {
    /// The region's S3 endpoint, like `https://s3.eu-west-1.example.com`.
    pub endpoint_url: String,
    pub region: String,
    pub bucket: String,
    /// The folder the key is limited to (`photos/`), if any.
    pub path: Option<String>,
    /// The credential's name (a master key has none), for profile and remote names.
    pub name: Option<String>,
    pub access_key_id: String,
}

/// Stands for the secret in set-ups built before it is revealed: letters and
/// underscores only, so no generator quotes it (secrets are URL-safe base64 too).
pub const SECRET_PLACEHOLDER: &str = "__STOOK_SECRET_KEY__";

/// One client's set-up: where it goes and what to paste.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub client: String,
    /// Where the text goes (a file, a shell), in words.
    pub place: String,
    pub text: String,
    /// A command that shows the key works.
    pub try_it: String,
}

/// The clients, in the order the drawer offers them.
pub fn setups(access: &KeyAccess, secret_key: &str) -> Vec<Setup> {
    vec![
        aws_cli(access, secret_key),
        rclone(access, secret_key),
        s3cmd(access, secret_key),
        boto3(access, secret_key),
        restic(access, secret_key),
    ]
}

impl Setup {
    /// The set-up with the revealed secret in place of [`SECRET_PLACEHOLDER`].
    pub fn with_secret(&self, secret_key: &str) -> String {
        self.text.replace(SECRET_PLACEHOLDER, secret_key)
    }
}

impl KeyAccess {
    /// A name for profiles and remotes: `stook-` and the credential's name in lowercase
    /// letters, digits and dashes (a master key: `stook-<bucket>`).
    pub fn profile(&self) -> String {
        let base = self.name.as_deref().unwrap_or(&self.bucket);
        let mut slug = String::new();
        for c in base.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() {
            "stook".to_string()
        } else {
            format!("stook-{slug}")
        }
    }

    /// `bucket/path/` (or `bucket/`): where the key may work.
    fn bucket_and_path(&self) -> String {
        format!("{}/{}", self.bucket, self.path.as_deref().unwrap_or(""))
    }

    fn uses_https(&self) -> bool {
        self.endpoint_url.starts_with("https://")
    }

    /// `host:port` without the scheme or a trailing slash.
    fn host(&self) -> &str {
        let url = self.endpoint_url.as_str();
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    fn endpoint(&self) -> &str {
        self.endpoint_url.trim_end_matches('/')
    }
}

pub fn aws_cli(access: &KeyAccess, secret_key: &str) -> Setup {
    let profile = access.profile();
    Setup {
        client: "AWS CLI".into(),
        place: "~/.aws/config and ~/.aws/credentials".into(),
        text: format!(
            "# ~/.aws/config\n[profile {profile}]\nregion = {region}\nendpoint_url = {endpoint}\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n\n# ~/.aws/credentials\n[{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n",
            region = access.region,
            endpoint = access.endpoint(),
            id = access.access_key_id,
            secret = secret_key,
        ),
        try_it: format!(
            "aws --profile {profile} s3 ls {}",
            shell_word(&format!("s3://{}", access.bucket_and_path()))
        ),
    }
}

pub fn rclone(access: &KeyAccess, secret_key: &str) -> Setup {
    let remote = access.profile();
    // Stook keys never create buckets (CreateBucket is outside the evaluator's table), so
    // rclone must not try to.
    let mut text = format!(
        "[{remote}]\ntype = s3\nprovider = Other\naccess_key_id = {id}\nsecret_access_key = {secret}\nendpoint = {endpoint}\nregion = {region}\nforce_path_style = true\nno_check_bucket = true\n",
        id = access.access_key_id,
        secret = secret_key,
        endpoint = access.endpoint(),
        region = access.region,
    );
    // The key's folder as the root of a second remote, so paths start where the key works.
    text.push_str(&format!(
        "\n[{remote}-root]\ntype = alias\nremote = {remote}:{}\n",
        access.bucket_and_path()
    ));
    Setup {
        client: "rclone".into(),
        place: "~/.config/rclone/rclone.conf".into(),
        text,
        try_it: format!("rclone lsf {remote}-root:"),
    }
}

pub fn s3cmd(access: &KeyAccess, secret_key: &str) -> Setup {
    let host = access.host();
    Setup {
        client: "s3cmd".into(),
        place: "~/.s3cfg".into(),
        text: format!(
            "[default]\naccess_key = {id}\nsecret_key = {secret}\nhost_base = {host}\nhost_bucket = {host}\nbucket_location = {region}\nuse_https = {https}\nsignature_v2 = False\n",
            id = access.access_key_id,
            secret = secret_key,
            region = access.region,
            https = if access.uses_https() { "True" } else { "False" },
        ),
        try_it: format!("s3cmd ls {}", shell_word(&format!("s3://{}", access.bucket_and_path()))),
    }
}

pub fn boto3(access: &KeyAccess, secret_key: &str) -> Setup {
    let prefix = access.path.as_deref().unwrap_or("");
    Setup {
        client: "boto3 (Python)".into(),
        place: "a Python file".into(),
        text: format!(
            "import boto3\nfrom botocore.config import Config\n\ns3 = boto3.client(\n    \"s3\",\n    endpoint_url=\"{endpoint}\",\n    region_name=\"{region}\",\n    aws_access_key_id=\"{id}\",\n    aws_secret_access_key=\"{secret}\",\n    config=Config(signature_version=\"s3v4\", s3={{\"addressing_style\": \"path\"}}),\n)\n\nfor item in s3.list_objects_v2(Bucket=\"{bucket}\", Prefix=\"{prefix}\").get(\"Contents\", []):\n    print(item[\"Key\"])\n",
            endpoint = access.endpoint(),
            region = access.region,
            id = access.access_key_id,
            secret = secret_key,
            bucket = access.bucket,
        ),
        try_it: "python3 list.py".to_string(),
    }
}

pub fn restic(access: &KeyAccess, secret_key: &str) -> Setup {
    Setup {
        client: "restic".into(),
        place: "a shell (or an env file)".into(),
        text: format!(
            "export AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={secret}\nexport AWS_DEFAULT_REGION={region}\nexport RESTIC_REPOSITORY={repository}\n",
            id = shell_word(&access.access_key_id),
            secret = shell_word(secret_key),
            region = shell_word(&access.region),
            repository = shell_word(&format!("s3:{}/{}restic", access.endpoint(), access.bucket_and_path())),
        ),
        try_it: "restic init".to_string(),
    }
}

/// A Cyberduck bookmark (`.duck`, a property list): protocol, host, port, the key's
/// folder as the default path and the access key id. Never the secret: Cyberduck asks
/// for it and keeps it in the system keychain.
pub fn cyberduck_bookmark(access: &KeyAccess) -> String {
    let host = access.host();
    let (hostname, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => (name, port.to_string()),
        _ => (host, if access.uses_https() { "443" } else { "80" }.to_string()),
    };
    // Cyberduck's bundled profile for S3 over plain HTTP.
    let protocol = if access.uses_https() { "s3" } else { "s3-http" };
    let nickname = match &access.name {
        Some(name) => format!("{name} (Stook)"),
        None => format!("{} master key (Stook)", access.bucket),
    };
    let entries = [
        ("Protocol", protocol.to_string()),
        ("Provider", "iterate GmbH".to_string()),
        ("Nickname", nickname),
        ("Hostname", hostname.to_string()),
        ("Port", port),
        ("Username", access.access_key_id.clone()),
        ("Path", format!("/{}", access.bucket_and_path())),
        ("Region", access.region.clone()),
    ];
    let mut plist = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n",
    );
    for (key, value) in entries {
        plist.push_str(&format!(
            "\t<key>{key}</key>\n\t<string>{}</string>\n",
            xml_text(&value)
        ));
    }
    plist.push_str("</dict>\n</plist>\n");
    plist
}

/// The bookmark's file name: the profile name and `.duck`.
pub fn cyberduck_file_name(access: &KeyAccess) -> String {
    format!("{}.duck", access.profile())
}

/// A word a POSIX shell reads back as `text`: as it is when plain, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Operation;

    const SECRET: &str = "sEcReT/kEy+40charactersXXXXXXXXXXXXXXXXX";

    fn scope(path: Option<&str>) -> Option<String> {
        path.map(str::to_string)
    }

    fn access(path: &Option<String>, endpoint_url: &str, name: Option<&str>) -> KeyAccess {
        KeyAccess {
            endpoint_url: endpoint_url.into(),
            region: "eu-west-1".into(),
            bucket: "media".into(),
            path: path.clone(),
            name: name.map(str::to_string),
            access_key_id: "AKIAEXAMPLE000000001".into(),
        }
    }

    #[test]
    fn profile_names_are_plain() {
        let photos = scope(Some("photos/"));
        assert_eq!(
            access(&photos, "http://h", Some("Website uploads!")).profile(),
            "stook-website-uploads"
        );
        assert_eq!(access(&photos, "http://h", None).profile(), "stook-media");
        assert_eq!(access(&photos, "http://h", Some("ğüş")).profile(), "stook");
    }

    #[test]
    fn aws_cli_uses_a_named_profile_with_the_endpoint_and_sigv4() {
        let photos = scope(Some("photos/"));
        let setup = aws_cli(&access(&photos, "https://s3.example.com/", Some("camera")), SECRET);
        assert!(
            setup
                .text
                .contains("[profile stook-camera]\nregion = eu-west-1\nendpoint_url = https://s3.example.com\n")
        );
        assert!(setup.text.contains("    signature_version = s3v4\n"));
        assert!(
            setup
                .text
                .contains("[stook-camera]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = sEcReT")
        );
        assert_eq!(setup.try_it, "aws --profile stook-camera s3 ls s3://media/photos/");
    }

    #[test]
    fn rclone_never_checks_the_bucket_and_roots_at_the_path() {
        for (path, root) in [(Some("photos/2024/"), "media/photos/2024/"), (None, "media/")] {
            let key = scope(path);
            let setup = rclone(&access(&key, "http://127.0.0.1:9000", Some("camera")), SECRET);
            assert!(setup.text.contains("[stook-camera]\ntype = s3\nprovider = Other\n"));
            assert!(setup.text.contains("endpoint = http://127.0.0.1:9000\n"));
            assert!(setup.text.contains("no_check_bucket = true\n"));
            assert!(setup.text.contains(&format!(
                "[stook-camera-root]\ntype = alias\nremote = stook-camera:{root}\n"
            )));
            assert_eq!(setup.try_it, "rclone lsf stook-camera-root:");
        }
        // Why no_check_bucket is always right: no key can create a bucket.
        assert_eq!(Operation::from_name("CreateBucket"), None);
    }

    #[test]
    fn s3cmd_follows_the_scheme_and_names_the_region() {
        let key = scope(None);
        let plain = s3cmd(&access(&key, "http://127.0.0.1:9000", None), SECRET);
        assert!(plain.text.contains(
            "host_base = 127.0.0.1:9000\nhost_bucket = 127.0.0.1:9000\nbucket_location = eu-west-1\nuse_https = False\n"
        ));
        let tls = s3cmd(&access(&key, "https://s3.example.com", None), SECRET);
        assert!(tls.text.contains("host_base = s3.example.com\n"));
        assert!(tls.text.contains("use_https = True\n"));
    }

    #[test]
    fn boto3_signs_with_v4_and_lists_inside_the_path() {
        let key = scope(Some("photos/"));
        let setup = boto3(&access(&key, "http://127.0.0.1:9000", None), SECRET);
        assert!(setup.text.contains("signature_version=\"s3v4\""));
        assert!(setup.text.contains("endpoint_url=\"http://127.0.0.1:9000\""));
        assert!(setup.text.contains("Bucket=\"media\", Prefix=\"photos/\""));
        assert!(setup.text.contains(SECRET));
    }

    #[test]
    fn restic_keeps_its_repository_inside_the_path() {
        let key = scope(Some("backups/"));
        let setup = restic(&access(&key, "https://s3.example.com", None), SECRET);
        assert!(
            setup
                .text
                .contains("export RESTIC_REPOSITORY=s3:https://s3.example.com/media/backups/restic\n")
        );
        assert!(setup.text.contains("export AWS_ACCESS_KEY_ID=AKIAEXAMPLE000000001\n"));
    }

    #[test]
    fn the_cyberduck_bookmark_never_holds_the_secret() {
        let key = scope(Some("photos/"));
        let plain = cyberduck_bookmark(&access(&key, "http://127.0.0.1:9000", Some("R&D <camera>")));
        assert!(!plain.contains(SECRET));
        assert!(!plain.contains("sEcReT"));
        assert!(plain.contains("<key>Protocol</key>\n\t<string>s3-http</string>"));
        assert!(plain.contains("<key>Hostname</key>\n\t<string>127.0.0.1</string>"));
        assert!(plain.contains("<key>Port</key>\n\t<string>9000</string>"));
        assert!(plain.contains("<key>Path</key>\n\t<string>/media/photos/</string>"));
        assert!(plain.contains("<key>Username</key>\n\t<string>AKIAEXAMPLE000000001</string>"));
        assert!(plain.contains("<string>R&amp;D &lt;camera&gt; (Stook)</string>"));
        let tls = cyberduck_bookmark(&access(&key, "https://s3.example.com", None));
        assert!(tls.contains("<string>s3</string>"));
        assert!(tls.contains("<key>Port</key>\n\t<string>443</string>"));
        assert_eq!(
            cyberduck_file_name(&access(&key, "https://s3.example.com", None)),
            "stook-media.duck"
        );
    }

    #[test]
    fn every_setup_but_the_bookmark_carries_the_key() {
        let key = scope(None);
        for setup in setups(&access(&key, "http://127.0.0.1:9000", Some("k")), SECRET) {
            assert!(setup.text.contains("AKIAEXAMPLE000000001"), "{}", setup.client);
            assert!(setup.text.contains(SECRET), "{}", setup.client);
        }
    }

    #[test]
    fn shell_lines_survive_odd_paths() {
        assert_eq!(shell_word("s3://media/photos/"), "s3://media/photos/");
        assert_eq!(shell_word("s3://media/we ird/"), "'s3://media/we ird/'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        let key = scope(Some("we ird/ünï/"));
        let setup = restic(&access(&key, "https://s3.example.com", None), SECRET);
        assert!(
            setup
                .text
                .contains("export RESTIC_REPOSITORY='s3:https://s3.example.com/media/we ird/ünï/restic'\n"),
            "{}",
            setup.text
        );
        // The secret has a slash and a plus: both plain in a shell word.
        assert!(setup.text.contains(&format!("export AWS_SECRET_ACCESS_KEY={SECRET}\n")));
        assert_eq!(
            aws_cli(&access(&key, "https://s3.example.com", None), SECRET).try_it,
            "aws --profile stook-media s3 ls 's3://media/we ird/ünï/'"
        );
    }
}
