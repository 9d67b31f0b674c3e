// The Communicator over MPI's world (Open MPI; built when CMake finds MPI: SWS_MPI). Every
// collective is non-blocking underneath and polled against a deadline, so that a rank that stops
// answering without dying (SIGSTOP, a hung disk) makes the others give up with a message naming
// it instead of waiting forever; a rank that dies is the launcher's to handle (mpirun ends the
// job). Only the calling (main) thread talks to MPI; the OpenMP workers never do.
//
//   sws::MpiSession mpi(&argc, &argv);           // MPI_Init_thread ... MPI_Finalize
//   sws::MpiCommunicator world(300);              // give up after 300 s without progress
//   run.comm = world.size() > 1 ? &world : nullptr;
#pragma once
#include <string>
#include <vector>

#include "core/communicator.h"

namespace sws {

// True when a launcher started this process as one rank of several (mpirun, or srun / another
// PMI launcher): the environment says so. Then main() starts MPI; otherwise it never does.
bool launched_by_mpi_launcher();

// MPI_Init_thread (MPI_THREAD_FUNNELED) for the process's life; MPI_Finalize at its end. One per
// process, before any MpiCommunicator.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);  // main's argc and argv
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// Ends every rank at once (MPI_Abort): for an error only this rank knows of, after which the
// others would wait for it in their next collective.
[[noreturn]] void abort_every_rank(int exit_code);

// MPI_COMM_WORLD's ranks; collectives polled against the timeout.
class MpiCommunicator : public Communicator {
 public:
  // MPI_COMM_WORLD. `timeout_seconds` > 0: how long one collective may wait for the slowest rank.
  explicit MpiCommunicator(double timeout_seconds);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override;
  void allreduce_sum(Tensor& t) override;
  void broadcast(Tensor& t, int root) override;
  void broadcast(std::string& bytes, int root) override;
  // The ranks on this machine (MPI_COMM_TYPE_SHARED): how many share its CPUs, and this one's
  // place among them (its GPU when each rank takes one).
  int local_size() const { return local_size_; }
  int local_rank() const { return local_rank_; }

 private:
  // Polls the request until it completes; past the deadline throws sws::Error naming `what` and
  // the ranks that did not answer a roll call.
  void wait(void* request, const std::string& what);
  int rank_ = 0, size_ = 1, local_size_ = 1, local_rank_ = 0;
  double timeout_ = 300;
  long long calls_ = 0;  // collectives so far: what each rank tells the roll call after a timeout
  // Buffers of requests that may outlive the call that posted them (a timeout abandons them).
  std::vector<long long> heard_;
  long long length_ = 0;
};

}  // namespace sws
