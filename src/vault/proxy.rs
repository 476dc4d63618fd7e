//! How a connection to Vault is opened: directly, or through the proxy
//! `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` name for its host (unless
//! `NO_PROXY` exempts it), as curl and Vault's own CLI do. An https Vault is
//! reached through the proxy's CONNECT tunnel (TLS stays end to end); an
//! http one by sending the proxy each request in absolute form.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens connections for the HTTP client (a `tower` service of `Uri`).
#[derive(Clone)]
pub struct Connector {
    tcp: HttpConnector,
    tls: Arc<ClientConfig>,
    /// `VAULT_TLS_SERVER_NAME`: the name checked and sent as SNI.
    server_name: Option<ServerName<'static>>,
    direct: HttpsConnector<HttpConnector>,
    proxies: Arc<Matcher>,
}

impl Connector {
    pub fn new(
        tcp: HttpConnector,
        tls: ClientConfig,
        server_name: Option<ServerName<'static>>,
        proxies: Arc<Matcher>,
    ) -> Connector {
        let tls = Arc::new(tls);
        let direct = https_over(tcp.clone(), &tls, server_name.as_ref());
        Connector {
            tcp,
            tls,
            server_name,
            direct,
            proxies,
        }
    }
}

/// TLS for https destinations over `inner`; http ones pass through.
fn https_over<C>(
    inner: C,
    tls: &ClientConfig,
    server_name: Option<&ServerName<'static>>,
) -> HttpsConnector<C> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http();
    match server_name {
        Some(name) => builder
            .with_server_name_resolver(FixedServerNameResolver::new(name.clone()))
            .enable_http1()
            .wrap_connector(inner),
        None => builder.enable_http1().wrap_connector(inner),
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Every connector below is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let Some(proxy) = this.proxies.intercept(&dst) else {
                let mut direct = this.direct;
                let inner = direct.call(dst).await?;
                return Ok(Stream::direct(inner));
            };
            if dst.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), this.tcp);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let mut https = https_over(tunnel, &this.tls, this.server_name.as_ref());
                let inner = https.call(dst).await?;
                return Ok(Stream::direct(inner));
            }
            let mut tcp = this.tcp;
            let inner = tcp.call(proxy.uri().clone()).await?;
            Ok(Stream {
                inner: MaybeHttpsStream::Http(inner),
                to_proxy: true,
            })
        })
    }
}

/// A connection, and whether its requests go to a proxy in absolute form.
pub struct Stream {
    inner: MaybeHttpsStream<TokioIo<TcpStream>>,
    to_proxy: bool,
}

impl Stream {
    fn direct(inner: MaybeHttpsStream<TokioIo<TcpStream>>) -> Stream {
        Stream {
            inner,
            to_proxy: false,
        }
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        self.inner.connected().proxy(self.to_proxy)
    }
}

impl Read for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl Write for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
