// Data for a saved model (eval, predict): from the model's own config, or from flags.
#pragma once

#include <string>

#include "nettrain/data/data.h"
#include "nettrain/run/model_file.h"
#include "nettrain/train/trainer.h"

namespace nettrain {

// Where eval reads its samples: a data spec (JSON inline or a file), IDX images (+ labels), or
// a CSV; all empty means the model config's "test" split.
struct DataSource {
  std::string data;
  std::string images, labels, csv;
  std::string label_column;  // --label-column for CSV data ("" = the default rule)
};

// The dataset eval runs on: --data SPEC, --images/--labels, --csv, or else the model config's
// "test" split. Classes are mapped onto the model's class names; labels are range-checked.
Dataset load_eval_data(const LoadedModel& m, const DataSource& a);

// The samples predict runs on: an IDX images file, or a CSV with or without its label column (or
// regression targets); `label_column` ("" for the default rule) names it.
Dataset load_predict_data(const LoadedModel& m, const std::string& input, const std::string& label_column);

// Checks features against the model's input and maps string classes onto the model's names.
void fit_to_model(Dataset& d, const LoadedModel& m);

// Runs the model over every sample of d in eval mode with the model's stored preprocessing:
// raw outputs (samples, outputs), the arg-max classes when `predicted` is given, loss/accuracy.
EvalResult run_model(LoadedModel& m, const Dataset& d, Matrix& outputs, std::vector<std::int32_t>* predicted);

// Class names for printing: the model's, or "0".."K-1".
std::vector<std::string> class_labels(const LoadedModel& m);

}  // namespace nettrain
