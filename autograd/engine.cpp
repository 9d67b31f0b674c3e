#include "autograd/engine.h"

#include <unordered_map>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/backend.h"
#include "core/error.h"

namespace sws {

namespace {
// Tensor::backward() (core/) reaches the engine through this registration: core/ stays below
// autograd/ in the include order.
[[maybe_unused]] const bool backward_pass_registered = (register_backward_pass(run_backward), true);
}  // namespace

namespace {
thread_local bool g_grad_enabled = true;
}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> stack = std::move(next);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    if (n && n.use_count() == 1) {  // we hold the last reference: adopt its inputs first
      for (auto& child : n->next) stack.push_back(std::move(child));
      n->next.clear();
    }
  }
}

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  if (!t.requires_grad()) return nullptr;
  TensorImpl* impl = t.impl();
  if (!impl->grad_accumulator) impl->grad_accumulator = std::make_shared<AccumulateGrad>(t.impl_ptr());
  return impl->grad_accumulator;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && (t->requires_grad() || t->grad_fn())) return true;
  return false;
}

void attach(Tensor& output, std::shared_ptr<Node> node, const std::vector<const Tensor*>& inputs) {
  node->next.clear();
  for (const Tensor* t : inputs) node->next.push_back(t ? gradient_edge(*t) : nullptr);
  output.impl()->grad_fn = std::move(node);
}

void attach(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs) {
  attach(output, std::move(node), std::vector<const Tensor*>(inputs));
}

std::vector<Tensor> AccumulateGrad::backward(const Tensor& grad_output) {
  std::shared_ptr<TensorImpl> impl = leaf.lock();
  if (!impl) return {};
  Tensor param(impl);
  Tensor grad = param.grad();
  if (!grad.defined()) {
    param.set_grad(grad_output.clone());
  } else {
    SWS_CHECK(grad.shape() == grad_output.shape(), "gradient of shape " +
              shape_str(grad_output.shape()) + " for a parameter of shape " + shape_str(grad.shape()));
    backend_for(grad.device()).axpy(1.0, grad_output, grad);
  }
  return {};
}

void run_backward(const Tensor& root) {
  SWS_CHECK(root.defined() && root.numel() == 1,
            "backward() needs a scalar, got " + describe(root));
  std::shared_ptr<Node> root_node = gradient_edge(root);
  SWS_CHECK(root_node != nullptr,
            "backward() on a tensor that does not require grad (computed under NoGradGuard, "
            "or from inputs without requires_grad)");
  NoGradGuard no_grad;  // backward formulas are not themselves recorded

  // Count, for every node, how many edges point at it (iterative DFS, no recursion).
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{root_node.get()};
  pending[root_node.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& child : n->next) {
      if (!child) continue;
      auto it = pending.find(child.get());
      if (it == pending.end()) {
        pending[child.get()] = 1;
        stack.push_back(child.get());
      } else {
        ++it->second;
      }
    }
  }

  // Kahn's order: a node runs once every consumer has handed it its gradient.
  std::unordered_map<Node*, Tensor> grads;
  grads[root_node.get()] = Tensor::full(root.shape(), 1.0, root.dtype(), root.device());
  std::vector<std::shared_ptr<Node>> ready{root_node};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.back();
    ready.pop_back();
    // A node that no gradient reached (every consumer passed none) contributes nothing.
    std::vector<Tensor> grad_in;
    auto found = grads.find(node.get());
    if (found != grads.end()) {
      Tensor grad_out = std::move(found->second);
      grads.erase(found);
      grad_in = node->backward(grad_out);
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      const std::shared_ptr<Node>& child = node->next[i];
      if (!child) continue;
      if (i < grad_in.size() && grad_in[i].defined()) {
        auto it = grads.find(child.get());
        if (it == grads.end()) {
          grads.emplace(child.get(), std::move(grad_in[i]));
        } else {
          backend_for(it->second.device()).axpy(1.0, grad_in[i], it->second);
        }
      }
      if (--pending[child.get()] == 0) ready.push_back(child);
    }
    // Release: saved tensors go now; edges go so that the graph's memory can be freed.
    node->release();
    node->next.clear();
  }
  // Cut the root from its (now empty) graph.
  root.impl()->grad_fn.reset();
}

}  // namespace sws
