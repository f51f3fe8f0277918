//! The local backend: objects under the data directory, served by s3s-fs, with what
//! s3s-fs lacks and real clients expect added here (conditional reads, version listings,
//! bucket directories that follow the buckets of the panel).

use super::forward::{forward_to, with_forwarded_operations};
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::RwLock;
use time::OffsetDateTime;

pub struct Local {
    fs: FileSystem,
    root: PathBuf,
    /// Buckets whose directory is known to exist.
    ready_buckets: RwLock<HashSet<String>>,
}

impl Local {
    pub fn new(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        let fs = FileSystem::new(&root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        Ok(Local {
            fs,
            root,
            ready_buckets: RwLock::default(),
        })
    }

    /// Buckets live in Stook's database; a request only gets here for a bucket its key
    /// belongs to, so the bucket exists and its directory is made on first use.
    async fn ready(&self, bucket: &str) -> S3Result<()> {
        if self
            .ready_buckets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(bucket)
        {
            return Ok(());
        }
        tokio::fs::create_dir_all(self.root.join(bucket)).await.map_err(|e| {
            tracing::error!(error = %e, bucket, "could not create the bucket directory");
            s3_error!(InternalError, "Stook could not prepare the bucket's storage.")
        })?;
        self.ready_buckets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(bucket.to_string());
        Ok(())
    }
}

/// The conditional headers of a GET or HEAD.
#[derive(Clone, Default)]
struct Conditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

macro_rules! conditions_of {
    ($input:expr) => {
        Conditions {
            if_match: $input.if_match.clone(),
            if_none_match: $input.if_none_match.clone(),
            if_modified_since: $input.if_modified_since.clone(),
            if_unmodified_since: $input.if_unmodified_since.clone(),
        }
    };
}

impl Conditions {
    fn any(&self) -> bool {
        self.if_match.is_some()
            || self.if_none_match.is_some()
            || self.if_modified_since.is_some()
            || self.if_unmodified_since.is_some()
    }

    /// RFC 9110 §13.2.2 order, as S3 applies it to reads.
    fn check(&self, etag: Option<&ETag>, last_modified: Option<&Timestamp>) -> S3Result<()> {
        let matches = |condition: &ETagCondition| match condition {
            ETagCondition::Any => true,
            ETagCondition::ETag(wanted) => etag.is_some_and(|e| e.weak_cmp(wanted)),
        };
        // HTTP dates have whole seconds.
        let modified = last_modified.map(|t| OffsetDateTime::from(t.clone()).unix_timestamp());
        let seconds = |t: &Timestamp| OffsetDateTime::from(t.clone()).unix_timestamp();
        if let Some(condition) = &self.if_match {
            if !matches(condition) {
                return Err(s3_error!(
                    PreconditionFailed,
                    "The object's ETag does not match If-Match."
                ));
            }
        } else if let (Some(since), Some(modified)) = (&self.if_unmodified_since, modified)
            && modified > seconds(since)
        {
            return Err(s3_error!(
                PreconditionFailed,
                "The object changed after If-Unmodified-Since."
            ));
        }
        if let Some(condition) = &self.if_none_match {
            if matches(condition) {
                return Err(s3_error!(NotModified));
            }
        } else if let (Some(since), Some(modified)) = (&self.if_modified_since, modified)
            && modified <= seconds(since)
        {
            return Err(s3_error!(NotModified));
        }
        Ok(())
    }
}

fn head_of(req: &S3Request<GetObjectInput>) -> S3Request<HeadObjectInput> {
    let input = HeadObjectInput {
        bucket: req.input.bucket.clone(),
        key: req.input.key.clone(),
        ..Default::default()
    };
    req.clone().map_input(|_| input)
}

#[async_trait::async_trait]
impl S3 for Local {
    with_forwarded_operations!(forward_to, fs, ready);

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.ready(&req.input.bucket).await?;
        let conditions = conditions_of!(req.input);
        if conditions.any() {
            let head = self.fs.head_object(head_of(&req)).await?.output;
            conditions.check(head.e_tag.as_ref(), head.last_modified.as_ref())?;
        }
        self.fs.get_object(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.ready(&req.input.bucket).await?;
        let conditions = conditions_of!(req.input);
        let found = self.fs.head_object(req).await?;
        conditions.check(found.output.e_tag.as_ref(), found.output.last_modified.as_ref())?;
        Ok(found)
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        self.ready(&req.input.bucket).await?;
        self.fs.list_objects(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.ready(&req.input.bucket).await?;
        self.fs.list_objects_v2(req).await
    }

    /// The local backend keeps no versions: every object is its own `null` version, as
    /// S3 reports for an unversioned bucket.
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.ready(&req.input.bucket).await?;
        let asked = req.input.clone();
        let listing = ListObjectsV2Input {
            bucket: asked.bucket.clone(),
            delimiter: asked.delimiter.clone(),
            encoding_type: asked.encoding_type.clone(),
            max_keys: asked.max_keys,
            prefix: asked.prefix.clone(),
            start_after: asked.key_marker.clone(),
            ..Default::default()
        };
        let found = self.fs.list_objects_v2(req.map_input(|_| listing)).await?.output;
        let versions = found.contents.map(|objects| {
            objects
                .into_iter()
                .map(|o| ObjectVersion {
                    e_tag: o.e_tag,
                    is_latest: Some(true),
                    key: o.key,
                    last_modified: o.last_modified,
                    size: o.size,
                    version_id: Some("null".into()),
                    ..Default::default()
                })
                .collect()
        });
        let truncated = found.is_truncated.unwrap_or(false);
        Ok(S3Response::new(ListObjectVersionsOutput {
            common_prefixes: found.common_prefixes,
            delimiter: asked.delimiter,
            encoding_type: asked.encoding_type,
            is_truncated: Some(truncated),
            key_marker: asked.key_marker,
            max_keys: found.max_keys,
            name: Some(asked.bucket),
            next_key_marker: found.next_continuation_token.filter(|_| truncated),
            next_version_id_marker: truncated.then(|| "null".to_string()),
            prefix: asked.prefix,
            version_id_marker: asked.version_id_marker,
            versions,
            ..Default::default()
        }))
    }

