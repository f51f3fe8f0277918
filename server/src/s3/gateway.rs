//! The S3 face of Stook: what every backend gets after authorization, plus the answers
//! that depend on the key (ListBuckets shows only the key's own bucket).

use super::access::AuthorizedKey;
use super::forward::{forward_to, with_engine_operations, with_forwarded_operations, with_multipart_operations};
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

#[async_trait::async_trait]
impl<B: S3> S3 for Gateway<B> {
    with_forwarded_operations!(forward_to, backend, ready);
    with_engine_operations!(forward_to, backend, ready);
    with_multipart_operations!(forward_to, backend, ready);

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
