// A fresh folder under the system temp folder for one test, removed with its contents at scope end.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace sws::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag = "test") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("sws_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of a file inside the folder.
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace sws::testing
