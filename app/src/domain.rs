//! Types and rules shared by the browser and the server: who is signed in, and what
//! makes a name, an email, a path or a password acceptable.

use serde::{Deserialize, Serialize};

/// Stored as text; a stored value that is none of these fails the query (never a
/// default role).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "customer"))]
    Customer,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admin"))]
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "customer" => Ok(Role::Customer),
            "admin" => Ok(Role::Admin),
            other => Err(format!("Role must be “customer” or “admin”, not “{other}”.")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub id: i32,
    pub email: String,
    pub role: Role,
}

impl SignedInUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A bucket as the panel shows it (no secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketView {
    pub id: i32,
    pub name: String,
    pub region: String,
    pub endpoint_url: String,
    pub owner_email: String,
    pub created_at: i64,
    /// The access key id of the bucket's active master key pair.
    pub master_access_key_id: Option<String>,
    /// Scoped credentials on this bucket that work now (not revoked, not expired).
    pub active_credentials: u64,
}

/// What a person had entered in Create Credential when the server refused it, so the
/// form comes back as they left it (plain HTML posts carry it in the page's address; none
/// of it is secret).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDraft {
    pub name: String,
    pub bucket_id: String,
    pub path: String,
    pub actions: Vec<String>,
    pub all_actions: bool,
    /// The form field the refusal was about (`name`, `bucket_id`, `path`, `actions`).
    pub error_field: Option<String>,
}

impl CredentialDraft {
    /// The address parameters that carry a draft; the page reads them back.
    pub const PARAMS: [&'static str; 5] = ["name", "bucket_id", "path", "actions", "all_actions"];
}

/// A bucket as the Create Credential form offers it: all the browser needs to know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketChoice {
    pub id: i32,
    pub name: String,
    pub region: String,
}

impl From<BucketView> for BucketChoice {
    fn from(bucket: BucketView) -> Self {
        BucketChoice {
            id: bucket.id,
            name: bucket.name,
            region: bucket.region,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// The bucket's own key pair: full access to that bucket.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "master"))]
    Master,
    /// A credential a person made: one bucket, an optional path, chosen actions.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "scoped"))]
    Scoped,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Master => "master",
            KeyKind::Scoped => "scoped",
        }
    }
}

/// Stored as text; an unknown stored status fails the query, so the S3 endpoint never
/// takes it for a live key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "active"))]
    Active,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "revoked"))]
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
        }
    }
}

/// How a credentials list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    /// Newest first.
    #[default]
    Created,
    /// A to Z.
    Name,
    /// Most recently used first; never used last.
    LastUsed,
}

impl ListSort {
    pub const ALL: [ListSort; 3] = [ListSort::Created, ListSort::Name, ListSort::LastUsed];

    pub fn as_str(self) -> &'static str {
        match self {
            ListSort::Created => "created",
            ListSort::Name => "name",
            ListSort::LastUsed => "last_used",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ListSort::Created => "Newest first",
            ListSort::Name => "Name",
            ListSort::LastUsed => "Last used",
        }
    }

    /// An unknown value is an error, never silently the default.
    pub fn parse(text: &str) -> Result<ListSort, String> {
        match text.trim() {
            "" => Ok(ListSort::Created),
            t => ListSort::ALL
                .into_iter()
                .find(|s| s.as_str() == t)
                .ok_or_else(|| format!("“{t}” is not a sort order: use created, name or last_used.")),
        }
    }
}

/// Which keys a list shows by state: active ones (not expired), revoked ones, or ones
/// whose expiry has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Active,
    Revoked,
    Expired,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [StatusFilter::Active, StatusFilter::Revoked, StatusFilter::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Revoked => "revoked",
            StatusFilter::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Active => "Active",
            StatusFilter::Revoked => "Revoked",
            StatusFilter::Expired => "Expired",
        }
    }

    /// Empty means every status.
    pub fn parse(text: &str) -> Result<Option<StatusFilter>, String> {
        match text.trim() {
            "" | "all" => Ok(None),
            t => StatusFilter::ALL
                .into_iter()
                .find(|s| s.as_str() == t)
                .map(Some)
                .ok_or_else(|| format!("“{t}” is not a status: use active, revoked or expired.")),
        }
    }
}

/// A credential as lists show it: never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialView {
    pub id: i32,
    pub name: Option<String>,
    pub owner_email: String,
    pub bucket: String,
    pub region: String,
    pub path: Option<String>,
    pub actions: Vec<String>,
    pub permission_summary: String,
    pub kind: KeyKind,
    pub access_key_id: String,
    pub status: KeyStatus,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// S3 requests this key signed correctly but was not allowed to make.
    pub denied_requests: i64,
}

/// Rows per page of the credentials list.
pub const PAGE_SIZE: u64 = 50;

/// One page of a credentials list, with the total that matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialPage {
    pub items: Vec<CredentialView>,
    pub total: u64,
    /// Zero-based.
    pub page: u64,
    pub page_size: u64,
    /// The server's time of this answer (Unix seconds), to tell expired keys by.
    pub now: i64,
}

impl CredentialPage {
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(self.page_size.max(1)).max(1)
    }
}

/// What the detail drawer shows: the credential and where to point a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDetail {
    pub credential: CredentialView,
    pub endpoint_url: String,
    /// Whether the viewer may reveal the secret: only its owner, and only while the key
    /// is active (an admin manages other people's keys but never reads them).
    pub can_reveal: bool,
}

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Long enough for any passphrase, short enough that nobody makes argon2 chew megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn validate_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("The password needs at least {MIN_PASSWORD_CHARS} characters."));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("The password may have at most {MAX_PASSWORD_BYTES} bytes."));
    }
    Ok(())
}

