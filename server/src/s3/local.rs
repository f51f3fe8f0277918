//! The local backend: objects under the data directory, served by s3s-fs, with what
//! s3s-fs lacks and real clients expect added here (conditional reads, version listings,
//! multipart uploads kept by [`super::multipart`], bucket directories that follow the
//! buckets of the panel).

use super::forward::forward;
use super::store::listing::Entry;
use super::store::{self, Attributes, Blob, Checksums, Expect, Object, Store, Upload, UploadError, WriteError};
use super::tags;
use futures_util::StreamExt as _;
use md5::{Digest as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};
use time::OffsetDateTime;

pub struct Local {
    store: Store,
}

/// S3's smallest part, except the last.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;
/// S3's longest key, in bytes.
const MAX_KEY_BYTES: usize = 1024;
/// The most keys, parts or uploads one listing page holds, and one DeleteObjects names.
const MAX_PAGE: i32 = 1000;
/// A continuation token is a position in the listing: a key (at most 1,024 bytes) or a
/// common prefix, in unpadded base64.
const MAX_TOKEN_CHARS: usize = 4 * (MAX_KEY_BYTES + 1).div_ceil(3) + 4;

fn internal(what: &'static str) -> impl Fn(std::io::Error) -> S3Error {
    move |e| {
        tracing::error!(error = %e, "local backend: could not {what}");
        s3_error!(InternalError, "Stook could not {what}.")
    }
}

fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(s3_error!(
            KeyTooLongError,
            "Your key is too long: keys have at most {MAX_KEY_BYTES} bytes."
        ));
    }
    Ok(())
}

/// Multipart uploads in progress per bucket: each costs a record every upload listing and
/// every new upload reads, and a key may start them faster than the age sweep ends them.
const MAX_UPLOADS_PER_BUCKET: usize = 1000;

/// S3's bound on user metadata: the bytes of every name and value together. Every listing
/// and read decodes an object's record, so the record stays small.
const MAX_USER_METADATA_BYTES: usize = 2048;

