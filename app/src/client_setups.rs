//! Ready-to-paste set-ups for the S3 clients people use, for one key: the AWS CLI,
//! rclone, s3cmd, boto3, restic, and a Cyberduck bookmark. The drawer builds them on the
//! server with [`SECRET_PLACEHOLDER`] for the secret, which the browser fills in once the
//! secret is revealed (so the secret never travels again for them, and these generators
//! stay out of the browser bundle); the Cyberduck bookmark never holds the secret.
//!
//! A key's name and folder are typed by people (an admin can set them on a customer's
//! key), so every value is quoted for the language it lands in: [`py_str`] for Python,
//! [`shell_word`] for shell lines, [`Ini`] for each tool's config reader, [`url_path`]
//! and [`safe_endpoint`] for URLs, [`xml_text`] for the bookmark. A value a config format
//! cannot hold as written is left out of that file, and the set-up says so.

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
/// underscores only, so it reads the same in every language here, as secrets do
/// (URL-safe base64, see [`is_plain_secret`]).
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
    /// Where the generator wrote the secret in `text` (byte offsets): [`Setup::with_secret`]
    /// fills in those places only, so a folder that happens to spell the placeholder
    /// never receives the secret.
    #[serde(default)]
    pub secret_at: Vec<usize>,
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
    /// The set-up with the revealed secret where the generator put [`SECRET_PLACEHOLDER`].
    /// The secret goes in as it is: Stook's secrets are URL-safe base64, plain in every
    /// language here.
    pub fn with_secret(&self, secret_key: &str) -> String {
        let mut text = String::with_capacity(self.text.len() + secret_key.len());
        let mut from = 0;
        for &at in &self.secret_at {
            let end = at + SECRET_PLACEHOLDER.len();
            if at >= from && self.text.get(at..end) == Some(SECRET_PLACEHOLDER) {
                text.push_str(&self.text[from..at]);
                text.push_str(secret_key);
                from = end;
            }
        }
        text.push_str(&self.text[from..]);
        text
    }
}

/// A set-up's text as it is written, remembering where the secret went.
#[derive(Default)]
struct Draft {
    text: String,
    secret_at: Vec<usize>,
}

impl Draft {
    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// The secret, quoted by `quote` like any value; its place is remembered when it is
    /// plain (and so written as it is), which the placeholder and Stook's secrets are.
    fn secret(&mut self, secret: &str, quote: impl Fn(&str) -> String) -> &mut Self {
        let quoted = quote(secret);
        if is_plain_secret(secret)
            && let Some(inside) = quoted.find(secret)
        {
            self.secret_at.push(self.text.len() + inside);
        }
        self.text.push_str(&quoted);
        self
    }

    fn setup(self, client: &str, place: &str, try_it: String) -> Setup {
        Setup {
            client: client.into(),
            place: place.into(),
            text: self.text,
            try_it,
            secret_at: self.secret_at,
        }
    }
}

/// Letters, digits, `-` and `_` (URL-safe base64, what `new_secret_key` makes): written
/// as they are in a Python string, a shell word, a URL and every config file here.
pub fn is_plain_secret(secret: &str) -> bool {
    !secret.is_empty()
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl KeyAccess {
    /// A name for profiles and remotes: `stook-` and the credential's name in lowercase
    /// letters, digits and dashes (a master key: `stook-<bucket>`). Being plain, it is
    /// safe as an INI section name, a shell word and a file name.
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

    /// The endpoint without a trailing slash, percent-encoded where it is not plain.
    fn endpoint(&self) -> String {
        safe_endpoint(self.endpoint_url.trim_end_matches('/'))
    }

    /// `host:port` of [`Self::endpoint`], without the scheme or a path.
    fn host(&self) -> String {
        let url = self.endpoint();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest).to_string()
    }
}

