// Elementwise ops, reductions and reshapes with their backward formulas side by side.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/op_helpers.h"
#include "autograd/ops.h"

namespace sws {

namespace {

Tensor unary_kernel(UnaryOp op, const Tensor& x) {
  Tensor out = Tensor::empty_like(x);
  backend_for(x.device()).unary(op, x, out);
  return out;
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty_like(a);
  backend_for(a.device()).binary(op, a, b, out);
  return out;
}

// d(a op b): add -> (g, g); sub -> (g, -g); mul -> (g b, g a); div -> (g / b, -g a / b^2).
struct BinaryNode : Node {
  BinaryOp op;
  Tensor a, b;  // saved only for mul and div
  bool need_a, need_b;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    switch (op) {
      case BinaryOp::Add:
        ga = g;
        gb = g;
        break;
      case BinaryOp::Sub:
        ga = g;
        if (need_b) gb = unary_kernel(UnaryOp::Neg, g);
        break;
      case BinaryOp::Mul:
        if (need_a) ga = binary_kernel(BinaryOp::Mul, g, b);
        if (need_b) gb = binary_kernel(BinaryOp::Mul, g, a);
        break;
      case BinaryOp::Div:
        if (need_a) ga = binary_kernel(BinaryOp::Div, g, b);
        if (need_b) {  // -g * a / b^2 = -(g / b) * (a / b)
          Tensor q = binary_kernel(BinaryOp::Div, a, b);
          gb = binary_kernel(BinaryOp::Mul, binary_kernel(BinaryOp::Div, g, b), q);
          backend_for(gb.device()).affine(gb, -1.0, 0.0, gb);
        }
        break;
    }
    return {ga, gb};
  }
  void release() override { a = Tensor(); b = Tensor(); }
  const char* name() const override { return "binary"; }
};

Tensor binary_op(BinaryOp op, const Tensor& a_in, const Tensor& b_in, const char* name) {
  check_float(a_in, name);
  check_float(b_in, name);
  check_same_kind(a_in, b_in, name);
  SWS_CHECK(a_in.shape() == b_in.shape(), std::string(name) + ": shapes " + shape_str(a_in.shape()) +
                                              " and " + shape_str(b_in.shape()) + " differ");
  Tensor a = a_in.contiguous(), b = b_in.contiguous();
  Tensor out = binary_kernel(op, a, b);
  if (any_requires_grad({&a_in, &b_in})) {
    auto node = std::make_shared<BinaryNode>();
    node->op = op;
    node->need_a = gradient_edge(a_in) != nullptr;
    node->need_b = gradient_edge(b_in) != nullptr;
    if (op == BinaryOp::Mul || op == BinaryOp::Div) {
      node->a = a.detach();
      node->b = b.detach();
    }
    attach(out, node, {&a_in, &b_in});
  }
  return out;
}

// Neg: -g. Exp: g * y. Log: g / x. Relu: g where y > 0.
struct UnaryNode : Node {
  UnaryOp op;
  Tensor saved;  // x for log, y for exp and relu
  std::vector<Tensor> backward(const Tensor& g) override {
    switch (op) {
      case UnaryOp::Neg: return {unary_kernel(UnaryOp::Neg, g)};
      case UnaryOp::Exp: return {binary_kernel(BinaryOp::Mul, g, saved)};
      case UnaryOp::Log: return {binary_kernel(BinaryOp::Div, g, saved)};
      case UnaryOp::Sqrt: {  // g / (2 y)
        Tensor gx = binary_kernel(BinaryOp::Div, g, saved);
        backend_for(gx.device()).affine(gx, 0.5, 0.0, gx);
        return {gx};
      }
      case UnaryOp::Relu: {
        Tensor gx = Tensor::empty_like(g);
        backend_for(g.device()).relu_backward(g, saved, gx);
        return {gx};
      }
    }
    return {Tensor()};
  }
  void release() override { saved = Tensor(); }
  const char* name() const override { return "unary"; }
};

Tensor unary_op(UnaryOp op, const Tensor& x_in, const char* name) {
  check_float(x_in, name);
  Tensor x = x_in.contiguous();
  Tensor out = unary_kernel(op, x);
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<UnaryNode>();
    node->op = op;
    if (op == UnaryOp::Log) node->saved = x.detach();
    if (op == UnaryOp::Exp || op == UnaryOp::Relu || op == UnaryOp::Sqrt) node->saved = out.detach();
    attach(out, node, {&x_in});
  }
  return out;
}

// d(alpha x + beta) = alpha g.
struct AffineNode : Node {
  double alpha;
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gx = Tensor::empty_like(g);
    backend_for(g.device()).affine(g, alpha, 0.0, gx);
    return {gx};
  }
  const char* name() const override { return "affine"; }
};

// d(sum x) = g broadcast to x's shape (times `scale`, 1/n for the mean).
struct SumNode : Node {
  Shape shape;
  double scale;
  std::vector<Tensor> backward(const Tensor& g) override {
    return {Tensor::full(shape, g.item() * scale, g.dtype(), g.device())};
  }
  const char* name() const override { return "sum"; }
};

// A reshape's gradient is the gradient reshaped back.
struct ReshapeNode : Node {
  Shape input_shape;
  std::vector<Tensor> backward(const Tensor& g) override { return {g.contiguous().view(input_shape)}; }
  const char* name() const override { return "reshape"; }
};

Tensor sum_scaled(const Tensor& x_in, double scale, const char* name) {
  check_float(x_in, name);
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty({}, x.dtype(), x.device());
  backend_for(x.device()).sum(x, out);
  if (scale != 1.0) backend_for(x.device()).affine(out, scale, 0.0, out);
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<SumNode>();
    node->shape = x.shape();
    node->scale = scale;
    attach(out, node, {&x_in});
  }
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Add, a, b, "add"); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Sub, a, b, "sub"); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Mul, a, b, "mul"); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Div, a, b, "div"); }
Tensor neg(const Tensor& x) { return unary_op(UnaryOp::Neg, x, "neg"); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::Exp, x, "exp"); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::Log, x, "log"); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::Relu, x, "relu"); }

Tensor affine(const Tensor& x_in, double alpha, double beta) {
  check_float(x_in, "affine");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty_like(x);
  backend_for(x.device()).affine(x, alpha, beta, out);
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<AffineNode>();
    node->alpha = alpha;
    attach(out, node, {&x_in});
  }
  return out;
}

Tensor sum(const Tensor& x) { return sum_scaled(x, 1.0, "sum"); }

Tensor mean(const Tensor& x) {
  SWS_CHECK(x.defined() && x.numel() > 0, "mean() of an empty tensor");
  return sum_scaled(x, 1.0 / static_cast<double>(x.numel()), "mean");
}

Tensor reshape(const Tensor& x_in, const Shape& shape) {
  Tensor out = x_in.contiguous().view(shape);
  // view() shares the TensorImpl's storage but is a new impl: give it its own node.
  out = out.detach();
  if (any_requires_grad({&x_in})) {
    auto node = std::make_shared<ReshapeNode>();
    node->input_shape = x_in.shape();
    attach(out, node, {&x_in});
  }
  return out;
}

Tensor flatten(const Tensor& x) {
  SWS_CHECK(x.dim() >= 1, "flatten() of a scalar");
  return reshape(x, {x.size(0), -1});
}

}  // namespace sws
