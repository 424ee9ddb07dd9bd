//! `mist-api`: wires configuration to the REST API.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (settings, shutdown) = mist_common::boot::boot("mist-api", "The Mist REST API v2")?;
    let address = (settings.http.host.clone(), settings.http.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {}:{} (http.host, http.port)", address.0, address.1))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let state = mist_api::AppState::new(settings)?;
    mist_api::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
