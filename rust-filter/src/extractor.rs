//! Finding tokens in a request with jwt_authn's `extractor.cc` rules:
//! - header locations are visited sorted by `lower-case name + prefix`, then query
//!   parameters sorted by name (configuration order does not matter);
//! - every entry of a header is a separate candidate; with a value prefix, the prefix is
//!   searched anywhere in the value (case-sensitive) and the token runs from the first
//!   base64url-or-`.` character after it to the end of the value; an entry without the
//!   prefix is skipped; no token character at all makes the whole value the "token";
//! - a query parameter's first occurrence is used, percent-decoded (`+` stays `+`); a
//!   parameter without a value is an empty token, not a missing one.

use std::borrow::Cow;

use crate::config::{HeaderLocation, MatchJwt};
use crate::request::Request;

/// Where a token was found, so the proxy can remove it before forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// A request header (lower-case name).
    Header(String),
    /// A query parameter.
    Param(String),
}

/// A token found in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedToken<'r> {
    /// The token text.
    pub token: Cow<'r, str>,
    /// Where it was found.
    pub location: TokenLocation,
}

/// The token locations of one requirement, resolved once from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extractor {
    headers: Vec<HeaderLocation>,
    params: Vec<String>,
}

impl Extractor {
    /// The locations `requirement` reads tokens from (jwt_authn's defaults if it names none).
    pub fn new(requirement: &MatchJwt) -> Self {
        let mut headers = requirement.effective_headers();
        // jwt_authn keys its header locations by `lower(name) + prefix` in a std::map.
        headers.sort_by_key(|h| format!("{}{}", h.name, h.value_prefix));
        headers.dedup_by_key(|h| format!("{}{}", h.name, h.value_prefix));
        let mut params = requirement.effective_params();
        params.sort();
        params.dedup();
        Extractor { headers, params }
    }

    /// Every token in the request, in jwt_authn's extraction order.
    pub fn extract<'r>(&self, request: &Request<'r>) -> Vec<ExtractedToken<'r>> {
        let mut tokens = Vec::new();
        for location in &self.headers {
            for value in request.values(&location.name) {
                let token = if location.value_prefix.is_empty() {
                    Some(value)
                } else {
                    value.find(&location.value_prefix).map(|at| token_after(value, at + location.value_prefix.len()))
                };
                if let Some(token) = token {
                    let location = TokenLocation::Header(location.name.clone());
                    tokens.push(ExtractedToken { token: Cow::Borrowed(token), location });
                }
            }
        }
        if let Some((_, query)) = request.path.split_once('?') {
            for param in &self.params {
                if let Some(value) = first_query_value(query, param) {
                    tokens.push(ExtractedToken { token: value, location: TokenLocation::Param(param.clone()) });
                }
            }
        }
        tokens
    }
}

const fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

/// jwt_authn's `extractJWT`: from the first token character at or after `from` to the end
/// of the value; the whole value when there is no token character.
fn token_after(value: &str, from: usize) -> &str {
    match value.as_bytes()[from..].iter().position(|&b| is_token_char(b)) {
        Some(start) => &value[from + start..],
        None => value,
    }
}

/// The first value of parameter `name`, both key and value percent-decoded.
fn first_query_value<'r>(query: &'r str, name: &str) -> Option<Cow<'r, str>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

/// Removes every occurrence of parameter `name` from the query of `path`, leaving the
/// other parameters byte for byte (Envoy instead re-emits them decoded and sorted, which
/// can change their meaning; see the README). Drops the `?` when nothing is left.
pub fn remove_query_param(path: &str, name: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| percent_decode(pair.split_once('=').map_or(*pair, |(k, _)| k)) != name)
        .collect();
    if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) }
}

/// Decodes `%XX` escapes; invalid escapes stay literal. A non-UTF-8 result keeps the input.
fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high << 4) | low);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_or(Cow::Borrowed(text), Cow::Owned)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HeaderLocation;
    use url::Url;

    fn requirement() -> MatchJwt {
        MatchJwt::new("i", Url::parse("http://127.0.0.1/").unwrap())
    }

    fn tokens(ex: &Extractor, path: &str, headers: &[(&str, &str)]) -> Vec<String> {
        ex.extract(&Request::new(path, headers)).into_iter().map(|t| t.token.into_owned()).collect()
    }

    #[test]
    fn defaults_bearer_then_access_token() {
        let ex = Extractor::new(&requirement());
        let got = tokens(&ex, "/p?x=1&access_token=q.r.s&access_token=other", &[("Authorization", "Bearer a.b.c")]);
        assert_eq!(got, vec!["a.b.c", "q.r.s"]);
    }

    #[test]
    fn prefix_search_and_token_to_end_of_value() {
        let ex = Extractor::new(&requirement());
        assert!(tokens(&ex, "/", &[("authorization", "bearer a.b.c")]).is_empty());
        assert_eq!(tokens(&ex, "/", &[("authorization", "Basic x, Bearer a.b.c")]), vec!["a.b.c"]);
        assert_eq!(tokens(&ex, "/", &[("authorization", "Bearer a.b.c junk")]), vec!["a.b.c junk"]);
        assert_eq!(tokens(&ex, "/", &[("authorization", "Bearer a.b.c,Bearer d.e.f")]), vec!["a.b.c,Bearer d.e.f"]);
        assert_eq!(tokens(&ex, "/", &[("authorization", "Bearer !!!")]), vec!["Bearer !!!"]);
        assert_eq!(tokens(&ex, "/", &[("authorization", "Bearer   :a.b.c")]), vec!["a.b.c"]);
    }

    #[test]
    fn custom_header_entries_are_separate_and_sorted() {
        let mut m = requirement();
        m.from_headers = vec![
            HeaderLocation { name: "x-jwt".into(), value_prefix: String::new() },
            HeaderLocation { name: "authorization".into(), value_prefix: "Bearer ".into() },
        ];
        let ex = Extractor::new(&m);
        let got = tokens(&ex, "/?access_token=z", &[("x-jwt", "1"), ("Authorization", "Bearer 2"), ("x-jwt", "3")]);
        assert_eq!(got, vec!["2", "1", "3"]);
    }

    #[test]
    fn empty_param_is_a_token() {
        let ex = Extractor::new(&requirement());
        assert_eq!(tokens(&ex, "/?access_token", &[]), vec![""]);
        assert_eq!(tokens(&ex, "/?access%5Ftoken=a%2Eb+c", &[]), vec!["a.b+c"]);
        assert!(tokens(&ex, "/?a=1;access_token=x", &[]).is_empty());
    }

    #[test]
    fn removing_a_param_keeps_the_rest_verbatim() {
        assert_eq!(remove_query_param("/p?a=%20&access_token=t&b=2&access_token=u", "access_token"), "/p?a=%20&b=2");
        assert_eq!(remove_query_param("/p?access_token=t", "access_token"), "/p");
        assert_eq!(remove_query_param("/p", "access_token"), "/p");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Eb"), "a.b");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("%4"), "%4");
    }
}
