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
    /// Also stop when standard input closes (for supervisors that hold a pipe to it).
    #[arg(long)]
    exit_on_stdin_close: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shutdown = if args.exit_on_stdin_close {
        mist_common::shutdown::on_signal_or_stdin_close()
    } else {
        mist_common::shutdown::on_signal()
    };
    let settings = Settings::load(args.config.as_deref(), &[])?;
    mist_common::telemetry::init(&settings.log);
    tracing::info!(version = mist_common::MIST_VERSION, config = %settings.redacted(), "starting mist-dispatcher");
    mist_dispatcher::run(settings, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