pub fn aws_cli(access: &KeyAccess, secret_key: &str) -> Setup {
    let profile = access.profile();
    let mut text = Draft::default();
    text.push(&format!("# ~/.aws/config\n[profile {profile}]\n"))
        .push(&Ini::Aws.line("region", &access.region))
        .push(&Ini::Aws.line("endpoint_url", &access.endpoint()))
        .push("s3 =\n    signature_version = s3v4\n    addressing_style = path\n\n")
        .push(&format!("# ~/.aws/credentials\n[{profile}]\n"))
        .push(&Ini::Aws.line("aws_access_key_id", &access.access_key_id))
        .push("aws_secret_access_key = ")
        .secret(secret_key, |s| Ini::Aws.value(s).unwrap_or_default().to_string())
        .push("\n");
    let try_it = format!(
        "aws --profile {profile} s3 ls {}",
        shell_word(&format!("s3://{}", access.bucket_and_path()))
    );
    text.setup("AWS CLI", "~/.aws/config and ~/.aws/credentials", try_it)
}

pub fn rclone(access: &KeyAccess, secret_key: &str) -> Setup {
    let remote = access.profile();
    let mut text = Draft::default();
    text.push(&format!("[{remote}]\ntype = s3\nprovider = Other\n"))
        .push(&Ini::Rclone.line("access_key_id", &access.access_key_id))
        .push("secret_access_key = ")
        .secret(secret_key, |s| Ini::Rclone.value(s).unwrap_or_default().to_string())
        .push("\n")
        .push(&Ini::Rclone.line("endpoint", &access.endpoint()))
        .push(&Ini::Rclone.line("region", &access.region))
        // Stook keys never create buckets (CreateBucket is outside the evaluator's
        // table), so rclone must not try to.
        .push("force_path_style = true\nno_check_bucket = true\n");
    // The key's folder as the root of a second remote, so paths start where the key
    // works; when rclone would not read the folder back as written, the command names it.
    let root = format!("{remote}:{}", access.bucket_and_path());
    let try_it = match Ini::Rclone.value(&root) {
        Some(root) => {
            text.push(&format!("\n[{remote}-root]\ntype = alias\nremote = {root}\n"));
            format!("rclone lsf {remote}-root:")
        }
        None => {
            text.push(&format!(
                "\n# No {remote}-root remote: rclone would not read this key's folder back as written.\n# Name the folder on the command line, as in the command to try.\n"
            ));
            format!("rclone lsf {}", shell_word(&root))
        }
    };
    text.setup("rclone", "~/.config/rclone/rclone.conf", try_it)
}

pub fn s3cmd(access: &KeyAccess, secret_key: &str) -> Setup {
    let host = access.host();
    let mut text = Draft::default();
    text.push("[default]\n")
        .push(&Ini::S3cmd.line("access_key", &access.access_key_id))
        .push("secret_key = ")
        .secret(secret_key, |s| Ini::S3cmd.value(s).unwrap_or_default().to_string())
        .push("\n")
        .push(&Ini::S3cmd.line("host_base", &host))
        .push(&Ini::S3cmd.line("host_bucket", &host))
        .push(&Ini::S3cmd.line("bucket_location", &access.region))
        .push(if access.uses_https() {
            "use_https = True\n"
        } else {
            "use_https = False\n"
        })
        .push("signature_v2 = False\n");
    let try_it = format!("s3cmd ls {}", shell_word(&format!("s3://{}", access.bucket_and_path())));
    text.setup("s3cmd", "~/.s3cfg", try_it)
}

