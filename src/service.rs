//! Wiring: from a configuration to a running service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use axum::ServiceExt;
use axum::extract::Request;
use inspector_core::conf::{AuthStrategy, Config};
use inspector_core::hooks::Pipeline;
use tokio::net::TcpListener;

use crate::api::auth::{Authenticator, BasicAuth, KeystoneAuth};
use crate::api::state::AppState;
use crate::domain::Inspector;
use crate::ironic::{IronicClient, IronicSettings};
use crate::store::{self, Store, StoreOptions};

/// Upstream's default database: a file in the working directory.
pub const DEFAULT_CONNECTION: &str = "sqlite:///ironic_inspector.sqlite";

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config
        .database
        .connection
        .as_deref()
        .unwrap_or(DEFAULT_CONNECTION);
    store::open(url, &store_options(&config.database))
        .await
        .with_context(|| {
            format!(
                "cannot open the database of [database] connection {}",
                inspector_core::db_url::mask_password(url)
            )
        })
}

/// The `[database]` pool and retry options, with oslo.db's meaning.
pub fn store_options(database: &inspector_core::conf::Database) -> StoreOptions {
    let defaults = StoreOptions::default();
    StoreOptions {
        // SQLite needs a writer and a reader at least.
        max_connections: database.max_pool_size.max(2),
        max_overflow: database.max_overflow,
        pool_timeout: database
            .pool_timeout
            .map_or(defaults.pool_timeout, |s| Duration::from_secs(s.into())),
        recycle_after: u64::try_from(database.connection_recycle_time)
            .ok()
            .map(Duration::from_secs),
        // oslo.db: -1 retries forever; 0 still makes the one attempt a
        // connection needs.
        connect_attempts: u32::try_from(database.max_retries).ok(),
        retry_interval: Duration::from_secs(database.retry_interval),
    }
}

/// `config_dirs`: where relative `[oslo_policy]` files are looked up first
/// (see [`crate::policy::config_search_dirs`]).
pub fn authenticator(
    config: &Config,
    config_dirs: &[std::path::PathBuf],
) -> anyhow::Result<Authenticator> {
    match config.default.auth_strategy {
        AuthStrategy::Noauth => {
            tracing::warn!("auth_strategy is noauth: the API is not authenticated");
            Ok(Authenticator::Noauth)
        }
        AuthStrategy::HttpBasic => {
            let path = std::path::Path::new(&config.default.http_basic_auth_user_file);
            Ok(Authenticator::HttpBasic(BasicAuth::new(path)?))
        }
        AuthStrategy::Keystone => Ok(Authenticator::Keystone(Box::new(
            KeystoneAuth::from_config(config, config_dirs)?,
        ))),
    }
}

/// The processing hooks; an unknown hook or bad hook settings stop the
/// service, as upstream does.
pub fn processing_pipeline(config: &Config) -> anyhow::Result<Pipeline> {
    let accelerators = match &config.accelerators.known_devices {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read [accelerators] known_devices {path}"))?,
        ),
        None => None,
    };
    let (pipeline, warnings) = Pipeline::load(config, accelerators.as_deref()).map_err(|e| {
        anyhow!(
            "[processing] processing_hooks: {e}\nknown hooks: {}",
            inspector_core::hooks::known_hook_names().join(", ")
        )
    })?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(pipeline)
}

/// Everything the API needs, with the database schema brought up to date.
pub async fn build(config: Config) -> anyhow::Result<(AppState, Arc<Inspector>)> {
    build_with_config_dirs(config, &[]).await
}

/// [`build`], relative policy files looked up in `config_dirs` first.
pub async fn build_with_config_dirs(
    config: Config,
    config_dirs: &[std::path::PathBuf],
) -> anyhow::Result<(AppState, Arc<Inspector>)> {
    // Before the database: a configuration mistake should change nothing.
    let pipeline = processing_pipeline(&config)?;
    let store = open_store(&config).await?;
    let report = store
        .upgrade()
        .await
        .context("cannot create or upgrade the database schema")?;
    if report.created_schema {
        tracing::info!("created the database schema");
    }
    if report.adopted_upstream {
        tracing::info!("serving a database created by ironic-inspector");
    }
    for migration in &report.applied {
        tracing::info!(%migration, "applied database migration");
    }
    let settings = IronicSettings::from_config(&config.ironic)?;
    let ironic = IronicClient::new(settings)?;
    if config.processing.store_data == inspector_core::conf::StoreData::Swift {
        // Refused here rather than on the first callback.
        crate::swift::SwiftSettings::from_config(&config.swift)
            .and_then(crate::swift::SwiftClient::new)
            .context("invalid [swift] configuration")?;
    }
    let authenticator = authenticator(&config, config_dirs)?;
    let pxe = crate::pxe_filter::PxeFilter::from_config(&config)?;
    let inspector = Inspector::new(Arc::new(config), store, ironic, pxe, pipeline);
    let recovered = inspector.periodic().recover_interrupted().await?;
    if recovered > 0 {
        tracing::warn!(
            count = recovered,
            "failed introspections interrupted by the previous shutdown"
        );
    }
    inspector
        .init_pxe_filter()
        .await
        .context("cannot start the PXE filter ([pxe_filter] driver)")?;
    inspector.periodic().start();
    Ok((AppState::new(inspector.clone(), authenticator), inspector))
}

