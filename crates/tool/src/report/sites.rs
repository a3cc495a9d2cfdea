//! The report's `sites` list, from a site trace's groups.

use allocgate::size_class::MacosClass;
use allocgate::trace::{SiteGroup, SiteTable, symbolise};
use allocgate_engine::sites::{CallbackKind, Site};

use super::schema::{ByKind, MacosRegion, SiteReport};

/// The reference engine's allocating idioms: helpers its sites call to
/// allocate, standing in for the Swift runtime's allocation calls, and so
/// never a site's function.
pub const ENGINE_IDIOMS: &str = "allocgate_engine::sites::temporaries::";

/// The groups of a site trace of the engine: [`symbolise`] skipping the
/// engine's idioms ([`ENGINE_IDIOMS`]) and the `extra` prefixes.
pub fn engine_sites(table: &SiteTable, extra: &[String]) -> Vec<SiteGroup> {
    let mut skip = vec![ENGINE_IDIOMS.to_owned()];
    skip.extend(extra.iter().cloned());
    symbolise(table, &skip)
}

/// One [`SiteReport`] per group, in the groups' order; `callbacks` gives
/// the divisor of `per_callback` for each kind.
pub fn site_reports(groups: &[SiteGroup], callbacks: ByKind<u64>) -> Vec<SiteReport> {
    groups
        .iter()
        .map(|g| {
            let kind = CallbackKind::from_trace_tag(g.tag);
            let per = match kind {
                Some(CallbackKind::Input) => callbacks.input,
                Some(CallbackKind::Output) => callbacks.output,
                None => 0,
            };
            let (class_bytes, class) = match MacosClass::of(g.size) {
                MacosClass::Tiny(b) => (Some(b as u64), MacosRegion::Tiny),
                MacosClass::Small(b) => (Some(b as u64), MacosRegion::Small),
                MacosClass::Large(_) => (None, MacosRegion::Large),
            };
            SiteReport {
                function: g.function.clone(),
                size: g.size as u64,
                count: g.allocations,
                per_callback: if per == 0 {
                    0.0
                } else {
                    g.allocations as f64 / per as f64
                },
                kind: kind.map_or("outside", CallbackKind::name).to_owned(),
                site: Site::from_function(&g.function).map(|s| s.name().to_owned()),
                class_bytes,
                class: Some(class),
                deallocations: g.deallocations,
                reallocations: g.reallocations,
                backtrace: g.backtrace.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_36_byte_output_site_lands_in_the_48_byte_class_per_output_callback() {
        let g = SiteGroup {
            function: Site::ScaleArray.function().to_owned(),
            tag: CallbackKind::Output.trace_tag(),
            size: 36,
            allocations: 64,
            deallocations: 64,
            reallocations: 0,
            backtrace: vec!["x".to_owned()],
        };
        let r = &site_reports(
            &[g],
            ByKind {
                input: 1,
                output: 2,
            },
        )[0];
        assert_eq!((r.size, r.count, r.per_callback), (36, 64, 32.0));
        assert_eq!(
            (r.class_bytes, r.class),
            (Some(48), Some(MacosRegion::Tiny))
        );
        assert_eq!(
            (r.kind.as_str(), r.site.as_deref()),
            ("output", Some("scale-array"))
        );
    }

    #[test]
    fn calls_outside_callbacks_have_no_rate_and_large_sizes_no_class_bytes() {
        let g = SiteGroup {
            function: "app::load".to_owned(),
            tag: 0,
            size: 1 << 20,
            allocations: 3,
            deallocations: 0,
            reallocations: 0,
            backtrace: Vec::new(),
        };
        let r = &site_reports(
            &[g],
            ByKind {
                input: 1,
                output: 1,
            },
        )[0];
        assert_eq!(
            (r.kind.as_str(), r.per_callback, r.site.as_deref()),
            ("outside", 0.0, None)
        );
        assert_eq!((r.class_bytes, r.class), (None, Some(MacosRegion::Large)));
    }
}
