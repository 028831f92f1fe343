//! Token extraction, realm building and query rewriting on arbitrary requests.
#![no_main]

use cilium_jwt::config::{HeaderLocation, MatchJwt};
use cilium_jwt::extractor::{Extractor, remove_query_param};
use cilium_jwt::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(4, '\n');
    let (path, prefix, value, param) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let Ok(url) = url::Url::parse("http://127.0.0.1/jwks") else { return };
    let mut requirement = MatchJwt::new("iss", url);
    requirement.from_headers = vec![HeaderLocation { name: "authorization".into(), value_prefix: prefix.into() }];
    requirement.from_params = vec![param.to_string()];
    let headers = [("authorization", value), ("host", value), ("x-envoy-original-path", path)];
    let request = Request::new(path, &headers);
    let _ = Extractor::new(&requirement).extract(&request);
    let _ = request.original_uri();
    let _ = remove_query_param(path, param);
});
