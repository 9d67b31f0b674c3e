// CPU convolution (im2col + GEMM) and max-pooling.
//
// Forward, per group G of images:  cols[K, G*P] = im2col(x_G);  out_G[O, G*P] = W[O, K] @ cols
// Backward, per group:  dW += g_G[O, G*P] @ cols^T;  dcols = W^T @ g_G;  dx_G = col2im(dcols)
// with K = C*KH*KW and P = OH*OW. Groups (a few images when P is small, so that GEMMs are not
// thin) are split statically across OpenMP threads and each thread accumulates dW in its own
// buffer; the buffers are added in thread order, so the result is deterministic for a given
// thread count. The GEMMs run single-threaded inside the parallel
// region (OpenBLAS's OpenMP build does that by itself when called from a parallel region).

#include <algorithm>
#include <cstring>
#include <vector>
#include <cmath>

#include "core/cpu_backend.h"

namespace sws {

namespace {

// Where each column entry comes from: source[(c*KH + kh)*KW + kw][oh*OW + ow] is the offset
// of x[c][oh*s - pad + kh][ow*s - pad + kw] within one image, or -1 in the padding. Built once
// per call and shared by every image, it turns im2col into a plain gather (which vectorises)
// and col2im into a scatter-add, with no index arithmetic per image.
struct ColumnMap {
  std::vector<int32_t> source;  // K * P offsets
  bool padded = false;          // whether any entry is -1
};

ColumnMap make_column_map(const Conv2dGeometry& g) {
  const int64_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
  ColumnMap map;
  map.source.resize(static_cast<size_t>(g.in_channels * g.kernel_h * g.kernel_w * p));
  int32_t* out = map.source.data();
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t kh = 0; kh < g.kernel_h; ++kh)
      for (int64_t kw = 0; kw < g.kernel_w; ++kw)
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t x = 0; x < ow; ++x) {
            const int64_t iy = y * g.stride - g.padding + kh, ix = x * g.stride - g.padding + kw;
            const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
            map.padded |= !inside;
            *out++ = inside ? static_cast<int32_t>((c * g.in_h + iy) * g.in_w + ix) : -1;
          }
  return map;
}

// cols[k][j] (rows `ld` apart, so that several images sit side by side) = x at source[k][j].
template <typename T>
void im2col(const T* __restrict x, const ColumnMap& map, int64_t k, int64_t p, T* __restrict cols, int64_t ld) {
  const int32_t* __restrict src = map.source.data();
  for (int64_t r = 0; r < k; ++r, src += p) {
    T* __restrict row = cols + r * ld;
    if (!map.padded) {
      for (int64_t j = 0; j < p; ++j) row[j] = x[src[j]];
    } else {
      for (int64_t j = 0; j < p; ++j) row[j] = src[j] >= 0 ? x[src[j]] : T(0);
    }
  }
}

// Adds each column entry back to the input position it was read from (dx must start at 0).
template <typename T>
void col2im(const T* __restrict cols, const ColumnMap& map, int64_t k, int64_t p, int64_t ld, T* __restrict dx) {
  const int32_t* src = map.source.data();
  for (int64_t r = 0; r < k; ++r, src += p) {
    const T* row = cols + r * ld;
    for (int64_t j = 0; j < p; ++j)
      if (src[j] >= 0) dx[src[j]] += row[j];
  }
}

// 2x2 windows, stride 2, one plane: the common case, written so that it vectorises.
template <typename T>
void max_pool_2x2_plane(const T* __restrict in, int64_t in_w, int64_t oh, int64_t ow, T* __restrict out,
                        int32_t* __restrict idx) {
  const int32_t w = static_cast<int32_t>(in_w);
  for (int64_t y = 0; y < oh; ++y) {
    const T* r0 = in + 2 * y * in_w;
    const T* r1 = r0 + in_w;
    const int32_t base = static_cast<int32_t>(2 * y * in_w);
    for (int64_t xo = 0; xo < ow; ++xo) {
      const int32_t c = static_cast<int32_t>(2 * xo);
      T best = r0[c];
      int32_t at = base + c;
      // '>' keeps the first maximum on ties, as PyTorch does; a NaN wins. Bitwise '|' and
      // selects (no short-circuit branches) let the compiler vectorise this loop.
      const T b = r0[c + 1], d0 = r1[c], d1 = r1[c + 1];
      bool take = (b > best) | (b != b);
      best = take ? b : best;
      at = take ? base + c + 1 : at;
      take = (d0 > best) | (d0 != d0);
      best = take ? d0 : best;
      at = take ? base + w + c : at;
      take = (d1 > best) | (d1 != d1);
      best = take ? d1 : best;
      at = take ? base + w + c + 1 : at;
      out[y * ow + xo] = best;
      idx[y * ow + xo] = at;
    }
  }
}

