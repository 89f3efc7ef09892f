# The two commands: `make run` (build and open the app on the demo workspace) and
# `make test` (every test). Both fetch the ONNX Runtime library first when it is missing.
#
# Builds go to a target directory outside the clone so CI and fresh clones reuse them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/assay-target
ORT_LIB := .ort/libonnxruntime.so.1.31.1

.PHONY: run test lint nogui bench ort snapshots screenshot dist dist-test

$(ORT_LIB):
	scripts/fetch-onnxruntime.sh

ort: $(ORT_LIB)

run: $(ORT_LIB)
	cargo run --release

test: $(ORT_LIB)
	scripts/ensure-test-deps.sh
	cargo test --all-targets

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

nogui:
	cargo build --no-default-features

# Rust vs pandas + onnxruntime + scikit-learn on 1M rows (needs the Python venv, see
# scripts/requirements-py.txt).
bench: $(ORT_LIB)
	benches/compare.sh

# Re-render the UI snapshot images under tests/snapshots/ after an intended visual change.
snapshots: $(ORT_LIB)
	scripts/ensure-test-deps.sh
	UPDATE_SNAPSHOTS=1 cargo test --test ui

# A screenshot of the real window under Xvfb (for the README).
screenshot: $(ORT_LIB)
	cargo build --release
	../shared/tools/screenshot docs/screenshot.png 8 -- $(CARGO_TARGET_DIR)/release/assay

# The Linux release: dist/out/assay-<version>-x86_64-linux.tar.gz and the .deb (fat-LTO build
# in ~/.cache/assay-dist-target; needs cargo-deb: `cargo install cargo-deb --locked`), then the
# proof that both work on their own (dist/test-dist.sh). See dist/README.md.
dist:
	dist/build.sh --deb

dist-test:
	dist/test-dist.sh
