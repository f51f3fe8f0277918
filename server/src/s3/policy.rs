//! Authorization for the S3 endpoint: one table from S3 operation to catalog action, and
//! one pure evaluator over it. No I/O here, so every decision is unit-tested.

use app::catalog::{self, ActionSet, Scope};

/// What an operation's credential path applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No bucket at all (ListBuckets): any valid key may ask; the answer is filtered.
    Service,
    /// The bucket itself; the path does not apply.
    Bucket,
    /// A listing: its `prefix` must lie inside the path.
    Listing,
    /// An object: its key must lie inside the path.
    Object,
    /// Objects whose keys come in the body (DeleteObjects, a POST upload's form): each key
    /// is checked on its own with [`evaluate_batch_key`].
    Batch,
}

#[derive(Clone, Copy, Debug)]
pub struct OperationRule {
    /// The S3 operation name, as s3s names it.
    pub operation: &'static str,
    /// The catalog action that allows it; `None` only for [`Target::Service`].
    pub action: Option<&'static str>,
    /// The action needed instead when the request names a `versionId`.
    pub versioned_action: Option<&'static str>,
    pub target: Target,
}

const fn rule(operation: &'static str, action: &'static str, target: Target) -> OperationRule {
    OperationRule {
        operation,
        action: Some(action),
        versioned_action: None,
        target,
    }
}

const fn versioned(
    operation: &'static str,
    action: &'static str,
    versioned_action: &'static str,
    target: Target,
) -> OperationRule {
    OperationRule {
        operation,
        action: Some(action),
        versioned_action: Some(versioned_action),
        target,
    }
}

use Target::{Batch, Bucket, Listing, Object};

