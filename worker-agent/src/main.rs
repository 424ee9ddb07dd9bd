//! `mist-agent`: wires configuration to the worker agent.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (settings, shutdown) = mist_common::boot::boot("mist-agent", "Runs Mist workers on a Spark host")?;
    mist_agent::run(settings, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
