// The MPI world behind core's Collective (dist/world.h). Sums gather every process's vector and
// add them in the fixed tree over the ranks on every process: the same bits everywhere and run to run, whatever
// algorithm Open MPI would pick for MPI_Allreduce (which it chooses by message size and process
// count, so its order, and its bits, can change with both). Costs P·n received values instead
// of a ring's 2n (docs/scaling.md).
#include "nettrain/dist/world.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "nettrain/core/errors.h"

#ifdef NETTRAIN_HAVE_MPI
#include <mpi.h>
#endif

namespace nettrain::dist {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end != v && *end == '\0' && n > 0 && n < 1 << 20 ? static_cast<int>(n) : fallback;
}

class SingleProcess final : public Collective {};

#ifdef NETTRAIN_HAVE_MPI

class MpiWorld final : public Collective {
 public:
  MpiWorld() {
    MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiWorld() override { MPI_Finalize(); }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(std::span<double> v) override { sum_in_rank_order(v, MPI_DOUBLE, doubles_); }
  void sum(std::span<float> v) override { sum_in_rank_order(v, MPI_FLOAT, floats_); }

  void broadcast(std::span<float> v) override {
    const double t0 = MPI_Wtime();
    MPI_Bcast(v.data(), static_cast<int>(v.size()), MPI_FLOAT, 0, MPI_COMM_WORLD);
    seconds_ += MPI_Wtime() - t0;
  }

  std::vector<std::string> gather(const std::string& s) override {
    const double t0 = MPI_Wtime();
    const int len = static_cast<int>(s.size());
    std::vector<int> lens(static_cast<std::size_t>(size_)), at(static_cast<std::size_t>(size_));
    MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD);
    int total = 0;
    for (std::size_t r = 0; r < lens.size(); ++r) {
      at[r] = total;
      total += lens[r];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    MPI_Allgatherv(s.data(), len, MPI_CHAR, all.data(), lens.data(), at.data(), MPI_CHAR, MPI_COMM_WORLD);
    std::vector<std::string> out;
    for (std::size_t r = 0; r < lens.size(); ++r)
      out.push_back(all.substr(static_cast<std::size_t>(at[r]), static_cast<std::size_t>(lens[r])));
    seconds_ += MPI_Wtime() - t0;
    return out;
  }

  double seconds() const override { return seconds_; }

 private:
  // v <- the processes' v added in the tree over the ranks, from an allgather of every v.
  template <typename T>
  void sum_in_rank_order(std::span<T> v, MPI_Datatype type, std::vector<T>& all) {
    const double t0 = MPI_Wtime();
    const std::size_t n = v.size();
    all.resize(n * static_cast<std::size_t>(size_));  // allocates once per size
    MPI_Allgather(v.data(), static_cast<int>(n), type, all.data(), static_cast<int>(n), type, MPI_COMM_WORLD);
    tree_sum_rows(all.data(), size_, static_cast<long>(n));
    std::copy_n(all.data(), n, v.data());
    seconds_ += MPI_Wtime() - t0;
  }

  int rank_ = 0, size_ = 1;
  std::vector<double> doubles_;
  std::vector<float> floats_;
  double seconds_ = 0.0;
};

#endif

}  // namespace

bool built_with_mpi() {
#ifdef NETTRAIN_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

std::unique_ptr<Collective> join_world() {
  if (!launched_by_mpirun()) {
    // Another launcher (MPICH's mpiexec, Slurm's srun) starting several copies: each would train
    // alone and write the same run directory, so refuse.
    const int others = std::max({env_int("PMI_SIZE", 1), env_int("SLURM_NTASKS", 1), env_int("MPI_LOCALNRANKS", 1)});
    if (others > 1)
      throw ConfigError("started as one of " + std::to_string(others) +
                        " processes by a launcher other than Open MPI's mpirun (PMI_SIZE or SLURM_NTASKS is set); "
                        "nettrain joins Open MPI jobs only: start it with mpirun");
    return std::make_unique<SingleProcess>();
  }
#ifdef NETTRAIN_HAVE_MPI
  return std::make_unique<MpiWorld>();
#else
  if (env_int("OMPI_COMM_WORLD_SIZE", 1) > 1)
    throw ConfigError("started by mpirun with " + std::to_string(env_int("OMPI_COMM_WORLD_SIZE", 1)) +
                      " processes, but this nettrain was built without MPI (NETTRAIN_MPI=OFF)");
  return std::make_unique<SingleProcess>();
#endif
}

int local_processes() { return env_int("OMPI_COMM_WORLD_LOCAL_SIZE", 1); }

void abort_world(int code) {
#ifdef NETTRAIN_HAVE_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

}  // namespace nettrain::dist