    async fn delete_bucket(&self, _req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        Err(s3_error!(
            NotImplemented,
            "Buckets are created and deleted in the Stook panel or with the stook CLI."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> Timestamp {
        Timestamp::from(OffsetDateTime::from_unix_timestamp(unix).unwrap())
    }

    fn etag(value: &str) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(value.into()))
    }

    #[test]
    fn conditional_reads_follow_http_order() {
        let current = ETag::Strong("abc".into());
        let modified = at(1_000);
        let code = |c: Conditions| {
            c.check(Some(&current), Some(&modified))
                .err()
                .map(|e| e.code().as_str().to_string())
        };
        let none = Conditions::default();
        assert_eq!(code(none.clone()), None);
        let (same, other) = (Some(etag("abc")), Some(etag("zzz")));
        let (early, late) = (Some(at(500)), Some(at(2_000)));
        let failed = Some("PreconditionFailed".to_string());
        let not_modified = Some("NotModified".to_string());
        let with = |f: &dyn Fn(&mut Conditions)| {
            let mut c = none.clone();
            f(&mut c);
            c
        };
        assert_eq!(code(with(&|c| c.if_match = same.clone())), None);
        assert_eq!(code(with(&|c| c.if_match = other.clone())), failed);
        assert_eq!(code(with(&|c| c.if_none_match = same.clone())), not_modified);
        assert_eq!(code(with(&|c| c.if_none_match = other.clone())), None);
        assert_eq!(code(with(&|c| c.if_modified_since = late.clone())), not_modified);
        assert_eq!(code(with(&|c| c.if_modified_since = early.clone())), None);
        assert_eq!(code(with(&|c| c.if_unmodified_since = early.clone())), failed);
        // A matching If-Match overrides a failing If-Unmodified-Since, as S3 does.
        assert_eq!(
            code(with(&|c| {
                c.if_match = same.clone();
                c.if_unmodified_since = early.clone();
            })),
            None
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            code(with(&|c| {
                c.if_none_match = other.clone();
                c.if_modified_since = late.clone();
            })),
            None
        );
    }
}
