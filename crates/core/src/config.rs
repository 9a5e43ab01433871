//! Where requests go and who sends them: base URLs, credentials, User-Agent.

use std::fmt;
use std::sync::Arc;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderValue, Uri};

use crate::secret::Secret;

/// Klarna's API regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Region {
    /// Europe (`api.klarna.com`).
    Eu,
    /// North America (`api-na.klarna.com`).
    Na,
    /// Oceania (`api-oc.klarna.com`).
    Oc,
}

/// Production or the playground (test) environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Environment {
    /// Live money.
    Production,
    /// Klarna's test environment.
    Playground,
}

/// Why a configuration value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL does not parse as an absolute `scheme://host[:port][/prefix]` URL.
    #[error("base URL is not an absolute http(s) URL without query or fragment")]
    InvalidBaseUrl,
    /// Plain `http://` was given for a host that is not loopback.
    #[error("plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost)")]
    InsecureBaseUrl,
    /// The User-Agent contains characters not allowed in a header.
    #[error("User-Agent product contains characters not allowed in an HTTP header")]
    InvalidUserAgent,
}

/// The root of Klarna's API: one of the official hosts, or a custom one (the emulator).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    /// Path prefix without a trailing slash ("" for none).
    prefix: String,
}

impl BaseUrl {
    /// The official base URL for a region and environment.
    pub fn klarna(region: Region, environment: Environment) -> Self {
        let host = match (region, environment) {
            (Region::Eu, Environment::Production) => "api.klarna.com",
            (Region::Eu, Environment::Playground) => "api.playground.klarna.com",
            (Region::Na, Environment::Production) => "api-na.klarna.com",
            (Region::Na, Environment::Playground) => "api-na.playground.klarna.com",
            (Region::Oc, Environment::Production) => "api-oc.klarna.com",
            (Region::Oc, Environment::Playground) => "api-oc.playground.klarna.com",
        };
        Self {
            scheme: Scheme::HTTPS,
            authority: Authority::from_static(host),
            prefix: String::new(),
        }
    }

    /// A custom base URL, e.g. the emulator's `http://127.0.0.1:PORT`.
    ///
    /// `https` is accepted for any host; plain `http` only for loopback hosts.
    pub fn custom(url: &str) -> Result<Self, ConfigError> {
        let uri: Uri = url.parse().map_err(|_| ConfigError::InvalidBaseUrl)?;
        let scheme = uri.scheme().cloned().ok_or(ConfigError::InvalidBaseUrl)?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or(ConfigError::InvalidBaseUrl)?;
        if uri.query().is_some() || authority.as_str().contains('@') || authority.host().is_empty()
        {
            return Err(ConfigError::InvalidBaseUrl);
        }
        if scheme == Scheme::HTTP {
            if !is_loopback_host(authority.host()) {
                return Err(ConfigError::InsecureBaseUrl);
            }
        } else if scheme != Scheme::HTTPS {
            return Err(ConfigError::InvalidBaseUrl);
        }
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(Self {
            scheme,
            authority,
            prefix,
        })
    }

    /// `scheme://authority`, e.g. `https://api.klarna.com`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// The full URL of an API path (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}://{}{}{}",
            self.scheme, self.authority, self.prefix, path
        )
    }

    /// The full URI of an API path (which starts with `/` and is already percent-encoded),
    /// built from the parsed parts without reparsing the scheme and authority.
    pub(crate) fn uri(&self, path: &str) -> Option<Uri> {
        let mut full = String::with_capacity(self.prefix.len() + path.len());
        full.push_str(&self.prefix);
        full.push_str(path);
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(http::uri::PathAndQuery::try_from(full).ok()?);
        Uri::from_parts(parts).ok()
    }

    /// Whether an absolute URL points into this API (same scheme, authority and prefix).
    pub fn contains(&self, url: &str) -> bool {
        let root = self.url("/");
        url.starts_with(&root)
    }
}

/// Through the crate's URL redaction: a proxy's path prefix may hold a token.
impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", crate::redact::url(&self.url("")))
    }
}

/// Through the crate's URL redaction, like `Debug`; the URL itself is [`BaseUrl::url`]`("")`.
impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::url(&self.url("")))
    }
}

/// Whether a URL host is a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// API credentials (HTTP Basic). `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: Secret,
    /// The `Authorization` value, built once (cloning it is a reference-count increment) and
    /// marked sensitive; `None` when the credentials hold bytes a header may not carry.
    header: Option<HeaderValue>,
}

impl Credentials {
    /// From an API username (tied to a merchant id) and its password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        let username = username.into();
        let password = Secret::new(password.into());
        let header = HeaderValue::try_from(basic(&username, password.expose()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Self {
            username,
            password,
            header,
        }
    }

    /// The API username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `Authorization` header value: `Basic base64(username:password)`.
    pub fn authorization_header(&self) -> String {
        basic(&self.username, self.password.expose())
    }

    /// The `Authorization` header, marked sensitive; `None` when the username or password holds
    /// characters an HTTP header may not carry (a newline, say).
    pub(crate) fn header_value(&self) -> Option<&HeaderValue> {
        self.header.as_ref()
    }
}

fn basic(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!("Basic {}", base64(raw.as_bytes()))
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Standard base64 with padding (RFC 4648 §4); small enough not to need a crate.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `User-Agent` sent with every request: `klarna-hpp/<version>` plus the integrator's products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent {
    text: String,
    /// The same text as a header value, built once.
    value: HeaderValue,
}

impl Default for UserAgent {
    fn default() -> Self {
        Self {
            text: DEFAULT_USER_AGENT.to_owned(),
            value: HeaderValue::from_static(DEFAULT_USER_AGENT),
        }
    }
}

const DEFAULT_USER_AGENT: &str = concat!("klarna-hpp/", env!("CARGO_PKG_VERSION"));

impl UserAgent {
    /// Appends a product token such as `my-shop/1.2` (printable ASCII only).
    pub fn with_product(self, product: &str) -> Result<Self, ConfigError> {
        if product.is_empty() || !product.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(ConfigError::InvalidUserAgent);
        }
        let text = format!("{} {product}", self.text);
        Ok(self.with_text(text))
    }

