// The processes of a synchronous data-parallel run and the few collectives training needs: a
// sum over every rank (the gradients, one flat buffer per step), a broadcast from one rank (the
// starting parameters, an error's message) and the split of N items into per-rank shares. The
// transport is an established one: MPI (core/mpi_communicator.h) or NCCL for GPU buffers
// (cuda/nccl_communicator.h). A null Communicator* everywhere means one process, the code path of
// a build without MPI, whose results it leaves bit-identical.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace sws {

// The ranks of one run, seen from one of them. Every rank makes the same collective calls in
// the same order.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1
  virtual int size() const = 0;  // the number of ranks, >= 1
  // "MPI (Open MPI 4.1.4)", "NCCL 2.x over MPI": for notes and metrics.
  virtual std::string describe() const = 0;
  // Replaces the contiguous F32 or F64 tensor by its sum over the ranks, on every rank. Every
  // rank calls it with the same shape and dtype, in the same order as every other collective.
  virtual void allreduce_sum(Tensor& t) = 0;
  // Replaces the contiguous tensor by rank `root`'s, on every rank.
  virtual void broadcast(Tensor& t, int root) = 0;
  // Replaces `bytes` by rank `root`'s (any length), on every rank.
  virtual void broadcast(std::string& bytes, int root) = 0;
};

// An error every rank raises alike (a check on summed or replicated values, or one agreed by
// run_on_every_rank): each can report it and end normally, none is left waiting. Any other
// error on one rank of several must end them all (MpiSession: abort_every_rank).
struct CollectiveError : Error {
  explicit CollectiveError(const std::string& message) : Error(message) {}  // what() = message
};

// A collective that could not complete (a rank stopped answering, the transport failed): the
// ranks are no longer in step, so the job must end at once (abort_every_rank), never normally.
// run_on_every_rank and the training loop let it through unchanged.
struct CommunicationError : Error {
  explicit CommunicationError(const std::string& message) : Error(message) {}  // what() = message
};

// The ranks of a run: 1 without a communicator.
inline int rank_count(const Communicator* comm) { return comm ? comm->size() : 1; }
// This process's rank: 0 without a communicator. Rank 0 alone writes files and prints progress.
inline int rank_of(const Communicator* comm) { return comm ? comm->rank() : 0; }

// A contiguous part [first, first + count) of n items.
struct Share {
  int64_t first = 0, count = 0;  // the first item and how many
};

// Rank `rank`'s share of n items split over `ranks`: contiguous, in rank order, sizes differing
// by at most one (the first n % ranks ranks take one more). sws::Error for ranks < 1, a rank
// outside [0, ranks) or n < 0.
Share share_of(int64_t n, int rank, int ranks);

// Runs `work` on every rank and agrees on its outcome: when it throws (any std::exception) on
// one rank or more, every rank throws CollectiveError with the message of the lowest failing rank,
// prefixed "rank R: " when ranks > 1, so that a bad file or a NaN seen by one rank stops all of
// them with one message and no rank waits for another in a later collective. Without a
// communicator it just runs `work`.
void run_on_every_rank(Communicator* comm, const std::function<void()>& work);

}  // namespace sws
