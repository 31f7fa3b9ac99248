//! Blank-screenshot detection: a proof image that is (nearly) one flat colour is never sent.
//!
//! A screenshot of a page that has not rendered (white), a crashed compositor (black) or a grey
//! placeholder proves nothing. The image is decoded, sampled on a grid, and called blank when almost
//! every sample lies within a small distance of the most common colour. Instagram's loading splash (a
//! small logo on white, about 0.5 % of a 1280×1024 viewport) counts as blank; a profile header (avatar,
//! name, counts: well over 5 % of its area) does not.

use std::io::Cursor;

/// At most this many pixels are sampled per image (a regular grid over the whole frame).
const MAX_SAMPLES: usize = 65_536;

/// Largest per-channel difference from the dominant colour that still counts as "the same colour"
/// (JPEG-free PNGs are exact, so this only absorbs anti-aliasing and gradients of a flat background).
const TOLERANCE: u8 = 16;

/// An image is blank when at most this share of its samples differs from the dominant colour.
const MAX_DIFFERENT_SHARE: f64 = 0.02;

/// The decoder may allocate at most this much; a screenshot is far below it.
const DECODE_LIMIT_BYTES: usize = 256 * 1024 * 1024;

/// True when `png` is (nearly) one flat colour, is empty, or cannot be decoded.
#[must_use]
pub fn is_blank(png: &[u8]) -> bool {
    match sample(png) {
        Some(pixels) => uniform(&pixels),
        None => true,
    }
}

/// Decodes `png` to 8-bit colour and returns up to [`MAX_SAMPLES`] RGB samples on a grid;
/// `None` when the bytes are not a decodable, non-empty PNG.
fn sample(png: &[u8]) -> Option<Vec<[u8; 3]>> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(png),
        png::Limits {
            bytes: DECODE_LIMIT_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut buffer = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buffer).ok()?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        // `EXPAND` turns palettes into RGB(A); anything else is not a screenshot we understand.
        png::ColorType::Indexed => return None,
    };
    let (width, height) = (info.width as usize, info.height as usize);
    if width == 0 || height == 0 {
        return None;
    }
    // One sample every `step` pixels in both directions keeps the grid within MAX_SAMPLES.
    let step = (width * height / MAX_SAMPLES).isqrt().max(1);
    let mut pixels = Vec::with_capacity((width / step + 1) * (height / step + 1));
    for y in (0..height).step_by(step) {
        let row = buffer.get(y * info.line_size..)?;
        for x in (0..width).step_by(step) {
            let px = row.get(x * channels..x * channels + channels)?;
            pixels.push(if channels < 3 {
                [px[0], px[0], px[0]]
            } else {
                [px[0], px[1], px[2]]
            });
        }
    }
    Some(pixels)
}

/// True when at most [`MAX_DIFFERENT_SHARE`] of `pixels` is farther than [`TOLERANCE`] from the
/// dominant colour (the mean of the most common 4-bit-per-channel bucket).
fn uniform(pixels: &[[u8; 3]]) -> bool {
    let bucket = |p: &[u8; 3]| {
        (usize::from(p[0] >> 4) << 8) | (usize::from(p[1] >> 4) << 4) | usize::from(p[2] >> 4)
    };
    let mut counts = vec![0_usize; 1 << 12];
    for p in pixels {
        counts[bucket(p)] += 1;
    }
    let Some(dominant) = (0..counts.len()).max_by_key(|&b| counts[b]) else {
        return true;
    };
    let mut sum = [0_u64; 3];
    for p in pixels.iter().filter(|p| bucket(p) == dominant) {
        for (total, channel) in sum.iter_mut().zip(p) {
            *total += u64::from(*channel);
        }
    }
    let members = counts[dominant].max(1) as u64;
    let reference = sum.map(|total| total / members);
    let different = pixels
        .iter()
        .filter(|p| {
            p.iter()
                .zip(reference)
                .any(|(channel, mean)| u64::from(*channel).abs_diff(mean) > u64::from(TOLERANCE))
        })
        .count();
    (different as f64) <= MAX_DIFFERENT_SHARE * pixels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes an RGB image whose pixel at (x, y) is `paint(x, y)`.
    fn png_rgb(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&paint(x, y));
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(&data).expect("png data");
        writer.finish().expect("png end");
        out
    }

    #[test]
    fn all_white_is_blank() {
        assert!(is_blank(&png_rgb(320, 200, |_, _| [255, 255, 255])));
    }

    #[test]
    fn all_black_is_blank() {
        assert!(is_blank(&png_rgb(320, 200, |_, _| [0, 0, 0])));
    }

    #[test]
    fn grey_with_faint_noise_is_blank() {
        assert!(is_blank(&png_rgb(320, 200, |x, y| {
            let v = 128 + ((x + y) % 5) as u8;
            [v, v, v]
        })));
    }

    #[test]
    fn small_logo_on_white_is_blank() {
        // A 20×20 logo in a 320×256 frame: 0.5 % of the pixels, like Instagram's loading splash.
        assert!(is_blank(&png_rgb(320, 256, |x, y| {
            if (150..170).contains(&x) && (118..138).contains(&y) {
                [214, 41, 118]
            } else {
                [255, 255, 255]
            }
        })));
    }

    #[test]
    fn profile_like_mixed_image_is_not_blank() {
        // White page, a coloured avatar disc and dark text bars, as a profile header looks.
        assert!(!is_blank(&png_rgb(640, 200, |x, y| {
            let (dx, dy) = (i64::from(x) - 100, i64::from(y) - 100);
            if dx * dx + dy * dy < 75 * 75 {
                [(x % 256) as u8, 80, 200]
            } else if (250..600).contains(&x) && (40..60).contains(&y) && x % 9 < 6 {
                [38, 38, 38]
            } else {
                [250, 250, 250]
            }
        })));
    }

    #[test]
    fn gradient_is_not_blank() {
        assert!(!is_blank(&png_rgb(256, 64, |x, _| [
            x as u8,
            0,
            255 - x as u8
        ])));
    }

    #[test]
    fn garbage_and_empty_bytes_are_blank() {
        assert!(is_blank(b"not a png at all"));
        assert!(is_blank(&[]));
        let mut truncated = png_rgb(64, 64, |x, _| [x as u8, 10, 10]);
        truncated.truncate(truncated.len() / 2);
        assert!(is_blank(&truncated));
    }

    #[test]
    fn grayscale_png_is_decoded() {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 100, 10);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        let data: Vec<u8> = (0..1000).map(|i| ((i % 100) * 2) as u8).collect();
        writer.write_image_data(&data).expect("png data");
        writer.finish().expect("png end");
        assert!(!is_blank(&out));
    }
}
