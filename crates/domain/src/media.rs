//! Media files: which types the product accepts, recognised from their bytes (never from their
//! names), names and tags as people type them, and what each platform takes in one post.

use crate::content::Platform;
use crate::{Invalid, single_line};

/// Image or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "image" => Some(Self::Image),
            "video" => Some(Self::Video),
            _ => None,
        }
    }
}

/// The file types the media library accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
    Mov,
}

impl MediaType {
    pub const ALL: [MediaType; 6] = [
        Self::Jpeg,
        Self::Png,
        Self::Gif,
        Self::Webp,
        Self::Mp4,
        Self::Mov,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.mime() == mime)
    }

    pub fn kind(self) -> MediaKind {
        match self {
            Self::Mp4 | Self::Mov => MediaKind::Video,
            _ => MediaKind::Image,
        }
    }

    /// How people name the type.
    pub fn label(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Mp4 => "MP4",
            Self::Mov => "MOV",
        }
    }

    /// File name extensions that claim this type (lower case, without the dot).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Self::Png => &["png"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Mp4 => &["mp4", "m4v"],
            Self::Mov => &["mov", "qt"],
        }
    }

    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }
}

/// How many leading bytes `sniff` needs to decide.
pub const SNIFF_LEN: usize = 16;

/// Recognises a file from its first bytes: JPEG `FF D8 FF`, PNG's eight-byte signature,
/// `GIF87a`/`GIF89a`, `RIFF….WEBP`, and ISO media files (`ftyp` at offset 4) whose major brand is
/// `qt  ` (MOV) or anything else (MP4 and its relatives).
pub fn sniff(head: &[u8]) -> Option<MediaType> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaType::Jpeg);
    }
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(MediaType::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some(MediaType::Gif);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(MediaType::Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(if &head[8..12] == b"qt  " {
            MediaType::Mov
        } else {
            MediaType::Mp4
        });
    }
    None
}

/// The type a file name claims by its extension, if it names one we know.
pub fn claimed_by_name(name: &str) -> Option<MediaType> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    MediaType::ALL
        .into_iter()
        .find(|t| t.extensions().contains(&ext.as_str()))
}

/// Checks that a file's bytes are an accepted type and that its name does not claim another.
pub fn identify(name: &str, head: &[u8]) -> Result<MediaType, Invalid> {
    let accepted = "Upload a JPEG, PNG, GIF or WebP image, or an MP4 or MOV video.";
    let Some(actual) = sniff(head) else {
        return Err(Invalid(match claimed_by_name(name) {
            Some(claimed) => format!(
                "“{name}” is named like a {} file, but its contents are not one. {accepted}",
                claimed.label()
            ),
            None => format!("“{name}” is not a file type Socializioz accepts. {accepted}"),
        }));
    };
    match claimed_by_name(name) {
        Some(claimed) if claimed != actual => Err(Invalid(format!(
            "“{name}” is named like a {} file, but its contents are {} {}. Rename it to .{} or \
             export it again.",
            claimed.label(),
            article(actual.label()),
            actual.label(),
            actual.extension()
        ))),
        None if name.contains('.') => Err(Invalid(format!(
            "“{name}” has an extension Socializioz does not accept. {accepted}"
        ))),
        _ => Ok(actual),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['A', 'E', 'I', 'O', 'U', 'M']) {
        "an"
    } else {
        "a"
    }
}

/// A file name fit to store and show: the last path component, without control characters,
/// at most 200 characters; "upload" when nothing is left.
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}

/// A folder name: one line, at most 80 characters; empty means no folder.
pub fn parse_folder(raw: &str) -> Result<String, Invalid> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    single_line(raw, "a folder name", 80)
}

/// Tags typed as a comma-separated list: trimmed, lower case, without repeats, at most 20 of
/// at most 40 characters each.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, Invalid> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw.split(',') {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tags.contains(&tag) {
            continue;
        }
        if tag.chars().count() > 40 || tag.chars().any(char::is_control) {
            return Err(Invalid::new(
                "Each tag can be at most 40 characters long, on one line.",
            ));
        }
        tags.push(tag);
    }
    if tags.len() > 20 {
        return Err(Invalid::new("A file can have at most 20 tags."));
    }
    Ok(tags)
}

