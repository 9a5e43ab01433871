//! QR codes of a payment link: drawn in the terminal with Unicode half blocks, or written as SVG
//! or PNG (by the file's extension).

use std::path::Path;

use qrcode::{Color, QrCode};

use crate::error::CliError;

/// Modules of quiet zone around the code (the standard asks for 4).
const QUIET: usize = 4;

fn code(data: &str) -> Result<QrCode, CliError> {
    QrCode::new(data.as_bytes()).map_err(|e| CliError::Validation(format!("QR code: {e}")))
}

/// Whether the module at (x, y), quiet zone included, is dark.
fn dark(colors: &[Color], width: usize, x: usize, y: usize) -> bool {
    if x < QUIET || y < QUIET || x >= width + QUIET || y >= width + QUIET {
        return false;
    }
    colors[(y - QUIET) * width + (x - QUIET)] == Color::Dark
}

/// The code as text: two module rows per line with `▀`, `▄`, `█` and spaces. Light modules
/// are drawn (as blocks) and dark ones left blank, which scans on the usual dark terminal.
pub(crate) fn terminal(data: &str) -> Result<String, CliError> {
    let code = code(data)?;
    let width = code.width();
    let colors = code.to_colors();
    let side = width + 2 * QUIET;
    let mut out = String::new();
    for y in (0..side).step_by(2) {
        for x in 0..side {
            let top = !dark(&colors, width, x, y);
            let bottom = y + 1 < side && !dark(&colors, width, x, y + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// Writes the code to `path`: PNG when it ends in `.png`, else SVG.
pub(crate) fn write_file(data: &str, path: &Path) -> Result<(), CliError> {
    let code = code(data)?;
    let bytes = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("png") => png(&code, 8)?,
        Some(ext) if ext.eq_ignore_ascii_case("svg") => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .build()
            .into_bytes(),
        _ => {
            return Err(CliError::Usage(
                "--qr-out: the file name must end in .svg or .png".into(),
            ))
        }
    };
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Other(format!("writing {}: {e}", path.display())))
}

/// A greyscale PNG (8 bits) of the code, `scale` pixels per module (encoded by the `png` crate).
fn png(code: &QrCode, scale: usize) -> Result<Vec<u8>, CliError> {
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * scale;
    let mut pixels = Vec::with_capacity(side * side);
    for py in 0..side {
        for px in 0..side {
            let is_dark = dark(&colors, width, px / scale, py / scale);
            pixels.push(if is_dark { 0 } else { 255 });
        }
    }
    let side32 = u32::try_from(side).map_err(|_| CliError::Other("QR code too large".into()))?;
    let failed = |e: png::EncodingError| CliError::Other(format!("encoding the PNG: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_code_is_square_with_quiet_zone() {
        let text = terminal("https://pay.example/x").expect("encodes");
        let lines: Vec<&str> = text.lines().collect();
        let side = lines[0].chars().count();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == side));
        // The quiet zone is light: the first line is all full blocks.
        assert!(lines[0].chars().all(|c| c == '█'));
    }

    #[test]
    fn png_decodes_to_the_code_s_modules() {
        let code = code("x").expect("encodes");
        let bytes = png(&code, 2).expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("a frame");
        let side = (code.width() + 2 * QUIET) * 2;
        assert_eq!((info.width as usize, info.height as usize), (side, side));
        let colors = code.to_colors();
        for y in 0..side {
            for x in 0..side {
                let expected = if dark(&colors, code.width(), x / 2, y / 2) {
                    0
                } else {
                    255
                };
                assert_eq!(pixels[y * side + x], expected, "pixel {x},{y}");
            }
        }
    }
}
