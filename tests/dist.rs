//! Release layout (issue #10): the executable-folder lookup follows symlinks, so a link such
//! as `/usr/bin/assay -> /usr/lib/assay/assay` finds the ONNX Runtime library and the demo
//! files installed beside the real binary; the window icon and the desktop entry are valid.
//! The full archive and .deb are proven by dist/test-dist.sh.

use std::process::Command;

use assay::engine::runtime::{resolved_parent, ORT_VERSION};

mod support;
use support::root;

#[cfg(unix)]
#[test]
fn resolved_parent_follows_symlinks() {
    let tmp = tempfile::tempdir().expect("tmp");
    let real_dir = tmp.path().join("usr/lib/assay");
    let bin_dir = tmp.path().join("usr/bin");
    std::fs::create_dir_all(&real_dir).expect("mkdir");
    std::fs::create_dir_all(&bin_dir).expect("mkdir");
    std::fs::write(real_dir.join("assay"), b"").expect("write");
    // An absolute link, and a relative one as packages install them.
    std::os::unix::fs::symlink(real_dir.join("assay"), bin_dir.join("assay")).expect("link");
    std::os::unix::fs::symlink("../lib/assay/assay", bin_dir.join("assay-rel")).expect("link");
    let want = real_dir.canonicalize().expect("canonical");
    assert_eq!(resolved_parent(&bin_dir.join("assay")), Some(want.clone()));
    assert_eq!(
        resolved_parent(&bin_dir.join("assay-rel")),
        Some(want.clone())
    );
    assert_eq!(resolved_parent(&real_dir.join("assay")), Some(want));
    // A path that does not exist is used as given.
    let missing = tmp.path().join("nowhere/assay");
    assert_eq!(resolved_parent(&missing), Some(tmp.path().join("nowhere")));
}

/// The real `assay` binary copied into an install-like folder with the library beside it, run
/// through a symlink from elsewhere with a clean environment: the loader opens the library in
/// that folder (glibc's LD_DEBUG names every file it loads), not `.ort/` of the source tree.
#[cfg(target_os = "linux")]
#[test]
fn relocated_binary_run_through_a_symlink_loads_the_runtime_beside_it() {
    let lib_name = format!("libonnxruntime.so.{ORT_VERSION}");
    let ort = root().join(".ort").join(&lib_name);
    assert!(
        ort.is_file(),
        "{} missing: run scripts/fetch-onnxruntime.sh",
        ort.display()
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let pkg = tmp.path().join("lib/assay");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_assay"), pkg.join("assay")).expect("copy binary");
    std::os::unix::fs::symlink(&ort, pkg.join(&lib_name)).expect("link library");
    std::os::unix::fs::symlink("../lib/assay/assay", bin.join("assay")).expect("link binary");

    let model = root().join("sample_models/adult_logreg.onnx");
    let data = root().join("sample_data/adult_eval.csv");
    let out = Command::new(bin.join("assay"))
        .env_clear()
        .env("HOME", tmp.path())
        .env("PATH", "/usr/bin:/bin")
        .env("LD_DEBUG", "files")
        .current_dir(tmp.path())
        .args(["evaluate", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .args([
            "--target",
            "income_over_50k",
            "--bootstrap",
            "0",
            "--json",
            "-",
        ])
        .output()
        .expect("run assay");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "assay failed: {stderr}");
    let pkg_real = pkg.canonicalize().expect("canonical");
    // The file each loader line is about: `file=PATH [ns]; …`.
    let loaded: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.split("file=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|file| file.contains("libonnxruntime"))
        .collect();
    let want = pkg_real.join(&lib_name).display().to_string();
    assert!(
        loaded.contains(&want.as_str()),
        "the library beside the binary was not loaded; loader opened: {loaded:?}"
    );
    assert!(
        loaded.iter().all(|f| *f == want),
        "another libonnxruntime was loaded: {loaded:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["n"], 5000);
}

#[test]
fn desktop_entry_names_the_binary_and_icon() {
    let text = std::fs::read_to_string(root().join("dist/assay.desktop")).expect("desktop");
    let keys: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |k: &str| keys.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    assert_eq!(text.lines().next(), Some("[Desktop Entry]"));
    assert_eq!(get("Type"), Some("Application"));
    assert_eq!(get("Name"), Some("Assay"));
    assert_eq!(get("Exec"), Some("assay"));
    assert_eq!(get("Icon"), Some("assay"));
    // Matches the app id the window sets (src/app/mod.rs `with_app_id("assay")`).
    assert_eq!(get("StartupWMClass"), Some("assay"));
    assert!(get("Categories").is_some_and(|c| c.ends_with(';')));
}

/// Every rendered icon size decodes to a square RGBA image of that size, and the window icon
/// embedded in the binary is the 128 px one.
#[cfg(feature = "gui")]
#[test]
fn icons_decode_at_their_sizes_and_the_window_icon_is_set() {
    for size in [16u32, 32, 48, 64, 128, 256, 512] {
        let path = root().join(format!("assets/icons/assay-{size}.png"));
        let bytes = std::fs::read(&path).expect("icon");
        let icon = eframe::icon_data::from_png_bytes(&bytes).expect("png");
        assert_eq!(
            (icon.width, icon.height),
            (size, size),
            "{}",
            path.display()
        );
        // Transparent corners (rounded tile), opaque centre.
        assert_eq!(icon.rgba[3], 0, "{}: corner alpha", path.display());
        let centre = ((size / 2 * size + size / 2) * 4 + 3) as usize;
        assert_eq!(icon.rgba[centre], 255, "{}: centre alpha", path.display());
    }
    let icon = assay::app::window_icon();
    assert_eq!((icon.width, icon.height), (128, 128));
    assert_eq!(icon.rgba.len(), 128 * 128 * 4);
}
