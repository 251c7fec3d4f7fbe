// Typed errors of the library. The library never prints or exits: it throws one of these, and
// app/ maps each type to an exit code in one place (SPEC §2).
//
//   ConfigError     exit 2   bad config, bad graph, bad flag value
//   DataError       exit 3   bad CSV/IDX data, labels out of range
//   ModelFileError  exit 4   bad or incompatible .safetensors file
//   IoError         exit 5   cannot read/write a path, disk full
//   TrainingError   exit 1   divergence, interruption
//
// Messages say where and what: the file, then a JSON pointer, line:column or byte offset, then
// expected vs actual.
#pragma once

#include <stdexcept>
#include <string>

namespace nettrain {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const = 0;
};

class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

class DataError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 3; }
};

class ModelFileError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 4; }
};

class IoError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 5; }
};

class TrainingError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 1; }
};

}  // namespace nettrain
