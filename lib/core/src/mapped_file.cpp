// MappedFile: mmap of a whole file, read-only and private.
#include "nettrain/core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nettrain/core/errors.h"
#include "nettrain/core/files.h"

namespace nettrain {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw IoError("cannot stat " + path + ": " + std::strerror(e));
  }
  mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw IoError("cannot read " + path + ": it is a directory");
  }
  if (!S_ISREG(st.st_mode)) {  // a pipe or a device: read it into memory
    ::close(fd_);
    fd_ = -1;
    owned_ = read_file(path);
    data_ = reinterpret_cast<std::uint8_t*>(owned_.data());
    size_ = owned_.size();
    return;
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    ::close(fd_);
    throw IoError("cannot map " + path + " (" + std::to_string(size_) + " bytes) for reading: " + std::strerror(e));
  }
  data_ = static_cast<std::uint8_t*>(p);
}

MappedFile::~MappedFile() {
  if (data_ && fd_ >= 0) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

std::int64_t MappedFile::size_on_disk() const {
  if (fd_ < 0) return static_cast<std::int64_t>(size_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_size);
}

bool MappedFile::unchanged_on_disk() const {
  if (fd_ < 0) return true;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return false;
  const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return static_cast<std::size_t>(st.st_size) == size_ && mtime == mtime_ns_;
}

}  // namespace nettrain
