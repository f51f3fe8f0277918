//! The evaluator: one table from S3 operation to catalog action, and one pure function
//! that decides a request against a key's scope. The S3 endpoint asks it for every
//! request; the panel and the CLI can ask it what a key may do. No I/O, so every decision
//! is unit-tested, and it compiles for the browser too.

use crate::catalog::{Action, ActionSet, Scope, named};
use crate::domain::{KeyKind, KeyStatus};
use crate::networks::NetworkList;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// What a key's stored row says about its life: all [`KeyLife::state`] decides from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLife {
    pub status: KeyStatus,
    pub expires_at: Option<i64>,
    /// A rotation replaced this pair; its `expires_at` is the grace period's end.
    pub replaced: bool,
}

/// Whether a key may be used now, and if not, why. Decided in one place
/// ([`KeyLife::state`]) for the S3 endpoint, the list's badge and status filter, the
/// buckets' key counts, the drawer and the simulator; the SQL that filters by it is built
/// from the same function ([`KeyState::condition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Active,
    /// Refused until it is resumed.
    Paused,
    /// Final: never used again.
    Revoked,
    /// Its expiry passed. Final too: an expired key is rotated into a new pair or deleted.
    Expired,
    /// Replaced by rotation, and still in its grace period.
    Retiring,
    /// Replaced by rotation, and the grace period has ended.
    Retired,
}

impl KeyLife {
    pub fn state(self, now: i64) -> KeyState {
        KeyState::decide(self.status, self.expires_at.is_some_and(|t| t <= now), self.replaced)
    }
}

impl KeyState {
    pub const ALL: [KeyState; 6] = [
        KeyState::Active,
        KeyState::Paused,
        KeyState::Revoked,
        KeyState::Expired,
        KeyState::Retiring,
        KeyState::Retired,
    ];

    /// The rule itself. Revoking is the explicit, final act, so it names the state
    /// whatever else holds; an ended life comes next (resuming a paused key that expired
    /// would not bring it back, so "paused" would mislead).
    fn decide(status: KeyStatus, ended: bool, replaced: bool) -> KeyState {
        match (status, ended, replaced) {
            (KeyStatus::Revoked, _, _) => KeyState::Revoked,
            (_, true, true) => KeyState::Retired,
            (_, true, false) => KeyState::Expired,
            (KeyStatus::Paused, false, _) => KeyState::Paused,
            (KeyStatus::Active, false, true) => KeyState::Retiring,
            (KeyStatus::Active, false, false) => KeyState::Active,
        }
    }

    /// Whether the S3 endpoint accepts the key (its scope still decides each request).
    pub fn is_usable(self) -> bool {
        matches!(self, KeyState::Active | KeyState::Retiring)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Paused => "paused",
            KeyState::Revoked => "revoked",
            KeyState::Expired => "expired",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        }
    }

    /// The badge's words.
    pub fn label(self) -> &'static str {
        match self {
            KeyState::Active => "Active",
            KeyState::Paused => "Paused",
            KeyState::Revoked => "Revoked",
            KeyState::Expired => "Expired",
            KeyState::Retiring => "Retiring",
            KeyState::Retired => "Retired",
        }
    }

    /// The badge's CSS classes: working, on hold (or ending), stopped.
    pub fn badge_class(self) -> &'static str {
        match self {
            KeyState::Active => "status status-active",
            KeyState::Paused | KeyState::Retiring => "status status-paused",
            KeyState::Revoked | KeyState::Expired | KeyState::Retired => "status status-revoked",
        }
    }

    /// Why the S3 endpoint refuses the key, in the one wording every place shows.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            KeyState::Active | KeyState::Retiring => None,
            KeyState::Paused => {
                Some("This access key is inactive: it is paused, and refused until it is resumed in the Stook panel.")
            }
            KeyState::Revoked => Some("This access key has been revoked."),
            KeyState::Expired => Some("This access key has expired."),
            KeyState::Retired => {
                Some("This access key was replaced by rotation, and its grace period has ended: use the new key.")
            }
        }
    }

    /// A list's status filter: empty or `all` for every state.
    pub fn parse_filter(text: &str) -> Result<Option<KeyState>, String> {
        match text.trim() {
            "" | "all" => Ok(None),
            t => KeyState::ALL
                .into_iter()
                .find(|s| s.as_str() == t)
                .map(Some)
                .ok_or_else(|| {
                    format!("“{t}” is not a status: use active, paused, revoked, expired, retiring or retired.")
                }),
        }
    }

    /// Every stored combination [`KeyState::decide`] reads, for building SQL from it.
    #[cfg(feature = "ssr")]
    fn stored_cases() -> impl Iterator<Item = (KeyStatus, bool, bool)> {
        KeyStatus::ALL
            .into_iter()
            .flat_map(|status| [false, true].into_iter().map(move |ended| (status, ended)))
            .flat_map(|(status, ended)| [false, true].into_iter().map(move |replaced| (status, ended, replaced)))
    }
}

#[cfg(feature = "ssr")]
impl KeyState {
    /// The SQL condition on the credentials table for keys in any of `states` at `now`:
    /// an OR of the stored combinations that [`KeyState::decide`] maps to them, so lists,
    /// filters and counts cannot disagree with the S3 endpoint.
    pub fn condition(states: &[KeyState], now: i64) -> sea_orm::Condition {
        use crate::services::entities::credential::Column;
        use sea_orm::{ColumnTrait as _, Condition};
        let mut any = Condition::any();
        for (status, ended, replaced) in KeyState::stored_cases() {
            if !states.contains(&KeyState::decide(status, ended, replaced)) {
                continue;
            }
            let life = if ended {
                Condition::all().add(Column::ExpiresAt.lte(now))
            } else {
                Condition::any()
                    .add(Column::ExpiresAt.is_null())
                    .add(Column::ExpiresAt.gt(now))
            };
            let link = if replaced {
                Column::ReplacedBy.is_not_null()
            } else {
                Column::ReplacedBy.is_null()
            };
            any = any.add(Condition::all().add(Column::Status.eq(status)).add(life).add(link));
        }
        any
    }
}

/// Where a key may be used from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Networks {
    #[default]
    Anywhere,
    Only(NetworkList),
    /// The stored list does not parse: no address is allowed rather than every one.
    Unreadable,
}

impl Networks {
    /// From the stored comma-separated list (`None` or empty: anywhere).
    pub fn from_stored(stored: Option<&str>) -> Networks {
        match NetworkList::parse(stored.unwrap_or("")) {
            Ok(list) if list.is_empty() => Networks::Anywhere,
            Ok(list) => Networks::Only(list),
            Err(_) => Networks::Unreadable,
        }
    }
}

