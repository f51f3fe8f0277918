//! Object tags on the local backend: one JSON file per tagged object under
//! `<objects>/.stook-tags/` (no bucket name starts with a dot), named after bucket and
//! key. Written on PutObjectTagging and on uploads with `x-amz-tagging`; removed when the
//! object is deleted or replaced, as S3 does.

use super::multipart::base64_url;
use s3s::dto::{Tag, TagSet};
use s3s::{S3Error, S3Result, s3_error};
use std::path::PathBuf;

/// S3's limits on object tags.
const MAX_TAGS: usize = 10;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

pub struct Tags {
    dir: PathBuf,
}

fn store_error(e: std::io::Error) -> S3Error {
    tracing::error!(error = %e, "could not store object tags");
    s3_error!(InternalError, "Stook could not store the object's tags.")
}

/// The tag set as pairs, checked against S3's rules.
pub fn checked(tag_set: &TagSet) -> S3Result<Vec<(String, String)>> {
    if tag_set.len() > MAX_TAGS {
        return Err(s3_error!(InvalidTag, "Object tags cannot be greater than {MAX_TAGS}."));
    }
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(tag_set.len());
    for tag in tag_set {
        let key = tag.key.clone().unwrap_or_default();
        let value = tag.value.clone().unwrap_or_default();
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(s3_error!(
                InvalidTag,
                "A tag key must have 1 to {MAX_KEY_CHARS} characters."
            ));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(s3_error!(
                InvalidTag,
                "A tag value may have at most {MAX_VALUE_CHARS} characters."
            ));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple tags with the same key (“{key}”)."
            ));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// The `x-amz-tagging` header of an upload: `key=value&key2=value2`, URL-encoded.
pub fn from_header(header: &str) -> S3Result<Vec<(String, String)>> {
    let tag_set: TagSet = form_urlencoded::parse(header.as_bytes())
        .map(|(k, v)| Tag {
            key: Some(k.into_owned()),
            value: Some(v.into_owned()),
        })
        .collect();
    checked(&tag_set)
}

impl Tags {
    pub fn new(objects: PathBuf) -> Self {
        Tags {
            dir: objects.join(".stook-tags"),
        }
    }

    fn path(&self, bucket: &str, key: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.{}.json",
            base64_url(bucket.as_bytes()),
            base64_url(key.as_bytes())
        ))
    }

    pub async fn get(&self, bucket: &str, key: &str) -> S3Result<TagSet> {
        let pairs: Vec<(String, String)> = match tokio::fs::read(self.path(bucket, key)).await {
            Ok(text) => serde_json::from_slice(&text).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        Ok(pairs
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect())
    }

    /// Replaces the object's tags; an empty set removes them.
    pub async fn set(&self, bucket: &str, key: &str, pairs: &[(String, String)]) -> S3Result<()> {
        if pairs.is_empty() {
            return self.remove(bucket, key).await;
        }
        tokio::fs::create_dir_all(&self.dir).await.map_err(store_error)?;
        let text = serde_json::to_vec(pairs).map_err(|_| s3_error!(InternalError))?;
        let path = self.path(bucket, key);
        let temp = path.with_extension("json.tmp");
        tokio::fs::write(&temp, text).await.map_err(store_error)?;
        tokio::fs::rename(&temp, &path).await.map_err(store_error)
    }

    pub async fn remove(&self, bucket: &str, key: &str) -> S3Result<()> {
        match tokio::fs::remove_file(self.path(bucket, key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}