/// Every S3 operation Stook serves. Anything not here is denied.
pub const OPERATIONS: &[OperationRule] = &[
    OperationRule {
        operation: "ListBuckets",
        action: None,
        versioned_action: None,
        target: Target::Service,
    },
    // Read
    versioned("GetObject", "s3:GetObject", "s3:GetObjectVersion", Object),
    versioned("HeadObject", "s3:GetObject", "s3:GetObjectVersion", Object),
    rule("GetObjectAttributes", "s3:GetObjectAttributes", Object),
    rule("GetObjectTagging", "s3:GetObjectTagging", Object),
    rule("GetObjectAcl", "s3:GetObjectAcl", Object),
    rule("GetObjectRetention", "s3:GetObjectRetention", Object),
    rule("GetObjectLegalHold", "s3:GetObjectLegalHold", Object),
    rule("ListObjects", "s3:ListBucket", Listing),
    rule("ListObjectsV2", "s3:ListBucket", Listing),
    rule("HeadBucket", "s3:ListBucket", Bucket),
    rule("ListObjectVersions", "s3:ListBucketVersions", Listing),
    rule("ListMultipartUploads", "s3:ListBucketMultipartUploads", Listing),
    rule("ListParts", "s3:ListMultipartUploadParts", Object),
    rule("GetBucketLocation", "s3:GetBucketLocation", Bucket),
    // Write
    rule("PutObject", "s3:PutObject", Object),
    rule("PostObject", "s3:PutObject", Batch),
    rule("CopyObject", "s3:PutObject", Object),
    rule("CreateMultipartUpload", "s3:PutObject", Object),
    rule("UploadPart", "s3:PutObject", Object),
    rule("UploadPartCopy", "s3:PutObject", Object),
    rule("CompleteMultipartUpload", "s3:PutObject", Object),
    rule("AbortMultipartUpload", "s3:AbortMultipartUpload", Object),
    versioned("DeleteObject", "s3:DeleteObject", "s3:DeleteObjectVersion", Object),
    rule("DeleteObjects", "s3:DeleteObject", Batch),
    rule("PutObjectTagging", "s3:PutObjectTagging", Object),
    rule("DeleteObjectTagging", "s3:DeleteObjectTagging", Object),
    rule("PutObjectAcl", "s3:PutObjectAcl", Object),
    rule("PutObjectRetention", "s3:PutObjectRetention", Object),
    rule("PutObjectLegalHold", "s3:PutObjectLegalHold", Object),
    rule("RestoreObject", "s3:RestoreObject", Object),
    // Bucket Management
    rule("DeleteBucket", "s3:DeleteBucket", Bucket),
    rule("GetBucketVersioning", "s3:GetBucketVersioning", Bucket),
    rule("PutBucketVersioning", "s3:PutBucketVersioning", Bucket),
    rule("GetBucketTagging", "s3:GetBucketTagging", Bucket),
    rule("PutBucketTagging", "s3:PutBucketTagging", Bucket),
    rule("DeleteBucketTagging", "s3:PutBucketTagging", Bucket),
    rule("GetBucketAcl", "s3:GetBucketAcl", Bucket),
    rule("PutBucketAcl", "s3:PutBucketAcl", Bucket),
    rule("GetBucketPolicy", "s3:GetBucketPolicy", Bucket),
    rule("PutBucketPolicy", "s3:PutBucketPolicy", Bucket),
    rule("DeleteBucketPolicy", "s3:DeleteBucketPolicy", Bucket),
    rule("GetBucketCors", "s3:GetBucketCORS", Bucket),
    rule("PutBucketCors", "s3:PutBucketCORS", Bucket),
    rule("DeleteBucketCors", "s3:PutBucketCORS", Bucket),
    rule(
        "GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
        Bucket,
    ),
    rule(
        "PutBucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        Bucket,
    ),
    rule("DeleteBucketLifecycle", "s3:PutLifecycleConfiguration", Bucket),
    rule("GetBucketEncryption", "s3:GetEncryptionConfiguration", Bucket),
    rule("PutBucketEncryption", "s3:PutEncryptionConfiguration", Bucket),
    rule("DeleteBucketEncryption", "s3:PutEncryptionConfiguration", Bucket),
    rule(
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        Bucket,
    ),
    rule(
        "PutObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        Bucket,
    ),
    rule("GetBucketWebsite", "s3:GetBucketWebsite", Bucket),
    rule("PutBucketWebsite", "s3:PutBucketWebsite", Bucket),
    rule("DeleteBucketWebsite", "s3:DeleteBucketWebsite", Bucket),
    rule("GetBucketNotificationConfiguration", "s3:GetBucketNotification", Bucket),
    rule("PutBucketNotificationConfiguration", "s3:PutBucketNotification", Bucket),
];

pub fn rule_for(operation: &str) -> Option<&'static OperationRule> {
    OPERATIONS.iter().find(|r| r.operation == operation)
}

/// Whether an action changes or reads a setting of the whole bucket (the catalog's Bucket
/// Management category: policy, ACL, CORS, versioning, deleting the bucket ...), which a
/// key limited to a path may not use.
pub fn is_bucket_wide(action: &str) -> bool {
    catalog::find(action).is_some_and(|a| a.category.needs_whole_bucket())
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
    /// Normalised `a/b/` (see `app::domain::normalize_path`), or `None` for the whole bucket.
    pub path: Option<String>,
    pub grant: Grant,
}

/// The parts of a request that authorization looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    pub operation: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    /// A listing's `prefix` (absent = the whole bucket).
    pub prefix: Option<&'a str>,
    pub version_id: bool,
    /// `CopyObject` / `UploadPartCopy`: the source bucket, key and whether it names a version.
    pub copy_source: Option<(&'a str, &'a str, bool)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
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
fn plain_segments(name: &str, what: &str) -> Result<(), String> {
    let inner = name.strip_suffix('/').unwrap_or(name);
    let odd = |segment: &str| segment.is_empty() || segment == "." || segment == "..";
    if !name.is_empty() && inner.split('/').any(odd) {
        Err(format!(
            "{what} “{name}” has an empty, “.” or “..” segment, which Stook does not accept"
        ))
    } else {
        Ok(())
    }
}

