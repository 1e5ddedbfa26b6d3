//! Reading an uploaded image safely: its size is read from the header and an image over the
//! pixel budget is refused before anything is decoded; at most two images are decoded at once
//! in the process; the thumbnail is made from the decoded image.

use crate::Result;
use domain::media::MediaType;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// The longest side of a thumbnail, in pixels.
pub(crate) const THUMB_SIDE: u32 = 320;

/// Images decoded at once in this process: each may take up to [`decode_budget`] bytes, so
/// parallel uploads wait here instead of multiplying the memory.
pub(crate) static DECODING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// The most memory the decoder may take for an image of the pixel budget: 4 bytes a pixel (8-bit
/// RGBA) and room for the decoder's own buffers.
pub fn decode_budget(max_pixels: u64) -> u64 {
    max_pixels
        .saturating_mul(4)
        .saturating_add(32 * 1024 * 1024)
}

/// An image's dimensions and its JPEG thumbnail.
#[derive(Debug)]
pub struct Described {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
}

/// Why an image was not taken. The decoder's own words go to the log, never to the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRefusal {
    /// More pixels than the budget, read from the header.
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// Within the budget, but decoding it would need more memory than allowed.
    TooMuchMemory,
    /// Not a readable image of its type.
    Unreadable,
}

impl ImageRefusal {
    /// What the person reads, for the file `name` of type `ty`.
    pub fn message(&self, name: &str, ty: MediaType) -> String {
        match self {
            Self::TooManyPixels {
                width,
                height,
                limit,
            } => format!(
                "“{name}” is {width} × {height} pixels; the limit is {}. Make it smaller and \
                 upload it again. Nothing was saved.",
                megapixels(*limit)
            ),
            Self::TooMuchMemory => format!(
                "“{name}” would need more memory to read than this server allows for one image. \
                 Save it with fewer pixels or 8 bits per colour and upload it again. Nothing was \
                 saved."
            ),
            Self::Unreadable => format!(
                "“{name}” could not be read as a {} image. Export it again. Nothing was saved.",
                ty.label()
            ),
        }
    }
}

/// "48 megapixels", "1 megapixel", "2.5 megapixels".
pub(crate) fn megapixels(pixels: u64) -> String {
    match pixels {
        1_000_000 => "1 megapixel".to_owned(),
        p if p % 1_000_000 == 0 => format!("{} megapixels", p / 1_000_000),
        p => format!("{:.1} megapixels", p as f64 / 1_000_000.0),
    }
}

pub(crate) fn image_format(ty: MediaType) -> Option<image::ImageFormat> {
    match ty {
        MediaType::Jpeg => Some(image::ImageFormat::Jpeg),
        MediaType::Png => Some(image::ImageFormat::Png),
        MediaType::Gif => Some(image::ImageFormat::Gif),
        MediaType::Webp => Some(image::ImageFormat::WebP),
        _ => None,
    }
}

pub(crate) fn reader(
    bytes: &[u8],
    format: image::ImageFormat,
    max_pixels: u64,
) -> image::ImageReader<std::io::Cursor<&[u8]>> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(decode_budget(max_pixels));
    reader.limits(limits);
    reader
}

pub(crate) fn refusal(err: &image::ImageError) -> ImageRefusal {
    tracing::info!(error = %err, "an uploaded image could not be decoded");
    match err {
        image::ImageError::Limits(_) => ImageRefusal::TooMuchMemory,
        _ => ImageRefusal::Unreadable,
    }
}

/// Reads an image's dimensions from its header and, when it has at most `max_pixels` pixels,
/// decodes it (with the decoder's memory held to [`decode_budget`]) and makes a JPEG
/// thumbnail. A larger image is refused before a single pixel is decoded.
///
/// JPEGs are decoded at full size: the decoder behind the `image` crate (zune-jpeg) cannot
/// scale while decoding, so the pixel budget is what bounds their memory too.
pub fn describe_image(
    bytes: &[u8],
    ty: MediaType,
    max_pixels: u64,
) -> Result<Described, ImageRefusal> {
    let decoded = decode_within(bytes, ty, max_pixels)?;
    let (width, height) = (decoded.width(), decoded.height());
    let thumbnail = thumbnail_of(&decoded)?;
    Ok(Described {
        width,
        height,
        thumbnail,
    })
}

