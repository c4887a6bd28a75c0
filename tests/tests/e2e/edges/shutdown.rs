//! Shutdown: a request in flight at SIGTERM is answered, then the api exits.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Whether the process has exited (gone, or a zombie not yet reaped).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_sigterm_a_request_in_flight_is_answered_then_the_api_exits() {
    let mut stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    let body = json!([{"action": "approve", "transaction": {"transactionId": 1}}]).to_string();
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(authority(&stack)).await.expect("connect");
    let head = format!(
        "POST /advertisers/{ADV}/transactions/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        client.token(),
        body.len()
    );
    stream.write_all(format!("{head}{first}").as_bytes()).await.expect("send the head");
    // Let the api start the request before it is told to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = stack.api_pid().expect("api pid");
    let term = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().expect("kill");
    assert!(term.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!exited(pid), "the api left with a request in flight");
    stream.write_all(rest.as_bytes()).await.expect("send the rest");
    let mut answer = vec![0; 4096];
    let n =
        tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer)).await.expect("answer").expect("read");
    let text = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("jobId"), "{text}");
    drop(stream);
    ratify_tests::eventually("the api to exit", Duration::from_secs(20), || async { exited(pid).then_some(()) }).await;
    stack.stop_api().expect("reap the api");
}
