//! The `allocgate` command line: parses arguments and dispatches to the
//! library.

use std::process::ExitCode;

use std::fmt::Display;

use allocgate_tool::gate::GateVerdict;
use allocgate_tool::interrupt::Stop;
use allocgate_tool::run::soak::{soak_checked, soak_failures};
use allocgate_tool::run::{ended_early, failures, ran_nothing, run_checked, write_run};
use clap::{Parser, Subcommand};

#[cfg(not(feature = "dhat-heap"))]
#[global_allocator]
static ALLOC: allocgate::CountingAlloc = allocgate::CountingAlloc::system();

// `run --dhat`: the counting allocator stacked on dhat's, whose own
// bookkeeping the counting allocator's re-entrancy guard leaves uncounted.
#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOC: allocgate::CountingAlloc<dhat::Alloc> = allocgate::CountingAlloc::new(dhat::Alloc);

// The C-level layer, linked but counting nothing until `--c-level`
// attaches it (`attach_c_level`): until then each of its functions reads
// one thread-local byte and forwards to the C library.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
allocgate_interpose::link!();

/// Starts counting the C library's calls in every scope opened from now
/// on (`--c-level`, which validation refuses where the layer is not built).
fn attach_c_level() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    allocgate_interpose::attach();
}

/// Allocation-regression test harness and profiler for real-time audio
/// callbacks.
#[derive(Parser, Debug)]
#[command(
    name = "allocgate",
    version,
    about,
    after_help = "Examples:\n  \
                  allocgate                          the demo: prefix and fixed for 10 s, \
                  reports in reports/latest/\n  \
                  allocgate run --variant prefix     one run, its report in \
                  reports/latest/run.json\n  \
                  allocgate gate --junit gate.xml    every scenario on fixed; \
                  exit 1 if a callback allocates, locks or blocks\n  \
                  allocgate sweep                    variants × rates × frames × layouts, \
                  measured beside predicted, in reports/sweep/\n  \
                  allocgate hrir import-sofa         the KEMAR preset from its SOFA file, in \
                  reports/latest/\n\n\
                  Output files are checked before anything runs (an unwritable one fails at \
                  once) and replaced atomically; a symlink to a regular file is written \
                  through, and a device, FIFO, socket or directory is never replaced. Inputs \
                  must be regular files of a bounded size.\n\n\
                  Exit codes: 0 ok, 1 a callback that must not allocate or lock did or the \
                  output was wrong, 2 bad input, 130 or 143 interrupted by SIGINT or SIGTERM (128 plus the \
                  signal's number).\n\n\
                  Interrupts: run, gate, sweep, soak and the demo stop at the next callback \
                  boundary on the first SIGINT (Ctrl-C) or SIGTERM, write what finished marked \
                  as interrupted, stop any JACK server they started, and exit 130 or 143; a \
                  second signal exits at once."
)]
struct Cli {
    /// What to do; without one, runs the demo.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the reference engine on the simulated clock (or a real
    /// backend) and write a JSON report.
    ///
    /// Drives the input and output callbacks at their exact device times,
    /// measures every callback alone (allocator calls on its own thread,
    /// wall time), checks the output against the known input, and writes
    /// the report atomically.
    #[command(after_help = RUN_HELP)]
    Run(Box<allocgate_tool::cli::RunArgs>),
    /// Run every scenario with the same sites (default: fixed, none) and
    /// fail if any callback touches the allocator, takes a lock or blocks.
    ///
    /// Runs the default scenarios (embedded; harness/scenarios/) or those
    /// of --scenarios DIR on the simulated clock, checks every callback,
    /// warm-up included, for allocations, deallocations and
    /// reallocations, tracked locks, and (on Linux, unless --no-rusage)
    /// context switches and page faults, and the output's integrity;
    /// prints a table and optionally writes JUnit XML.
    #[command(after_help = GATE_HELP)]
    Gate(allocgate_tool::cli::GateArgs),
    /// Run many configurations and set each one's measured allocations
    /// beside what the site formulas predict.
    ///
    /// Every combination of variant, rate, frames and channels runs on the
    /// simulated clock (convolution on, integrity not checked); the table
    /// (allocations per second measured and predicted, input and output,
    /// the steady-state figure, the 48-byte class, the dominant macOS size
    /// class) is printed and written as sweep.md, sweep.csv and
    /// sweep.json, each atomically.
    #[command(after_help = SWEEP_HELP)]
    Sweep(allocgate_tool::cli::SweepArgs),
    /// A long simulated run with everything at once: drift, a preset
    /// switch every minute, new frame counts half a minute into each.
    ///
    /// Passes (exit 0) when no callback touched the allocator, the
    /// integrity check passed through every under- and overrun, every
    /// discontinuity the check followed is in the xrun counts, and the
    /// process's resident memory grew by at most 1 MiB after the first
    /// simulated minute; else exit 1. Writes the run's report.
    #[command(after_help = SOAK_HELP)]
    Soak(allocgate_tool::cli::SoakArgs),
    /// Compare two run reports, before and after a change: the bug
    /// report's tables, measured.
    ///
    /// Prints a markdown table (allocations per second, per 10 s, per
    /// callback, in the 48-byte class, deallocations, latency
    /// percentiles, CPU load, deadline misses, xruns, integrity; before,
    /// after, change) and writes it, the comparison as JSON and a
    /// self-contained HTML page on request. Refuses runs of different
    /// rate, frames, channels or length, a run that ended early, and a
    /// pair of which only one traced sites or read usage, unless --force,
    /// which marks every row the difference affects.
    #[command(after_help = COMPARE_HELP)]
    Compare(allocgate_tool::cli::CompareArgs),
    /// Make the before/after reports of the committed baselines (the
    /// demo's configuration and a small matrix) in reports/latest/baselines/.
    ///
    /// Each case runs twice on the simulated clock (before and after the
    /// fix) and writes before.json, after.json and their comparison as
    /// comparison.md, comparison.json and comparison.html.
    /// --update-committed rewrites the committed ones in reports/baselines/
    /// instead; a test checks that a fresh run reproduces every committed
    /// allocation count.
    Baselines(allocgate_tool::cli::BaselinesArgs),
    /// Profile an unmodified program's audio callbacks: run it with the
    /// preload library and report each callback as every run does.
    ///
    /// Runs PROGRAM with liballocgate_preload.so in LD_PRELOAD (Linux with
    /// glibc), which measures every JACK process callback (and process
    /// thread cycle, and callbacks marked with allocgate_callback_begin()/
    /// _end()) of every client inside it: allocator calls, bytes and size
    /// classes, blocking C calls by name, duration; optionally sites and
    /// page faults. Stops it after --seconds (SIGTERM, then SIGKILL after 2
    /// s), or when it exits; writes the JSON report (backend `attach`) and
    /// prints a summary; --gate judges it.
    #[command(after_help = ATTACH_HELP)]
    Attach(Box<allocgate_tool::cli::AttachArgs>),
    /// List the devices of a real backend (JACK ports by client, or
    /// CoreAudio devices) with their channels and rates.
    #[command(after_help = DEVICES_HELP)]
    Devices(allocgate_tool::cli::DevicesArgs),
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
                      allocgate hrir import-sofa\n      the KEMAR preset, in \
                      reports/latest/import-sofa.wav\n  \
                      allocgate hrir import-sofa --update-committed\n      regenerate the \
                      embedded preset (crates/engine/src/preset/kemar_7_1_48k.wav)\n  \
                      allocgate hrir import-sofa --rate 44100 --out /tmp/kemar_44k.wav\n      \
                      the same set at 44.1 kHz, elsewhere\n\n\
                      Exit codes: 0 ok, 2 bad input (missing or non-SOFA file, rate out of \
                      range, unwritable output; the output file is then left as it was)."
    )]
    ImportSofa(allocgate_tool::cli::ImportSofaArgs),
}

