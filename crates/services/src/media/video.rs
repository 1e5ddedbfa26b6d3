//! Reading videos with ffmpeg, where it is installed (Debian's `ffmpeg` package has both
//! tools): `ffprobe` gives a video's length and picture size, `ffmpeg` a poster frame for its
//! thumbnail and lays a reel's voice-over under its scenes. Without them a video is kept as uploaded, and its page says what is missing.
//!
//! The tools read a file: a local store's own file, or a copy of an S3 object in the system's
//! temporary folder, deleted when the reading ends. They run with a time limit and their
//! output is parsed, never shown: a video they cannot read is kept without its facts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// The most one tool may take on one file.
const TOOL_TIME: Duration = Duration::from_secs(60);

/// Where the two tools are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

/// What ffprobe read of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFacts {
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}

impl VideoTools {
    /// The tools named (paths, or names looked up on `PATH`), when both answer `-version`
    /// (asked once per process for the same names).
    pub async fn find(ffmpeg: &str, ffprobe: &str) -> Option<VideoTools> {
        static ASKED: std::sync::Mutex<Vec<(String, String, bool)>> =
            std::sync::Mutex::new(Vec::new());
        let tools = VideoTools {
            ffmpeg: PathBuf::from(ffmpeg),
            ffprobe: PathBuf::from(ffprobe),
        };
        let known = ASKED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(a, b, _)| a == ffmpeg && b == ffprobe)
            .map(|(_, _, found)| *found);
        let found = match known {
            Some(found) => found,
            None => {
                let found = tools.answer().await;
                ASKED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((ffmpeg.to_owned(), ffprobe.to_owned(), found));
                found
            }
        };
        found.then_some(tools)
    }

    /// Whether both tools run.
    async fn answer(&self) -> bool {
        for tool in [&self.ffmpeg, &self.ffprobe] {
            let asked = Command::new(tool)
                .arg("-version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .status();
            let answered = tokio::time::timeout(Duration::from_secs(10), asked).await;
            if !matches!(answered, Ok(Ok(status)) if status.success()) {
                return false;
            }
        }
        true
    }

    /// The length and picture size of the video in `file` (none when it has no readable video
    /// stream).
    pub async fn probe(&self, file: &Path) -> Option<VideoFacts> {
        let out = run(Command::new(&self.ffprobe)
            .args([
                "-v",
                "error",
                "-threads",
                "1",
                "-protocol_whitelist",
                "file",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=width,height,duration:stream_side_data=rotation:stream_tags=rotate:\
                 format=duration",
                "-of",
                "json",
            ])
            .arg(file))
        .await?;
        facts_of(&out)
    }

    /// A JPEG of the frame at `at` (or the first frame), at most `side` pixels wide.
    pub async fn poster(&self, file: &Path, at: Duration, side: u32) -> Option<Vec<u8>> {
        let seek = format!("{:.3}", at.as_secs_f64());
        let scale = format!(
            "scale=w='min({side},iw)':h='min({side},ih)':force_original_aspect_ratio=decrease"
        );
        let jpeg = run(Command::new(&self.ffmpeg)
            .args(["-v", "error", "-nostdin", "-threads", "1"])
            .args(["-protocol_whitelist", "file", "-ss", &seek, "-i"])
            .arg(file)
            .args([
                "-frames:v",
                "1",
                "-vf",
                &scale,
                "-f",
                "image2pipe",
                "-c:v",
                "mjpeg",
                "pipe:1",
            ]))
        .await?;
        (jpeg.starts_with(&[0xFF, 0xD8])).then_some(jpeg)
    }

    /// The length of the audio file `file`.
    async fn audio_length(&self, file: &Path) -> Option<Duration> {
        let out = run(Command::new(&self.ffprobe)
            .args([
                "-v",
                "error",
                "-threads",
                "1",
                "-protocol_whitelist",
                "file",
            ])
            .args(["-show_entries", "format=duration", "-of", "csv=p=0"])
            .arg(file))
        .await?;
        let seconds: f64 = String::from_utf8_lossy(&out).trim().parse().ok()?;
        (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
    }

    /// Lays the audio of `audio` under the picture of `video` into a new MP4 at `out`: the
    /// picture repeats until the audio ends, and the file ends with the audio (a reel's
    /// voice-over over its scenes), the file held to `max_bytes`. The picture is copied, not
    /// encoded again. False when the tools could not.
    pub async fn lay_audio(&self, video: &Path, audio: &Path, out: &Path, max_bytes: u64) -> bool {
        // The audio's length bounds the output (with -shortest as a second stop, and the size
        // limit as a third), so that a repeated picture cannot run on.
        let Some(length) = self.audio_length(audio).await else {
            return false;
        };
        let length = format!("{:.3}", length.as_secs_f64());
        let made = run(Command::new(&self.ffmpeg)
            .args(["-v", "error", "-nostdin", "-threads", "1"])
            .args(["-protocol_whitelist", "file", "-stream_loop", "-1", "-i"])
            .arg(video)
            .args(["-protocol_whitelist", "file", "-i"])
            .arg(audio)
            .args(["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"])
            .args(["-c:a", "aac", "-b:a", "128k", "-shortest", "-t", &length])
            .args(["-fs", &max_bytes.to_string()])
            .args(["-movflags", "+faststart", "-f", "mp4", "-y"])
            .arg(out))
        .await;
        made.is_some()
            && tokio::fs::metadata(out)
                .await
                .is_ok_and(|m| m.is_file() && m.len() > 0)
    }
}

/// Runs a tool to its end (or kills it at the time limit); its output when it succeeded.
async fn run(command: &mut Command) -> Option<Vec<u8>> {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    match tokio::time::timeout(TOOL_TIME, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => Some(out.stdout),
        Ok(Ok(out)) => {
            let said = String::from_utf8_lossy(&out.stderr);
            tracing::info!(error = %said.trim(), "a video tool could not read a file");
            None
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "a video tool could not be run");
            None
        }
        Err(_) => {
            tracing::warn!("a video tool took too long and was stopped");
            None
        }
    }
}

