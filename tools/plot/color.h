// Colours for the figures: 8-bit RGB and the Okabe-Ito palette, chosen because its eight colours
// stay distinguishable for the common forms of colour blindness (Okabe & Ito 2008).
#pragma once
#include <cstdint>

namespace sws::plot {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  // From 0xRRGGBB, the form colour tables are written in.
  static constexpr Color hex(uint32_t rgb) {
    return Color{uint8_t(rgb >> 16), uint8_t(rgb >> 8), uint8_t(rgb)};
  }
  bool operator==(const Color& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Color& o) const { return !(*this == o); }
};

// Linear mix: `a` where t = 0, `b` where t = 1 (t is clamped by the caller).
inline Color mix(Color a, Color b, float t) {
  auto m = [t](uint8_t x, uint8_t y) { return uint8_t(x + (float(y) - float(x)) * t + 0.5f); };
  return Color{m(a.r, b.r), m(a.g, b.g), m(a.b, b.b)};
}

namespace colors {
constexpr Color white = Color::hex(0xFFFFFF);
constexpr Color black = Color::hex(0x000000);
constexpr Color grey = Color::hex(0x777777);        // secondary ink: frame, ticks
constexpr Color light_grey = Color::hex(0xE4E4E4);  // grid lines
// Okabe-Ito.
constexpr Color orange = Color::hex(0xE69F00);
constexpr Color sky_blue = Color::hex(0x56B4E9);
constexpr Color bluish_green = Color::hex(0x009E73);
constexpr Color yellow = Color::hex(0xF0E442);
constexpr Color blue = Color::hex(0x0072B2);
constexpr Color vermillion = Color::hex(0xD55E00);
constexpr Color reddish_purple = Color::hex(0xCC79A7);
}  // namespace colors

// The colour of mixture component j in every chart: the zero component (j = 0) always vermillion,
// the free components cycling through other Okabe-Ito colours (yellow left out: too faint on
// white; orange too: too close to vermillion when both are thin lines; black: its translucent
// bands read as heavy grey). Neighbouring components, which sit next to each other, differ.
inline Color component_color(int j) {
  static constexpr Color cycle[] = {colors::blue, colors::bluish_green, colors::reddish_purple,
                                    colors::sky_blue};
  if (j == 0) return colors::vermillion;
  return cycle[(j - 1) % 4];
}

}  // namespace sws::plot
