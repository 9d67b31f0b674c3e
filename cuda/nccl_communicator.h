// The Communicator for tensors on GPUs: NCCL (one GPU per rank) sums the gradient buffer where it
// lies, on the device, in the CUDA backend's stream order (the legacy default stream). Its
// bootstrap is MPI: rank 0's ncclUniqueId is broadcast over the MPI communicator; a single rank
// needs none (the one-rank path, which a machine with one GPU and no MPI runtime can run:
// NCCL refuses two ranks on one GPU). Host tensors and messages go over the bootstrap.
// libnccl.so.2 is opened at run time (it is 200+ MB and only data-parallel GPU runs need it).
//
//   sws::cuda::NcclCommunicator nccl(&mpi_world);   // or (nullptr) for one rank
//   run.comm = &nccl;
#pragma once
#include <memory>
#include <string>

#include "core/communicator.h"

namespace sws::cuda {

// Whether NCCL can be loaded here; otherwise false with the reason in *why.
bool nccl_available(std::string* why = nullptr);

// NCCL's ranks, one GPU each, bootstrapped over another communicator.
class NcclCommunicator : public Communicator {
 public:
  // A communicator over bootstrap's ranks (null: a single rank), on this process's GPU (cuda:0
  // as the process sees it: one GPU per rank is chosen with CUDA_VISIBLE_DEVICES). sws::Error
  // when NCCL cannot be loaded or refuses to start.
  explicit NcclCommunicator(Communicator* bootstrap);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override;
  // Device tensors: ncclAllReduce / ncclBroadcast in place, then a wait for the result (so that
  // a failure is reported at this call); host tensors: over the bootstrap.
  void allreduce_sum(Tensor& t) override;
  void broadcast(Tensor& t, int root) override;
  void broadcast(std::string& bytes, int root) override;

 private:
  Communicator* bootstrap_;
  int rank_ = 0, size_ = 1;
  void* comm_ = nullptr;  // ncclComm_t
};

}  // namespace sws::cuda
