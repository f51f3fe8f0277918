//! Object tags as S3 checks them: the local backend keeps them in the object's record
//! (set on PutObjectTagging and on uploads with `x-amz-tagging`; gone with the object).

use s3s::dto::{Tag, TagSet};
use s3s::{S3Result, s3_error};

/// S3's limits on object tags.
const MAX_TAGS: usize = 10;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

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