pub fn boto3(access: &KeyAccess, secret_key: &str) -> Setup {
    let prefix = access.path.as_deref().unwrap_or("");
    let mut text = Draft::default();
    text.push(&format!(
        "import boto3\nfrom botocore.config import Config\n\ns3 = boto3.client(\n    \"s3\",\n    endpoint_url={endpoint},\n    region_name={region},\n    aws_access_key_id={id},\n    aws_secret_access_key=",
        endpoint = py_str(&access.endpoint()),
        region = py_str(&access.region),
        id = py_str(&access.access_key_id),
    ))
    .secret(secret_key, py_str)
    .push(&format!(
        ",\n    config=Config(signature_version=\"s3v4\", s3={{\"addressing_style\": \"path\"}}),\n)\n\nfor item in s3.list_objects_v2(Bucket={bucket}, Prefix={prefix}).get(\"Contents\", []):\n    print(item[\"Key\"])\n",
        bucket = py_str(&access.bucket),
        prefix = py_str(prefix),
    ));
    text.setup("boto3 (Python)", "a Python file", "python3 list.py".to_string())
}

pub fn restic(access: &KeyAccess, secret_key: &str) -> Setup {
    // restic reads `s3:http…` as a URL, so the bucket and folder are percent-encoded.
    let repository = format!(
        "s3:{}/{}/{}restic",
        access.endpoint(),
        url_path(&access.bucket),
        url_path(access.path.as_deref().unwrap_or(""))
    );
    let mut text = Draft::default();
    text.push(&format!(
        "export AWS_ACCESS_KEY_ID={}\n",
        shell_word(&access.access_key_id)
    ))
    .push("export AWS_SECRET_ACCESS_KEY=")
    .secret(secret_key, shell_word)
    .push(&format!(
        "\nexport AWS_DEFAULT_REGION={}\nexport RESTIC_REPOSITORY={}\n",
        shell_word(&access.region),
        shell_word(&repository)
    ));
    text.setup("restic", "a shell (or an env file)", "restic init".to_string())
}

