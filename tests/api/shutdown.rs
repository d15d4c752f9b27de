//! A graceful stop: WebSockets get 1001, held long polls are answered, SSE streams end.

use crate::helpers::{RawConn, spawn_app};

#[tokio::test]
async fn stopping_closes_every_stream_cleanly() {
    let app = spawn_app().await;
    let mut ws = app.conn().await;
    assert_eq!(ws.upgrade("/ws", &[]).await.0, 101);
    let mut sse = app.conn().await;
    sse.send(format!("GET /api/sse HTTP/1.1\r\nHost: {}\r\n\r\n", app.host()).as_bytes())
        .await;
    assert_eq!(sse.read_head().await.0, 200);
    assert!(sse.read_chunk().await.is_some(), "the retry line");
    let long_poll = {
        let addr = app.addr;
        tokio::spawn(async move {
            RawConn::connect(addr)
                .await
                .get("/api/longpoll?timeout_ms=60000")
                .await
        })
    };
    app.until_followers(3).await; // the socket, the stream and the held poll all wait on the hub

    let stopper = app.stopper.clone();
    let stopping = tokio::spawn(async move { stopper.stop().await });

    let (code, reason) = ws.read_close().await;
    assert_eq!(code, 1001, "{reason}");
    let answered = long_poll.await.unwrap();
    assert_eq!(answered.status, 200);
    assert_eq!(answered.json()["events"], serde_json::json!([]));
    assert_eq!(
        sse.read_chunk().await,
        None,
        "the SSE stream ends with its last chunk"
    );
    stopping.await.unwrap();
}
