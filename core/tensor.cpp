#include "core/tensor.h"

#include <cstring>
#include <sstream>

#include "core/backend.h"
#include "core/error.h"

namespace sws {

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string idx = text.substr(5);
    SWS_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
              "invalid device '" + text + "': expected cpu, cuda or cuda:N");
    return Device::cuda(std::stoi(idx));
  }
  throw Error("invalid device '" + text + "': expected cpu, cuda or cuda:N");
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  backend_ = &backend_for(device);
  data_ = backend_->allocate(bytes);
}

Storage::~Storage() { backend_->deallocate(data_, bytes_); }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    SWS_CHECK(s >= 0, "negative size in shape " + shape_str(shape));
    SWS_CHECK(s == 0 || n <= INT64_MAX / s, "shape " + shape_str(shape) + " is too large");
    n *= s;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined tensor";
  return std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + " on " + t.device().name();
}

static Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  auto impl = std::make_shared<TensorImpl>();
  const int64_t n = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(n) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

template <typename T>
static Tensor tensor_from_host(const std::vector<T>& values, const Shape& shape, DType dtype,
                               Device device) {
  SWS_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
            std::to_string(values.size()) + " values do not fill shape " + shape_str(shape));
  Tensor t = Tensor::empty(shape, dtype, device);
  backend_for(device).copy_from_host(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s, Device d) {
  return tensor_from_host(v, s, DType::F32, d);
}
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s, Device d) {
  return tensor_from_host(v, s, DType::F64, d);
}
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s, Device d) {
  return tensor_from_host(v, s, DType::I32, d);
}

Tensor Tensor::empty_like(const Tensor& like) { return empty(like.shape(), like.dtype(), like.device()); }
Tensor Tensor::zeros_like(const Tensor& like) { return zeros(like.shape(), like.dtype(), like.device()); }

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  SWS_CHECK(d >= 0 && d < n, "dimension " + std::to_string(d) + " out of range for " + describe(*this));
  return impl_->shape[d];
}

int64_t Tensor::numel() const { return shape_numel(impl_->shape); }

bool Tensor::is_contiguous() const { return impl_->strides == contiguous_strides(impl_->shape); }

void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
}

template <typename T> static constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }

template <typename T> T* Tensor::data() const {
  SWS_CHECK(defined(), "data() of an undefined tensor");
  SWS_CHECK(dtype() == dtype_of<T>(), std::string("data<") + dtype_name(dtype_of<T>()) +
                                          ">() on " + describe(*this));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int32_t* Tensor::data<int32_t>() const;
template int64_t* Tensor::data<int64_t>() const;
template uint8_t* Tensor::data<uint8_t>() const;

Tensor Tensor::view(const Shape& shape) const {
  SWS_CHECK(is_contiguous(), "view() of a non-contiguous " + describe(*this) + ": call contiguous() first");
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      SWS_CHECK(infer < 0, "view(): more than one -1 in " + shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      SWS_CHECK(s[i] >= 0, "view(): negative size in " + shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    SWS_CHECK(known > 0 && numel() % known == 0,
              "view(): cannot infer -1 in " + shape_str(shape) + " for " + describe(*this));
    s[infer] = numel() / known;
  }
  SWS_CHECK(shape_numel(s) == numel(),
            "view(): shape " + shape_str(shape) + " does not match " + describe(*this));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = s;
  impl->strides = contiguous_strides(s);
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::rows(int64_t start, int64_t count) const {
  SWS_CHECK(dim() >= 1 && start >= 0 && count >= 0 && start + count <= size(0),
            "rows(" + std::to_string(start) + ", " + std::to_string(count) + ") out of range for " + describe(*this));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->shape[0] = count;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset + start * impl_->strides[0];
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape(), dtype(), device());
  backend_for(device()).make_contiguous(*this, out);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor out = empty(shape(), dtype(), d);
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(shape(), t, device());
  out.copy_(*this);
  return out;
}

void Tensor::copy_(const Tensor& src_in) {
  SWS_CHECK(shape() == src_in.shape(), "copy_(): shape " + shape_str(src_in.shape()) +
                                           " into " + describe(*this));
  SWS_CHECK(is_contiguous(), "copy_() into a non-contiguous tensor");
  Tensor src = src_in.contiguous();
  if (src.dtype() != dtype()) {
    // Convert on the source's device, then move.
    Tensor converted = empty(shape(), dtype(), src.device());
    backend_for(src.device()).cast(src, converted);
    src = converted;
  }
  const size_t bytes = static_cast<size_t>(numel()) * dtype_size(dtype());
  if (src.device() == device()) {
    backend_for(device()).copy_within(raw_data(), src.raw_data(), bytes);
  } else if (src.device().is_cpu()) {
    backend_for(device()).copy_from_host(raw_data(), src.raw_data(), bytes);
  } else if (device().is_cpu()) {
    backend_for(src.device()).copy_to_host(raw_data(), src.raw_data(), bytes);
  } else {
    copy_(src.to(Device::cpu()));
  }
}

void Tensor::fill_(double value) {
  SWS_CHECK(is_contiguous(), "fill_() of a non-contiguous tensor");
  backend_for(device()).fill(*this, value);
}

std::vector<double> Tensor::to_double_vector() const {
  Tensor host = to(Device::cpu()).contiguous().to(DType::F64);
  const double* p = host.data<double>();
  return std::vector<double>(p, p + host.numel());
}

std::vector<float> Tensor::to_float_vector() const {
  Tensor host = to(Device::cpu()).contiguous().to(DType::F32);
  const float* p = host.data<float>();
  return std::vector<float>(p, p + host.numel());
}

double Tensor::item() const {
  SWS_CHECK(numel() == 1, "item() of " + describe(*this) + ": needs exactly one element");
  return to_double_vector()[0];
}

Tensor& Tensor::set_requires_grad(bool on) {
  SWS_CHECK(is_leaf(), "set_requires_grad() on a tensor computed by an op: only leaves can be parameters");
  SWS_CHECK(!on || dtype() == DType::F32 || dtype() == DType::F64,
            "only floating-point tensors can require gradients, not " + describe(*this));
  impl_->requires_grad = on;
  return *this;
}

namespace {
BackwardPass backward_pass = nullptr;  // set by autograd/engine.cpp
}  // namespace

void register_backward_pass(BackwardPass pass) { backward_pass = pass; }

void Tensor::backward() const {
  SWS_CHECK(backward_pass != nullptr, "backward(): autograd is not linked into this program (no differentiable op is)");
  backward_pass(*this);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

}  // namespace sws