const RUN_HELP: &str = "Examples:\n  \
    allocgate run\n      fixed, 7.1 at 48 kHz / 512 frames, 10 s on the embedded KEMAR preset\n  \
    allocgate run --variant prefix --out reports/prefix.json\n      the engine before its fix\n  \
    allocgate run --variant fixed --sites scale-array --rate 96000 --frames 1024\n      \
    one site switched on, at another rate and buffer size: 64 allocations per output \
    callback\n  \
    allocgate run --variant optimized --frames 100\n      \
    the faster renderer: every frame rendered, 512 frames late\n  \
    allocgate run --no-convolution --drift-ppm 500 --seconds 120\n      \
    passthrough with a fast output clock: underruns, each counted\n  \
    allocgate run --mode paced --seconds 5\n      in real time, SCHED_FIFO when allowed\n  \
    allocgate run --scenario harness/scenarios/preset-switch.toml --variant prefix\n      \
    a scenario file; it replaces the device and clock flags\n  \
    allocgate run --backend jack --spawn-jackd --variant seed\n      \
    on a JACK dummy-driver server it starts (build with --features jack)\n  \
    allocgate run --backend jack --server default --output system:playback_1,system:playback_2\n      \
    on a running JACK server, also playing to its outputs\n  \
    allocgate run --backend coreaudio --input \"BlackHole 16ch\" --output \"MacBook Pro Speakers\"\n      \
    on CoreAudio devices (macOS)\n  \
    allocgate run --hdr-log reports/latest/latency.hlog\n      \
    the latency histograms as an HdrHistogram interval log, for its plotters\n  \
    cargo run --release --features dhat-heap -- run --dhat reports/latest/dhat-heap.json\n      \
    a DHAT heap profile of the whole process (dhat's dh_view.html opens it)\n\n\
    The report's keys are documented in reports/SCHEMA.md.\n\n\
    Exit codes: 0 ok; 1 the integrity check failed, or a run with no site switched on \
    (fixed, no --sites) touched the allocator in a callback; 2 bad input (the reason on \
    one line; an existing report is left as it was), or a real backend's server or device \
    went away mid-run (the report of what was measured is written first); 130 or 143 \
    interrupted by SIGINT or SIGTERM: the run stopped at a callback boundary and its partial \
    report, marked \"interrupted\", replaced the one at --out (unless no callback had run: \
    then nothing is written); a second signal exits at once (a write under way is let \
    finish: the file at --out is the old report or the new one, never part of one).";

