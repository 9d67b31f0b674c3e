// Matrix multiply, linear, conv2d, max-pool, log-softmax and cross-entropy, each with its
// backward formula next to its forward.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/op_helpers.h"
#include "autograd/ops.h"

namespace sws {

namespace {

// y = a @ b:  da = g @ b^T,  db = a^T @ g.
struct MatmulNode : Node {
  Tensor a, b;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    Backend& be = backend_for(g.device());
    if (next[0]) {
      ga = Tensor::empty({g.size(0), b.size(0)}, g.dtype(), g.device());
      be.gemm(false, true, 1.0, g, b, 0.0, ga);
    }
    if (next[1]) {
      gb = Tensor::empty({a.size(1), g.size(1)}, g.dtype(), g.device());
      be.gemm(true, false, 1.0, a, g, 0.0, gb);
    }
    return {ga, gb};
  }
  void release() override { a = Tensor(); b = Tensor(); }
  const char* name() const override { return "matmul"; }
};

// y = x @ w^T + bias:  dx = g @ w,  dw = g^T @ x,  dbias = column sums of g.
struct LinearNode : Node {
  Tensor x, w;  // x kept only when w needs a gradient, w only when x does
  std::vector<Tensor> backward(const Tensor& g_in) override {
    Tensor g = g_in.contiguous();
    Backend& be = backend_for(g.device());
    Tensor gx, gw, gb;
    if (next[0]) {
      gx = Tensor::empty({g.size(0), w.size(1)}, g.dtype(), g.device());
      be.gemm(false, false, 1.0, g, w, 0.0, gx);
    }
    if (next[1]) {
      gw = Tensor::empty({g.size(1), x.size(1)}, g.dtype(), g.device());
      be.gemm(true, false, 1.0, g, x, 0.0, gw);
    }
    if (next.size() > 2 && next[2]) {
      gb = Tensor::empty({g.size(1)}, g.dtype(), g.device());
      be.sum_per_channel(g, gb);
    }
    return {gx, gw, gb};
  }
  void release() override { x = Tensor(); w = Tensor(); }
  const char* name() const override { return "linear"; }
};

struct Conv2dNode : Node {
  Tensor x, w;
  Conv2dGeometry geom;
  std::vector<Tensor> backward(const Tensor& g_in) override {
    Tensor g = g_in.contiguous();
    Tensor gx, gw, gb;
    if (next[0]) gx = Tensor::empty_like(x);
    if (next[1]) gw = Tensor::empty_like(w);
    if (next.size() > 2 && next[2]) gb = Tensor::empty({geom.out_channels}, g.dtype(), g.device());
    backend_for(g.device()).conv2d_backward(x, w, g, geom, gx.defined() ? &gx : nullptr,
                                            gw.defined() ? &gw : nullptr, gb.defined() ? &gb : nullptr);
    return {gx, gw, gb};
  }
  void release() override { x = Tensor(); w = Tensor(); }
  const char* name() const override { return "conv2d"; }
};

// The gradient flows only to each window's maximum.
struct MaxPool2dNode : Node {
  Tensor argmax;
  Pool2dGeometry geom;
  DType dtype;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gx = Tensor::empty({geom.batch, geom.channels, geom.in_h, geom.in_w}, dtype, g.device());
    backend_for(g.device()).max_pool2d_backward(g.contiguous(), argmax, geom, gx);
    return {gx};
  }
  void release() override { argmax = Tensor(); }
  const char* name() const override { return "max_pool2d"; }
};

// y = log_softmax(x):  dx = g - exp(y) * rowsum(g).
struct LogSoftmaxNode : Node {
  Tensor y;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gx = Tensor::empty_like(y);
    backend_for(g.device()).log_softmax_backward(g.contiguous(), y, gx);
    return {gx};
  }
  void release() override { y = Tensor(); }
  const char* name() const override { return "log_softmax"; }
};

// loss = mean_b -log p_b[label_b]:  dlogits = g / B * (p - onehot).
struct CrossEntropyNode : Node {
  Tensor probs, labels;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gx = Tensor::empty_like(probs);
    const double scale = g.item() / static_cast<double>(probs.size(0));
    backend_for(g.device()).cross_entropy_backward(probs, labels, scale, gx);
    return {gx};
  }
  void release() override { probs = Tensor(); labels = Tensor(); }
  const char* name() const override { return "cross_entropy"; }
};

