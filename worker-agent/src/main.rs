//! `mist-agent`: wires configuration to the worker agent.

use std::path::PathBuf;

use clap::Parser;
use mist_common::config::Settings;

#[derive(Parser)]
#[command(name = "mist-agent", version, about = "Runs Mist workers on a Spark host")]
struct Args {
    /// A TOML configuration file; MIST__SECTION__KEY variables override it.
    #[arg(long, env = "MIST_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::load(args.config.as_deref(), &[])?;
    mist_common::telemetry::init(&settings.log);
    tracing::info!(version = mist_common::MIST_VERSION, config = %settings.redacted(), "starting mist-agent");
    mist_agent::run(settings, mist_common::shutdown::on_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
