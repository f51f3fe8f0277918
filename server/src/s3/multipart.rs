//! Multipart uploads on the local backend, kept by Stook rather than s3s-fs (whose
//! failed completion destroyed the upload, which checked no part ETags and listed no
//! uploads). Each upload is a directory `<objects>/.stook-uploads/<id>/` holding
//! `upload.json` and its parts with their MD5s; completion assembles the object in the
//! layout s3s-fs reads (the file, plus its `.metadata.json` and `.internal.json`).
//! Nothing is removed until the object is in place, and abandoned uploads are swept.

use md5::{Digest as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3Result, s3_error};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

/// S3's smallest part, except the last.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;

/// The object attributes given at CreateMultipartUpload, stored as s3s-fs stores them
/// for an object (its `ObjectAttributes`), so the completed object keeps them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<HashMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Upload {
    bucket: String,
    key: String,
    /// Seconds since the epoch.
    initiated: u64,
    attributes: Attributes,
}

pub struct Uploads {
    /// Where buckets live (s3s-fs's root).
    objects: PathBuf,
    /// `<objects>/.stook-uploads`: no bucket name starts with a dot.
    dir: PathBuf,
}

fn io_error(what: &str) -> impl Fn(std::io::Error) -> S3Error + '_ {
    move |e| {
        tracing::error!(error = %e, "multipart upload: could not {what}");
        s3_error!(InternalError, "Stook could not {what}.")
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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

/// s3s-fs names an object's side files by the URL-safe, unpadded base64 of bucket and key.
pub(super) fn base64_url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let sextets = chunk.len() + 1;
        for i in 0..sextets {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn etag_value(etag: &ETag) -> &str {
    match etag {
        ETag::Strong(v) | ETag::Weak(v) => v.trim_matches('"'),
    }
}

fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

impl Uploads {
    pub fn new(objects: PathBuf) -> Self {
        let dir = objects.join(".stook-uploads");
        Uploads { objects, dir }
    }

    /// Upload ids are 32 hex digits: anything else cannot name a directory here.
    fn upload_dir(&self, id: &str) -> S3Result<PathBuf> {
        if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(self.dir.join(id))
        } else {
            Err(no_such_upload())
        }
    }

    async fn load(&self, bucket: &str, key: &str, id: &str) -> S3Result<(PathBuf, Upload)> {
        let dir = self.upload_dir(id)?;
        let Ok(text) = tokio::fs::read(dir.join("upload.json")).await else {
            return Err(no_such_upload());
        };
        let upload: Upload = serde_json::from_slice(&text).map_err(|_| no_such_upload())?;
        if upload.bucket != bucket || upload.key != key {
            return Err(no_such_upload());
        }
        Ok((dir, upload))
    }

    pub async fn create(&self, bucket: &str, key: &str, attributes: Attributes) -> S3Result<String> {
        let id = hex(&rand::random::<[u8; 16]>());
        let dir = self.dir.join(&id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(io_error("start the upload"))?;
        let upload = Upload {
            bucket: bucket.into(),
            key: key.into(),
            initiated: now_secs(),
            attributes,
        };
        let text = serde_json::to_vec(&upload).map_err(|_| s3_error!(InternalError))?;
        tokio::fs::write(dir.join("upload.json"), text)
            .await
            .map_err(io_error("start the upload"))?;
        Ok(id)
    }

    fn check_part_number(part_number: i32) -> S3Result<()> {
        if (1..=MAX_PART_NUMBER).contains(&part_number) {
            Ok(())
        } else {
            Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive."
            ))
        }
    }

    /// Writes a part from `chunks` (the request body, or a copy source), returning its ETag.
    async fn write_part(&self, dir: &Path, part_number: i32, mut body: s3s::Body) -> S3Result<String> {
        use http_body::Body as _;
        let temp = dir.join(format!(".part-{part_number}.{}", hex(&rand::random::<[u8; 8]>())));
        let mut file = tokio::fs::File::create(&temp)
            .await
            .map_err(io_error("store the part"))?;
        let mut md5 = Md5::new();
        let written: S3Result<()> = async {
            while let Some(frame) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
                let frame = frame.map_err(|e| s3_error!(IncompleteBody, "The part's body could not be read: {e}"))?;
                if let Ok(data) = frame.into_data() {
                    md5.update(&data);
                    file.write_all(&data).await.map_err(io_error("store the part"))?;
                }
            }
            file.flush().await.map_err(io_error("store the part"))?;
            Ok(())
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
        let etag = hex(&md5.finalize());
        tokio::fs::write(dir.join(format!("part-{part_number}.md5")), &etag)
            .await
            .map_err(io_error("store the part"))?;
        tokio::fs::rename(&temp, dir.join(format!("part-{part_number}")))
            .await
            .map_err(io_error("store the part"))?;
        Ok(etag)
    }

    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        part_number: i32,
        body: Option<StreamingBlob>,
    ) -> S3Result<String> {
        Self::check_part_number(part_number)?;
        let (dir, _) = self.load(bucket, key, id).await?;
        let body = match body {
            Some(blob) => s3s::Body::from(Box::pin(blob) as s3s::stream::DynByteStream),
            None => s3s::Body::empty(),
        };
        self.write_part(&dir, part_number, body).await
    }

    /// A part copied from (a range of) an object of the same backend.
    pub async fn upload_part_copy(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        part_number: i32,
        source: (&str, &str),
        range: Option<&str>,
    ) -> S3Result<String> {
        Self::check_part_number(part_number)?;
        let (dir, _) = self.load(bucket, key, id).await?;
        let path = self.objects.join(source.0).join(source.1);
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|_| s3_error!(NoSuchKey, "The copy source does not exist."))?;
        let length = file.metadata().await.map_err(io_error("read the copy source"))?.len();
        let (start, end) = match range {
            None => (0, length),
            Some(range) => {
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
                (first, last + 1)
            }
        };
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(io_error("read the copy source"))?;
        let mut data = Vec::new();
        file.take(end - start)
            .read_to_end(&mut data)
            .await
            .map_err(io_error("read the copy source"))?;
        self.write_part(&dir, part_number, s3s::Body::from(data)).await
    }

    /// The parts of an upload, by number: (number, ETag, size, modified).
    async fn parts(&self, dir: &Path) -> S3Result<Vec<(i32, String, u64, SystemTime)>> {
        let mut found = Vec::new();
        let mut entries = tokio::fs::read_dir(dir).await.map_err(io_error("list the parts"))?;
        while let Some(entry) = entries.next_entry().await.map_err(io_error("list the parts"))? {
            let name = entry.file_name();
            let Some(number) = name.to_str().and_then(|n| n.strip_prefix("part-")) else {
                continue;
            };
            let Ok(number) = number.parse::<i32>() else {
                continue;
            };
            let Ok(etag) = tokio::fs::read_to_string(dir.join(format!("part-{number}.md5"))).await else {
                continue;
            };
            let meta = entry.metadata().await.map_err(io_error("list the parts"))?;
            found.push((number, etag, meta.len(), meta.modified().unwrap_or(UNIX_EPOCH)));
        }
        found.sort_by_key(|p| p.0);
        Ok(found)
    }

    pub async fn list_parts(&self, input: &ListPartsInput) -> S3Result<ListPartsOutput> {
        let (dir, _) = self.load(&input.bucket, &input.key, &input.upload_id).await?;
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let after = input.part_number_marker.unwrap_or(0);
        let all: Vec<_> = self.parts(&dir).await?.into_iter().filter(|p| p.0 > after).collect();
        let truncated = all.len() > max;
        let shown: Vec<Part> = all
            .into_iter()
            .take(max)
            .map(|(number, etag, size, modified)| Part {
                e_tag: Some(ETag::Strong(etag)),
                last_modified: Some(Timestamp::from(modified)),
                part_number: Some(number),
                size: Some(size as i64),
                ..Default::default()
            })
            .collect();
        Ok(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            is_truncated: Some(truncated),
            max_parts: Some(max as i32),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: shown.last().and_then(|p| p.part_number).filter(|_| truncated),
            parts: Some(shown),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        })
    }

    /// Checks the part list against the stored parts, then assembles the object. A refused
    /// list leaves the upload as it was, so the client may complete it properly or abort.
    pub async fn complete(&self, bucket: &str, key: &str, id: &str, asked: &[CompletedPart]) -> S3Result<String> {
        let (dir, upload) = self.load(bucket, key, id).await?;
        if asked.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: name at least one part."
            ));
        }
        let stored: HashMap<i32, (String, u64)> = self
            .parts(&dir)
            .await?
            .into_iter()
            .map(|(n, etag, size, _)| (n, (etag, size)))
            .collect();
        let numbers: Vec<i32> = asked.iter().map(|p| p.part_number.unwrap_or(0)).collect();
        if numbers[0] < 1 || numbers.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(s3_error!(
                InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            ));
        }
        let mut chosen = Vec::with_capacity(asked.len());
        for (index, (part, &number)) in asked.iter().zip(&numbers).enumerate() {
            let Some((etag, size)) = stored.get(&number) else {
                return Err(s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found: part {number} was not uploaded."
                ));
            };
            if part.e_tag.as_ref().is_none_or(|given| etag_value(given) != etag) {
                return Err(s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found: the ETag of part {number} does not match the uploaded part's."
                ));
            }
            if *size < MIN_PART_BYTES && index + 1 < asked.len() {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed size: part {number} has {size} bytes, and every part but the last needs 5 MiB."
                ));
            }
            chosen.push((number, etag.clone()));
        }

        // Assemble beside the parts, then move into place.
        let assembled = dir.join(".assembled");
        let mut out = tokio::fs::File::create(&assembled)
            .await
            .map_err(io_error("assemble the object"))?;
        let mut digests = Md5::new();
        for (number, etag) in &chosen {
            let mut part = tokio::fs::File::open(dir.join(format!("part-{number}")))
                .await
                .map_err(io_error("assemble the object"))?;
            tokio::io::copy(&mut part, &mut out)
                .await
                .map_err(io_error("assemble the object"))?;
            digests.update(unhex(etag).unwrap_or_default());
        }
        out.flush().await.map_err(io_error("assemble the object"))?;
        drop(out);
        let etag = format!("{}-{}", hex(&digests.finalize()), chosen.len());

        let target = self.objects.join(bucket).join(key);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_error("store the object"))?;
        }
        tokio::fs::rename(&assembled, &target)
            .await
            .map_err(io_error("store the object"))?;
        let side = |kind: &str| {
            self.objects.join(format!(
                ".bucket-{}.object-{}.{kind}.json",
                base64_url(bucket.as_bytes()),
                base64_url(key.as_bytes())
            ))
        };
        let attributes = serde_json::to_vec(&upload.attributes).map_err(|_| s3_error!(InternalError))?;
        tokio::fs::write(side("metadata"), attributes)
            .await
            .map_err(io_error("store the object's metadata"))?;
        let internal = serde_json::json!({ "e_tag": etag });
        tokio::fs::write(side("internal"), internal.to_string())
            .await
            .map_err(io_error("store the object's metadata"))?;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        Ok(etag)
    }

    pub async fn abort(&self, bucket: &str, key: &str, id: &str) -> S3Result<()> {
        let (dir, _) = self.load(bucket, key, id).await?;
        tokio::fs::remove_dir_all(&dir)
            .await
            .map_err(io_error("remove the upload"))
    }

    async fn all(&self) -> Vec<(String, Upload)> {
        let mut found = Vec::new();
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else {
            return found;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let id = entry.file_name().to_string_lossy().into_owned();
            if let Ok(text) = tokio::fs::read(entry.path().join("upload.json")).await
                && let Ok(upload) = serde_json::from_slice::<Upload>(&text)
            {
                found.push((id, upload));
            }
        }
        found
    }

    pub async fn list_uploads(&self, input: &ListMultipartUploadsInput) -> ListMultipartUploadsOutput {
        let prefix = input.prefix.as_deref().unwrap_or("");
        let key_marker = input.key_marker.as_deref().unwrap_or("");
        let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
        let mut uploads: Vec<(String, Upload)> = self
            .all()
            .await
            .into_iter()
            .filter(|(_, u)| u.bucket == input.bucket && u.key.starts_with(prefix) && u.key.as_str() > key_marker)
            .collect();
        uploads.sort_by(|a, b| (&a.1.key, a.1.initiated, &a.0).cmp(&(&b.1.key, b.1.initiated, &b.0)));
        let truncated = uploads.len() > max;
        uploads.truncate(max);
        let owner = Owner {
            display_name: Some("stook".into()),
            id: Some("stook".into()),
        };
        let last = uploads.last().map(|(id, u)| (u.key.clone(), id.clone()));
        ListMultipartUploadsOutput {
            bucket: Some(input.bucket.clone()),
            prefix: input.prefix.clone(),
            key_marker: input.key_marker.clone(),
            upload_id_marker: input.upload_id_marker.clone(),
            max_uploads: Some(max as i32),
            is_truncated: Some(truncated),
            next_key_marker: last.as_ref().filter(|_| truncated).map(|l| l.0.clone()),
            next_upload_id_marker: last.filter(|_| truncated).map(|l| l.1),
            uploads: Some(
                uploads
                    .into_iter()
                    .map(|(id, u)| MultipartUpload {
                        initiated: Some(Timestamp::from(UNIX_EPOCH + Duration::from_secs(u.initiated))),
                        initiator: Some(Initiator {
                            display_name: owner.display_name.clone(),
                            id: owner.id.clone(),
                        }),
                        key: Some(u.key),
                        owner: Some(owner.clone()),
                        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                        upload_id: Some(id),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    /// Removes uploads started longer ago than `max_age`, with their parts; returns how many.
    pub async fn sweep(&self, max_age: Duration) -> usize {
        let now = now_secs();
        let mut removed = 0;
        for (id, upload) in self.all().await {
            if now.saturating_sub(upload.initiated) >= max_age.as_secs()
                && tokio::fs::remove_dir_all(self.dir.join(&id)).await.is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_files_are_named_as_s3s_fs_names_them() {
        assert_eq!(base64_url(b"photos"), "cGhvdG9z");
        assert_eq!(base64_url(b"a/b?"), "YS9iPw");
        assert_eq!(base64_url(b"ab"), "YWI");
        assert_eq!(unhex("0aff"), Some(vec![10, 255]));
        assert_eq!(hex(&[10, 255]), "0aff");
    }

    #[tokio::test]
    async fn abandoned_uploads_are_swept_after_their_age() {
        let root = std::env::temp_dir().join(format!("stook-sweep-{}", hex(&rand::random::<[u8; 8]>())));
        let uploads = Uploads::new(root.clone());
        let old = uploads.create("b", "old.bin", Attributes::default()).await.unwrap();
        uploads.upload_part("b", "old.bin", &old, 1, None).await.unwrap();
        let text = std::fs::read(uploads.dir.join(&old).join("upload.json")).unwrap();
        let mut upload: Upload = serde_json::from_slice(&text).unwrap();
        upload.initiated -= 8 * 24 * 3600;
        std::fs::write(
            uploads.dir.join(&old).join("upload.json"),
            serde_json::to_vec(&upload).unwrap(),
        )
        .unwrap();
        let fresh = uploads.create("b", "new.bin", Attributes::default()).await.unwrap();

        assert_eq!(uploads.sweep(Duration::from_secs(7 * 24 * 3600)).await, 1);
        assert!(
            !uploads.dir.join(&old).exists(),
            "the old upload and its parts are gone"
        );
        assert!(uploads.dir.join(&fresh).exists());
        std::fs::remove_dir_all(root).ok();
    }
}