/// Checks the media of one post against what `platform` takes: Instagram and TikTok posts
/// need media, X takes up to 4 images or one video, and no platform mixes videos with other
/// files in one post here.
pub fn check_for_platform(platform: Platform, media: &[MediaType]) -> Result<(), Invalid> {
    let videos = media
        .iter()
        .filter(|t| t.kind() == MediaKind::Video)
        .count();
    let images = media.len() - videos;
    let max_images = match platform {
        Platform::X => 4,
        Platform::Instagram => 10,
        Platform::TikTok => 35,
        Platform::LinkedIn => 20,
        Platform::Facebook => 10,
    };
    if media.is_empty() && matches!(platform, Platform::Instagram | Platform::TikTok) {
        return Err(Invalid(format!(
            "{platform} posts need an image or a video. Add one from the media library."
        )));
    }
    if videos > 1 || (videos == 1 && images > 0) {
        return Err(Invalid(format!(
            "{platform} takes one video on its own, or images. Remove the other files."
        )));
    }
    check_types(platform, media)?;
    if images > max_images {
        return Err(Invalid(format!(
            "{platform} takes at most {max_images} images in one post; this one has {images}. \
             Remove {}.",
            images - max_images
        )));
    }
    Ok(())
}

/// Whether `platform` publishes files of type `t` (Instagram's API takes JPEG images only,
/// TikTok's photo posts JPEG and WebP, LinkedIn neither WebP nor QuickTime video).
/// Whether `platform`'s API takes files of type `t`.
pub fn takes(platform: Platform, t: MediaType) -> bool {
    use MediaType::{Gif, Jpeg, Mov, Mp4, Png, Webp};
    match platform {
        Platform::Instagram => matches!(t, Jpeg | Mp4 | Mov),
        Platform::TikTok => matches!(t, Jpeg | Webp | Mp4 | Mov),
        Platform::LinkedIn => matches!(t, Jpeg | Png | Gif | Mp4),
        Platform::X | Platform::Facebook => true,
    }
}

/// What a platform's API takes of one video: its length and its file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    pub min_ms: u64,
    pub max_ms: u64,
    pub max_bytes: u64,
}

/// The platforms' published limits for a video posted through their APIs the way the
/// publishers post it (X: 0.5 s to 2:20 and 512 MB; Instagram Reels: 3 s to 15 min and 300 MB,
/// a video in a carousel 3 s to 60 s and 100 MB; Facebook Pages by `file_url`, a non-resumable
/// upload: up to 20 min and 1 GB; TikTok: 3 s to 10 min, the common maximum its creator info
/// reports, and 4 GB; LinkedIn: 3 s to 30 min and 500 MB).
pub fn video_limits(platform: Platform, in_carousel: bool) -> VideoLimits {
    const MB: u64 = 1024 * 1024;
    let (min_ms, max_ms, max_bytes) = match platform {
        Platform::X => (500, 140_000, 512 * MB),
        Platform::Instagram if in_carousel => (3_000, 60_000, 100 * MB),
        Platform::Instagram => (3_000, 900_000, 300 * MB),
        Platform::Facebook => (1_000, 1_200_000, 1024 * MB),
        Platform::TikTok => (3_000, 600_000, 4 * 1024 * MB),
        Platform::LinkedIn => (3_000, 1_800_000, 500 * MB),
    };
    VideoLimits {
        min_ms,
        max_ms,
        max_bytes,
    }
}

/// "0:09", "2:20", "1:02:03".
pub fn clock(duration_ms: u64) -> String {
    let seconds = duration_ms.div_ceil(1000);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Refuses a file type `platform` does not take.
fn check_types(platform: Platform, media: &[MediaType]) -> Result<(), Invalid> {
    if let Some(refused) = media.iter().find(|t| !takes(platform, **t)) {
        let takes_list: Vec<&str> = MediaType::ALL
            .into_iter()
            .filter(|t| t.kind() == refused.kind() && takes(platform, *t))
            .map(MediaType::label)
            .collect();
        return Err(Invalid(format!(
            "{platform} does not take {} files; it takes {}. Choose another file or convert \
             this one.",
            refused.label(),
            takes_list.join(", ")
        )));
    }
    Ok(())
}

/// How a post appears on a platform that has more than one kind: in the feed (the default), as
/// a reel, or as a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Feed,
    Reel,
    Story,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Feed, Format::Reel, Format::Story];

    pub fn slug(self) -> &'static str {
        match self {
            Format::Feed => "feed",
            Format::Reel => "reel",
            Format::Story => "story",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Feed => "Feed post",
            Format::Reel => "Reel",
            Format::Story => "Story",
        }
    }

    pub fn parse(raw: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.slug() == raw)
    }

    /// What each of the formats offered on `platform` takes, for the composer.
    pub fn hint(platform: Platform) -> &'static str {
        match platform {
            Platform::Instagram => {
                "A reel is one video (a single video goes to Instagram as a reel either way); a \
                 story is one JPEG image or one video of up to a minute, shown for a day, \
                 without the text and without a first comment."
            }
            Platform::Facebook => {
                "A reel is one vertical video of up to 1:30; a story is one photo of up to 4 MB \
                 or one video of up to a minute, shown for a day, without the text and without \
                 a first comment."
            }
            _ => "",
        }
    }

    /// The formats a post can take on `platform` (only the feed where there is no choice).
    pub fn offered(platform: Platform) -> &'static [Format] {
        match platform {
            Platform::Instagram | Platform::Facebook => &Format::ALL,
            _ => &[Format::Feed],
        }
    }
}

