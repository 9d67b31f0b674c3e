// The rank-independent parts of data parallelism: how items are shared out, and the agreement
// helper without a communicator (tests/mpi_test.sh runs the collectives on 2 MPI ranks).
#include <doctest/doctest.h>

#include "core/communicator.h"

using namespace sws;

TEST_CASE("communicator: shares are contiguous, in rank order, and differ by at most one") {
  for (int64_t n : {0, 1, 5, 37, 256, 1000}) {
    for (int ranks : {1, 2, 3, 7, 64}) {
      CAPTURE(n);
      CAPTURE(ranks);
      int64_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const Share s = share_of(n, r, ranks);
        CHECK(s.first == next);
        next += s.count;
        smallest = std::min(smallest, s.count), largest = std::max(largest, s.count);
      }
      CHECK(next == n);
      CHECK(largest - smallest <= 1);
    }
  }
  CHECK(share_of(10, 0, 4).count == 3);  // the first n % ranks ranks take one more
  CHECK(share_of(10, 3, 4).count == 2);
  CHECK_THROWS_AS(share_of(10, 4, 4), Error);
  CHECK_THROWS_AS(share_of(10, 0, 0), Error);
  CHECK_THROWS_AS(share_of(-1, 0, 1), Error);
}

TEST_CASE("communicator: without one, run_on_every_rank runs the work and lets its error through") {
  int runs = 0;
  run_on_every_rank(nullptr, [&] { ++runs; });
  CHECK(runs == 1);
  CHECK_THROWS_WITH_AS(run_on_every_rank(nullptr, [] { throw Error("bad file"); }), "bad file", Error);
  CHECK(rank_count(nullptr) == 1);
  CHECK(rank_of(nullptr) == 0);
}
