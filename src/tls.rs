//! rustls needs its crypto provider chosen before any client is built.

pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

mod ciphers;

/// Serving the API over HTTPS (`[DEFAULT] use_ssl` with the `[ssl]` group).
pub mod server {
    use std::io;
    use std::net::SocketAddr;
    use std::sync::{Arc, RwLock};
    use std::time::Duration;

    use anyhow::{Context, anyhow};
    use inspector_core::conf::Config;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::WebPkiClientVerifier;
    use rustls::server::danger::ClientCertVerifier;
    use rustls::sign::CertifiedKey;
    use rustls::{ServerConfig, SupportedProtocolVersion};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{Semaphore, mpsc};
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::server::TlsStream;

    use super::ciphers;

    /// A client that connects and never finishes its handshake gives up its
    /// task after this long.
    const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Handshakes in progress at once. A client that connects and stays
    /// silent holds one until the timeout; beyond this many, new connections
    /// wait in the kernel's backlog instead of each taking a task and buffers.
    const MAX_HANDSHAKES_IN_PROGRESS: usize = 256;

    /// The certificate chain and a key checked to belong to it.
    struct CertAndKey {
        cert: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    }

    /// Reads `[ssl] cert_file` and `key_file`; errors name the option.
    fn load_certified_key(config: &Config) -> anyhow::Result<CertAndKey> {
        let cert_file = config
            .ssl
            .cert_file
            .as_deref()
            .ok_or_else(|| anyhow!("[ssl] cert_file is required with [DEFAULT] use_ssl"))?;
        let key_file = config
            .ssl
            .key_file
            .as_deref()
            .ok_or_else(|| anyhow!("[ssl] key_file is required with [DEFAULT] use_ssl"))?;
        let chain = CertificateDer::pem_file_iter(cert_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow!("[ssl] cert_file {cert_file}: {e}"))?;
        if chain.is_empty() {
            return Err(anyhow!("[ssl] cert_file {cert_file}: no certificate in it"));
        }
        let key = PrivateKeyDer::from_pem_file(key_file)
            .map_err(|e| anyhow!("[ssl] key_file {key_file}: {e}"))?;
        let provider = rustls::crypto::ring::default_provider();
        CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(|e| {
            anyhow!("[ssl] key_file {key_file} does not match [ssl] cert_file {cert_file}: {e}")
        })?;
        Ok(CertAndKey { cert: chain, key })
    }

    /// `[ssl] ca_file`: when set, clients must present a certificate it signed.
    fn load_client_verifier(
        config: &Config,
        provider: &Arc<CryptoProvider>,
    ) -> anyhow::Result<Option<Arc<dyn ClientCertVerifier>>> {
        let Some(ca_file) = config.ssl.ca_file.as_deref() else {
            return Ok(None);
        };
        let mut roots = rustls::RootCertStore::empty();
        let cas = CertificateDer::pem_file_iter(ca_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow!("[ssl] ca_file {ca_file}: {e}"))?;
        let (added, _) = roots.add_parsable_certificates(cas);
        if added == 0 {
            return Err(anyhow!("[ssl] ca_file {ca_file}: no usable certificate"));
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .with_context(|| format!("[ssl] ca_file {ca_file}"))?;
        Ok(Some(verifier))
    }

    static TLS12_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
    static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

    /// `[ssl] version`, read as upstream did (case-insensitive); the versions
    /// to serve and a warning when rustls cannot do what was asked.
    fn protocol_versions(
        version: Option<&str>,
    ) -> anyhow::Result<(&'static [&'static SupportedProtocolVersion], Option<String>)> {
        let Some(version) = version.filter(|v| !v.is_empty()) else {
            return Ok((rustls::ALL_VERSIONS, None));
        };
        match version.to_ascii_lowercase().as_str() {
            "tlsv1_2" => Ok((TLS12_ONLY, None)),
            "tlsv1_3" => Ok((TLS13_ONLY, None)),
            "sslv23" => Ok((
                rustls::ALL_VERSIONS,
                Some(format!(
                    "[ssl] version {version}: TLS 1.0 and 1.1 are not offered (rustls has TLS 1.2 and 1.3 only); serving TLS 1.2 and 1.3"
                )),
            )),
            "tlsv1" | "tlsv1_1" => Ok((
                rustls::ALL_VERSIONS,
                Some(format!(
                    "[ssl] version {version} is not available (rustls has TLS 1.2 and 1.3 only); serving TLS 1.2 and 1.3 instead"
                )),
            )),
            _ => Err(anyhow!(
                "[ssl] version {version}: invalid SSL version (TLSv1_2, TLSv1_3, SSLv23, TLSv1 or TLSv1_1)"
            )),
        }
    }