/// Reads ffprobe's JSON: the first video stream's size, and the stream's duration or else the
/// container's.
fn facts_of(json: &[u8]) -> Option<VideoFacts> {
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    let stream = value.get("streams")?.as_array()?.first()?;
    let width = u32::try_from(stream.get("width")?.as_u64()?).ok()?;
    let height = u32::try_from(stream.get("height")?.as_u64()?).ok()?;
    // A phone's portrait video is stored landscape with a rotation to show it upright.
    let rotation = stream
        .get("side_data_list")
        .and_then(|l| l.as_array())
        .and_then(|l| l.iter().find_map(|d| d.get("rotation")?.as_i64()))
        .or_else(|| {
            stream
                .get("tags")?
                .get("rotate")?
                .as_str()?
                .parse::<i64>()
                .ok()
        })
        .unwrap_or(0);
    let (width, height) = if rotation.rem_euclid(180) == 90 {
        (height, width)
    } else {
        (width, height)
    };
    let seconds = |v: Option<&serde_json::Value>| -> Option<f64> {
        v?.as_str()?
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
    };
    let duration = seconds(stream.get("duration"))
        .or_else(|| seconds(value.get("format").and_then(|f| f.get("duration"))))?;
    Some(VideoFacts {
        width,
        height,
        duration_ms: (duration * 1000.0).round() as u64,
    })
}

/// A file to read: the store's own, or a temporary copy deleted when this is dropped.
pub(crate) struct Readable {
    pub path: PathBuf,
    temporary: bool,
}

impl Readable {
    pub(crate) fn own(path: PathBuf) -> Readable {
        Readable {
            path,
            temporary: false,
        }
    }

    pub(crate) fn temporary(path: PathBuf) -> Readable {
        Readable {
            path,
            temporary: true,
        }
    }
}

impl Drop for Readable {
    fn drop(&mut self) {
        if self.temporary
            && let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %err, "could not delete a temporary copy of a video");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffprobes_answer_is_read_with_the_containers_duration_as_fallback() {
        let stream = br#"{"programs":[],"streams":[{"width":1080,"height":1920,"duration":"12.480000"}],"format":{"duration":"12.512000"}}"#;
        assert_eq!(
            facts_of(stream),
            Some(VideoFacts {
                width: 1080,
                height: 1920,
                duration_ms: 12_480
            })
        );
        // Matroska and WebM streams carry no duration of their own.
        let container = br#"{"streams":[{"width":640,"height":360}],"format":{"duration":"3.0"}}"#;
        assert_eq!(facts_of(container).map(|f| f.duration_ms), Some(3_000));
        assert_eq!(facts_of(br#"{"streams":[],"format":{}}"#), None);
        // A portrait phone video: stored 1920 × 1080, shown upright.
        let rotated = br#"{"streams":[{"width":1920,"height":1080,"duration":"4.0","side_data_list":[{"rotation":-90}]}]}"#;
        let upright = facts_of(rotated).unwrap();
        assert_eq!((upright.width, upright.height), (1080, 1920));
        let tagged = br#"{"streams":[{"width":1920,"height":1080,"duration":"4.0","tags":{"rotate":"180"}}]}"#;
        assert_eq!(facts_of(tagged).map(|f| f.width), Some(1920));
        assert_eq!(facts_of(b"not json"), None);
        assert_eq!(
            facts_of(br#"{"streams":[{"width":1,"height":1,"duration":"NaN"}],"format":{}}"#),
            None
        );
    }
}
