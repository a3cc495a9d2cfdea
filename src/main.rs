//! The `allocgate` command line: parses arguments and dispatches to the
//! library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

/// Allocation-regression test harness and profiler for real-time audio
/// callbacks.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    after_help = "Examples:\n  allocgate                     run the demo and print its table\n  \
                  allocgate hrir import-sofa    regenerate the embedded KEMAR preset\n\n\
                  Exit codes: 0 ok, 1 a callback that must not allocate did, 2 bad input."
)]
struct Cli {
    /// What to do; without one, runs the demo.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Head-related impulse-response presets.
    #[command(subcommand)]
    Hrir(Hrir),
}

#[derive(Subcommand, Debug)]
enum Hrir {
    /// Make a HeSuVi 14-channel preset from a SOFA file.
    ///
    /// Takes the measurement nearest to each 7.1 speaker (FL 30°, FR -30°,
    /// FC 0°, SL 90°, SR -90°, BL 150°, BR -150°; elevation 0), resamples it
    /// and writes a 32-bit float WAV, then prints the measurement each
    /// speaker used.
    #[command(
        after_help = "Paths are relative to the current directory; the defaults assume the \
                      repository root.\n\n\
                      Examples:\n  \
                      allocgate hrir import-sofa\n      regenerate the embedded KEMAR preset \
                      (src/engine/preset/kemar_7_1_48k.wav)\n  \
                      allocgate hrir import-sofa --rate 44100 --out /tmp/kemar_44k.wav\n      \
                      the same set at 44.1 kHz, elsewhere\n\n\
                      Exit codes: 0 ok, 2 bad input (missing or non-SOFA file, rate out of \
                      range, unwritable output; the output file is then left as it was)."
    )]
    ImportSofa {
        /// The SOFA (AES69) file to read.
        #[arg(long, value_name = "PATH", default_value = allocgate::cli::DEFAULT_SOFA)]
        sofa: PathBuf,
        /// The sample rate of the preset, in Hz (8000 to 384000).
        #[arg(long, value_name = "HZ", default_value_t = allocgate::engine::preset::sofa::DEFAULT_SAMPLE_RATE)]
        rate: u32,
        /// The WAV file to write; replaced atomically.
        #[arg(long, value_name = "FILE", default_value = allocgate::cli::DEFAULT_OUT)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => demo(),
        Some(Command::Hrir(Hrir::ImportSofa { sofa, rate, out })) => {
            import_sofa(&allocgate::cli::ImportSofa { sofa, rate, out })
        }
    }
}

fn demo() -> ExitCode {
    match allocgate::cli::run_demo() {
        Ok(rows) => {
            print!("{}", allocgate::cli::render_demo(&rows));
            let clean = rows
                .iter()
                .filter(|r| r.variant == allocgate::engine::sites::Variant::Fixed)
                .all(|r| r.input.total.is_allocation_free() && r.output.total.is_allocation_free());
            if clean {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: the fixed engine allocated in a callback");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn import_sofa(args: &allocgate::cli::ImportSofa) -> ExitCode {
    match allocgate::cli::import_sofa(args) {
        Ok(report) => {
            print!("{}", allocgate::cli::render_import(&report));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
