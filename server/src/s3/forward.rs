//! The S3 operations Stook passes through to a backend, named once for every layer that
//! forwards them. `async_trait` cannot see inside a macro, so the methods are written in
//! the form it would expand them to.

/// Calls `$callback!` with `$target` (the field holding the inner `S3`), `$prepare` (a
/// method run on the bucket first) and the operations every backend serves.
macro_rules! with_forwarded_operations {
    ($callback:ident, $target:ident, $prepare:ident) => {
        $callback! { $target, $prepare;
            head_bucket(HeadBucketInput) -> HeadBucketOutput;
            get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
            put_object(PutObjectInput) -> PutObjectOutput;
            copy_object(CopyObjectInput) -> CopyObjectOutput;
            delete_object(DeleteObjectInput) -> DeleteObjectOutput;
            delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        }
    };
}

/// Multipart uploads: the proxy passes them on; the local backend keeps them itself
/// (see `multipart`).
macro_rules! with_multipart_operations {
    ($callback:ident, $target:ident, $prepare:ident) => {
        $callback! { $target, $prepare;
            create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
            upload_part(UploadPartInput) -> UploadPartOutput;
            upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
            complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
            abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
            list_parts(ListPartsInput) -> ListPartsOutput;
            list_multipart_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput;
        }
    };
}

/// Operations only a full S3 engine has (tagging, ACLs, bucket configuration): the proxy
/// passes them on; the local backend answers `NotImplemented` for them.
macro_rules! with_engine_operations {
    ($callback:ident, $target:ident, $prepare:ident) => {
        $callback! { $target, $prepare;
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
    };
}

/// Writes `fn op(&self, req) { self.$prepare(bucket)?; self.$target.op(req) }` for each
/// operation, as `async_trait` would.
macro_rules! forward_to {
    ($target:ident, $prepare:ident; $( $method:ident($input:ident) -> $output:ident; )*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                req: ::s3s::S3Request<::s3s::dto::$input>,
            ) -> ::std::pin::Pin<Box<dyn ::std::future::Future<
                Output = ::s3s::S3Result<::s3s::S3Response<::s3s::dto::$output>>,
            > + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    self.$prepare(&req.input.bucket).await?;
                    self.$target.$method(req).await
                })
            }
        )*
    };
}

pub(crate) use {forward_to, with_engine_operations, with_forwarded_operations, with_multipart_operations};
