//! Decides which groups of the integration tests (tests/api) this build
//! runs. Each group needs a part of the test bed, found through environment
//! variables; a group whose variables are all set (or every group, when
//! `INSPECTOR_TEST_REQUIRE_BED` is set, as scripts/test.sh does) gets its
//! `bed_*` cfg, and the tests of a group without it are marked `#[ignore]`
//! with the reason, so they are reported as ignored/skipped, never as
//! passed. The service itself uses none of these cfgs.

/// (cfg, the variables that enable it, `true` when all are needed and
/// `false` when any one is enough).
const GROUPS: &[(&str, &[&str], bool)] = &[
    ("bed_ironic", &["INSPECTOR_TEST_IRONIC_URL"], true),
    (
        "bed_ironic32",
        &["INSPECTOR_TEST_IRONIC32_URL", "INSPECTOR_TEST_LEGACY_PORT"],
        true,
    ),
    (
        "bed_keystone",
        &[
            "INSPECTOR_TEST_KEYSTONE_URL",
            "INSPECTOR_TEST_KEYSTONE_USERS",
        ],
        true,
    ),
    ("bed_venv", &["INSPECTOR_TEST_VENV"], true),
    ("bed_upstream_db", &["INSPECTOR_TEST_UPSTREAM_DB"], true),
    // Swift (scripts/testbed/swift.sh), authenticating against the Keystone.
    ("bed_swift", &["INSPECTOR_TEST_SWIFT_URL"], true),
    // Private database servers (scripts/testbed/postgres.sh, mariadb.sh).
    (
        "bed_postgres",
        &[
            "INSPECTOR_TEST_POSTGRES_URL",
            "INSPECTOR_TEST_POSTGRES_SOCKET_DIR",
        ],
        true,
    ),
    (
        "bed_mysql",
        &["INSPECTOR_TEST_MYSQL_URL", "INSPECTOR_TEST_MYSQL_SOCKET"],
        true,
    ),
    // Root and dnsmasq/iptables, which the test bed's install.sh provides:
    // on with the rest of the bed, or on its own.
    (
        "bed_pxe",
        &["INSPECTOR_TEST_PXE", "INSPECTOR_TEST_IRONIC_URL"],
        false,
    ),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=INSPECTOR_TEST_REQUIRE_BED");
    let require = std::env::var_os("INSPECTOR_TEST_REQUIRE_BED").is_some();
    for (cfg, vars, all) in GROUPS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        for var in *vars {
            println!("cargo::rerun-if-env-changed={var}");
        }
        let set = |var: &&str| std::env::var_os(var).is_some();
        let present = if *all {
            vars.iter().all(set)
        } else {
            vars.iter().any(set)
        };
        if require || present {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
