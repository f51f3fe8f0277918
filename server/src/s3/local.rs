//! The local backend: objects under the data directory, served by s3s-fs, with what
//! s3s-fs lacks and real clients expect added here (conditional reads, version listings,
//! multipart uploads kept by [`super::multipart`], bucket directories that follow the
//! buckets of the panel).

use super::forward::forward;
use super::multipart::{Attributes, Uploads};
use super::tags::{self, Tags};
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;

pub struct Local {
    fs: FileSystem,
    root: PathBuf,
    uploads: Arc<Uploads>,
    tags: Tags,
    /// Buckets whose directory is known to exist.
    ready_buckets: RwLock<HashSet<String>>,
}

impl Local {
    pub fn new(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        let fs = FileSystem::new(&root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        Ok(Local {
            fs,
            uploads: Arc::new(Uploads::new(root.clone())),
            tags: Tags::new(root.clone()),
            root,
            ready_buckets: RwLock::default(),
        })
    }

    /// Removes multipart uploads left unfinished for longer than `max_age`, now and every
    /// hour: their parts would otherwise stay on disk for good.
    pub fn sweep_abandoned_uploads(&self, max_age: Duration) {
        let uploads = self.uploads.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                let removed = uploads.sweep(max_age).await;
                if removed > 0 {
                    tracing::info!(removed, "removed abandoned multipart uploads");
                }
            }
        });
    }

    /// The object's head, or `NoSuchKey`: settings of a missing object are missing too.
    async fn must_exist<T: Clone>(&self, req: &S3Request<T>, bucket: &str, key: &str) -> S3Result<HeadObjectOutput> {
        self.ready(bucket).await?;
        let input = HeadObjectInput {
            bucket: bucket.into(),
            key: key.into(),
            ..Default::default()
        };
        Ok(self.fs.head_object(req.clone().map_input(|_| input)).await?.output)
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

/// A Put of a bucket setting the local backend does not enforce: refused rather than
/// stored, so nobody relies on a setting that does nothing.
fn not_kept(what: &str) -> s3s::S3Error {
    s3_error!(
        NotImplemented,
        "The local backend does not keep {what}; run Stook with the proxy backend (STOOK_S3_BACKEND=proxy) over a store that does."
    )
}

/// What S3 answers for retention and legal holds in a bucket without Object Lock.
fn no_object_lock() -> s3s::S3Error {
    s3_error!(InvalidRequest, "Bucket is missing Object Lock Configuration.")
}

/// Every bucket and object of the local backend belongs to its owner alone.
fn owner_full_control() -> (Owner, Vec<Grant>) {
    let owner = Owner {
        display_name: Some("stook".into()),
        id: Some("stook".into()),
    };
    let grant = Grant {
        grantee: Some(Grantee {
            display_name: owner.display_name.clone(),
            id: owner.id.clone(),
            type_: Type::from_static(Type::CANONICAL_USER),
            email_address: None,
            uri: None,
        }),
        permission: Some(Permission::from_static(Permission::FULL_CONTROL)),
    };
    (owner, vec![grant])
}

fn head_of(req: &S3Request<GetObjectInput>) -> S3Request<HeadObjectInput> {
    let input = HeadObjectInput {
        bucket: req.input.bucket.clone(),
        key: req.input.key.clone(),
        ..Default::default()
    };
    req.clone().map_input(|_| input)
}

forward! {
    answered LOCAL_OPERATIONS;
    impl[] S3 for Local;
    pass to fs after ready {
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        copy_object(CopyObjectInput) -> CopyObjectOutput;
    }

    /// A new object starts with the tags its upload names, or none.
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.ready(&req.input.bucket).await?;
        let new_tags = req.input.tagging.as_deref().map(tags::from_header).transpose()?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let stored = self.fs.put_object(req).await?;
        self.tags.set(&bucket, &key, &new_tags.unwrap_or_default()).await?;
        Ok(stored)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.ready(&req.input.bucket).await?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let deleted = self.fs.delete_object(req).await?;
        self.tags.remove(&bucket, &key).await?;
        Ok(deleted)
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.ready(&req.input.bucket).await?;
        let bucket = req.input.bucket.clone();
        let deleted = self.fs.delete_objects(req).await?;
        for object in deleted.output.deleted.iter().flatten() {
            if let Some(key) = &object.key {
                self.tags.remove(&bucket, key).await?;
            }
        }
        Ok(deleted)
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: self.tags.get(&req.input.bucket, &req.input.key).await?,
            ..Default::default()
        }))
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let pairs = tags::checked(&req.input.tagging.tag_set)?;
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        self.tags.set(&req.input.bucket, &req.input.key, &pairs).await?;
        Ok(S3Response::new(PutObjectTaggingOutput::default()))
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        self.tags.remove(&req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(DeleteObjectTaggingOutput::default()))
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let head = self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: head.e_tag,
            last_modified: head.last_modified,
            object_size: head.content_length,
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        }))
    }

    async fn get_object_acl(&self, req: S3Request<GetObjectAclInput>) -> S3Result<S3Response<GetObjectAclOutput>> {
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        let (owner, grants) = owner_full_control();
        Ok(S3Response::new(GetObjectAclOutput {
            owner: Some(owner),
            grants: Some(grants),
            ..Default::default()
        }))
    }

    async fn put_object_acl(&self, req: S3Request<PutObjectAclInput>) -> S3Result<S3Response<PutObjectAclOutput>> {
        let private = req
            .input
            .acl
            .as_ref()
            .is_some_and(|acl| acl.as_str() == ObjectCannedACL::PRIVATE);
        if !private {
            return Err(not_kept("object ACLs other than private"));
        }
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }

    async fn get_object_retention(
        &self,
        _req: S3Request<GetObjectRetentionInput>,
    ) -> S3Result<S3Response<GetObjectRetentionOutput>> {
        Err(no_object_lock())
    }

    async fn put_object_retention(
        &self,
        _req: S3Request<PutObjectRetentionInput>,
    ) -> S3Result<S3Response<PutObjectRetentionOutput>> {
        Err(no_object_lock())
    }

    async fn get_object_legal_hold(
        &self,
        _req: S3Request<GetObjectLegalHoldInput>,
    ) -> S3Result<S3Response<GetObjectLegalHoldOutput>> {
        Err(no_object_lock())
    }

    async fn put_object_legal_hold(
        &self,
        _req: S3Request<PutObjectLegalHoldInput>,
    ) -> S3Result<S3Response<PutObjectLegalHoldOutput>> {
        Err(no_object_lock())
    }

    async fn restore_object(&self, req: S3Request<RestoreObjectInput>) -> S3Result<S3Response<RestoreObjectOutput>> {
        self.must_exist(&req, &req.input.bucket, &req.input.key).await?;
        Err(s3_error!(
            InvalidObjectState,
            "Restore is not allowed for the object's current storage class (STANDARD): it is not archived."
        ))
    }

    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        self.ready(&req.input.bucket).await?;
        // Never versioned: no Status at all, as S3 answers for such a bucket.
        Ok(S3Response::new(GetBucketVersioningOutput::default()))
    }

    async fn put_bucket_versioning(
        &self,
        _req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        Err(not_kept("versioning"))
    }

    async fn get_bucket_tagging(
        &self,
        _req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        Err(s3_error!(NoSuchTagSet, "The TagSet does not exist."))
    }

    async fn put_bucket_tagging(
        &self,
        _req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        Err(not_kept("bucket tags"))
    }

    async fn delete_bucket_tagging(
        &self,
        _req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        Ok(S3Response::new(DeleteBucketTaggingOutput::default()))
    }

    async fn get_bucket_acl(&self, _req: S3Request<GetBucketAclInput>) -> S3Result<S3Response<GetBucketAclOutput>> {
        let (owner, grants) = owner_full_control();
        Ok(S3Response::new(GetBucketAclOutput {
            owner: Some(owner),
            grants: Some(grants),
        }))
    }

    async fn put_bucket_acl(&self, req: S3Request<PutBucketAclInput>) -> S3Result<S3Response<PutBucketAclOutput>> {
        let private = req
            .input
            .acl
            .as_ref()
            .is_some_and(|acl| acl.as_str() == BucketCannedACL::PRIVATE);
        if !private {
            return Err(not_kept("bucket ACLs other than private"));
        }
        Ok(S3Response::new(PutBucketAclOutput::default()))
    }

    async fn get_bucket_policy(
        &self,
        _req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        Err(s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist."))
    }

    async fn put_bucket_policy(
        &self,
        _req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        Err(not_kept("bucket policies"))
    }

    async fn delete_bucket_policy(
        &self,
        _req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        Ok(S3Response::new(DeleteBucketPolicyOutput::default()))
    }

    async fn get_bucket_cors(&self, _req: S3Request<GetBucketCorsInput>) -> S3Result<S3Response<GetBucketCorsOutput>> {
        Err(s3_error!(
            NoSuchCORSConfiguration,
            "The CORS configuration does not exist."
        ))
    }

    async fn put_bucket_cors(&self, _req: S3Request<PutBucketCorsInput>) -> S3Result<S3Response<PutBucketCorsOutput>> {
        Err(not_kept("CORS configurations"))
    }

    async fn delete_bucket_cors(
        &self,
        _req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        Ok(S3Response::new(DeleteBucketCorsOutput::default()))
    }

    async fn get_bucket_lifecycle_configuration(
        &self,
        _req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        Err(s3_error!(
            NoSuchLifecycleConfiguration,
            "The lifecycle configuration does not exist."
        ))
    }

    async fn put_bucket_lifecycle_configuration(
        &self,
        _req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        Err(not_kept("lifecycle configurations"))
    }

    async fn delete_bucket_lifecycle(
        &self,
        _req: S3Request<DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        Ok(S3Response::new(DeleteBucketLifecycleOutput::default()))
    }

    async fn get_bucket_encryption(
        &self,
        _req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        Err(s3_error!(
            ServerSideEncryptionConfigurationNotFoundError,
            "The server side encryption configuration was not found."
        ))
    }

    async fn put_bucket_encryption(
        &self,
        _req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        Err(not_kept("encryption configurations"))
    }

    async fn delete_bucket_encryption(
        &self,
        _req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        Ok(S3Response::new(DeleteBucketEncryptionOutput::default()))
    }

    async fn get_object_lock_configuration(
        &self,
        _req: S3Request<GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<GetObjectLockConfigurationOutput>> {
        Err(s3_error!(
            ObjectLockConfigurationNotFoundError,
            "Object Lock configuration does not exist for this bucket."
        ))
    }

    async fn put_object_lock_configuration(
        &self,
        _req: S3Request<PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<PutObjectLockConfigurationOutput>> {
        Err(not_kept("Object Lock configurations"))
    }

    async fn get_bucket_website(
        &self,
        _req: S3Request<GetBucketWebsiteInput>,
    ) -> S3Result<S3Response<GetBucketWebsiteOutput>> {
        Err(s3_error!(
            NoSuchWebsiteConfiguration,
            "The specified bucket does not have a website configuration."
        ))
    }

    async fn put_bucket_website(
        &self,
        _req: S3Request<PutBucketWebsiteInput>,
    ) -> S3Result<S3Response<PutBucketWebsiteOutput>> {
        Err(not_kept("website configurations"))
    }

    async fn delete_bucket_website(
        &self,
        _req: S3Request<DeleteBucketWebsiteInput>,
    ) -> S3Result<S3Response<DeleteBucketWebsiteOutput>> {
        Ok(S3Response::new(DeleteBucketWebsiteOutput::default()))
    }

    async fn get_bucket_notification_configuration(
        &self,
        _req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        Ok(S3Response::new(GetBucketNotificationConfigurationOutput::default()))
    }

    /// An empty configuration (no notifications, as now) is accepted; any other is not kept.
    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let asked = &req.input.notification_configuration;
        let empty = asked.event_bridge_configuration.is_none()
            && asked.lambda_function_configurations.as_ref().is_none_or(Vec::is_empty)
            && asked.queue_configurations.as_ref().is_none_or(Vec::is_empty)
            && asked.topic_configurations.as_ref().is_none_or(Vec::is_empty);
        if !empty {
            return Err(not_kept("event notifications"));
        }
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput::default()))
    }

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

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.ready(&req.input.bucket).await?;
        let input = req.input;
        let attributes = Attributes {
            user_metadata: input.metadata,
            content_encoding: input.content_encoding,
            content_type: input.content_type,
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            website_redirect_location: input.website_redirect_location,
        };
        let upload_id = self.uploads.create(&input.bucket, &input.key, attributes).await?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let etag = self
            .uploads
            .upload_part(
                &input.bucket,
                &input.key,
                &input.upload_id,
                input.part_number,
                input.body,
            )
            .await?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(InvalidArgument, "Copy from a bucket of this endpoint."));
        };
        let etag = self
            .uploads
            .upload_part_copy(
                &input.bucket,
                &input.key,
                &input.upload_id,
                input.part_number,
                (source_bucket, source_key),
                input.copy_source_range.as_deref(),
            )
            .await?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(etag)),
                last_modified: Some(Timestamp::from(std::time::SystemTime::now())),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let parts = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        let etag = self
            .uploads
            .complete(&input.bucket, &input.key, &input.upload_id, &parts)
            .await?;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.uploads.abort(&input.bucket, &input.key, &input.upload_id).await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        Ok(S3Response::new(self.uploads.list_parts(&req.input).await?))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        Ok(S3Response::new(self.uploads.list_uploads(&req.input).await))
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
