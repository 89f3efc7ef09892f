//! Signing keys: NIST P-256 key pairs as PKCS#8 PEM (optionally passphrase-encrypted), public
//! keys as SubjectPublicKeyInfo PEM (P-256, or P-384 for verification), and the public-key
//! hint `model_signing` records in a bundle: the hex SHA-256 of the public key's PEM text.

use std::path::{Path, PathBuf};

use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::Serialize;

use crate::engine::error::{EngineError, Result};
use crate::engine::hash::sha256_bytes;

/// A private key Assay signs with (P-256 only, as the issue asks).
pub struct SigningKey {
    key: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public_key_hint", &self.public_key().hint())
            .finish_non_exhaustive()
    }
}

/// A public key a signature is checked against.
#[derive(Debug, Clone)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// SubjectPublicKeyInfo PEM with LF line endings, byte-identical to what Python
    /// `cryptography` writes (`Encoding.PEM`, `PublicFormat.SubjectPublicKeyInfo`).
    pub fn to_pem(&self) -> Result<String> {
        let pem = match self {
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(LineEnding::LF),
        };
        pem.map_err(|e| EngineError::internal(format!("cannot encode public key: {e}")))
    }

    /// The `verificationMaterial.publicKey.hint` of a `model_signing` bundle.
    pub fn hint(&self) -> String {
        self.to_pem()
            .map(|pem| sha256_bytes(pem.as_bytes()))
            .unwrap_or_default()
    }

    pub fn curve(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
        }
    }

    /// Reads a PEM public key (SubjectPublicKeyInfo) on P-256 or P-384.
    pub fn from_pem(path: &Path, text: &str) -> Result<PublicKey> {
        let text = pem_block(text, "PUBLIC KEY").unwrap_or(text);
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey::P384(k));
        }
        Err(EngineError::file(
            path,
            "not a PEM public key on NIST P-256 or P-384 ('-----BEGIN PUBLIC KEY-----')",
        ))
    }

    pub fn load(path: &Path) -> Result<PublicKey> {
        let text =
            crate::engine::fsio::read_text(path, "public key", crate::engine::fsio::caps::KEY)?;
        PublicKey::from_pem(path, &text)
    }
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        SigningKey {
            key: p256::ecdsa::SigningKey::random(&mut rand_core::OsRng),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::P256(*self.key.verifying_key())
    }

    pub(crate) fn ecdsa(&self) -> &p256::ecdsa::SigningKey {
        &self.key
    }

    /// PKCS#8 PEM; encrypted (PBES2: scrypt + AES-256-CBC) when a passphrase is given.
    pub fn to_pkcs8_pem(&self, passphrase: Option<&str>) -> Result<String> {
        let pem = match passphrase {
            Some(p) => {
                self.key
                    .to_pkcs8_encrypted_pem(&mut rand_core::OsRng, p.as_bytes(), LineEnding::LF)
            }
            None => self.key.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map(|z| z.to_string())
            .map_err(|e| EngineError::internal(format!("cannot encode private key: {e}")))
    }

    /// Reads a PKCS#8 PEM private key on P-256, decrypting it with `passphrase` when it is an
    /// `ENCRYPTED PRIVATE KEY`.
    pub fn from_pem(path: &Path, text: &str, passphrase: Option<&str>) -> Result<SigningKey> {
        let text = pem_block(text, "ENCRYPTED PRIVATE KEY")
            .or_else(|| pem_block(text, "PRIVATE KEY"))
            .unwrap_or(text);
        let encrypted = text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        let key = if encrypted {
            let Some(p) = passphrase else {
                return Err(EngineError::file(
                    path,
                    "the private key is encrypted; give its passphrase (--passphrase-env VAR)",
                ));
            };
            p256::ecdsa::SigningKey::from_pkcs8_encrypted_pem(text, p.as_bytes()).map_err(|_| {
                EngineError::file(path, "cannot decrypt the private key: wrong passphrase?")
            })?
        } else if text.contains("-----BEGIN PRIVATE KEY-----") {
            p256::ecdsa::SigningKey::from_pkcs8_pem(text).map_err(|e| {
                EngineError::file(
                    path,
                    format!("not a PKCS#8 private key on NIST P-256 (Assay signs with P-256): {e}"),
                )
            })?
        } else {
            return Err(EngineError::file(
                path,
                "not a PKCS#8 PEM private key ('-----BEGIN PRIVATE KEY-----'); create one with `assay keygen`",
            ));
        };
        Ok(SigningKey { key })
    }

    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<SigningKey> {
        let text =
            crate::engine::fsio::read_text(path, "private key", crate::engine::fsio::caps::KEY)?;
        SigningKey::from_pem(path, &text, passphrase)
    }
}

/// The `-----BEGIN {label}----- … -----END {label}-----` block of a PEM file, without any
/// text around it (OpenSSL and Python `cryptography` accept such text too).
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}

/// What `keygen` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPairFiles {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub curve: &'static str,
    pub encrypted: bool,
    /// The public-key hint signatures made with this key will carry.
    pub public_key_hint: String,
}

/// The default private key location: `<OS config dir>/assay/signing-key.pem`.
pub fn default_key_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "assay")
        .map(|d| d.config_dir().join("signing-key.pem"))
        .ok_or_else(|| {
            EngineError::usage(
                "cannot determine the OS configuration directory; pass --out KEY.pem",
            )
        })
}

/// `KEY.pem` → `KEY.pub.pem`.
pub fn public_key_path_for(private: &Path) -> PathBuf {
    let stem = private
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(".pem").unwrap_or(n).to_string())
        .unwrap_or_else(|| "key".to_string());
    private.with_file_name(format!("{stem}.pub.pem"))
}

/// Generates a P-256 key pair and writes it: the private key with mode 0600 (created
/// exclusively: an existing key is never overwritten), the public key beside it.
pub fn write_key_pair(private: &Path, passphrase: Option<&str>) -> Result<KeyPairFiles> {
    let public = public_key_path_for(private);
    for p in [private, public.as_path()] {
        if p.exists() {
            return Err(EngineError::file(
                p,
                "already exists; refusing to overwrite a key (choose another --out)",
            ));
        }
    }
    if let Some(dir) = private.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| EngineError::file(dir, format!("cannot create directory: {e}")))?;
    }
    let key = SigningKey::generate();
    let pem = key.to_pkcs8_pem(passphrase)?;
    write_private(private, pem.as_bytes())?;
    let pubkey = key.public_key();
    std::fs::write(&public, pubkey.to_pem()?)
        .map_err(|e| EngineError::file(&public, format!("cannot write public key: {e}")))?;
    Ok(KeyPairFiles {
        private_key: private.to_path_buf(),
        public_key: public,
        curve: "P-256",
        encrypted: passphrase.is_some(),
        public_key_hint: pubkey.hint(),
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| EngineError::file(path, format!("cannot create private key: {e}")))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| EngineError::file(path, format!("cannot write private key: {e}")))
}
