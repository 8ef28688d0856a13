//! Azurite, Azure Storage's emulator (npm `azurite`, installed by scripts/test), for the
//! tests of the `az://` store and the Azure function. Shared by test crates with
//! `#[path]`. Two ways in, as the SDK authenticates: HTTPS with `--oauth basic` and a
//! certificate made at test time (Entra ID tokens: Azurite checks their claims, not their
//! signature), or plain HTTP with an account SAS signed with Azurite's well-known key.
#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
// Every crate that includes this file includes process.rs at its root too.
use crate::process::{free_port, wait_for};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's documented development key (not a secret).
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite (blob service only, in memory), killed when dropped.
pub struct Azurite {
    child: Child,
    /// The account's endpoint: `http(s)://127.0.0.1:<port>/devstoreaccount1`.
    pub endpoint: String,
    /// The certificate the HTTPS instance serves (PEM), to trust in clients.
    pub cert: Option<Vec<u8>>,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace_root() -> PathBuf {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    while !dir.join("Cargo.lock").is_file() {
        assert!(
            dir.pop(),
            "no workspace root above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

fn azurite_bin() -> PathBuf {
    let bin = workspace_root().join(".cache/npm/node_modules/.bin/azurite-blob");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/test, which installs Azurite",
        bin.display()
    );
    bin
}

impl Azurite {
    /// Plain HTTP: requests carry a SAS ([`account_sas`]).
    pub fn http() -> Azurite {
        Self::start(false)
    }

    /// HTTPS with OAuth: requests carry a bearer token ([`fake_token`]).
    pub fn https() -> Azurite {
        Self::start(true)
    }

    fn start(https: bool) -> Azurite {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(azurite_bin());
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--skipApiVersionCheck", "--loose"])
            .args(["--disableTelemetry", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut cert = None;
        if https {
            let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            make_certificate(&cert_path, &key_path);
            cmd.args(["--oauth", "basic", "--cert"])
                .arg(&cert_path)
                .arg("--key")
                .arg(&key_path);
            cert = Some(std::fs::read(&cert_path).unwrap());
        }
        let child = cmd.spawn().expect("Azurite starts");
        wait_for(port, "Azurite", Duration::from_secs(60));
        let scheme = if https { "https" } else { "http" };
        Azurite {
            child,
            endpoint: format!("{scheme}://127.0.0.1:{port}/{ACCOUNT}"),
            cert,
            _dir: dir,
        }
    }

    /// A reqwest client trusting this instance's certificate (and only it).
    pub fn client(&self) -> reqwest::Client {
        let cert = self.cert.as_ref().expect("an HTTPS Azurite");
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert).unwrap()])
            .build()
            .unwrap()
    }
}

/// A self-signed leaf certificate for 127.0.0.1 (not a CA: rustls refuses a CA as an
/// end entity).
fn make_certificate(cert: &Path, key: &Path) {
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (scripts/test installs it)");
    assert!(status.success(), "openssl could not make a certificate");
}

/// An account SAS for the blob service (containers and objects), signed with Azurite's
/// key: `permissions` in Azure's order (`racwdl`), `expiry` as `2030-01-01T00:00:00Z`.
pub fn account_sas(permissions: &str, expiry: &str) -> String {
    let version = "2020-12-06";
    let to_sign =
        format!("{ACCOUNT}\n{permissions}\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = STANDARD.encode(mac.finalize().into_bytes());
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "sv={version}&ss=b&srt=sco&sp={permissions}&se={}&spr=https,http&sig={}",
        enc(expiry),
        enc(&sig)
    )
}

/// A token of the shape Entra ID issues for Storage, as `--oauth basic` checks it
/// (audience, issuer, validity); its signature is not checked.
pub fn fake_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        part(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        part(serde_json::json!({
            "aud": "https://storage.azure.com",
            "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
            "iat": now - 60, "nbf": now - 60, "exp": now + 3600,
            "oid": "00000000-0000-0000-0000-000000000002",
            "tid": "00000000-0000-0000-0000-000000000001",
        }))
    )
}

/// A credential handing out [`fake_token`]s, as Entra ID would hand out real ones.
#[derive(Debug)]
pub struct FakeEntra;

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for FakeEntra {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let expires =
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
        Ok(azure_core::credentials::AccessToken::new(
            fake_token(),
            expires,
        ))
    }
}