int thread_count(int64_t work_items) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(pool_threads(), work_items)));
}

}  // namespace

// Images per GEMM: small output planes (P = OH*OW) make thin GEMMs, so several images share
// one, keeping the GEMM's column count near 256 without splitting the batch too coarsely.
static int64_t images_per_gemm(int64_t p, int64_t batch, int threads) {
  const int64_t want = std::max<int64_t>(1, (256 + p - 1) / p);
  const int64_t fair = std::max<int64_t>(1, batch / threads);
  return std::min(want, fair);
}

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor* bias,
                                const Conv2dGeometry& g, Tensor& out) {
  const int64_t k = g.in_channels * g.kernel_h * g.kernel_w, p = g.out_h() * g.out_w();
  const int64_t xsize = g.in_channels * g.in_h * g.in_w, o = g.out_channels;
  const int threads = thread_count(g.batch);
  const int64_t group = images_per_gemm(p, g.batch, threads), groups = (g.batch + group - 1) / group;
  // Per pool thread: columns [K, group*P] and, when group > 1, the GEMM's output [O, group*P].
  // Each group of images is one task, claimed by whichever thread is free; its output does not
  // depend on which.
  const int64_t cols_size = k * group * p, tmp_size = group > 1 ? o * group * p : 0;
  Tensor work = Tensor::empty({pool_threads(), cols_size + tmp_size}, x.dtype());
  const ColumnMap map = make_column_map(g);
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data<T>();
    const T* ws = w.data<T>();
    const T* bs = bias ? bias->data<T>() : nullptr;
    T* ys = out.data<T>();
    T* work_base = work.data<T>();
    parallel_tasks(groups, [&](int64_t gi) {
      T* col = work_base + pool_thread_index() * (cols_size + tmp_size);
      T* tmp = col + cols_size;
      const int64_t first = gi * group, count = std::min(group, g.batch - first), n = count * p;
      for (int64_t i = 0; i < count; ++i) im2col(xs + (first + i) * xsize, map, k, p, col + i * p, n);
      if (group == 1) {  // the GEMM writes the image's output [O, P] directly
        T* y = ys + first * o * p;
        if (bs)
          for (int64_t c = 0; c < o; ++c) std::fill(y + c * p, y + (c + 1) * p, bs[c]);
        blas_gemm(false, false, o, p, k, T(1), ws, k, col, n, bs ? T(1) : T(0), y, p);
        return;
      }
      blas_gemm(false, false, o, n, k, T(1), ws, k, col, n, T(0), tmp, n);
      for (int64_t i = 0; i < count; ++i)  // [O, count*P] -> count x [O, P], plus bias
        for (int64_t c = 0; c < o; ++c) {
          const T* src = tmp + c * n + i * p;
          T* dst = ys + ((first + i) * o + c) * p;
          const T b = bs ? bs[c] : T(0);
          for (int64_t j = 0; j < p; ++j) dst[j] = src[j] + b;
        }
    });
  });
}

