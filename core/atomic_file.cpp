#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace sws {
namespace {

// "core/atomic_file.cpp: cannot write '<path>': <step>: <strerror(err)>".
Error write_error(const std::string& path, const std::string& step, int err) {
  return Error("core/atomic_file.cpp: cannot write '" + path + "': " + step + ": " +
               std::strerror(err));
}

// "core/atomic_file.cpp: cannot read '<path>': <strerror(err)>".
Error read_error(const std::string& path, int err) {
  return Error("core/atomic_file.cpp: cannot read '" + path + "': " + std::strerror(err));
}

// Writes all `size` bytes to `fd`, retrying short writes and EINTR. Returns 0 or an errno value.
int write_all(int fd, const uint8_t* p, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // a regular file never accepts zero bytes without an error
    p += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

// The folder holding `path` ("." for a bare file name).
std::string parent_folder(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

}  // namespace

namespace {

// SWS_TEST_KILL_IN_WRITE="SUFFIX:N": the N-th write (1-based) of a file whose path ends with
// SUFFIX kills the process halfway through (tests/mpi_test.sh: a rank killed while writing its
// checkpoint must leave the previous one intact).
bool kill_test_requested(const std::string& path) {
  static int matches = 0;
  const char* spec = std::getenv("SWS_TEST_KILL_IN_WRITE");
  if (!spec) return false;
  const std::string s = spec;
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string suffix = s.substr(0, colon);
  if (path.size() < suffix.size() || path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  return ++matches == std::atoi(s.c_str() + colon + 1);
}

}  // namespace

void write_file_atomically(const std::string& path, const void* data, size_t size) {
  SWS_CHECK(!path.empty(), "core/atomic_file.cpp: write_file_atomically: empty path");
  SWS_CHECK(data != nullptr || size == 0,
            "core/atomic_file.cpp: write_file_atomically: null data for " + std::to_string(size) +
                " bytes to '" + path + "'");
  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));

  int fd;
  do {
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw write_error(path, "cannot create temporary file '" + tmp + "'", errno);

  // From here on every failure removes the temporary before throwing.
  auto fail = [&](const std::string& step, int err, bool close_fd) -> Error {
    if (close_fd) ::close(fd);
    ::unlink(tmp.c_str());
    return write_error(path, step, err);
  };
  if (kill_test_requested(path)) {
    // The crash tests' fault: half the bytes written, then the process dies (SIGKILL).
    write_all(fd, static_cast<const uint8_t*>(data), size / 2);
    ::fsync(fd);
    ::raise(SIGKILL);
  }
  if (int err = write_all(fd, static_cast<const uint8_t*>(data), size))
    throw fail("writing " + std::to_string(size) + " bytes to temporary file '" + tmp + "'", err,
               true);
  if (::fsync(fd) != 0) throw fail("fsync of temporary file '" + tmp + "'", errno, true);
  if (::close(fd) != 0) throw fail("close of temporary file '" + tmp + "'", errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw fail("renaming temporary file '" + tmp + "' over it", errno, false);

  // Make the rename itself durable. Some file systems cannot sync a folder (EINVAL); the data is
  // already in place, so that alone is not an error.
  const std::string dir = parent_folder(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    throw write_error(
        path, "content is in place but opening its folder '" + dir + "' to sync failed", errno);
  if (::fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int err = errno;
    ::close(dfd);
    throw write_error(path, "content is in place but fsync of its folder '" + dir + "' failed",
                      err);
  }
  ::close(dfd);
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_file_atomically(path, bytes.data(), bytes.size());
}

std::vector<uint8_t> read_whole_file(const std::string& path, size_t max_size) {
  int fd;
  do { fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw read_error(path, errno);

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw read_error(path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error("core/atomic_file.cpp: cannot read '" + path + "': it is a directory, not a file");
  }
  auto too_large = [&](const std::string& size_text) {
    ::close(fd);
    return Error("core/atomic_file.cpp: cannot read '" + path + "': it is " + size_text +
                 " bytes, more than the limit of " + std::to_string(max_size) + " bytes");
  };
  std::vector<uint8_t> out;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > max_size) throw too_large(std::to_string(st.st_size));
    out.reserve(static_cast<size_t>(st.st_size));
  }
  // Read to end of file: the size from fstat is only a hint (the file may change, or be a pipe).
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw read_error(path, err);
    }
    if (n == 0) break;
    if (static_cast<size_t>(n) > max_size - out.size())
      throw too_large("over " + std::to_string(max_size));
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

}  // namespace sws
