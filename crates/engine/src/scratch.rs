//! A scratch directory for the engine's and the tool's tests, removed
//! when dropped.

use std::path::{Path, PathBuf};

/// A fresh, empty directory under the system's temporary directory.
#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    /// Makes `allocgate-NAME-PID` under the temporary directory, empty.
    pub fn new(name: &str) -> TestDir {
        let path = std::env::temp_dir().join(format!("allocgate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        TestDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Names of the entries in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("list the scratch directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
