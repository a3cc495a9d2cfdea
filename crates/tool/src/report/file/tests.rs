use std::fs;
use std::path::PathBuf;

use super::*;
use crate::report::HarnessReport;
use crate::report::tests::sample_report;
use allocgate_engine::scratch::TestDir;

#[test]
fn a_written_report_reads_back_equal() {
    let dir = TestDir::new("round-trip");
    let path = dir.path().join("run.json");
    let report = sample_report();
    write_json(&path, &report).unwrap();
    assert_eq!(read_json(&path).unwrap(), report);
    assert!(fs::read_to_string(&path).unwrap().ends_with("}\n"));
}

#[test]
fn a_successful_write_replaces_the_old_report_and_leaves_no_temporary_file() {
    let dir = TestDir::new("replace");
    let path = dir.path().join("run.json");
    fs::write(&path, "old").unwrap();
    write_json(&path, &sample_report()).unwrap();
    assert_eq!(dir.entries(), ["run.json"]);
    assert!(read_json(&path).is_ok());
}

#[test]
fn writing_into_a_missing_directory_fails_and_creates_nothing() {
    let dir = TestDir::new("missing-dir");
    let path = dir.path().join("nowhere").join("run.json");
    let err = write_json(&path, &sample_report()).unwrap_err();
    assert!(matches!(err, ReportError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("cannot write report '"),
        "{err}"
    );
    assert!(dir.entries().is_empty());
}

#[test]
fn writing_over_a_directory_fails_and_removes_the_temporary_file() {
    let dir = TestDir::new("over-dir");
    let path = dir.path().join("run.json");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("inside"), "kept").unwrap();
    let err = write_json(&path, &sample_report()).unwrap_err();
    assert!(matches!(err, ReportError::Write { .. }), "{err:?}");
    assert_eq!(dir.entries(), ["run.json"]);
    assert_eq!(fs::read_to_string(path.join("inside")).unwrap(), "kept");
}

/// `sample_report` as JSON with `edit` applied, written to `dir/name`.
fn edited(dir: &TestDir, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut v = serde_json::to_value(sample_report()).unwrap();
    edit(&mut v);
    let path = dir.path().join(name);
    fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    path
}

#[test]
fn another_schema_version_is_refused_with_both_versions_named() {
    let dir = TestDir::new("version");
    let path = edited(&dir, "v2.json", |v| v["schema_version"] = 2.into());
    let err = read_json(&path).unwrap_err();
    assert!(
        matches!(&err, ReportError::SchemaVersion { found: Some(f), expected: 1, .. } if f == "2"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("v2.json' has schema_version 2; expected 1"),
        "{err}"
    );

    let path = edited(&dir, "text.json", |v| v["schema_version"] = "1".into());
    let err = read_json(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("has schema_version \"1\"; expected 1"),
        "{err}"
    );

    let path = edited(&dir, "none.json", |v| {
        v.as_object_mut().unwrap().remove("schema_version");
    });
    let err = read_json(&path).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("has no schema_version; expected 1"),
        "{err}"
    );
}

#[test]
fn malformed_json_is_refused_with_its_position() {
    let dir = TestDir::new("malformed");
    let path = dir.path().join("bad.json");
    fs::write(&path, "{\"schema_version\": 1,\n  oops").unwrap();
    let err = read_json(&path).unwrap_err();
    assert!(matches!(err, ReportError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("is not a valid report"), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn a_report_missing_a_section_names_it() {
    let dir = TestDir::new("missing-key");
    let path = edited(&dir, "partial.json", |v| {
        v.as_object_mut().unwrap().remove("totals");
    });
    let err = read_json(&path).unwrap_err();
    assert!(matches!(err, ReportError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("missing field `totals`"), "{err}");
}

#[test]
fn a_missing_file_is_a_read_error_naming_it() {
    let dir = TestDir::new("absent");
    let path = dir.path().join("absent.json");
    let err = read_json(&path).unwrap_err();
    assert!(matches!(err, ReportError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.json"), "{err}");
}

#[test]
fn reports_written_before_the_later_keys_still_read() {
    let dir = TestDir::new("older-keys");
    let path = edited(&dir, "older.json", |v| {
        let top = v.as_object_mut().unwrap();
        top.remove("pacing");
        top.remove("harness");
        let integrity = top["integrity"].as_object_mut().unwrap();
        for key in ["frames_checked", "frames_silent", "cuts"] {
            integrity.remove(key);
        }
    });
    let r = read_json(&path).unwrap();
    assert_eq!(r.pacing, None);
    assert_eq!(r.harness, HarnessReport::default());
    assert_eq!(r.integrity.frames_checked, 0);
}