impl KeyScope {
    fn within_path(&self, name: &str) -> bool {
        self.path.as_deref().is_none_or(|path| name.starts_with(path))
    }

    fn has(&self, action: &str) -> bool {
        match &self.grant {
            Grant::Master => true,
            Grant::Actions(set) => set.contains(action),
        }
    }

    fn path_shown(&self) -> &str {
        self.path.as_deref().unwrap_or("")
    }

    fn require(&self, action: &str) -> Result<(), String> {
        if self.has(action) {
            Ok(())
        } else {
            Err(format!("this key does not allow {action}"))
        }
    }

    fn require_object(&self, action: &str, bucket: &str, key: &str) -> Result<(), String> {
        if bucket != self.bucket {
            return Err(format!("this key is for bucket “{}”, not “{bucket}”", self.bucket));
        }
        self.require(action)?;
        plain_segments(key, "the key")?;
        if !self.within_path(key) {
            return Err(format!(
                "this key is limited to “{}”; “{key}” is outside it",
                self.path_shown()
            ));
        }
        Ok(())
    }
}

/// Decides one request. Denials say which action, bucket or path was missing.
pub fn evaluate(scope: &KeyScope, request: &Request<'_>) -> Decision {
    match check(scope, request) {
        Ok(()) => Decision::Allow,
        Err(reason) => Decision::Deny(reason),
    }
}

fn check(scope: &KeyScope, request: &Request<'_>) -> Result<(), String> {
    let Some(rule) = rule_for(request.operation) else {
        return Err(format!(
            "Stook does not allow {} through scoped keys",
            request.operation
        ));
    };
    let action = match (request.version_id, rule.versioned_action, rule.action) {
        (true, Some(versioned), _) => versioned,
        (_, _, Some(action)) => action,
        (_, _, None) => return Ok(()),
    };
    let Some(bucket) = request.bucket else {
        return Err(format!("{} needs a bucket", request.operation));
    };
    if bucket != scope.bucket {
        return Err(format!("this key is for bucket “{}”, not “{bucket}”", scope.bucket));
    }
    scope.require(action)?;
    if scope.path.is_some() && is_bucket_wide(action) {
        // On the proxy backend a `photos/` key could otherwise make the whole bucket public.
        return Err(format!(
            "this key is limited to “{}”, and {action} concerns the whole bucket: use a key for the whole bucket",
            scope.path_shown()
        ));
    }
    match rule.target {
        Target::Service | Target::Bucket | Target::Batch => {}
        Target::Listing => {
            let prefix = request.prefix.unwrap_or("");
            plain_segments(prefix, "the prefix")?;
            if !scope.within_path(prefix) {
                return Err(format!(
                    "this key may only list inside “{}”: ask for a prefix that starts with it",
                    scope.path_shown()
                ));
            }
        }
        Target::Object => {
            let Some(key) = request.key else {
                return Err(format!("{} needs an object key", request.operation));
            };
            plain_segments(key, "the key")?;
            if !scope.within_path(key) {
                return Err(format!(
                    "this key is limited to “{}”; “{key}” is outside it",
                    scope.path_shown()
                ));
            }
        }
    }
    if let Some((source_bucket, source_key, source_version)) = request.copy_source {
        let read = if source_version {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        };
        scope
            .require_object(read, source_bucket, source_key)
            .map_err(|reason| format!("copy source: {reason}"))?;
    }
    Ok(())
}

/// One key of a `DeleteObjects` batch, or the key of a POST upload: checked as the
/// single-object operation it stands for.
pub fn evaluate_batch_key(scope: &KeyScope, operation: &str, key: &str, version_id: bool) -> Decision {
    evaluate(
        scope,
        &Request {
            operation,
            bucket: Some(&scope.bucket),
            key: Some(key),
            version_id,
            ..Request::default()
        },
    )
}

