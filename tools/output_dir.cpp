#include "tools/output_dir.h"

#include <errno.h>
#include <sys/statvfs.h>

#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sws {
namespace {

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

}  // namespace

uint64_t output_bytes_needed(int64_t parameters, int float_copies, uint64_t extra_bytes) {
  SWS_CHECK(parameters >= 0 && float_copies >= 0, "output_bytes_needed: negative count");
  return static_cast<uint64_t>(parameters) * 4u * static_cast<uint64_t>(float_copies) + extra_bytes + (1u << 20);
}

uint64_t free_bytes(const std::string& dir) {
  struct statvfs s;
  if (::statvfs(dir.c_str(), &s) != 0)
    throw Error("cannot examine output folder '" + dir + "': " + std::strerror(errno));
  return static_cast<uint64_t>(s.f_bavail) * static_cast<uint64_t>(s.f_frsize);
}

void prepare_out_dir(const std::string& dir, uint64_t bytes_needed) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  SWS_CHECK(!ec, "cannot create output folder '" + dir + "': " + ec.message());
  write_file_atomically(dir + "/.write-test", std::string("ok"));
  std::filesystem::remove(dir + "/.write-test", ec);
  const uint64_t available = free_bytes(dir);
  SWS_CHECK(available >= bytes_needed,
            "output folder '" + dir + "' has " + megabytes(available) + " free but this command writes up to " +
                megabytes(bytes_needed) + " there (checkpoints after every epoch, figures); free some space or choose "
                "another --out");
}

}  // namespace sws
