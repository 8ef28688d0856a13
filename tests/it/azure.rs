//! The `az://` store and data against Azurite: every store operation over HTTPS with an
//! Entra ID token (Azurite's `--oauth basic`), the SAS path over HTTP, and the example's
//! whole `run` with its store and evaluation data in Blob Storage. Each test says what it
//! proves.

#[path = "../support/azurite.rs"]
mod azurite;

use crate::common::{example_repo, mlgate, outcome, EXAMPLE_CONFIG};
use azure_storage_blob::models::BlockListType;
use azurite::{account_sas, Azurite, FakeEntra};
use mlgate::cloud::azure::{Auth, Azure};
use mlgate::store::{AzureStore, Store};
use std::sync::Arc;

async fn create_container(azure: &Azure, name: &str) {
    azure
        .container(name)
        .await
        .unwrap()
        .create(None)
        .await
        .unwrap();
}

fn token_auth(azurite: &Azurite) -> Azure {
    Azure::with(
        &azurite.endpoint,
        Auth::Token(Arc::new(FakeEntra)),
        Some(azurite.client()),
    )
}

/// Write-once under a race, large objects in blocks, streamed reads, replaceable
/// pointers and absence, through the SDK's bearer path: of two writers of one key exactly
/// one wins and the stored bytes are the winner's; a 3.5 MiB object staged in 1 MiB
/// blocks reads back whole, by `get` and streamed to a file; a missing container is an
/// error that names it, a missing blob is `None`.
#[tokio::test(flavor = "multi_thread")]
async fn the_store_writes_once_in_blocks_and_streams_reads() {
    let azurite = Azurite::https();
    let azure = token_auth(&azurite);
    create_container(&azure, "mlgate").await;
    let store = Arc::new(
        AzureStore::new(azure.container("mlgate").await.unwrap(), "mlgate", "store")
            .with_block_size(1 << 20),
    );
    assert_eq!(store.uri(), "az://mlgate/store");

    let racers: Vec<_> = (0..4u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { (i, store.put_if_absent("race", &[i; 64]).await.unwrap()) })
        })
        .collect();
    let mut winners = Vec::new();
    for r in racers {
        let (i, won) = r.await.unwrap();
        if won {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(
        store.get("race").await.unwrap().unwrap(),
        vec![winners[0]; 64]
    );

    let big: Vec<u8> = (0..(7 << 19)).map(|i: u32| (i % 251) as u8).collect();
    assert!(store.put_if_absent("versions/big.bin", &big).await.unwrap());
    assert!(!store
        .put_if_absent("versions/big.bin", b"other")
        .await
        .unwrap());
    assert_eq!(store.get("versions/big.bin").await.unwrap().unwrap(), big);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    assert!(store.download("versions/big.bin", &file).await.unwrap());
    assert_eq!(std::fs::read(&file).unwrap(), big);

    store.put("published/snapshot.json", b"one").await.unwrap();
    store.put("published/snapshot.json", b"two").await.unwrap();
    assert_eq!(
        store.get("published/snapshot.json").await.unwrap().unwrap(),
        b"two"
    );
    assert!(store.get("no/such/blob").await.unwrap().is_none());
    assert!(!store.download("no/such/blob", &file).await.unwrap());

    let missing = AzureStore::new(azure.container("nothere").await.unwrap(), "nothere", "");
    let e = missing.get("x").await.unwrap_err();
    assert!(
        e.message.contains("az://nothere/x") && e.message.contains("ContainerNotFound"),
        "{e}"
    );
    assert!(e.hint.unwrap().contains("container"));
}

/// The quarantine copy: streamed in blocks (a 3.5 MiB blob in 1 MiB blocks arrives whole),
/// never over an existing blob, the source untouched; of two copies racing to one name
/// exactly one lands and its bytes are one source's, not a mix of both; an empty blob
/// copies; a missing source is the input error an upload deleted too early gets.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_streams_in_blocks_and_never_overwrites() {
    let azurite = Azurite::https();
    let azure = token_auth(&azurite);
    create_container(&azure, "data").await;
    let store = Arc::new(
        AzureStore::new(azure.container("data").await.unwrap(), "data", "")
            .with_block_size(1 << 20),
    );
    let big: Vec<u8> = (0..(7 << 19)).map(|i: u32| (i % 251) as u8).collect();
    let other: Vec<u8> = big.iter().map(|b| b ^ 0xff).collect();
    store.put("in/big.csv", &big).await.unwrap();
    store.put("in/other.csv", &other).await.unwrap();

    assert!(store
        .copy_if_absent("in/big.csv", "q/big.csv")
        .await
        .unwrap());
    assert_eq!(store.get("q/big.csv").await.unwrap().unwrap(), big);
    let blocks = azure
        .container("data")
        .await
        .unwrap()
        .blob_client("q/big.csv")
        .block_blob_client()
        .get_block_list(BlockListType::Committed, None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(blocks.committed_blocks.unwrap_or_default().len(), 4);
    assert!(!store
        .copy_if_absent("in/other.csv", "q/big.csv")
        .await
        .unwrap());
    assert_eq!(store.get("q/big.csv").await.unwrap().unwrap(), big);
    assert_eq!(store.get("in/big.csv").await.unwrap().unwrap(), big);

    let racers: Vec<_> = ["in/big.csv", "in/other.csv"]
        .into_iter()
        .map(|from| {
            let store = store.clone();
            tokio::spawn(async move { store.copy_if_absent(from, "q/race.csv").await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for r in racers {
        won += r.await.unwrap() as usize;
    }
    assert_eq!(won, 1);
    let landed = store.get("q/race.csv").await.unwrap().unwrap();
    assert!(
        landed == big || landed == other,
        "the copy mixed its sources"
    );

    store.put("in/empty.csv", b"").await.unwrap();
    assert!(store
        .copy_if_absent("in/empty.csv", "q/empty.csv")
        .await
        .unwrap());
    assert_eq!(store.get("q/empty.csv").await.unwrap().unwrap(), b"");

    let e = store
        .copy_if_absent("in/gone.csv", "q/gone.csv")
        .await
        .unwrap_err();
    assert!(
        e.message.contains("az://data/in/gone.csv: no such object"),
        "{e}"
    );
    assert!(store.get("q/gone.csv").await.unwrap().is_none());
}

/// A SAS over plain HTTP works like a token; an expired one is refused with what to do,
/// and the SAS itself appears in no message.
#[tokio::test(flavor = "multi_thread")]
async fn a_sas_works_and_an_expired_one_is_explained() {
    let azurite = Azurite::http();
    let sas = account_sas("racwdl", "2099-01-01T00:00:00Z");
    let azure = Azure::with(&azurite.endpoint, Auth::Sas(sas.clone()), None);
    create_container(&azure, "data").await;
    let store = AzureStore::new(azure.container("data").await.unwrap(), "data", "");
    assert!(store.put_if_absent("a.csv", b"x,y\n1,2\n").await.unwrap());
    assert_eq!(store.get("a.csv").await.unwrap().unwrap(), b"x,y\n1,2\n");

    let expired = account_sas("racwdl", "2020-01-01T00:00:00Z");
    let azure = Azure::with(&azurite.endpoint, Auth::Sas(expired.clone()), None);
    let store = AzureStore::new(azure.container("data").await.unwrap(), "data", "");
    let e = store.get("a.csv").await.unwrap_err();
    let text = format!("{e} {}", e.hint.clone().unwrap_or_default());
    assert!(text.contains("403"), "{text}");
    assert!(text.contains("SAS or token was refused"), "{text}");
    let sig = expired.split("sig=").nth(1).unwrap();
    assert!(!text.contains(sig), "{text}");
}

/// The example's whole `run` with `store: az://…` and its evaluation data in the same
/// account, configured as a user would (the account URL and a SAS in the environment):
/// the candidate is written to Blob Storage and the run passes as it does locally.
#[test]
fn the_example_runs_with_its_store_and_data_in_blob_storage() {
    let azurite = Azurite::http();
    let sas = account_sas("racwdl", "2099-01-01T00:00:00Z");
    let (_dir, root) = example_repo();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let azure = Azure::with(&azurite.endpoint, Auth::Sas(sas.clone()), None);
    let eval = std::fs::read(root.join("examples/churn/data/eval.csv")).unwrap();
    let store = runtime.block_on(async {
        create_container(&azure, "mlgate").await;
        create_container(&azure, "data").await;
        let data = AzureStore::new(azure.container("data").await.unwrap(), "data", "");
        data.put("churn/eval.csv", &eval).await.unwrap();
        AzureStore::new(azure.container("mlgate").await.unwrap(), "mlgate", "store")
    });
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("store: file://.mlgate/store", "store: az://mlgate/store")
        .replace("eval: data/eval.csv", "eval: az://data/churn/eval.csv");
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = outcome(
        mlgate()
            .current_dir(&root)
            .env("MLGATE_AZURE_ACCOUNT_URL", &azurite.endpoint)
            .env("AZURE_STORAGE_SAS_TOKEN", &sas)
            .args(["run", "--config", EXAMPLE_CONFIG]),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("passes the gate"), "{stdout}");
    let sig = sas.split("sig=").nth(1).unwrap();
    assert!(!stdout.contains(sig) && !stderr.contains(sig));
    let candidate = stdout
        .split("trained candidate `")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .expect("a candidate")
        .to_string();
    let manifest = runtime
        .block_on(store.get(&format!("models/churn/versions/{candidate}/manifest.json")))
        .unwrap();
    assert!(manifest.is_some(), "the candidate is in Blob Storage");
}
