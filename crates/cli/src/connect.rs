//! Where requests go and as whom: the base URL from the flags or the profile, the credentials
//! from `KLARNA_USERNAME`/`KLARNA_PASSWORD` or the profile, and one call = one request.

use std::time::Duration;

use klarna_hpp_blocking::{Transport, UreqTransport};
use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Operation, Region, UserAgent};

use crate::config::{self, Profile};
use crate::error::CliError;
use crate::{Global, RegionArg};

/// A decoded answer together with the exact body Klarna sent (for `--json`).
#[derive(Debug)]
pub(crate) struct Reply<T> {
    /// The typed answer.
    pub(crate) value: T,
    /// The body as received, byte for byte.
    pub(crate) body: Vec<u8>,
}

/// Klarna's API (or the emulator's) over the blocking crate's ureq transport.
pub(crate) struct Klarna {
    api: Api,
    transport: UreqTransport,
}

impl Klarna {
    /// Resolves the environment and the credentials from the flags, the environment variables
    /// and the profile.
    pub(crate) fn connect(global: &Global) -> Result<Self, CliError> {
        let profile_name = global.profile.as_deref().unwrap_or(config::DEFAULT_PROFILE);
        let profile = config::load_profile(profile_name)?;
        let explicit_profile = global.profile.is_some();
        if explicit_profile && profile.is_none() {
            return Err(CliError::Usage(format!(
                "no profile named `{profile_name}` (create it with `klarna-hpp config set-profile {profile_name}`)"
            )));
        }
        let base_url = base_url(global, profile.as_ref())?;
        let credentials = credentials(profile.as_ref(), profile_name)?;
        let user_agent = UserAgent::default()
            .with_product(concat!("klarna-hpp-cli/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| CliError::Other(e.to_string()))?;
        let api = Api::new(base_url, credentials).with_user_agent(user_agent);
        Ok(Self {
            api,
            transport: UreqTransport::with_timeouts(
                Duration::from_secs(10),
                Duration::from_secs(30),
            ),
        })
    }

    /// The API (base URL and credentials).
    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    /// Builds, sends and decodes one operation. `unknown_hint` is appended to the error when
    /// the request may have been processed without an answer reaching us.
    pub(crate) fn call<O: Operation>(
        &self,
        operation: &O,
        unknown_hint: &str,
    ) -> Result<Reply<O::Output>, CliError> {
        let request = operation
            .to_request(&self.api)
            .map_err(|e| CliError::from_core(e, ""))?;
        let response = self
            .transport
            .send(request)
            .map_err(|e| CliError::from_transport(e, unknown_hint))?;
        let value =
            O::decode_response(&response).map_err(|e| CliError::from_core(e, unknown_hint))?;
        Ok(Reply {
            value,
            body: response.into_body(),
        })
    }
}

fn base_url(global: &Global, profile: Option<&Profile>) -> Result<BaseUrl, CliError> {
    let custom = global.base_url.clone().or_else(|| {
        if global.region.is_some() || global.playground {
            None
        } else {
            profile.and_then(|p| p.base_url.clone())
        }
    });
    if let Some(url) = custom {
        if global.region.is_some() || global.playground {
            return Err(CliError::Usage(
                "--base-url excludes --region and --playground".into(),
            ));
        }
        return BaseUrl::custom(&url).map_err(|e| CliError::Usage(format!("--base-url: {e}")));
    }
    let region = match global.region {
        Some(RegionArg::Eu) => Region::Eu,
        Some(RegionArg::Na) => Region::Na,
        Some(RegionArg::Oc) => Region::Oc,
        None => profile
            .and_then(|p| p.region.as_deref())
            .map(parse_region)
            .transpose()?
            .unwrap_or(Region::Eu),
    };
    let playground = global.playground || profile.is_some_and(|p| p.playground);
    let environment = if playground {
        Environment::Playground
    } else {
        Environment::Production
    };
    Ok(BaseUrl::klarna(region, environment))
}

/// Parses a region name as saved in a profile.
pub(crate) fn parse_region(name: &str) -> Result<Region, CliError> {
    match name {
        "eu" => Ok(Region::Eu),
        "na" => Ok(Region::Na),
        "oc" => Ok(Region::Oc),
        _ => Err(CliError::Usage(
            "the profile's region is not one of eu, na, oc".into(),
        )),
    }
}

fn credentials(profile: Option<&Profile>, profile_name: &str) -> Result<Credentials, CliError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (env("KLARNA_USERNAME"), env("KLARNA_PASSWORD")) {
        (Some(user), Some(password)) => return Ok(Credentials::new(user, password)),
        (Some(_), None) | (None, Some(_)) => {
            return Err(CliError::Usage(
                "set both KLARNA_USERNAME and KLARNA_PASSWORD, or neither".into(),
            ))
        }
        (None, None) => {}
    }
    match profile {
        Some(p) => Ok(Credentials::new(p.username.clone(), p.password.clone())),
        None => Err(CliError::Usage(format!(
            "no credentials: set KLARNA_USERNAME and KLARNA_PASSWORD, or run `klarna-hpp config set-profile {profile_name}`"
        ))),
    }
}