/// The catalog scope an operation's target must agree with.
pub fn catalog_scope(target: Target) -> Option<Scope> {
    match target {
        Target::Service => None,
        Target::Bucket | Target::Listing => Some(Scope::Bucket),
        Target::Object | Target::Batch => Some(Scope::Object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::catalog::{self, ACTIONS, Preset};
    use std::collections::BTreeSet;

    fn scope(path: Option<&str>, actions: &str) -> KeyScope {
        KeyScope {
            bucket: "photos-bucket".into(),
            path: path.map(str::to_string),
            grant: Grant::Actions(ActionSet::parse(actions).unwrap()),
        }
    }

    fn object(operation: &str, key: &str) -> Request<'static> {
        Request {
            operation: Box::leak(operation.to_string().into_boxed_str()),
            bucket: Some("photos-bucket"),
            key: Some(Box::leak(key.to_string().into_boxed_str())),
            ..Request::default()
        }
    }

    fn denied(decision: Decision, needle: &str) {
        match decision {
            Decision::Deny(reason) => assert!(reason.contains(needle), "{reason:?} should mention {needle:?}"),
            Decision::Allow => panic!("expected a denial mentioning {needle:?}"),
        }
    }

    #[test]
    fn every_operation_names_a_catalog_action_of_the_right_scope() {
        let mut seen = BTreeSet::new();
        for rule in OPERATIONS {
            assert!(seen.insert(rule.operation), "{} is listed twice", rule.operation);
            for action in rule.action.iter().chain(rule.versioned_action.iter()) {
                let found = catalog::find(action).unwrap_or_else(|| panic!("{action} is not in the catalog"));
                assert_eq!(
                    Some(found.scope),
                    catalog_scope(rule.target),
                    "{} maps to {action}, whose scope disagrees",
                    rule.operation
                );
            }
            assert_eq!(
                rule.action.is_none(),
                rule.target == Target::Service,
                "{}",
                rule.operation
            );
        }
    }

    #[test]
    fn every_catalog_action_allows_some_operation() {
        let used: BTreeSet<&str> = OPERATIONS
            .iter()
            .flat_map(|r| r.action.into_iter().chain(r.versioned_action))
            .collect();
        for action in ACTIONS {
            assert!(used.contains(action.name), "{} allows no operation", action.name);
        }
    }

    #[test]
    fn each_operation_is_allowed_by_its_action_alone_and_denied_without_it() {
        for rule in OPERATIONS.iter().filter(|r| r.action.is_some()) {
            let action = rule.action.unwrap();
            let request = Request {
                operation: rule.operation,
                bucket: Some("photos-bucket"),
                key: Some("photos/a.jpg"),
                prefix: Some("photos/"),
                ..Request::default()
            };
            let path = (!is_bucket_wide(action)).then_some("photos/");
            assert_eq!(
                evaluate(&scope(path, action), &request),
                Decision::Allow,
                "{} with {action}",
                rule.operation
            );
            let others: Vec<&str> = ACTIONS.iter().map(|a| a.name).filter(|n| *n != action).collect();
            denied(evaluate(&scope(None, &others.join(" ")), &request), action);
        }
    }

    #[test]
    fn a_key_limited_to_a_path_cannot_touch_bucket_wide_settings() {
        let all = Preset::All.actions();
        let limited = KeyScope {
            bucket: "photos-bucket".into(),
            path: Some("photos/".into()),
            grant: Grant::Actions(all.clone()),
        };
        let whole = KeyScope {
            path: None,
            ..limited.clone()
        };
        let mut bucket_wide = BTreeSet::new();
        for rule in OPERATIONS.iter().filter(|r| r.action.is_some()) {
            let action = rule.action.unwrap();
            let request = Request {
                operation: rule.operation,
                bucket: Some("photos-bucket"),
                key: Some("photos/a.jpg"),
                prefix: Some("photos/"),
                ..Request::default()
            };
            let category = catalog::find(action).unwrap().category;
            if category == catalog::Category::BucketManagement {
                bucket_wide.insert(rule.operation);
                denied(evaluate(&limited, &request), "concerns the whole bucket");
                assert!(evaluate(&whole, &request).is_allowed(), "{}", rule.operation);
            } else {
                assert!(evaluate(&limited, &request).is_allowed(), "{}", rule.operation);
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
        };
        for operation in [
            "CreateBucket",
            "PutBucketReplication",
            "SelectObjectContent",
            "Nonsense",
        ] {
            denied(evaluate(&master, &object(operation, "a")), operation);
        }
        assert!(evaluate(&master, &object("DeleteObject", "anything")).is_allowed());
    }

    #[test]
    fn a_key_never_reaches_another_bucket() {
        let read_write = scope(None, "read-write");
        let mut request = object("GetObject", "photos/a.jpg");
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
        assert!(evaluate(&read_only, &object("GetObject", "x")).is_allowed());
        assert!(evaluate(&read_only, &object("HeadObject", "x")).is_allowed());
        denied(evaluate(&read_only, &object("PutObject", "x")), "s3:PutObject");
        denied(evaluate(&read_only, &object("DeleteObject", "x")), "s3:DeleteObject");
    }

    #[test]
    fn object_keys_must_lie_under_the_path() {
        let photos = scope(Some("photos/"), "read-write");
        assert!(evaluate(&photos, &object("PutObject", "photos/a.jpg")).is_allowed());
        assert!(evaluate(&photos, &object("PutObject", "photos/2024/b.jpg")).is_allowed());
        denied(
            evaluate(&photos, &object("PutObject", "docs/b.txt")),
            "“docs/b.txt” is outside",
        );
        // A folder name that merely starts the same is another folder.
        denied(evaluate(&photos, &object("GetObject", "photos-old/a.jpg")), "outside");
        denied(evaluate(&photos, &object("GetObject", "photos")), "outside");
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
            denied(evaluate(&photos, &object("PutObject", key)), "“..” segment");
            denied(evaluate(&whole, &object("GetObject", key)), "“..” segment");
            denied(evaluate_batch_key(&photos, "DeleteObject", key, false), "“..” segment");
        }
        // Dots inside a name are ordinary characters, and a folder marker ends in "/".
        assert!(evaluate(&photos, &object("PutObject", "photos/a..b/.hidden/x.tar.gz")).is_allowed());
        assert!(evaluate(&photos, &object("PutObject", "photos/2024/")).is_allowed());
        let mut copy = object("CopyObject", "photos/copy");
        copy.copy_source = Some(("photos-bucket", "photos/../docs/secret", false));
        denied(evaluate(&photos, &copy), "copy source: the key");
        let listing = Request {
            operation: "ListObjectsV2",
            bucket: Some("photos-bucket"),
            prefix: Some("photos/../"),
            ..Request::default()
        };
        denied(evaluate(&photos, &listing), "the prefix");
    }

    #[test]
    fn listings_must_ask_for_a_prefix_inside_the_path() {
        let photos = scope(Some("photos/"), "read-only");
        let listing = |operation: &'static str, prefix: Option<&'static str>| Request {
            operation,
            bucket: Some("photos-bucket"),
            prefix,
            ..Request::default()
        };
        for operation in [
            "ListObjects",
            "ListObjectsV2",
            "ListObjectVersions",
            "ListMultipartUploads",
        ] {
            assert!(evaluate(&photos, &listing(operation, Some("photos/"))).is_allowed());
            assert!(evaluate(&photos, &listing(operation, Some("photos/2024/"))).is_allowed());
            denied(
                evaluate(&photos, &listing(operation, None)),
                "only list inside “photos/”",
            );
            denied(evaluate(&photos, &listing(operation, Some(""))), "only list inside");
            denied(
                evaluate(&photos, &listing(operation, Some("docs/"))),
                "only list inside",
            );
        }
        // Without a path the whole bucket may be listed.
        assert!(evaluate(&scope(None, "read-only"), &listing("ListObjectsV2", None)).is_allowed());
        // HeadBucket says only that the bucket exists: the path does not apply.
        assert!(evaluate(&photos, &listing("HeadBucket", None)).is_allowed());
    }

    #[test]
    fn a_version_id_needs_the_version_action() {
        let plain = scope(None, "s3:GetObject s3:DeleteObject");
        let mut request = object("GetObject", "a");
        request.version_id = true;
        denied(evaluate(&plain, &request), "s3:GetObjectVersion");
        request.operation = "DeleteObject";
        denied(evaluate(&plain, &request), "s3:DeleteObjectVersion");
        let versions = scope(None, "s3:GetObjectVersion s3:DeleteObjectVersion");
        assert!(evaluate(&versions, &request).is_allowed());
    }

    #[test]
    fn copies_need_read_on_a_source_inside_the_scope() {
        let photos = scope(Some("photos/"), "read-write");
        for operation in ["CopyObject", "UploadPartCopy"] {
            let mut request = object(operation, "photos/copy.jpg");
            request.copy_source = Some(("photos-bucket", "photos/a.jpg", false));
            assert!(evaluate(&photos, &request).is_allowed(), "{operation}");
            request.copy_source = Some(("photos-bucket", "docs/secret.txt", false));
            denied(evaluate(&photos, &request), "copy source: this key is limited");
            request.copy_source = Some(("other-bucket", "photos/a.jpg", false));
            denied(evaluate(&photos, &request), "copy source: this key is for bucket");
        }
        let write_only = scope(None, "s3:PutObject");
        let mut request = object("CopyObject", "b");
        request.copy_source = Some(("photos-bucket", "a", false));
        denied(
            evaluate(&write_only, &request),
            "copy source: this key does not allow s3:GetObject",
        );
        request.copy_source = Some(("photos-bucket", "a", true));
        denied(
            evaluate(&scope(None, "s3:PutObject s3:GetObject"), &request),
            "s3:GetObjectVersion",
        );
    }

    #[test]
    fn batch_delete_checks_every_key() {
        let photos = scope(Some("photos/"), "read-write");
        assert!(evaluate_batch_key(&photos, "DeleteObject", "photos/a.jpg", false).is_allowed());
        denied(
            evaluate_batch_key(&photos, "DeleteObject", "docs/b.txt", false),
            "outside",
        );
        let plain_delete = scope(Some("photos/"), "s3:DeleteObject");
        denied(
            evaluate_batch_key(&plain_delete, "DeleteObject", "photos/a.jpg", true),
            "s3:DeleteObjectVersion",
        );
        let read_only = scope(None, "read-only");
        denied(
            evaluate_batch_key(&read_only, "DeleteObject", "a", false),
            "s3:DeleteObject",
        );
        // A POST upload's key is checked as a PutObject.
        denied(evaluate_batch_key(&photos, "PutObject", "docs/b.txt", false), "outside");
    }

    #[test]
    fn list_buckets_needs_no_action() {
        let request = Request {
            operation: "ListBuckets",
            ..Request::default()
        };
        assert!(evaluate(&scope(Some("photos/"), "s3:GetObject"), &request).is_allowed());
    }

    #[test]
    fn presets_cover_their_categories() {
        let all = KeyScope {
            bucket: "photos-bucket".into(),
            path: None,
            grant: Grant::Actions(Preset::All.actions()),
        };
        for rule in OPERATIONS {
            let request = Request {
                operation: rule.operation,
                bucket: Some("photos-bucket"),
                key: Some("k"),
                ..Request::default()
            };
            assert!(evaluate(&all, &request).is_allowed(), "{}", rule.operation);
        }
    }
}