pub enum Bound {
    Tcp(TcpListener),
    /// `[DEFAULT] use_ssl`: TCP with TLS handshakes done before axum sees the connection.
    Tls(crate::tls::server::TlsListener),
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

impl Bound {
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok(),
            Bound::Tls(l) => axum::serve::Listener::local_addr(l).ok(),
            #[cfg(unix)]
            Bound::Unix(..) => None,
        }
    }
}

pub async fn bind(config: &Config) -> anyhow::Result<Bound> {
    // Before binding, so that a bad certificate stops start-up at once.
    let tls = if config.default.use_ssl {
        Some(std::sync::Arc::new(crate::tls::server::TlsSettings::load(
            config,
        )?))
    } else {
        None
    };
    #[cfg(unix)]
    if let Some(path) = &config.default.listen_unix_socket {
        if tls.is_some() {
            bail!("[DEFAULT] use_ssl is not supported with listen_unix_socket");
        }
        let path = std::path::PathBuf::from(path);
        // A stale socket from a previous run would make bind fail.
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path)
            .with_context(|| format!("cannot listen on {}", path.display()))?;
        if let Some(mode) = config.default.listen_unix_socket_mode {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
        return Ok(Bound::Unix(listener, path));
    }
    let host = config
        .default
        .listen_address
        .trim_matches(|c| c == '[' || c == ']');
    let addr: std::net::IpAddr = host
        .parse()
        .with_context(|| format!("invalid listen_address {host}"))?;
    let socket = SocketAddr::new(addr, config.default.listen_port);
    let listener = TcpListener::bind(socket)
        .await
        .with_context(|| format!("cannot listen on {socket}"))?;
    match tls {
        Some(tls) => {
            for warning in &tls.warnings {
                tracing::warn!("{warning}");
            }
            tls.reload_on_sighup()?;
            Ok(Bound::Tls(crate::tls::server::TlsListener::new(
                listener, tls,
            )?))
        }
        None => Ok(Bound::Tcp(listener)),
    }
}

/// Serves until `shutdown` resolves, then lets in-flight work finish.
pub async fn serve(
    bound: Bound,
    state: AppState,
    inspector: Arc<Inspector>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The database, the PXE filter's first sync and the listener are all in
    // place (see build_with_config_dirs and bind): systemd may send traffic.
    let notifier = crate::systemd::Notifier::from_env();
    let _watchdog = notifier.start_watchdog();
    let shutdown = notifier.stopping_when(shutdown);
    notifier.ready();

    let app = crate::api::app(state);
    let make_service = ServiceExt::<Request>::into_make_service(app);
    // Requests in flight are drained below; their Ironic retries must not
    // hold the drain, so the domain learns of the shutdown first.
    let stopping = inspector.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.begin_shutdown();
    };
    match bound {
        Bound::Tcp(listener) => {
            let address = listener.local_addr()?;
            tracing::info!(%address, "inspector is listening");
            axum::serve(listener, make_service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        Bound::Tls(listener) => {
            let address = axum::serve::Listener::local_addr(&listener)?;
            tracing::info!(%address, "inspector is listening over TLS");
            axum::serve(listener, make_service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        #[cfg(unix)]
        Bound::Unix(listener, path) => {
            tracing::info!(socket = %path.display(), "inspector is listening");
            axum::serve(listener, make_service)
                .with_graceful_shutdown(shutdown)
                .await?;
            let _ = std::fs::remove_file(&path);
        }
    }
    inspector.shutdown(Duration::from_secs(30)).await;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight work");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use inspector_core::conf::{Source, load};

    use super::store_options;

    fn database(text: &str) -> inspector_core::conf::Database {
        let source = Source {
            path: "inspector.conf".into(),
            text: format!("[database]\n{text}"),
        };
        load(&[source]).unwrap().config.database
    }

    /// oslo.db's defaults, and its special values: `-1` retries forever,
    /// a negative recycle time never recycles.
    #[test]
    fn database_options_keep_oslo_db_meaning() {
        let defaults = store_options(&database(""));
        assert_eq!(defaults.max_connections, 5);
        assert_eq!(defaults.max_overflow, 50);
        assert_eq!(defaults.pool_timeout, Duration::from_secs(30));
        assert_eq!(defaults.recycle_after, Some(Duration::from_secs(3600)));
        assert_eq!(defaults.connect_attempts, Some(10));
        assert_eq!(defaults.retry_interval, Duration::from_secs(10));
        let set = store_options(&database(
            "max_pool_size = 8\nmax_overflow = 0\npool_timeout = 3\n\
             connection_recycle_time = -1\nmax_retries = -1\nretry_interval = 2\n",
        ));
        assert_eq!(set.max_connections, 8);
        assert_eq!(set.max_overflow, 0);
        assert_eq!(set.pool_timeout, Duration::from_secs(3));
        assert_eq!(set.recycle_after, None);
        assert_eq!(set.connect_attempts, None);
        assert_eq!(set.retry_interval, Duration::from_secs(2));
    }
}
