// CPU convolution (im2col + GEMM, one image per OpenMP thread) and max-pooling.
//
// Forward, per image n:   cols[K, P] = im2col(x_n);  out_n[O, P] = W[O, K] @ cols + bias
// Backward, per image n:  dW += g_n[O, P] @ cols^T;  dcols = W^T @ g_n;  dx_n = col2im(dcols)
// with K = C*KH*KW and P = OH*OW. Images are split statically across threads and each thread
// accumulates dW in its own buffer; the buffers are added in thread order, so the result is
// deterministic for a given thread count. The GEMMs run single-threaded inside the parallel
// region (OpenBLAS's OpenMP build does that by itself when called from a parallel region).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/cpu_backend.h"

namespace sws {

namespace {

template <typename T>
void im2col(const T* x, const Conv2dGeometry& g, T* cols) {
  const int64_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t kh = 0; kh < g.kernel_h; ++kh)
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        T* row = cols + ((c * g.kernel_h + kh) * g.kernel_w + kw) * p;
        const T* plane = x + c * g.in_h * g.in_w;
        for (int64_t y = 0; y < oh; ++y) {
          const int64_t iy = y * g.stride - g.padding + kh;
          T* dst = row + y * ow;
          if (iy < 0 || iy >= g.in_h) {
            std::fill(dst, dst + ow, T(0));
            continue;
          }
          const T* src = plane + iy * g.in_w;
          if (g.stride == 1 && g.padding == 0) {
            std::memcpy(dst, src + kw, ow * sizeof(T));
            continue;
          }
          for (int64_t xo = 0; xo < ow; ++xo) {
            const int64_t ix = xo * g.stride - g.padding + kw;
            dst[xo] = (ix >= 0 && ix < g.in_w) ? src[ix] : T(0);
          }
        }
      }
}

// Adds each column entry back to the input position it was read from (dx must start at 0).
template <typename T>
void col2im(const T* cols, const Conv2dGeometry& g, T* dx) {
  const int64_t oh = g.out_h(), ow = g.out_w(), p = oh * ow;
  for (int64_t c = 0; c < g.in_channels; ++c)
    for (int64_t kh = 0; kh < g.kernel_h; ++kh)
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const T* row = cols + ((c * g.kernel_h + kh) * g.kernel_w + kw) * p;
        T* plane = dx + c * g.in_h * g.in_w;
        for (int64_t y = 0; y < oh; ++y) {
          const int64_t iy = y * g.stride - g.padding + kh;
          if (iy < 0 || iy >= g.in_h) continue;
          const T* src = row + y * ow;
          T* dst = plane + iy * g.in_w;
          for (int64_t xo = 0; xo < ow; ++xo) {
            const int64_t ix = xo * g.stride - g.padding + kw;
            if (ix >= 0 && ix < g.in_w) dst[ix] += src[xo];
          }
        }
      }
}

int thread_count(int64_t work_items) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), work_items)));
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor* bias,
                                const Conv2dGeometry& g, Tensor& out) {
  const int64_t k = g.in_channels * g.kernel_h * g.kernel_w, p = g.out_h() * g.out_w();
  const int threads = thread_count(g.batch);
  Tensor cols = Tensor::empty({threads, k * p}, x.dtype());
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data<T>();
    const T* ws = w.data<T>();
    const T* bs = bias ? bias->data<T>() : nullptr;
    T* ys = out.data<T>();
    T* col_base = cols.data<T>();
#pragma omp parallel num_threads(threads)
    {
      T* col = col_base + omp_get_thread_num() * k * p;
#pragma omp for schedule(static)
      for (int64_t n = 0; n < g.batch; ++n) {
        T* y = ys + n * g.out_channels * p;
        im2col(xs + n * g.in_channels * g.in_h * g.in_w, g, col);
        if (bs) {
          for (int64_t o = 0; o < g.out_channels; ++o) std::fill(y + o * p, y + (o + 1) * p, bs[o]);
        }
        blas_gemm(false, false, g.out_channels, p, k, T(1), ws, k, col, p, bs ? T(1) : T(0), y, p);
      }
    }
  });
}