/// Who sent a request, as far as the network check is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    /// The address the request came from (behind trusted proxies, the one they name).
    Address(IpAddr),
    /// The address could not be told: a key limited to networks is refused.
    Unknown,
    /// A question about the key's scope alone ("what can this key do?"): networks are
    /// not considered.
    AnyAddress,
}

/// What an operation's credential path applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No bucket at all (ListBuckets): any valid key may ask; the answer is filtered.
    Service,
    /// The bucket itself; the path does not apply.
    Bucket,
    /// A listing: its `prefix` must lie inside the path or above it.
    Listing,
    /// An object: its key must lie inside the path.
    Object,
    /// Objects whose keys come in the body (DeleteObjects, a POST upload's form): each key
    /// is checked on its own with [`evaluate_batch_key`].
    Batch,
}

impl Target {
    /// The catalog scope an operation's target must agree with.
    pub fn catalog_scope(self) -> Option<Scope> {
        match self {
            Target::Service => None,
            Target::Bucket | Target::Listing => Some(Scope::Bucket),
            Target::Object | Target::Batch => Some(Scope::Object),
        }
    }
}

/// What an operation needs.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The catalog action that allows it; `None` only for [`Target::Service`].
    pub action: Option<&'static Action>,
    /// The action needed instead when the request names a `versionId`.
    pub versioned_action: Option<&'static Action>,
    pub target: Target,
}

macro_rules! some_or_none {
    () => {
        None
    };
    ($value:expr) => {
        Some($value)
    };
}

/// Writes the [`Operation`] enum and its rule table from one list:
/// `Name => Target: "action" | versioned "action";` (action and versioned part optional).
macro_rules! operations {
    ($( $operation:ident => $target:ident $(: $action:literal $(| versioned $versioned:literal)?)?; )*) => {
        /// Every S3 operation Stook serves, named as S3 (and s3s) name them. Anything else
        /// is denied.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($operation),*
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$operation),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$operation => stringify!($operation)),*
                }
            }

            pub fn from_name(name: &str) -> Option<Operation> {
                match name {
                    $(stringify!($operation) => Some(Operation::$operation),)*
                    _ => None,
                }
            }

            pub fn rule(self) -> &'static Rule {
                &RULES[self as usize]
            }
        }

        /// In the enum's order. A constant, so an action name missing from the catalog
        /// fails the build (see [`named`]).
        const RULES: &[Rule] = &[$(
            Rule {
                target: Target::$target,
                action: some_or_none!($(named($action))?),
                versioned_action: some_or_none!($($(named($versioned))?)?),
            }
        ),*];
    };
}

operations! {
    ListBuckets => Service;
    // Read
    GetObject => Object: "s3:GetObject" | versioned "s3:GetObjectVersion";
    HeadObject => Object: "s3:GetObject" | versioned "s3:GetObjectVersion";
    GetObjectAttributes => Object: "s3:GetObjectAttributes";
    GetObjectTagging => Object: "s3:GetObjectTagging";
    GetObjectAcl => Object: "s3:GetObjectAcl";
    GetObjectRetention => Object: "s3:GetObjectRetention";
    GetObjectLegalHold => Object: "s3:GetObjectLegalHold";
    ListObjects => Listing: "s3:ListBucket";
    ListObjectsV2 => Listing: "s3:ListBucket";
    HeadBucket => Bucket: "s3:ListBucket";
    ListObjectVersions => Listing: "s3:ListBucketVersions";
    ListMultipartUploads => Listing: "s3:ListBucketMultipartUploads";
    ListParts => Object: "s3:ListMultipartUploadParts";
    GetBucketLocation => Bucket: "s3:GetBucketLocation";
    // Write
    PutObject => Object: "s3:PutObject";
    PostObject => Batch: "s3:PutObject";
    CopyObject => Object: "s3:PutObject";
    CreateMultipartUpload => Object: "s3:PutObject";
    UploadPart => Object: "s3:PutObject";
    UploadPartCopy => Object: "s3:PutObject";
    CompleteMultipartUpload => Object: "s3:PutObject";
    AbortMultipartUpload => Object: "s3:AbortMultipartUpload";
    DeleteObject => Object: "s3:DeleteObject" | versioned "s3:DeleteObjectVersion";
    DeleteObjects => Batch: "s3:DeleteObject";
    PutObjectTagging => Object: "s3:PutObjectTagging";
    DeleteObjectTagging => Object: "s3:DeleteObjectTagging";
    PutObjectAcl => Object: "s3:PutObjectAcl";
    PutObjectRetention => Object: "s3:PutObjectRetention";
    PutObjectLegalHold => Object: "s3:PutObjectLegalHold";
    RestoreObject => Object: "s3:RestoreObject";
    // Bucket Management
    DeleteBucket => Bucket: "s3:DeleteBucket";
    GetBucketVersioning => Bucket: "s3:GetBucketVersioning";
    PutBucketVersioning => Bucket: "s3:PutBucketVersioning";
    GetBucketTagging => Bucket: "s3:GetBucketTagging";
    PutBucketTagging => Bucket: "s3:PutBucketTagging";
    DeleteBucketTagging => Bucket: "s3:PutBucketTagging";
    GetBucketAcl => Bucket: "s3:GetBucketAcl";
    PutBucketAcl => Bucket: "s3:PutBucketAcl";
    GetBucketPolicy => Bucket: "s3:GetBucketPolicy";
    PutBucketPolicy => Bucket: "s3:PutBucketPolicy";
    DeleteBucketPolicy => Bucket: "s3:DeleteBucketPolicy";
    GetBucketCors => Bucket: "s3:GetBucketCORS";
    PutBucketCors => Bucket: "s3:PutBucketCORS";
    DeleteBucketCors => Bucket: "s3:PutBucketCORS";
    GetBucketLifecycleConfiguration => Bucket: "s3:GetLifecycleConfiguration";
    PutBucketLifecycleConfiguration => Bucket: "s3:PutLifecycleConfiguration";
    DeleteBucketLifecycle => Bucket: "s3:PutLifecycleConfiguration";
    GetBucketEncryption => Bucket: "s3:GetEncryptionConfiguration";
    PutBucketEncryption => Bucket: "s3:PutEncryptionConfiguration";
    DeleteBucketEncryption => Bucket: "s3:PutEncryptionConfiguration";
    GetObjectLockConfiguration => Bucket: "s3:GetBucketObjectLockConfiguration";
    PutObjectLockConfiguration => Bucket: "s3:PutBucketObjectLockConfiguration";
    GetBucketWebsite => Bucket: "s3:GetBucketWebsite";
    PutBucketWebsite => Bucket: "s3:PutBucketWebsite";
    DeleteBucketWebsite => Bucket: "s3:DeleteBucketWebsite";
    GetBucketNotificationConfiguration => Bucket: "s3:GetBucketNotification";
    PutBucketNotificationConfiguration => Bucket: "s3:PutBucketNotification";
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an action reads or changes a setting of the whole bucket (the catalog's Bucket
/// Management category: policy, ACL, CORS, versioning, deleting the bucket ...), which a
/// key limited to a path may not use.
pub fn is_bucket_wide(action: &Action) -> bool {
    action.category.needs_whole_bucket()
}

/// What a key may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A bucket's master key: every operation in the table, on its own bucket.
    Master,
    Actions(ActionSet),
}

/// A key's reach: one bucket, an optional folder, a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyScope {
    pub bucket: String,
    /// Normalised `a/b/` (see `crate::domain::normalize_path`), or `None` for the whole bucket.
    pub path: Option<String>,
    pub grant: Grant,
    pub networks: Networks,
}

