// Text on a Canvas: DejaVu Sans through stb_truetype, anti-aliased glyphs blended in the text
// colour, measured boxes for alignment, and 90-degree rotation for y-axis labels.
//
// Font: /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf (Debian package fonts-dejavu-core), read
// once per process. If that file is missing, the default font falls back to stb_easy_font's
// built-in stroke font (ASCII only, coarser) and says so once on stderr, so that figures still
// come out on a machine without the package; install fonts-dejavu-core for paper-quality text.
#pragma once
#include <memory>
#include <string>

#include "tools/plot/canvas.h"

namespace sws::plot {

// The size of a text's box: it holds every glyph's ink and the font's full line height (ascent
// to descent), so boxes of different strings at one size align and nothing drawn leaves them.
struct TextSize {
  int width = 0, height = 0;
};

class Font {
 public:
  // The process-wide font: DejaVu Sans, or the built-in stroke font if it is missing (see above).
  static const Font& default_font();
  // stb_easy_font's stroke font, scaled and anti-aliased. Non-ASCII characters print as close
  // ASCII spellings (sigma -> s, minus -> -) or '?'.
  static const Font& builtin();
  // A TrueType font read from `path`; throws sws::Error if it is unreadable or not a font.
  static std::shared_ptr<Font> from_file(const std::string& path);

  // True for a TrueType font, false for the built-in stroke font.
  bool is_truetype() const;
  // The box of `text` (UTF-8) at a size of `size` pixels per em.
  TextSize measure(const std::string& text, float size) const;

  struct Impl;
  explicit Font(std::unique_ptr<Impl> impl);
  ~Font();

 private:
  std::unique_ptr<Impl> impl_;
  friend struct TextRenderer;
};

enum class Align { left, centre, right };   // where the anchor's x is on the box
enum class VAlign { top, middle, bottom };  // where the anchor's y is on the box

struct TextStyle {
  float size = 13.f;  // pixels per em
  Color color = colors::black;
  Align align = Align::left;
  VAlign valign = VAlign::top;
  // Rotated 90 degrees counter-clockwise (reads bottom to top, like a y-axis label); align and
  // valign then refer to the rotated box as it appears on the canvas.
  bool vertical = false;
  const Font* font = nullptr;  // nullptr: Font::default_font()
};

// The canvas rectangle draw_text would cover for this anchor and style, without drawing: what
// layouts use to keep labels apart and inside the image.
Rect text_rect(const std::string& text, double x, double y, const TextStyle& style);

// Draws `text` (UTF-8, one line) anchored at (x, y) and returns the rectangle it occupies (every
// pixel it changed lies inside).
Rect draw_text(Canvas& canvas, const std::string& text, double x, double y, const TextStyle& style);

// 431080 -> "431,080", for counts in captions.
std::string with_thousands_separators(uint64_t n);

}  // namespace sws::plot
