// small_gemm.h: LIBXSMM's generator (libxsmmgen) behind a per-shape cache of executable pages.
#include "small_gemm.h"

#include <libxsmm_cpuid.h>
#include <libxsmm_generator.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace nettrain::gemm_detail {
namespace {

// trans_a, m, n, k, lda, ldb, ldc, beta (0 or 1).
using ShapeKey = std::array<Index, 8>;

// The generator writes into a buffer we give it; LIBXSMM's runtime gives it 128 KiB.
constexpr unsigned kCodeBufferBytes = 131072;

// The target: this machine's instruction set as LIBXSMM names it, or 0 below AVX2 (there the
// products stay with OpenBLAS).
int target_arch() {
  static const int arch = [] {
    const int id = libxsmm_cpuid();
    return id >= LIBXSMM_X86_AVX2 ? id : 0;
  }();
  return arch;
}

// Copies code into fresh pages and makes them read+execute (never writable and executable at
// once). The pages live as long as the process: a kernel may run until exit.
SmallKernel to_executable(const void* code, size_t bytes) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t size = (bytes + page - 1) / page * page;
  void* pages = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) return nullptr;
  std::memcpy(pages, code, bytes);
  if (mprotect(pages, size, PROT_READ | PROT_EXEC) != 0) {
    munmap(pages, size);
    return nullptr;
  }
  return reinterpret_cast<SmallKernel>(pages);
}

// The kernel for one shape, in LIBXSMM's column-major terms (see small_gemm.h), or null.
SmallKernel generate(const ShapeKey& key) {
  const int arch = target_arch();
  if (arch == 0) return nullptr;
  const auto [trans_a, m, n, k, lda, ldb, ldc, beta_one] = key;
  auto i = [](Index v) { return static_cast<libxsmm_blasint>(v); };
  const int flags = (trans_a ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) | (beta_one ? 0 : LIBXSMM_GEMM_FLAG_BETA_0);
  libxsmm_descriptor_blob blob;
  const libxsmm_gemm_descriptor* descriptor = libxsmm_sgemm_descriptor_init(
      &blob, i(n), i(m), i(k), i(ldb), i(lda), i(ldc), 1.0f, beta_one ? 1.0f : 0.0f, flags, LIBXSMM_GEMM_PREFETCH_NONE);
  if (descriptor == nullptr) return nullptr;

  std::vector<unsigned char> buffer(kCodeBufferBytes);
  libxsmm_generated_code code{};
  code.generated_code = buffer.data();
  code.buffer_size = kCodeBufferBytes;
  code.code_type = 2;  // machine code
  code.arch = static_cast<unsigned>(arch);
  // As LIBXSMM's runtime does: a product with a side of at most 16 entries gets the AVX2 kernel.
  if (arch > LIBXSMM_X86_AVX2 && (m * k <= 16 || k * n <= 16 || m * n <= 16)) code.arch = LIBXSMM_X86_AVX2;
  libxsmm_generator_gemm_kernel(&code, descriptor);
  if (code.last_error != 0 || code.code_size == 0) return nullptr;
  return to_executable(buffer.data(), code.code_size);
}

}  // namespace

SmallKernel small_kernel(bool trans_a, Index m, Index n, Index k, Index lda, Index ldb, float beta, Index ldc) {
  const ShapeKey key{trans_a ? 1 : 0, m, n, k, lda, ldb, ldc, beta == 0.0f ? 0 : 1};
  // Each thread asks its own table first (no lock on the hot path); the shared one makes each
  // shape's code once for all threads.
  thread_local std::map<ShapeKey, SmallKernel> mine;
  if (const auto it = mine.find(key); it != mine.end()) return it->second;
  static std::mutex mutex;
  static std::map<ShapeKey, SmallKernel> shared;
  SmallKernel kernel;
  {
    const std::lock_guard lock(mutex);
    const auto [it, added] = shared.try_emplace(key, nullptr);
    if (added) it->second = generate(key);
    kernel = it->second;
  }
  mine.emplace(key, kernel);
  return kernel;
}

}  // namespace nettrain::gemm_detail
