//! The S3 face of Stook: what every backend gets after authorization, plus the answers
//! that depend on the key (ListBuckets shows only the key's own bucket; a listing above a
//! folder key's folder shows only the way down to it).

use super::access::AuthorizedKey;
use super::forward::forward;
use app::policy::{self, ListingView};
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
        let input = &req.input;
        match plan(&req, input.prefix.as_deref(), input.delimiter.as_deref())? {
            Plan::AsAsked => self.backend.list_objects(req).await,
            Plan::NextStep(step) => {
                let url = Url::of(&input.encoding_type);
                let shown = shows_step(&step, input.marker.as_deref(), input.max_keys);
                Ok(S3Response::new(ListObjectsOutput {
                    name: Some(input.bucket.clone()),
                    prefix: Some(url.show(input.prefix.as_deref().unwrap_or(""))),
                    delimiter: url.show_opt(&input.delimiter),
                    marker: url.show_opt(&input.marker),
                    max_keys: Some(input.max_keys.unwrap_or(DEFAULT_MAX_KEYS)),
                    is_truncated: Some(false),
                    common_prefixes: url.step(&step, shown),
                    encoding_type: input.encoding_type.clone(),
                    ..Default::default()
                }))
            }
            Plan::Folder { path, asked } => {
                let url = Url::of(&req.input.encoding_type);
                narrow(&mut req.input.prefix, &mut req.input.encoding_type, &path);
                let marker = req.input.marker.clone();
                if before(&marker, &path) {
                    req.input.marker = None;
                }
                let mut response = self.backend.list_objects(req).await?;
                response.output.marker = marker;
                answer_folder(&mut response.output, &path, asked, url);
                Ok(response)
            }
        }
    }

    async fn list_objects_v2(
        &self,
        mut req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        no_empty(&mut req.input.delimiter);
        let input = &req.input;
        match plan(&req, input.prefix.as_deref(), input.delimiter.as_deref())? {
            Plan::AsAsked => self.backend.list_objects_v2(req).await,
            Plan::NextStep(step) => {
                let url = Url::of(&input.encoding_type);
                // Continuation tokens come from truncated answers, and this one never is:
                // a token means the listing is past its one name.
                let shown = input.continuation_token.is_none()
                    && shows_step(&step, input.start_after.as_deref(), input.max_keys);
                Ok(S3Response::new(ListObjectsV2Output {
                    name: Some(input.bucket.clone()),
                    prefix: Some(url.show(input.prefix.as_deref().unwrap_or(""))),
                    delimiter: url.show_opt(&input.delimiter),
                    start_after: url.show_opt(&input.start_after),
                    continuation_token: input.continuation_token.clone(),
                    max_keys: Some(input.max_keys.unwrap_or(DEFAULT_MAX_KEYS)),
                    key_count: Some(i32::from(shown)),
                    is_truncated: Some(false),
                    common_prefixes: url.step(&step, shown),
                    encoding_type: input.encoding_type.clone(),
                    ..Default::default()
                }))
            }
            Plan::Folder { path, asked } => {
                let url = Url::of(&req.input.encoding_type);
                narrow(&mut req.input.prefix, &mut req.input.encoding_type, &path);
                let start_after = req.input.start_after.clone();
                if before(&start_after, &path) {
                    req.input.start_after = None;
                }
                let mut response = self.backend.list_objects_v2(req).await?;
                response.output.start_after = start_after;
                answer_folder(&mut response.output, &path, asked, url);
                Ok(response)
            }
        }
    }

    async fn list_object_versions(
        &self,
        mut req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        no_empty(&mut req.input.delimiter);
        let input = &req.input;
        match plan(&req, input.prefix.as_deref(), input.delimiter.as_deref())? {
            Plan::AsAsked => self.backend.list_object_versions(req).await,
            Plan::NextStep(step) => {
                let url = Url::of(&input.encoding_type);
                let shown = shows_step(&step, input.key_marker.as_deref(), input.max_keys);
                Ok(S3Response::new(ListObjectVersionsOutput {
                    name: Some(input.bucket.clone()),
                    prefix: Some(url.show(input.prefix.as_deref().unwrap_or(""))),
                    delimiter: url.show_opt(&input.delimiter),
                    key_marker: url.show_opt(&input.key_marker),
                    version_id_marker: input.version_id_marker.clone(),
                    max_keys: Some(input.max_keys.unwrap_or(DEFAULT_MAX_KEYS)),
                    is_truncated: Some(false),
                    common_prefixes: url.step(&step, shown),
                    encoding_type: input.encoding_type.clone(),
                    ..Default::default()
                }))
            }
            Plan::Folder { path, asked } => {
                let url = Url::of(&req.input.encoding_type);
                narrow(&mut req.input.prefix, &mut req.input.encoding_type, &path);
                let (key_marker, version_id_marker) =
                    (req.input.key_marker.clone(), req.input.version_id_marker.clone());
                if before(&key_marker, &path) {
                    (req.input.key_marker, req.input.version_id_marker) = (None, None);
                }
                let mut response = self.backend.list_object_versions(req).await?;
                (response.output.key_marker, response.output.version_id_marker) = (key_marker, version_id_marker);
                answer_folder(&mut response.output, &path, asked, url);
                Ok(response)
            }
        }
    }

    async fn list_multipart_uploads(
        &self,
        mut req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        no_empty(&mut req.input.delimiter);
        let input = &req.input;
        match plan(&req, input.prefix.as_deref(), input.delimiter.as_deref())? {
            Plan::AsAsked => self.backend.list_multipart_uploads(req).await,
            Plan::NextStep(step) => {
                let url = Url::of(&input.encoding_type);
                let shown = shows_step(&step, input.key_marker.as_deref(), input.max_uploads);
                Ok(S3Response::new(ListMultipartUploadsOutput {
                    bucket: Some(input.bucket.clone()),
                    prefix: Some(url.show(input.prefix.as_deref().unwrap_or(""))),
                    delimiter: url.show_opt(&input.delimiter),
                    key_marker: url.show_opt(&input.key_marker),
                    upload_id_marker: input.upload_id_marker.clone(),
                    max_uploads: Some(input.max_uploads.unwrap_or(DEFAULT_MAX_KEYS)),
                    is_truncated: Some(false),
                    common_prefixes: url.step(&step, shown),
                    encoding_type: input.encoding_type.clone(),
                    ..Default::default()
                }))
            }
            Plan::Folder { path, asked } => {
                let url = Url::of(&req.input.encoding_type);
                narrow(&mut req.input.prefix, &mut req.input.encoding_type, &path);
                let (key_marker, upload_id_marker) = (req.input.key_marker.clone(), req.input.upload_id_marker.clone());
                if before(&key_marker, &path) {
                    (req.input.key_marker, req.input.upload_id_marker) = (None, None);
                }
                let mut response = self.backend.list_multipart_uploads(req).await?;
                (response.output.key_marker, response.output.upload_id_marker) = (key_marker, upload_id_marker);
                answer_folder(&mut response.output, &path, asked, url);
                Ok(response)
            }
        }
    }
}

