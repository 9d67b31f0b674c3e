// NCCL on the one GPU a test machine has: a one-rank communicator set up without MPI (NCCL
// refuses two ranks on one GPU), its allreduce and broadcast on device buffers. Several ranks
// need several GPUs: never run yet.
#include "tests/cuda/cuda_test_util.h"

#include "cuda/nccl_communicator.h"

using namespace sws;
using sws::cudatest::on_gpu;

TEST_CASE("cuda: a one-rank NCCL communicator sums and broadcasts device buffers in place") {
  std::string why;
  if (!cuda::nccl_available(&why)) {
    FAIL_CHECK("NCCL cannot be loaded here: " << why);
    return;
  }
  cuda::NcclCommunicator nccl(nullptr);
  CHECK(nccl.size() == 1);
  CHECK(nccl.rank() == 0);
  CHECK(nccl.describe().rfind("NCCL 2.", 0) == 0);
  for (DType dtype : {DType::F32, DType::F64}) {
    const Tensor host = Tensor::from_vector(std::vector<double>{1.5, -2.25, 3e-8, 7.0, 0.0}, {5}, Device::cpu()).to(dtype);
    Tensor device = on_gpu(host);
    nccl.allreduce_sum(device);  // the sum over one rank: the values themselves, bit for bit
    CHECK(device.to(Device::cpu()).to_double_vector() == host.to_double_vector());
    nccl.broadcast(device, 0);
    CHECK(device.to(Device::cpu()).to_double_vector() == host.to_double_vector());
  }
  Tensor big = on_gpu(Tensor::full({1 << 20}, 0.5, DType::F32, Device::cpu()));  // a LeNet-300's worth of gradients
  nccl.allreduce_sum(big);
  const std::vector<float> back = big.to(Device::cpu()).to_float_vector();
  CHECK(back.front() == 0.5f);
  CHECK(back.back() == 0.5f);
  CHECK_THROWS_AS([&] { Tensor ints = on_gpu(Tensor::zeros({3}, DType::I32, Device::cpu())); nccl.allreduce_sum(ints); }(),
                  Error);
}
