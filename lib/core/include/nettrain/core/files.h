// Files that survive crashes: everything nettrain writes under a final name is first written to
// a temporary name in the same folder, flushed, fsynced and renamed over the final name, so a
// reader sees either the old file or the whole new one, never half of it.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace nettrain {

// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the folder). Throws
// IoError naming the path and the system's reason (no space left, permission denied, ...); on
// failure the temp file is removed and `path` is untouched.
// With `sync` false the data is not fsynced: still never half a file for a crashed process, but
// a machine crash may lose it (for files rewritten often and again at the end, like curves.svg).
void write_file_atomic(const std::string& path, std::string_view bytes, bool sync = true);
// The same for a file made of `parts` one after the other (written in turn, never joined in
// memory).
void write_file_atomic(const std::string& path, std::span<const std::string_view> parts, bool sync = true);

// Flushes an existing file and its folder to the disk (what write_file_atomic with `sync` false
// left to the kernel). Throws IoError naming the path.
void sync_file(const std::string& path);
// Reads a whole file. Throws IoError naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

// Creates `dir` and its parents. Throws IoError naming the path.
void make_directories(const std::string& dir);

// An append-only text file (metrics.csv, steps.csv, train.log) whose rows are flushed and
// fsynced by flush(). Throws IoError naming the path on any failure.
class AppendFile {
 public:
  AppendFile() = default;
  explicit AppendFile(const std::string& path, bool truncate);
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  void write(std::string_view text);  // buffered
  void flush(bool sync = true);       // write out; fsync unless `sync` is false
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::string buffer_;
};

}  // namespace nettrain
