//! Browser form uploads (POST object). s3s reads a form's whole file into memory before
//! the access check runs, so an anonymous form could make the server swallow gigabytes
//! only to refuse them. S3 forms put every field before the file: this layer reads the
//! fields alone, refuses a form that carries no signature, and hands s3s the rest.

use super::body::Prefixed;
use super::s3_error_response;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use std::pin::Pin;

/// The form fields before the file may take this many bytes (the policy document is the
/// large one, a few kilobytes in practice).
pub const MAX_FORM_FIELDS_BYTES: usize = 1024 * 1024;

/// The largest file a form upload may carry. s3s holds a form's file in memory before
/// the backend sees it, so this is far below S3's 5 GiB: larger files go up with PUT or
/// multipart uploads, which stream.
pub const MAX_POST_OBJECT_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What the fields read so far say about the form.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    NeedMore,
    /// The file part begins, after a signature field.
    Signed,
    /// The file part begins, and no field signed the form.
    Unsigned,
    /// Not a form this layer understands (no file, odd framing): s3s answers for it.
    Other,
}

fn field_name(headers: &str) -> Option<(String, bool)> {
    let disposition = headers
        .split("\r\n")
        .find(|line| line.to_ascii_lowercase().starts_with("content-disposition:"))?;
    let mut name = None;
    let mut is_file = false;
    for param in disposition.split(';').skip(1) {
        let (key, value) = param.trim().split_once('=')?;
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value.to_string()),
            "filename" => is_file = true,
            _ => {}
        }
    }
    let name = name?;
    let is_file = is_file || name.eq_ignore_ascii_case("file");
    Some((name, is_file))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Reads the multipart framing up to the file part.
fn scan(buffer: &[u8], boundary: &str) -> Scan {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let Some(mut at) = find(buffer, delimiter, 0) else {
        return Scan::NeedMore;
    };
    let mut signed = false;
    loop {
        let after = at + delimiter.len();
        let Some(next) = buffer.get(after..after + 2) else {
            return Scan::NeedMore;
        };
        if next == b"--" {
            return Scan::Other;
        }
        let Some(headers_end) = find(buffer, b"\r\n\r\n", after) else {
            return Scan::NeedMore;
        };
        let headers = String::from_utf8_lossy(&buffer[after..headers_end]);
        let Some((name, is_file)) = field_name(&headers) else {
            return Scan::Other;
        };
        if is_file {
            return if signed { Scan::Signed } else { Scan::Unsigned };
        }
        signed |= name.eq_ignore_ascii_case("x-amz-signature") || name.eq_ignore_ascii_case("signature");
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let Some(end) = find(buffer, &closing, headers_end + 4) else {
            return Scan::NeedMore;
        };
        at = end + 2;
    }
}

fn form_boundary(request: &Request<Body>) -> Option<String> {
    if request.method() != Method::POST {
        return None;
    }
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

async fn next_bytes(body: &mut Body) -> Option<Result<Bytes, axum::Error>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(error) => return Some(Err(error)),
        }
    }
}

/// Whether the fields read so far are worth scanning again (`scanned`: the length at the
/// last scan). Each scan starts from the beginning, so scanning on every chunk would cost
/// O(n²) for a client that sends the fields a few bytes at a time; scanning once the
/// buffer grew by a quarter keeps the total work linear.
fn rescan_due(scanned: Option<usize>, len: usize) -> bool {
    scanned.is_none_or(|at| len > at + at / 4)
}

/// The layer: refuses unsigned forms after their fields, passes everything else on.
pub async fn refuse_unsigned_forms(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let Some(boundary) = form_boundary(&request) else {
        return next.run(request).await;
    };
    let (parts, mut body) = request.into_parts();
    let mut fields = Vec::new();
    let (mut scanned, mut ended) = (None, false);
    loop {
        let outcome = if ended || rescan_due(scanned, fields.len()) {
            scanned = Some(fields.len());
            scan(&fields, &boundary)
        } else {
            Scan::NeedMore
        };
        match outcome {
            Scan::NeedMore if ended => break,
            Scan::NeedMore if fields.len() > MAX_FORM_FIELDS_BYTES => {
                return s3_error_response(
                    StatusCode::BAD_REQUEST,
                    "MalformedPOSTRequest",
                    &format!(
                        "The form fields before the file exceed {MAX_FORM_FIELDS_BYTES} bytes; put the file last and keep the fields short."
                    ),
                );
            }
            Scan::NeedMore => match next_bytes(&mut body).await {
                Some(Ok(data)) => fields.extend_from_slice(&data),
                Some(Err(_)) => {
                    return s3_error_response(
                        StatusCode::BAD_REQUEST,
                        "MalformedPOSTRequest",
                        "The form upload ended before its file.",
                    );
                }
                None => ended = true,
            },
            Scan::Unsigned => {
                return s3_error_response(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "Access denied: sign the form with an access key (the x-amz-signature field); Stook takes no anonymous uploads.",
                );
            }
            Scan::Signed | Scan::Other => break,
        }
    }
    let body = Body::new(Prefixed::new(Bytes::from(fields), body));
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)], file: &str) -> Vec<u8> {
        let mut out = String::new();
        for (name, value) in fields {
            out += &format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }
        out += &format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n{file}\r\n--XyZ--\r\n"
        );
        out.into_bytes()
    }

    #[test]
    fn the_fields_before_the_file_say_whether_a_form_is_signed() {
        let unsigned = form(&[("key", "photos/a.txt"), ("acl", "public-read")], "data");
        assert_eq!(scan(&unsigned, "XyZ"), Scan::Unsigned);
        let signed = form(&[("key", "a"), ("policy", "e30="), ("X-Amz-Signature", "ab12")], "data");
        assert_eq!(scan(&signed, "XyZ"), Scan::Signed);
        // A field whose value merely mentions a signature signs nothing.
        let sneaky = form(&[("key", "x-amz-signature")], "data");
        assert_eq!(scan(&sneaky, "XyZ"), Scan::Unsigned);
        // Decided as soon as the file part's headers are in: the file itself is not needed.
        let cut = unsigned.len() - "data\r\n--XyZ--\r\n".len();
        assert_eq!(scan(&unsigned[..cut], "XyZ"), Scan::Unsigned);
        for end in [0, 5, 40, 60] {
            assert_eq!(scan(&signed[..end], "XyZ"), Scan::NeedMore, "{end}");
        }
        assert_eq!(scan(b"--XyZ--\r\n", "XyZ"), Scan::Other);
    }

    #[test]
    fn fields_sent_a_few_bytes_at_a_time_are_scanned_a_few_times() {
        let (mut scanned, mut scans, mut len) = (None, 0, 0);
        while len <= MAX_FORM_FIELDS_BYTES {
            if rescan_due(scanned, len) {
                scanned = Some(len);
                scans += 1;
            }
            len += 128;
        }
        // Every chunk would be 8,193 scans of up to 1 MiB each.
        assert!(scans < 60, "{scans} scans");
    }
}
