// A read-only memory map of a whole file: the CSV reader parses the bytes where they lie, and
// raw IDX files and the data cache are read through it one batch at a time, so their pages are
// the kernel's page cache (shared by every process reading the file) and never the process's
// private memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nettrain {

class MappedFile {
 public:
  // Maps `path` whole. An empty file maps to an empty view; a pipe or device is read into memory
  // instead. Throws IoError naming the path.
  explicit MappedFile(const std::string& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::string_view text() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

  // The file's size on disk now. A file deleted (or replaced by a rename) while mapped keeps its
  // data until the map is closed (Linux); one truncated below size() would make reading its
  // tail fault (SIGBUS): readers check this first.
  std::int64_t size_on_disk() const;
  // Whether the file still has the size and modification time it had when mapped: a rewrite in
  // place of the same size changes the mapped pages under a reader, so readers refuse it too.
  bool unchanged_on_disk() const;

 private:
  std::string path_;
  std::string owned_;  // a pipe's bytes
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
  std::int64_t mtime_ns_ = 0;  // at mapping
};

}  // namespace nettrain