fn check_metadata(metadata: Option<&Metadata>) -> S3Result<()> {
    let bytes: usize = metadata.map_or(0, |m| m.iter().map(|(name, value)| name.len() + value.len()).sum());
    if bytes > MAX_USER_METADATA_BYTES {
        return Err(s3_error!(
            MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size: {bytes} bytes, at most {MAX_USER_METADATA_BYTES}."
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

fn etag_value(etag: &ETag) -> &str {
    match etag {
        ETag::Strong(v) | ETag::Weak(v) => v.trim_matches('"'),
    }
}

fn format_expires(expires: Option<Timestamp>) -> Option<String> {
    let mut buf = Vec::new();
    expires?.format(TimestampFormat::DateTime, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

fn parse_expires(expires: Option<&String>) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::DateTime, expires?).ok()
}

/// What `If-None-Match: *` and `If-Match` on a write ask of the object it replaces.
fn expect_of(if_none_match: Option<&ETagCondition>, if_match: Option<&ETagCondition>) -> S3Result<Expect> {
    Ok(match (if_none_match, if_match) {
        (Some(ETagCondition::Any), _) => Expect::Absent,
        (Some(ETagCondition::ETag(_)), _) => {
            return Err(s3_error!(NotImplemented, "If-None-Match on a write only takes *."));
        }
        (None, Some(ETagCondition::ETag(etag))) => Expect::ETag(etag_value(etag).to_string()),
        (None, Some(ETagCondition::Any)) => Expect::Present,
        (None, None) => Expect::Anything,
    })
}

/// An `If-Match` / `If-None-Match` header s3s leaves unparsed.
fn header_condition(headers: &axum::http::HeaderMap, name: &str) -> S3Result<Option<ETagCondition>> {
    headers
        .get(name)
        .map(|value| {
            ETagCondition::parse_http_header(value.as_bytes())
                .map_err(|_| s3_error!(InvalidArgument, "The {name} header is not an ETag or *."))
        })
        .transpose()
}

fn write_failed(e: WriteError) -> S3Error {
    match e {
        WriteError::Precondition => s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold."
        ),
        WriteError::Io(e) => internal("store the object")(e),
    }
}

/// The checksums a request gave (headers, or trailers of a streamed body).
fn given_checksums(headers: Checksum, trailers: Option<&axum::http::HeaderMap>) -> Checksum {
    let mut given = headers;
    if let Some(trailers) = trailers {
        let read = |name: &str| trailers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        given.checksum_crc32 = given.checksum_crc32.or_else(|| read("x-amz-checksum-crc32"));
        given.checksum_crc32c = given.checksum_crc32c.or_else(|| read("x-amz-checksum-crc32c"));
        given.checksum_sha1 = given.checksum_sha1.or_else(|| read("x-amz-checksum-sha1"));
        given.checksum_sha256 = given.checksum_sha256.or_else(|| read("x-amz-checksum-sha256"));
        given.checksum_crc64nvme = given.checksum_crc64nvme.or_else(|| read("x-amz-checksum-crc64nvme"));
    }
    given
}

/// The hashers for the checksums a request names (by value or by algorithm).
fn hashers_for(given: &Checksum, algorithm: Option<&ChecksumAlgorithm>) -> S3Result<s3s::checksum::ChecksumHasher> {
    let mut hasher = s3s::checksum::ChecksumHasher::default();
    let wants = |name: &str| algorithm.is_some_and(|a| a.as_str().eq_ignore_ascii_case(name));
    if given.checksum_crc32.is_some() || wants(ChecksumAlgorithm::CRC32) {
        hasher.crc32 = Some(Default::default());
    }
    if given.checksum_crc32c.is_some() || wants(ChecksumAlgorithm::CRC32C) {
        hasher.crc32c = Some(Default::default());
    }
    if given.checksum_sha1.is_some() || wants(ChecksumAlgorithm::SHA1) {
        hasher.sha1 = Some(Default::default());
    }
    if given.checksum_sha256.is_some() || wants(ChecksumAlgorithm::SHA256) {
        hasher.sha256 = Some(Default::default());
    }
    if given.checksum_crc64nvme.is_some() || wants(ChecksumAlgorithm::CRC64NVME) {
        hasher.crc64nvme = Some(Default::default());
    }
    if let Some(algorithm) = algorithm
        && ![
            ChecksumAlgorithm::CRC32,
            ChecksumAlgorithm::CRC32C,
            ChecksumAlgorithm::SHA1,
            ChecksumAlgorithm::SHA256,
            ChecksumAlgorithm::CRC64NVME,
        ]
        .iter()
        .any(|known| algorithm.as_str().eq_ignore_ascii_case(known))
    {
        return Err(s3_error!(InvalidRequest, "The checksum algorithm is not one S3 knows."));
    }
    Ok(hasher)
}

/// Every checksum the request gave must be the one computed.
fn verify_checksums(given: &Checksum, computed: &Checksum) -> S3Result<()> {
    let pairs = [
        ("CRC32", &given.checksum_crc32, &computed.checksum_crc32),
        ("CRC32C", &given.checksum_crc32c, &computed.checksum_crc32c),
        ("SHA1", &given.checksum_sha1, &computed.checksum_sha1),
        ("SHA256", &given.checksum_sha256, &computed.checksum_sha256),
        ("CRC64NVME", &given.checksum_crc64nvme, &computed.checksum_crc64nvme),
    ];
    for (name, given, computed) in pairs {
        if let Some(given) = given
            && Some(given) != computed.as_ref()
        {
            return Err(s3_error!(
                BadDigest,
                "The {name} you specified did not match the calculated checksum."
            ));
        }
    }
    Ok(())
}

fn stored_checksums(sums: Checksum) -> Checksums {
    Checksums {
        crc32: sums.checksum_crc32,
        crc32c: sums.checksum_crc32c,
        sha1: sums.checksum_sha1,
        sha256: sums.checksum_sha256,
        crc64nvme: sums.checksum_crc64nvme,
    }
}

/// A received body: its blob (empty bodies have none), MD5 in hex, size, checksums.
struct Received {
    blob: Option<store::blobs::BlobWriter>,
    md5: String,
    size: u64,
    sums: Checksum,
}

impl Received {
    fn blobs(&self) -> Vec<Blob> {
        self.blob
            .as_ref()
            .map(|b| {
                vec![Blob {
                    id: b.id.clone(),
                    len: self.size,
                }]
            })
            .unwrap_or_default()
    }
}

fn check_content_md5(content_md5: Option<&str>, md5: &str) -> S3Result<()> {
    use base64::Engine as _;
    let Some(given) = content_md5 else { return Ok(()) };
    let given = base64::engine::general_purpose::STANDARD
        .decode(given.trim())
        .map_err(|_| s3_error!(InvalidDigest, "The Content-MD5 you specified is not valid."))?;
    if hex(&given) != md5 {
        return Err(s3_error!(
            BadDigest,
            "The Content-MD5 you specified did not match what we received."
        ));
    }
    Ok(())
}

/// A listing position from a continuation token.
fn position_of(token: &str) -> S3Result<Vec<u8>> {
    use base64::Engine as _;
    let bad = || s3_error!(InvalidArgument, "The continuation token provided is incorrect.");
    if token.len() > MAX_TOKEN_CHARS {
        return Err(bad());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())
}

fn token_of(position: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position)
}

/// A name as a listing answers it: URL-encoded when the client asked (`EncodingType=url`).
pub(crate) fn listed(name: &str, url: bool) -> String {
    if url {
        super::gateway::url_encode(name)
    } else {
        name.to_string()
    }
}

fn wants_url(encoding: Option<&EncodingType>) -> bool {
    encoding.is_some_and(|e| e.as_str().eq_ignore_ascii_case(EncodingType::URL))
}

fn page_size(max: Option<i32>) -> S3Result<usize> {
    match max {
        None => Ok(MAX_PAGE as usize),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max-keys cannot be negative.")),
        Some(n) => Ok(n.min(MAX_PAGE) as usize),
    }
}

fn owner() -> Owner {
    Owner {
        display_name: Some("stook".into()),
        id: Some("stook".into()),
    }
}

/// One listing page as S3 names its parts.
struct Listed {
    objects: Vec<(String, Object)>,
    prefixes: Vec<String>,
    /// Where the next page starts, when there is one.
    next: Option<Vec<u8>>,
}

/// One entry of a ListMultipartUploads page.
enum UploadEntry {
    Upload(String, Box<Upload>),
    /// Uploads rolled up by the delimiter.
    Prefix(String),
}

/// The page of `uploads` (sorted by key, then start) after the markers: uploads of
/// `key_marker` itself only after `upload_id_marker`, and keys under `prefix` rolled up
/// by `delimiter` (a rolled-up name at or before the marker was on an earlier page).
fn uploads_page(
    uploads: Vec<(String, Upload)>,
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: &str,
    upload_id_marker: Option<&str>,
    max: usize,
) -> (Vec<UploadEntry>, bool) {
    let mut past_id_marker = upload_id_marker.is_none()
        || !uploads
            .iter()
            .any(|(id, u)| u.key == key_marker && Some(id.as_str()) == upload_id_marker);
    let mut page: Vec<UploadEntry> = Vec::new();
    for (id, upload) in uploads {
        if !upload.key.starts_with(prefix) {
            continue;
        }
        if let Some(d) = delimiter
            && let Some(at) = upload.key[prefix.len()..].find(d)
        {
            let rolled = &upload.key[..prefix.len() + at + d.len()];
            let earlier = rolled <= key_marker;
            let repeated = matches!(page.last(), Some(UploadEntry::Prefix(p)) if p == rolled);
            if !earlier && !repeated {
                page.push(UploadEntry::Prefix(rolled.to_string()));
            }
            continue;
        }
        let after = match upload.key.as_str().cmp(key_marker) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                let this_one = Some(id.as_str()) == upload_id_marker;
                let after = past_id_marker && !this_one;
                past_id_marker |= this_one;
                after && upload_id_marker.is_some()
            }
        };
        if after {
            page.push(UploadEntry::Upload(id, Box::new(upload)));
        }
    }
    let truncated = page.len() > max;
    page.truncate(max);
    (page, truncated)
}

