//! What every Mist binary does first: read its command line and configuration, set up
//! logging, log the effective configuration, and arrange for a clean shutdown.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

#[derive(Parser)]
#[command(version)]
struct Args {
    /// A TOML configuration file; MIST__SECTION__KEY variables override it.
    #[arg(long, env = "MIST_CONFIG")]
    config: Option<PathBuf>,
    /// Also stop when standard input closes (for supervisors that hold a pipe to it).
    #[arg(long)]
    exit_on_stdin_close: bool,
}

/// The settings to run with and the token that trips on shutdown. Must be called inside
/// the Tokio runtime (shutdown is watched by a task).
pub fn boot(binary: &'static str, about: &'static str) -> anyhow::Result<(Settings, CancellationToken)> {
    let matches = Args::command().name(binary).about(about).get_matches();
    let args = Args::from_arg_matches(&matches)?;
    let settings = Settings::load(args.config.as_deref(), &[])?;
    crate::telemetry::init(&settings.log);
    crate::fault::setup();
    tracing::info!(version = crate::MIST_VERSION, config = %settings.redacted(), "starting {binary}");
    let shutdown = if args.exit_on_stdin_close {
        crate::shutdown::on_signal_or_stdin_close()
    } else {
        crate::shutdown::on_signal()
    };
    Ok((settings, shutdown))
}
