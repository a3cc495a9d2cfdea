//! The `allocgate` command line: parses arguments and dispatches to the
//! library.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

/// Allocation-regression test harness and profiler for real-time audio
/// callbacks.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    after_help = "Examples:\n  allocgate            run the demo and print its table\n\n\
                  Exit codes: 0 ok, 1 a callback that must not allocate did, 2 bad input."
)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    match allocgate::cli::run_demo() {
        Ok(rows) => {
            print!("{}", allocgate::cli::render_demo(&rows));
            let clean = rows
                .last()
                .is_some_and(|r| r.totals.total.is_allocation_free());
            if clean {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: the pre-allocated callback allocated");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
