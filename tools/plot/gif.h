// An animated-GIF encoder (GIF89a): one frame per call, e.g. one histogram per retraining epoch.
//
// Frames are kept run-length coded (plots are mostly flat colour: tens of kB a frame) until
// finish(), which builds one global palette for the whole animation (the exact colours if there
// are at most 256; otherwise up to 128 colours that cover areas exactly, so flat regions keep
// their colour, plus median-cut colours for the rest, mostly anti-aliasing shades), maps every pixel to
// its nearest palette entry without dithering (lines stay crisp), and LZW-codes each frame as the
// rectangle that changed since the previous one. The file loops forever (NETSCAPE2.0) unless
// told otherwise.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tools/plot/canvas.h"

namespace sws::plot {

class GifEncoder {
 public:
  // Frames of width x height pixels (1..65535). loop_count: 0 = forever, n = play n + 1 times
  // (the NETSCAPE2.0 convention), -1 = play once, no looping extension.
  GifEncoder(int width, int height, int loop_count = 0);

  // Appends `frame` (which must have the encoder's size), shown for delay_centiseconds (1/100 s,
  // 0..65535; browsers treat delays below 2 as 10).
  void add_frame(const Canvas& frame, int delay_centiseconds);
  int frame_count() const { return int(frames_.size()); }

  // The GIF file. Throws sws::Error if no frame was added. The encoder can be finished again
  // (same bytes) or given more frames afterwards.
  std::vector<uint8_t> finish() const;
  // finish() written to `path` atomically (temporary name, then rename).
  void write(const std::string& path) const;

 private:
  struct Frame {
    std::vector<uint32_t> runs;  // pairs: run length, 0xRRGGBB
    int delay = 0;
  };
  int width_, height_, loop_count_;
  std::vector<Frame> frames_;
  std::unordered_map<uint32_t, uint64_t> colour_counts_;  // pixels per colour, all frames
};

}  // namespace sws::plot
