//! s3s's authorization hook: turns each request into a [`policy::Request`], asks the
//! evaluator, and records use and denials.

use super::keys::{KeyRecord, KeyStore};
use super::usage::Usage;
use app::functions::ClientAddr;
use app::policy::{self, Client, Decision, Denial, Operation};
use app::services::activity::Seen;
use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{CopySource, DeleteObjectsInput, PostObjectInput};
use s3s::path::S3Path;
use s3s::{S3Error, S3Request, S3Result, s3_error};
use std::sync::Arc;

/// S3 deletes at most this many keys in one DeleteObjects request.
pub const MAX_DELETE_OBJECTS: usize = 1000;

pub struct Access {
    pub keys: Arc<KeyStore>,
    pub usage: Arc<Usage>,
}

/// The authorized key, passed from the access check to the operation.
#[derive(Clone)]
pub struct AuthorizedKey(pub Arc<KeyRecord>);

impl Access {
    /// Records the denial (with the words the client gets) and makes the error.
    /// `counted`: the request was already counted as allowed (a key of a batch).
    async fn deny(
        &self,
        key: &KeyRecord,
        bucket: Option<&str>,
        reason: Denial,
        seen: &Seen<'_>,
        counted: bool,
    ) -> S3Error {
        if counted {
            self.usage.denied_in_request(seen, reason.to_string());
        } else {
            self.usage.denied(seen, reason.to_string());
        }
        // A bucket nobody has is missing, not forbidden: that is what clients expect.
        if let Some(bucket) = bucket
            && bucket != key.scope.bucket
            && let Ok(false) = self.keys.bucket_exists(bucket).await
        {
            return s3_error!(NoSuchBucket, "The bucket “{bucket}” does not exist.");
        }
        s3_error!(AccessDenied, "Access denied: {reason}.")
    }

    fn key_of<T>(req: &S3Request<T>) -> S3Result<Arc<KeyRecord>> {
        req.extensions
            .get::<AuthorizedKey>()
            .map(|k| k.0.clone())
            .ok_or_else(|| s3_error!(AccessDenied, "Access denied: the request is not signed."))
    }

    /// One key of an allowed batch request, checked as the operation it stands for.
    async fn check_batch_key<T>(
        &self,
        req: &S3Request<T>,
        key: &KeyRecord,
        batch: Operation,
        single: Operation,
        object_key: &str,
        version_id: bool,
    ) -> S3Result<()> {
        match policy::evaluate_batch_key(&key.scope, single, object_key, version_id) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => {
                let seen = Seen {
                    credential_id: key.credential_id,
                    at: app::services::now(),
                    operation: batch.name(),
                    action: single.rule().action.map(|a| a.name),
                    client_addr: req.extensions.get::<ClientAddr>().map(|c| c.0),
                    object_key: Some(object_key),
                };
                Err(self.deny(key, None, reason, &seen, true).await)
            }
        }
    }
}