/// Decodes an image whose header says it has at most `max_pixels` pixels, with the decoder's
/// memory held to [`decode_budget`]; a larger one is refused before a pixel is decoded.
fn decode_within(
    bytes: &[u8],
    ty: MediaType,
    max_pixels: u64,
) -> Result<image::DynamicImage, ImageRefusal> {
    let format = image_format(ty).ok_or(ImageRefusal::Unreadable)?;
    within_pixels(bytes, format, max_pixels)?;
    reader(bytes, format, max_pixels)
        .decode()
        .map_err(|e| refusal(&e))
}

/// A picture without its metadata (EXIF, which may hold where it was taken and the camera's
/// serial; XMP; text chunks), for handing it to a provider: decoded within the pixel budget (as
/// [`describe_image`]), turned upright as its orientation says, and encoded again, a JPEG as a
/// JPEG and anything else as a PNG (which keeps transparency). Its bytes and type.
pub(crate) fn without_metadata(
    bytes: &[u8],
    ty: MediaType,
    max_pixels: u64,
) -> Result<(Vec<u8>, MediaType), ImageRefusal> {
    use image::ImageDecoder;
    let format = image_format(ty).ok_or(ImageRefusal::Unreadable)?;
    within_pixels(bytes, format, max_pixels)?;
    let mut decoder = reader(bytes, format, max_pixels)
        .into_decoder()
        .map_err(|e| refusal(&e))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = image::DynamicImage::from_decoder(decoder).map_err(|e| refusal(&e))?;
    picture.apply_orientation(orientation);
    let mut out = Vec::new();
    if ty == MediaType::Jpeg {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
            .encode_image(&picture.to_rgb8())
            .map_err(|e| refusal(&e))?;
        Ok((out, MediaType::Jpeg))
    } else {
        picture
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .map_err(|e| refusal(&e))?;
        Ok((out, MediaType::Png))
    }
}

/// Refuses an image whose header says it has more than `max_pixels` pixels, before a pixel is
/// decoded.
fn within_pixels(
    bytes: &[u8],
    format: image::ImageFormat,
    max_pixels: u64,
) -> Result<(), ImageRefusal> {
    let (width, height) = reader(bytes, format, max_pixels)
        .into_dimensions()
        .map_err(|e| refusal(&e))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageRefusal::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}

/// A JPEG of at most [`THUMB_SIDE`] pixels a side.
fn thumbnail_of(image: &image::DynamicImage) -> Result<Vec<u8>, ImageRefusal> {
    let small = image.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(|e| refusal(&e))?;
    Ok(out)
}

/// An image cut to a shape: JPEG bytes, dimensions and thumbnail.
#[derive(Debug)]
pub struct Framed {
    pub jpeg: Vec<u8>,
    pub described: Described,
}

/// Decodes an image (within the pixel budget, as [`describe_image`]), cuts the largest centred
/// part of it with the ratio `ratio_w : ratio_h`, and encodes that as a JPEG (the one image
/// type every platform takes; Instagram's API takes no other) with its thumbnail.
/// A generated image is made at the provider's nearest size (the GPT image models make three
/// shapes) and framed here to the shape the person chose.
pub fn frame_image(
    bytes: &[u8],
    ty: MediaType,
    max_pixels: u64,
    (ratio_w, ratio_h): (u32, u32),
) -> Result<Framed, ImageRefusal> {
    let decoded = decode_within(bytes, ty, max_pixels)?;
    let (width, height) = (decoded.width(), decoded.height());
    let (w, h) = framed_size((width, height), (ratio_w.max(1), ratio_h.max(1)));
    let cut = decoded.crop_imm((width - w) / 2, (height - h) / 2, w, h);
    drop(decoded);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&cut.to_rgb8())
        .map_err(|e| refusal(&e))?;
    let thumbnail = thumbnail_of(&cut)?;
    Ok(Framed {
        jpeg,
        described: Described {
            width: w,
            height: h,
            thumbnail,
        },
    })
}

/// The largest `w × h` within `width × height` with `w : h` = `rw : rh` (rounded down).
pub(crate) fn framed_size((width, height): (u32, u32), (rw, rh): (u32, u32)) -> (u32, u32) {
    let (width, height, rw, rh) = (
        u64::from(width),
        u64::from(height),
        u64::from(rw),
        u64::from(rh),
    );
    // Too wide for the ratio: keep the height; otherwise keep the width.
    let (w, h) = if width * rh > height * rw {
        (height * rw / rh, height)
    } else {
        (width, width * rh / rw)
    };
    (
        u32::try_from(w.max(1)).unwrap_or(u32::MAX),
        u32::try_from(h.max(1)).unwrap_or(u32::MAX),
    )
}
