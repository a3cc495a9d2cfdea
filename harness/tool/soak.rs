//! `allocgate soak`, shortened: a few simulated minutes with fast drift,
//! seeded frame counts and a preset switch each minute, on both
//! allocation-free variants. The full hour is `allocgate soak`.

use std::path::PathBuf;

use allocgate_tool::cli::SoakArgs;
use allocgate_tool::report::Verdict;
use allocgate_tool::run::soak::{SoakFailure, soak, soak_failures};

fn out(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("allocgate-soak-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("soak.json")
}

#[test]
fn a_short_soak_passes_on_both_allocation_free_variants() {
    for (variant, drift_ppm) in [("fixed", 2_000.0), ("optimized", -2_000.0)] {
        let args = SoakArgs {
            minutes: 2,
            variant: variant.to_owned(),
            drift_ppm,
            seed: 7,
            out: out(variant),
        };
        let plan = args.validate().unwrap();
        assert_eq!(plan.switches, 1);
        let soaked = soak(&plan, &mut |_| {}).unwrap();
        let r = &soaked.run.report;
        // Resident memory is the process's, and this binary's other tests
        // run beside this one: its flatness is for `allocgate soak` alone
        // to judge (README); every other verdict holds here.
        let failures: Vec<SoakFailure> = soak_failures(&plan, &soaked)
            .into_iter()
            .filter(|f| !matches!(f, SoakFailure::MemoryGrew { .. }))
            .collect();
        assert_eq!(failures, [], "{variant}");
        assert_eq!(r.totals.callbacks_touching_allocator, 0, "{variant}");
        assert_eq!(r.integrity.verdict, Verdict::Pass, "{variant}");
        // 2 000 ppm over 120 s is 11 520 frames of drift: the ring
        // (2 047 frames at 7.1) runs short (fast output) or over (slow),
        // again and again, and each one is counted and followed.
        let xruns = r.xruns.underruns + r.xruns.overruns;
        assert!(xruns >= 2, "{variant}: {xruns} xruns");
        assert_eq!(xruns, r.integrity.cuts, "{variant}");
        if drift_ppm > 0.0 {
            assert!(r.xruns.underruns > 0, "{variant}: a fast output underruns");
        } else {
            assert!(r.xruns.overruns > 0, "{variant}: a slow output overruns");
        }
        assert!(
            r.integrity.frames_checked > 2 * 60 * 40_000,
            "{variant}: checked"
        );
        assert!(plan.run.out.exists(), "{variant}: the report is written");
        if cfg!(target_os = "linux") {
            assert!(soaked.memory.settled.is_some(), "{variant}: memory sampled");
        }
    }
}