/// A Cyberduck bookmark (`.duck`, a property list): protocol, host, port, the key's
/// folder as the default path and the access key id. Never the secret: Cyberduck asks
/// for it and keeps it in the system keychain.
pub fn cyberduck_bookmark(access: &KeyAccess) -> String {
    let host = access.host();
    let (hostname, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => (name.to_string(), port.to_string()),
        _ => (host.clone(), if access.uses_https() { "443" } else { "80" }.to_string()),
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
        ("Hostname", hostname),
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

/// A word a POSIX shell (sh, bash, zsh) reads back as `text`: as it is when plain, else
/// in single quotes, inside which nothing is special but the quote itself.
pub fn shell_word(text: &str) -> String {
    let plain = text.bytes().enumerate().all(|(i, b)| {
        b.is_ascii_alphanumeric()
            || b"-_./:@,+".contains(&b)
            // zsh expands `=cmd` at the start of a word.
            || (i > 0 && b"=%".contains(&b))
    });
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A Python string literal that evaluates to `text`, in ASCII: quotes and backslashes
/// escaped, everything outside printable ASCII as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub fn py_str(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for c in text.chars() {
        match c {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            ' '..='~' => literal.push(c),
            c if u32::from(c) < 0x100 => literal.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if u32::from(c) < 0x1_0000 => literal.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => literal.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    literal.push('"');
    literal
}

/// Text for an XML element: markup characters as entities, and the characters XML 1.0
/// cannot hold at all (most control characters) as U+FFFD.
pub fn xml_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // A parser reads a raw carriage return as a line end.
            '\r' => escaped.push_str("&#13;"),
            '\t' | '\n' => escaped.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A URL path (bucket, folder) percent-encoded but for its slashes and the characters
/// RFC 3986 leaves plain, so a URL parser gives it back as it is.
pub fn url_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    encoded
}

/// An endpoint URL with only the characters an endpoint needs (letters, digits,
/// `-._~:/@[]` and existing `%XX` escapes); everything else percent-encoded. The URL is an
/// admin's, checked only for its scheme and spaces: this keeps it from closing a quote,
/// starting a comment or referring to a variable in any config file it lands in.
pub fn safe_endpoint(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut safe = String::with_capacity(url.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_follows = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if b.is_ascii_alphanumeric() || b"-._~:/@[]".contains(&b) || escape_follows {
            safe.push(char::from(b));
        } else {
            safe.push_str(&format!("%{b:02X}"));
        }
    }
    safe
}

/// The INI readers of the clients, each with its own idea of a value. INI has no escapes,
/// so a value one of them would not read back as written is left out, never mangled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ini {
    /// `~/.aws/config` and `credentials`: botocore's RawConfigParser strips the value;
    /// other SDKs' readers also end a value at ` #` or ` ;` and may unquote it.
    Aws,
    /// rclone (goconfig): strips, unquotes a value that starts with a backtick or `"""`,
    /// and replaces `%(name)s` with another key's value.
    Rclone,
    /// s3cmd: strips, unquotes `"…"`, reads a value starting with `$` as an environment
    /// variable, and fills `%(bucket)s` into `host_bucket`.
    S3cmd,
}

impl Ini {
    /// `value` as it is, when this reader gives it back unchanged; `None` when not.
    pub fn value(self, value: &str) -> Option<&str> {
        let one_line = !value.chars().any(char::is_control);
        let unpadded = value.trim() == value;
        let unquoted = !value.starts_with(['"', '\'', '`']);
        let plain = match self {
            Ini::Aws => !value.contains(['#', ';']),
            Ini::Rclone => !value.contains("%("),
            Ini::S3cmd => !value.starts_with('$') && !value.contains("%("),
        };
        (one_line && unpadded && unquoted && plain).then_some(value)
    }

    /// `key = value` and a newline, or a comment saying the value is left out.
    fn line(self, key: &str, value: &str) -> String {
        match self.value(value) {
            Some(value) => format!("{key} = {value}\n"),
            None => format!("# {key}: left out, this file cannot hold its value as it is\n"),
        }
    }
}

#[cfg(test)]
mod runs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Operation;

    const SECRET: &str = "sEcReT_kEy-40charactersXXXXXXXXXXXXXXXXX";

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
        assert_eq!(shell_word(""), "''");
        // zsh expands `=ls` at the start of a word; inside one `=` and `%` are plain.
        assert_eq!(shell_word("=ls"), "'=ls'");
        assert_eq!(shell_word("a=b%c"), "a=b%c");
        assert_eq!(shell_word("$(id)`id`"), "'$(id)`id`'");
        let key = scope(Some("we ird/ünï/"));
        let setup = restic(&access(&key, "https://s3.example.com", None), SECRET);
        // restic reads the repository as a URL: the folder is percent-encoded.
        assert!(
            setup
                .text
                .contains("export RESTIC_REPOSITORY=s3:https://s3.example.com/media/we%20ird/%C3%BCn%C3%AF/restic\n"),
            "{}",
            setup.text
        );
        assert!(setup.text.contains(&format!("export AWS_SECRET_ACCESS_KEY={SECRET}\n")));
        assert_eq!(
            aws_cli(&access(&key, "https://s3.example.com", None), SECRET).try_it,
            "aws --profile stook-media s3 ls 's3://media/we ird/ünï/'"
        );
    }

    #[test]
    fn python_strings_escape_quotes_backslashes_and_everything_not_plain_ascii() {
        assert_eq!(py_str("photos/"), "\"photos/\"");
        assert_eq!(py_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            py_str("\"+__import__(\"os\")+\""),
            "\"\\\"+__import__(\\\"os\\\")+\\\"\""
        );
        assert_eq!(py_str("\n\u{7f}ü写😀"), r#""\x0a\x7f\xfc\u5199\U0001f600""#);
        assert_eq!(py_str("{x} %s '"), "\"{x} %s '\"");
    }

    #[test]
    fn xml_text_escapes_markup_and_replaces_what_xml_cannot_hold() {
        assert_eq!(
            xml_text("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(xml_text("a\u{1}b\rc\td\ne\u{ffff}"), "a\u{fffd}b&#13;c\td\ne\u{fffd}");
    }

    #[test]
    fn urls_are_percent_encoded_where_not_plain() {
        assert_eq!(url_path("photos/2024/"), "photos/2024/");
        assert_eq!(url_path("a b/#?%ü/"), "a%20b/%23%3F%25%C3%BC/");
        assert_eq!(
            safe_endpoint("https://s3.example.com:9000/x"),
            "https://s3.example.com:9000/x"
        );
        assert_eq!(safe_endpoint("http://[::1]:9000"), "http://[::1]:9000");
        assert_eq!(safe_endpoint("http://h/%41%zz"), "http://h/%41%25zz");
        assert_eq!(
            safe_endpoint("http://h/#;$(id)\"'`%(x)s"),
            "http://h/%23%3B%24%28id%29%22%27%60%25%28x%29s"
        );
    }

    #[test]
    fn each_ini_reader_gets_only_values_it_reads_back() {
        for ini in [Ini::Aws, Ini::Rclone, Ini::S3cmd] {
            assert_eq!(
                ini.value("stook-x:media/we ird/ünï/"),
                Some("stook-x:media/we ird/ünï/")
            );
            for bad in [
                "a\nb",
                "a\rb",
                " lead",
                "trail ",
                "\"quoted\"",
                "'quoted'",
                "`quoted`",
                "tab\t",
            ] {
                assert_eq!(ini.value(bad), None, "{ini:?} {bad:?}");
            }
        }
        // Comment signs: only other AWS SDKs' readers cut a value there.
        assert_eq!(Ini::Aws.value("a #b"), None);
        assert_eq!(Ini::Aws.value("a;b"), None);
        assert_eq!(Ini::Rclone.value("x:a #b;c/"), Some("x:a #b;c/"));
        // goconfig and s3cmd fill in `%(name)s`; s3cmd reads `$NAME` from the environment.
        assert_eq!(Ini::Rclone.value("x:%(type)s/"), None);
        assert_eq!(Ini::S3cmd.value("%(bucket)s.h"), None);
        assert_eq!(Ini::S3cmd.value("$HOME"), None);
        assert_eq!(Ini::Rclone.value("x:$HOME/"), Some("x:$HOME/"));
        assert_eq!(
            Ini::Aws.line("endpoint_url", "a#b"),
            "# endpoint_url: left out, this file cannot hold its value as it is\n"
        );
    }

    #[test]
    fn rclone_names_a_folder_it_cannot_hold_on_the_command_line() {
        let key = scope(Some("%(secret_access_key)s/"));
        let setup = rclone(&access(&key, "http://127.0.0.1:9000", Some("camera")), SECRET);
        assert!(!setup.text.contains("[stook-camera-root]"), "{}", setup.text);
        assert!(!setup.text.contains("%("), "{}", setup.text);
        assert!(setup.text.contains("# No stook-camera-root remote"), "{}", setup.text);
        assert_eq!(setup.try_it, "rclone lsf 'stook-camera:media/%(secret_access_key)s/'");
    }

    #[test]
    fn the_secret_goes_where_the_generator_put_it_and_nowhere_else() {
        let key = scope(Some(&format!("{SECRET_PLACEHOLDER}/")));
        for setup in setups(&access(&key, "http://127.0.0.1:9000", Some("k")), SECRET_PLACEHOLDER) {
            assert_eq!(setup.secret_at.len(), 1, "{}", setup.client);
            let filled = setup.with_secret(SECRET);
            assert_eq!(filled.matches(SECRET).count(), 1, "{}: {filled}", setup.client);
            // The folder that spells the placeholder is still there, as it was.
            assert_eq!(
                filled.matches(SECRET_PLACEHOLDER).count(),
                setup.text.matches(SECRET_PLACEHOLDER).count() - 1,
                "{}",
                setup.client
            );
        }
        // Built with the secret itself (the command line), there is nothing to fill in.
        let setup = boto3(&access(&key, "http://127.0.0.1:9000", None), SECRET);
        assert_eq!(setup.with_secret("other"), setup.text);
    }
}