const GATE_HELP: &str = "Examples:\n  \
    allocgate gate\n      the 13 default scenarios on fixed\n  \
    allocgate gate --junit reports/gate.xml\n      the same, and JUnit XML for CI\n  \
    allocgate gate --sites underrun-log\n      one site switched on: the gate must catch it\n  \
    allocgate gate --scenarios harness/scenarios\n      the scenario files of a directory\n\n\
    Exit codes: 0 every scenario passed: no callback, warm-up included, made an allocator \
    call or took a tracked lock; with usage read (Linux, unless --no-rusage) none made a \
    voluntary context switch or a major page fault, none past its warm-up a minor page \
    fault, and every callback's usage was read; every callback's counts matched the site \
    formulas; no integrity check failed (with --baseline, allocations are held to the \
    baseline instead of zero); 1 a scenario failed (the table and the JUnit file say why, \
    with its first offending callback); 2 bad input (a scenario refused, with the file and \
    key, an unknown site, an unwritable JUnit file); 130 or 143 interrupted by SIGINT or SIGTERM: the table \
    holds the scenarios that finished, no verdict is given, no baseline is written, and the \
    JUnit file lists the scenario under way as an error and those after it as skipped.";

const COMPARE_HELP: &str = "Examples:\n  \
    allocgate compare reports/latest/prefix.json reports/latest/fixed.json\n      the demo's \
    two runs, as a markdown table\n  \
    allocgate compare before.json after.json --md cmp.md --json cmp.json --html cmp.html\n      \
    the same table in a file, the figures as JSON, and an HTML page with plots\n\n\
    Exit codes: 0 compared; 2 a report could not be read (missing, malformed, another schema \
    version), the runs differ in rate, frames, channels or length, one ended early, or only one \
    traced sites or read usage (without --force), or a file could not be written.";

