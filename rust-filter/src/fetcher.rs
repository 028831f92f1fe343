//! Fetching a key set over HTTP(S) with a deadline and a size bound.

use std::time::Duration;

use url::Url;

use crate::jwks::{JwksError, KeySet};

/// Why a fetch produced no key set. The previous key set, if any, stays in use.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS or protocol failure, or the timeout.
    #[error("request failed: {0}")]
    Transport(String),
    /// Any status but 200 (redirects are not followed, as in jwt_authn).
    #[error("HTTP status {0}")]
    Status(u16),
    /// The body exceeds the configured bound.
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not a usable key set.
    #[error("{0}")]
    Invalid(#[from] JwksError),
}

/// An HTTP client for key sets.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body_bytes: usize,
}

impl Fetcher {
    /// A client whose every request (connect, headers and body) ends within `timeout`.
    pub fn new(timeout: Duration, max_body_bytes: usize) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("cilium-jwt/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        Ok(Fetcher { client, max_body_bytes })
    }

    /// GETs `url` and parses the key set. Must run inside the engine's Tokio runtime.
    pub async fn fetch(&self, url: &Url) -> Result<KeySet, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| FetchError::Transport(error_chain(&e)))?;
        if response.status().as_u16() != 200 {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response.content_length().is_some_and(|len| len > self.max_body_bytes as u64) {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Transport(error_chain(&e)))? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(KeySet::parse(&body)?)
    }
}

/// reqwest's top-level message hides the cause ("error sending request"); keep it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
