// Times forward + backward of a network config's model on random inputs, per layer type mix:
// the speed of the conv layers without data loading or the optimizer.
// Usage: nettrain_conv_bench CONFIG.json [BATCH=128] [STEPS=20] [THREADS=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nettrain/core/config_node.h"
#include "nettrain/layers/network.h"
#include "nettrain/core/parallel.h"

using namespace nettrain;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CONFIG.json [BATCH] [STEPS] [THREADS]\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[1]);
  const nlohmann::json config = nlohmann::json::parse(f);
  const Index batch = argc > 2 ? std::atol(argv[2]) : 128;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 20;
  set_num_threads(argc > 4 ? std::atoi(argv[4]) : 1);
  Network net = Network::from_config(ConfigNode(config.at("model"), "/model", argv[1]));
  net.init_params(1);
  const Matrix x = Matrix::Random(batch, net.input_size());
  const Matrix dy = Matrix::Random(batch, net.output_shape().size());
  net.forward(x, Mode::train);  // size the buffers
  net.backward(dy);
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) {
    net.zero_grads();
    net.forward(x, Mode::train);
    net.backward(dy);
  }
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.3f ms/step, %.1f s per 54,000 samples\n", 1e3 * sec / steps,
              sec / steps / static_cast<double>(batch) * 54000.0);
  return 0;
}
