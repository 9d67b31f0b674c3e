// Tests for core/atomic_file: atomic replace, failure leaves nothing behind, bounded reads.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "core/atomic_file.h"
#include "temp_dir.h"
#include "core/error.h"

namespace fs = std::filesystem;
using namespace sws;
using sws::testing::TempDir;

namespace {


std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// Names of the entries of a folder.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The message of the sws::Error that f throws ("" if it throws none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) { return e.what(); }
  return "";
}

}  // namespace

TEST_CASE("atomic_file: write then read back") {
  TempDir dir;
  const std::string path = (dir.path / "a.bin").string();
  std::string content;
  for (int i = 0; i < 300000; ++i) content.push_back(static_cast<char>(i * 7));
  write_file_atomically(path, content);
  CHECK(as_string(read_whole_file(path, content.size())) == content);
  CHECK(listing(dir.path) == std::vector<std::string>{"a.bin"});

  // The raw-pointer overload, and an empty file.
  const uint8_t raw[3] = {1, 2, 3};
  write_file_atomically(path, raw, 3);
  CHECK(read_whole_file(path, 3) == std::vector<uint8_t>{1, 2, 3});
  write_file_atomically(path, nullptr, 0);
  CHECK(read_whole_file(path, 0).empty());
}

TEST_CASE("atomic_file: writing into a nonexistent folder throws and leaves nothing") {
  TempDir dir;
  const fs::path missing = dir.path / "no_such_folder";
  const std::string path = (missing / "a.bin").string();
  const std::string msg = error_of([&] { write_file_atomically(path, std::string("hello")); });
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("No such file or directory") != std::string::npos);
  CHECK(!fs::exists(missing));
  CHECK(listing(dir.path).empty());
}

TEST_CASE("atomic_file: overwriting keeps old or new content and leaves no temporary") {
  TempDir dir;
  const std::string path = (dir.path / "model.bin").string();
  write_file_atomically(path, std::string("old content"));
  write_file_atomically(path, std::string("new, longer content"));
  CHECK(as_string(read_whole_file(path, 1000)) == "new, longer content");
  CHECK(listing(dir.path) == std::vector<std::string>{"model.bin"});

  // A target that is a non-empty folder cannot be replaced: the rename fails, the folder is
  // untouched and the temporary is removed.
  const fs::path folder = dir.path / "folder";
  fs::create_directories(folder / "inside");
  const std::string msg =
      error_of([&] { write_file_atomically(folder.string(), std::string("x")); });
  CHECK(msg.find(folder.string()) != std::string::npos);
  CHECK(fs::is_directory(folder / "inside"));
  CHECK(listing(dir.path) == std::vector<std::string>{"folder", "model.bin"});
}

TEST_CASE("atomic_file: a failed write (file size limit, like a full disk) keeps the old file") {
  TempDir dir;
  const std::string path = (dir.path / "big.bin").string();
  write_file_atomically(path, std::string("previous"));

  // Limit this process's file size so write() fails with EFBIG, as it would with ENOSPC.
  struct Restore {
    rlimit old;
    void (*old_handler)(int);
    Restore() {
      getrlimit(RLIMIT_FSIZE, &old);
      old_handler = signal(SIGXFSZ, SIG_IGN);
      rlimit small = old;
      small.rlim_cur = 4096;
      setrlimit(RLIMIT_FSIZE, &small);
    }
    ~Restore() {
      setrlimit(RLIMIT_FSIZE, &old);
      signal(SIGXFSZ, old_handler);
    }
  };
  std::string msg;
  {
    Restore limit;
    msg = error_of([&] { write_file_atomically(path, std::string(100000, 'z')); });
  }
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("File too large") != std::string::npos);
  CHECK(as_string(read_whole_file(path, 100)) == "previous");
  CHECK(listing(dir.path) == std::vector<std::string>{"big.bin"});
}

TEST_CASE("atomic_file: read_whole_file rejects missing, directory and oversized files") {
  TempDir dir;
  const std::string missing = (dir.path / "missing.bin").string();
  std::string msg = error_of([&] { read_whole_file(missing, 100); });
  CHECK(msg.find(missing) != std::string::npos);
  CHECK(msg.find("No such file or directory") != std::string::npos);

  msg = error_of([&] { read_whole_file(dir.path.string(), 100); });
  CHECK(msg.find(dir.path.string()) != std::string::npos);
  CHECK(msg.find("directory") != std::string::npos);

  const std::string path = (dir.path / "ten.bin").string();
  write_file_atomically(path, std::string("0123456789"));
  CHECK(read_whole_file(path, 10).size() == 10);
  msg = error_of([&] { read_whole_file(path, 9); });
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("more than the limit of 9 bytes") != std::string::npos);
}
