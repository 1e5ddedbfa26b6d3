//! Import from URL: a file fetched from a web address into the library, as if uploaded (its
//! type read from its bytes, its size held to the limit while it arrives, an image's thumbnail,
//! a video's facts), through [`providers::fetch`], which refuses addresses inside the server's
//! network on every hop. Imports are held to 20 MB an image and 50 MB a video (or the upload
//! limits, when lower), and to five minutes.

use super::UploadMeta;
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services};
use bytes::{Bytes, BytesMut};
use domain::media::{self, MediaKind};
use futures_util::StreamExt;
use providers::fetch::{self, FetchError, FetchPolicy, Fetched};
use std::time::Duration;
use store::entities::{media_item, user};

/// The largest image an import takes.
pub const IMPORT_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The largest video an import takes.
pub const IMPORT_VIDEO_BYTES: u64 = 50 * 1024 * 1024;
/// The longest an import may take, download included.
pub const IMPORT_TIME: Duration = Duration::from_secs(300);

/// The file's name: the address's last segment, with the extension of what the bytes are.
fn name_of(url: &fetch::Url, head: &[u8]) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .unwrap_or("imported");
    let last = media::clean_filename(last);
    let Some(ty) = media::sniff(head) else {
        // Not a type the library takes: the upload's own refusal names it.
        return last;
    };
    let stem = match last.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last.as_str(),
    };
    format!("{stem}.{}", ty.extension())
}

/// An import's failure, at the address field.
fn at_url(err: FetchError) -> ServiceError {
    ServiceError::invalid("url", err.to_string())
}

impl Services {
    /// Fetches `address` into the library of `ctx`'s workspace.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn import_media(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        address: &str,
        meta: &UploadMeta,
    ) -> Result<media_item::Model> {
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can see the media library but not add to it.".into(),
            ));
        }
        if address.trim().is_empty() {
            return Err(ServiceError::invalid(
                "url",
                "Paste the address of an image or a video, starting with https://.",
            ));
        }
        let limits = (
            self.media_limits.image_bytes.min(IMPORT_IMAGE_BYTES),
            self.media_limits.video_bytes.min(IMPORT_VIDEO_BYTES),
        );
        let imported = async {
            let policy = FetchPolicy {
                trusted_origins: self.media_limits.import_trusted_origins.clone(),
                ..FetchPolicy::default()
            };
            let mut fetched = fetch::open(address, &policy).await.map_err(at_url)?;
            let mut head = BytesMut::new();
            while head.len() < media::SNIFF_LEN {
                match fetched.chunk().await.map_err(at_url)? {
                    Some(chunk) => head.extend_from_slice(&chunk),
                    None => break,
                }
            }
            let name = name_of(&fetched.url, &head);
            // A length announced over the limit is refused before the body is read.
            if let (Some(ty), Some(length)) = (media::sniff(&head), fetched.content_length) {
                let limit = match ty.kind() {
                    MediaKind::Image => limits.0,
                    MediaKind::Video => limits.1,
                };
                if length > limit {
                    return Err(too_large(&name, limit, ty.kind()));
                }
            }
            let first = futures_util::stream::once(async move { Ok(head.freeze()) });
            let rest = futures_util::stream::unfold(Some(fetched), |state| async move {
                let mut fetched: Fetched = state?;
                match fetched.chunk().await {
                    Ok(Some(chunk)) => Some((Ok::<Bytes, FetchError>(chunk), Some(fetched))),
                    Ok(None) => None,
                    Err(err) => Some((Err(err), None)),
                }
            });
            let body = Box::pin(first.chain(rest));
            self.store_media(ctx, actor, &name, meta, body, limits)
                .await
                .map_err(|err| match err {
                    ServiceError::Invalid {
                        field: "file",
                        message,
                    } => ServiceError::invalid("url", message),
                    other => other,
                })
        };
        match tokio::time::timeout(IMPORT_TIME, imported).await {
            Ok(done) => done,
            Err(_) => Err(ServiceError::invalid(
                "url",
                "The file took longer than five minutes to arrive. Nothing was saved.",
            )),
        }
    }
}

fn too_large(name: &str, limit: u64, kind: MediaKind) -> ServiceError {
    ServiceError::TooLarge(format!(
        "“{name}” is larger than {}, the limit for imported {}s. Nothing was saved.",
        super::human_size(limit),
        kind.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_file_is_named_after_its_address_and_its_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let url = |u: &str| fetch::Url::parse(u).unwrap();
        assert_eq!(name_of(&url("https://a.example/x/cat.png"), png), "cat.png");
        assert_eq!(name_of(&url("https://a.example/x/cat.jpg"), png), "cat.png");
        assert_eq!(name_of(&url("https://a.example/photo"), png), "photo.png");
        assert_eq!(name_of(&url("https://a.example/"), png), "imported.png");
        assert_eq!(
            name_of(&url("https://a.example/page.html"), b"<!doctype html>"),
            "page.html"
        );
    }
}
