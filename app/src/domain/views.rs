//! What the panel shows and the server functions answer: users, buckets, credentials and
//! their lists, without secrets. Shared by the browser and the server.

use crate::policy::{KeyLife, KeyState};
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
    /// The expiry choice (empty, days, `date`) and the day for `date`.
    pub expires: String,
    pub expires_on: String,
    pub networks: String,
    /// The form field the refusal was about (`name`, `bucket_id`, `path`, `actions`).
    pub error_field: Option<String>,
}

impl CredentialDraft {
    /// The address parameters that carry a draft; the page reads them back.
    pub const PARAMS: [&'static str; 8] = [
        "name",
        "bucket_id",
        "path",
        "actions",
        "all_actions",
        "expires",
        "expires_on",
        "networks",
    ];
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
    /// Inactive for now (AWS IAM's "Inactive"): refused until its owner resumes it.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "paused"))]
    Paused,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Revoked, KeyStatus::Paused];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Paused => "paused",
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
    /// The networks (CIDR) it may be used from; empty: anywhere.
    pub networks: Vec<String>,
    /// Rotation: the access key id of the pair that replaced this one (it works until
    /// `expires_at`, the grace period's end) ...
    pub replaced_by: Option<String>,
    /// ... and, on the new pair, the one it replaced.
    pub replaces: Option<String>,
    /// Paused by an admin, whom alone it waits for to be resumed.
    pub paused_by_admin: bool,
    /// Its state when it was read (see [`KeyState`]): what scripts should look at, where
    /// `status` is only the stored word (an expired key's stays `active`).
    pub state: KeyState,
}

impl CredentialView {
    /// Whether the S3 endpoint takes this key now, and if not why (see [`KeyState`]).
    pub fn state(&self, now: i64) -> KeyState {
        KeyLife {
            status: self.status,
            expires_at: self.expires_at,
            replaced: self.replaced_by.is_some(),
        }
        .state(now)
    }
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

/// What an edit of a credential would change, shown before it is saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditPreview {
    /// The fields that change.
    pub changes: Vec<FieldChange>,
    /// Actions the key would gain and lose.
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    /// Requests of the last [`PREVIEW_DAYS`] days that the new scope would deny.
    pub would_fail: Vec<FailingRequests>,
    /// Addresses that used the key in the last [`PREVIEW_DAYS`] days and the new
    /// networks leave out.
    pub addresses_left_out: Vec<String>,
}

/// How far back an edit's preview replays the key's requests.
pub const PREVIEW_DAYS: i64 = 7;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Recorded requests of one action in one folder that an edit would deny.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailingRequests {
    pub action: String,
    /// The folder they named (`""`: the bucket's top level); `None` for requests that
    /// name no object (bucket settings).
    pub folder: Option<String>,
    pub requests: i64,
    /// Why, in the evaluator's words.
    pub reason: String,
}

impl FailingRequests {
    /// "12 s3:PutObject requests under uploads/ would fail".
    pub fn sentence(&self) -> String {
        let requests = if self.requests == 1 { "request" } else { "requests" };
        let place = match self.folder.as_deref() {
            None => String::new(),
            Some("") => " at the top of the bucket".to_string(),
            Some(folder) => format!(" under {folder}"),
        };
        format!("{} {} {requests}{place} would fail", self.requests, self.action)
    }
}

impl EditPreview {
    pub fn changes_nothing(&self) -> bool {
        self.changes.is_empty()
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
    /// Whether the viewer may resume it (a key an admin paused waits for an admin).
    pub can_resume: bool,
    /// What the key did at the S3 endpoint.
    pub activity: KeyActivity,
    /// The server's time when it read the key, Unix seconds.
    pub now: i64,
}

/// What a key did, as the S3 endpoint recorded it (written every few seconds, kept
/// [`ACTIVITY_DAYS`] days).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyActivity {
    pub last_use: Option<LastUse>,
    /// Requests per action in the last 24 hours and 30 days, busiest first.
    pub by_action: Vec<ActionActivity>,
    /// The latest denied requests, newest first (at most [`DENIALS_SHOWN`]).
    pub denials: Vec<DeniedRequest>,
    /// The addresses the key was used from, most recent first.
    pub sources: Vec<SourceAddress>,
    /// Requests of the last [`ACTIVITY_DAYS`] days counted without their folder: past the
    /// folders a key is counted in per hour, the rest are counted together.
    #[serde(default)]
    pub other_folder_requests: i64,
}

