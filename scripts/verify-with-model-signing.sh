#!/usr/bin/env bash
# Proves Assay's signatures interoperate with the OpenSSF model_signing CLI (PyPI
# model-signing==1.1.1): Assay creates a key and a signed package, model_signing verifies it
# (`model_signing verify key DIR --signature DIR/model.sig --public_key PUB.pem`); then a
# tampered copy must FAIL model_signing's verification, and a package signed by
# model_signing must pass `assay verify`.
#
#   scripts/verify-with-model-signing.sh            # uses .venv (created if missing)
#   ASSAY=path/to/assay scripts/verify-with-model-signing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VENV=${VENV:-$ROOT/.venv}
if [ ! -x "$VENV/bin/model_signing" ]; then
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r scripts/requirements-package.txt
fi
MS="$VENV/bin/model_signing"

if [ -z "${ASSAY:-}" ]; then
  cargo build -q --no-default-features
  ASSAY="${CARGO_TARGET_DIR:-$ROOT/target}/debug/assay"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== assay keygen + package"
"$ASSAY" keygen --out "$WORK/key.pem"
"$ASSAY" package --model sample_models/adult_logreg.onnx \
  --data sample_data/adult_eval.csv --target income_over_50k --bootstrap 200 \
  --sensitive sex --reference sample_data/adult_reference.csv \
  --key "$WORK/key.pem" --out "$WORK/pkg"
"$ASSAY" verify "$WORK/pkg" --public-key "$WORK/key.pub.pem"

echo "== model_signing verifies the package Assay signed"
"$MS" verify key "$WORK/pkg" --signature "$WORK/pkg/model.sig" --public_key "$WORK/key.pub.pem"

echo "== a tampered copy must fail in both"
cp -r "$WORK/pkg" "$WORK/tampered"
printf ' ' >> "$WORK/tampered/evidence/evaluation.json"
if "$MS" verify key "$WORK/tampered" --signature "$WORK/tampered/model.sig" \
    --public_key "$WORK/key.pub.pem"; then
  echo "FAIL: model_signing accepted a tampered package" >&2
  exit 1
fi
set +e
"$ASSAY" verify "$WORK/tampered" --public-key "$WORK/key.pub.pem"
code=$?
set -e
if [ "$code" -ne 4 ]; then
  echo "FAIL: assay verify exited $code on a tampered package (expected 4)" >&2
  exit 1
fi

echo "== a package signed by model_signing verifies in Assay"
cp -r "$WORK/pkg" "$WORK/ms"
rm "$WORK/ms/model.sig"
"$MS" sign key "$WORK/ms" --private_key "$WORK/key.pem" --signature "$WORK/ms/model.sig"
"$ASSAY" verify "$WORK/ms" --public-key "$WORK/key.pub.pem"

echo "== an Assay passphrase-encrypted key (PKCS#8 PBES2) loads in Python cryptography"
ASSAY_TEST_PASS=s3cret "$ASSAY" keygen --out "$WORK/enc.pem" --passphrase-env ASSAY_TEST_PASS
"$VENV/bin/python" - "$WORK/enc.pem" "$WORK/enc.pub.pem" <<'PYEOF'
import hashlib, sys
from cryptography.hazmat.primitives import serialization as s
k = s.load_pem_private_key(open(sys.argv[1], "rb").read(), b"s3cret")
pem = k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
assert pem == open(sys.argv[2], "rb").read(), "public key PEM differs"
print("loaded", k.curve.name, "hint", hashlib.sha256(pem).hexdigest())
PYEOF

echo "OK: Assay and model_signing ${MS_VERSION:-$("$VENV/bin/pip" show model-signing | sed -n 's/^Version: //p')} agree"