    /// The crypto provider with the suites `[ssl] ciphers` selects.
    fn provider_for(
        ciphers: Option<&str>,
        versions: &[&SupportedProtocolVersion],
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<CryptoProvider> {
        let mut provider = rustls::crypto::ring::default_provider();
        let Some(list) = ciphers.filter(|c| !c.trim().is_empty()) else {
            return Ok(provider);
        };
        let selection = ciphers::select(list).map_err(|e| anyhow!("[ssl] ciphers {e}"))?;
        warnings.extend(
            selection
                .warnings
                .iter()
                .map(|w| format!("[ssl] ciphers: {w}")),
        );
        let chosen: Vec<_> = selection
            .suites
            .iter()
            .filter_map(|id| {
                provider
                    .cipher_suites
                    .iter()
                    .find(|s| s.suite() == *id)
                    .copied()
            })
            .collect();
        if !chosen.iter().any(|s| versions.contains(&s.version())) {
            return Err(anyhow!(
                "[ssl] ciphers {list:?} leaves no cipher suite for the TLS versions served ([ssl] version)"
            ));
        }
        provider.cipher_suites = chosen;
        Ok(provider)
    }

    /// Builds the rustls configuration from every file and option of `[ssl]`;
    /// also what `[ssl]` asks that rustls cannot honour.
    fn build(config: &Config) -> anyhow::Result<(Arc<ServerConfig>, Vec<String>)> {
        let mut warnings = Vec::new();
        let (versions, warning) = protocol_versions(config.ssl.version.as_deref())?;
        warnings.extend(warning);
        let provider = Arc::new(provider_for(
            config.ssl.ciphers.as_deref(),
            versions,
            &mut warnings,
        )?);
        let certified = load_certified_key(config)?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .context("[ssl] version and ciphers")?;
        let builder = match load_client_verifier(config, &provider)? {
            None => builder.with_no_client_auth(),
            Some(verifier) => builder.with_client_cert_verifier(verifier),
        };
        let mut server = builder
            .with_single_cert(certified.cert, certified.key)
            .context("[ssl] cert_file")?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok((Arc::new(server), warnings))
    }

    /// What `[ssl]` configures, checked in full by [`TlsSettings::load`];
    /// SIGHUP rebuilds it from the files, handshakes use the current one.
    pub struct TlsSettings {
        current: RwLock<Arc<ServerConfig>>,
        source: Config,
        /// What `[ssl]` asks that rustls cannot honour; logged at start.
        pub warnings: Vec<String>,
    }

    impl TlsSettings {
        /// Loads and checks every file and option of `[ssl]`.
        pub fn load(config: &Config) -> anyhow::Result<Self> {
            super::install_crypto_provider();
            let (server, warnings) = build(config)?;
            Ok(Self {
                current: RwLock::new(server),
                source: config.clone(),
                warnings,
            })
        }

        fn current(&self) -> Arc<ServerConfig> {
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }

        /// Re-reads the certificate, key and CA; on error the previous ones stay.
        pub fn reload(&self) -> anyhow::Result<()> {
            let (fresh, _) = build(&self.source)?;
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            Ok(())
        }

        /// Re-reads the files on every SIGHUP (as the log file is).
        pub fn reload_on_sighup(self: &Arc<Self>) -> io::Result<()> {
            let mut hangups =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
            let settings = self.clone();
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    match settings.reload() {
                        Ok(()) => {
                            tracing::info!("SIGHUP: reloaded the TLS certificate, key and CA")
                        }
                        Err(e) => {
                            tracing::error!("SIGHUP: {e:#}; still serving the previous certificate")
                        }
                    }
                }
            });
            Ok(())
        }
    }

    /// Accepts TCP connections and hands on those whose TLS handshake
    /// succeeded; handshakes run in their own tasks so a slow client does
    /// not hold the others, and a failed one just closes its connection.
    pub struct TlsListener {
        ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
        local: SocketAddr,
    }

    impl TlsListener {
        pub fn new(listener: TcpListener, settings: Arc<TlsSettings>) -> io::Result<Self> {
            let local = listener.local_addr()?;
            let (sender, ready) = mpsc::channel(64);
            let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES_IN_PROGRESS));
            tokio::spawn(async move {
                loop {
                    let Ok(permit) = handshakes.clone().acquire_owned().await else {
                        return;
                    };
                    let (tcp, peer) = match listener.accept().await {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: let it pass.
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    if sender.is_closed() {
                        return;
                    }
                    // rustls writes a handshake flight as several records; with
                    // Nagle's algorithm the later ones wait for the client's
                    // delayed ACK (tens of milliseconds per handshake).
                    let _ = tcp.set_nodelay(true);
                    // The configuration of this moment: SIGHUP may replace it.
                    let acceptor = TlsAcceptor::from(settings.current());
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
                        drop(permit);
                        match handshake {
                            Ok(Ok(tls)) => {
                                let _ = sender.send((tls, peer)).await;
                            }
                            Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        }
                    });
                }
            });
            Ok(Self { ready, local })
        }
    }

    impl axum::serve::Listener for TlsListener {
        type Io = TlsStream<TcpStream>;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            match self.ready.recv().await {
                Some(accepted) => accepted,
                // The accept loop never ends while this receiver lives.
                None => std::future::pending().await,
            }
        }

        fn local_addr(&self) -> io::Result<Self::Addr> {
            Ok(self.local)
        }
    }
}
