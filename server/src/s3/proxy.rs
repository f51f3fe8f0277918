//! The proxy backend: requests that passed Stook's checks go on to an upstream
//! S3-compatible store (MinIO, Ceph RGW, Garage, AWS), signed with the operator's key.
//! Bucket names are the same on both sides.

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    StalledStreamProtectionConfig,
};

pub struct Upstream<'a> {
    pub url: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
}

pub fn proxy(upstream: Upstream<'_>) -> Result<s3s_aws::Proxy, String> {
    Ok(s3s_aws::Proxy::from(aws_sdk_s3::Client::from_conf(config(upstream)?)))
}

/// The upstream client's settings. Bodies stream through both ways (s3s-aws hands the
/// SDK the client's body as it arrives, and the upstream's answer back the same way), over
/// pooled keep-alive connections with TCP_NODELAY (the SDK's default HTTP client).
fn config(upstream: Upstream<'_>) -> Result<aws_sdk_s3::Config, String> {
    if !(upstream.url.starts_with("http://") || upstream.url.starts_with("https://")) {
        return Err(format!(
            "the upstream URL “{}” must start with http:// or https://",
            upstream.url
        ));
    }
    Ok(aws_sdk_s3::Config::builder()
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
        // An upload moves at the client's pace: the SDK's check (5 s under 1 byte/s) failed
        // a client that paused mid-upload with a 500, where Stook's own idle timeout
        // (STOOK_S3_BODY_IDLE_TIMEOUT_SECS) is the limit. Downloads keep it, so a stalled
        // upstream does not hold the client's connection forever.
        .stalled_stream_protection(StalledStreamProtectionConfig::enabled().upload_enabled(false).build())
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(url: &str) -> Upstream<'_> {
        Upstream {
            url,
            region: "garage",
            access_key_id: "GK1",
            secret_access_key: "secret",
        }
    }

    #[test]
    fn uploads_wait_for_the_client_and_downloads_for_the_upstream() {
        let config = config(upstream("http://127.0.0.1:3900/")).unwrap();
        let stalls = config.stalled_stream_protection().expect("set");
        assert!(!stalls.upload_enabled(), "the body idle timeout governs uploads");
        assert!(stalls.download_enabled());
    }

    #[test]
    fn no_checksum_is_added_to_what_the_client_sent() {
        let config = config(upstream("http://127.0.0.1:3900")).unwrap();
        assert_eq!(
            config.request_checksum_calculation(),
            Some(&RequestChecksumCalculation::WhenRequired)
        );
        assert_eq!(
            config.response_checksum_validation(),
            Some(&ResponseChecksumValidation::WhenRequired)
        );
    }

    #[test]
    fn the_upstream_url_needs_a_scheme() {
        assert!(config(upstream("127.0.0.1:3900")).unwrap_err().contains("http://"));
    }
}