impl Local {
    pub fn new(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Local {
            store: Store::open(&root)?,
        })
    }

    /// Removes multipart uploads left unfinished for longer than `max_age`, now and every
    /// hour: their parts would otherwise stay on disk for good.
    pub fn sweep_abandoned_uploads(&self, max_age: Duration) {
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                match store.sweep_uploads(max_age).await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "removed abandoned multipart uploads"),
                    Err(e) => tracing::warn!(error = %e, "could not remove abandoned multipart uploads"),
                }
            }
        });
    }

    async fn ready(&self, _bucket: &str) -> S3Result<()> {
        Ok(())
    }

    /// The object, or `NoSuchKey`: settings of a missing object are missing too.
    async fn must_exist(&self, bucket: &str, key: &str) -> S3Result<Object> {
        self.store
            .get(bucket, key)
            .await
            .map_err(internal("read the object"))?
            .ok_or_else(no_such_key)
    }

    /// Streams a request body into a new blob, hashing it as it comes.
    async fn receive(
        &self,
        body: Option<StreamingBlob>,
        mut sums: s3s::checksum::ChecksumHasher,
    ) -> S3Result<Received> {
        let mut blob = self.store.create_blob().await.map_err(internal("store the object"))?;
        let mut md5 = Md5::new();
        if let Some(mut body) = body {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| match e.downcast::<S3Error>() {
                    Ok(e) => *e,
                    Err(e) => s3_error!(IncompleteBody, "The request body could not be read: {e}"),
                })?;
                md5.update(&chunk);
                sums.update(&chunk);
                blob.write(&chunk).await.map_err(internal("store the object"))?;
            }
        }
        let size = blob.len;
        let blob = if size > 0 {
            blob.finish().await.map_err(internal("store the object"))?;
            Some(blob)
        } else {
            None
        };
        Ok(Received {
            blob,
            md5: hex(&md5.finalize()),
            size,
            sums: sums.finalize(),
        })
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        delimiter: Option<&str>,
        after: Option<Vec<u8>>,
        max: usize,
    ) -> S3Result<Listed> {
        let page = self
            .store
            .list(
                bucket,
                prefix.unwrap_or("").to_string(),
                delimiter.filter(|d| !d.is_empty()).map(str::to_string),
                after,
                max,
            )
            .await
            .map_err(internal("list the bucket"))?;
        let next = page
            .truncated
            .then(|| page.entries.last().map(|e| e.name().to_vec()))
            .flatten();
        let mut listed = Listed {
            objects: Vec::new(),
            prefixes: Vec::new(),
            next,
        };
        for entry in page.entries {
            match entry {
                Entry::Object(key, object) => listed
                    .objects
                    .push((String::from_utf8_lossy(&key).into_owned(), object)),
                Entry::Prefix(prefix) => listed.prefixes.push(String::from_utf8_lossy(&prefix).into_owned()),
            }
        }
        Ok(listed)
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

forward! {
    answered LOCAL_OPERATIONS;
    impl[] S3 for Local;
    pass to store after ready {}

    /// Buckets live in Stook's database; a request only gets here for a bucket its key
    /// belongs to, so the bucket exists.
    async fn head_bucket(&self, _req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        _req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    /// Stores the object once its bytes are durable and every digest given matched; a new
    /// object starts with the tags its upload names, or none.
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        check_metadata(input.metadata.as_ref())?;
        if let Some(class) = &input.storage_class
            && !["STANDARD", "REDUCED_REDUNDANCY"].contains(&class.as_str())
        {
            return Err(s3_error!(InvalidStorageClass, "The local backend keeps every object in STANDARD."));
        }
        let new_tags = input.tagging.as_deref().map(tags::from_header).transpose()?.unwrap_or_default();
        let expect = expect_of(input.if_none_match.as_ref(), input.if_match.as_ref())?;
        let headers = Checksum {
            checksum_crc32: input.checksum_crc32.clone(),
            checksum_crc32c: input.checksum_crc32c.clone(),
            checksum_sha1: input.checksum_sha1.clone(),
            checksum_sha256: input.checksum_sha256.clone(),
            checksum_crc64nvme: input.checksum_crc64nvme.clone(),
            ..Default::default()
        };
        let hashers = hashers_for(&headers, input.checksum_algorithm.as_ref())?;
        let received = self.receive(input.body, hashers).await?;
        check_content_md5(input.content_md5.as_deref(), &received.md5)?;
        let trailers = req.trailing_headers.and_then(|t| t.take());
        let given = given_checksums(headers, trailers.as_ref());
        verify_checksums(&given, &received.sums)?;
        let object = Object {
            size: received.size,
            etag: received.md5.clone(),
            modified_ms: store::now_ms(),
            blobs: received.blobs(),
            attributes: Attributes {
                user_metadata: input.metadata,
                content_encoding: input.content_encoding,
                content_type: input.content_type,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: format_expires(input.expires),
                website_redirect_location: input.website_redirect_location,
            },
            tags: new_tags,
            checksums: stored_checksums(received.sums.clone()),
        };
        self.store
            .put(&input.bucket, &input.key, object, received.blob.into_iter().collect(), expect)
            .await
            .map_err(write_failed)?;
        let sums = received.sums;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(received.md5)),
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            ..Default::default()
        }))
    }

    /// A copy inside this backend: the bytes are copied file to file, so the copy stays
    /// whole whatever later happens to its source.
    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        // s3s 0.14's CopyObjectInput has no fields for the destination's conditions.
        let expect = expect_of(
            header_condition(&req.headers, "if-none-match")?.as_ref(),
            header_condition(&req.headers, "if-match")?.as_ref(),
        )?;
        let input = req.input;
        check_key(&input.key)?;
        check_metadata(input.metadata.as_ref())?;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(InvalidArgument, "Copy from a bucket of this endpoint."));
        };
        let (source, guard) = self
            .store
            .get_for_reading(source_bucket, source_key)
            .await
            .map_err(internal("read the copy source"))?
            .ok_or_else(|| s3_error!(NoSuchKey, "The copy source does not exist."))?;
        let conditions = Conditions {
            if_match: input.copy_source_if_match.clone(),
            if_none_match: input.copy_source_if_none_match.clone(),
            if_modified_since: input.copy_source_if_modified_since.clone(),
            if_unmodified_since: input.copy_source_if_unmodified_since.clone(),
        };
        conditions
            .check(Some(&ETag::Strong(source.etag.clone())), Some(&timestamp(source.modified_ms)))
            .map_err(|e| {
                if *e.code() == s3s::S3ErrorCode::NotModified {
                    s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold.")
                } else {
                    e
                }
            })?;
        let replace = |directive: Option<&str>| directive.is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
        let replace_metadata = replace(input.metadata_directive.as_ref().map(|d| d.as_str()));
        if source_bucket.as_ref() as &str == input.bucket.as_str() && **source_key == *input.key && !replace_metadata {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let attributes = if replace_metadata {
            Attributes {
                user_metadata: input.metadata,
                content_encoding: input.content_encoding,
                content_type: input.content_type,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: format_expires(input.expires),
                website_redirect_location: input.website_redirect_location,
            }
        } else {
            source.attributes.clone()
        };
        let tags = if replace(input.tagging_directive.as_ref().map(|d| d.as_str())) {
            input.tagging.as_deref().map(tags::from_header).transpose()?.unwrap_or_default()
        } else {
            source.tags.clone()
        };
        let copied = if source.size > 0 {
            Some(
                self.store
                    .copy_blob(&source, 0..source.size)
                    .await
                    .map_err(internal("copy the object"))?,
            )
        } else {
            None
        };
        drop(guard);
        let modified_ms = store::now_ms();
        let object = Object {
            size: source.size,
            etag: source.etag.clone(),
            modified_ms,
            blobs: copied
                .as_ref()
                .map(|b| vec![Blob { id: b.id.clone(), len: source.size }])
                .unwrap_or_default(),
            attributes,
            tags,
            checksums: source.checksums.clone(),
        };
        self.store
            .put(&input.bucket, &input.key, object, copied.into_iter().collect(), expect)
            .await
            .map_err(write_failed)?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(ETag::Strong(source.etag)),
                last_modified: Some(timestamp(modified_ms)),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.store
            .delete(&req.input.bucket, vec![req.input.key.clone()])
            .await
            .map_err(internal("delete the object"))?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    /// Every named key is reported deleted, whether it existed or not, as S3 does.
    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let named = input.delete.objects;
        if named.len() > MAX_PAGE as usize {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: at most {MAX_PAGE} keys per request."
            ));
        }
        let keys: Vec<String> = named.iter().map(|o| o.key.clone()).collect();
        self.store
            .delete(&input.bucket, keys.clone())
            .await
            .map_err(internal("delete the objects"))?;
        let quiet = input.delete.quiet.unwrap_or(false);
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then(|| {
                keys.into_iter()
                    .map(|key| DeletedObject {
                        key: Some(key),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }))
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let object = self.must_exist(&req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: object
                .tags
                .into_iter()
                .map(|(key, value)| Tag {
                    key: Some(key),
                    value: Some(value),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let pairs = tags::checked(&req.input.tagging.tag_set)?;
        self.store
            .update(&req.input.bucket, &req.input.key, move |object| object.tags = pairs)
            .await
            .map_err(internal("store the object's tags"))?
            .ok_or_else(no_such_key)?;
        Ok(S3Response::new(PutObjectTaggingOutput::default()))
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.store
            .update(&req.input.bucket, &req.input.key, |object| object.tags.clear())
            .await
            .map_err(internal("store the object's tags"))?
            .ok_or_else(no_such_key)?;
        Ok(S3Response::new(DeleteObjectTaggingOutput::default()))
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let object = self.must_exist(&req.input.bucket, &req.input.key).await?;
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: Some(ETag::Strong(object.etag)),
            last_modified: Some(timestamp(object.modified_ms)),
            object_size: Some(object.size as i64),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        }))
    }

    async fn get_object_acl(&self, req: S3Request<GetObjectAclInput>) -> S3Result<S3Response<GetObjectAclOutput>> {
        self.must_exist(&req.input.bucket, &req.input.key).await?;
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
        self.must_exist(&req.input.bucket, &req.input.key).await?;
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
        self.must_exist(&req.input.bucket, &req.input.key).await?;
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
        let input = req.input;
        let (object, guard) = self
            .store
            .get_for_reading(&input.bucket, &input.key)
            .await
            .map_err(internal("read the object"))?
            .ok_or_else(no_such_key)?;
        let etag = ETag::Strong(object.etag.clone());
        let modified = timestamp(object.modified_ms);
        conditions_of!(input).check(Some(&etag), Some(&modified))?;
        let (range, parts_count) = part_or_range(&object, input.part_number, input.range.as_ref())?;
        let whole = range.start == 0 && range.end == object.size;
        let length = range.end - range.start;
        let content_range = (!whole || input.range.is_some())
            .then(|| format!("bytes {}-{}/{}", range.start, range.end.saturating_sub(1), object.size));
        let body = self
            .store
            .read(&object, range, guard)
            .await
            .map_err(internal("read the object"))?;
        let attributes = object.attributes;
        let sums = if whole { object.checksums } else { Checksums::default() };
        Ok(S3Response::new(GetObjectOutput {
            body: Some(StreamingBlob::wrap(body)),
            content_length: Some(length as i64),
            content_range,
            accept_ranges: Some("bytes".into()),
            last_modified: Some(modified),
            e_tag: Some(etag),
            parts_count,
            metadata: attributes.user_metadata,
            content_encoding: attributes.content_encoding,
            content_type: attributes.content_type,
            content_disposition: attributes.content_disposition,
            content_language: attributes.content_language,
            cache_control: attributes.cache_control,
            expires: parse_expires(attributes.expires.as_ref()),
            website_redirect_location: attributes.website_redirect_location,
            tag_count: (!object.tags.is_empty()).then_some(object.tags.len() as i32),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_crc64nvme: sums.crc64nvme,
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let object = self.must_exist(&input.bucket, &input.key).await?;
        let etag = ETag::Strong(object.etag.clone());
        let modified = timestamp(object.modified_ms);
        conditions_of!(input).check(Some(&etag), Some(&modified))?;
        let (range, parts_count) = part_or_range(&object, input.part_number, input.range.as_ref())?;
        let attributes = object.attributes;
        let sums = object.checksums;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some((range.end - range.start) as i64),
            accept_ranges: Some("bytes".into()),
            last_modified: Some(modified),
            e_tag: Some(etag),
            parts_count,
            metadata: attributes.user_metadata,
            content_encoding: attributes.content_encoding,
            content_type: attributes.content_type,
            content_disposition: attributes.content_disposition,
            content_language: attributes.content_language,
            cache_control: attributes.cache_control,
            expires: parse_expires(attributes.expires.as_ref()),
            website_redirect_location: attributes.website_redirect_location,
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_crc64nvme: sums.crc64nvme,
            ..Default::default()
        }))
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref());
        let max = page_size(input.max_keys)?;
        let after = input.marker.as_ref().map(|m| m.as_bytes().to_vec());
        let found = self
            .list(&input.bucket, input.prefix.as_deref(), input.delimiter.as_deref(), after, max)
            .await?;
        let truncated = found.next.is_some();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(listed(input.prefix.as_deref().unwrap_or(""), url)),
            delimiter: input.delimiter.as_deref().map(|d| listed(d, url)),
            marker: Some(listed(input.marker.as_deref().unwrap_or(""), url)),
            next_marker: found
                .next
                .as_ref()
                .map(|n| listed(&String::from_utf8_lossy(n), url)),
            max_keys: Some(max as i32),
            is_truncated: Some(truncated),
            encoding_type: input.encoding_type,
            contents: Some(objects_of(found.objects, url, true)),
            common_prefixes: Some(prefixes_of(found.prefixes, url)),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref());
        let max = page_size(input.max_keys)?;
        let after = match (&input.continuation_token, &input.start_after) {
            (Some(token), _) => Some(position_of(token)?),
            (None, Some(start)) => Some(start.as_bytes().to_vec()),
            (None, None) => None,
        };
        let found = self
            .list(&input.bucket, input.prefix.as_deref(), input.delimiter.as_deref(), after, max)
            .await?;
        let count = found.objects.len() + found.prefixes.len();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(listed(input.prefix.as_deref().unwrap_or(""), url)),
            delimiter: input.delimiter.as_deref().map(|d| listed(d, url)),
            start_after: input.start_after.as_deref().map(|s| listed(s, url)),
            continuation_token: input.continuation_token,
            next_continuation_token: found.next.as_deref().map(token_of),
            key_count: Some(count as i32),
            max_keys: Some(max as i32),
            is_truncated: Some(found.next.is_some()),
            encoding_type: input.encoding_type,
            contents: Some(objects_of(found.objects, url, input.fetch_owner.unwrap_or(false))),
            common_prefixes: Some(prefixes_of(found.prefixes, url)),
            ..Default::default()
        }))
    }

    /// The local backend keeps no versions: every object is its own `null` version, as
    /// S3 reports for an unversioned bucket.
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref());
        let max = page_size(input.max_keys)?;
        let after = input.key_marker.as_ref().map(|m| m.as_bytes().to_vec());
        let found = self
            .list(&input.bucket, input.prefix.as_deref(), input.delimiter.as_deref(), after, max)
            .await?;
        let truncated = found.next.is_some();
        let versions = found
            .objects
            .into_iter()
            .map(|(key, object)| ObjectVersion {
                e_tag: Some(ETag::Strong(object.etag)),
                is_latest: Some(true),
                key: Some(listed(&key, url)),
                last_modified: Some(timestamp(object.modified_ms)),
                size: Some(object.size as i64),
                storage_class: Some(ObjectVersionStorageClass::from_static(ObjectVersionStorageClass::STANDARD)),
                version_id: Some("null".into()),
                owner: Some(owner()),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListObjectVersionsOutput {
            common_prefixes: Some(prefixes_of(found.prefixes, url)),
            delimiter: input.delimiter.as_deref().map(|d| listed(d, url)),
            encoding_type: input.encoding_type,
            is_truncated: Some(truncated),
            key_marker: Some(listed(input.key_marker.as_deref().unwrap_or(""), url)),
            max_keys: Some(max as i32),
            name: Some(input.bucket),
            next_key_marker: found
                .next
                .as_ref()
                .map(|n| listed(&String::from_utf8_lossy(n), url)),
            next_version_id_marker: truncated.then(|| "null".to_string()),
            prefix: Some(listed(input.prefix.as_deref().unwrap_or(""), url)),
            version_id_marker: input.version_id_marker,
            versions: Some(versions),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        check_key(&input.key)?;
        check_metadata(input.metadata.as_ref())?;
        let tags = input.tagging.as_deref().map(tags::from_header).transpose()?.unwrap_or_default();
        let upload = Upload {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            initiated_ms: store::now_ms(),
            attributes: Attributes {
                user_metadata: input.metadata,
                content_encoding: input.content_encoding,
                content_type: input.content_type,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: format_expires(input.expires),
                website_redirect_location: input.website_redirect_location,
            },
            tags,
        };
        let upload_id = self
            .store
            .create_upload(upload, MAX_UPLOADS_PER_BUCKET)
            .await
            .map_err(internal("start the upload"))?
            .ok_or_else(|| {
                s3_error!(
                    InvalidRequest,
                    "This bucket has {MAX_UPLOADS_PER_BUCKET} multipart uploads in progress, the most it keeps: \
                     complete or abort some first (unfinished uploads are removed after \
                     STOOK_S3_MULTIPART_MAX_AGE_DAYS days)."
                )
            })?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let number = part_number(input.part_number)?;
        // Refused before the body is read: no bytes are stored for an upload that is gone.
        self.store
            .upload(&input.upload_id, &input.bucket, &input.key)
            .await
            .map_err(internal("read the upload"))?
            .ok_or_else(no_such_upload)?;
        let headers = Checksum {
            checksum_crc32: input.checksum_crc32.clone(),
            checksum_crc32c: input.checksum_crc32c.clone(),
            checksum_sha1: input.checksum_sha1.clone(),
            checksum_sha256: input.checksum_sha256.clone(),
            checksum_crc64nvme: input.checksum_crc64nvme.clone(),
            ..Default::default()
        };
        let hashers = hashers_for(&headers, input.checksum_algorithm.as_ref())?;
        let received = self.receive(input.body, hashers).await?;
        check_content_md5(input.content_md5.as_deref(), &received.md5)?;
        let trailers = req.trailing_headers.and_then(|t| t.take());
        verify_checksums(&given_checksums(headers, trailers.as_ref()), &received.sums)?;
        self.store_part(&input.upload_id, &input.bucket, &input.key, number, received)
            .await
            .map(|etag| {
                S3Response::new(UploadPartOutput {
                    e_tag: Some(ETag::Strong(etag)),
                    ..Default::default()
                })
            })
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let number = part_number(input.part_number)?;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(InvalidArgument, "Copy from a bucket of this endpoint."));
        };
        self.store
            .upload(&input.upload_id, &input.bucket, &input.key)
            .await
            .map_err(internal("read the upload"))?
            .ok_or_else(no_such_upload)?;
        let (source, guard) = self
            .store
            .get_for_reading(source_bucket, source_key)
            .await
            .map_err(internal("read the copy source"))?
            .ok_or_else(|| s3_error!(NoSuchKey, "The copy source does not exist."))?;
        let range = copy_range(input.copy_source_range.as_deref(), source.size)?;
        let size = range.end - range.start;
        let blob = self
            .store
            .copy_blob(&source, range)
            .await
            .map_err(internal("copy the part"))?;
        drop(guard);
        let md5 = md5_of_file(self.store.blobs.path(&blob.id))
            .await
            .map_err(internal("copy the part"))?;
        let received = Received {
            blob: Some(blob),
            md5,
            size,
            sums: Checksum::default(),
        };
        let etag = self
            .store_part(&input.upload_id, &input.bucket, &input.key, number, received)
            .await?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(etag)),
                last_modified: Some(timestamp(store::now_ms())),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    /// Checks the part list against the stored parts, then makes the object of them
    /// without copying a byte. A refused list leaves the upload as it was, so the client
    /// may complete it properly or abort.
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let asked: Vec<(i32, Option<ETag>)> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.part_number.unwrap_or(0), p.e_tag))
            .collect();
        let expect = expect_of(input.if_none_match.as_ref(), input.if_match.as_ref())?;
        let completed = self
            .store
            .complete(&input.upload_id, &input.bucket, &input.key, expect, move |upload, parts| {
                assemble(upload, parts, &asked)
            })
            .await;
        let object = match completed {
            Ok(object) => object,
            Err(UploadError::NoSuchUpload) => return Err(no_such_upload()),
            Err(UploadError::Refused(e)) => return Err(e),
            Err(UploadError::Precondition) => return Err(write_failed(WriteError::Precondition)),
            Err(UploadError::Io(e)) => return Err(internal("complete the upload")(e)),
        };
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(object.etag)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let aborted = self
            .store
            .abort(&input.upload_id, &input.bucket, &input.key)
            .await
            .map_err(internal("remove the upload"))?;
        if !aborted {
            return Err(no_such_upload());
        }
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let (_, parts) = self
            .store
            .upload(&input.upload_id, &input.bucket, &input.key)
            .await
            .map_err(internal("read the upload"))?
            .ok_or_else(no_such_upload)?;
        let max = page_size(input.max_parts)?;
        let after = input.part_number_marker.unwrap_or(0).max(0) as u32;
        let mut shown: Vec<store::Part> = parts.into_iter().filter(|p| p.number > after).collect();
        let truncated = shown.len() > max;
        shown.truncate(max);
        let next = shown.last().map(|p| p.number as i32).filter(|_| truncated);
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            is_truncated: Some(truncated),
            max_parts: Some(max as i32),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            parts: Some(
                shown
                    .into_iter()
                    .map(|p| s3s::dto::Part {
                        e_tag: Some(ETag::Strong(p.etag)),
                        last_modified: Some(timestamp(p.modified_ms)),
                        part_number: Some(p.number as i32),
                        size: Some(p.blob.len as i64),
                        ..Default::default()
                    })
                    .collect(),
            ),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let url = wants_url(input.encoding_type.as_ref());
        let prefix = input.prefix.as_deref().unwrap_or("");
        let max = page_size(input.max_uploads)?;
        let uploads = self.store.uploads(&input.bucket).await.map_err(internal("list the uploads"))?;
        let (page, truncated) = uploads_page(
            uploads,
            prefix,
            input.delimiter.as_deref().filter(|d| !d.is_empty()),
            input.key_marker.as_deref().unwrap_or(""),
            input.upload_id_marker.as_deref(),
            max,
        );
        let mut common_prefixes = Vec::new();
        let mut uploads = Vec::new();
        let mut last = None;
        for entry in page {
            match entry {
                UploadEntry::Upload(id, upload) => {
                    last = Some((upload.key.clone(), Some(id.clone())));
                    uploads.push((id, *upload));
                }
                UploadEntry::Prefix(p) => {
                    last = Some((p.clone(), None));
                    common_prefixes.push(CommonPrefix {
                        prefix: Some(listed(&p, url)),
                    });
                }
            }
        }
        let owner = owner();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix.as_deref().map(|p| listed(p, url)),
            key_marker: input.key_marker.as_deref().map(|k| listed(k, url)),
            upload_id_marker: input.upload_id_marker,
            delimiter: input.delimiter.clone(),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: input.encoding_type,
            max_uploads: Some(max as i32),
            is_truncated: Some(truncated),
            next_key_marker: last.as_ref().filter(|_| truncated).map(|l| listed(&l.0, url)),
            next_upload_id_marker: last.filter(|_| truncated).and_then(|l| l.1),
            uploads: Some(
                uploads
                    .into_iter()
                    .map(|(id, u)| MultipartUpload {
                        initiated: Some(timestamp(u.initiated_ms)),
                        initiator: Some(Initiator {
                            display_name: owner.display_name.clone(),
                            id: owner.id.clone(),
                        }),
                        key: Some(listed(&u.key, url)),
                        owner: Some(owner.clone()),
                        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                        upload_id: Some(id),
                        ..Default::default()
                    })
                    .collect(),
            ),
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

