#include "cuda/nccl_communicator.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstring>
#include <type_traits>

#include "core/error.h"
#include "cuda/cuda_check.h"

namespace sws::cuda {

namespace {

// The functions used, typed from nccl.h through decltype so they cannot drift.
struct NcclApi {
  decltype(&ncclGetVersion) get_version = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) init_rank = nullptr;
  decltype(&ncclCommDestroy) destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
};

const NcclApi* nccl_api(std::string* why) {
  static std::string failure;
  static const NcclApi* api = []() -> const NcclApi* {
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* error = dlerror();
      failure = std::string("cannot load NCCL (libnccl.so.2; the CUDA toolkit's lib/ or the Python package "
                            "nvidia-nccl-cu13 on LD_LIBRARY_PATH): ") + (error ? error : "unknown error");
      return nullptr;
    }
    static NcclApi loaded;
    auto bind = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (!fn) failure += std::string(failure.empty() ? "NCCL lacks " : ", ") + symbol;
    };
    bind(loaded.get_version, "ncclGetVersion");
    bind(loaded.get_unique_id, "ncclGetUniqueId");
    bind(loaded.init_rank, "ncclCommInitRank");
    bind(loaded.destroy, "ncclCommDestroy");
    bind(loaded.all_reduce, "ncclAllReduce");
    bind(loaded.broadcast, "ncclBroadcast");
    bind(loaded.error_string, "ncclGetErrorString");
    return failure.empty() ? &loaded : nullptr;
  }();
  if (!api && why) *why = failure;
  return api;
}

const NcclApi& api_or_throw() {
  std::string why;
  const NcclApi* api = nccl_api(&why);
  SWS_CHECK(api, why);
  return *api;
}

void check(ncclResult_t result, const char* what) {
  if (result == ncclSuccess) return;
  throw Error(std::string("NCCL: ") + what + " failed: " + api_or_throw().error_string(result));
}

ncclDataType_t nccl_type(DType dtype) {
  if (dtype == DType::F32) return ncclFloat32;
  if (dtype == DType::F64) return ncclFloat64;
  throw Error("NCCL: only F32 and F64 tensors are summed across ranks");
}

}  // namespace

bool nccl_available(std::string* why) { return nccl_api(why) != nullptr; }

NcclCommunicator::NcclCommunicator(Communicator* bootstrap) : bootstrap_(bootstrap) {
  const NcclApi& api = api_or_throw();
  rank_ = rank_of(bootstrap), size_ = rank_count(bootstrap);
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (rank_ == 0) check(api.get_unique_id(&id), "ncclGetUniqueId");
  if (bootstrap) {  // rank 0's id to every rank
    std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
    bootstrap->broadcast(bytes, 0);
    SWS_CHECK(bytes.size() == sizeof id, "NCCL: the bootstrap delivered a unique id of the wrong size");
    std::memcpy(&id, bytes.data(), sizeof id);
  }
  SWS_CUDA_CHECK(cudaSetDevice(0));
  ncclComm_t comm = nullptr;
  check(api.init_rank(&comm, size_, id, rank_), "ncclCommInitRank");
  comm_ = comm;
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) api_or_throw().destroy(static_cast<ncclComm_t>(comm_));
}

std::string NcclCommunicator::describe() const {
  int version = 0;
  api_or_throw().get_version(&version);
  return "NCCL " + std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100) + (bootstrap_ ? " over " + bootstrap_->describe() : ", 1 rank");
}

void NcclCommunicator::allreduce_sum(Tensor& t) {
  if (t.device().is_cpu()) {
    if (bootstrap_) bootstrap_->allreduce_sum(t);
    return;
  }
  SWS_CHECK(t.is_contiguous(), "NCCL: the allreduce needs a contiguous tensor");
  // The legacy default stream (stream 0), where the backend's kernels run: in order after them.
  check(api_or_throw().all_reduce(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()), nccl_type(t.dtype()),
                                  ncclSum, static_cast<ncclComm_t>(comm_), nullptr),
        "ncclAllReduce");
  SWS_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void NcclCommunicator::broadcast(Tensor& t, int root) {
  if (t.device().is_cpu()) {
    if (bootstrap_) bootstrap_->broadcast(t, root);
    return;
  }
  SWS_CHECK(t.is_contiguous(), "NCCL: the broadcast needs a contiguous tensor");
  const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
  check(api_or_throw().broadcast(t.raw_data(), t.raw_data(), bytes, ncclUint8, root, static_cast<ncclComm_t>(comm_),
                                 nullptr),
        "ncclBroadcast");
  SWS_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void NcclCommunicator::broadcast(std::string& bytes, int root) {
  if (bootstrap_) bootstrap_->broadcast(bytes, root);
}

}  // namespace sws::cuda
