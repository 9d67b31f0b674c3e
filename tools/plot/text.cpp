#include "tools/plot/text.h"

#include <stb_truetype.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"

// stb_easy_font is all static functions (libstb has no copy of it); some we do not call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace sws::plot {

namespace {

constexpr const char* kDejaVuSans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr int kSubpixels = 4;  // horizontal glyph positions per pixel

// Decodes UTF-8; a malformed byte becomes U+FFFD so that a bad label still draws.
std::vector<uint32_t> decode_utf8(const std::string& text) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + size_t(extra) >= text.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    uint32_t cp = extra == 0 ? c : (c & (0x3F >> extra));
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc >> 6) != 2) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(ok ? cp : 0xFFFD);
    i += ok ? size_t(extra) + 1 : 1;
  }
  return out;
}

// ASCII stand-ins for the few non-ASCII characters the charts use, for the stroke font.
std::string ascii_spelling(const std::vector<uint32_t>& codepoints) {
  std::string out;
  for (uint32_t cp : codepoints) {
    if (cp >= 32 && cp < 127)
      out += char(cp);
    else if (cp == 0x2212 || cp == 0x2013)
      out += '-';
    else if (cp == 0x03C3)
      out += 's';
    else if (cp == 0x03BC)
      out += 'u';
    else if (cp == 0x03C0)
      out += "pi";
    else if (cp == 0x00B1)
      out += "+-";
    else if (cp == 0x00D7)
      out += 'x';
    else if (cp == 0x00B7 || cp == 0x2022)
      out += '.';
    else if (cp == 0x2264)
      out += "<=";
    else if (cp == 0x2265)
      out += ">=";
    else
      out += '?';
  }
  return out;
}

// A text rendered to coverage values (0..255) over its box, row-major.
struct TextMask {
  int width = 0, height = 0;
  std::vector<uint8_t> alpha;
};

struct Glyph {
  int x0 = 0, y0 = 0, width = 0, height = 0;  // bitmap box relative to pen and baseline
  std::vector<uint8_t> bitmap;
};

}  // namespace

struct Font::Impl {
  bool truetype = false;
  std::vector<uint8_t> data;
  stbtt_fontinfo info{};
  int ascent = 0, descent = 0;  // font units
  // Rasterised glyphs by (glyph, size in 1/64 px, subpixel offset): labels repeat the same
  // digits on every frame, so an animation rasterises each glyph once.
  std::mutex mutex;
  std::unordered_map<uint64_t, Glyph> cache;
};

