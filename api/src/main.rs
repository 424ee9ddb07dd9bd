//! `mist-api`: wires configuration to the REST API.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use mist_common::config::Settings;

#[derive(Parser)]
#[command(name = "mist-api", version, about = "The Mist REST API v2")]
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
    tracing::info!(version = mist_common::MIST_VERSION, config = %settings.redacted(), "starting mist-api");
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
