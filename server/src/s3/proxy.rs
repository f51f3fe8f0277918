//! The proxy backend: requests that passed Stook's checks go on to an upstream
//! S3-compatible store (MinIO, Ceph RGW, Garage, AWS), signed with the operator's key.
//! Bucket names are the same on both sides.

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};

pub struct Upstream<'a> {
    pub url: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
}

pub fn proxy(upstream: Upstream<'_>) -> Result<s3s_aws::Proxy, String> {
    if !(upstream.url.starts_with("http://") || upstream.url.starts_with("https://")) {
        return Err(format!(
            "the upstream URL “{}” must start with http:// or https://",
            upstream.url
        ));
    }
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(upstream.url.trim_end_matches('/'))
        .region(Region::new(upstream.region.to_string()))
        .credentials_provider(Credentials::new(
            upstream.access_key_id,
            upstream.secret_access_key,
            None,
            None,
            "stook-upstream",
        ))
        // Not every store has wildcard DNS for virtual-hosted buckets; all take path style.
        .force_path_style(true)
        // Pass on the checksums the client sent, add none: the SDK's own default would
        // re-sign bodies as aws-chunked with a trailer, which not every store accepts.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Ok(s3s_aws::Proxy::from(aws_sdk_s3::Client::from_conf(config)))
}
