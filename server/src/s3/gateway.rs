//! The S3 face of Stook: what every backend gets after authorization, plus the answers
//! that depend on the key (ListBuckets shows only the key's own bucket).

use super::access::AuthorizedKey;
use super::forward::forward;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use std::time::{Duration, UNIX_EPOCH};

pub struct Gateway<B> {
    pub backend: B,
}

/// Clients send `delimiter=` meaning "no delimiter"; some backends would split on "".
fn no_empty(delimiter: &mut Option<Delimiter>) {
    if delimiter.as_deref() == Some("") {
        *delimiter = None;
    }
}

impl<B: S3> Gateway<B> {
    async fn ready(&self, _bucket: &str) -> S3Result<()> {
        Ok(())
    }
}

forward! {
    answered GATEWAY_OPERATIONS;
    impl[B: S3] S3 for Gateway<B>;
    pass to backend after ready {
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        put_object(PutObjectInput) -> PutObjectOutput;
        copy_object(CopyObjectInput) -> CopyObjectOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
        upload_part(UploadPartInput) -> UploadPartOutput;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
        list_parts(ListPartsInput) -> ListPartsOutput;
        list_multipart_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput;
        get_object_attributes(GetObjectAttributesInput) -> GetObjectAttributesOutput;
        get_object_tagging(GetObjectTaggingInput) -> GetObjectTaggingOutput;
        put_object_tagging(PutObjectTaggingInput) -> PutObjectTaggingOutput;
        delete_object_tagging(DeleteObjectTaggingInput) -> DeleteObjectTaggingOutput;
        get_object_acl(GetObjectAclInput) -> GetObjectAclOutput;
        put_object_acl(PutObjectAclInput) -> PutObjectAclOutput;
        get_object_retention(GetObjectRetentionInput) -> GetObjectRetentionOutput;
        put_object_retention(PutObjectRetentionInput) -> PutObjectRetentionOutput;
        get_object_legal_hold(GetObjectLegalHoldInput) -> GetObjectLegalHoldOutput;
        put_object_legal_hold(PutObjectLegalHoldInput) -> PutObjectLegalHoldOutput;
        restore_object(RestoreObjectInput) -> RestoreObjectOutput;
        delete_bucket(DeleteBucketInput) -> DeleteBucketOutput;
        get_bucket_versioning(GetBucketVersioningInput) -> GetBucketVersioningOutput;
        put_bucket_versioning(PutBucketVersioningInput) -> PutBucketVersioningOutput;
        get_bucket_tagging(GetBucketTaggingInput) -> GetBucketTaggingOutput;
        put_bucket_tagging(PutBucketTaggingInput) -> PutBucketTaggingOutput;
        delete_bucket_tagging(DeleteBucketTaggingInput) -> DeleteBucketTaggingOutput;
        get_bucket_acl(GetBucketAclInput) -> GetBucketAclOutput;
        put_bucket_acl(PutBucketAclInput) -> PutBucketAclOutput;
        get_bucket_policy(GetBucketPolicyInput) -> GetBucketPolicyOutput;
        put_bucket_policy(PutBucketPolicyInput) -> PutBucketPolicyOutput;
        delete_bucket_policy(DeleteBucketPolicyInput) -> DeleteBucketPolicyOutput;
        get_bucket_cors(GetBucketCorsInput) -> GetBucketCorsOutput;
        put_bucket_cors(PutBucketCorsInput) -> PutBucketCorsOutput;
        delete_bucket_cors(DeleteBucketCorsInput) -> DeleteBucketCorsOutput;
        get_bucket_lifecycle_configuration(GetBucketLifecycleConfigurationInput) -> GetBucketLifecycleConfigurationOutput;
        put_bucket_lifecycle_configuration(PutBucketLifecycleConfigurationInput) -> PutBucketLifecycleConfigurationOutput;
        delete_bucket_lifecycle(DeleteBucketLifecycleInput) -> DeleteBucketLifecycleOutput;
        get_bucket_encryption(GetBucketEncryptionInput) -> GetBucketEncryptionOutput;
        put_bucket_encryption(PutBucketEncryptionInput) -> PutBucketEncryptionOutput;
        delete_bucket_encryption(DeleteBucketEncryptionInput) -> DeleteBucketEncryptionOutput;
        get_object_lock_configuration(GetObjectLockConfigurationInput) -> GetObjectLockConfigurationOutput;
        put_object_lock_configuration(PutObjectLockConfigurationInput) -> PutObjectLockConfigurationOutput;
        get_bucket_website(GetBucketWebsiteInput) -> GetBucketWebsiteOutput;
        put_bucket_website(PutBucketWebsiteInput) -> PutBucketWebsiteOutput;
        delete_bucket_website(DeleteBucketWebsiteInput) -> DeleteBucketWebsiteOutput;
        get_bucket_notification_configuration(GetBucketNotificationConfigurationInput) -> GetBucketNotificationConfigurationOutput;
        put_bucket_notification_configuration(PutBucketNotificationConfigurationInput) -> PutBucketNotificationConfigurationOutput;
    }

    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let Some(AuthorizedKey(key)) = req.extensions.get::<AuthorizedKey>() else {
            return Err(s3_error!(AccessDenied, "Access denied: the request is not signed."));
        };
        let created = UNIX_EPOCH + Duration::from_secs(key.bucket_created_at.max(0) as u64);
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(vec![Bucket {
                name: Some(key.scope.bucket.clone()),
                creation_date: Some(Timestamp::from(created)),
                ..Default::default()
            }]),
            owner: Some(Owner {
                display_name: Some("stook".into()),
                id: Some("stook".into()),
            }),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.backend.get_object(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.backend.head_object(req).await
    }

    async fn list_objects(&self, mut req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        no_empty(&mut req.input.delimiter);
        self.backend.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        mut req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        no_empty(&mut req.input.delimiter);
        self.backend.list_objects_v2(req).await
    }

    async fn list_object_versions(
        &self,
        mut req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        no_empty(&mut req.input.delimiter);
        self.backend.list_object_versions(req).await
    }
}
