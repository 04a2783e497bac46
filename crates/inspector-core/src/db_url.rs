//! `[database] connection` URLs of database servers, as oslo.db (SQLAlchemy)
//! writes them: `DRIVER[+DBAPI]://[USER[:PASSWORD]@][HOST][:PORT]/DATABASE[?K=V&...]`.
//!
//! Accepted: `postgresql` with no DBAPI or with `psycopg2`, `psycopg`,
//! `pg8000` or `asyncpg`; `mysql` (and `mariadb`) with no DBAPI or with
//! `pymysql`, `mysqldb`, `mysqlconnector`, `mariadbconnector`, `asyncmy` or
//! `aiomysql`. The DBAPI names only which Python library upstream used; the
//! wire protocol is the server's either way. User, password, database and
//! query values are percent-decoded as SQLAlchemy does. A Unix socket is
//! `?unix_socket=/path/mysqld.sock` (MySQL) or `?host=/socket/dir`
//! (PostgreSQL, which then uses `.s.PGSQL.PORT` in that directory).

use std::fmt;

/// Which server protocol a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Postgres,
    Mysql,
}

impl ServerKind {
    pub fn default_port(self) -> u16 {
        match self {
            ServerKind::Postgres => 5432,
            ServerKind::Mysql => 3306,
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerKind::Postgres => "PostgreSQL",
            ServerKind::Mysql => "MySQL",
        })
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp {
        host: String,
        port: u16,
    },
    /// MySQL: the socket file. PostgreSQL: the directory holding
    /// `.s.PGSQL.<port>`.
    Socket {
        path: String,
        port: u16,
    },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Socket { path, .. } => write!(f, "unix socket {path}"),
        }
    }
}

/// A parsed server URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub kind: ServerKind,
    pub user: Option<String>,
    pub password: Option<String>,
    pub endpoint: Endpoint,
    pub database: String,
    /// MySQL `charset` (`utf8`, `utf8mb3` or `utf8mb4`).
    pub charset: Option<String>,
    /// Query parameters that change nothing here, for a debug line.
    pub ignored: Vec<String>,
}

/// Never shows the password.
impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerUrl")
            .field("kind", &self.kind)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("endpoint", &self.endpoint)
            .field("database", &self.database)
            .field("charset", &self.charset)
            .field("ignored", &self.ignored)
            .finish()
    }
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError(message.into()))
}

const POSTGRES_DBAPIS: &[&str] = &["psycopg2", "psycopg", "pg8000", "asyncpg"];
const MYSQL_DBAPIS: &[&str] = &[
    "pymysql",
    "mysqldb",
    "mysqlconnector",
    "mariadbconnector",
    "asyncmy",
    "aiomysql",
];

/// Query parameters that tune the Python driver or oslo.db and have no
/// meaning for this service.
const HARMLESS_PARAMS: &[&str] = &[
    "application_name",
    "binary_prefix",
    "client_encoding",
    "connect_timeout",
    "plugin",
    "read_timeout",
    "write_timeout",
    "program_name",
    "autocommit",
    "local_infile",
];

/// Whether the URL names a database server (PostgreSQL or MySQL) rather
/// than SQLite or something unknown.
pub fn server_kind(url: &str) -> Option<ServerKind> {
    let scheme = url.split_once("://")?.0;
    match scheme.split('+').next()? {
        "postgresql" | "postgres" => Some(ServerKind::Postgres),
        "mysql" | "mariadb" => Some(ServerKind::Mysql),
        _ => None,
    }
}