/// S3's page size when a listing names none.
const DEFAULT_MAX_KEYS: i32 = 1000;

/// How the gateway answers a listing, by the key's folder ([`policy::listing_view`]).
enum Plan {
    /// The backend answers as asked.
    AsAsked,
    /// The answer is this one common prefix, the next step towards the key's folder.
    NextStep(String),
    /// The backend lists the folder (`path`), and the answer names the prefix asked.
    Folder { path: String, asked: String },
}

fn plan<T>(req: &S3Request<T>, prefix: Option<&str>, delimiter: Option<&str>) -> S3Result<Plan> {
    let Some(AuthorizedKey(key)) = req.extensions.get::<AuthorizedKey>() else {
        return Err(s3_error!(AccessDenied, "Access denied: the request is not signed."));
    };
    let path = key.scope.path.as_deref();
    let asked = prefix.unwrap_or("");
    Ok(match policy::listing_view(path, asked, delimiter) {
        ListingView::AsAsked => Plan::AsAsked,
        ListingView::NextStep(step) => Plan::NextStep(step),
        ListingView::Folder => Plan::Folder {
            path: path.unwrap_or_default().to_string(),
            asked: asked.to_string(),
        },
        ListingView::Straddling => {
            return Err(s3_error!(
                InvalidArgument,
                "This key is limited to “{}”: above that folder, list with a delimiter that cannot run across its end, such as “/”.",
                path.unwrap_or_default()
            ));
        }
        // The evaluator refuses these before the gateway sees them.
        ListingView::Outside => {
            return Err(s3_error!(
                AccessDenied,
                "Access denied: {}.",
                policy::Denial::ListingOutsidePath {
                    path: path.unwrap_or_default().to_string()
                }
            ));
        }
    })
}

/// Whether a listing synthesized as `step` shows it: not past it (a marker, start-after
/// or key-marker at or after the name), and not asked for no names at all.
fn shows_step(step: &str, position: Option<&str>, max: Option<i32>) -> bool {
    max.is_none_or(|m| m > 0) && position.is_none_or(|p| p < step)
}