/// The object a copy reads from.
#[derive(Clone, Copy, Debug)]
pub struct CopySource<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: bool,
}

/// The parts of a request that authorization looks at.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub operation: Operation,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    /// A listing's `prefix` (absent = the whole bucket).
    pub prefix: Option<&'a str>,
    pub version_id: bool,
    /// `CopyObject` / `UploadPartCopy`: the object read.
    pub copy_source: Option<CopySource<'a>>,
    pub client: Client,
}

impl Request<'_> {
    /// A request for `operation` that names nothing yet, asked about the scope alone.
    pub fn new(operation: Operation) -> Self {
        Request {
            operation,
            bucket: None,
            key: None,
            prefix: None,
            version_id: false,
            copy_source: None,
            client: Client::AnyAddress,
        }
    }
}

/// Which name a path check was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    Key,
    Prefix,
}

/// Why a request was denied. Rendered to the words clients and the panel show in one
/// place, its `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// An S3 operation outside the table (by the name the request used).
    NotServed(String),
    NeedsBucket(Operation),
    NeedsObjectKey(Operation),
    OtherBucket {
        allowed: String,
        asked: String,
    },
    MissingAction(&'static Action),
    /// A bucket-wide action asked through a key limited to a path.
    WholeBucketOnly {
        path: String,
        action: &'static Action,
    },
    /// `.`, `..` or an empty segment.
    OddSegment {
        naming: Naming,
        name: String,
    },
    OutsidePath {
        path: String,
        key: String,
    },
    ListingOutsidePath {
        path: String,
    },
    CopySource(Box<Denial>),
    /// The key is limited to networks, and the request came from outside them.
    OutsideNetworks {
        client: String,
        networks: String,
    },
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::NotServed(operation) => write!(f, "Stook does not allow {operation} through scoped keys"),
            Denial::NeedsBucket(operation) => write!(f, "{operation} needs a bucket"),
            Denial::NeedsObjectKey(operation) => write!(f, "{operation} needs an object key"),
            Denial::OtherBucket { allowed, asked } => {
                write!(f, "this key is for bucket “{allowed}”, not “{asked}”")
            }
            Denial::MissingAction(action) => write!(f, "this key does not allow {}", action.name),
            Denial::WholeBucketOnly { path, action } => write!(
                f,
                "this key is limited to “{path}”, and {} concerns the whole bucket: use a key for the whole bucket",
                action.name
            ),
            Denial::OddSegment { naming, name } => {
                let what = match naming {
                    Naming::Key => "the key",
                    Naming::Prefix => "the prefix",
                };
                write!(
                    f,
                    "{what} “{name}” has an empty, “.” or “..” segment, which Stook does not accept"
                )
            }
            Denial::OutsidePath { path, key } => write!(f, "this key is limited to “{path}”; “{key}” is outside it"),
            Denial::ListingOutsidePath { path } => write!(
                f,
                "this key may only list inside “{path}” or the folders above it: ask for a prefix that starts with it, or that it starts with"
            ),
            Denial::CopySource(inner) => write!(f, "copy source: {inner}"),
            Denial::OutsideNetworks { client, networks } => write!(
                f,
                "this key works only from {networks}, and this request came from {client}"
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        *self == Decision::Allow
    }
}

/// Keys with `.`, `..` or empty segments are refused for every key and backend: a
/// file-backed store would resolve `photos/../../other-bucket/x` out of the folder, even
/// out of the bucket, after the path check had passed, and would fold `a//b` into `a/b`.
/// A trailing `/` (a folder marker) is fine.
fn plain_segments(name: &str, naming: Naming) -> Result<(), Denial> {
    let inner = name.strip_suffix('/').unwrap_or(name);
    let odd = |segment: &str| segment.is_empty() || segment == "." || segment == "..";
    if !name.is_empty() && inner.split('/').any(odd) {
        Err(Denial::OddSegment {
            naming,
            name: name.to_string(),
        })
    } else {
        Ok(())
    }
}

impl KeyScope {
    /// A key's scope from what the credentials table holds: its kind, bucket name, path
    /// and stored action list. The S3 endpoint, the panel and the API all read keys
    /// through this, so they decide alike. A stored set that no longer parses grants
    /// nothing rather than everything.
    pub fn from_stored(
        kind: KeyKind,
        bucket: String,
        path: Option<String>,
        actions: &str,
        networks: Option<&str>,
    ) -> KeyScope {
        let grant = match kind {
            KeyKind::Master => Grant::Master,
            KeyKind::Scoped => Grant::Actions(ActionSet::parse(actions).unwrap_or_default()),
        };
        KeyScope {
            bucket,
            path,
            grant,
            networks: Networks::from_stored(networks),
        }
    }

    /// The key may be used from `client`.
    fn require_network(&self, client: Client) -> Result<(), Denial> {
        let shown = |client: Option<IpAddr>| {
            client.map_or_else(|| "an unknown address".to_string(), |c| c.to_canonical().to_string())
        };
        match (&self.networks, client) {
            (Networks::Anywhere, _) | (_, Client::AnyAddress) => Ok(()),
            (Networks::Only(list), Client::Address(ip)) if list.allows(ip) => Ok(()),
            (Networks::Only(list), client) => Err(Denial::OutsideNetworks {
                client: shown(match client {
                    Client::Address(ip) => Some(ip),
                    _ => None,
                }),
                networks: list.to_string(),
            }),
            (Networks::Unreadable, client) => Err(Denial::OutsideNetworks {
                client: shown(match client {
                    Client::Address(ip) => Some(ip),
                    _ => None,
                }),
                networks: "no network (its stored list is unreadable)".to_string(),
            }),
        }
    }

    fn within_path(&self, name: &str) -> bool {
        self.path.as_deref().is_none_or(|path| name.starts_with(path))
    }

