#include "core/communicator.h"

#include <algorithm>

#include "core/error.h"

namespace sws {

Share share_of(int64_t n, int rank, int ranks) {
  SWS_CHECK(ranks >= 1 && rank >= 0 && rank < ranks && n >= 0,
            "share_of: rank " + std::to_string(rank) + " of " + std::to_string(ranks) + " ranks, " +
                std::to_string(n) + " items");
  const int64_t base = n / ranks, extra = n % ranks;
  return {rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

void run_on_every_rank(Communicator* comm, const std::function<void()>& work) {
  if (!comm) return work();
  std::string message;
  bool failed = false;
  try {
    work();
  } catch (const CommunicationError&) {
    throw;  // the ranks are out of step: no agreement is possible
  } catch (const std::exception& e) {
    failed = true, message = e.what();
  }
  // The lowest failing rank (size() when none): a min over the ranks, as a sum of one-hot flags.
  Tensor flags = Tensor::zeros({comm->size()}, DType::F64, Device::cpu());
  if (failed) flags.data<double>()[comm->rank()] = 1;
  comm->allreduce_sum(flags);
  int first = -1;
  for (int r = 0; r < comm->size() && first < 0; ++r)
    if (flags.data<double>()[r] > 0) first = r;
  if (first < 0) return;
  comm->broadcast(message, first);
  throw CollectiveError(comm->size() > 1 ? "rank " + std::to_string(first) + ": " + message : message);
}

}  // namespace sws