/// The request the backend gets for a listing above the folder: the folder itself, so no
/// marker, start-after or continuation token, however crafted, can reach beside it; and
/// names unencoded, so the gateway can check them and encode them one way for every backend.
fn narrow(prefix: &mut Option<String>, encoding_type: &mut Option<EncodingType>, path: &str) {
    *prefix = Some(path.to_string());
    *encoding_type = None;
}

/// Whether a marker (start-after, key-marker) lies before every name in the folder, and so
/// asks for all of it: the gateway then leaves it out (and names it again in the answer),
/// as some stores (Garage 2.5) seek to the marker and stop at the first name there that is
/// outside the prefix (`photos/2025 copy/` sorts between `photos/2024/` and `photos/2025/`).
fn before(marker: &Option<String>, path: &str) -> bool {
    marker.as_deref().is_some_and(|m| m < path)
}

/// `encoding-type=url`, when the client asked for it.
#[derive(Clone, Copy)]
struct Url(bool);

impl Url {
    fn of(encoding_type: &Option<EncodingType>) -> Url {
        Url(encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str().eq_ignore_ascii_case(EncodingType::URL)))
    }

    fn show(self, name: &str) -> String {
        if self.0 { url_encode(name) } else { name.to_string() }
    }

    fn show_opt(self, name: &Option<String>) -> Option<String> {
        name.as_deref().map(|n| self.show(n))
    }

    /// A synthesized listing's common prefixes. The step is shown even when nothing is
    /// stored under it yet, so that a client can walk down into an empty folder.
    fn step(self, step: &str, shown: bool) -> Option<Vec<CommonPrefix>> {
        shown.then(|| {
            vec![CommonPrefix {
                prefix: Some(self.show(step)),
            }]
        })
    }
}

/// S3's `encoding-type=url` form of a name: every byte but the unreserved characters and
/// `/` as `%XX`. Decoders of both kinds read it back (`+` is `%2B`, a space `%20`).
pub fn url_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The names of a listing's answer the gateway checks and rewrites.
trait Listed {
    /// Keeps the entries (objects, versions, uploads, common prefixes) whose name passes
    /// `keep`; returns how many were dropped.
    fn retain_names(&mut self, keep: &dyn Fn(&str) -> bool) -> usize;
    fn set_prefix(&mut self, prefix: String);
    fn set_encoding_type(&mut self, encoding_type: Option<EncodingType>);
    /// Every name that `encoding-type=url` encodes: keys, common prefixes, the prefix,
    /// delimiter and markers.
    fn encoded_names(&mut self) -> Vec<&mut String>;
}

/// Keeps the entries of `list` whose name passes `keep`; how many were dropped.
fn retain<T>(list: &mut Option<Vec<T>>, name: impl Fn(&T) -> Option<&str>, keep: &dyn Fn(&str) -> bool) -> usize {
    let Some(list) = list else { return 0 };
    let before = list.len();
    list.retain(|entry| name(entry).is_some_and(keep));
    before - list.len()
}

fn names<'a, T>(
    list: &'a mut Option<Vec<T>>,
    name: impl Fn(&'a mut T) -> &'a mut Option<String>,
) -> Vec<&'a mut String> {
    list.iter_mut()
        .flatten()
        .filter_map(|entry| name(entry).as_mut())
        .collect()
}

/// A backend's answer for the folder, as the answer to the prefix asked above it: names
/// outside the folder (which a backend honouring the prefix never returns) are dropped,
/// the prefix asked is named, and names are encoded as the client asked.
fn answer_folder(answer: &mut impl Listed, path: &str, asked: String, url: Url) {
    let dropped = answer.retain_names(&|name| name.starts_with(path));
    if dropped > 0 {
        tracing::error!(
            dropped,
            "the S3 backend listed names outside the prefix asked; they were left out"
        );
    }
    answer.set_prefix(asked);
    if url.0 {
        for name in answer.encoded_names() {
            *name = url_encode(name);
        }
        answer.set_encoding_type(Some(EncodingType::from_static(EncodingType::URL)));
    }
}

impl Listed for ListObjectsOutput {
    fn retain_names(&mut self, keep: &dyn Fn(&str) -> bool) -> usize {
        retain(&mut self.contents, |o| o.key.as_deref(), keep)
            + retain(&mut self.common_prefixes, |c| c.prefix.as_deref(), keep)
    }
    fn set_prefix(&mut self, prefix: String) {
        self.prefix = Some(prefix);
    }
    fn set_encoding_type(&mut self, encoding_type: Option<EncodingType>) {
        self.encoding_type = encoding_type;
    }
    fn encoded_names(&mut self) -> Vec<&mut String> {
        let mut out = names(&mut self.contents, |o| &mut o.key);
        out.extend(names(&mut self.common_prefixes, |c| &mut c.prefix));
        out.extend(
            [
                &mut self.prefix,
                &mut self.delimiter,
                &mut self.marker,
                &mut self.next_marker,
            ]
            .into_iter()
            .flatten(),
        );
        out
    }
}