    /// A listing's prefix may lie inside the path or above it (any string the path starts
    /// with, the empty one too), so that clients opening the bucket at its root work: above
    /// the path the gateway shows only the names on the way to it ([`listing_view`]).
    fn lists_towards_path(&self, prefix: &str) -> bool {
        self.path
            .as_deref()
            .is_none_or(|path| prefix.starts_with(path) || path.starts_with(prefix))
    }

    fn path_shown(&self) -> String {
        self.path.clone().unwrap_or_default()
    }

    /// Whether the grant holds `action` (a master key holds every one).
    pub fn allows(&self, action: &Action) -> bool {
        match &self.grant {
            Grant::Master => true,
            Grant::Actions(set) => set.contains(action.name),
        }
    }

    /// The bucket is this key's, and the grant holds `action`.
    fn require_in_bucket(&self, bucket: &str, action: &'static Action) -> Result<(), Denial> {
        if bucket != self.bucket {
            return Err(Denial::OtherBucket {
                allowed: self.bucket.clone(),
                asked: bucket.to_string(),
            });
        }
        if !self.allows(action) {
            return Err(Denial::MissingAction(action));
        }
        Ok(())
    }

    /// A bucket-wide action needs a key for the whole bucket: on the proxy backend a
    /// `photos/` key could otherwise make the whole bucket public.
    fn require_whole_bucket_for(&self, action: &'static Action) -> Result<(), Denial> {
        if self.path.is_some() && is_bucket_wide(action) {
            return Err(Denial::WholeBucketOnly {
                path: self.path_shown(),
                action,
            });
        }
        Ok(())
    }

    /// The one check of a name against the path: an object key (`Naming::Key`) must be
    /// plain and start with the path; a listing's prefix (`Naming::Prefix`) must be plain
    /// and start with the path or be the start of it.
    fn reaches(&self, name: &str, naming: Naming) -> Result<(), Denial> {
        plain_segments(name, naming)?;
        let reached = match naming {
            Naming::Key => self.within_path(name),
            Naming::Prefix => self.lists_towards_path(name),
        };
        if reached {
            return Ok(());
        }
        let path = self.path_shown();
        Err(match naming {
            Naming::Key => Denial::OutsidePath {
                path,
                key: name.to_string(),
            },
            Naming::Prefix => Denial::ListingOutsidePath { path },
        })
    }
}

/// Decides one request. Denials say which action, bucket or path was missing.
pub fn evaluate(scope: &KeyScope, request: &Request<'_>) -> Decision {
    match check(scope, request) {
        Ok(()) => Decision::Allow,
        Err(denial) => Decision::Deny(denial),
    }
}

impl Request<'_> {
    /// The catalog action this request needs: the versioned one when it names a
    /// `versionId` and the operation has one; none for ListBuckets.
    pub fn action(&self) -> Option<&'static Action> {
        let rule = self.operation.rule();
        match (self.version_id, rule.versioned_action) {
            (true, Some(versioned)) => Some(versioned),
            _ => rule.action,
        }
    }
}

fn check(scope: &KeyScope, request: &Request<'_>) -> Result<(), Denial> {
    // First: a request from outside the key's networks learns nothing about its scope.
    scope.require_network(request.client)?;
    let operation = request.operation;
    let rule = operation.rule();
    let Some(action) = request.action() else {
        return Ok(());
    };
    let Some(bucket) = request.bucket else {
        return Err(Denial::NeedsBucket(operation));
    };
    scope.require_in_bucket(bucket, action)?;
    scope.require_whole_bucket_for(action)?;
    match rule.target {
        Target::Service | Target::Bucket | Target::Batch => {}
        Target::Listing => scope.reaches(request.prefix.unwrap_or(""), Naming::Prefix)?,
        Target::Object => {
            let Some(key) = request.key else {
                return Err(Denial::NeedsObjectKey(operation));
            };
            scope.reaches(key, Naming::Key)?;
        }
    }
    if let Some(source) = request.copy_source {
        let read = if source.version_id {
            named("s3:GetObjectVersion")
        } else {
            named("s3:GetObject")
        };
        scope
            .require_in_bucket(source.bucket, read)
            .and_then(|()| scope.reaches(source.key, Naming::Key))
            .map_err(|denial| Denial::CopySource(Box::new(denial)))?;
    }
    Ok(())
}

/// One key of a `DeleteObjects` batch, or the key of a POST upload: checked as the
/// single-object operation it stands for.
pub fn evaluate_batch_key(scope: &KeyScope, operation: Operation, key: &str, version_id: bool) -> Decision {
    evaluate(
        scope,
        &Request {
            bucket: Some(&scope.bucket),
            key: Some(key),
            version_id,
            ..Request::new(operation)
        },
    )
}
/// How a listing by a key limited to a folder is answered, from the prefix and delimiter
/// it asks for. Above the folder only the names on the way to it show: a listing there
/// answers with the next name towards the folder, or with the folder's own contents, and
/// never with anything beside it. The S3 endpoint's gateway answers by it; the simulator
/// and the scope summary word it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListingView {
    /// The key has no path, or the prefix lies inside it: the store answers as asked.
    AsAsked,
    /// The prefix lies above the folder and the delimiter cuts the folder's path after it:
    /// the answer is this one common prefix (a start of the path), the next step down.
    NextStep(String),
    /// The prefix lies above the folder and no delimiter cuts the path: every key under
    /// the folder is listed as asked, which a listing of the folder itself (prefix = the
    /// path) answers exactly.
    Folder,
    /// The prefix lies above the folder and the delimiter may begin inside the path and end
    /// after it (a delimiter like `/a` above `photos/`): how a key groups would depend on
    /// the characters after the path, which no listing of the folder alone tells. Refused;
    /// a one-character delimiter (`/`) never does this.
    Straddling,
    /// The prefix is neither inside the path nor a start of it (the evaluator denies it).
    Outside,
}

/// See [`ListingView`]. An empty delimiter is no delimiter.
pub fn listing_view(path: Option<&str>, prefix: &str, delimiter: Option<&str>) -> ListingView {
    let Some(path) = path else {
        return ListingView::AsAsked;
    };
    if prefix.starts_with(path) {
        return ListingView::AsAsked;
    }
    let Some(below) = path.strip_prefix(prefix) else {
        return ListingView::Outside;
    };
    let Some(delimiter) = delimiter.filter(|d| !d.is_empty()) else {
        return ListingView::Folder;
    };
    // The first delimiter after the prefix ends every key under the path's common prefix.
    if let Some(at) = below.find(delimiter) {
        return ListingView::NextStep(path[..prefix.len() + at + delimiter.len()].to_string());
    }
    let (below, delimiter) = (below.as_bytes(), delimiter.as_bytes());
    let straddles =
        (0..below.len()).any(|start| delimiter.len() > below.len() - start && delimiter.starts_with(&below[start..]));
    if straddles {
        ListingView::Straddling
    } else {
        ListingView::Folder
    }
}

