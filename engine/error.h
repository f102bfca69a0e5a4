// rotor::Error and the checks that raise it.
//
// Every error a user can cause (bad flag, missing or corrupt file, shape
// mismatch) is an Error whose message names the value, where it came from and
// what was expected. Library code never calls exit(): the apps catch Error,
// print one line and return a non-zero exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace rotor {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace rotor

// ROTOR_CHECK(condition, "format {}", args...): throws rotor::Error when the
// condition is false.
#define ROTOR_CHECK(condition, ...)                 \
  do {                                              \
    if (!(condition)) ::rotor::fail(__VA_ARGS__);   \
  } while (0)