void check_dims(const Tensor& t, int64_t dims, const char* op, const char* what) {
  SWS_CHECK(t.dim() == dims, std::string(op) + ": " + what + " must have " + std::to_string(dims) +
                                 " dimensions, got " + describe(t));
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_float(a_in, "matmul");
  check_same_kind(a_in, b_in, "matmul");
  check_dims(a_in, 2, "matmul", "a");
  check_dims(b_in, 2, "matmul", "b");
  SWS_CHECK(a_in.size(1) == b_in.size(0), "matmul: inner sizes differ: " + describe(a_in) + " @ " + describe(b_in));
  Tensor a = a_in.contiguous(), b = b_in.contiguous();
  Tensor out = Tensor::empty({a.size(0), b.size(1)}, a.dtype(), a.device());
  backend_for(a.device()).gemm(false, false, 1.0, a, b, 0.0, out);
  if (any_requires_grad({&a_in, &b_in})) {
    auto node = std::make_shared<MatmulNode>();
    node->a = a.detach();
    node->b = b.detach();
    attach(out, node, {&a_in, &b_in});
  }
  return out;
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in) {
  check_float(x_in, "linear");
  check_same_kind(x_in, w_in, "linear");
  check_dims(x_in, 2, "linear", "input");
  check_dims(w_in, 2, "linear", "weight");
  SWS_CHECK(x_in.size(1) == w_in.size(1), "linear: input " + describe(x_in) +
                                              " does not match weight " + describe(w_in) + " ([out, in])");
  Tensor x = x_in.contiguous(), w = w_in.contiguous();
  Tensor out = Tensor::empty({x.size(0), w.size(0)}, x.dtype(), x.device());
  Backend& be = backend_for(x.device());
  be.gemm(false, true, 1.0, x, w, 0.0, out);
  if (bias_in.defined()) {
    check_same_kind(x_in, bias_in, "linear");
    SWS_CHECK(bias_in.dim() == 1 && bias_in.size(0) == w.size(0), "linear: bias " + describe(bias_in) +
                                                                      " does not match weight " + describe(w));
    be.add_per_channel(out, bias_in.contiguous());
  }
  if (any_requires_grad({&x_in, &w_in, &bias_in})) {
    auto node = std::make_shared<LinearNode>();
    if (gradient_edge(w_in)) node->x = x.detach();
    if (gradient_edge(x_in)) node->w = w.detach();
    attach(out, node, {&x_in, &w_in, bias_in.defined() ? &bias_in : nullptr});
  }
  return out;
}

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, int64_t stride, int64_t padding) {
  check_float(x_in, "conv2d");
  check_same_kind(x_in, w_in, "conv2d");
  check_dims(x_in, 4, "conv2d", "input");
  check_dims(w_in, 4, "conv2d", "weight");
  SWS_CHECK(stride >= 1 && padding >= 0, "conv2d: stride must be >= 1 and padding >= 0");
  Conv2dGeometry g{x_in.size(0), x_in.size(1), x_in.size(2), x_in.size(3),
                   w_in.size(0), w_in.size(2), w_in.size(3), stride, padding};
  SWS_CHECK(w_in.size(1) == g.in_channels, "conv2d: input " + describe(x_in) + " has " +
            std::to_string(g.in_channels) + " channels but weight " + describe(w_in) + " expects " +
            std::to_string(w_in.size(1)));
  SWS_CHECK(g.kernel_h >= 1 && g.kernel_w >= 1, "conv2d: the kernel of weight " + describe(w_in) + " is empty");
  SWS_CHECK(g.in_h + 2 * padding >= g.kernel_h && g.in_w + 2 * padding >= g.kernel_w,
            "conv2d: kernel larger than the padded input " + describe(x_in));
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), bias;
  if (bias_in.defined()) {
    check_same_kind(x_in, bias_in, "conv2d");
    SWS_CHECK(bias_in.dim() == 1 && bias_in.size(0) == g.out_channels,
              "conv2d: bias " + describe(bias_in) + " does not match weight " + describe(w));
    bias = bias_in.contiguous();
  }
  Tensor out = Tensor::empty({g.batch, g.out_channels, g.out_h(), g.out_w()}, x.dtype(), x.device());
  backend_for(x.device()).conv2d_forward(x, w, bias.defined() ? &bias : nullptr, g, out);
  if (any_requires_grad({&x_in, &w_in, &bias_in})) {
    auto node = std::make_shared<Conv2dNode>();
    node->x = x.detach();
    node->w = w.detach();
    node->geom = g;
    attach(out, node, {&x_in, &w_in, bias_in.defined() ? &bias_in : nullptr});
  }
  return out;
}

Tensor max_pool2d(const Tensor& x_in, int64_t kernel, int64_t stride) {
  check_float(x_in, "max_pool2d");
  check_dims(x_in, 4, "max_pool2d", "input");
  SWS_CHECK(kernel >= 1 && stride >= 1, "max_pool2d: kernel and stride must be >= 1");
  Pool2dGeometry g{x_in.size(0), x_in.size(1), x_in.size(2), x_in.size(3), kernel, stride};
  SWS_CHECK(g.in_h >= kernel && g.in_w >= kernel, "max_pool2d: kernel larger than input " + describe(x_in));
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty({g.batch, g.channels, g.out_h(), g.out_w()}, x.dtype(), x.device());
  Tensor argmax = Tensor::empty(out.shape(), DType::I32, x.device());
  backend_for(x.device()).max_pool2d_forward(x, g, out, argmax);
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<MaxPool2dNode>();
    node->argmax = argmax;
    node->geom = g;
    node->dtype = x.dtype();
    attach(out, node, {&x_in});
  }
  return out;
}

Tensor log_softmax(const Tensor& x_in) {
  check_float(x_in, "log_softmax");
  check_dims(x_in, 2, "log_softmax", "input");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty_like(x);
  backend_for(x.device()).log_softmax(x, out);
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<LogSoftmaxNode>();
    node->y = out.detach();
    attach(out, node, {&x_in});
  }
  return out;
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& labels_in) {
  check_float(logits_in, "cross_entropy");
  check_dims(logits_in, 2, "cross_entropy", "logits");
  SWS_CHECK(labels_in.dtype() == DType::I32 && labels_in.dim() == 1 &&
                labels_in.size(0) == logits_in.size(0) && labels_in.device() == logits_in.device(),
            "cross_entropy: labels must be I32 [" + std::to_string(logits_in.size(0)) + "] on " +
                logits_in.device().name() + ", got " + describe(labels_in));
  SWS_CHECK(logits_in.size(0) > 0, "cross_entropy: empty batch");
  Tensor logits = logits_in.contiguous(), labels = labels_in.contiguous();
  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor probs = Tensor::empty_like(logits);
  backend_for(logits.device()).cross_entropy_forward(logits, labels, loss, probs);
  if (any_requires_grad({&logits_in})) {
    auto node = std::make_shared<CrossEntropyNode>();
    node->probs = probs;
    node->labels = labels;
    attach(loss, node, {&logits_in});
  }
  return loss;
}

}  // namespace sws