pub fn parse_server_url(url: &str) -> Result<ServerUrl, UrlError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return refuse("expected DRIVER://USER:PASSWORD@HOST:PORT/DATABASE");
    };
    let (driver, dbapi) = match scheme.split_once('+') {
        Some((driver, dbapi)) => (driver, Some(dbapi)),
        None => (scheme, None),
    };
    let (kind, known) = match driver {
        "postgresql" | "postgres" => (ServerKind::Postgres, POSTGRES_DBAPIS),
        "mysql" | "mariadb" => (ServerKind::Mysql, MYSQL_DBAPIS),
        other => return refuse(format!("unknown database driver {other:?}")),
    };
    if let Some(dbapi) = dbapi.filter(|d| !known.contains(d)) {
        return refuse(format!(
            "unknown {kind} driver {dbapi:?} (accepted: {})",
            known.join(", ")
        ));
    }

    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    // The last `@` ends the credentials, so that an unencoded `@` or `/` in
    // a password still parses.
    let (credentials, host_and_path) = match location.rfind('@') {
        Some(at) => (Some(&location[..at]), &location[at + 1..]),
        None => (None, location),
    };
    let (user, password) = match credentials {
        None => (None, None),
        Some(c) => {
            let (user, password) = match c.split_once(':') {
                Some((u, p)) => (u, Some(percent_decode(p)?)),
                None => (c, None),
            };
            let user = percent_decode(user)?;
            ((!user.is_empty()).then_some(user), password)
        }
    };
    let (authority, database) = host_and_path.split_once('/').unwrap_or((host_and_path, ""));
    let (host, port) = split_host_port(authority)?;
    let database = percent_decode(database)?;

    let mut socket = None;
    let mut charset = None;
    let mut ignored = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key)?;
        let value = form_decode(value)?;
        match (kind, key.as_str()) {
            (ServerKind::Mysql, "unix_socket") | (ServerKind::Postgres, "host") => {
                if socket.replace(value).is_some() {
                    return refuse(format!("{key} is given twice"));
                }
            }
            (ServerKind::Mysql, "charset") => {
                if !matches!(value.as_str(), "utf8" | "utf8mb3" | "utf8mb4") {
                    return refuse(format!(
                        "charset {value:?} is not supported (use utf8 or utf8mb4)"
                    ));
                }
                charset = Some(value);
            }
            (ServerKind::Postgres, "port") => {
                return refuse("give the port after the host (HOST:PORT), not as ?port=");
            }
            (ServerKind::Postgres, "sslmode")
                if matches!(value.as_str(), "disable" | "allow" | "prefer") =>
            {
                ignored.push(format!("{key}={value}"));
            }
            (_, k) if k.starts_with("ssl") => {
                return refuse(format!(
                    "{key}: TLS connections to the database are not supported"
                ));
            }
            (_, k) if HARMLESS_PARAMS.contains(&k) => ignored.push(format!("{key}={value}")),
            _ => return refuse(format!("unknown query parameter {key:?}")),
        }
    }

    if database.is_empty() {
        return refuse("the URL names no database (…/DATABASE)");
    }
    let port = port.unwrap_or(kind.default_port());
    let endpoint = match (socket, host) {
        (Some(path), _) if path.starts_with('/') => Endpoint::Socket { path, port },
        (Some(path), _) if kind == ServerKind::Mysql => {
            return refuse(format!("unix_socket {path:?} is not an absolute path"));
        }
        // PostgreSQL's `?host=` may also be a host name.
        (Some(host), None) => Endpoint::Tcp { host, port },
        (Some(_), Some(_)) => return refuse("a host is given both before the path and as ?host="),
        (None, Some(host)) => Endpoint::Tcp { host, port },
        // No host: libpq's default socket directory (Debian's), PyMySQL's
        // default host.
        (None, None) if kind == ServerKind::Postgres => Endpoint::Socket {
            path: "/var/run/postgresql".into(),
            port,
        },
        (None, None) => Endpoint::Tcp {
            host: "localhost".into(),
            port,
        },
    };
    Ok(ServerUrl {
        kind,
        user,
        password,
        endpoint,
        database,
        charset,
        ignored,
    })
}

/// `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`, `:PORT` or nothing.
fn split_host_port(authority: &str) -> Result<(Option<String>, Option<u16>), UrlError> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return refuse(format!("unclosed [ in host {authority:?}"));
        };
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return refuse(format!("unexpected {after:?} after the host")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return refuse(format!("invalid port {p:?}")),
        },
    };
    Ok(((!host.is_empty()).then(|| host.to_string()), port))
}