/// The longest story video Instagram and Facebook take through their APIs.
pub const STORY_VIDEO_MS: u64 = 60_000;
/// The longest reel Facebook's Reels API takes (Instagram's reels are its feed videos' length).
pub const FACEBOOK_REEL_MS: u64 = 90_000;
/// The shortest reel or story video Facebook takes.
pub const FACEBOOK_SHORTEST_MS: u64 = 3_000;
/// The largest photo a Facebook Page story takes.
pub const FACEBOOK_STORY_IMAGE_BYTES: u64 = 4 * 1024 * 1024;

/// Checks the media of one target against its `format` on `platform`: a reel is one video (on
/// Facebook of at most a minute and a half), a story one image (on Facebook of at most 4 MB) or
/// one video (of at most a minute); the feed is [`check_for_platform`]'s. `video_ms` is the
/// video's length when known, `image_bytes` the largest image's size.
pub fn check_format(
    platform: Platform,
    format: Format,
    media: &[MediaType],
    video_ms: Option<u64>,
    image_bytes: Option<u64>,
) -> Result<(), Invalid> {
    if !Format::offered(platform).contains(&format) {
        return Err(Invalid(format!(
            "{platform} posts go to the feed here; choose “Feed post”."
        )));
    }
    check_types(platform, media)?;
    if format != Format::Feed
        && platform == Platform::Facebook
        && video_ms.is_some_and(|ms| ms < FACEBOOK_SHORTEST_MS)
        && media.iter().any(|m| m.kind() == MediaKind::Video)
    {
        return Err(Invalid(format!(
            "A {} on {platform} is a video of at least 3 seconds; this one is shorter.",
            format.label().to_lowercase()
        )));
    }
    match format {
        Format::Feed => Ok(()),
        Format::Reel => match media {
            [one]
                if one.kind() == MediaKind::Video
                    && platform == Platform::Facebook
                    && video_ms.is_some_and(|ms| ms > FACEBOOK_REEL_MS) =>
            {
                Err(Invalid(format!(
                    "A reel on {platform} is at most {}; this one is {}. Trim it, or post it \
                     to the feed.",
                    clock(FACEBOOK_REEL_MS),
                    clock(video_ms.unwrap_or_default())
                )))
            }
            [one] if one.kind() == MediaKind::Video => Ok(()),
            _ => Err(Invalid(format!(
                "A reel on {platform} is one video: choose a single video, or post to the feed."
            ))),
        },
        Format::Story => match media {
            [one]
                if one.kind() == MediaKind::Video
                    && video_ms.is_some_and(|ms| ms > STORY_VIDEO_MS) =>
            {
                Err(Invalid(format!(
                    "A story on {platform} takes a video of at most {}; this one is {}. Trim \
                     it, or post it as a reel.",
                    clock(STORY_VIDEO_MS),
                    clock(video_ms.unwrap_or_default())
                )))
            }
            [one]
                if one.kind() == MediaKind::Image
                    && platform == Platform::Facebook
                    && image_bytes.is_some_and(|b| b > FACEBOOK_STORY_IMAGE_BYTES) =>
            {
                Err(Invalid(format!(
                    "A story on {platform} takes a photo of at most {} MB; this one is {} MB. \
                     Export it smaller, or post it to the feed.",
                    FACEBOOK_STORY_IMAGE_BYTES / (1024 * 1024),
                    image_bytes.unwrap_or_default().div_ceil(1024 * 1024)
                )))
            }
            [_] => Ok(()),
            _ => Err(Invalid(format!(
                "A story on {platform} is one image or one video: choose a single file."
            ))),
        },
    }
}

