//! The Credentials list's state in the address (search, page, filters, sort), the links
//! that keep it, and the percent-encoder every Stook address uses.

use crate::domain::ListSort;

/// The list's own query (search, page, admin filters), kept when a drawer opens or closes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListState {
    pub search: String,
    pub page: u64,
    pub owner: String,
    pub bucket: Option<i32>,
    /// `created` (the default), `name` or `last_used`.
    pub sort: String,
    /// Empty (every status), `active`, `revoked` or `expired`.
    pub status: String,
}

impl ListState {
    /// The address parameters this state needs (defaults left out), for links and for
    /// the hidden fields of a GET form that must keep the list as it is.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = Vec::new();
        if !self.search.is_empty() {
            params.push(("q".into(), self.search.clone()));
        }
        if self.page > 0 {
            params.push(("page".into(), self.page.to_string()));
        }
        if !self.owner.is_empty() {
            params.push(("owner".into(), self.owner.clone()));
        }
        if let Some(bucket) = self.bucket {
            params.push(("bucket".into(), bucket.to_string()));
        }
        if !self.sort.is_empty() && self.sort != ListSort::default().as_str() {
            params.push(("sort".into(), self.sort.clone()));
        }
        if !self.status.is_empty() {
            params.push(("status".into(), self.status.clone()));
        }
        params
    }

    /// `/` with this list state and `extra` parameters.
    pub fn href(&self, extra: &[(&str, &str)]) -> String {
        let mut params = self.params();
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if params.is_empty() {
            return "/".into();
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        format!("/?{}", query.join("&"))
    }
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters and
/// `@` (so an owner's email stays readable in the address bar). The one encoder of
/// Stook's addresses, on either side.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_and_defaults_left_out() {
        assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(percent_encode("ann@example.com&x=1"), "ann@example.com%26x%3D1");
        assert_eq!(ListState::default().href(&[]), "/");
        let state = ListState {
            search: "web site".into(),
            page: 2,
            sort: "created".into(),
            status: "revoked".into(),
            ..ListState::default()
        };
        assert_eq!(
            state.href(&[("key", "AK1")]),
            "/?q=web%20site&page=2&status=revoked&key=AK1"
        );
    }
}
