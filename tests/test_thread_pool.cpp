// ThreadPool: ranges cover [0, n) exactly once, the split depends only on n,
// the work per item and the thread count, small work runs inline on the
// caller, and nested calls run inline.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "engine/thread_pool.h"

using namespace rotor;

namespace {

struct Call {
  int64_t begin, end;
  int thread;
  std::thread::id os_thread;
};

std::vector<Call> record(ThreadPool& pool, int64_t n, int64_t elements_per_item) {
  std::mutex m;
  std::vector<Call> calls;
  pool.parallel_for(
      n,
      [&](int64_t b, int64_t e, int t) {
        std::lock_guard<std::mutex> lock(m);
        calls.push_back({b, e, t, std::this_thread::get_id()});
      },
      elements_per_item);
  std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) { return a.begin < b.begin; });
  return calls;
}

}  // namespace

TEST_CASE("parallel_for splits by work, covers every item once, and runs small work inline", "[thread_pool]") {
  ThreadPool pool(3);
  REQUIRE(pool.size() == 3);
  const int64_t grain = ThreadPool::kMinPartElements;

  SECTION("enough work: one part per thread, in order, covering [0, n)") {
    const auto calls = record(pool, 1000, grain);
    REQUIRE(calls.size() == 3);
    int64_t next = 0;
    for (size_t i = 0; i < calls.size(); ++i) {
      CHECK(calls[i].begin == next);
      CHECK(calls[i].thread == static_cast<int>(i));
      next = calls[i].end;
    }
    CHECK(next == 1000);
  }
  SECTION("work for two parts only: two parts") {
    const auto calls = record(pool, 1000, 2 * grain / 1000 + 1);
    CHECK(calls.size() == 2);
    CHECK(calls.front().begin == 0);
    CHECK(calls.back().end == 1000);
  }
  SECTION("little work: one inline call on the caller's thread") {
    const auto calls = record(pool, 1000, 1);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].begin == 0);
    CHECK(calls[0].end == 1000);
    CHECK(calls[0].thread == 0);
    CHECK(calls[0].os_thread == std::this_thread::get_id());
  }
  SECTION("fewer items than threads: at most one part per item") {
    CHECK(record(pool, 2, grain).size() == 2);
    CHECK(record(pool, 0, grain).empty());
  }
  SECTION("a nested call runs inline in the calling part") {
    std::mutex m;
    std::vector<std::pair<std::thread::id, std::thread::id>> nested;  // (outer, inner) OS thread
    pool.parallel_for(3, [&](int64_t, int64_t, int) {
      const auto outer = std::this_thread::get_id();
      pool.parallel_for(100, [&](int64_t, int64_t, int) {
        std::lock_guard<std::mutex> lock(m);
        nested.emplace_back(outer, std::this_thread::get_id());
      });
    });
    REQUIRE(nested.size() == 3);
    for (const auto& [outer, inner] : nested) CHECK(outer == inner);
  }
}

TEST_CASE("an exception in a part is rethrown after every part has finished", "[thread_pool]") {
  ThreadPool pool(3);
  std::atomic<int> finished{0};
  // Parts in `bad` throw at once; the others are still running then.
  auto run_with_bad = [&](std::vector<int> bad) {
    finished = 0;
    pool.parallel_for(3, [&](int64_t, int64_t, int t) {
      if (std::find(bad.begin(), bad.end(), t) != bad.end()) throw std::runtime_error("part " + std::to_string(t));
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      ++finished;
    });
  };
  // The caller's own part throws: it must still wait for the two workers.
  CHECK_THROWS_WITH(run_with_bad({0}), "part 0");
  CHECK(finished == 2);
  // Workers throw: the lowest part that threw wins, whichever finished first.
  CHECK_THROWS_WITH(run_with_bad({1, 2}), "part 1");
  CHECK(finished == 1);
  // The pool is usable afterwards.
  std::atomic<int64_t> covered{0};
  pool.parallel_for(9, [&](int64_t b, int64_t e, int) { covered += e - b; });
  CHECK(covered == 9);
}
