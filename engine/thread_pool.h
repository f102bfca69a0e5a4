// ThreadPool: a fixed set of worker threads for the CPU kernels.
//
// Work is split statically: parallel_for(n, fn) hands thread t the range
// [t*n/T, (t+1)*n/T). The split depends only on n and the thread count, never
// on timing, so a CPU run with the same thread count is bit-for-bit
// reproducible (reductions are combined in thread order).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rotor {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Waking a worker costs tens of microseconds (a futex round trip; more on
  // a VM), so a part should carry at least this many elements of work.
  static constexpr int64_t kMinPartElements = int64_t(1) << 15;

  // Calls body(begin, end, thread_index) on disjoint ranges covering [0, n),
  // one per part; the calling thread takes part. Each item is
  // `elements_per_item` elements of work: the number of parts is at most
  // size(), n, and the total work over kMinPartElements, so small calls (a
  // batch of one image, a bias vector) run inline instead of paying for a
  // wake-up. The default treats every item as worth a part of its own.
  // Nested calls (from inside a body) run inline too. If bodies throw, every
  // part still finishes (none is abandoned while others use `body`) and the
  // exception of the lowest-numbered part that threw is rethrown here.
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;
  void parallel_for(int64_t n, const RangeFn& body, int64_t elements_per_item = kMinPartElements);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const RangeFn* body_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  bool busy_ = false;
  std::exception_ptr error_;  // of the lowest part that threw in this call
  int error_part_ = 0;
};

}  // namespace rotor
