//! `[ssl] ciphers`: an OpenSSL cipher list (what upstream handed to Python's
//! `SSLContext.set_ciphers`) mapped onto the cipher suites rustls offers.
//!
//! As with OpenSSL, the list chooses the TLS 1.2 suites; TLS 1.3 suites stay
//! unless the list names some of them (`TLS_AES_128_GCM_SHA256`, ...), which
//! then restricts TLS 1.3 to those. Names and aliases that select nothing
//! rustls has (CBC, RSA key exchange, DHE, ...) are reported, not fatal; a
//! list that selects nothing at all is refused, as OpenSSL refuses it.

use rustls::CipherSuite;

struct Suite {
    openssl: &'static str,
    id: CipherSuite,
    /// OpenSSL aliases that select this suite (beyond its own name).
    aliases: &'static [&'static str],
}

/// Aliases shared by every TLS 1.2 suite rustls has (all ECDHE with AEAD).
const EVERY_TLS12: &[&str] = &[
    "ALL", "DEFAULT", "HIGH", "TLSv1.2", "ECDHE", "EECDH", "kECDHE", "kEECDH", "ECDH",
];

const TLS12: &[Suite] = &[
    Suite {
        openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
        id: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        aliases: &["aECDSA", "ECDSA", "AES", "AESGCM", "AES256", "FIPS"],
    },
    Suite {
        openssl: "ECDHE-RSA-AES256-GCM-SHA384",
        id: CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        aliases: &["aRSA", "AES", "AESGCM", "AES256", "FIPS"],
    },
    Suite {
        openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
        id: CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        aliases: &["aECDSA", "ECDSA", "CHACHA20"],
    },
    Suite {
        openssl: "ECDHE-RSA-CHACHA20-POLY1305",
        id: CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        aliases: &["aRSA", "CHACHA20"],
    },
    Suite {
        openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
        id: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        aliases: &["aECDSA", "ECDSA", "AES", "AESGCM", "AES128", "FIPS"],
    },
    Suite {
        openssl: "ECDHE-RSA-AES128-GCM-SHA256",
        id: CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        aliases: &["aRSA", "AES", "AESGCM", "AES128", "FIPS"],
    },
];

/// TLS 1.3 suites go by their IANA names in OpenSSL too.
const TLS13: &[Suite] = &[
    Suite {
        openssl: "TLS_AES_256_GCM_SHA384",
        id: CipherSuite::TLS13_AES_256_GCM_SHA384,
        aliases: &[],
    },
    Suite {
        openssl: "TLS_AES_128_GCM_SHA256",
        id: CipherSuite::TLS13_AES_128_GCM_SHA256,
        aliases: &[],
    },
    Suite {
        openssl: "TLS_CHACHA20_POLY1305_SHA256",
        id: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        aliases: &[],
    },
];

/// What a cipher list selects, in the list's order.
#[derive(Debug, PartialEq, Eq)]
pub struct Selection {
    pub suites: Vec<CipherSuite>,
    /// One line per part of the list that had no effect.
    pub warnings: Vec<String>,
}

/// TLS 1.2 suites matched by one element (`A+B` is the intersection).
fn matching(element: &str) -> Vec<CipherSuite> {
    let selects = |suite: &Suite, name: &str| {
        suite.openssl.eq_ignore_ascii_case(name)
            || suite.id.as_str() == Some(name)
            || EVERY_TLS12.contains(&name)
            || suite.aliases.contains(&name)
    };
    TLS12
        .iter()
        .filter(|suite| element.split('+').all(|name| selects(suite, name)))
        .map(|suite| suite.id)
        .collect()
}

fn tls13_named(name: &str) -> Option<CipherSuite> {
    TLS13
        .iter()
        .find(|suite| suite.openssl.eq_ignore_ascii_case(name))
        .map(|suite| suite.id)
}

