//! Object storage for media files: a local folder by default, any S3-compatible store when
//! configured, behind `object_store`'s one interface.

use anyhow::Context;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use std::sync::Arc;
use std::time::Duration;

/// Where an S3-compatible store is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// For stores other than AWS (MinIO, Garage, R2…): their address.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Where a workspace's files live in the store: every key under it belongs to the workspace,
/// so deleting the workspace can sweep the prefix.
pub fn workspace_prefix(workspace_id: i64) -> String {
    format!("ws-{workspace_id}/")
}

/// Where a person's own files live in the store (their data exports): every key under it
/// belongs to the user, so deleting the account can sweep the prefix.
pub fn user_prefix(user_id: i64) -> String {
    format!("user-{user_id}/")
}

/// Who owns the object at `key`, by its prefix: `Some(("workspace", id))` or
/// `Some(("user", id))`; `None` for a key outside the known prefixes.
pub fn owner_of_key(key: &str) -> Option<(&'static str, i64)> {
    let (first, _) = key.split_once('/')?;
    if let Some(id) = first.strip_prefix("ws-") {
        return id.parse().ok().map(|id| ("workspace", id));
    }
    if let Some(id) = first.strip_prefix("user-") {
        return id.parse().ok().map(|id| ("user", id));
    }
    None
}

#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    signer: Option<Arc<object_store::aws::AmazonS3>>,
    /// The local folder, whose files are made readable by their owner only once written.
    local: Option<(
        Arc<object_store::local::LocalFileSystem>,
        std::path::PathBuf,
    )>,
    describe: String,
}

/// Why a streamed upload did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// More bytes came than `limit`; nothing was kept.
    #[error("larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The sender's stream failed (the upload was interrupted); nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

