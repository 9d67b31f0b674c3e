// The tensor: a shape, strides and an offset into shared Storage on a Device, an element type,
// and (for autograd) an optional gradient and the graph node that produced it.
// Copying a Tensor copies a handle: both refer to the same data, like torch.Tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/storage.h"

namespace sws {

using Shape = std::vector<int64_t>;

struct Node;  // autograd/node.h

// Number of elements of a shape (1 for a scalar []); throws on negative or overflowing sizes.
int64_t shape_numel(const Shape& shape);
// "[64, 1, 28, 28]".
std::string shape_str(const Shape& shape);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;     // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;        // the op that produced this tensor (null for leaves)
  std::shared_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad node, made on first use
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- creation ---------------------------------------------------------------------------
  // Uninitialised memory (from the backend's caching allocator).
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::cpu());
  // A tensor holding a copy of host values (F32 or F64 from the vector's type; I32 for labels).
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
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  // Size of dimension d; negative d counts from the end.
  int64_t size(int64_t d) const;
  int64_t numel() const;
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  bool is_contiguous() const;
  // Pointer to the first element (device memory for a CUDA tensor).
  void* raw_data() const;
  // Typed pointer; checks the dtype matches T.
  template <typename T> T* data() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  // True when both handles refer to the same tensor.
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // --- copies and views (no autograd: see autograd/ops.h for differentiable versions) ----------
  // A view with a new shape sharing storage (must be contiguous); one size may be -1.
  Tensor view(const Shape& shape) const;
  // A view of entries [start, start + count) along dimension 0, sharing storage.
  Tensor rows(int64_t start, int64_t count) const;
  // A contiguous copy when strided, otherwise this tensor.
  Tensor contiguous() const;
  // A new tensor with a copy of the data.
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  // Copies src's data into this tensor (same shape; dtype and device may differ).
  void copy_(const Tensor& src);
  // Sets every element to value.
  void fill_(double value);
  // Host copy of all elements as double / float / int (any dtype).
  std::vector<double> to_double_vector() const;
  std::vector<float> to_float_vector() const;
  // The value of a one-element tensor.
  double item() const;

  // --- autograd -----------------------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }
  // Marks a leaf as a parameter whose gradient accumulates in grad().
  Tensor& set_requires_grad(bool on);
  // The accumulated gradient (undefined until a backward pass reaches this leaf).
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  // Reverse-mode pass from this scalar: every leaf that requires grad gets d(this)/d(leaf)
  // added to its grad(). The graph is released afterwards.
  void backward() const;
  // A tensor sharing this one's data but cut from the graph.
  Tensor detach() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// "F32[64, 10] on cpu", for error messages.
std::string describe(const Tensor& t);

}  // namespace sws
