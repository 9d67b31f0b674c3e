// The tensor: a shape, strides and an offset into shared Storage on a Device, an element type,
// and (for autograd) an optional gradient and the graph node that produced it.
// Copying a Tensor copies a handle: both refer to the same data, like torch.Tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/storage.h"

namespace sws {

// Sizes of a tensor's dimensions, outermost first; [] is a scalar.
using Shape = std::vector<int64_t>;

struct Node;  // autograd/node.h

// Number of elements of a shape (1 for a scalar []); throws on negative or overflowing sizes.
int64_t shape_numel(const Shape& shape);
// The shape as text, "[64, 1, 28, 28]".
std::string shape_str(const Shape& shape);

// The state a Tensor handle shares: every copy of a handle points at one TensorImpl.
struct TensorImpl {
  std::shared_ptr<Storage> storage;  // the memory, shared with views
  Shape shape;                       // sizes, outermost first
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;     // element type
  bool requires_grad = false;  // a leaf whose gradient backward() accumulates into grad
  std::shared_ptr<TensorImpl> grad;     // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;        // the op that produced this tensor (null for leaves)
  std::shared_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad node, made on first use
};

// A handle to a TensorImpl; accessors other than defined() need a defined tensor.
class Tensor {
 public:
  Tensor() = default;  // an undefined tensor
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}  // wraps (shares) impl

  // --- creation ---------------------------------------------------------------------------
  // A new contiguous tensor of uninitialised memory (from the backend's caching allocator);
  // throws sws::Error on a negative or overflowing shape or a device without a backend.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  // The same, filled with zeros / with `value` (converted to dtype).
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::cpu());
  // A tensor holding a copy of host values, dtype from the vector's type (F32, F64 or I32);
  // throws sws::Error unless values.size() == shape_numel(shape).
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor from_vector(const std::vector<int32_t>& values, const Shape& shape,
                            Device device = Device::cpu());
  // Same shape, dtype and device as `like`, uninitialised / zero.
  static Tensor empty_like(const Tensor& like);
  static Tensor zeros_like(const Tensor& like);

  // --- properties ---------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }  // false for a default-constructed handle
  const Shape& shape() const { return impl_->shape; }  // sizes, outermost first
  const Shape& strides() const { return impl_->strides; }  // in elements, one per dimension
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }  // rank (0 for a scalar)
  // Size of dimension d; negative d counts from the end; throws sws::Error when out of range.
  int64_t size(int64_t d) const;
  int64_t numel() const;  // number of elements (1 for a scalar)
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  bool is_contiguous() const;  // strides are the row-major ones of the shape
  // Pointer to the first element (device memory for a CUDA tensor).
  void* raw_data() const;
  // Typed pointer to the first element; throws sws::Error if undefined or the dtype is not T's
  // (T one of float, double, int32_t, int64_t, uint8_t).
  template <typename T> T* data() const;
  TensorImpl* impl() const { return impl_.get(); }  // the shared state (for autograd and backends)
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }  // the same, as an owner
  // True when both handles refer to the same tensor.
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // --- copies and views (no autograd: see autograd/ops.h for differentiable versions) ----------
  // A view with a new shape sharing storage; one size may be -1 (inferred). Throws sws::Error if
  // this tensor is not contiguous or the element counts differ.
  Tensor view(const Shape& shape) const;
  // A view of entries [start, start + count) along dimension 0, sharing storage; throws when out
  // of range.
  Tensor rows(int64_t start, int64_t count) const;
  // A contiguous copy when strided, otherwise this tensor.
  Tensor contiguous() const;
  // A new tensor with a copy of the data.
  Tensor clone() const;
  // A copy on another device / converted to another dtype; this tensor itself (no copy) when it
  // is already there.
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  // Copies src's data into this contiguous tensor (same shape, else sws::Error; dtype and device
  // may differ).
  void copy_(const Tensor& src);
  // Sets every element to value (converted to the dtype); needs a contiguous tensor.
  void fill_(double value);
  // Host copy of all elements in row-major order, converted to double / float (any dtype).
  std::vector<double> to_double_vector() const;
  std::vector<float> to_float_vector() const;
  // The value of a one-element tensor as a double; throws sws::Error for any other size.
  double item() const;

  // --- autograd -----------------------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }  // set by set_requires_grad() (leaves only)
  // Marks a leaf as a parameter whose gradient accumulates in grad(); returns *this. Throws
  // sws::Error for a tensor computed by an op, or (when on) a non-floating-point one.
  Tensor& set_requires_grad(bool on);
  // The accumulated gradient (undefined until a backward pass reaches this leaf).
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }  // replaces grad() (shares g's data)
  // The node of the op that produced this tensor; null for a leaf.
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }  // not produced by a recorded op
  // Reverse-mode pass from this one-element tensor: every leaf that requires grad gets
  // d(this)/d(leaf) added to its grad(). The graph is released afterwards, so a second call
  // throws sws::Error (as for a tensor that needs no gradient).
  void backward() const;
  // A new leaf sharing this one's data (same shape, strides, offset), cut from the graph and not
  // requiring grad.
  Tensor detach() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// "F32[64, 10] on cpu", for error messages.
std::string describe(const Tensor& t);

// (name, tensor handle) pairs in order, as Module::named_parameters() gives them.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The backward pass lives in autograd/ (autograd/engine.cpp), above this floor: it hands itself
// over here when it is linked, which every differentiable op brings about, and
// Tensor::backward() calls it. Registering twice keeps the last.
using BackwardPass = void (*)(const Tensor& root);
// Registers the pass; autograd/engine.cpp does it at start-up.
void register_backward_pass(BackwardPass pass);

}  // namespace sws
