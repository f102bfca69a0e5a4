#include "engine/thread_pool.h"

#include <algorithm>

namespace rotor {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& w : workers_) w.join();
}

static void run_part(const ThreadPool::RangeFn& body, int64_t n, int parts, int index) {
  const int64_t begin = n * index / parts;
  const int64_t end = n * (index + 1) / parts;
  if (begin < end) body(begin, end, index);
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& body, int64_t elements_per_item) {
  if (n <= 0) return;
  // Depends only on n, the work per item and size(): never on timing.
  const int64_t work_parts = std::max<int64_t>(1, n * std::max<int64_t>(1, elements_per_item) / kMinPartElements);
  const int parts = static_cast<int>(std::min<int64_t>({n, size(), work_parts}));
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (parts == 1 || busy_) {
      // A nested call (from inside a body) runs serially on this thread.
      lock.unlock();
      body(0, n, 0);
      return;
    }
    busy_ = true;
    body_ = &body;
    n_ = n;
    parts_ = parts;
    pending_ = parts - 1;
    ++generation_;
  }
  work_ready_.notify_all();
  std::exception_ptr own_error;
  try {
    run_part(body, n, parts, 0);
  } catch (...) {
    own_error = std::current_exception();  // part 0: the lowest, it wins
  }
  std::unique_lock<std::mutex> lock(mutex_);
  work_done_.wait(lock, [this] { return pending_ == 0; });
  busy_ = false;
  body_ = nullptr;
  std::exception_ptr error = own_error ? own_error : error_;
  error_ = nullptr;
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    const RangeFn* body;
    int64_t n;
    int parts;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (index >= parts_) continue;  // fewer parts than threads this time
      body = body_;
      n = n_;
      parts = parts_;
    }
    std::exception_ptr error;
    try {
      run_part(*body, n, parts, index);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && (!error_ || index < error_part_)) {
        error_ = error;
        error_part_ = index;
      }
      if (--pending_ == 0) work_done_.notify_one();
    }
  }
}

}  // namespace rotor