void CpuBackend::conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                                 const Conv2dGeometry& g, Tensor* grad_x, Tensor* grad_w,
                                 Tensor* grad_bias) {
  const int64_t k = g.in_channels * g.kernel_h * g.kernel_w, p = g.out_h() * g.out_w();
  const int64_t wsize = g.out_channels * k, xsize = g.in_channels * g.in_h * g.in_w;
  const int threads = thread_count(g.batch);
  if (grad_bias) sum_per_channel(grad_out, *grad_bias);
  if (!grad_x && !grad_w) return;
  // Per thread: a column buffer, and a dW accumulator.
  Tensor work = Tensor::empty({threads, k * p + (grad_w ? wsize : 0)}, x.dtype());
  dispatch_float(x.dtype(), "conv2d_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data<T>();
    const T* ws = w.data<T>();
    const T* gs = grad_out.data<T>();
    T* work_base = work.data<T>();
    T* dx_base = grad_x ? grad_x->data<T>() : nullptr;
    const int64_t stride = k * p + (grad_w ? wsize : 0);
#pragma omp parallel num_threads(threads)
    {
      T* col = work_base + omp_get_thread_num() * stride;
      T* dw = col + k * p;
      if (grad_w) std::fill(dw, dw + wsize, T(0));
#pragma omp for schedule(static)
      for (int64_t n = 0; n < g.batch; ++n) {
        const T* gn = gs + n * g.out_channels * p;
        if (grad_w) {
          im2col(xs + n * xsize, g, col);
          blas_gemm(false, true, g.out_channels, k, p, T(1), gn, p, col, p, T(1), dw, k);
        }
        if (grad_x) {
          T* dx = dx_base + n * xsize;
          blas_gemm(true, false, k, p, g.out_channels, T(1), ws, k, gn, p, T(0), col, p);
          std::fill(dx, dx + xsize, T(0));
          col2im(col, g, dx);
        }
      }
    }
    if (grad_w) {
      T* dw = grad_w->data<T>();
      std::memcpy(dw, work_base + k * p, wsize * sizeof(T));
      for (int t = 1; t < threads; ++t) {
        const T* part = work_base + t * stride + k * p;
        for (int64_t i = 0; i < wsize; ++i) dw[i] += part[i];
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
#pragma omp parallel for if (x.numel() >= kParallelGrain) schedule(static)
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T* in = xs + pl * g.in_h * g.in_w;
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          T best = -std::numeric_limits<T>::infinity();
          int32_t best_i = static_cast<int32_t>((y * g.stride) * g.in_w + xo * g.stride);
          for (int64_t ky = 0; ky < g.kernel; ++ky)
            for (int64_t kx = 0; kx < g.kernel; ++kx) {
              const int64_t i = (y * g.stride + ky) * g.in_w + xo * g.stride + kx;
              // '>' keeps the first maximum on ties, as PyTorch does; NaN propagates.
              if (in[i] > best || in[i] != in[i]) {
                best = in[i];
                best_i = static_cast<int32_t>(i);
                if (in[i] != in[i]) break;
              }
            }
          ys[(pl * oh + y) * ow + xo] = best;
          idx[(pl * oh + y) * ow + xo] = best_i;
        }
    }
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
#pragma omp parallel for if (grad_x.numel() >= kParallelGrain) schedule(static)
    for (int64_t pl = 0; pl < planes; ++pl) {
      T* d = dx + pl * in_plane;
      std::fill(d, d + in_plane, T(0));
      for (int64_t i = 0; i < out_plane; ++i) d[idx[pl * out_plane + i]] += gs[pl * out_plane + i];
    }
  });
}

}  // namespace sws