/// Applies an OpenSSL cipher list; `Err` when it selects no suite at all.
pub fn select(list: &str) -> Result<Selection, String> {
    let mut tls12: Vec<CipherSuite> = Vec::new();
    let mut banned: Vec<CipherSuite> = Vec::new();
    let mut tls13: Vec<CipherSuite> = Vec::new();
    let mut warnings = Vec::new();
    let elements = list
        .split([':', ',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty());
    for element in elements {
        if let Some(directive) = element.strip_prefix('@') {
            // Ordering by strength changes nothing among rustls's suites.
            if !directive.eq_ignore_ascii_case("STRENGTH") {
                warnings.push(format!("{element} has no equivalent in rustls; ignored"));
            }
            continue;
        }
        if let Some(suite) = tls13_named(element) {
            if !tls13.contains(&suite) {
                tls13.push(suite);
            }
            continue;
        }
        match element.as_bytes()[0] {
            b'!' => {
                let gone = matching(&element[1..]);
                tls12.retain(|s| !gone.contains(s));
                banned.extend(gone);
            }
            b'-' => {
                let gone = matching(&element[1..]);
                tls12.retain(|s| !gone.contains(s));
            }
            b'+' => {
                // Moves the matching suites to the end, keeping them.
                let moved = matching(&element[1..]);
                let (last, mut kept): (Vec<_>, Vec<_>) =
                    tls12.iter().partition(|s| moved.contains(s));
                kept.extend(last);
                tls12 = kept;
            }
            _ => {
                let found = matching(element);
                if found.is_empty() {
                    warnings.push(format!(
                        "{element} selects no cipher suite rustls offers; ignored"
                    ));
                }
                for suite in found {
                    if !tls12.contains(&suite) && !banned.contains(&suite) {
                        tls12.push(suite);
                    }
                }
            }
        }
    }
    if tls12.is_empty() && tls13.is_empty() {
        return Err(format!(
            "{list:?} selects no cipher suite rustls offers (it has {})",
            TLS12
                .iter()
                .chain(TLS13)
                .map(|s| s.openssl)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Named TLS 1.3 suites restrict TLS 1.3; otherwise all of them stay.
    let tls13 = if tls13.is_empty() {
        TLS13.iter().map(|s| s.id).collect()
    } else {
        tls13
    };
    Ok(Selection {
        suites: tls13.into_iter().chain(tls12).collect(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl_names(selection: &Selection) -> Vec<&'static str> {
        selection
            .suites
            .iter()
            .map(|id| {
                TLS12
                    .iter()
                    .chain(TLS13)
                    .find(|s| s.id == *id)
                    .unwrap()
                    .openssl
            })
            .collect()
    }

    const ALL_TLS13: [&str; 3] = [
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    ];

    #[test]
    fn explicit_names_keep_their_order_and_tls13() {
        let s = select("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384").unwrap();
        let mut expected = ALL_TLS13.to_vec();
        expected.extend([
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
        ]);
        assert_eq!(openssl_names(&s), expected);
        assert!(s.warnings.is_empty());
    }

    // The expectations below are what `openssl ciphers -s -tls1_2 LIST` (OpenSSL
    // 3.0) keeps of the suites rustls has.
    #[test]
    fn aliases_and_exclusions_as_openssl_reads_them() {
        let s = select("HIGH:!aNULL:!MD5:!CHACHA20").unwrap();
        assert_eq!(
            openssl_names(&s)[3..],
            [
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-RSA-AES128-GCM-SHA256",
            ]
        );
        // Excluding what rustls never offers is silent.
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let s = select("ECDHE+AES128:!aRSA").unwrap();
        assert_eq!(openssl_names(&s)[3..], ["ECDHE-ECDSA-AES128-GCM-SHA256"]);
        // `!` is final, `-` is not.
        let s = select("!aRSA:AES128").unwrap();
        assert_eq!(openssl_names(&s)[3..], ["ECDHE-ECDSA-AES128-GCM-SHA256"]);
        let s = select("-aRSA:AES128").unwrap();
        assert_eq!(openssl_names(&s).len(), 5);
    }

    #[test]
    fn names_rustls_lacks_are_reported() {
        let s =
            select("AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=2")
                .unwrap();
        assert_eq!(openssl_names(&s)[3..], ["ECDHE-RSA-AES128-GCM-SHA256"]);
        assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
        assert!(s.warnings[0].starts_with("AES128-SHA selects no cipher suite"));
        assert!(s.warnings[2].starts_with("@SECLEVEL=2 has no equivalent"));
    }

    #[test]
    fn tls13_names_restrict_tls13() {
        let s = select("TLS_AES_128_GCM_SHA256").unwrap();
        assert_eq!(openssl_names(&s), ["TLS_AES_128_GCM_SHA256"]);
    }

    #[test]
    fn a_list_selecting_nothing_is_refused() {
        for list in ["AES128-SHA:DES-CBC3-SHA", "HIGH:!HIGH", "", "kRSA"] {
            let e = select(list).unwrap_err();
            assert!(e.contains("selects no cipher suite rustls offers"), "{e}");
        }
    }
}