pub const ACTIVITY_DAYS: i64 = 30;
pub const DENIALS_SHOWN: u64 = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUse {
    pub at: i64,
    pub operation: String,
    pub client_addr: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionActivity {
    /// A catalog action, or `-` for requests that need none (ListBuckets).
    pub action: String,
    pub day_requests: i64,
    pub day_denied: i64,
    pub month_requests: i64,
    pub month_denied: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeniedRequest {
    pub at: i64,
    pub operation: String,
    pub object_key: Option<String>,
    /// The evaluator's reason, as the client was told.
    pub reason: String,
    pub client_addr: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAddress {
    pub client_addr: String,
    pub last_seen: i64,
    /// Stands for addresses not recorded one by one (older than the ones a key keeps).
    #[serde(default)]
    pub others: bool,
}

/// What happened. Stored as the dotted name [`AuditAction::as_str`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    UserCreate,
    SessionLogin,
    SessionLoginFailed,
    SessionLogout,
    RegionCreate,
    BucketCreate,
    BucketRename,
    BucketRotateMasterKey,
    CredentialCreate,
    CredentialRevoke,
    CredentialReveal,
    CredentialRevealRefused,
    CredentialDelete,
    CredentialPause,
    CredentialResume,
    CredentialRotate,
    CredentialUpdate,
    SettingChange,
    /// Many denied requests from one key within one write of the S3 endpoint's activity.
    CredentialDeniedBurst,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreate => "user.create",
            AuditAction::SessionLogin => "session.login",
            AuditAction::SessionLoginFailed => "session.login_failed",
            AuditAction::SessionLogout => "session.logout",
            AuditAction::RegionCreate => "region.create",
            AuditAction::BucketCreate => "bucket.create",
            AuditAction::BucketRename => "bucket.rename",
            AuditAction::BucketRotateMasterKey => "bucket.rotate_master_key",
            AuditAction::CredentialCreate => "credential.create",
            AuditAction::CredentialRevoke => "credential.revoke",
            AuditAction::CredentialReveal => "credential.reveal",
            AuditAction::CredentialRevealRefused => "credential.reveal_refused",
            AuditAction::CredentialDelete => "credential.delete",
            AuditAction::CredentialPause => "credential.pause",
            AuditAction::CredentialResume => "credential.resume",
            AuditAction::CredentialRotate => "credential.rotate",
            AuditAction::CredentialUpdate => "credential.update",
            AuditAction::CredentialDeniedBurst => "credential.denied_burst",
            AuditAction::SettingChange => "setting.change",
        }
    }

    pub const ALL: [AuditAction; 19] = [
        AuditAction::SessionLogin,
        AuditAction::SessionLoginFailed,
        AuditAction::SessionLogout,
        AuditAction::CredentialCreate,
        AuditAction::CredentialReveal,
        AuditAction::CredentialRevealRefused,
        AuditAction::CredentialRevoke,
        AuditAction::CredentialPause,
        AuditAction::CredentialResume,
        AuditAction::CredentialUpdate,
        AuditAction::CredentialRotate,
        AuditAction::CredentialDelete,
        AuditAction::CredentialDeniedBurst,
        AuditAction::BucketCreate,
        AuditAction::BucketRename,
        AuditAction::BucketRotateMasterKey,
        AuditAction::UserCreate,
        AuditAction::RegionCreate,
        AuditAction::SettingChange,
    ];

    pub fn parse(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// In words, for the audit log page.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::UserCreate => "Account created",
            AuditAction::SessionLogin => "Signed in",
            AuditAction::SessionLoginFailed => "Failed sign-in",
            AuditAction::SessionLogout => "Signed out",
            AuditAction::RegionCreate => "Region added",
            AuditAction::BucketCreate => "Bucket created",
            AuditAction::BucketRename => "Bucket renamed",
            AuditAction::BucketRotateMasterKey => "Master key rotated",
            AuditAction::CredentialCreate => "Credential created",
            AuditAction::CredentialRevoke => "Credential revoked",
            AuditAction::CredentialReveal => "Secret revealed",
            AuditAction::CredentialRevealRefused => "Secret reveal refused (wrong password)",
            AuditAction::CredentialDelete => "Credential deleted",
            AuditAction::CredentialPause => "Credential paused",
            AuditAction::CredentialResume => "Credential resumed",
            AuditAction::CredentialRotate => "Credential rotated",
            AuditAction::CredentialUpdate => "Credential edited",
            AuditAction::CredentialDeniedBurst => "Burst of denied S3 requests",
            AuditAction::SettingChange => "Setting changed",
        }
    }
}

/// One audit log entry as the audit page and the CSV export show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: i64,
    pub at: i64,
    /// The acting person's email; `None` for the operator's command line, a sign-in
    /// that matched no account, or a withheld actor.
    pub actor: Option<String>,
    /// An administrator acted on a customer's things and this customer is not shown who:
    /// `actor` and `client_addr` are then `None`.
    pub actor_withheld: bool,
    /// The dotted action name (`credential.revoke`).
    pub action: String,
    pub target: String,
    pub client_addr: Option<String>,
    /// A JSON object of details (never a secret).
    pub details: String,
}

impl AuditEventView {
    /// Who acted, in words: an email, "an administrator" (to a customer), the operator's
    /// command line, or no one known (a sign-in to an unknown email, the S3 endpoint's
    /// burst report).
    pub fn actor_shown(&self) -> String {
        match (&self.actor, self.client_addr.as_deref()) {
            _ if self.actor_withheld => "an administrator".into(),
            (Some(email), _) => email.clone(),
            (None, Some("cli")) => "operator (CLI)".into(),
            (None, _) => "—".into(),
        }
    }

    /// The action in words (the stored name if this version does not know it).
    pub fn action_label(&self) -> String {
        AuditAction::parse(&self.action).map_or_else(|| self.action.clone(), |a| a.label().to_string())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// `2026-11-26 05:21 UTC` from Unix seconds; the same text on the server and in the
/// browser, so hydration never disagrees.
pub fn format_utc(unix_secs: i64) -> String {
    let (year, month, day, secs_of_day) = civil(unix_secs);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs_of_day / 3600,
        secs_of_day % 3600 / 60
    )
}

/// `2026-11-26T05:21:09Z`: to the second, for exports.
pub fn format_iso8601(unix_secs: i64) -> String {
    let (year, month, day, secs_of_day) = civil(unix_secs);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs_of_day / 3600,
        secs_of_day % 3600 / 60,
        secs_of_day % 60
    )
}

/// Year, month, day and second of the day of a Unix time (Howard Hinnant's
/// civil-from-days algorithm).
fn civil(unix_secs: i64) -> (i64, i64, i64, i64) {
    let days = unix_secs.div_euclid(86_400);
    let secs_of_day = unix_secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs_of_day)
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
}
