// ThreadPool: a fixed set of worker threads for the CPU kernels.
//
// Work is split statically: parallel_for(n, fn) hands thread t the range
// [t*n/T, (t+1)*n/T). The split depends only on n and the thread count, never
// on timing, so a CPU run with the same thread count is bit-for-bit
// reproducible (reductions are combined in thread order).
#pragma once

#include <condition_variable>
#include <cstdint>
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

  // Calls body(begin, end, thread_index) on disjoint ranges covering [0, n),
  // one per thread (fewer when n < size()). The calling thread takes part.
  // Runs inline when n is small or the pool is busy (nested calls).
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;
  void parallel_for(int64_t n, const RangeFn& body);

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
};

}  // namespace rotor
