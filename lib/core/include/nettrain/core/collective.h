// The processes of a data-parallel run, as the library sees them: how many there are, which one
// this is, and the few collective operations training needs. The library never sees MPI: the
// dist module implements this over MPI, and one process uses the identity below.
//
// Every operation is called by every process in the same order (a collective). Sums add the
// processes' values in a fixed binary tree over the ranks ((v0 + v1) + (v2 + v3)) ..., never in
// an order the transport picks, so every process gets the same bits, and the same bits run to run.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace nettrain {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }

  // v <- Σ over processes of v, added in the tree over the ranks (tree_sum_rows).
  virtual void sum(std::span<double> /*v*/) {}
  virtual void sum(std::span<float> /*v*/) {}
  // v <- rank 0's v.
  virtual void broadcast(std::span<float> /*v*/) {}
  // Every process's s, in rank order.
  virtual std::vector<std::string> gather(const std::string& s) { return {s}; }

  // Wall seconds spent inside the operations so far (the communication share of a step).
  virtual double seconds() const { return 0.0; }

  // Set when an error was raised by every process together (the run agreed on it): rank 0
  // reports it, the others end quietly with the same exit code, and nobody must abort the job.
  void set_agreed_failure() { agreed_failure_ = true; }
  bool agreed_failure() const { return agreed_failure_; }

 private:
  bool agreed_failure_ = false;
};

// The one-process identity (every operation a no-op).
Collective& single_process();

// Rows [first, first + count) of a batch of `total` rows that process `rank` of `size` computes:
// contiguous slices in rank order, sizes differing by at most one.
struct BatchSlice {
  long first = 0, count = 0;
};
inline BatchSlice batch_slice(long total, int rank, int size) {
  const long a = total * rank / size, b = total * (rank + 1) / size;
  return {a, b - a};
}

// Adds rows 0..k-1 of a row-major (k, n) block in a fixed binary tree, ((r0 + r1) + (r2 + r3))
// + ...; the sum lands in row 0.
template <typename T>
void tree_sum_rows(T* rows, long k, long n) {
  for (long step = 1; step < k; step *= 2)
    for (long i = 0; i + step < k; i += 2 * step) {
      T* a = rows + i * n;
      const T* b = rows + (i + step) * n;
      for (long j = 0; j < n; ++j) a[j] += b[j];
    }
}

}  // namespace nettrain
