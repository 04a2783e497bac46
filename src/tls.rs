//! rustls needs its crypto provider chosen before any client is built.

pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Serving the API over HTTPS (`[DEFAULT] use_ssl` with the `[ssl]` group).
pub mod server {
    use std::io;
    use std::net::SocketAddr;
    use std::sync::{Arc, RwLock};
    use std::time::Duration;

    use anyhow::{Context, anyhow};
    use inspector_core::conf::Config;
    use rustls::ServerConfig;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
    use rustls::sign::CertifiedKey;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::server::TlsStream;

    /// A client that connects and never finishes its handshake gives up its
    /// task after this long.
    const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Reads `[ssl] cert_file` and `key_file`; errors name the option.
    fn load_certified_key(config: &Config) -> anyhow::Result<CertifiedKey> {
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
        let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
            anyhow!("[ssl] key_file {key_file} does not match [ssl] cert_file {cert_file}: {e}")
        })?;
        Ok(certified)
    }

    /// The current certificate; SIGHUP swaps it, handshakes read it.
    #[derive(Debug)]
    struct ReloadableCert(RwLock<Arc<CertifiedKey>>);

    impl ResolvesServerCert for ReloadableCert {
        fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
        }
    }

    /// What `[ssl]` configures; checked in full by [`TlsSettings::load`].
    pub struct TlsSettings {
        config: Arc<ServerConfig>,
        cert: Arc<ReloadableCert>,
        source: Config,
    }

    impl TlsSettings {
        /// Loads and checks every file of `[ssl]`.
        pub fn load(config: &Config) -> anyhow::Result<Self> {
            super::install_crypto_provider();
            let cert = Arc::new(ReloadableCert(RwLock::new(Arc::new(load_certified_key(
                config,
            )?))));
            let builder = ServerConfig::builder();
            let builder = match config.ssl.ca_file.as_deref() {
                None => builder.with_no_client_auth(),
                Some(ca_file) => {
                    let mut roots = rustls::RootCertStore::empty();
                    let cas = CertificateDer::pem_file_iter(ca_file)
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .map_err(|e| anyhow!("[ssl] ca_file {ca_file}: {e}"))?;
                    let (added, _) = roots.add_parsable_certificates(cas);
                    if added == 0 {
                        return Err(anyhow!("[ssl] ca_file {ca_file}: no usable certificate"));
                    }
                    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                        .build()
                        .with_context(|| format!("[ssl] ca_file {ca_file}"))?;
                    builder.with_client_cert_verifier(verifier)
                }
            };
            let mut server = builder.with_cert_resolver(cert.clone());
            server.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Self {
                config: Arc::new(server),
                cert,
                source: config.clone(),
            })
        }

        /// Re-reads the certificate and key; on error the previous pair stays.
        pub fn reload(&self) -> anyhow::Result<()> {
            let fresh = Arc::new(load_certified_key(&self.source)?);
            *self.cert.0.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            Ok(())
        }

        /// Re-reads the certificate on every SIGHUP (as the log file is).
        pub fn reload_on_sighup(self: &Arc<Self>) -> io::Result<()> {
            let mut hangups =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
            let settings = self.clone();
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    match settings.reload() {
                        Ok(()) => tracing::info!("SIGHUP: reloaded the TLS certificate"),
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
        pub fn new(listener: TcpListener, settings: &TlsSettings) -> io::Result<Self> {
            let local = listener.local_addr()?;
            let acceptor = TlsAcceptor::from(settings.config.clone());
            let (sender, ready) = mpsc::channel(64);
            tokio::spawn(async move {
                loop {
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
                    let acceptor = acceptor.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
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