fn percent_decode(text: &str) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => return refuse("a % in the URL is not followed by two hex digits"),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| UrlError("the URL decodes to invalid UTF-8".into()))
}

/// A query component: `+` is a space, as Python's `parse_qsl` reads it.
fn form_decode(text: &str) -> Result<String, UrlError> {
    percent_decode(&text.replace('+', " "))
}

/// The URL with its password replaced by `***`, fit for logs and errors.
/// Anything unparsable after the scheme is hidden whole rather than risk
/// showing a password.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (location, query) = match rest.split_once('?') {
        Some((l, q)) => (l, Some(q)),
        None => (rest, None),
    };
    let masked = match location.rfind('@') {
        Some(at) => {
            let credentials = &location[..at];
            let user = credentials.split_once(':').map_or(credentials, |(u, _)| u);
            let shown = if credentials.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{shown}@{}", &location[at + 1..])
        }
        None => location.to_string(),
    };
    match query {
        Some(q) => format!("{scheme}://{masked}?{q}"),
        None => format!("{scheme}://{masked}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn upstream_mysql_url_with_charset() {
        let url = parse_server_url(
            "mysql+pymysql://inspector:secret@192.0.2.10:3307/ironic_inspector?charset=utf8",
        )
        .unwrap();
        assert_eq!(url.kind, ServerKind::Mysql);
        assert_eq!(url.user.as_deref(), Some("inspector"));
        assert_eq!(url.password.as_deref(), Some("secret"));
        assert_eq!(url.endpoint, tcp("192.0.2.10", 3307));
        assert_eq!(url.database, "ironic_inspector");
        assert_eq!(url.charset.as_deref(), Some("utf8"));
    }

    #[test]
    fn postgres_urls_and_default_ports() {
        for scheme in ["postgresql", "postgresql+psycopg2", "postgresql+asyncpg"] {
            let url = parse_server_url(&format!("{scheme}://u:p@db.example.org/insp")).unwrap();
            assert_eq!(url.kind, ServerKind::Postgres, "{scheme}");
            assert_eq!(url.endpoint, tcp("db.example.org", 5432));
        }
        let url = parse_server_url("mysql://u@10.0.0.1/insp").unwrap();
        assert_eq!(url.endpoint, tcp("10.0.0.1", 3306));
        assert_eq!(url.password, None);
        let url = parse_server_url("mysql+mysqldb:///insp").unwrap();
        assert_eq!(url.endpoint, tcp("localhost", 3306));
        assert_eq!(url.user, None);
        let url = parse_server_url("postgresql:///insp").unwrap();
        assert_eq!(
            url.endpoint,
            Endpoint::Socket {
                path: "/var/run/postgresql".into(),
                port: 5432
            }
        );
    }

    #[test]
    fn encoded_credentials_are_decoded() {
        let url = parse_server_url("mysql+pymysql://ins%20p:p%40ss%3Aw%2Frd%25@127.0.0.1:3306/db")
            .unwrap();
        assert_eq!(url.user.as_deref(), Some("ins p"));
        assert_eq!(url.password.as_deref(), Some("p@ss:w/rd%"));
        // An unencoded @ or / in the password still parses.
        let url = parse_server_url("postgresql://u:p@ss/w@127.0.0.1:5433/db").unwrap();
        assert_eq!(url.password.as_deref(), Some("p@ss/w"));
        assert_eq!(url.endpoint, tcp("127.0.0.1", 5433));
        assert_eq!(url.database, "db");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let url = parse_server_url("postgresql://u:p@[::1]:5433/db").unwrap();
        assert_eq!(url.endpoint, tcp("::1", 5433));
        assert_eq!(url.endpoint.to_string(), "[::1]:5433");
        let url = parse_server_url("mysql://u:p@[fd00::2]/db").unwrap();
        assert_eq!(url.endpoint, tcp("fd00::2", 3306));
    }

    #[test]
    fn unix_sockets() {
        let url = parse_server_url(
            "mysql+pymysql://u:p@localhost/db?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4",
        )
        .unwrap();
        assert_eq!(
            url.endpoint,
            Endpoint::Socket {
                path: "/run/mysqld/mysqld.sock".into(),
                port: 3306
            }
        );
        let url = parse_server_url("postgresql://u:p@:5433/db?host=/var/run/postgresql").unwrap();
        assert_eq!(
            url.endpoint,
            Endpoint::Socket {
                path: "/var/run/postgresql".into(),
                port: 5433
            }
        );
        // ?host= may name a TCP host as libpq allows.
        let url = parse_server_url("postgresql://u:p@/db?host=db1").unwrap();
        assert_eq!(url.endpoint, tcp("db1", 5432));
        assert!(parse_server_url("mysql://u:p@/db?unix_socket=relative.sock").is_err());
        assert!(parse_server_url("postgresql://u:p@h/db?host=/a&host=/b").is_err());
    }

    #[test]
    fn harmless_parameters_are_ignored_and_unknown_ones_refused() {
        let url = parse_server_url(
            "mysql+pymysql://u:p@h/db?charset=utf8&plugin=dbcounter&read_timeout=30",
        )
        .unwrap();
        assert_eq!(url.ignored, ["plugin=dbcounter", "read_timeout=30"]);
        let err = parse_server_url("mysql://u:p@h/db?frobnicate=1").unwrap_err();
        assert!(err.0.contains("frobnicate"), "{err}");
        let err = parse_server_url("mysql://u:p@h/db?ssl_ca=/etc/ca.pem").unwrap_err();
        assert!(err.0.contains("TLS"), "{err}");
        let err = parse_server_url("postgresql://u:p@h/db?sslmode=require").unwrap_err();
        assert!(err.0.contains("TLS"), "{err}");
        assert!(parse_server_url("postgresql://u:p@h/db?sslmode=disable").is_ok());
        let err = parse_server_url("mysql://u:p@h/db?charset=latin1").unwrap_err();
        assert!(err.0.contains("latin1"), "{err}");
    }

    #[test]
    fn unsupported_urls_say_why() {
        for (url, expected) in [
            ("mysql+oursql://u:p@h/db", "oursql"),
            ("postgresql+zxjdbc://u:p@h/db", "zxjdbc"),
            ("oracle://u:p@h/db", "oracle"),
            ("mysql://u:p@h:99999/db", "port"),
            ("mysql://u:p@h:x/db", "port"),
            ("mysql://u:p@h/", "no database"),
            ("mysql://u:p@h", "no database"),
            ("postgresql://u:p%zz@h/db", "hex"),
            ("mysql:/h/db", "DRIVER://"),
        ] {
            let err = parse_server_url(url).unwrap_err();
            assert!(err.0.contains(expected), "{url}: {err}");
        }
    }

    #[test]
    fn server_kind_tells_servers_from_sqlite() {
        assert_eq!(
            server_kind("postgresql+psycopg2://x/y"),
            Some(ServerKind::Postgres)
        );
        assert_eq!(server_kind("mysql+pymysql://x/y"), Some(ServerKind::Mysql));
        assert_eq!(server_kind("sqlite:///x.db"), None);
        assert_eq!(server_kind("nonsense"), None);
    }

    #[test]
    fn masking_hides_only_the_password() {
        assert_eq!(
            mask_password("mysql+pymysql://inspector:p%40ss@127.0.0.1:3306/db?charset=utf8"),
            "mysql+pymysql://inspector:***@127.0.0.1:3306/db?charset=utf8"
        );
        assert_eq!(
            mask_password("postgresql://u:p@ss/w@h/db"),
            "postgresql://u:***@h/db"
        );
        assert_eq!(mask_password("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(mask_password("sqlite:///x.db"), "sqlite:///x.db");
        let debug = format!("{:?}", parse_server_url("mysql://u:hunter2@h/db").unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