Font::Font(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Font::~Font() = default;
bool Font::is_truetype() const { return impl_->truetype; }

std::shared_ptr<Font> Font::from_file(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->truetype = true;
  impl->data = read_whole_file(path, size_t(64) << 20);
  int offset = stbtt_GetFontOffsetForIndex(impl->data.data(), 0);
  SWS_CHECK(offset >= 0 && stbtt_InitFont(&impl->info, impl->data.data(), offset),
            "'" + path + "' is not a TrueType font that stb_truetype can read");
  int line_gap = 0;
  stbtt_GetFontVMetrics(&impl->info, &impl->ascent, &impl->descent, &line_gap);
  return std::make_shared<Font>(std::move(impl));
}

const Font& Font::builtin() {
  static const Font font(std::make_unique<Impl>());
  return font;
}

const Font& Font::default_font() {
  static const std::shared_ptr<Font> font = []() -> std::shared_ptr<Font> {
    try {
      return from_file(kDejaVuSans);
    } catch (const Error& e) {
      std::fprintf(stderr,
                   "sws plot: %s\nsws plot: using the coarse built-in font instead; for proper text "
                   "install DejaVu Sans (apt-get install fonts-dejavu-core)\n",
                   e.what());
      return nullptr;
    }
  }();
  return font ? *font : builtin();
}

// Lays out and rasterises text for either kind of font.
struct TextRenderer {
  struct Placed {
    int glyph, pen_x, subpixel;
  };
  struct Layout {
    int left = 0, top = 0, right = 0, bottom = 0;  // box relative to the pen start and baseline
    std::vector<Placed> glyphs;
  };

  static float scale(const Font::Impl& f, float size) {
    return stbtt_ScaleForMappingEmToPixels(&f.info, size);
  }

  static Layout layout_truetype(const Font::Impl& f, const std::string& text, float size) {
    Layout out;
    const float s = scale(f, size);
    out.top = int(std::floor(-f.ascent * s));
    out.bottom = int(std::ceil(-f.descent * s));
    float pen = 0;
    int previous = 0;
    for (uint32_t cp : decode_utf8(text)) {
      int glyph = stbtt_FindGlyphIndex(&f.info, int(cp));
      if (previous) pen += s * float(stbtt_GetGlyphKernAdvance(&f.info, previous, glyph));
      int pen_x = int(std::floor(pen));
      int sub = std::min(kSubpixels - 1, int((pen - float(pen_x)) * kSubpixels));
      int x0, y0, x1, y1;
      stbtt_GetGlyphBitmapBoxSubpixel(&f.info, glyph, s, s, float(sub) / kSubpixels, 0.f, &x0, &y0, &x1, &y1);
      if (x1 > x0 && y1 > y0) {
        out.left = std::min(out.left, pen_x + x0), out.right = std::max(out.right, pen_x + x1);
        out.top = std::min(out.top, y0), out.bottom = std::max(out.bottom, y1);
      }
      out.glyphs.push_back({glyph, pen_x, sub});
      int advance, left_bearing;
      stbtt_GetGlyphHMetrics(&f.info, glyph, &advance, &left_bearing);
      pen += s * float(advance);
      previous = glyph;
    }
    out.right = std::max(out.right, int(std::ceil(pen)));
    return out;
  }

  static const Glyph& glyph(Font::Impl& f, const Placed& p, float size) {
    uint64_t key =
        (uint64_t(uint32_t(p.glyph)) << 32) | (uint64_t(std::lround(size * 64)) << 4) | uint64_t(p.subpixel);
    auto it = f.cache.find(key);
    if (it != f.cache.end()) return it->second;
    Glyph g;
    const float s = scale(f, size), shift = float(p.subpixel) / kSubpixels;
    int x1, y1;
    stbtt_GetGlyphBitmapBoxSubpixel(&f.info, p.glyph, s, s, shift, 0.f, &g.x0, &g.y0, &x1, &y1);
    g.width = std::max(0, x1 - g.x0), g.height = std::max(0, y1 - g.y0);
    g.bitmap.assign(size_t(g.width) * size_t(g.height), 0);
    if (g.width > 0 && g.height > 0)
      stbtt_MakeGlyphBitmapSubpixel(&f.info, g.bitmap.data(), g.width, g.height, g.width, s, s, shift, 0.f,
                                    p.glyph);
    return f.cache.emplace(key, std::move(g)).first->second;
  }

  static TextMask render_truetype(Font::Impl& f, const std::string& text, float size) {
    Layout l = layout_truetype(f, text, size);
    TextMask m{l.right - l.left, l.bottom - l.top, {}};
    m.alpha.assign(size_t(m.width) * size_t(m.height), 0);
    std::lock_guard<std::mutex> lock(f.mutex);
    for (const Placed& p : l.glyphs) {
      const Glyph& g = glyph(f, p, size);
      for (int y = 0; y < g.height; ++y)
        for (int x = 0; x < g.width; ++x) {
          uint8_t& a =
              m.alpha[size_t(g.y0 + y - l.top) * size_t(m.width) + size_t(p.pen_x + g.x0 + x - l.left)];
          a = std::max(a, g.bitmap[size_t(y) * size_t(g.width) + size_t(x)]);
        }
    }
    return m;
  }

  // The stroke font: quads in units where capitals are 7 high, scaled so they match DejaVu's
  // cap height (0.73 em).
  static constexpr float kBuiltinUnitsPerEm = 9.6f;

  static std::vector<float> builtin_quads(const std::string& ascii) {
    std::vector<char> buffer(ascii.size() * 300 + 64);
    std::string text = ascii;  // stb_easy_font takes a char*
    int quads = stb_easy_font_print(0, 0, text.data(), nullptr, buffer.data(), int(buffer.size()));
    std::vector<float> boxes;  // x0 y0 x1 y1 per quad
    for (int q = 0; q < quads; ++q) {
      const char* v = buffer.data() + q * 64;  // 4 vertices of 16 bytes: x, y, z, rgba
      float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
      for (int k = 0; k < 4; ++k) {
        float x, y;
        std::memcpy(&x, v + k * 16, 4), std::memcpy(&y, v + k * 16 + 4, 4);
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
      boxes.insert(boxes.end(), {x0, y0, x1, y1});
    }
    return boxes;
  }

  static TextMask render_builtin(const std::string& text, float size, bool draw) {
    std::string ascii = ascii_spelling(decode_utf8(text));
    const float s = size / kBuiltinUnitsPerEm;
    std::vector<float> boxes = builtin_quads(ascii);
    float right = float(stb_easy_font_width(ascii.data())) * s, bottom = 10.f * s;
    for (size_t i = 0; i < boxes.size(); i += 4)
      right = std::max(right, boxes[i + 2] * s), bottom = std::max(bottom, boxes[i + 3] * s);
    TextMask m{int(std::ceil(right)), int(std::ceil(bottom)), {}};
    if (!draw) return m;
    // Exact area coverage of each scaled quad, summed and clamped.
    std::vector<float> cover(size_t(m.width) * size_t(m.height), 0.f);
    for (size_t i = 0; i < boxes.size(); i += 4) {
      float x0 = boxes[i] * s, y0 = boxes[i + 1] * s, x1 = boxes[i + 2] * s, y1 = boxes[i + 3] * s;
      for (int y = std::max(0, int(y0)); y < std::min(m.height, int(std::ceil(y1))); ++y)
        for (int x = std::max(0, int(x0)); x < std::min(m.width, int(std::ceil(x1))); ++x) {
          float w = std::min(x1, float(x + 1)) - std::max(x0, float(x));
          float h = std::min(y1, float(y + 1)) - std::max(y0, float(y));
          if (w > 0 && h > 0) cover[size_t(y) * size_t(m.width) + size_t(x)] += w * h;
        }
    }
    m.alpha.resize(cover.size());
    for (size_t i = 0; i < cover.size(); ++i)
      m.alpha[i] = uint8_t(std::lround(std::min(cover[i], 1.f) * 255));
    return m;
  }

  static TextSize measure(const Font& font, const std::string& text, float size) {
    if (!font.impl_->truetype) {
      TextMask m = render_builtin(text, size, false);
      return {m.width, m.height};
    }
    Layout l = layout_truetype(*font.impl_, text, size);
    return {l.right - l.left, l.bottom - l.top};
  }

  static TextMask render(const Font& font, const std::string& text, float size) {
    if (!font.impl_->truetype) return render_builtin(text, size, true);
    return render_truetype(*font.impl_, text, size);
  }
};

TextSize Font::measure(const std::string& text, float size) const {
  SWS_CHECK(size > 0 && size < 1000,
            "text size " + std::to_string(size) + " is out of range (0, 1000) pixels");
  return TextRenderer::measure(*this, text, size);
}

namespace {

const Font& font_of(const TextStyle& style) { return style.font ? *style.font : Font::default_font(); }

// Where the box of `size` (as it appears on the canvas) goes for this anchor.
Rect place(TextSize size, double x, double y, const TextStyle& style) {
  int w = style.vertical ? size.height : size.width, h = style.vertical ? size.width : size.height;
  double fx = style.align == Align::left ? 0 : style.align == Align::centre ? 0.5 : 1;
  double fy = style.valign == VAlign::top ? 0 : style.valign == VAlign::middle ? 0.5 : 1;
  int x0 = int(std::lround(x - fx * w)), y0 = int(std::lround(y - fy * h));
  return Rect{x0, y0, x0 + w, y0 + h};
}

}  // namespace

Rect text_rect(const std::string& text, double x, double y, const TextStyle& style) {
  return place(font_of(style).measure(text, style.size), x, y, style);
}

Rect draw_text(Canvas& canvas, const std::string& text, double x, double y, const TextStyle& style) {
  const Font& font = font_of(style);
  font.measure(text, style.size);  // validates the size
  TextMask m = TextRenderer::render(font, text, style.size);
  Rect r = place({m.width, m.height}, x, y, style);
  for (int my = 0; my < m.height; ++my)
    for (int mx = 0; mx < m.width; ++mx) {
      uint8_t a = m.alpha[size_t(my) * size_t(m.width) + size_t(mx)];
      if (a == 0) continue;
      // Counter-clockwise rotation: the text's left end goes to the bottom.
      int cx = style.vertical ? r.x0 + my : r.x0 + mx;
      int cy = style.vertical ? r.y0 + (m.width - 1 - mx) : r.y0 + my;
      canvas.blend(cx, cy, style.color, float(a) / 255.f);
    }
  return r;
}

std::string with_thousands_separators(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace sws::plot
