//! The agent's TCP endpoint for its workers: each worker connects, says hello with its id,
//! then exchanges newline-delimited JSON (see `protocol`). Every line read becomes an
//! input of the agent's loop; lines to send go through a per-worker writer task.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agent::Input;
use crate::protocol::FromWorker;

/// How long a connected worker has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn accept(listener: TcpListener, inputs: mpsc::Sender<Input>, shutdown: CancellationToken) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => { tracing::warn!(error = %err, "cannot accept a worker connection"); continue; }
            },
        };
        tokio::spawn(serve(stream, inputs.clone()));
    }
}

async fn serve(stream: TcpStream, inputs: mpsc::Sender<Input>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, lines.next_line()).await {
        Ok(Ok(Some(line))) => serde_json::from_str::<FromWorker>(&line).ok(),
        _ => None,
    };
    let Some(FromWorker::Hello { worker_id, spark_version, spark_ui, .. }) = hello else {
        tracing::warn!("a connection that did not say hello was closed");
        return;
    };
    let (to_worker, mut outgoing) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(line) = outgoing.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let hello = Input::WorkerHello { worker_id: worker_id.clone(), spark_version, spark_ui, to_worker };
    if inputs.send(hello).await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<FromWorker>(&line) {
            Ok(message) => {
                if inputs.send(Input::FromWorker { worker_id: worker_id.clone(), message }).await.is_err() {
                    return;
                }
            }
            Err(err) => tracing::warn!(worker.id = %worker_id, error = %err, "unreadable line from a worker"),
        }
    }
    let _ = inputs.send(Input::WorkerDisconnected { worker_id }).await;
}