    fn with_text(self, text: String) -> Self {
        // Printable ASCII only (checked above), which every header value accepts.
        let value = HeaderValue::try_from(text.as_str()).unwrap_or(self.value);
        Self { text, value }
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The header value, built once.
    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.value
    }
}

/// Everything needed to address Klarna's API: base URL, credentials, User-Agent.
#[derive(Clone)]
pub struct Api {
    base_url: BaseUrl,
    credentials: Credentials,
    user_agent: UserAgent,
    /// The headers every request carries, built once from the fields above (shared by clones).
    headers: Arc<RequestHeaders>,
}

/// The headers every Klarna call carries, prebuilt: cloning a finished map costs a third of
/// inserting its entries one by one (each insert hashes and probes).
/// `Accept`, `Authorization` (marked sensitive) and `User-Agent` for bodiless calls, the same
/// plus `Content-Type: application/json` for the others; `None` when the credentials hold bytes
/// a header may not carry.
#[derive(Debug)]
pub(crate) struct RequestHeaders(Option<(HeaderMap, HeaderMap)>);

impl RequestHeaders {
    fn new(credentials: &Credentials, user_agent: &UserAgent) -> Self {
        let Some(authorization) = credentials.header_value() else {
            return Self(None);
        };
        const JSON: HeaderValue = HeaderValue::from_static("application/json");
        let common = |capacity| {
            let mut map = HeaderMap::with_capacity(capacity);
            map.insert(ACCEPT, JSON);
            map.insert(AUTHORIZATION, authorization.clone());
            map.insert(USER_AGENT, user_agent.header_value().clone());
            map
        };
        let mut json = common(4);
        json.insert(CONTENT_TYPE, JSON);
        Self(Some((common(3), json)))
    }

    /// The headers for a request with a JSON body, or without a body.
    pub(crate) fn get(&self, has_body: bool) -> Option<&HeaderMap> {
        let (bodiless, json) = self.0.as_ref()?;
        Some(if has_body { json } else { bodiless })
    }
}

impl Api {
    /// An API root with the default User-Agent.
    pub fn new(base_url: BaseUrl, credentials: Credentials) -> Self {
        let user_agent = UserAgent::default();
        let headers = Arc::new(RequestHeaders::new(&credentials, &user_agent));
        Self {
            base_url,
            credentials,
            user_agent,
            headers,
        }
    }

    /// Replaces the User-Agent.
    pub fn with_user_agent(mut self, user_agent: UserAgent) -> Self {
        self.headers = Arc::new(RequestHeaders::new(&self.credentials, &user_agent));
        self.user_agent = user_agent;
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The User-Agent.
    pub fn user_agent(&self) -> &UserAgent {
        &self.user_agent
    }

    /// The prebuilt headers of every request.
    pub(crate) fn request_headers(&self) -> &RequestHeaders {
        &self.headers
    }
}

// The prebuilt headers are derived from the other fields, so they take no part in equality or
// in `Debug`.
impl PartialEq for Api {
    fn eq(&self, other: &Self) -> bool {
        self.base_url == other.base_url
            && self.credentials == other.credentials
            && self.user_agent == other.user_agent
    }
}

impl Eq for Api {}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_klarna_example() {
        let c = Credentials::new("DemoMerchant", "DemoPassword");
        assert_eq!(
            c.authorization_header(),
            "Basic RGVtb01lcmNoYW50OkRlbW9QYXNzd29yZA=="
        );
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let c = Credentials::new("merchant-user", "hunter2");
        let s = format!("{c:?}");
        assert!(
            !s.contains("hunter2") && !s.contains("merchant-user"),
            "{s}"
        );
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            BaseUrl::klarna(Region::Na, Environment::Playground).url("/x"),
            "https://api-na.playground.klarna.com/x"
        );
        let local = BaseUrl::custom("http://127.0.0.1:8080/").expect("loopback http");
        assert_eq!(
            local.url("/hpp/v1/sessions"),
            "http://127.0.0.1:8080/hpp/v1/sessions"
        );
        assert!(BaseUrl::custom("http://[::1]:80").is_ok());
        assert!(BaseUrl::custom("http://localhost:1").is_ok());
        assert_eq!(
            BaseUrl::custom("http://example.com"),
            Err(ConfigError::InsecureBaseUrl)
        );
        assert_eq!(
            BaseUrl::custom("ftp://example.com"),
            Err(ConfigError::InvalidBaseUrl)
        );
        assert_eq!(
            BaseUrl::custom("/relative"),
            Err(ConfigError::InvalidBaseUrl)
        );
        assert_eq!(
            BaseUrl::custom("https://a.b/?q=1"),
            Err(ConfigError::InvalidBaseUrl)
        );
        assert!(BaseUrl::custom("https://proxy.example/klarna").is_ok());
    }

    #[test]
    fn user_agent() {
        let ua = UserAgent::default()
            .with_product("shop/1.0")
            .expect("valid");
        assert!(ua.as_str().starts_with("klarna-hpp/"));
        assert!(ua.as_str().ends_with(" shop/1.0"));
        assert_eq!(
            UserAgent::default().with_product("a\nb"),
            Err(ConfigError::InvalidUserAgent)
        );
    }
}