/// The answer of "what can this key do?": for one operation (or catalog action) on an
/// object key or listing prefix in the key's own bucket. The panel computes it in the
/// browser and `POST /api/credentials/simulate` on the server, both with [`simulate`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Simulation {
    pub operation: String,
    /// The catalog action the request needs (none for ListBuckets).
    pub action: Option<String>,
    /// Whether the name was read as an object key, a listing prefix, or not at all.
    pub applies_to: String,
    pub allowed: bool,
    /// Why not, in the words the S3 endpoint answers with.
    pub reason: Option<String>,
    /// What an allowed answer shows when that is less than asked: a listing above the
    /// key's folder shows the parent folders as names only.
    #[serde(default)]
    pub note: Option<String>,
}

impl Operation {
    /// The operation a catalog action is asked through (the first in the table), and
    /// whether it is asked with a `versionId`.
    pub fn for_action(action: &Action) -> Option<(Operation, bool)> {
        Operation::ALL.iter().find_map(|&operation| {
            let rule = operation.rule();
            if rule.action.is_some_and(|a| a.name == action.name) {
                Some((operation, false))
            } else if rule.versioned_action.is_some_and(|a| a.name == action.name) {
                Some((operation, true))
            } else {
                None
            }
        })
    }

    /// The single-object operation each key of a batch is checked as.
    fn per_key(self) -> Option<Operation> {
        match self {
            Operation::DeleteObjects => Some(Operation::DeleteObject),
            Operation::PostObject => Some(Operation::PutObject),
            _ => None,
        }
    }
}

impl Simulation {
    /// The same question for a key the S3 endpoint refuses outright (revoked, expired).
    pub fn refused(self, refusal: Option<&str>) -> Simulation {
        match refusal {
            Some(reason) => Simulation {
                allowed: false,
                reason: Some(reason.to_string()),
                note: None,
                ..self
            },
            None => self,
        }
    }
}

/// Decides `what` (an operation name like `GetObject`, or an action like
/// `s3:GetObjectVersion`) on `name` (an object key, or a listing's prefix) in the key's
/// own bucket, as the S3 endpoint would.
pub fn simulate(scope: &KeyScope, what: &str, name: &str) -> Result<Simulation, String> {
    let what = what.trim();
    let (operation, version_id) = match Operation::from_name(what) {
        Some(operation) => (operation, false),
        None => crate::catalog::find(what)
            .and_then(Operation::for_action)
            .ok_or_else(|| format!("“{what}” is neither an S3 operation Stook serves nor an action of the catalog."))?,
    };
    let target = operation.rule().target;
    let request = Request {
        bucket: Some(&scope.bucket),
        key: matches!(target, Target::Object | Target::Batch).then_some(name),
        prefix: (target == Target::Listing && !name.is_empty()).then_some(name),
        version_id,
        ..Request::new(operation)
    };
    let mut decision = evaluate(scope, &request);
    if let (Decision::Allow, Some(single)) = (&decision, operation.per_key()) {
        decision = evaluate_batch_key(scope, single, name, version_id);
    }
    let action = request.action();
    let note = match (&decision, target) {
        (Decision::Allow, Target::Listing) => parents_note(scope, name),
        _ => None,
    };
    Ok(Simulation {
        operation: operation.name().to_string(),
        action: action.map(|a| a.name.to_string()),
        applies_to: match target {
            Target::Object | Target::Batch => "object key",
            Target::Listing => "prefix",
            Target::Bucket | Target::Service => "nothing: the operation concerns the bucket",
        }
        .to_string(),
        allowed: decision.is_allowed(),
        reason: match decision {
            Decision::Allow => None,
            Decision::Deny(denial) => Some(denial.to_string()),
        },
        note,
    })
}

/// For a listing above the key's folder: that its parent folders show as names only, and
/// which name this prefix shows (with the delimiter `/` every client browses by).
fn parents_note(scope: &KeyScope, prefix: &str) -> Option<String> {
    let path = scope.path.as_deref()?;
    let ListingView::NextStep(next) = listing_view(Some(path), prefix, Some("/")) else {
        return None;
    };
    Some(format!(
        "Parent folders show as names only: listed by folder (delimiter “/”) this prefix shows just “{next}”, and without a delimiter only the objects under “{path}”. Nothing outside “{path}” ever shows."
    ))
}