const DEVICES_HELP: &str = "Examples:\n  \
    allocgate devices --backend jack --server default\n      the clients and ports of a \
    running JACK server\n  \
    allocgate devices --backend jack --spawn-jackd\n      a dummy-driver server started \
    for the listing (needs jackd on PATH)\n  \
    allocgate devices --backend coreaudio\n      CoreAudio devices with their UIDs (macOS)\n\n\
    The jack backend needs a build with --features jack.\n\n\
    Exit codes: 0 listed; 2 the backend is not in this build, or the server or system \
    could not be reached (the reason on one line).";

const ATTACH_HELP: &str = "Examples:\n  \
    allocgate attach --seconds 5 -- jack_simple_client\n      an unmodified JACK client, 5 s, \
    its report in reports/latest/attach.json\n  \
    allocgate attach --gate --warm-up 10 --seconds 10 -- ./my-synth --jack\n      \
    exit 1 if a callback past each client's first 10 allocates or blocks\n  \
    allocgate attach --trace-sites --rusage --seconds 5 --out after.json -- ./my-synth\n      \
    with sites and page faults; compare it with a before.json made the same way\n\n\
    The preload library is $ALLOCGATE_PRELOAD when set, else liballocgate_preload.so beside \
    this executable (target/release/ after cargo build --release), else \
    ../lib/allocgate/liballocgate_preload.so from its directory. The program inherits \
    standard input, output and error and runs in a process group of its own (reading a \
    terminal stops it); its children run without the library unless --children.\n\n\
    Exit codes: 0 the report was written (with --gate: and every callback past the warm-up \
    was clean); 1 --gate failed (a callback past its client's warm-up made an allocator or \
    blocking call, records were dropped, or a site exceeds --baseline); 2 no report: the \
    program cannot be run, the preload library is missing or did not load, no process \
    callback was ever seen, the capture is unreadable (the reason on one line); or a \
    partial report, written and marked: the program crashed, ignored SIGTERM, or its \
    capture is cut; 130 or 143 allocgate was interrupted by SIGINT or SIGTERM: the program \
    was stopped the same way and the report of what ran written, marked \"interrupted\" \
    (nothing when no callback had run); a second signal kills the program's process group \
    and exits at once.";

