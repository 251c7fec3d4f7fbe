// The sum across MPI processes of a float vector, timed per megabyte (bench/mpi.sh; not built by
// CMake): nettrain's way (an allgather, then every process adds the vectors in rank order, for
// the same bits everywhere; lib/dist/src/world.cpp) beside MPI_Allreduce (whose order is Open
// MPI's choice). Prints one line per size: MB, ms per call and ms per MB for both.
#include <mpi.h>

#include <cstdio>
#include <vector>

namespace {

double time_calls(int reps, void (*f)(std::vector<float>&, std::vector<float>&), std::vector<float>& v,
                  std::vector<float>& all) {
  f(v, all);  // warm-up
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  for (int i = 0; i < reps; ++i) f(v, all);
  double t = (MPI_Wtime() - t0) / reps, worst = 0;
  MPI_Allreduce(&t, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

void gather_sum(std::vector<float>& v, std::vector<float>& all) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const auto n = v.size();
  MPI_Allgather(v.data(), static_cast<int>(n), MPI_FLOAT, all.data(), static_cast<int>(n), MPI_FLOAT, MPI_COMM_WORLD);
  for (std::size_t i = 0; i < n; ++i) {
    float acc = all[i];
    for (std::size_t r = 1; r < static_cast<std::size_t>(size); ++r) acc += all[r * n + i];
    v[i] = acc;
  }
}

void allreduce(std::vector<float>& v, std::vector<float>& /*all*/) {
  MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

}  // namespace

int main() {
  MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0)
    std::printf("# %d processes\n# MB  gather_sum_ms  gather_sum_ms_per_MB  allreduce_ms  allreduce_ms_per_MB\n", size);
  for (double mb : {0.01, 0.1, 1.0, 4.0, 8.0}) {
    const auto n = static_cast<std::size_t>(mb * 1e6 / sizeof(float));
    std::vector<float> v(n, 1.0f), all(n * static_cast<std::size_t>(size));
    const int reps = mb < 1 ? 200 : 20;
    const double g = time_calls(reps, gather_sum, v, all);
    const double a = time_calls(reps, allreduce, v, all);
    if (rank == 0) std::printf("%6.2f  %9.3f  %9.3f  %9.3f  %9.3f\n", mb, g * 1e3, g * 1e3 / mb, a * 1e3, a * 1e3 / mb);
  }
  MPI_Finalize();
  return 0;
}
