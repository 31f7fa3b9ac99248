//! Turns one HTTP exchange into the `HttpObservation` detection rules read, or an `Unknown` reason.

use crate::detect::HttpObservation;
use crate::domain::UnknownReason;

/// The parts of a response detection needs, owned.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Location` of a redirect, resolved against the request URL.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn observation(&self) -> HttpObservation<'_> {
        HttpObservation {
            status: self.status,
            content_type: self.content_type.as_deref(),
            final_url: self.location.as_deref(),
            body: &self.body,
        }
    }
}

/// Sends a request and reads the whole body. Transport failures become the `Unknown` reason.
pub async fn fetch(request: reqwest::RequestBuilder) -> Result<Fetched, UnknownReason> {
    let response = request.send().await.map_err(transport_reason)?;
    let status = response.status().as_u16();
    if status == 407 {
        // A proxy in the way refused our credentials: nothing was asked of the target.
        return Err(UnknownReason::ProxyAuth);
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let location = header(reqwest::header::LOCATION).map(|loc| match response.url().join(&loc) {
        Ok(url) => url.to_string(),
        Err(_) => loc,
    });
    let body = response.bytes().await.map_err(transport_reason)?.to_vec();
    Ok(Fetched {
        status,
        content_type,
        location,
        body,
    })
}

/// Classifies a reqwest failure. Never logs it: its Display carries the URL.
pub fn transport_reason(err: reqwest::Error) -> UnknownReason {
    use std::error::Error;
    // reqwest reports a refused proxy login on CONNECT as a connect error whose source says so.
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string().to_ascii_lowercase();
        if text.contains("proxy authentication required") || text.contains("407") {
            return UnknownReason::ProxyAuth;
        }
        source = cause.source();
    }
    if err.is_timeout() {
        UnknownReason::Timeout
    } else {
        UnknownReason::Network
    }
}
