//! Prints a summary of an attach stream: `cargo run -p allocgate-wire --example dump -- FILE`.

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: dump FILE");
        std::process::exit(2);
    };
    let capture = match allocgate_wire::Capture::read_file(path.as_ref()) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.to_string_lossy());
            std::process::exit(1);
        }
    };
    println!(
        "program {} pid {}",
        capture.header.program, capture.header.pid
    );
    for client in &capture.clients {
        let calls: Vec<_> = capture.callbacks_of(client.slot).collect();
        let allocations: u64 = calls.iter().map(|c| c.counts.allocations).sum();
        let mut blocking = std::collections::BTreeMap::new();
        for c in &calls {
            for (name, n) in capture.blocking(c) {
                *blocking.entry(name).or_insert(0) += n;
            }
        }
        let longest = calls.iter().map(|c| c.duration_ns).max().unwrap_or(0);
        println!(
            "slot {} {} '{}' {} Hz / {}: {} invocations, {} allocations, blocking {:?}, longest {} ns, dropped {}",
            client.slot,
            client.role.describe(),
            client.name,
            client.sample_rate,
            client.buffer_size,
            calls.len(),
            allocations,
            blocking,
            longest,
            capture.dropped(client.slot)
        );
    }
    for s in &capture.sites {
        println!(
            "site slot {} {} size {}: {} calls",
            s.slot,
            s.function,
            s.size,
            s.calls()
        );
    }
    println!(
        "end: {:?}, problem: {:?}",
        capture.end,
        capture.problem.as_ref().map(ToString::to_string)
    );
}