/// Trims and lowercases an email address and checks its shape.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid_shape = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    if email.is_empty() {
        return Err("Enter an email address.".into());
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) || !valid_shape {
        return Err(format!("“{}” is not a valid email address.", raw.trim()));
    }
    Ok(email)
}

/// S3 bucket-name rules: 3–63 characters of lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit, no `..`, and not shaped like an IP address.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Err("A bucket name has 3 to 63 characters.".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err("A bucket name may hold only lowercase letters, digits, “-” and “.” (a full stop).".into());
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(name.as_bytes()[0]) || !edge_ok(name.as_bytes()[len - 1]) {
        return Err("A bucket name starts and ends with a letter or digit.".into());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err("A bucket name may not have “..”, “.-” or “-.” in it.".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("A bucket name may not look like an IP address.".into());
    }
    Ok(())
}

/// Region names look like `eu-west-1`: lowercase letters, digits and `-`.
pub fn validate_region_name(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "“{name}” is not a region name: use 2–32 lowercase letters, digits and “-”, like eu-west-1."
        ))
    }
}

pub fn validate_endpoint_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "“{url}” is not an endpoint URL: give one like https://s3.eu-west-1.example.com."
        )),
    }
}

/// A credential name: trimmed, 1–64 characters, no control characters.
pub fn normalize_credential_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Give the credential a name.".into());
    }
    if name.chars().count() > 64 {
        return Err("A credential name has at most 64 characters.".into());
    }
    if name.contains(char::REPLACEMENT_CHARACTER) {
        return Err("A credential name must be valid UTF-8 text.".into());
    }
    if name.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Err("A credential name may not hold control, invisible or text-direction characters.".into());
    }
    Ok(name.to_string())
}

/// Characters that change how text around them shows without being seen themselves:
/// bidirectional overrides and isolates (which can make a name read as another),
/// zero-width characters, and the other Unicode format characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

pub const MAX_PATH_BYTES: usize = 1024;

/// Normalises a credential's folder path to `a/b/` form; an empty path means the whole
/// bucket. Refuses a leading `/`, `..` or `.` segments, and control characters.
pub fn normalize_path(raw: &str) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.starts_with('/') {
        return Err("A path starts inside the bucket: leave out the leading “/”.".into());
    }
    if trimmed.contains(char::REPLACEMENT_CHARACTER) {
        return Err("A path must be valid UTF-8 text.".into());
    }
    if trimmed.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Err("A path may not hold control, invisible or text-direction characters.".into());
    }
    let mut segments = Vec::new();
    for segment in trimmed.split('/') {
        match segment {
            "" => continue, // `a//b` and a trailing `/` collapse
            "." | ".." => return Err("A path may not hold “.” or “..” segments.".into()),
            s => segments.push(s),
        }
    }
    let path = format!("{}/", segments.join("/"));
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("A path has at most {MAX_PATH_BYTES} bytes."));
    }
    Ok(Some(path))
}

/// `2026-11-26 05:21 UTC` from Unix seconds; the same text on the server and in the
/// browser, so hydration never disagrees.
pub fn format_utc(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs_of_day = unix_secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs_of_day / 3600,
        secs_of_day % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_795_670_460), "2026-11-26 05:21 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.2024", "a".repeat(63).as_str()] {
            assert!(validate_bucket_name(good).is_ok(), "{good:?} was refused");
        }
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "192.168.0.1",
            &"a".repeat(64),
        ] {
            assert!(validate_bucket_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn paths_normalise_to_folder_form() {
        assert_eq!(normalize_path("").unwrap(), None);
        assert_eq!(normalize_path("photos").unwrap().as_deref(), Some("photos/"));
        assert_eq!(
            normalize_path("photos//2024/").unwrap().as_deref(),
            Some("photos/2024/")
        );
        for bad in ["/photos", "a/../b", "./a", "a\u{0}b", "a\nb"] {
            assert!(normalize_path(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(normalize_path(&"a".repeat(1024)).is_err(), "1025 bytes with the slash");
        assert!(normalize_path(&"a".repeat(1023)).is_ok());
    }

    #[test]
    fn passwords_need_length() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("long enough pw").is_ok());
        assert!(validate_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn names_and_regions() {
        assert_eq!(normalize_credential_name("  backup ").unwrap(), "backup");
        assert!(normalize_credential_name("   ").is_err());
        assert!(normalize_credential_name(&"n".repeat(65)).is_err());
        // What `%FF%FE` decodes to, a right-to-left override, a zero-width space.
        for bad in [
            "bad \u{FFFD}\u{FFFD}",
            "invoice\u{202E}fdp.exe",
            "a\u{200B}b",
            "tab\there",
        ] {
            assert!(normalize_credential_name(bad).is_err(), "{bad:?}");
            assert!(normalize_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalize_credential_name("Ünïcødé 写真 ok").unwrap(), "Ünïcødé 写真 ok");
        assert!(validate_region_name("eu-west-1").is_ok());
        assert!(validate_region_name("EU west").is_err());
        assert!(validate_endpoint_url("https://s3.example.com").is_ok());
        assert!(validate_endpoint_url("ftp://x").is_err());
        assert!(validate_endpoint_url("https://").is_err());
    }
}
