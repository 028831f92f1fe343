//! The view of an HTTP request that authentication needs.

/// Longest path kept in the `WWW-Authenticate` realm, as in jwt_authn's `buildOriginalUri`.
pub const MAX_REALM_PATH_LENGTH: usize = 256;

/// An HTTP request as the proxy presents it: `:path` (with query) and the header entries.
///
/// Header names are matched case-insensitively. A name may repeat: each entry is kept as
/// the proxy has it (Envoy's codecs already join repeated inline headers such as
/// `Authorization` with `,`). Pseudo-headers (`:authority`, `:scheme`) may be included.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request target: path and query.
    pub path: &'a str,
    /// Every header entry, in arrival order.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// A request with the given path and headers.
    pub fn new(path: &'a str, headers: &'a [(&'a str, &'a str)]) -> Self {
        Request { path, headers }
    }

    /// Values of every entry named `name`, in order.
    pub fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// Value of the first entry named `name`.
    pub fn first(&self, name: &str) -> Option<&'a str> {
        self.values(name).next()
    }

    /// The realm jwt_authn puts in `WWW-Authenticate` (`buildOriginalUri`):
    /// `<scheme>://<authority><path>`, path with its query, from `x-envoy-original-path`
    /// when present, cut at 256 bytes. The scheme is `:scheme` when the proxy gives it,
    /// else what Envoy derives from a valid `x-forwarded-proto`, else `http`.
    pub fn original_uri(&self) -> String {
        let scheme = self
            .first(":scheme")
            .or_else(|| self.first("x-forwarded-proto").filter(|p| matches!(*p, "http" | "https")))
            .unwrap_or("http");
        let host = self.first(":authority").or_else(|| self.first("host")).unwrap_or_default();
        let path = self.first("x-envoy-original-path").unwrap_or(self.path);
        let path = truncate_at_char_boundary(path, MAX_REALM_PATH_LENGTH);
        format!("{scheme}://{host}{path}")
    }
}

fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_entries_case_insensitively() {
        let headers = [("X-Jwt", "a"), ("x", "y"), ("x-jwt", "b")];
        let req = Request::new("/", &headers);
        assert_eq!(req.values("x-jwt").collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(req.first("X"), Some("y"));
        assert!(req.first("z").is_none());
    }

    #[test]
    fn realm_keeps_query_and_truncates() {
        let headers = [(":authority", "svc:7070"), (":scheme", "https")];
        assert_eq!(Request::new("/a?access_token=x", &headers).original_uri(), "https://svc:7070/a?access_token=x");
        let headers = [("host", "h"), ("x-forwarded-proto", "ftp")];
        assert_eq!(Request::new("/", &headers).original_uri(), "http://h/");
        let long = format!("/{}", "p".repeat(400));
        let headers = [("host", "h"), ("x-envoy-original-path", "/orig?z")];
        assert_eq!(Request::new(&long, &headers).original_uri(), "http://h/orig?z");
        assert_eq!(Request::new(&long, &[]).original_uri().len(), "http://".len() + 256);
    }
}
