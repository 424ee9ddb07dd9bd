//! `mist-dispatcher`: wires configuration to the dispatcher.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (settings, shutdown) = mist_common::boot::boot("mist-dispatcher", "Assigns Mist jobs to workers")?;
    mist_dispatcher::run(settings, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
