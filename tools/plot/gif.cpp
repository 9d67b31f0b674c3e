#include "tools/plot/gif.h"

#include <algorithm>
#include <array>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sws::plot {
namespace {

using Palette = std::vector<uint32_t>;  // 0xRRGGBB, at most 256

int channel(uint32_t rgb, int c) { return int((rgb >> (16 - 8 * c)) & 0xFF); }

// Median cut: splits the colours (with pixel counts) into at most `slots` boxes, each time the
// box with the largest spread along its widest channel, at its weighted median, and returns each
// box's weighted mean.
Palette median_cut(std::vector<std::pair<uint32_t, uint64_t>> colours, size_t slots) {
  struct Box {
    size_t begin, end;
  };
  std::vector<Box> boxes;
  if (!colours.empty()) boxes.push_back({0, colours.size()});
  // The channel with the largest spread in a box, and that spread as a sum of squared
  // deviations weighted by pixel count: the box whose split removes the most error goes first.
  auto spread = [&](const Box& b, int& which) {
    double best = -1;
    for (int c = 0; c < 3; ++c) {
      double n = 0, sum = 0, sum2 = 0;
      for (size_t i = b.begin; i < b.end; ++i) {
        double v = channel(colours[i].first, c), w = double(colours[i].second);
        n += w, sum += w * v, sum2 += w * v * v;
      }
      double sse = sum2 - sum * sum / n;
      if (sse > best) best = sse, which = c;
    }
    return best;
  };
  while (boxes.size() < slots) {
    int split = -1, split_channel = 0;
    double best_spread = 0;
    for (size_t k = 0; k < boxes.size(); ++k) {
      if (boxes[k].end - boxes[k].begin < 2) continue;
      int c = 0;
      double s = spread(boxes[k], c);
      if (s > best_spread) best_spread = s, split = int(k), split_channel = c;
    }
    if (split < 0) break;  // every box holds one colour
    Box b = boxes[size_t(split)];
    std::sort(colours.begin() + long(b.begin), colours.begin() + long(b.end),
              [&](const auto& x, const auto& y) {
                return channel(x.first, split_channel) < channel(y.first, split_channel);
              });
    uint64_t total = 0, running = 0;
    for (size_t i = b.begin; i < b.end; ++i) total += colours[i].second;
    size_t middle = b.begin + 1;
    for (size_t i = b.begin; i + 1 < b.end; ++i) {
      running += colours[i].second;
      middle = i + 1;
      if (running * 2 >= total) break;
    }
    boxes[size_t(split)] = {b.begin, middle};
    boxes.push_back({middle, b.end});
  }
  Palette out;
  for (const Box& b : boxes) {
    double sum[3] = {0, 0, 0}, weight = 0;
    for (size_t i = b.begin; i < b.end; ++i) {
      for (int c = 0; c < 3; ++c) sum[c] += double(channel(colours[i].first, c)) * double(colours[i].second);
      weight += double(colours[i].second);
    }
    uint32_t rgb = 0;
    for (int c = 0; c < 3; ++c) rgb = (rgb << 8) | uint32_t(std::clamp(sum[c] / weight + 0.5, 0.0, 255.0));
    out.push_back(rgb);
  }
  return out;
}

// One palette for all frames: exact when it fits, else the most frequent colours exactly plus a
// median cut of the others.
Palette build_palette(const std::unordered_map<uint32_t, uint64_t>& counts) {
  std::vector<std::pair<uint32_t, uint64_t>> colours(counts.begin(), counts.end());
  // Most frequent first (ties by colour, so the palette does not depend on hash order).
  std::sort(colours.begin(), colours.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (colours.size() <= 256) {
    Palette p;
    for (const auto& c : colours) p.push_back(c.first);
    return p;
  }
  // Exact entries only for colours that cover an area (at least 0.01% of all pixels, and 16):
  // single-pixel shades would waste slots the median cut spreads better.
  constexpr size_t kMaxExact = 128;
  uint64_t total = 0;
  for (const auto& c : colours) total += c.second;
  const uint64_t area = std::max<uint64_t>(16, total / 10000);
  size_t exact = 0;
  while (exact < kMaxExact && colours[exact].second >= area) ++exact;
  Palette p;
  for (size_t i = 0; i < exact; ++i) p.push_back(colours[i].first);
  Palette rest = median_cut({colours.begin() + long(exact), colours.end()}, 256 - exact);
  p.insert(p.end(), rest.begin(), rest.end());
  return p;
}

// Index of the palette entry nearest to `rgb` (squared distance weighted 2:4:3 for R:G:B, a
// cheap stand-in for perceived difference).
uint8_t nearest(const Palette& palette, uint32_t rgb) {
  int best = 0;
  long best_distance = -1;
  for (size_t i = 0; i < palette.size(); ++i) {
    long d = 0;
    static constexpr int weight[3] = {2, 4, 3};
    for (int c = 0; c < 3; ++c) {
      long diff = channel(rgb, c) - channel(palette[i], c);
      d += weight[c] * diff * diff;
    }
    if (best_distance < 0 || d < best_distance) best_distance = d, best = int(i);
    if (d == 0) break;
  }
  return uint8_t(best);
}

void put16(std::vector<uint8_t>& out, int v) {
  out.push_back(uint8_t(v & 0xFF));
  out.push_back(uint8_t((v >> 8) & 0xFF));
}

// GIF's LZW: 8-bit symbols, codes from 9 to 12 bits written least-significant bit first, a
// clear code first and whenever the 4096-entry table is full, the end code last; the output is
// cut into sub-blocks of at most 255 bytes.
class LzwWriter {
 public:
  LzwWriter() : child_(size_t(kMaxCodes) * 256, 0) {}

  void encode(const std::vector<uint8_t>& symbols, std::vector<uint8_t>& out) {
    bytes_.clear(), bits_ = 0, bit_count_ = 0;
    reset();
    emit(kClear);
    uint32_t prefix = symbols.empty() ? 0 : symbols[0];
    for (size_t i = 1; i < symbols.size(); ++i) {
      uint8_t k = symbols[i];
      uint16_t& slot = child_[size_t(prefix) * 256 + k];
      if (slot) {
        prefix = slot;
        continue;
      }
      emit(prefix);
      slot = uint16_t(next_code_);
      touched_.push_back(size_t(prefix) * 256 + k);
      ++next_code_;
      // The decoder, one entry behind, widens its codes when this entry is added.
      if (next_code_ > (1u << code_size_) && code_size_ < 12) ++code_size_;
      if (next_code_ == kMaxCodes) {
        emit(kClear);
        reset();
      }
      prefix = k;
    }
    emit(prefix);
    emit(kEnd);
    if (bit_count_ > 0) bytes_.push_back(uint8_t(bits_));
    out.push_back(8);  // minimum code size: 8-bit palette indices
    for (size_t i = 0; i < bytes_.size(); i += 255) {
      size_t n = std::min<size_t>(255, bytes_.size() - i);
      out.push_back(uint8_t(n));
      out.insert(out.end(), bytes_.begin() + long(i), bytes_.begin() + long(i + n));
    }
    out.push_back(0);  // block terminator
  }

 private:
  static constexpr uint32_t kClear = 256, kEnd = 257, kMaxCodes = 4096;

  void reset() {
    for (size_t t : touched_) child_[t] = 0;
    touched_.clear();
    next_code_ = kEnd + 1;
    code_size_ = 9;
  }
  void emit(uint32_t code) {
    bits_ |= uint64_t(code) << bit_count_;
    bit_count_ += code_size_;
    while (bit_count_ >= 8) {
      bytes_.push_back(uint8_t(bits_));
      bits_ >>= 8;
      bit_count_ -= 8;
    }
  }

  std::vector<uint16_t> child_;  // code of (prefix code, next symbol), 0 = absent
  std::vector<size_t> touched_;  // entries to clear on reset (cheaper than the whole table)
  uint32_t next_code_ = kEnd + 1, code_size_ = 9;
  std::vector<uint8_t> bytes_;
  uint64_t bits_ = 0;
  uint32_t bit_count_ = 0;
};

}  // namespace

GifEncoder::GifEncoder(int width, int height, int loop_count)
    : width_(width), height_(height), loop_count_(loop_count) {
  SWS_CHECK(width > 0 && height > 0 && width <= 65535 && height <= 65535,
            "GIF size " + std::to_string(width) + "x" + std::to_string(height) + " is out of range 1..65535");
  SWS_CHECK(loop_count >= -1 && loop_count <= 65535,
            "GIF loop count " + std::to_string(loop_count) + " is out of range -1..65535");
}

void GifEncoder::add_frame(const Canvas& frame, int delay_centiseconds) {
  SWS_CHECK(frame.width() == width_ && frame.height() == height_,
            "GIF frame is " + std::to_string(frame.width()) + "x" + std::to_string(frame.height()) +
                " but the animation is " + std::to_string(width_) + "x" + std::to_string(height_));
  SWS_CHECK(
      delay_centiseconds >= 0 && delay_centiseconds <= 65535,
      "GIF frame delay " + std::to_string(delay_centiseconds) + " is out of range 0..65535 centiseconds");
  Frame f;
  f.delay = delay_centiseconds;
  const uint8_t* p = frame.data();
  const size_t n = size_t(width_) * size_t(height_);
  uint32_t run_colour = 0, run_length = 0;
  for (size_t i = 0; i < n; ++i, p += 3) {
    uint32_t rgb = (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2];
    if (run_length > 0 && rgb == run_colour) {
      ++run_length;
      continue;
    }
    if (run_length > 0) {
      f.runs.insert(f.runs.end(), {run_length, run_colour});
      colour_counts_[run_colour] += run_length;
    }
    run_colour = rgb, run_length = 1;
  }
  f.runs.insert(f.runs.end(), {run_length, run_colour});
  colour_counts_[run_colour] += run_length;
  f.runs.shrink_to_fit();
  frames_.push_back(std::move(f));
}

std::vector<uint8_t> GifEncoder::finish() const {
  SWS_CHECK(!frames_.empty(), "GIF has no frames: call add_frame before finish");
  const Palette palette = build_palette(colour_counts_);
  std::unordered_map<uint32_t, uint8_t> index_of;
  index_of.reserve(colour_counts_.size());
  for (const auto& c : colour_counts_) index_of[c.first] = nearest(palette, c.first);

  std::vector<uint8_t> out;
  auto put_ascii = [&out](const std::string& s) {
    for (char c : s) out.push_back(uint8_t(c));
  };
  put_ascii("GIF89a");
  put16(out, width_), put16(out, height_);
  out.push_back(0xF7);  // global colour table of 2^(7+1) entries, 8 bits per primary
  out.push_back(0);     // background colour index
  out.push_back(0);     // square pixels
  for (size_t i = 0; i < 256; ++i) {
    uint32_t rgb = i < palette.size() ? palette[i] : 0;
    out.insert(out.end(), {uint8_t(rgb >> 16), uint8_t(rgb >> 8), uint8_t(rgb)});
  }
  if (loop_count_ >= 0) {
    out.insert(out.end(), {0x21, 0xFF, 11});
    put_ascii("NETSCAPE2.0");
    out.insert(out.end(), {3, 1});
    put16(out, loop_count_);
    out.push_back(0);
  }

  const size_t n = size_t(width_) * size_t(height_);
  std::vector<uint8_t> previous, current(n), rect;
  LzwWriter lzw;
  for (const Frame& f : frames_) {
    size_t at = 0;
    for (size_t r = 0; r < f.runs.size(); r += 2) {
      std::fill_n(current.begin() + long(at), f.runs[r], index_of.at(f.runs[r + 1]));
      at += f.runs[r];
    }
    // Only the rectangle that changed since the previous frame; the rest stays on screen
    // (disposal "do not dispose"). An unchanged frame still needs a (1x1) image for its delay.
    int x0 = 0, y0 = 0, x1 = width_, y1 = height_;
    if (!previous.empty()) {
      x0 = width_, y0 = height_, x1 = 0, y1 = 0;
      for (int y = 0; y < height_; ++y) {
        const uint8_t* a = &current[size_t(y) * size_t(width_)];
        const uint8_t* b = &previous[size_t(y) * size_t(width_)];
        for (int x = 0; x < width_; ++x)
          if (a[x] != b[x])
            x0 = std::min(x0, x), x1 = std::max(x1, x + 1), y0 = std::min(y0, y), y1 = std::max(y1, y + 1);
      }
      if (x1 <= x0) x0 = 0, y0 = 0, x1 = 1, y1 = 1;
    }
    rect.clear();
    for (int y = y0; y < y1; ++y)
      rect.insert(rect.end(), current.begin() + long(size_t(y) * size_t(width_) + size_t(x0)),
                  current.begin() + long(size_t(y) * size_t(width_) + size_t(x1)));
    out.insert(out.end(), {0x21, 0xF9, 4, 1 << 2});  // graphic control: do not dispose, opaque
    put16(out, f.delay);
    out.insert(out.end(), {0, 0});
    out.push_back(0x2C);  // image descriptor, no local colour table, not interlaced
    put16(out, x0), put16(out, y0), put16(out, x1 - x0), put16(out, y1 - y0);
    out.push_back(0);
    lzw.encode(rect, out);
    previous.swap(current);
    current.resize(n);
  }
  out.push_back(0x3B);  // trailer
  return out;
}

void GifEncoder::write(const std::string& path) const {
  std::vector<uint8_t> bytes = finish();
  write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace sws::plot