const SWEEP_HELP: &str = "Examples:\n  \
    allocgate sweep\n      seed, prefix and fixed at 44.1/48/96/192 kHz, 128/256/512/1024 frames, \
    2/8/12 channels, 2 s each\n  \
    allocgate sweep --variants prefix --rates 48000,192000 --frames 128,512,1024 --channels 8\n      \
    where 12 000 48-byte allocations a second come from\n\n\
    Exit codes: 0 every run measured exactly what the formulas predict; 1 a run differed \
    (each listed on standard error); 2 bad input (the reason on one line), or a file could \
    not be written; 130 or 143 interrupted by SIGINT or SIGTERM: the finished runs are \
    written, marked interrupted (a first line in sweep.md and sweep.csv, keys in sweep.json), \
    the run under way is dropped.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any other thread starts (parsing starts none).
    let stoppable = matches!(
        cli.command,
        None | Some(
            Command::Run(_)
                | Command::Gate(_)
                | Command::Sweep(_)
                | Command::Soak(_)
                | Command::Attach(_)
        )
    );
    let interrupts = if stoppable {
        match allocgate_tool::cli::Interrupts::install() {
            Ok(i) => Some(i),
            Err(e) => return bad_input(format!("cannot watch for interrupts: {e}")),
        }
    } else {
        None
    };
    let stop = interrupts
        .as_ref()
        .map(allocgate_tool::cli::Interrupts::stop);
    match cli.command {
        None => demo(stop),
        Some(Command::Run(args)) => run(&args, stop),
        Some(Command::Gate(args)) => gate(&args, stop),
        Some(Command::Sweep(args)) => sweep(&args, stop),
        Some(Command::Soak(args)) => soak(&args, stop),
        Some(Command::Attach(args)) => attach(&args, stop),
        Some(Command::Compare(args)) => match args.run() {
            Ok(done) => {
                print!("{}", done.markdown);
                for path in &done.written {
                    println!("wrote {}", path.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(e),
        },
        Some(Command::Baselines(args)) => {
            let mut bar = allocgate_tool::cli::Bar::new("baselines");
            let result =
                allocgate_tool::cli::write_baselines(&args.dir(), &mut |case, which, p| {
                    bar.update_labelled(&format!("{case} {which}"), p)
                });
            bar.finish();
            match result {
                Ok(dirs) => {
                    for d in dirs {
                        println!(
                            "wrote {}/{{before,after}}.json, comparison.{{md,json,html}}",
                            d.display()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => bad_input(e),
            }
        }
        Some(Command::Devices(args)) => match args.list() {
            Ok(listing) => {
                print!("{}", allocgate_tool::cli::render_devices(&listing));
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(e),
        },
        Some(Command::Hrir(Hrir::ImportSofa(args))) => match args.validate() {
            Ok(import) => import_sofa(&import),
            Err(e) => bad_input(e),
        },
    }
}

fn demo(stop: Option<Stop>) -> ExitCode {
    let mut bar = allocgate_tool::cli::Bar::new("demo");
    let dir = std::path::Path::new(allocgate_tool::cli::DEMO_DIR);
    let result = allocgate_tool::cli::run_demo_checked(dir, stop.as_ref(), &mut |v, p| {
        bar.update_labelled(v.name(), p)
    });
    bar.finish();
    match result {
        Ok(rows) => {
            // Stopped during a run, or between two (the rows lack one).
            let cut = rows.len() < allocgate_tool::cli::DEMO_VARIANTS.len()
                || rows.iter().any(|r| r.run.outcome.interrupted.is_some());
            let why = stop.as_ref().and_then(Stop::requested).filter(|_| cut);
            if let (Some(why), true) = (why, rows.is_empty()) {
                nothing_written(why, dir);
                return ExitCode::from(why.exit_code());
            }
            // The table is printed even when a file could not be written.
            let written = allocgate_tool::cli::write_demo(dir, &rows);
            print!("{}", allocgate_tool::cli::render_demo(&rows));
            if let Err(e) = written {
                return bad_input(e);
            }
            let failures: Vec<_> = rows
                .iter()
                .flat_map(|r| failures(&r.config, &r.run.report))
                .collect();
            match why {
                Some(why) => interrupted(why, &failures),
                None => verdict(&failures),
            }
        }
        Err(e) => bad_input(e),
    }
}

fn import_sofa(args: &allocgate_tool::cli::ImportSofa) -> ExitCode {
    match allocgate_tool::cli::import_sofa(args) {
        Ok(report) => {
            print!("{}", allocgate_tool::cli::render_import(&report));
            ExitCode::SUCCESS
        }
        Err(e) => bad_input(e),
    }
}

fn run(args: &allocgate_tool::cli::RunArgs, stop: Option<Stop>) -> ExitCode {
    let mut config = match args.validate() {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    config.stop = stop;
    if config.c_level {
        attach_c_level();
    }
    let mut bar = if config.backend.is_real() {
        allocgate_tool::cli::Bar::played("run")
    } else {
        allocgate_tool::cli::Bar::new("run")
    };
    let result = run_checked(&config, &mut |p| bar.update(p));
    bar.finish();
    match result {
        Ok(run) => {
            if let Some(why) = run.outcome.interrupted
                && ran_nothing(&run)
            {
                nothing_written(why, &config.out);
                return ExitCode::from(why.exit_code());
            }
            // The summary is printed even when a file could not be written.
            let written = write_run(&config, &run);
            let out = written.is_ok().then_some(config.out.as_path());
            print!(
                "{}",
                allocgate_tool::cli::render_summary(&config, &run, out)
            );
            if let Err(e) = written {
                return bad_input(e);
            }
            let failures = failures(&config, &run.report);
            if let Some(why) = run.outcome.interrupted {
                return interrupted(why, &failures);
            }
            if let Some(why) = ended_early(&run) {
                // The report of what was measured is written; the run
                // itself did not complete.
                return bad_input(why);
            }
            verdict(&failures)
        }
        Err(e) => bad_input(e),
    }
}

const SOAK_HELP: &str = "Examples:\n  \
    allocgate soak\n      fixed, one simulated hour at 300 ppm drift: frame counts 512 and \
    1024 in turn (the summary's harness line gives the speed, in simulated s per wall s)\n  \
    allocgate soak --variant optimized --minutes 10 --drift-ppm -500\n      \
    frame counts off the block size too (CoreAudio's 471/512/553 cycle, 128, a seeded \
    256/512 pick, 1024), a slow output clock: overruns\n\n\
    Exit codes: 0 passed; 1 failed (each reason on standard error); 2 bad input; 130 or 143 \
    interrupted by SIGINT or SIGTERM: the report of what ran is written, marked \
    \"interrupted\".\n";

fn soak(args: &allocgate_tool::cli::SoakArgs, stop: Option<Stop>) -> ExitCode {
    let mut plan = match args.validate() {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    plan.run.stop = stop;
    let mut bar = allocgate_tool::cli::Bar::new("soak");
    let result = soak_checked(&plan, &mut |p| bar.update(p));
    bar.finish();
    match result {
        Ok(soaked) => {
            if let Some(why) = soaked.run.outcome.interrupted
                && ran_nothing(&soaked.run)
            {
                nothing_written(why, &plan.run.out);
                return ExitCode::from(why.exit_code());
            }
            // The summary is printed even when the report could not be
            // written.
            let written = write_run(&plan.run, &soaked.run);
            let out = written.is_ok().then_some(plan.run.out.as_path());
            print!(
                "{}{}",
                allocgate_tool::cli::render_summary(&plan.run, &soaked.run, out),
                allocgate_tool::cli::render_soak(&plan, &soaked)
            );
            if let Err(e) = written {
                return bad_input(e);
            }
            let failures = soak_failures(&plan, &soaked);
            if let Some(why) = soaked.run.outcome.interrupted {
                return interrupted(why, &failures);
            }
            verdict(&failures)
        }
        Err(e) => bad_input(e),
    }
}

fn attach(args: &allocgate_tool::cli::AttachArgs, stop: Option<Stop>) -> ExitCode {
    use allocgate_tool::attach::{AttachError, attach_checked, site_counts, write_attached};
    use allocgate_tool::gate::Hold;

    let mut config = match args.validate() {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    config.stop = stop;
    let total = std::time::Duration::from_secs_f64(config.seconds.unwrap_or(0.0));
    let mut bar = config
        .seconds
        .map(|_| allocgate_tool::cli::Bar::played("attach"));
    let result = attach_checked(&config, &mut |ran| {
        if let Some(bar) = bar.as_mut() {
            bar.update(&allocgate_tool::drive::outcome::Progress {
                simulated: ran.min(total),
                total,
                callbacks: 0,
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish();
    }
    let run = match result {
        Ok(run) => run,
        Err(AttachError::InterruptedEarly(why)) => {
            nothing_written(why, &config.out);
            return ExitCode::from(why.exit_code());
        }
        Err(e) => return bad_input(e),
    };
    // The summary is printed even when a file could not be written.
    let written = write_attached(&config, &run);
    let out = written.is_ok().then_some(config.out.as_path());
    print!("{}", allocgate_tool::cli::render_attach(&config, &run, out));
    if let Err(e) = written {
        return bad_input(e);
    }
    let held = matches!(config.hold, Hold::Baseline { .. });
    let mut failures: Vec<String> = if config.gate {
        allocgate_tool::attach::failures(&run.report, held)
            .iter()
            .map(ToString::to_string)
            .collect()
    } else {
        Vec::new()
    };
    if run.interrupted.is_none() {
        match &config.hold {
            Hold::Baseline { baseline, path } => {
                let ratchet = baseline.compare(&site_counts(&run.report));
                print!("{}", ratchet.render());
                if !ratchet.passed() {
                    failures.push(format!(
                        "allocation sites exceed the baseline '{}' (NEW or HIGHER above)",
                        path.display()
                    ));
                }
            }
            Hold::UpdateBaseline(path) => println!("baseline written: {}", path.display()),
            Hold::Zero => {}
        }
    }
    if let Some(why) = run.interrupted {
        return interrupted(why, &failures);
    }
    let partial = run.report.attach.as_ref().and_then(|a| a.partial.clone());
    if let Some(why) = partial {
        for f in &failures {
            eprintln!("error: {f}");
        }
        return bad_input(format!("partial report ({why})"));
    }
    verdict(&failures)
}

fn sweep(args: &allocgate_tool::cli::SweepArgs, stop: Option<Stop>) -> ExitCode {
    let mut config = match args.validate() {
        Ok(c) => c,
        Err(e) => return bad_input(e),
    };
    config.spec.stop = stop;
    let mut bar = allocgate_tool::cli::Bar::new("sweep");
    let result =
        allocgate_tool::sweep::run_checked(&config.spec, &config.out, &mut |i, n, label, p| {
            bar.update_labelled(&format!("sweep {i}/{n} {label}"), p)
        });
    bar.finish();
    match result {
        Ok(report) => {
            let why = config
                .spec
                .stop
                .as_ref()
                .and_then(Stop::requested)
                .filter(|_| report.interrupted.is_some());
            if let Some(why) = why.filter(|_| report.rows.is_empty()) {
                nothing_written(why, &config.out);
                return ExitCode::from(why.exit_code());
            }
            // The table is printed even when the files could not be
            // written.
            print!("{}", allocgate_tool::sweep::render_markdown(&report));
            if let Err(e) = allocgate_tool::sweep::write_outputs(&config.out, &report) {
                return bad_input(e);
            }
            println!(
                "\nFiles: {}/{{sweep.md, sweep.csv, sweep.json}}",
                config.out.display()
            );
            let mismatches = allocgate_tool::sweep::mismatches(&report);
            if let Some(why) = why {
                return interrupted(why, &mismatches);
            }
            verdict(&mismatches)
        }
        Err(e) => bad_input(e),
    }
}

fn gate(args: &allocgate_tool::cli::GateArgs, stop: Option<Stop>) -> ExitCode {
    let mut plan = match args.validate() {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    plan.stop = stop;
    if plan.config.c_level {
        attach_c_level();
    }
    let total = plan.scenarios.len();
    let mut n = 0;
    let result = allocgate_tool::gate::run_gate(&plan, &mut |r| {
        n += 1;
        eprintln!(
            "[{n}/{total}] {} {}",
            r.name,
            if r.passed() { "pass" } else { "FAIL" }
        );
    });
    match result {
        Ok(outcome) => {
            print!("{}", allocgate_tool::gate::render_table(&outcome));
            if let Err(e) = allocgate_tool::gate::write_junit(&plan, &outcome) {
                return bad_input(e);
            }
            if let Some(path) = &plan.junit {
                println!("JUnit: {}", path.display());
            }
            match allocgate_tool::gate::conclude(&plan, &outcome) {
                Ok(verdict) => {
                    print!("{}", verdict.render());
                    match verdict {
                        GateVerdict::Interrupted(why) => ExitCode::from(why.exit_code()),
                        v if v.passed() == Some(true) => ExitCode::SUCCESS,
                        _ => ExitCode::from(1),
                    }
                }
                Err(e) => bad_input(e),
            }
        }
        Err(e) => bad_input(e),
    }
}

/// Says that an interrupt came before anything ran.
fn nothing_written(why: allocgate_tool::interrupt::Interrupt, out: &std::path::Path) {
    eprintln!(
        "interrupted by {why} before the first callback: nothing written, '{}' left as it was",
        out.display()
    );
}

/// Exit code 128 plus the signal's number, after the failures found in
/// what ran, each on a line.
fn interrupted(why: allocgate_tool::interrupt::Interrupt, failures: &[impl Display]) -> ExitCode {
    for f in failures {
        eprintln!("error: {f}");
    }
    ExitCode::from(why.exit_code())
}

/// Exit code 2, the reason on one line.
fn bad_input(e: impl Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// Exit code 0 when there is no failure, else 1 with each on a line.
fn verdict(failures: &[impl Display]) -> ExitCode {
    for f in failures {
        eprintln!("error: {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