/// Checks one video's length (when known) and size against what `platform` takes (in a
/// carousel, when the post has other files too).
pub fn check_video(
    platform: Platform,
    in_carousel: bool,
    duration_ms: Option<u64>,
    bytes: u64,
) -> Result<(), Invalid> {
    let limits = video_limits(platform, in_carousel);
    if let Some(length) = duration_ms {
        if length > limits.max_ms {
            return Err(Invalid(format!(
                "{platform} takes videos of at most {}; this one is {}. Trim it first.",
                clock(limits.max_ms),
                clock(length)
            )));
        }
        if length < limits.min_ms {
            return Err(Invalid(format!(
                "{platform} takes videos of at least {} seconds; this one is shorter.",
                limits.min_ms as f64 / 1000.0
            )));
        }
    }
    if bytes > limits.max_bytes {
        return Err(Invalid(format!(
            "{platform} takes video files of at most {} MB; this one is {} MB. Export it \
             smaller first.",
            limits.max_bytes / (1024 * 1024),
            bytes.div_ceil(1024 * 1024)
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reels_are_one_video_and_stories_one_short_file() {
        use Platform::*;
        let video = [MediaType::Mp4];
        let image = [MediaType::Jpeg];
        assert!(check_format(Instagram, Format::Reel, &video, Some(30_000), None).is_ok());
        assert!(check_format(Instagram, Format::Reel, &image, None, None).is_err());
        assert!(
            check_format(
                Instagram,
                Format::Reel,
                &[MediaType::Mp4, MediaType::Mp4],
                None,
                None
            )
            .is_err()
        );
        assert!(check_format(Instagram, Format::Story, &image, None, None).is_ok());
        let png =
            check_format(Instagram, Format::Story, &[MediaType::Png], None, None).unwrap_err();
        assert!(png.0.contains("does not take PNG"), "{}", png.0);
        assert!(check_format(Instagram, Format::Story, &video, Some(60_000), None).is_ok());
        let long = check_format(Instagram, Format::Story, &video, Some(61_000), None).unwrap_err();
        assert!(long.0.contains("at most 1:00"), "{}", long.0);
        assert!(check_format(Instagram, Format::Story, &[], None, None).is_err());
        assert!(check_format(X, Format::Story, &image, None, None).is_err());
        assert!(check_format(X, Format::Feed, &image, None, None).is_ok());
    }

    #[test]
    fn facebook_reels_and_stories_have_their_own_limits() {
        use Platform::Facebook;
        let video = [MediaType::Mp4];
        let image = [MediaType::Jpeg];
        assert!(Format::offered(Facebook).contains(&Format::Reel));
        assert!(check_format(Facebook, Format::Reel, &video, Some(90_000), None).is_ok());
        let long = check_format(Facebook, Format::Reel, &video, Some(91_000), None).unwrap_err();
        assert!(
            long.0.contains("at most 1:30; this one is 1:31"),
            "{}",
            long.0
        );
        // Instagram's reels are as long as its feed videos.
        assert!(
            check_format(
                Platform::Instagram,
                Format::Reel,
                &video,
                Some(91_000),
                None
            )
            .is_ok()
        );
        let four_mb = 4 * 1024 * 1024;
        assert!(check_format(Facebook, Format::Story, &image, None, Some(four_mb)).is_ok());
        let big = check_format(Facebook, Format::Story, &image, None, Some(four_mb + 1));
        assert!(
            big.unwrap_err()
                .0
                .contains("at most 4 MB; this one is 5 MB")
        );
        let long = check_format(Facebook, Format::Story, &video, Some(61_000), None);
        assert!(long.unwrap_err().0.contains("at most 1:00"));
        assert!(check_format(Facebook, Format::Story, &[MediaType::Jpeg; 2], None, None).is_err());
        let short = check_format(Facebook, Format::Reel, &video, Some(2_900), None).unwrap_err();
        assert!(
            short
                .0
                .contains("A reel on Facebook is a video of at least 3 seconds")
        );
        assert!(check_format(Facebook, Format::Story, &video, Some(2_900), None).is_err());
        assert!(check_format(Facebook, Format::Story, &video, Some(3_000), None).is_ok());
    }

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1,
    ];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    #[test]
    fn types_are_recognised_from_their_bytes() {
        assert_eq!(sniff(JPEG), Some(MediaType::Jpeg));
        assert_eq!(sniff(PNG), Some(MediaType::Png));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), Some(MediaType::Gif));
        assert_eq!(
            sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(
            sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00"),
            Some(MediaType::Mp4)
        );
        assert_eq!(
            sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00"),
            Some(MediaType::Mov)
        );
        assert_eq!(sniff(b"%PDF-1.7 hello"), None);
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn a_name_that_claims_another_type_is_refused() {
        assert_eq!(identify("photo.JPG", JPEG), Ok(MediaType::Jpeg));
        assert_eq!(identify("photo", PNG), Ok(MediaType::Png));
        let err = identify("photo.png", JPEG).unwrap_err().0;
        assert!(
            err.contains("named like a PNG file") && err.contains("a JPEG"),
            "{err}"
        );
        let err = identify("clip.mp4", b"%PDF-1.7 hello").unwrap_err().0;
        assert!(err.contains("not one"), "{err}");
        let err = identify("script.exe", PNG).unwrap_err().0;
        assert!(err.contains("does not accept"), "{err}");
        let err = identify("notes.txt", b"hello world, plain").unwrap_err().0;
        assert!(err.contains("not a file type"), "{err}");
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\u{0}b\nc.gif"), "abc.gif");
        assert_eq!(clean_filename(".."), "upload");
        assert_eq!(clean_filename(&"x".repeat(300)).len(), 200);
    }

    #[test]
    fn tags_and_folders() {
        assert_eq!(
            parse_tags(" Spring, sale ,spring,,Launch 2027").unwrap(),
            ["spring", "sale", "launch 2027"]
        );
        let many: String = (0..21).map(|n| format!("t{n},")).collect();
        assert!(parse_tags(&many).is_err());
        assert!(parse_tags(&"x".repeat(41)).is_err());
        assert_eq!(parse_folder("  ").unwrap(), "");
        assert_eq!(parse_folder(" Launch ").unwrap(), "Launch");
        assert!(parse_folder(&"f".repeat(81)).is_err());
    }

    #[test]
    fn each_platform_takes_its_own_media() {
        use MediaType::{Gif, Jpeg, Mov, Mp4, Png, Webp};
        assert!(check_for_platform(Platform::Instagram, &[]).is_err());
        assert!(check_for_platform(Platform::TikTok, &[]).is_err());
        assert!(check_for_platform(Platform::X, &[]).is_ok());
        assert!(check_for_platform(Platform::X, &[Png; 4]).is_ok());
        let err = check_for_platform(Platform::X, &[Jpeg; 5]).unwrap_err().0;
        assert!(
            err.contains("at most 4 images") && err.contains("Remove 1"),
            "{err}"
        );
        assert!(check_for_platform(Platform::LinkedIn, &[Mp4]).is_ok());
        assert!(check_for_platform(Platform::Facebook, &[Mp4, Jpeg]).is_err());
        assert!(check_for_platform(Platform::Instagram, &[Mp4, Mov]).is_err());
        // Formats each platform's API takes.
        assert!(check_for_platform(Platform::Instagram, &[Jpeg, Jpeg]).is_ok());
        let err = check_for_platform(Platform::Instagram, &[Jpeg, Png])
            .unwrap_err()
            .0;
        assert!(
            err.contains("does not take PNG") && err.contains("takes JPEG."),
            "{err}"
        );
        assert!(check_for_platform(Platform::TikTok, &[Webp, Jpeg]).is_ok());
        assert!(check_for_platform(Platform::TikTok, &[Gif]).is_err());
        assert!(check_for_platform(Platform::LinkedIn, &[Webp]).is_err());
        assert!(check_for_platform(Platform::LinkedIn, &[Mov]).is_err());
        assert!(check_for_platform(Platform::X, &[Webp, Gif]).is_ok());
    }

    #[test]
    fn a_video_is_held_to_its_platforms_length_and_size() {
        assert!(check_video(Platform::X, false, Some(140_000), 1024).is_ok());
        let long = check_video(Platform::X, false, Some(150_000), 1024).unwrap_err();
        assert_eq!(
            long.0,
            "X takes videos of at most 2:20; this one is 2:30. Trim it first."
        );
        let short = check_video(Platform::Instagram, false, Some(2_000), 1024).unwrap_err();
        assert!(short.0.contains("at least 3 seconds"), "{}", short.0);
        // A Reel may be 15 minutes; a video in a carousel one.
        assert!(check_video(Platform::Instagram, false, Some(120_000), 1024).is_ok());
        let in_carousel = check_video(Platform::Instagram, true, Some(120_000), 1024);
        assert!(in_carousel.unwrap_err().0.contains("at most 1:00"));
        // An unknown length is not refused; the size always counts.
        assert!(check_video(Platform::TikTok, false, None, 1024).is_ok());
        let big = check_video(Platform::LinkedIn, false, None, 501 * 1024 * 1024).unwrap_err();
        assert!(
            big.0.contains("at most 500 MB; this one is 501 MB"),
            "{}",
            big.0
        );
        assert_eq!(clock(9_000), "0:09");
        assert_eq!(clock(140_001), "2:21");
        assert_eq!(clock(3_723_000), "1:02:03");
    }
}
