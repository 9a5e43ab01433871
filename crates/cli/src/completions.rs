//! `klarna-hpp completions SHELL`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::error::CliError;

/// `completions` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The shell (bash, zsh, fish, elvish, powershell).
    shell: Shell,
}

/// Prints the completion script.
pub(crate) fn run(args: Args) -> Result<(), CliError> {
    let mut command = crate::Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "klarna-hpp",
        &mut std::io::stdout(),
    );
    Ok(())
}
