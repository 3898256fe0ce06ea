// A minimal fork-join over std::thread: the addon's parallel work (segment builds, query batches)
// is coarse, so a pool would buy nothing and would outlive the Node environment.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace lsr {

// Calls fn(worker, begin, end) on chunks of [0, n) pulled dynamically by `threads` workers.
template <typename Fn>
void parallel_chunks(uint64_t n, uint32_t threads, uint64_t chunk, Fn&& fn) {
  if (n == 0) return;
  threads = std::max<uint32_t>(1, std::min<uint64_t>(threads, (n + chunk - 1) / chunk));
  std::atomic<uint64_t> next{0};
  std::exception_ptr err;
  std::atomic<bool> failed{false};
  auto work = [&](uint32_t w) {
    try {
      for (;;) {
        uint64_t b = next.fetch_add(chunk);
        if (b >= n || failed.load()) break;
        fn(w, b, std::min(n, b + chunk));
      }
    } catch (...) {
      if (!failed.exchange(true)) err = std::current_exception();
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (uint32_t w = 1; w < threads; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace lsr
