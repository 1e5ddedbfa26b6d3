//! Peak memory of reading an uploaded image: a 20,000 × 20,000 PNG (a 2.5 MB file of 400
//! million pixels, the decompression bomb) against a normal 2,000 × 2,000 photo-sized PNG.
//!
//! `cargo bench -p socializioz --bench media_memory` writes the files, then runs each case in
//! a fresh child process (this same program) through the upload path's image step
//! (`services::media::describe_image`: dimensions from the header, the pixel budget, decoding
//! under the memory limit, the thumbnail) and reads the child's peak resident memory (`VmHWM`
//! in `/proc/self/status`) before and after. It prints each case's peak, its growth over the
//! process's own baseline, the time taken and the outcome, and the ratio of the bomb to the
//! normal image. For reference it also runs the bomb with the pixel budget lifted to fit it,
//! which is what reading it cost before the budget existed (`BENCH_UNBOUNDED=0` skips that).
//! Linux only (it reads `/proc`).

mod images;

use domain::media::MediaType;
use std::process::Command;
use std::time::Instant;

const CASE_VAR: &str = "MEDIA_MEMORY_CASE";
const FILE_VAR: &str = "MEDIA_MEMORY_FILE";
const BUDGET: u64 = 48_000_000;

/// The process's peak resident memory so far, in KB.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: one case, printed as `before after millis outcome`.
fn child(case: &str, file: &str) {
    let bytes = std::fs::read(file).unwrap_or_default();
    let budget = if case == "unbounded" {
        20_000 * 20_000 + 1
    } else {
        BUDGET
    };
    let before = peak_kb();
    let started = Instant::now();
    let outcome = match services::media::describe_image(&bytes, MediaType::Png, budget) {
        Ok(d) => format!(
            "read {}x{}, thumbnail of {} bytes",
            d.width,
            d.height,
            d.thumbnail.len()
        ),
        Err(why) => format!("refused: {why:?}"),
    };
    let millis = started.elapsed().as_millis();
    println!("{before} {} {millis} {outcome}", peak_kb());
}

struct Measured {
    before_kb: u64,
    after_kb: u64,
    millis: u64,
    outcome: String,
}

fn run(case: &str, file: &std::path::Path) -> Option<Measured> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .env(CASE_VAR, case)
        .env(FILE_VAR, file)
        .output()
        .ok()?;
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut parts = line.splitn(4, ' ');
    Some(Measured {
        before_kb: parts.next()?.parse().ok()?,
        after_kb: parts.next()?.parse().ok()?,
        millis: parts.next()?.parse().ok()?,
        outcome: parts.next().unwrap_or_default().to_owned(),
    })
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() {
    if let (Ok(case), Ok(file)) = (std::env::var(CASE_VAR), std::env::var(FILE_VAR)) {
        child(&case, &file);
        return;
    }
    let dir = std::env::temp_dir().join(format!("sz-media-memory-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        eprintln!("could not create {}", dir.display());
        return;
    }
    let bomb = dir.join("bomb.png");
    let normal = dir.join("normal.png");
    let bomb_bytes = images::black_png(20_000, 20_000);
    let photo = image::RgbImage::from_fn(2_000, 2_000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    });
    let mut normal_bytes = std::io::Cursor::new(Vec::new());
    let written = std::fs::write(&bomb, &bomb_bytes).is_ok()
        && photo
            .write_to(&mut normal_bytes, image::ImageFormat::Png)
            .is_ok()
        && std::fs::write(&normal, normal_bytes.get_ref()).is_ok();
    if !written {
        eprintln!("could not write the test images to {}", dir.display());
        return;
    }
    println!(
        "media_memory: pixel budget {} megapixels; files: bomb {:.1} MB (20000 x 20000), normal {:.1} MB (2000 x 2000)",
        BUDGET / 1_000_000,
        bomb_bytes.len() as f64 / 1e6,
        normal_bytes.get_ref().len() as f64 / 1e6
    );
    let mut cases = vec![("refused", &bomb), ("normal", &normal)];
    if std::env::var("BENCH_UNBOUNDED").map_or(true, |v| v != "0") {
        cases.push(("unbounded", &bomb));
    }
    let mut results = Vec::new();
    for (case, file) in cases {
        match run(case, file) {
            Some(m) => {
                println!(
                    "{case:>9}: peak {:7.1} MB (+{:6.1} MB over the process's {:5.1} MB) in {:6} ms: {}",
                    mb(m.after_kb),
                    mb(m.after_kb.saturating_sub(m.before_kb)),
                    mb(m.before_kb),
                    m.millis,
                    m.outcome
                );
                results.push((case, m));
            }
            None => println!("{case:>9}: the child process did not report"),
        }
    }
    let find = |name: &str| results.iter().find(|(c, _)| *c == name).map(|(_, m)| m);
    if let (Some(refused), Some(normal)) = (find("refused"), find("normal")) {
        let growth = |m: &Measured| m.after_kb.saturating_sub(m.before_kb).max(1) as f64;
        println!(
            "ratio bomb/normal: peak {:.2}, growth {:.3}",
            refused.after_kb as f64 / normal.after_kb.max(1) as f64,
            growth(refused) / growth(normal)
        );
    }
    if let (Some(refused), Some(unbounded)) = (find("refused"), find("unbounded")) {
        println!(
            "the bomb without the budget: peak {:.1} MB, {:.0} times the refusal's",
            mb(unbounded.after_kb),
            unbounded.after_kb as f64 / refused.after_kb.max(1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
