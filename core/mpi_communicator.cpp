#include "core/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/error.h"

namespace sws {

namespace {

constexpr int kRollCallTag = 30001;  // the roll call after a timeout (below the standard's minimum tag bound, 32767)

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

MPI_Datatype mpi_type(DType dtype, const std::string& what) {
  if (dtype == DType::F32) return MPI_FLOAT;
  if (dtype == DType::F64) return MPI_DOUBLE;
  throw Error(what + ": only F32 and F64 tensors are summed across ranks");
}

int mpi_count(int64_t n, const std::string& what) {
  SWS_CHECK(n >= 0 && n <= INT_MAX, what + ": " + std::to_string(n) + " elements are more than one MPI call carries");
  return static_cast<int>(n);
}

// A host copy to work on (the tensor itself when it is on the host and contiguous).
Tensor host_buffer(const Tensor& t) { return t.device().is_cpu() ? t.contiguous() : t.to(Device::cpu()).contiguous(); }

}  // namespace

bool launched_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(name)) return true;
  return false;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void abort_every_rank(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);  // not reached
}

MpiCommunicator::MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
  SWS_CHECK(timeout_seconds > 0, "the communication timeout must be positive, got " + std::to_string(timeout_seconds));
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_free(&local);
}

std::string MpiCommunicator::describe() const {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string v(version, static_cast<size_t>(length));
  v = v.substr(0, v.find_first_of(",\n"));
  return "MPI (" + v + "), " + std::to_string(size_) + " ranks";
}

void MpiCommunicator::wait(void* request, const std::string& what) {
  MPI_Request& req = *static_cast<MPI_Request*>(request);
  ++calls_;
  const auto start = std::chrono::steady_clock::now();
  for (long spins = 0;; ++spins) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    // Spin first (a step's collective usually completes within microseconds of the last
    // arrival), then poll every 50 us so that a long wait does not take a core from the others.
    if (spins > 2000) {
      if (seconds_since(start) > timeout_) break;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  // A roll call: every rank that is still answering sends its call count to every other and
  // listens for as long again (they time out within a step of each other); the silent are named.
  const double grace = std::min(timeout_, 60.0);
  heard_.assign(static_cast<size_t>(size_), -1);
  std::vector<MPI_Request> sends, receives(static_cast<size_t>(size_), MPI_REQUEST_NULL);
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    sends.emplace_back();
    MPI_Isend(&calls_, 1, MPI_LONG_LONG, r, kRollCallTag, MPI_COMM_WORLD, &sends.back());
    MPI_Irecv(&heard_[static_cast<size_t>(r)], 1, MPI_LONG_LONG, r, kRollCallTag, MPI_COMM_WORLD,
              &receives[static_cast<size_t>(r)]);
  }
  std::vector<bool> answered(static_cast<size_t>(size_), false);
  answered[static_cast<size_t>(rank_)] = true;
  const auto roll_start = std::chrono::steady_clock::now();
  int silent = size_ - 1;
  while (silent > 0 && seconds_since(roll_start) < grace) {
    for (int r = 0; r < size_; ++r) {
      if (answered[static_cast<size_t>(r)]) continue;
      int done = 0;
      MPI_Test(&receives[static_cast<size_t>(r)], &done, MPI_STATUS_IGNORE);
      if (done) answered[static_cast<size_t>(r)] = true, --silent;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string names;
  for (int r = 0; r < size_; ++r)
    if (!answered[static_cast<size_t>(r)]) names += (names.empty() ? "" : ", ") + std::to_string(r);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", timeout_);
  if (names.empty()) {
    // Every rank answered: either they wait in different collectives (a bug: say where each is)
    // or the transport is slower than the timeout.
    std::string counts;
    bool differ = false;
    for (int r = 0; r < size_; ++r) {
      const long long at = r == rank_ ? calls_ : heard_[static_cast<size_t>(r)];
      differ = differ || at != calls_;
      counts += (counts.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " at #" + std::to_string(at);
    }
    if (differ)
      throw CommunicationError(what + " made no progress for " + seconds + " s: the ranks wait in different "
                               "collectives (" + counts + "); giving up");
    throw CommunicationError(what + " made no progress for " + seconds + " s (--comm-timeout) though every rank "
                             "answered a roll call: the transport is slower than this timeout; giving up");
  }
  throw CommunicationError(what + " made no progress for " + seconds + " s (--comm-timeout): rank" + (silent > 1 ? "s " : " ") +
              names + " did not answer (stopped, hung or cut off); rank " + std::to_string(rank_) + " gives up");
}

void MpiCommunicator::allreduce_sum(Tensor& t) {
  const std::string what = "the allreduce of " + std::to_string(t.numel()) + " values";
  const MPI_Datatype type = mpi_type(t.dtype(), what);
  Tensor host = host_buffer(t);
  MPI_Request req;
  MPI_Iallreduce(MPI_IN_PLACE, host.raw_data(), mpi_count(host.numel(), what), type, MPI_SUM, MPI_COMM_WORLD, &req);
  wait(&req, what);
  if (!host.same(t)) t.copy_(host);
}

void MpiCommunicator::broadcast(Tensor& t, int root) {
  const std::string what = "the broadcast of " + std::to_string(t.numel()) + " values from rank " + std::to_string(root);
  Tensor host = host_buffer(t);
  MPI_Request req;
  MPI_Ibcast(host.raw_data(), mpi_count(host.numel() * static_cast<int64_t>(dtype_size(t.dtype())), what), MPI_BYTE,
             root, MPI_COMM_WORLD, &req);
  wait(&req, what);
  if (!host.same(t)) t.copy_(host);
}

void MpiCommunicator::broadcast(std::string& bytes, int root) {
  const std::string what = "a message's broadcast from rank " + std::to_string(root);
  length_ = static_cast<long long>(bytes.size());
  MPI_Request req;
  MPI_Ibcast(&length_, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD, &req);
  wait(&req, what);
  bytes.resize(static_cast<size_t>(length_));
  if (length_ == 0) return;
  MPI_Ibcast(bytes.data(), mpi_count(length_, what), MPI_BYTE, root, MPI_COMM_WORLD, &req);
  wait(&req, what);
}

}  // namespace sws
