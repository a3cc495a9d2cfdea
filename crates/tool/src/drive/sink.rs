//! Where a driver hands its records: any [`RecordSink`], such as a
//! [`RecordLog`] sized before the run, or a closure.

use crate::metrics::Record;

/// Receives each callback's record, in the order the callbacks ran.
///
/// Drivers call it between callbacks, never inside a measured scope; on a
/// real audio thread an implementation must not allocate, lock or block.
/// Closures `FnMut(&Record)` are sinks.
pub trait RecordSink {
    /// Takes one record.
    fn record(&mut self, record: &Record);
}

impl<F: FnMut(&Record)> RecordSink for F {
    fn record(&mut self, record: &Record) {
        self(record)
    }
}

/// Records kept in storage reserved up front: it never grows, so keeping
/// a record never allocates. Records past the capacity are counted, not
/// kept.
#[derive(Debug, Clone, Default)]
pub struct RecordLog {
    records: Vec<Record>,
    overflowed: u64,
}

impl RecordLog {
    /// Room for `capacity` records, allocated now.
    pub fn with_capacity(capacity: usize) -> RecordLog {
        RecordLog {
            records: Vec::with_capacity(capacity),
            overflowed: 0,
        }
    }

    /// The records kept, in order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records kept.
    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// Records that arrived after the log was full.
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }
}

impl RecordSink for RecordLog {
    fn record(&mut self, record: &Record) {
        if self.records.len() < self.records.capacity() {
            self.records.push(*record);
        } else {
            self.overflowed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocgate_engine::sites::CallbackKind;

    fn record(index: u64) -> Record {
        Record::new(CallbackKind::Input)
            .with_index(index)
            .with_frames(512, 10_666_667)
            .with_wall_ns(1)
    }

    #[test]
    fn a_log_keeps_records_up_to_its_capacity_and_counts_the_rest() {
        let mut log = RecordLog::with_capacity(2);
        for i in 0..5 {
            log.record(&record(i));
        }
        assert_eq!(log.records().len(), 2);
        assert_eq!(log.records()[1].index, 1);
        assert_eq!(log.overflowed(), 3);
        assert_eq!(log.records.capacity(), 2, "never grew");
    }

    #[test]
    fn a_closure_is_a_sink() {
        let mut seen = 0;
        let mut sink = |r: &Record| seen += r.frames;
        sink.record(&record(0));
        assert_eq!(seen, 512);
    }
}