impl Local {
    /// Records a received part; its ETag is the part's MD5.
    async fn store_part(&self, id: &str, bucket: &str, key: &str, number: u32, received: Received) -> S3Result<String> {
        let blob = match received.blob {
            Some(blob) => blob,
            // An empty part still gets a (empty) blob, so every part names one.
            None => {
                let mut blob = self.store.create_blob().await.map_err(internal("store the part"))?;
                blob.finish().await.map_err(internal("store the part"))?;
                blob
            }
        };
        let part = store::Part {
            number,
            blob: Blob {
                id: blob.id.clone(),
                len: received.size,
            },
            etag: received.md5.clone(),
            modified_ms: store::now_ms(),
        };
        match self.store.put_part(id, bucket, key, part, blob).await {
            Ok(()) => Ok(received.md5),
            Err(UploadError::NoSuchUpload) => Err(no_such_upload()),
            Err(UploadError::Io(e)) => Err(internal("store the part")(e)),
            Err(UploadError::Refused(()) | UploadError::Precondition) => Err(s3_error!(InternalError)),
        }
    }
}

fn part_number(number: i32) -> S3Result<u32> {
    if (1..=MAX_PART_NUMBER).contains(&number) {
        Ok(number as u32)
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive."
        ))
    }
}

/// The bytes a GET or HEAD asks for: one part of a multipart object (`partNumber`), a
/// `Range`, or the whole object; with the object's part count when a part was asked.
fn part_or_range(
    object: &Object,
    part: Option<i32>,
    range: Option<&Range>,
) -> S3Result<(std::ops::Range<u64>, Option<i32>)> {
    let multipart = object.etag.contains('-');
    match (part, range) {
        (Some(_), Some(_)) => Err(s3_error!(
            InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter."
        )),
        (Some(number), None) => {
            let count = if multipart { object.blobs.len() } else { 1 };
            if number < 1 || number as usize > count {
                return Err(s3_error!(InvalidRange, "The requested part number is not satisfiable."));
            }
            if !multipart {
                return Ok((0..object.size, None));
            }
            let start: u64 = object.blobs[..number as usize - 1].iter().map(|b| b.len).sum();
            let end = start + object.blobs[number as usize - 1].len;
            Ok((start..end, Some(count as i32)))
        }
        (None, Some(range)) => range
            .check(object.size)
            .map(|r| (r, None))
            .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable.")),
        (None, None) => Ok((0..object.size, None)),
    }
}

