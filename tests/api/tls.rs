//! https and wss with a self-signed certificate (`--self-signed`): a client that trusts exactly
//! that certificate follows the feed over wss, and the meter counts the encrypted bytes.

use std::sync::Arc;

use futures_util::StreamExt;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{PATIENCE, TestApp, spawn_with};

/// A TLS client that trusts only `app`'s certificate.
fn trusting(app: &TestApp) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let der = app.certificate.clone().expect("the server runs TLS");
    roots.add(CertificateDer::from(der)).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `app` that trusts only its certificate.
async fn tls_connect(app: &TestApp) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    trusting(app)
        .connect(name, tcp)
        .await
        .expect("the certificate names 127.0.0.1 and is trusted")
}

/// A TCP stream that counts the bytes crossing it, TLS records included.
struct Counted {
    tcp: tokio::net::TcpStream,
    read: Arc<std::sync::atomic::AtomicU64>,
    written: Arc<std::sync::atomic::AtomicU64>,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.tcp).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        poll
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.tcp).poll_write(cx, bytes);
        if let std::task::Poll::Ready(Ok(n)) = poll {
            self.written
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        poll
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// The README: under TLS "the byte counts then include TLS records: what crosses the wire",
/// both halves of the handshake included (the server's hello and certificate were left out).
#[tokio::test]
async fn under_tls_the_counts_are_the_bytes_on_the_wire_handshake_included() {
    let app = spawn_with(|c| c.self_signed = true).await;
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let counted = Counted {
        tcp,
        read: read.clone(),
        written: written.clone(),
    };
    let mut https = trusting(&app)
        .connect(ServerName::try_from("127.0.0.1").unwrap(), counted)
        .await
        .unwrap();
    let request = "GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    https.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    https.read_to_end(&mut answer).await.ok();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let poll =
        serde_json::to_value(app.state.meter.snapshot()).unwrap()["transports"]["poll"].clone();
    let on_wire = (
        written.load(std::sync::atomic::Ordering::Relaxed),
        read.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert_eq!(
        (
            poll["bytes_in"].as_u64().unwrap(),
            poll["bytes_out"].as_u64().unwrap()
        ),
        on_wire,
        "(bytes in, bytes out) counted against the client's socket"
    );
}

/// A plain https GET on its own TLS connection, written by hand; the whole answer as text.
async fn https_get(app: &TestApp, path: &str) -> String {
    let mut https = tls_connect(app).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    https.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    https.read_to_string(&mut answer).await.ok();
    answer
}

#[tokio::test]
async fn a_wss_client_follows_the_feed_and_its_bytes_are_counted_encrypted() {
    let app = spawn_with(|c| c.self_signed = true).await;
    let url = format!("wss://{}/ws?since=0", app.addr);
    let (mut socket, response) = tokio_tungstenite::client_async(url, tls_connect(&app).await)
        .await
        .expect("wss upgrade");
    assert_eq!(response.status(), 101);
    // Published in-process: the test's plain-HTTP helpers cannot talk to a TLS port.
    app.state.ticks.burst(&app.state.hub, 3, 0);
    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        let message = tokio::time::timeout(PATIENCE, socket.next()).await.unwrap();
        if let Some(Ok(Message::Text(text))) = message {
            let event: serde_json::Value = serde_json::from_str(&text).unwrap();
            // The hello names the run; events carry a seq.
            seqs.extend(event["seq"].as_u64());
        }
    }
    assert_eq!(seqs, [1, 2, 3]);

    let answer = https_get(&app, "/api/stats").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let stats: serde_json::Value = serde_json::from_str(body).unwrap();
    let ws = &stats["transports"]["ws"];
    assert_eq!(ws["delivered"], 3);
    // Three events of ~80 bytes of JSON, plus the upgrade: the TLS records cost more than the
    // plain frames would, and the tap sees the records.
    assert!(ws["bytes_out"].as_u64().unwrap() > 3 * 80);
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_answer() {
    let app = spawn_with(|c| c.self_signed = true).await;
    let mut conn = app.conn().await;
    conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut answer = Vec::new();
    while let Some(bytes) = conn.read_more().await {
        answer.extend(bytes);
    }
    // At most a TLS alert record (content type 21), never an HTTP answer.
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(answer.is_empty() || answer[0] == 21, "{answer:?}");
}

#[tokio::test]
async fn pem_files_from_tls_cert_and_tls_key_are_served() {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("pushlab-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let app = spawn_with(|c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    })
    .await;
    assert_eq!(app.certificate.as_deref(), Some(made.cert.der().as_ref()));
    let answer = https_get(&app, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    std::fs::remove_dir_all(&dir).ok();
}
