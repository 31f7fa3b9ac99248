//! What a checker hands to detection: an HTTP response or a rendered profile page, borrowed, never fetched here.

/// One HTTP response as the checker received it (after following redirects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpObservation<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    /// The URL the client ended on, when it followed redirects.
    pub final_url: Option<&'a str>,
    pub body: &'a [u8],
}

/// One profile page as a browser rendered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageObservation<'a> {
    /// The URL the browser ended on after navigating to the profile.
    pub final_url: &'a str,
    /// `document.title`, already decoded by the browser.
    pub title: &'a str,
    /// The page source.
    pub html: &'a str,
}
