//! The signals that ask pushlab to stop: Ctrl-C (SIGINT) and SIGTERM (how service managers and
//! `kill` ask). The server drains and stops on them; the bench gives the servers it loads their
//! feed settings back before it stops. Imports nothing of pushlab.

/// Resolves at the first Ctrl-C or SIGTERM (Ctrl-C alone where SIGTERM cannot be watched).
pub async fn stop_requested() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
