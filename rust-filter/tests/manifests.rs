//! The engine's policy validation agrees with the patched Cilium CRD and agent on the
//! k8sT manifests: every valid one loads, every one under `invalid/` is refused with a
//! field path.

use std::path::Path;

use cilium_jwt::PolicySet;

fn manifests(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/k8sT/manifests").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn valid_manifests_load() {
    let mut rules = 0;
    for file in manifests("") {
        let text = std::fs::read_to_string(&file).unwrap();
        let set = PolicySet::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        rules += set.rules.len();
    }
    assert!(rules >= 4, "only {rules} matchJWT rules in the manifests");
}

#[test]
fn invalid_manifests_are_refused_naming_the_field() {
    let files = manifests("invalid");
    assert!(files.len() >= 4);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        match PolicySet::parse(&text) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(e) => assert!(e.path.contains(".matchJWT"), "{}: {e}", file.display()),
        }
    }
}
