//! The accept loop: HTTP/1.1 connections served by hyper under the api's own bounds. A
//! client has `RATIFY_HEADER_TIMEOUT_SECONDS` to send a request head whole (a slow-header
//! client is cut, not kept), at most `RATIFY_MAX_CONNECTIONS` connections are served at
//! once (more wait in the kernel's listen backlog), and hyper's own answers to a malformed
//! head get the one error shape on their way out ([`crate::wire`]). On shutdown the
//! listener closes, idle connections close, and in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::wire::Shaped;

/// The bounds one server applies to each connection.
pub struct Bounds {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for every open
/// connection's in-flight request to finish.
pub async fn serve(listener: TcpListener, router: Router, bounds: Bounds, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let closing = CancellationToken::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_timeout)
        // One flat write buffer, so an automatic answer's head reaches the wire in one
        // piece where `Shaped` can recognise it.
        .writev(false);
    let http = Arc::new(http);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first, then a connection: at the cap, new clients wait in the backlog
        // instead of being accepted and starved.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: pass, and let the next accept try.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (http, service, closing) = (http.clone(), TowerToHyperService::new(router.clone()), closing.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let connection = http.serve_connection(TokioIo::new(Shaped::new(stream)), service);
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = closing.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    closing.cancel();
    // Every connection holds a slot until it ends: holding them all means all have ended.
    let all = u32::try_from(bounds.max_connections).expect("RATIFY_MAX_CONNECTIONS is at most 1,000,000");
    let _ = slots.acquire_many(all).await;
}
