//! The PySpark runtime and the function inspector are embedded in the binaries (see
//! `python_runtime.rs`); rebuild when they change so a binary never carries stale Python.
fn main() {
    println!("cargo:rerun-if-changed=../worker-agent/python");
}
