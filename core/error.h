// Errors: every failure in sws is an sws::Error whose message says what was wrong, with which
// input, and (where it helps) how to fix it. The CLI prints it to stderr and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace sws {

// The one exception type sws throws on bad input or a failed operation; what() is the message.
struct Error : std::runtime_error {
  explicit Error(const std::string& message) : std::runtime_error(message) {}  // what() = message
};

// Throws sws::Error(message) when the condition is false; `message` (a std::string expression) is
// only evaluated then. Use for user-facing validation.
#define SWS_CHECK(condition, message)                                      \
  do {                                                                     \
    if (!(condition)) throw ::sws::Error(std::string(message));            \
  } while (0)

}  // namespace sws
