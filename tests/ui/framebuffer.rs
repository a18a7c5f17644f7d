//! Screenshots from the X server itself: Xvfb keeps its screen in a file
//! (`-fbdir`, XWD format), read here and saved as PNG. The app draws without GPU
//! compositing (it saves ~80 MiB), and WebKitWebDriver's own screenshots hang then.

use std::path::Path;

/// The 25 big-endian 32-bit fields of an XWD header (X11 `XWDFileHeader`).
const HEADER_FIELDS: usize = 25;
const COLOR_ENTRY_BYTES: usize = 12;

/// A rectangle of the screen, in pixels.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Xvfb's screen 0 as it is now.
pub struct Screen {
    width: u32,
    height: u32,
    bytes_per_line: usize,
    little_endian: bool,
    masks: [u32; 3],
    pixels: Vec<u8>,
}

impl Screen {
    /// Reads `Xvfb_screen0` from the directory given to Xvfb's `-fbdir`.
    pub fn read(fbdir: &Path) -> Result<Screen, String> {
        let path = fbdir.join("Xvfb_screen0");
        let file = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Screen::parse(file)
    }

    fn parse(file: Vec<u8>) -> Result<Screen, String> {
        let field = |index: usize| -> Result<u32, String> {
            let at = index * 4;
            file.get(at..at + 4)
                .and_then(|bytes| bytes.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| "the framebuffer file is shorter than an XWD header".to_owned())
        };
        let header_size = field(0)? as usize;
        let bits_per_pixel = field(11)?;
        if field(1)? != 7 || bits_per_pixel != 32 {
            return Err(format!(
                "an XWD file of version {} with {bits_per_pixel} bits per pixel; \
                 expected version 7, 32 bits (start Xvfb with a 24-bit screen)",
                field(1)?
            ));
        }
        let width = field(4)?;
        let height = field(5)?;
        let bytes_per_line = field(12)? as usize;
        let colors = field(19)? as usize;
        let start = header_size.max(HEADER_FIELDS * 4) + colors * COLOR_ENTRY_BYTES;
        let end = start + bytes_per_line * height as usize;
        let pixels = file
            .get(start..end)
            .ok_or_else(|| format!("the framebuffer file ends before its {width}x{height} pixels"))?
            .to_vec();
        Ok(Screen {
            width,
            height,
            bytes_per_line,
            little_endian: field(7)? == 0,
            masks: [field(14)?, field(15)?, field(16)?],
            pixels,
        })
    }

    fn rgb(&self, x: u32, y: u32) -> [u8; 3] {
        let at = y as usize * self.bytes_per_line + x as usize * 4;
        let bytes: [u8; 4] = self.pixels[at..at + 4].try_into().unwrap_or_default();
        let pixel =
            if self.little_endian { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) };
        self.masks.map(|mask| {
            let shifted = (pixel & mask) >> mask.trailing_zeros();
            let bits = mask.count_ones();
            if bits >= 8 { (shifted >> (bits - 8)) as u8 } else { (shifted << (8 - bits)) as u8 }
        })
    }

    /// Saves `area` (clipped to the screen) as an RGB PNG.
    pub fn save_png(&self, area: Area, path: &Path) -> Result<(), String> {
        let x0 = area.x.min(self.width);
        let y0 = area.y.min(self.height);
        let width = area.width.min(self.width - x0);
        let height = area.height.min(self.height - y0);
        if width == 0 || height == 0 {
            return Err(format!("{area:?} is outside the {}x{} screen", self.width, self.height));
        }
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for y in y0..y0 + height {
            for x in x0..x0 + width {
                data.extend_from_slice(&self.rgb(x, y));
            }
        }
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&data).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x1 screen in XWD form: red then blue, little-endian 0x00RRGGBB pixels.
    fn two_pixels() -> Vec<u8> {
        let mut header = [0u32; HEADER_FIELDS];
        header[0] = (HEADER_FIELDS * 4 + 4) as u32; // and a 4-byte window name
        header[1] = 7;
        header[4] = 2;
        header[5] = 1;
        header[7] = 0;
        header[11] = 32;
        header[12] = 8;
        header[14] = 0x00ff_0000;
        header[15] = 0x0000_ff00;
        header[16] = 0x0000_00ff;
        header[19] = 1;
        let mut file: Vec<u8> = header.iter().flat_map(|f| f.to_be_bytes()).collect();
        file.extend_from_slice(b"Xvfb");
        file.extend_from_slice(&[0; COLOR_ENTRY_BYTES]);
        file.extend_from_slice(&0x00ff_0000u32.to_le_bytes());
        file.extend_from_slice(&0x0000_00ffu32.to_le_bytes());
        file
    }

    #[test]
    fn pixels_come_out_as_rgb_after_the_header_name_and_colour_map() {
        let screen = Screen::parse(two_pixels()).unwrap();
        assert_eq!(screen.rgb(0, 0), [255, 0, 0]);
        assert_eq!(screen.rgb(1, 0), [0, 0, 255]);
    }

    #[test]
    fn a_truncated_file_is_refused_with_why() {
        let mut file = two_pixels();
        file.truncate(file.len() - 2);
        let error = Screen::parse(file).err().unwrap();
        assert!(error.contains("ends before its 2x1 pixels"), "{error}");
    }
}
