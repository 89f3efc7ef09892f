"""OpenSSF model_signing 1.1.1 baseline for benches/package.rs: signs DIR with a P-256 key
(private-key mode) and verifies it, N times each, through the library API the CLI uses.
Prints one JSON line with the medians. Needs scripts/requirements-package.txt."""

import argparse
import json
import pathlib
import statistics
import tempfile
import time

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec
import model_signing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    d = pathlib.Path(a.dir)
    with tempfile.TemporaryDirectory() as t:
        key = ec.generate_private_key(ec.SECP256R1())
        kp = pathlib.Path(t) / "k.pem"
        pp = pathlib.Path(t) / "k.pub.pem"
        kp.write_bytes(key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
        pp.write_bytes(key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
        sig = d / "model.sig"
        sign_s, verify_s = [], []
        for _ in range(a.repeats):
            hc = model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
            t0 = time.perf_counter()
            model_signing.signing.Config().use_elliptic_key_signer(private_key=kp).set_hashing_config(hc).sign(d, sig)
            sign_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pp).set_hashing_config(
                model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
            ).verify(d, sig)
            verify_s.append(time.perf_counter() - t0)
    print(json.dumps({"sign_s": round(statistics.median(sign_s), 4), "verify_s": round(statistics.median(verify_s), 4)}))


if __name__ == "__main__":
    main()