/// `bytes=first-last` of a copy source.
fn copy_range(range: Option<&str>, length: u64) -> S3Result<std::ops::Range<u64>> {
    let Some(range) = range else { return Ok(0..length) };
    let bad = || s3_error!(InvalidArgument, "The copy source range must be bytes=first-last.");
    let (first, last) = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let first: u64 = first.parse().map_err(|_| bad())?;
    let last: u64 = last.parse().map_err(|_| bad())?;
    if first > last || last >= length {
        return Err(s3_error!(InvalidRange, "The copy source range is outside the object."));
    }
    Ok(first..last + 1)
}

async fn md5_of_file(path: PathBuf) -> std::io::Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(path)?;
        let mut md5 = Md5::new();
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        Ok(hex(&md5.finalize()))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The object a completion makes of the uploaded parts, or why not.
fn assemble(upload: &Upload, stored: &[store::Part], asked: &[(i32, Option<ETag>)]) -> Result<Object, S3Error> {
    if asked.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema: name at least one part."
        ));
    }
    if asked[0].0 < 1 || asked.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Err(s3_error!(
            InvalidPartOrder,
            "The list of parts was not in ascending order. Parts must be ordered by part number."
        ));
    }
    let mut blobs = Vec::with_capacity(asked.len());
    let mut digests = Md5::new();
    for (index, (number, etag)) in asked.iter().enumerate() {
        let Some(part) = stored.iter().find(|p| p.number as i32 == *number) else {
            return Err(s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found: part {number} was not uploaded."
            ));
        };
        if etag.as_ref().is_none_or(|given| etag_value(given) != part.etag) {
            return Err(s3_error!(
                InvalidPart,
                "One or more of the specified parts could not be found: the ETag of part {number} does not match the uploaded part's."
            ));
        }
        if part.blob.len < MIN_PART_BYTES && index + 1 < asked.len() {
            return Err(s3_error!(
                EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size: part {number} has {} bytes, and every part but the last needs 5 MiB.",
                part.blob.len
            ));
        }
        digests.update(unhex(&part.etag).unwrap_or_default());
        blobs.push(part.blob.clone());
    }
    Ok(Object {
        size: blobs.iter().map(|b| b.len).sum(),
        etag: format!("{}-{}", hex(&digests.finalize()), asked.len()),
        modified_ms: store::now_ms(),
        blobs,
        attributes: upload.attributes.clone(),
        tags: upload.tags.clone(),
        checksums: Checksums::default(),
    })
}

fn objects_of(objects: Vec<(String, Object)>, url: bool, with_owner: bool) -> Vec<s3s::dto::Object> {
    objects
        .into_iter()
        .map(|(key, object)| s3s::dto::Object {
            key: Some(listed(&key, url)),
            size: Some(object.size as i64),
            e_tag: Some(ETag::Strong(object.etag)),
            last_modified: Some(timestamp(object.modified_ms)),
            storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
            owner: with_owner.then(owner),
            ..Default::default()
        })
        .collect()
}

fn prefixes_of(prefixes: Vec<String>, url: bool) -> Vec<CommonPrefix> {
    prefixes
        .into_iter()
        .map(|p| CommonPrefix {
            prefix: Some(listed(&p, url)),
        })
        .collect()
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