void CpuBackend::conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                                 const Conv2dGeometry& g, Tensor* grad_x, Tensor* grad_w,
                                 Tensor* grad_bias) {
  const int64_t k = g.in_channels * g.kernel_h * g.kernel_w, p = g.out_h() * g.out_w();
  const int64_t o = g.out_channels, wsize = o * k, xsize = g.in_channels * g.in_h * g.in_w;
  const int threads = thread_count(g.batch);
  if (grad_bias) sum_per_channel(grad_out, *grad_bias);
  if (!grad_x && !grad_w) return;
  const int64_t group = images_per_gemm(p, g.batch, threads), groups = (g.batch + group - 1) / group;
  // Per slot: columns [K, group*P], the gathered output gradient [O, group*P] (when group > 1),
  // and a dW accumulator. Slot s always takes the same share of the groups (parallel_slots), so
  // the slots' dW partial sums, added in slot order below, do not depend on which thread ran them.
  const int64_t cols_size = k * group * p, tmp_size = group > 1 ? o * group * p : 0;
  const int64_t stride = cols_size + tmp_size + (grad_w ? wsize : 0);
  Tensor work = Tensor::empty({threads, stride}, x.dtype());
  const ColumnMap map = make_column_map(g);
  dispatch_float(x.dtype(), "conv2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data<T>();
    const T* ws = w.data<T>();
    const T* gs = grad_out.data<T>();
    T* work_base = work.data<T>();
    T* dx_base = grad_x ? grad_x->data<T>() : nullptr;
    parallel_slots(threads, groups, [&](int64_t slot, int64_t begin, int64_t end) {
      T* col = work_base + slot * stride;
      T* tmp = col + cols_size;
      T* dw = tmp + tmp_size;
      if (grad_w) std::fill(dw, dw + wsize, T(0));
      for (int64_t gi = begin; gi < end; ++gi) {
        const int64_t first = gi * group, count = std::min(group, g.batch - first), n = count * p;
        const T* gn = gs + first * o * p;
        int64_t ldg = p;
        if (group > 1) {  // count x [O, P] -> [O, count*P]
          for (int64_t i = 0; i < count; ++i)
            for (int64_t c = 0; c < o; ++c)
              std::memcpy(tmp + c * n + i * p, gs + ((first + i) * o + c) * p, p * sizeof(T));
          gn = tmp;
          ldg = n;
        }
        if (grad_w) {
          for (int64_t i = 0; i < count; ++i) im2col(xs + (first + i) * xsize, map, k, p, col + i * p, n);
          blas_gemm(false, true, o, k, n, T(1), gn, ldg, col, n, T(1), dw, k);
        }
        if (grad_x) {
          blas_gemm(true, false, k, n, o, T(1), ws, k, gn, ldg, T(0), col, n);
          for (int64_t i = 0; i < count; ++i) {
            T* dx = dx_base + (first + i) * xsize;
            std::fill(dx, dx + xsize, T(0));
            col2im(col + i * p, map, k, p, n, dx);
          }
        }
      }
    });
    if (grad_w) {
      T* out_dw = grad_w->data<T>();
      const T* first_dw = work_base + cols_size + tmp_size;
      std::memcpy(out_dw, first_dw, wsize * sizeof(T));
      for (int t = 1; t < threads; ++t) {
        const T* part = first_dw + t * stride;
        for (int64_t i = 0; i < wsize; ++i) out_dw[i] += part[i];
      }
    }
  });
}

void CpuBackend::max_pool2d_forward(const Tensor& x, const Pool2dGeometry& g, Tensor& out,
                                    Tensor& argmax) {
  const int64_t planes = g.batch * g.channels, oh = g.out_h(), ow = g.out_w();
  dispatch_float(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data<T>();
    T* ys = out.data<T>();
    int32_t* idx = argmax.data<int32_t>();
    parallel_for(planes, x.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const T* in = xs + pl * g.in_h * g.in_w;
        T* out_plane = ys + pl * oh * ow;
        int32_t* idx_plane = idx + pl * oh * ow;
        if (g.kernel == 2 && g.stride == 2) {
          max_pool_2x2_plane(in, g.in_w, oh, ow, out_plane, idx_plane);
          continue;
        }
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t xo = 0; xo < ow; ++xo) {
            const int64_t corner = y * g.stride * g.in_w + xo * g.stride;
            T best = in[corner];
            int64_t best_i = corner;
            for (int64_t ky = 0; ky < g.kernel; ++ky)
              for (int64_t kx = 0; kx < g.kernel; ++kx) {
                const int64_t i = corner + ky * g.in_w + kx;
                // '>' keeps the first maximum on ties, as PyTorch does; a NaN wins and stays.
                if (in[i] > best || std::isnan(in[i])) {
                  best = in[i];
                  best_i = i;
                }
              }
            out_plane[y * ow + xo] = best;
            idx_plane[y * ow + xo] = static_cast<int32_t>(best_i);
          }
      }
    });
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& argmax,
                                     const Pool2dGeometry& g, Tensor& grad_x) {
  const int64_t planes = g.batch * g.channels, out_plane = g.out_h() * g.out_w();
  const int64_t in_plane = g.in_h * g.in_w;
  dispatch_float(grad_out.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* gs = grad_out.data<T>();
    const int32_t* idx = argmax.data<int32_t>();
    T* dx = grad_x.data<T>();
    parallel_for(planes, grad_x.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        T* d = dx + pl * in_plane;
        std::fill(d, d + in_plane, T(0));
        for (int64_t i = 0; i < out_plane; ++i) d[idx[pl * out_plane + i]] += gs[pl * out_plane + i];
      }
    });
  });
}

}  // namespace sws