impl Objects {
    /// Files under `dir`, created when missing; the folder and the files written to it are
    /// for the server's user only (Unix).
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        crate::files::private_dir(dir)
            .with_context(|| format!("could not create the media folder {}", dir.display()))?;
        let store = Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(dir)
                .with_context(|| format!("could not open the media folder {}", dir.display()))?
                .with_automatic_cleanup(true),
        );
        Ok(Self {
            inner: store.clone(),
            signer: None,
            // As the store sees it (it resolves its folder), to compare paths with.
            local: Some((
                store,
                std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
            )),
            describe: format!("folder {}", dir.display()),
        })
    }

    /// In the local folder: the file just written at `key`, and the folders the store made
    /// for it, become readable by the server's user only (the store creates them with the
    /// default mode).
    fn make_private(&self, key: &str) -> anyhow::Result<()> {
        let Some((store, root)) = &self.local else {
            return Ok(());
        };
        let path = store
            .path_to_filesystem(&Path::from(key))
            .context("could not locate the file written")?;
        crate::files::restrict(&path, false)
            .with_context(|| format!("could not restrict {}", path.display()))?;
        let mut dir = path.parent();
        while let Some(d) = dir {
            if !d.starts_with(root) || d == root.as_path() {
                break;
            }
            crate::files::restrict(d, true)
                .with_context(|| format!("could not restrict {}", d.display()))?;
            dir = d.parent();
        }
        Ok(())
    }

    /// An S3-compatible bucket.
    pub fn s3(config: &S3Config) -> anyhow::Result<Self> {
        // A file's type is stored with it, from its key's extension: the store answers the
        // platforms' fetches of a signed URL with it (Instagram takes only `image/jpeg`), and
        // without it answers `binary/octet-stream` (AWS) or no type at all (others).
        let options = domain::media::MediaType::ALL.into_iter().fold(
            object_store::ClientOptions::new(),
            |options, ty| {
                ty.extensions().iter().fold(options, |options, extension| {
                    options.with_content_type_for_suffix(*extension, ty.mime())
                })
            },
        );
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_client_options(options)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = Arc::new(builder.build().context("the S3 settings are not usable")?);
        Ok(Self {
            inner: store.clone(),
            signer: Some(store),
            local: None,
            describe: format!("S3 bucket {}", config.bucket),
        })
    }

    /// For logs: where files go (no credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Writes `head` and then `rest` under `key`, counting as it goes: past `limit` bytes the
    /// upload is abandoned and nothing is kept. Returns the size written.
    pub async fn put_stream<S, E>(
        &self,
        key: &str,
        head: Bytes,
        mut rest: S,
        limit: u64,
    ) -> Result<u64, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self
            .inner
            .put_multipart(&Path::from(key))
            .await
            .context("could not start writing the file")?;
        let mut writer = WriteMultipart::new(upload);
        let mut size = head.len() as u64;
        if size > limit {
            let _ = writer.abort().await;
            return Err(PutError::TooLarge { limit });
        }
        writer.put(head);
        while let Some(chunk) = rest.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    let _ = writer.abort().await;
                    return Err(PutError::Interrupted(err.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                let _ = writer.abort().await;
                return Err(PutError::TooLarge { limit });
            }
            if let Err(err) = writer.wait_for_capacity(4).await {
                let _ = writer.abort().await;
                return Err(PutError::Storage(anyhow::Error::new(err)));
            }
            writer.put(chunk);
        }
        writer
            .finish()
            .await
            .context("could not finish writing the file")?;
        self.make_private(key)?;
        Ok(size)
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.inner
            .put(&Path::from(key), bytes.into())
            .await
            .context("could not write the file")?;
        self.make_private(key)?;
        Ok(())
    }

    /// The whole object (for files small enough to hold, such as images).
    pub async fn get(&self, key: &str) -> anyhow::Result<Bytes> {
        let got = self
            .inner
            .get(&Path::from(key))
            .await
            .context("could not read the file")?;
        got.bytes().await.context("could not read the file")
    }

    /// The object as a stream of chunks, with its size.
    pub async fn stream(
        &self,
        key: &str,
    ) -> anyhow::Result<(
        u64,
        futures_util::stream::BoxStream<'static, Result<Bytes, object_store::Error>>,
    )> {
        let got = self
            .inner
            .get(&Path::from(key))
            .await
            .context("could not read the file")?;
        Ok((got.meta.size, got.into_stream()))
    }

    /// Whether an object exists under `key`.
    pub async fn exists(&self, key: &str) -> bool {
        self.inner.head(&Path::from(key)).await.is_ok()
    }

    /// The file of `key` in the local folder, for a tool that reads files (none with S3).
    pub fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        let (store, _) = self.local.as_ref()?;
        store.path_to_filesystem(&Path::from(key)).ok()
    }

    /// Copies the object of `key` into the file `to`, streamed (a video may be large).
    pub async fn copy_to_file(&self, key: &str, to: &std::path::Path) -> anyhow::Result<()> {
        use tokio::io::AsyncWriteExt;
        let (_, mut chunks) = self.stream(key).await?;
        // A new file only its owner can read (the temporary folder is shared).
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to)
            .await
            .with_context(|| format!("could not create {}", to.display()))?;
        while let Some(chunk) = chunks.next().await {
            file.write_all(&chunk.context("could not read the file")?)
                .await
                .context("could not write the copy")?;
        }
        file.flush().await.context("could not write the copy")?;
        Ok(())
    }

    /// Removes the object; one that is already gone is not an error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(anyhow::Error::new(err).context("could not delete the file")),
        }
    }

    /// The keys under `prefix` (for checks that nothing was left behind).
    pub async fn keys(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut listing = self.inner.list(Some(&Path::from(prefix)));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            keys.push(
                meta.context("could not list the files")?
                    .location
                    .to_string(),
            );
        }
        Ok(keys)
    }

    /// A URL the store itself signed, valid for `ttl`, when the store can sign (S3); the
    /// server signs its own URLs otherwise.
    pub async fn presigned_get(&self, key: &str, ttl: Duration) -> Option<String> {
        let signer = self.signer.as_ref()?;
        signer
            .signed_url(object_store::signer::Method::GET, &Path::from(key), ttl)
            .await
            .ok()
            .map(|url| url.to_string())
    }
}
