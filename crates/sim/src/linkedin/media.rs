//! LinkedIn's images and videos: `/rest/images` and `/rest/videos` actions (initialize, and for
//! videos finalize after uploading in 4 MB parts), the upload URLs they hand out, and status
//! polls that answer PROCESSING once before AVAILABLE.

use super::{
    Asset, PART, access_denied, authorised, bad_request, check_rest_headers, fault_response, lock,
    member, not_found, person, store, unprocessable,
};
use crate::oauth::Params;
use crate::{Fault, Grant, Op, Simulator};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};

/// The owner an upload is for, which must be the token's member.
fn owner_of(grant: &Grant, request: &Value) -> Result<String, Response> {
    let owner = request["owner"].as_str().unwrap_or_default();
    if owner.is_empty() {
        return Err(unprocessable("initializeUploadRequest.owner is required"));
    }
    if owner != person(grant) {
        return Err(access_denied(
            "The token's member may not upload for this owner",
        ));
    }
    Ok(owner.to_owned())
}

pub(super) async fn images_action(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    Json(body): Json<Value>,
) -> Response {
    let grant = match member(&sim, &headers, None).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if q.get("action").map(String::as_str) != Some("initializeUpload") {
        return bad_request("unsupported action");
    }
    let owner = match owner_of(&grant, &body["initializeUploadRequest"]) {
        Ok(owner) => owner,
        Err(refused) => return refused,
    };
    let id = format!("D4E10AQ{}", sim.next_id());
    let urn = format!("urn:li:image:{id}");
    lock(&store(&sim)).images.insert(
        urn.clone(),
        Asset {
            owner,
            size: 0,
            parts: vec![None],
            upload_token: String::new(),
            complete: false,
            polls_left: 1,
            failed: false,
        },
    );
    Json(json!({"value": {
        "uploadUrlExpiresAt": (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis(),
        "uploadUrl": format!("http://{}/linkedin/upload/image/{id}", crate::host(&headers, "127.0.0.1")),
        "image": urn,
    }}))
    .into_response()
}

pub(super) async fn upload_image(
    Shared(sim): Shared<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Upload) {
        return fault_response(fault).await;
    }
    // Image upload URLs take the member's token too.
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if body.is_empty() {
        return bad_request("the upload is empty");
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(image) = store.images.get_mut(&format!("urn:li:image:{id}")) else {
        return not_found("unknown upload");
    };
    if image.owner != person(&grant) {
        return access_denied("not your upload");
    }
    image.size = body.len() as u64;
    image.parts = vec![Some(String::new())];
    image.complete = true;
    StatusCode::CREATED.into_response()
}

/// A status poll of an image or video: PROCESSING once, then AVAILABLE, unless a fault says
/// otherwise.
async fn asset_status(sim: &Simulator, headers: &HeaderMap, urn: &str, video: bool) -> Response {
    if let Err(refused) = check_rest_headers(headers) {
        return refused;
    }
    let fault = match sim.take_fault(Platform::LinkedIn, Op::Status) {
        Some(fault @ (Fault::ProcessingFailed | Fault::SlowProcessing(_))) => Some(fault),
        Some(other) => return fault_response(other).await,
        None => None,
    };
    let grant = match authorised(sim, headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let store = store(sim);
    let mut store = lock(&store);
    let assets = if video {
        &mut store.videos
    } else {
        &mut store.images
    };
    let Some(asset) = assets.get_mut(urn).filter(|a| a.owner == person(&grant)) else {
        return not_found("Not Found");
    };
    match fault {
        Some(Fault::ProcessingFailed) => asset.failed = true,
        Some(Fault::SlowProcessing(n)) => asset.polls_left += n,
        _ => {}
    }
    let status = asset.status();
    if status == "PROCESSING" {
        asset.polls_left -= 1;
    }
    let mut body = json!({"owner": asset.owner, "id": urn, "status": status});
    if video {
        body["fileSizeBytes"] = json!(asset.size);
        body["uploadStatus"] = json!(status);
    }
    Json(body).into_response()
}

pub(super) async fn image_status(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    asset_status(&sim, &headers, &urn, false).await
}

pub(super) async fn video_status(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    asset_status(&sim, &headers, &urn, true).await
}

pub(super) async fn videos_action(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    Json(body): Json<Value>,
) -> Response {
    let grant = match member(&sim, &headers, None).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    match q.get("action").map(String::as_str) {
        Some("initializeUpload") => initialize_video(&sim, &headers, &grant, &body),
        Some("finalizeUpload") => finalize_video(&sim, &grant, &body["finalizeUploadRequest"]),
        _ => bad_request("unsupported action"),
    }
}

fn initialize_video(sim: &Simulator, headers: &HeaderMap, grant: &Grant, body: &Value) -> Response {
    let request = &body["initializeUploadRequest"];
    let owner = match owner_of(grant, request) {
        Ok(owner) => owner,
        Err(refused) => return refused,
    };
    let size = request["fileSizeBytes"].as_u64().unwrap_or_default();
    // Member videos run from 75 KB to 500 MB; the simulator takes anything non-empty.
    if size == 0 || size > 500 * 1024 * 1024 {
        return unprocessable("fileSizeBytes must be between 1 byte and 500 MB");
    }
    let id = format!("D5F10AQ{}", sim.next_id());
    let urn = format!("urn:li:video:{id}");
    let parts = size.div_ceil(PART);
    let host = crate::host(headers, "127.0.0.1");
    let instructions: Vec<Value> = (0..parts)
        .map(|i| {
            json!({
                "uploadUrl": format!("http://{host}/linkedin/upload/video/{id}/{i}"),
                "firstByte": i * PART,
                "lastByte": ((i + 1) * PART).min(size) - 1,
            })
        })
        .collect();
    let upload_token = crate::random_token("");
    lock(&store(sim)).videos.insert(
        urn.clone(),
        Asset {
            owner,
            size,
            parts: vec![None; usize::try_from(parts).unwrap_or_default()],
            upload_token: upload_token.clone(),
            complete: false,
            polls_left: 1,
            failed: false,
        },
    );
    Json(json!({"value": {
        "uploadUrlsExpireAt": (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis(),
        "video": urn,
        "uploadInstructions": instructions,
        "uploadToken": upload_token,
    }}))
    .into_response()
}

pub(super) async fn upload_part(
    Shared(sim): Shared<Simulator>,
    Path((id, part)): Path<(String, usize)>,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Upload) {
        return fault_response(fault).await;
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(video) = store.videos.get_mut(&format!("urn:li:video:{id}")) else {
        return not_found("unknown upload");
    };
    if part >= video.parts.len() || video.complete {
        return bad_request("no such part to upload");
    }
    let first = part as u64 * PART;
    let expected = (first + PART).min(video.size) - first;
    if body.len() as u64 != expected {
        return bad_request(&format!(
            "part {part} must be {expected} bytes (firstByte to lastByte), got {}",
            body.len()
        ));
    }
    let etag = format!("/ambry-video/signedId/{}", crate::random_token(""));
    video.parts[part] = Some(etag.clone());
    let mut res = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    res
}

fn finalize_video(sim: &Simulator, grant: &Grant, request: &Value) -> Response {
    let urn = request["video"].as_str().unwrap_or_default();
    let store = store(sim);
    let mut store = lock(&store);
    let Some(video) = store
        .videos
        .get_mut(urn)
        .filter(|v| v.owner == person(grant))
    else {
        return not_found("unknown video");
    };
    if request["uploadToken"].as_str().unwrap_or_default() != video.upload_token {
        return bad_request("uploadToken does not match the upload");
    }
    let sent: Vec<&str> = request["uploadedPartIds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let uploaded: Option<Vec<&str>> = video.parts.iter().map(|p| p.as_deref()).collect();
    match uploaded {
        None => bad_request("not every part was uploaded"),
        Some(uploaded) if uploaded != sent => {
            bad_request("uploadedPartIds do not match the uploaded parts' etags, in order")
        }
        Some(_) => {
            video.complete = true;
            StatusCode::OK.into_response()
        }
    }
}