/// Whether `scope` grants `action` on names in `folder` (the folder of a recorded request's
/// object key or listing prefix; `None` when it named nothing), with the checks
/// [`evaluate`] makes: how an edit's preview replays a key's recorded requests against
/// its new scope. Keys are inside a path exactly when their folder is (paths end in `/`).
pub fn grants_in_folder(scope: &KeyScope, action: &'static Action, folder: Option<&str>) -> Result<(), Denial> {
    if !scope.allows(action) {
        return Err(Denial::MissingAction(action));
    }
    scope.require_whole_bucket_for(action)?;
    let target = Operation::for_action(action).map(|(operation, _)| operation.rule().target);
    match (folder, target) {
        (Some(folder), Some(Target::Listing)) => scope.reaches(folder, Naming::Prefix),
        (Some(folder), Some(Target::Object | Target::Batch)) => scope.reaches(folder, Naming::Key),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, ACTIONS, Preset};
    use std::collections::BTreeSet;

    fn scope(path: Option<&str>, actions: &str) -> KeyScope {
        KeyScope {
            bucket: "photos-bucket".into(),
            path: path.map(str::to_string),
            grant: Grant::Actions(ActionSet::parse(actions).unwrap()),
            networks: Default::default(),
        }
    }

    fn object(operation: Operation, key: &str) -> Request<'_> {
        Request {
            bucket: Some("photos-bucket"),
            key: Some(key),
            ..Request::new(operation)
        }
    }

    fn source<'a>(bucket: &'a str, key: &'a str, version_id: bool) -> CopySource<'a> {
        CopySource {
            bucket,
            key,
            version_id,
        }
    }

    fn denied(decision: Decision, needle: &str) {
        match decision {
            Decision::Deny(denial) => {
                let reason = denial.to_string();
                assert!(reason.contains(needle), "{reason:?} should mention {needle:?}")
            }
            Decision::Allow => panic!("expected a denial mentioning {needle:?}"),
        }
    }

    #[test]
    fn every_operation_names_a_catalog_action_of_the_right_scope() {
        let mut seen = BTreeSet::new();
        for &operation in Operation::ALL {
            let rule = operation.rule();
            assert!(seen.insert(operation.name()), "{operation} is listed twice");
            assert_eq!(Operation::from_name(operation.name()), Some(operation));
            for action in rule.action.iter().chain(rule.versioned_action.iter()) {
                assert_eq!(
                    Some(action.scope),
                    rule.target.catalog_scope(),
                    "{operation} maps to {}, whose scope disagrees",
                    action.name
                );
            }
            assert_eq!(rule.action.is_none(), rule.target == Target::Service, "{operation}");
        }
    }

    #[test]
    fn every_catalog_action_allows_some_operation() {
        let used: BTreeSet<&str> = Operation::ALL
            .iter()
            .flat_map(|o| o.rule().action.into_iter().chain(o.rule().versioned_action))
            .map(|a| a.name)
            .collect();
        for action in ACTIONS {
            assert!(used.contains(action.name), "{} allows no operation", action.name);
        }
    }

    #[test]
    fn each_operation_is_allowed_by_its_action_alone_and_denied_without_it() {
        for &operation in Operation::ALL.iter().filter(|o| o.rule().action.is_some()) {
            let action = operation.rule().action.unwrap();
            let request = Request {
                bucket: Some("photos-bucket"),
                key: Some("photos/a.jpg"),
                prefix: Some("photos/"),
                ..Request::new(operation)
            };
            let path = (!is_bucket_wide(action)).then_some("photos/");
            assert_eq!(
                evaluate(&scope(path, action.name), &request),
                Decision::Allow,
                "{operation} with {}",
                action.name
            );
            let others: Vec<&str> = ACTIONS.iter().map(|a| a.name).filter(|n| *n != action.name).collect();
            denied(evaluate(&scope(None, &others.join(" ")), &request), action.name);
        }
    }

    #[test]
    fn a_key_limited_to_a_path_cannot_touch_bucket_wide_settings() {
        let all = Preset::All.actions();
        let limited = KeyScope {
            bucket: "photos-bucket".into(),
            path: Some("photos/".into()),
            grant: Grant::Actions(all.clone()),
            networks: Default::default(),
        };
        let whole = KeyScope {
            path: None,
            ..limited.clone()
        };
        let mut bucket_wide = BTreeSet::new();
        for &operation in Operation::ALL.iter().filter(|o| o.rule().action.is_some()) {
            let action = operation.rule().action.unwrap();
            let request = Request {
                bucket: Some("photos-bucket"),
                key: Some("photos/a.jpg"),
                prefix: Some("photos/"),
                ..Request::new(operation)
            };
            let category = action.category;
            if category == catalog::Category::BucketManagement {
                bucket_wide.insert(operation.name());
                denied(evaluate(&limited, &request), "concerns the whole bucket");
                assert!(evaluate(&whole, &request).is_allowed(), "{operation}");
            } else {
                assert!(evaluate(&limited, &request).is_allowed(), "{operation}");
            }
            assert_eq!(is_bucket_wide(action), category == catalog::Category::BucketManagement);
        }
        // The settings the review named are all among them; listing and locating are not.
        for operation in [
            "PutBucketPolicy",
            "PutBucketAcl",
            "PutBucketCors",
            "PutBucketLifecycleConfiguration",
            "PutBucketVersioning",
            "PutBucketEncryption",
            "PutBucketWebsite",
            "PutBucketTagging",
            "PutObjectLockConfiguration",
            "PutBucketNotificationConfiguration",
            "DeleteBucket",
            "GetBucketPolicy",
        ] {
            assert!(bucket_wide.contains(operation), "{operation}");
        }
        for operation in [
            "HeadBucket",
            "GetBucketLocation",
            "ListObjectsV2",
            "ListMultipartUploads",
        ] {
            assert!(!bucket_wide.contains(operation), "{operation}");
        }
    }

    #[test]
    fn operations_outside_the_table_are_denied_even_for_master_keys() {
        let master = KeyScope {
            bucket: "photos-bucket".into(),
            path: None,
            grant: Grant::Master,
            networks: Default::default(),
        };
        // The S3 endpoint turns a name outside the table into this denial.
        for operation in [
            "CreateBucket",
            "PutBucketReplication",
            "SelectObjectContent",
            "Nonsense",
        ] {
            assert_eq!(Operation::from_name(operation), None);
            assert!(Denial::NotServed(operation.into()).to_string().contains(operation));
        }
        assert!(evaluate(&master, &object(Operation::DeleteObject, "anything")).is_allowed());
    }

    #[test]
    fn a_key_never_reaches_another_bucket() {
        let read_write = scope(None, "read-write");
        let mut request = object(Operation::GetObject, "photos/a.jpg");
        request.bucket = Some("someone-elses");
        denied(evaluate(&read_write, &request), "not “someone-elses”");
        let master = KeyScope {
            grant: Grant::Master,
            ..read_write
        };
        denied(evaluate(&master, &request), "not “someone-elses”");
    }

    #[test]
    fn read_only_reads_but_cannot_write_or_delete() {
        let read_only = scope(None, "read-only");
        assert!(evaluate(&read_only, &object(Operation::GetObject, "x")).is_allowed());
        assert!(evaluate(&read_only, &object(Operation::HeadObject, "x")).is_allowed());
        denied(evaluate(&read_only, &object(Operation::PutObject, "x")), "s3:PutObject");
        denied(
            evaluate(&read_only, &object(Operation::DeleteObject, "x")),
            "s3:DeleteObject",
        );
    }

    #[test]
    fn object_keys_must_lie_under_the_path() {
        let photos = scope(Some("photos/"), "read-write");
        assert!(evaluate(&photos, &object(Operation::PutObject, "photos/a.jpg")).is_allowed());
        assert!(evaluate(&photos, &object(Operation::PutObject, "photos/2024/b.jpg")).is_allowed());
        denied(
            evaluate(&photos, &object(Operation::PutObject, "docs/b.txt")),
            "“docs/b.txt” is outside",
        );
        // A folder name that merely starts the same is another folder.
        denied(
            evaluate(&photos, &object(Operation::GetObject, "photos-old/a.jpg")),
            "outside",
        );
        denied(evaluate(&photos, &object(Operation::GetObject, "photos")), "outside");
    }

    #[test]
    fn dot_segments_never_leave_the_folder_or_the_bucket() {
        let photos = scope(Some("photos/"), "read-write");
        let whole = KeyScope {
            grant: Grant::Master,
            ..scope(None, "all")
        };
        for key in [
            "photos/../../other-bucket/x",
            "photos/../top.txt",
            "photos/./x",
            "..",
            "photos/..",
            "photos//x",
            "/photos/x",
        ] {
            denied(evaluate(&photos, &object(Operation::PutObject, key)), "“..” segment");
            denied(evaluate(&whole, &object(Operation::GetObject, key)), "“..” segment");
            denied(
                evaluate_batch_key(&photos, Operation::DeleteObject, key, false),
                "“..” segment",
            );
        }
        // Dots inside a name are ordinary characters, and a folder marker ends in "/".
        assert!(evaluate(&photos, &object(Operation::PutObject, "photos/a..b/.hidden/x.tar.gz")).is_allowed());
        assert!(evaluate(&photos, &object(Operation::PutObject, "photos/2024/")).is_allowed());
        let mut copy = object(Operation::CopyObject, "photos/copy");
        copy.copy_source = Some(source("photos-bucket", "photos/../docs/secret", false));
        denied(evaluate(&photos, &copy), "copy source: the key");
        let listing = Request {
            bucket: Some("photos-bucket"),
            prefix: Some("photos/../"),
            ..Request::new(Operation::ListObjectsV2)
        };
        denied(evaluate(&photos, &listing), "the prefix");
    }

    #[test]
    fn listings_ask_for_a_prefix_inside_the_path_or_above_it() {
        let photos = scope(Some("photos/2025/"), "read-only");
        let listing = |operation: Operation, prefix: Option<&'static str>| Request {
            bucket: Some("photos-bucket"),
            prefix,
            ..Request::new(operation)
        };
        for operation in [
            Operation::ListObjects,
            Operation::ListObjectsV2,
            Operation::ListObjectVersions,
            Operation::ListMultipartUploads,
        ] {
            // Inside, and every start of the path (the gateway shows only the way down).
            for prefix in [
                Some("photos/2025/"),
                Some("photos/2025/x/"),
                Some("photos/2025/x"),
                Some("photos/2025"),
                Some("photos/"),
                Some("pho"),
                Some(""),
                None,
            ] {
                assert!(
                    evaluate(&photos, &listing(operation, prefix)).is_allowed(),
                    "{prefix:?}"
                );
            }
            for prefix in ["docs/", "photos/2024/", "photos/2026", "photos/x", "photos/20250", "q"] {
                denied(
                    evaluate(&photos, &listing(operation, Some(prefix))),
                    "only list inside “photos/2025/” or the folders above it",
                );
            }
            denied(
                evaluate(&photos, &listing(operation, Some("photos/../"))),
                "“..” segment",
            );
        }
        // Without a path the whole bucket may be listed.
        assert!(evaluate(&scope(None, "read-only"), &listing(Operation::ListObjectsV2, None)).is_allowed());
        // HeadBucket says only that the bucket exists: the path does not apply.
        assert!(evaluate(&photos, &listing(Operation::HeadBucket, None)).is_allowed());
    }

    #[test]
    fn listings_above_a_folder_show_only_the_way_down() {
        use ListingView::*;
        let view = |path: Option<&str>, prefix: &str, delimiter: Option<&str>| listing_view(path, prefix, delimiter);
        let path = Some("photos/2025/");
        // A whole-bucket key, and prefixes inside the path, are answered as asked.
        assert_eq!(view(None, "", Some("/")), AsAsked);
        assert_eq!(view(path, "photos/2025/", Some("/")), AsAsked);
        assert_eq!(view(path, "photos/2025/a", None), AsAsked);
        // Above it, by folder: one name at each level, the folder itself last.
        assert_eq!(view(path, "", Some("/")), NextStep("photos/".into()));
        assert_eq!(view(path, "pho", Some("/")), NextStep("photos/".into()));
        assert_eq!(view(path, "photos/", Some("/")), NextStep("photos/2025/".into()));
        assert_eq!(view(path, "photos/2025", Some("/")), NextStep("photos/2025/".into()));
        // Other delimiters cut where they first occur after the prefix.
        assert_eq!(view(path, "", Some("2")), NextStep("photos/2".into()));
        assert_eq!(view(path, "photos/", Some("5/")), NextStep("photos/2025/".into()));
        assert_eq!(view(path, "", Some("/2025/")), NextStep("photos/2025/".into()));
        // An empty delimiter is none; with none, or one that does not occur, the folder's
        // contents are the answer.
        assert_eq!(view(path, "", Some("")), Folder);
        assert_eq!(view(path, "", None), Folder);
        assert_eq!(view(path, "photos/", Some("x")), Folder);
        assert_eq!(view(path, "photos/", Some("photos")), Folder);
        // A delimiter that may begin inside the path and end after it.
        assert_eq!(view(path, "", Some("/a")), Straddling);
        assert_eq!(view(path, "photos/", Some("25/x")), Straddling);
        assert_eq!(view(path, "photos/20", Some("5/")), NextStep("photos/2025/".into()));
        // Multi-byte characters are whole.
        let accents = Some("été/über/");
        assert_eq!(view(accents, "é", Some("/")), NextStep("été/".into()));
        assert_eq!(view(accents, "été/ü", Some("é")), Folder);
        assert_eq!(view(accents, "", Some("r/x")), Straddling);
        // Neither inside nor above.
        assert_eq!(view(path, "photos/2024/", Some("/")), Outside);
        assert_eq!(view(path, "docs", None), Outside);
    }

    #[test]
    fn a_version_id_needs_the_version_action() {
        let plain = scope(None, "s3:GetObject s3:DeleteObject");
        let mut request = object(Operation::GetObject, "a");
        request.version_id = true;
        denied(evaluate(&plain, &request), "s3:GetObjectVersion");
        request.operation = Operation::DeleteObject;
        denied(evaluate(&plain, &request), "s3:DeleteObjectVersion");
        let versions = scope(None, "s3:GetObjectVersion s3:DeleteObjectVersion");
        assert!(evaluate(&versions, &request).is_allowed());
    }

    #[test]
    fn copies_need_read_on_a_source_inside_the_scope() {
        let photos = scope(Some("photos/"), "read-write");
        for operation in [Operation::CopyObject, Operation::UploadPartCopy] {
            let mut request = object(operation, "photos/copy.jpg");
            request.copy_source = Some(source("photos-bucket", "photos/a.jpg", false));
            assert!(evaluate(&photos, &request).is_allowed(), "{operation}");
            request.copy_source = Some(source("photos-bucket", "docs/secret.txt", false));
            denied(evaluate(&photos, &request), "copy source: this key is limited");
            request.copy_source = Some(source("other-bucket", "photos/a.jpg", false));
            denied(evaluate(&photos, &request), "copy source: this key is for bucket");
        }
        let write_only = scope(None, "s3:PutObject");
        let mut request = object(Operation::CopyObject, "b");
        request.copy_source = Some(source("photos-bucket", "a", false));
        denied(
            evaluate(&write_only, &request),
            "copy source: this key does not allow s3:GetObject",
        );
        request.copy_source = Some(source("photos-bucket", "a", true));
        denied(
            evaluate(&scope(None, "s3:PutObject s3:GetObject"), &request),
            "s3:GetObjectVersion",
        );
    }

    #[test]
    fn batch_delete_checks_every_key() {
        let photos = scope(Some("photos/"), "read-write");
        assert!(evaluate_batch_key(&photos, Operation::DeleteObject, "photos/a.jpg", false).is_allowed());
        denied(
            evaluate_batch_key(&photos, Operation::DeleteObject, "docs/b.txt", false),
            "outside",
        );
        let plain_delete = scope(Some("photos/"), "s3:DeleteObject");
        denied(
            evaluate_batch_key(&plain_delete, Operation::DeleteObject, "photos/a.jpg", true),
            "s3:DeleteObjectVersion",
        );
        let read_only = scope(None, "read-only");
        denied(
            evaluate_batch_key(&read_only, Operation::DeleteObject, "a", false),
            "s3:DeleteObject",
        );
        // A POST upload's key is checked as a PutObject.
        denied(
            evaluate_batch_key(&photos, Operation::PutObject, "docs/b.txt", false),
            "outside",
        );
    }

    #[test]
    fn list_buckets_needs_no_action() {
        let request = Request::new(Operation::ListBuckets);
        assert!(evaluate(&scope(Some("photos/"), "s3:GetObject"), &request).is_allowed());
    }

    #[test]
    fn presets_cover_their_categories() {
        let all = KeyScope {
            bucket: "photos-bucket".into(),
            path: None,
            grant: Grant::Actions(Preset::All.actions()),
            networks: Default::default(),
        };
        for &operation in Operation::ALL {
            let request = Request {
                bucket: Some("photos-bucket"),
                key: Some("k"),
                ..Request::new(operation)
            };
            assert!(evaluate(&all, &request).is_allowed(), "{operation}");
        }
    }

    #[test]
    fn the_simulator_decides_as_the_endpoint_does() {
        let photos = scope(Some("photos/"), "read-only");
        let get = simulate(&photos, "GetObject", "photos/a.jpg").unwrap();
        assert!(get.allowed);
        assert_eq!(get.action.as_deref(), Some("s3:GetObject"));
        let outside = simulate(&photos, "GetObject", "docs/a.txt").unwrap();
        assert!(!outside.allowed);
        assert_eq!(
            outside.reason.as_deref(),
            Some("this key is limited to “photos/”; “docs/a.txt” is outside it")
        );
        let put = simulate(&photos, "PutObject", "photos/a.jpg").unwrap();
        assert_eq!(put.reason.as_deref(), Some("this key does not allow s3:PutObject"));
        // An action is asked through its operation, a versioned one with a version id.
        let version = simulate(&photos, "s3:GetObjectVersion", "photos/a.jpg").unwrap();
        assert_eq!(
            (version.operation.as_str(), version.action.as_deref()),
            ("GetObject", Some("s3:GetObjectVersion"))
        );
        assert!(version.allowed);
        // Listings read the name as a prefix; an empty one is the whole bucket, which a
        // folder key may list to see its way down, and which the answer says.
        let inside = simulate(&photos, "ListObjectsV2", "photos/2024/").unwrap();
        assert!(inside.allowed);
        assert_eq!(inside.note, None);
        let root = simulate(&photos, "s3:ListBucket", "").unwrap();
        assert!(root.allowed);
        assert_eq!(
            root.note.as_deref(),
            Some(
                "Parent folders show as names only: listed by folder (delimiter “/”) this prefix shows just “photos/”, and without a delimiter only the objects under “photos/”. Nothing outside “photos/” ever shows."
            )
        );
        let deeper = scope(Some("photos/2025/"), "read-only");
        assert!(
            simulate(&deeper, "ListObjectVersions", "photos/")
                .unwrap()
                .note
                .unwrap()
                .contains("shows just “photos/2025/”")
        );
        let beside = simulate(&photos, "ListObjects", "docs/").unwrap();
        assert!(!beside.allowed);
        assert_eq!(beside.note, None);
        // A refused key is refused whatever it asks, with no note.
        let refused = simulate(&photos, "ListObjects", "").unwrap().refused(Some("revoked"));
        assert_eq!((refused.allowed, refused.note), (false, None));
        // A batch checks the key as the single operation it stands for.
        let batch = simulate(&scope(Some("photos/"), "read-write"), "DeleteObjects", "docs/x").unwrap();
        assert!(!batch.allowed);
        assert!(batch.reason.unwrap().contains("outside"));
        assert!(
            simulate(&photos, "CreateBucket", "")
                .unwrap_err()
                .contains("“CreateBucket”")
        );
        for &operation in Operation::ALL {
            let simulated = simulate(&photos, operation.name(), "photos/a").unwrap();
            let direct = evaluate(
                &photos,
                &Request {
                    bucket: Some("photos-bucket"),
                    key: Some("photos/a"),
                    prefix: Some("photos/a"),
                    ..Request::new(operation)
                },
            );
            if operation.per_key().is_none() {
                assert_eq!(simulated.allowed, direct.is_allowed(), "{operation}");
            }
        }
    }

    #[test]
    fn recorded_folders_replay_against_a_new_scope() {
        let get = catalog::named("s3:GetObject");
        let list = catalog::named("s3:ListBucket");
        let policy = catalog::named("s3:PutBucketPolicy");
        let narrowed = scope(Some("photos/2024/"), "s3:GetObject s3:ListBucket s3:PutObject");
        assert_eq!(grants_in_folder(&narrowed, get, Some("photos/2024/")), Ok(()));
        assert!(matches!(
            grants_in_folder(&narrowed, get, Some("photos/")),
            Err(Denial::OutsidePath { .. })
        ));
        assert!(matches!(
            grants_in_folder(&narrowed, get, Some("")),
            Err(Denial::OutsidePath { .. })
        ));
        // A listing of the bucket's top level or a parent folder shows the way down; one
        // beside the path is refused; a HeadBucket names nothing.
        assert_eq!(grants_in_folder(&narrowed, list, Some("")), Ok(()));
        assert_eq!(grants_in_folder(&narrowed, list, Some("photos/")), Ok(()));
        assert!(matches!(
            grants_in_folder(&narrowed, list, Some("photos/2023/")),
            Err(Denial::ListingOutsidePath { .. })
        ));
        assert_eq!(grants_in_folder(&narrowed, list, None), Ok(()));
        let no_get = scope(None, "s3:ListBucket");
        assert_eq!(
            grants_in_folder(&no_get, get, Some("x/")),
            Err(Denial::MissingAction(get))
        );
        let all = scope(Some("a/"), "all");
        assert!(matches!(
            grants_in_folder(&all, policy, None),
            Err(Denial::WholeBucketOnly { .. }) | Err(Denial::MissingAction(_))
        ));
    }
}