impl Listed for ListObjectsV2Output {
    fn retain_names(&mut self, keep: &dyn Fn(&str) -> bool) -> usize {
        let dropped = retain(&mut self.contents, |o| o.key.as_deref(), keep)
            + retain(&mut self.common_prefixes, |c| c.prefix.as_deref(), keep);
        let listed = self.contents.as_ref().map_or(0, Vec::len) + self.common_prefixes.as_ref().map_or(0, Vec::len);
        self.key_count = Some(i32::try_from(listed).unwrap_or(i32::MAX));
        dropped
    }
    fn set_prefix(&mut self, prefix: String) {
        self.prefix = Some(prefix);
    }
    fn set_encoding_type(&mut self, encoding_type: Option<EncodingType>) {
        self.encoding_type = encoding_type;
    }
    fn encoded_names(&mut self) -> Vec<&mut String> {
        let mut out = names(&mut self.contents, |o| &mut o.key);
        out.extend(names(&mut self.common_prefixes, |c| &mut c.prefix));
        out.extend(
            [&mut self.prefix, &mut self.delimiter, &mut self.start_after]
                .into_iter()
                .flatten(),
        );
        out
    }
}

impl Listed for ListObjectVersionsOutput {
    fn retain_names(&mut self, keep: &dyn Fn(&str) -> bool) -> usize {
        retain(&mut self.versions, |v| v.key.as_deref(), keep)
            + retain(&mut self.delete_markers, |d| d.key.as_deref(), keep)
            + retain(&mut self.common_prefixes, |c| c.prefix.as_deref(), keep)
    }
    fn set_prefix(&mut self, prefix: String) {
        self.prefix = Some(prefix);
    }
    fn set_encoding_type(&mut self, encoding_type: Option<EncodingType>) {
        self.encoding_type = encoding_type;
    }
    fn encoded_names(&mut self) -> Vec<&mut String> {
        let mut out = names(&mut self.versions, |v| &mut v.key);
        out.extend(names(&mut self.delete_markers, |d| &mut d.key));
        out.extend(names(&mut self.common_prefixes, |c| &mut c.prefix));
        out.extend(
            [
                &mut self.prefix,
                &mut self.delimiter,
                &mut self.key_marker,
                &mut self.next_key_marker,
            ]
            .into_iter()
            .flatten(),
        );
        out
    }
}

impl Listed for ListMultipartUploadsOutput {
    fn retain_names(&mut self, keep: &dyn Fn(&str) -> bool) -> usize {
        retain(&mut self.uploads, |u| u.key.as_deref(), keep)
            + retain(&mut self.common_prefixes, |c| c.prefix.as_deref(), keep)
    }
    fn set_prefix(&mut self, prefix: String) {
        self.prefix = Some(prefix);
    }
    fn set_encoding_type(&mut self, encoding_type: Option<EncodingType>) {
        self.encoding_type = encoding_type;
    }
    fn encoded_names(&mut self) -> Vec<&mut String> {
        let mut out = names(&mut self.uploads, |u| &mut u.key);
        out.extend(names(&mut self.common_prefixes, |c| &mut c.prefix));
        out.extend(
            [
                &mut self.prefix,
                &mut self.delimiter,
                &mut self.key_marker,
                &mut self.next_key_marker,
            ]
            .into_iter()
            .flatten(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_unreserved_characters_and_slashes() {
        assert_eq!(url_encode("photos/2025/a-b_c.d~e"), "photos/2025/a-b_c.d~e");
        assert_eq!(url_encode("a b+c%d&é\u{1}"), "a%20b%2Bc%25d%26%C3%A9%01");
        assert_eq!(url_encode(""), "");
    }

    #[test]
    fn a_synthesized_step_respects_position_and_page_size() {
        assert!(shows_step("photos/", None, None));
        assert!(shows_step("photos/", Some("docs/"), Some(1)));
        assert!(!shows_step("photos/", Some("photos/"), None));
        assert!(!shows_step("photos/", Some("photos/2"), None));
        assert!(!shows_step("photos/", Some("q"), None));
        assert!(!shows_step("photos/", None, Some(0)));
        assert!(!shows_step("photos/", None, Some(-1)));
    }
}
