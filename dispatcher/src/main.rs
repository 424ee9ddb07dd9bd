//! `mist-dispatcher`: wires configuration to the dispatcher.

use std::path::PathBuf;

use clap::Parser;
use mist_common::config::Settings;

#[derive(Parser)]
#[command(name = "mist-dispatcher", version, about = "Assigns Mist jobs to workers")]
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
    tracing::info!(version = mist_common::MIST_VERSION, config = %settings.redacted(), "starting mist-dispatcher");
    mist_dispatcher::run(settings, mist_common::shutdown::on_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
