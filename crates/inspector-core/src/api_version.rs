//! API microversion negotiation (upstream-behaviour §api-versions), without the HTTP plumbing.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub const MIN: ApiVersion = ApiVersion { major: 1, minor: 0 };
    pub const MAX: ApiVersion = ApiVersion {
        major: 1,
        minor: 19,
    };
    /// Rule creation answers 201 from this version on, 200 before.
    pub const RULES_CREATED_201: ApiVersion = ApiVersion { major: 1, minor: 6 };
    /// The rules dry run, `POST /v1/rules/evaluate`, exists from this version on.
    pub const RULES_EVALUATE: ApiVersion = ApiVersion {
        major: 1,
        minor: 19,
    };

    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The service type clients name in `OpenStack-API-Version`.
pub const SERVICE_TYPE: &str = "baremetal-introspection";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Upstream meant this to be a 400 but crashed with a 500 (upstream-behaviour §q2).
    #[error("Malformed API version: expected string in form of X.Y or latest")]
    Malformed,
    #[error("Unsupported API version {0}, supported range is {min} to {max}", min = ApiVersion::MIN, max = ApiVersion::MAX)]
    Unsupported(String),
}

/// Picks the requested version from the legacy header
/// (`X-OpenStack-Ironic-Inspector-API-Version`) and the standard one
/// (`OpenStack-API-Version`). The legacy header wins when both are sent,
/// because it is what clients have always sent; upstream ignored the standard
/// one altogether (upstream-behaviour §q3).
pub fn negotiate(legacy: Option<&str>, standard: Option<&str>) -> Result<ApiVersion, VersionError> {
    let requested = match legacy {
        Some(value) => Some(value),
        None => standard.and_then(standard_header_value),
    };
    match requested {
        None => Ok(ApiVersion::MAX),
        Some(value) => parse_requested(value),
    }
}

/// The version string this service is asked for in an `OpenStack-API-Version`
/// header, which may list several services: `compute 2.1, baremetal-introspection 1.9`.
fn standard_header_value(header: &str) -> Option<&str> {
    header.split(',').find_map(|entry| {
        let entry = entry.trim();
        let (service, version) = entry.split_once(char::is_whitespace)?;
        service
            .eq_ignore_ascii_case(SERVICE_TYPE)
            .then(|| version.trim())
    })
}

fn parse_requested(value: &str) -> Result<ApiVersion, VersionError> {
    let trimmed = value.trim();
    if trimmed.eq_ignore_ascii_case("latest") {
        return Ok(ApiVersion::MAX);
    }
    let (major, minor) = trimmed.split_once('.').ok_or(VersionError::Malformed)?;
    let parse = |part: &str| -> Result<u32, VersionError> {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VersionError::Malformed);
        }
        // Absurdly long numbers are still well-formed, just unsupported.
        Ok(part.parse::<u32>().unwrap_or(u32::MAX))
    };
    let version = ApiVersion::new(parse(major)?, parse(minor)?);
    if version < ApiVersion::MIN || version > ApiVersion::MAX {
        return Err(VersionError::Unsupported(trimmed.to_string()));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(v: &str) -> Result<ApiVersion, VersionError> {
        negotiate(Some(v), None)
    }

    #[test]
    fn absent_headers_mean_the_newest_version() {
        assert_eq!(negotiate(None, None), Ok(ApiVersion::MAX));
    }

    #[test]
    fn latest_is_accepted_in_any_case() {
        assert_eq!(legacy("latest"), Ok(ApiVersion::MAX));
        assert_eq!(legacy("LaTeSt"), Ok(ApiVersion::MAX));
    }

    #[test]
    fn every_supported_version_is_accepted() {
        for minor in 0..=19 {
            assert_eq!(legacy(&format!("1.{minor}")), Ok(ApiVersion::new(1, minor)));
        }
        assert_eq!(legacy(" 1.6 "), Ok(ApiVersion::new(1, 6)));
    }

    #[test]
    fn out_of_range_versions_are_unsupported() {
        let err = legacy("1.20").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unsupported API version 1.20, supported range is 1.0 to 1.19"
        );
        assert!(matches!(legacy("0.9"), Err(VersionError::Unsupported(_))));
        assert!(matches!(legacy("2.0"), Err(VersionError::Unsupported(_))));
        assert!(matches!(
            legacy("1.99999999999999999999"),
            Err(VersionError::Unsupported(_))
        ));
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for bad in [
            "", "1", "abc", "1.x", "1.", ".1", "1.2.3", "-1.0", "1.+2", "v1.0",
        ] {
            assert_eq!(legacy(bad), Err(VersionError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn standard_header_is_honoured() {
        assert_eq!(
            negotiate(None, Some("baremetal-introspection 1.9")),
            Ok(ApiVersion::new(1, 9))
        );
        assert_eq!(
            negotiate(None, Some("compute 2.1, Baremetal-Introspection 1.3")),
            Ok(ApiVersion::new(1, 3))
        );
        assert_eq!(
            negotiate(None, Some("baremetal-introspection latest")),
            Ok(ApiVersion::MAX)
        );
        assert!(matches!(
            negotiate(None, Some("baremetal-introspection 1.50")),
            Err(VersionError::Unsupported(_))
        ));
        assert_eq!(
            negotiate(None, Some("baremetal-introspection one")),
            Err(VersionError::Malformed)
        );
    }

    #[test]
    fn other_services_in_the_standard_header_are_ignored() {
        assert_eq!(negotiate(None, Some("compute 2.1")), Ok(ApiVersion::MAX));
        assert_eq!(negotiate(None, Some("baremetal 1.50")), Ok(ApiVersion::MAX));
    }

    #[test]
    fn legacy_header_wins_over_the_standard_one() {
        assert_eq!(
            negotiate(Some("1.2"), Some("baremetal-introspection 1.9")),
            Ok(ApiVersion::new(1, 2))
        );
    }
}
