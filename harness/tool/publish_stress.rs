//! Publication on real threads: the control side publishes renderer sets
//! as fast as the audio side lets it while the audio side adopts them.
//! Every adoption is measured: the audio side never allocates or frees,
//! and each set it adopts is whole (its contents match what its number
//! says it was built with) and newer than the last.

use allocgate_engine::convolver::EarFilters;
use allocgate_engine::convolver::FftPlans;
use allocgate_engine::publish::{QueueFull, channel};
use allocgate_engine::renderer::{RenderMode, RendererSet};

const SETS: usize = 60;

/// Set `k`: `k % 3 + 1` speakers, filters of `k % 4 + 1` partitions.
fn shape(k: usize) -> (usize, usize) {
    (k % 3 + 1, k % 4 + 1)
}

fn build(k: usize, plans: &FftPlans) -> Box<RendererSet> {
    let (speakers, partitions) = shape(k);
    let taps = 512 * (partitions - 1) + 1;
    let filters: Vec<EarFilters> = (0..speakers)
        .map(|s| [vec![0.5 / (s + 1) as f32; taps], vec![0.25; taps]])
        .collect();
    let set = RendererSet::from_filters(&k.to_string(), &filters, RenderMode::PerSpeaker, plans);
    Box::new(set.expect("a valid set"))
}

/// The set's number, checked against its contents. Allocation-free.
fn verify(set: &RendererSet) -> usize {
    let k: usize = set.preset().parse().expect("a numbered set");
    let (speakers, partitions) = shape(k);
    assert_eq!(set.speakers().len(), speakers, "set {k}: speakers");
    assert_eq!(set.renderers().len(), speakers, "set {k}: renderers");
    for r in set.renderers() {
        assert_eq!(r.left().partitions(), partitions, "set {k}: left");
        assert_eq!(r.right().partitions(), partitions, "set {k}: right");
    }
    // The box, the name, the speaker list, the renderer list, and each
    // engine's own blocks, the same for every engine of one shape.
    let engine = set.renderers()[0].left().heap_blocks();
    assert_eq!(
        set.heap_blocks(),
        4 + 2 * speakers * engine,
        "set {k}: blocks"
    );
    k
}

#[test]
fn the_audio_side_adopts_whole_sets_and_never_frees_while_the_control_side_publishes() {
    allocgate::check_installed().expect("the counting allocator");
    let (mut publisher, mut subscriber) = channel();
    let audio = std::thread::spawn(move || {
        let (mut last, mut adoptions, mut callbacks) = (None, 0usize, 0usize);
        while last != Some(SETS - 1) {
            let m = allocgate::measure(|| {
                let a = subscriber.adopt(false);
                (a.adopted, subscriber.current().map(verify))
            });
            assert!(m.stats.is_allocation_free(), "audio side: {}", m.stats);
            let (adopted, current) = m.value;
            assert!(current >= last, "{current:?} after {last:?}");
            adoptions += adopted;
            last = current;
            callbacks += 1;
            std::thread::yield_now();
        }
        (subscriber, adoptions, callbacks)
    });
    let plans = FftPlans::new();
    for k in 0..SETS {
        let mut set = Some(build(k, &plans));
        while let Err(QueueFull(back)) = publisher.publish(set) {
            set = back;
            std::thread::yield_now();
        }
    }
    let (subscriber, adoptions, callbacks) = audio.join().unwrap();
    publisher.collect_retired();
    assert!((1..=SETS).contains(&adoptions), "{adoptions} adoptions");
    assert!(callbacks >= 1);
    assert_eq!(subscriber.current().map(verify), Some(SETS - 1));
}