/// The listing prefix and whether a version is named, read in one pass over the query.
fn prefix_and_version(query: Option<&str>) -> (Option<String>, bool) {
    let (mut prefix, mut version_id) = (None, false);
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*name {
            "prefix" => prefix = Some(value.into_owned()),
            "versionId" => version_id = true,
            _ => {}
        }
    }
    (prefix, version_id)
}

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let client_addr = cx.extensions_mut().get::<ClientAddr>().map(|c| c.0);
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(
                AccessDenied,
                "Access denied: sign requests with an access key (AWS Signature Version 4)."
            ));
        };
        // s3s runs this check only once the signature matched: from here on, the client
        // has shown it holds the secret, and may learn why its key is refused.
        super::keys::signature_verified();
        let key = match self.keys.authenticated(&credentials.access_key).await {
            Ok(key) => key,
            Err(refused) => {
                // The owner sees why their key was refused in its activity.
                if let (Ok(Some(record)), Some(reason)) =
                    (self.keys.get(&credentials.access_key).await, refused.message())
                {
                    let operation = Operation::from_name(cx.s3_op().name());
                    let seen = Seen {
                        credential_id: record.credential_id,
                        at: app::services::now(),
                        operation: operation.map_or("unsupported", |o| o.name()),
                        // Filed under the action it would have needed, as allowed requests are.
                        action: operation.and_then(|o| o.rule().action).map(|a| a.name),
                        client_addr,
                        object_key: None,
                    };
                    self.usage.denied(&seen, reason.to_string());
                }
                return Err(refused);
            }
        };
        let (prefix, version_id) = prefix_and_version(cx.uri().query());
        let copy_source = match cx.headers().get("x-amz-copy-source") {
            Some(raw) => {
                let raw = raw
                    .to_str()
                    .map_err(|_| s3_error!(InvalidArgument, "The copy source is not valid text."))?;
                match CopySource::parse(raw) {
                    Ok(CopySource::Bucket {
                        bucket,
                        key,
                        version_id,
                    }) => Some((bucket, key, version_id.is_some())),
                    Ok(_) => {
                        return Err(s3_error!(InvalidArgument, "Copy from a bucket of this endpoint."));
                    }
                    Err(_) => return Err(s3_error!(InvalidArgument, "The copy source is not bucket/key.")),
                }
            }
            None => None,
        };
        let (bucket, object_key) = match cx.s3_path() {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(&**bucket), None),
            S3Path::Object { bucket, key } => (Some(&**bucket), Some(&**key)),
        };
        let name = cx.s3_op().name();
        // Clients create the bucket they are given before writing to it (rclone, `aws s3
        // mb`); S3 answers its owner that it exists, which they take as success.
        if name == "CreateBucket" && bucket == Some(key.scope.bucket.as_str()) {
            return Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "The bucket “{}” exists and this key's owner owns it.",
                key.scope.bucket
            ));
        }
        let request = Operation::from_name(name).map(|operation| policy::Request {
            operation,
            bucket,
            key: object_key,
            prefix: prefix.as_deref(),
            version_id,
            copy_source: copy_source
                .as_ref()
                .map(|(bucket, key, version_id)| policy::CopySource {
                    bucket,
                    key,
                    version_id: *version_id,
                }),
            client: client_addr.map_or(Client::Unknown, Client::Address),
        });
        let decision = match &request {
            Some(request) => policy::evaluate(&key.scope, request),
            None => Decision::Deny(Denial::NotServed(name.to_string())),
        };
        // A listing without a prefix names the bucket's top level: recorded as such, so an
        // edit's preview can tell it from requests that name nothing.
        let listing = request
            .as_ref()
            .is_some_and(|r| r.operation.rule().target == policy::Target::Listing);
        let seen = Seen {
            credential_id: key.credential_id,
            at: app::services::now(),
            // Counted under the table's name; an operation outside it is named in the reason.
            operation: request.as_ref().map_or("unsupported", |r| r.operation.name()),
            action: request.as_ref().and_then(|r| r.action()).map(|a| a.name),
            client_addr,
            object_key: object_key.or(prefix.as_deref()).or(listing.then_some("")),
        };
        match decision {
            Decision::Allow => {
                self.usage.allowed(&seen);
                cx.extensions_mut().insert(AuthorizedKey(key));
                Ok(())
            }
            Decision::Deny(reason) => Err(self.deny(&key, bucket, reason, &seen, false).await),
        }
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let key = Self::key_of(req)?;
        let asked = req.input.delete.objects.len();
        if asked > MAX_DELETE_OBJECTS {
            return Err(s3_error!(
                MalformedXML,
                "DeleteObjects takes at most {MAX_DELETE_OBJECTS} keys, and this request names {asked}: send them in batches."
            ));
        }
        for object in &req.input.delete.objects {
            self.check_batch_key(
                req,
                &key,
                Operation::DeleteObjects,
                Operation::DeleteObject,
                &object.key,
                object.version_id.is_some(),
            )
            .await?;
        }
        Ok(())
    }

    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        let key = Self::key_of(req)?;
        self.check_batch_key(
            req,
            &key,
            Operation::PostObject,
            Operation::PutObject,
            &req.input.key,
            false,
        )
        .await
    }
}
