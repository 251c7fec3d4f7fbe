// CSV reader: the whole file in memory, parsed with pointers and std::from_chars (no streams,
// no locale, no std::string per numeric cell). Handles a UTF-8 BOM, CRLF or CR line ends, a
// missing final newline, blank lines, and quoted fields ("a,b", doubled "" quotes).
//
// Columns take one role each: feature, class label, or regression target. Every error names
// file:line:column and says expected vs found.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <cstring>
#include <exception>
#include <iterator>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"
#include "nettrain/core/mapped_file.h"
#include "nettrain/core/parallel.h"

namespace nettrain {
namespace {

inline bool is_eol(const char* p, const char* end) { return p == end || *p == '\n' || *p == '\r'; }

std::string show(std::string_view s) {
  std::string t;
  for (const char ch : s.substr(0, 40)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      t += fmt::format("\\x{:02x}", c);
    } else {
      t += ch;
    }
  }
  if (s.size() > 40) t += "...";
  return "\"" + t + "\"";
}

// One character as show() writes it, without the quotes.
std::string unquoted_show(char c) {
  const std::string s = show(std::string_view(&c, 1));
  return s.substr(1, s.size() - 2);
}

// A parse error at line:col (1-based column; the line is relative to where parsing started).
struct CsvFail {
  long line = 0, col = 0;
  std::string msg;
};

struct Parser {
  std::string name;
  const char* begin;
  const char* end;
  char delim;

  // Throws CsvFail; the public entry points turn it into a DataError naming file:line:column
  // (a chunk's lines are counted from the chunk's start until the chunks before it are known).
  [[noreturn]] void fail(long line, long col, const std::string& msg) const { throw CsvFail{line, col, msg}; }

  // Reads one field at p, unescaping quotes; leaves p on the delimiter, the line end or the end.
  // `line` advances over newlines inside quotes.
  std::string read_field(const char*& p, long& line, const char* line_start, bool* quoted = nullptr) const {
    const char* q = p;
    while (q < end && *q == ' ') ++q;
    std::string out;
    if (q < end && *q == '"') {
      if (quoted) *quoted = true;
      const long open_line = line;
      const long open_col = static_cast<long>(q - line_start) + 1;
      ++q;
      for (;;) {
        if (q == end)
          fail(open_line, open_col, "unterminated quoted field: expected a closing '\"', found the end of file");
        if (*q == '"') {
          if (q + 1 < end && q[1] == '"') {
            out += '"';
            q += 2;
            continue;
          }
          ++q;
          break;
        }
        if (*q == '\n') ++line;
        out += *q++;
      }
      while (q < end && *q == ' ') ++q;
      if (!is_eol(q, end) && *q != delim)
        fail(line, static_cast<long>(q - line_start) + 1,
             "expected a delimiter or line end after a closing quote, found '" + unquoted_show(*q) + "'");
    } else {
      if (quoted) *quoted = false;
      const char* s = p;
      while (!is_eol(q, end) && *q != delim) ++q;
      out.assign(s, q);
      while (!out.empty() && out.back() == ' ') out.pop_back();
      std::size_t lead = 0;
      while (lead < out.size() && out[lead] == ' ') ++lead;
      out.erase(0, lead);
    }
    p = q;
    return out;
  }

  // All fields of the row at p; leaves p at the start of the next line.
  std::vector<std::string> read_row(const char*& p, long& line) const {
    const char* ls = p;
    std::vector<std::string> row;
    for (;;) {
      row.push_back(read_field(p, line, ls));
      if (p < end && *p == delim) {
        ++p;
        continue;
      }
      break;
    }
    skip_eol(p);
    ++line;
    return row;
  }

  static void skip_eol_impl(const char*& p, const char* e) {
    if (p < e && *p == '\r') ++p;
    if (p < e && *p == '\n') ++p;
  }
  void skip_eol(const char*& p) const { skip_eol_impl(p, end); }

  // Skips blank lines; returns false at the end of the text.
  bool skip_blank(const char*& p, long& line) const {
    for (;;) {
      const char* q = p;
      while (q < end && (*q == ' ' || *q == '\t')) ++q;
      if (q == end) {
        p = q;
        return false;
      }
      if (*q != '\n' && *q != '\r') return true;
      p = q;
      skip_eol(p);
      ++line;
    }
  }

  std::size_t count_fields(const char* ls, long line) const {
    const char* p = ls;
    std::size_t n = 0;
    for (;;) {
      read_field(p, line, ls);
      ++n;
      if (p < end && *p == delim) {
        ++p;
        continue;
      }
      return n;
    }
  }
};

bool parse_number(std::string_view s, double& v) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s[0] == '-') return false;
  }
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The hot path: a number at p followed by the delimiter or a line end. Plain integers of up to
// nine digits skip from_chars.
inline bool fast_number(const char*& p, const char* end, char delim, float& v) {
  const char* q = p;
  while (q < end && *q == ' ') ++q;
  const char* s = q;
  std::uint32_t acc = 0;
  while (q < end && static_cast<unsigned>(*q - '0') < 10u && q - s < 9) {
    acc = acc * 10 + static_cast<std::uint32_t>(*q - '0');
    ++q;
  }
  if (q != s && (q == end || *q == delim || *q == '\n' || *q == '\r')) {
    v = static_cast<float>(acc);
    p = q;
    return true;
  }
  q = s;
  if (q < end && *q == '+') {
    ++q;
    if (q < end && *q == '-') return false;
  }
  const auto r = std::from_chars(q, end, v);
  if (r.ec != std::errc() || !std::isfinite(v)) return false;
  q = r.ptr;
  while (q < end && *q == ' ') ++q;
  if (!(q == end || *q == delim || *q == '\n' || *q == '\r')) return false;
  p = q;
  return true;
}

bool all_numeric(const std::vector<std::string>& row) {
  double v;
  for (const auto& c : row)
    if (!parse_number(c, v)) return false;
  return true;
}

std::size_t resolve_column(const ColumnRef& ref, const std::vector<std::string>& names, std::size_t ncols,
                           const std::string& file, const std::string& what) {
  if (ref.by_name()) {
    if (names.empty())
      throw DataError(file + ":1:1: " + what + " \"" + ref.name +
                      "\" is given by name, but the file has no header row: expected a header, found data");
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == ref.name) return i;
    std::string msg = file + ":1:1: " + what + " \"" + ref.name + "\" not found in the header";
    const std::string hint = closest_match(ref.name, names);
    if (!hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
    const auto shown = static_cast<std::ptrdiff_t>(std::min<std::size_t>(names.size(), 12));
    msg += fmt::format("; expected one of: {}", fmt::join(names.begin(), names.begin() + shown, ", "));
    if (names.size() > 12) msg += ", ... (" + std::to_string(names.size()) + " columns)";
    throw DataError(msg);
  }
  const std::int64_t n = static_cast<std::int64_t>(ncols);
  const std::int64_t i = ref.index < 0 ? n + ref.index : ref.index;
  if (i < 0 || i >= n)
    throw DataError(file + ":1:1: " + what + " index " + std::to_string(ref.index) + " is out of range: expected -" +
                    std::to_string(n) + ".." + std::to_string(n - 1) + " (the file has " + std::to_string(n) +
                    " columns)");
  return static_cast<std::size_t>(i);
}

// The label column when the options name none: a header column named "label" (what convert
// writes), else the fallback (a saved model's label column index), else the last column.
ColumnRef label_column_of(const CsvOptions& opts, const std::vector<std::string>& names) {
  if (opts.label_column) return *opts.label_column;
  if (std::find(names.begin(), names.end(), "label") != names.end()) return ColumnRef{"label", -1};
  return opts.fallback_label_column.value_or(ColumnRef{"", -1});
}

// What one column holds; `slot` is its place among the features or among the targets.
struct ColumnRole {
  enum class Kind { unassigned, feature, label, target };
  Kind kind = Kind::unassigned;
  std::size_t slot = 0;
};

// The columns of one file: header names (empty without a header) and each column's role.
struct Columns {
  std::vector<std::string> names;
  std::vector<ColumnRole> roles;
  std::size_t label_col = 0;  // roles.size() when there is no label column
  std::size_t features = 0;
  std::size_t targets = 0;

  std::size_t count() const { return roles.size(); }
  bool has_label() const { return label_col < roles.size(); }
  std::string describe(std::size_t c) const {
    return std::to_string(c) + (names.empty() ? "" : " (\"" + names[c] + "\")");
  }
};

// The label cells of every data row, as text with their line and column.
struct Cells {
  std::vector<std::string> labels;
  std::vector<std::pair<long, long>> label_pos;
  std::size_t rows = 0;
};

const char* skip_bom(std::string_view text) {
  const char* p = text.data();
  if (text.size() >= 3 && static_cast<unsigned char>(p[0]) == 0xEF && static_cast<unsigned char>(p[1]) == 0xBB &&
      static_cast<unsigned char>(p[2]) == 0xBF)
    p += 3;
  return p;
}

// First row: header or data. Returns the header names (empty when the first row is data, and
// then p and line are back at it) and sets ncols.
std::vector<std::string> read_header(const Parser& P, const char*& p, long& line, CsvHeader mode, std::size_t& ncols) {
  const char* first_row = p;
  const long first_line = line;
  std::vector<std::string> row0 = P.read_row(p, line);
  ncols = row0.size();
  bool header = mode == CsvHeader::yes;
  if (mode == CsvHeader::autodetect) {
    // A header when a cell is not a number while the cell below it is (or nothing is below):
    // a first data row with string labels is not mistaken for a header.
    const char* q = p;
    long l2 = line;
    if (!all_numeric(row0)) {
      if (!P.skip_blank(q, l2)) {
        header = true;
      } else {
        const std::vector<std::string> row1 = P.read_row(q, l2);
        double v;
        for (std::size_t c = 0; c < row0.size() && !header; ++c)
          header = !parse_number(row0[c], v) && (c >= row1.size() || parse_number(row1[c], v));
      }
    }
  }
  if (header) return row0;
  p = first_row;
  line = first_line;
  return {};
}

// Column roles: the label column (classification) or the target columns (regression); every
// other column is a feature.
Columns assign_roles(std::vector<std::string> names, std::size_t ncols, const CsvOptions& opts, const std::string& name,
                     long data_first_line, std::vector<std::string>& target_names) {
  using Kind = ColumnRole::Kind;
  Columns cols;
  cols.names = std::move(names);
  cols.roles.assign(ncols, ColumnRole{});
  cols.label_col = ncols;
  if (opts.labeled) {
    const ColumnRef lref = label_column_of(opts, cols.names);
    if (opts.task == Task::classification) {
      cols.label_col = resolve_column(lref, cols.names, ncols, name, "label column");
      cols.roles[cols.label_col].kind = Kind::label;
    } else {
      std::vector<ColumnRef> refs = opts.target_columns;
      if (refs.empty()) refs.push_back(lref);
      for (std::size_t t = 0; t < refs.size(); ++t) {
        const std::size_t c = resolve_column(refs[t], cols.names, ncols, name, "target column");
        if (cols.roles[c].kind != Kind::unassigned)
          throw DataError(name + ":1:1: target column " + refs[t].str() + " is listed twice");
        cols.roles[c] = ColumnRole{Kind::target, t};
        target_names.push_back(cols.names.empty() ? std::to_string(c) : cols.names[c]);
      }
      cols.targets = refs.size();
    }
  }
  for (auto& r : cols.roles)
    if (r.kind == Kind::unassigned) r = ColumnRole{Kind::feature, cols.features++};
  if (cols.features == 0)
    throw DataError(name + ":" + std::to_string(data_first_line) +
                    ":1: expected at least one feature column, found none");
  return cols;
}

// Slow path of a numeric cell: quoted numbers are fine; anything else is an error with its
// position.
float slow_number(const Parser& P, const char*& p, long& line, const char* ls, const Columns& cols, std::size_t c) {
  const char* fs = p;
  bool quoted = false;
  long l = line;
  const std::string cell = P.read_field(p, l, ls, &quoted);
  double dv = 0;
  const long col = static_cast<long>(fs - ls) + 1;
  const std::string what =
      (cols.roles[c].kind == ColumnRole::Kind::feature ? std::string("feature") : std::string("target")) + " column " +
      cols.describe(c);
  if (cell.empty()) P.fail(line, col, what + ": expected a number, found an empty field");
  if (!parse_number(cell, dv)) P.fail(line, col, what + ": expected a number, found " + show(cell));
  if (!std::isfinite(dv) || !std::isfinite(static_cast<float>(dv)))
    P.fail(line, col, what + ": expected a finite number, found " + show(cell));
  line = l;
  return static_cast<float>(dv);
}

// The rows of one chunk of the data. Features stay u8 while every value so far is an integer
// 0..255 and turn float at the first that is not; lines are counted from the chunk's start.
struct Chunk {
  const char* begin = nullptr;         // where the file was cut: after a '\n'
  const char* limit = nullptr;         // the rows that start before it belong to this chunk
  const char* first = nullptr;         // the first row (after blank lines), or the end
  const char* stop = nullptr;          // where the row after the last starts (after blank lines), or the end
  long first_line = 0, stop_line = 0;  // lines from begin to first and to stop
  std::size_t rows = 0;
  bool u8 = true;
  std::vector<std::uint8_t> x_u8;
  std::vector<float> x_f32;
  std::vector<float> targs;
  Cells labels;  // lines counted from begin
  std::optional<CsvFail> error;
  std::exception_ptr other_error;  // anything else (out of memory)
};

// Bytes per chunk: the cuts depend on the file alone, never on the thread count.
constexpr std::size_t kChunkBytes = std::size_t{1} << 21;

inline void put_feature(Chunk& k, std::size_t at, float v) {
  if (k.u8) {
    if (v >= 0.0f && v <= 255.0f && static_cast<float>(static_cast<int>(v)) == v) {
      k.x_u8[at] = static_cast<std::uint8_t>(v);
      return;
    }
    k.x_f32.assign(k.x_u8.begin(), k.x_u8.end());
    k.x_u8 = {};
    k.u8 = false;
  }
  k.x_f32[at] = v;
}

// One row at p (a row start, not blank), checked to have ncols fields; leaves p after its line end.
void parse_row(const Parser& P, const Columns& cols, Chunk& k, const char*& p, long& line) {
  using Kind = ColumnRole::Kind;
  const std::size_t ncols = cols.count(), F = cols.features, T = cols.targets;
  const std::size_t fbase = k.rows * F, tbase = k.rows * T;
  if (k.u8) k.x_u8.resize(fbase + F);
  else k.x_f32.resize(fbase + F);
  k.targs.resize(tbase + T);
  const char* ls = p;
  const char delim = P.delim;
  for (std::size_t c = 0; c < ncols; ++c) {
    const ColumnRole r = cols.roles[c];
    if (r.kind == Kind::label) {
      const long l0 = line;
      const char* fs = p;
      k.labels.labels.push_back(P.read_field(p, line, ls));
      k.labels.label_pos.emplace_back(l0, static_cast<long>(fs - ls) + 1);
    } else {
      float v;
      if (!fast_number(p, P.end, delim, v)) v = slow_number(P, p, line, ls, cols, c);
      if (r.kind == Kind::feature) put_feature(k, fbase + r.slot, v);
      else k.targs[tbase + r.slot] = v;
    }
    if (c + 1 < ncols) {
      if (p < P.end && *p == delim) {
        ++p;
        continue;
      }
      P.fail(line, static_cast<long>(p - ls) + 1,
             "expected " + std::to_string(ncols) + " fields, found " + std::to_string(c + 1));
    } else if (!is_eol(p, P.end)) {
      P.fail(line, static_cast<long>(p - ls) + 1,
             "expected " + std::to_string(ncols) + " fields, found " + std::to_string(P.count_fields(ls, line)));
    }
  }
  P.skip_eol(p);
  ++line;
  ++k.rows;
}

// Every row that starts in [k.begin, k.limit); a row may run past the limit. Errors are kept.
void parse_chunk(const Parser& P, const Columns& cols, Chunk& k) {
  try {
    const char* p = k.begin;
    long line = 0;
    bool more = P.skip_blank(p, line);
    k.first = p;
    k.first_line = line;
    if (more && p < k.limit) {  // buffers for the rows expected, guessed from the first row
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(P.end - p));
      const auto len = static_cast<std::size_t>((nl ? static_cast<const char*>(nl) : P.end) - p) + 1;
      const std::size_t rows = static_cast<std::size_t>(k.limit - p) / len + 2;
      k.x_u8.reserve(rows * cols.features);
      k.targs.reserve(rows * cols.targets);
      if (cols.has_label()) {
        k.labels.labels.reserve(rows);
        k.labels.label_pos.reserve(rows);
      }
    }
    while (more && p < k.limit) {
      parse_row(P, cols, k, p, line);
      more = P.skip_blank(p, line);
    }
    k.stop = p;
    k.stop_line = line;
  } catch (CsvFail& f) {
    k.error = std::move(f);
  } catch (...) {
    k.other_error = std::current_exception();
  }
}

// The data from p on cut into chunks of about `chunk_bytes`, each cut just after a '\n'.
std::vector<Chunk> cut_chunks(const char* p, const char* end, std::size_t chunk_bytes) {
  const auto bytes = static_cast<std::size_t>(end - p);
  const std::size_t n = std::max<std::size_t>(1, (bytes + chunk_bytes - 1) / chunk_bytes);
  std::vector<Chunk> chunks(n);
  const char* at = p;
  for (std::size_t k = 0; k < n; ++k) {
    chunks[k].begin = at;
    const char* cut = k + 1 == n ? end : std::max(at, p + (k + 1) * chunk_bytes);
    if (cut < end) {
      const void* nl = std::memchr(cut, '\n', static_cast<std::size_t>(end - cut));
      cut = nl ? static_cast<const char*>(nl) + 1 : end;
    }
    chunks[k].limit = cut;
    at = cut;
  }
  return chunks;
}

// Checks the chunks in file order and turns their lines into file lines (`line0` is the line of
// the first chunk's start): the earliest error wins. A cut inside a quoted field with a line
// break shows as a chunk that does not stop where the next one's first row is: the rest of the
// file is then parsed again in one piece from where that chunk stopped.
void join_chunks(const Parser& P, const Columns& cols, std::vector<Chunk>& chunks, long line0) {
  long offset = line0;  // the file line of chunks[k].begin
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    Chunk& c = chunks[k];
    if (c.other_error) std::rethrow_exception(c.other_error);
    if (c.error) {
      c.error->line += offset;
      throw *c.error;
    }
    for (auto& pos : c.labels.label_pos) pos.first += offset;
    if (k + 1 == chunks.size()) break;
    if (chunks[k + 1].first != c.stop) {
      Chunk rest;
      rest.begin = c.stop;
      rest.limit = P.end;
      parse_chunk(P, cols, rest);
      chunks.resize(k + 1);
      chunks.push_back(std::move(rest));
      offset += c.stop_line;
    } else {
      offset += c.stop_line - chunks[k + 1].first_line;
    }
  }
}

// Every data row from p on, parsed in chunks over the pool: the same values, errors and line
// numbers as one pass from the start, on any number of threads.
std::vector<Chunk> read_rows(const Parser& P, const char* p, long line, const Columns& cols, std::size_t chunk_bytes) {
  std::vector<Chunk> chunks = cut_chunks(p, P.end, chunk_bytes);
  parallel_for_chunks(static_cast<std::int64_t>(chunks.size()),
                      [&](std::int64_t k) { parse_chunk(P, cols, chunks[static_cast<std::size_t>(k)]); });
  join_chunks(P, cols, chunks, line);
  return chunks;
}

// The chunks' features, targets and label cells in one dataset: u8 when every feature of every
// chunk is an integer 0..255 (images exported as CSV), else float.
Cells gather_rows(Dataset& d, std::vector<Chunk>& chunks, const Columns& cols) {
  const std::size_t F = cols.features, T = cols.targets;
  std::vector<std::size_t> start(chunks.size() + 1, 0);
  bool u8 = true;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    start[k + 1] = start[k] + chunks[k].rows;
    u8 = u8 && chunks[k].u8;
  }
  const std::size_t N = start.back();
  if (u8) d.x_u8.resize(N * F);
  else d.x_f32.resize(N * F);
  parallel_for_chunks(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t i) {
    Chunk& c = chunks[static_cast<std::size_t>(i)];
    const auto at = static_cast<std::ptrdiff_t>(start[static_cast<std::size_t>(i)] * F);
    if (u8) std::copy(c.x_u8.begin(), c.x_u8.end(), d.x_u8.begin() + at);
    else if (c.u8) std::copy(c.x_u8.begin(), c.x_u8.end(), d.x_f32.begin() + at);
    else std::copy(c.x_f32.begin(), c.x_f32.end(), d.x_f32.begin() + at);
    c.x_u8 = {};
    c.x_f32 = {};
  });
  if (T > 0) {
    d.targets.resize(static_cast<Index>(N), static_cast<Index>(T));
    for (std::size_t k = 0; k < chunks.size(); ++k)
      for (std::size_t r = 0; r < chunks[k].rows; ++r)
        for (std::size_t t = 0; t < T; ++t)
          d.targets(static_cast<Index>(start[k] + r), static_cast<Index>(t)) = chunks[k].targs[r * T + t];
  }
  Cells cells;
  cells.rows = N;
  if (cols.has_label()) {
    cells.labels.reserve(N);
    cells.label_pos.reserve(N);
    for (auto& c : chunks) {
      std::move(c.labels.labels.begin(), c.labels.labels.end(), std::back_inserter(cells.labels));
      cells.label_pos.insert(cells.label_pos.end(), c.labels.label_pos.begin(), c.labels.label_pos.end());
    }
  }
  return cells;
}

// Integer labels 0..K-1.
void store_numeric_labels(Dataset& d, const Parser& P, const Cells& cells, const std::string& lwhat, int num_classes) {
  double v;
  std::int32_t max_label = -1;
  for (std::size_t i = 0; i < cells.rows; ++i) {
    parse_number(cells.labels[i], v);
    const auto [l, c] = cells.label_pos[i];
    if (v != std::floor(v) || std::fabs(v) > 2e9)
      P.fail(l, c, lwhat + ": expected an integer class index, found " + show(cells.labels[i]));
    if (v < 0) P.fail(l, c, lwhat + ": expected a class index >= 0, found " + show(cells.labels[i]));
    d.labels[i] = static_cast<std::int32_t>(v);
    if (num_classes > 0 && d.labels[i] >= num_classes)
      P.fail(l, c,
             lwhat + ": expected a class index in 0.." + std::to_string(num_classes - 1) + ", found " +
                 show(cells.labels[i]));
    max_label = std::max(max_label, d.labels[i]);
  }
  d.num_classes = num_classes > 0 ? num_classes : max_label + 1;
}

// String labels, mapped to classes in sorted order.
void store_named_labels(Dataset& d, const Parser& P, const Cells& cells, const std::string& lwhat, int num_classes) {
  std::set<std::string> uniq;
  for (std::size_t i = 0; i < cells.rows; ++i) {
    if (cells.labels[i].empty())
      P.fail(cells.label_pos[i].first, cells.label_pos[i].second,
             lwhat + ": expected a class label, found an empty field");
    uniq.insert(cells.labels[i]);
  }
  d.class_names.assign(uniq.begin(), uniq.end());
  std::map<std::string, std::int32_t> index;
  for (std::size_t k = 0; k < d.class_names.size(); ++k) index[d.class_names[k]] = static_cast<std::int32_t>(k);
  for (std::size_t i = 0; i < cells.rows; ++i) d.labels[i] = index.at(cells.labels[i]);
  d.num_classes = static_cast<int>(d.class_names.size());
  if (num_classes > 0 && num_classes != d.num_classes)
    throw DataError(P.name + ": " + lwhat + ": expected " + std::to_string(num_classes) + " classes, found " +
                    std::to_string(d.num_classes) + " distinct labels");
}

// Integer labels 0..K-1, or strings mapped to classes in sorted order.
void store_labels(Dataset& d, const Parser& P, const Cells& cells, const Columns& cols, int num_classes) {
  double v;
  const bool numeric =
      std::all_of(cells.labels.begin(), cells.labels.end(), [&v](const std::string& s) { return parse_number(s, v); });
  const std::string lwhat = "label column " + cols.describe(cols.label_col);
  d.labels.resize(cells.rows);
  if (numeric) store_numeric_labels(d, P, cells, lwhat, num_classes);
  else store_named_labels(d, P, cells, lwhat, num_classes);
}

}  // namespace

std::string ColumnRef::str() const { return by_name() ? "\"" + name + "\"" : std::to_string(index); }

namespace {

DataError to_data_error(const std::string& name, const CsvFail& f) {
  return DataError(name + ":" + std::to_string(f.line) + ":" + std::to_string(f.col) + ": " + f.msg);
}

Dataset parse_csv_text(std::string_view text, const std::string& name, const CsvOptions& opts,
                       std::size_t chunk_bytes) {
  const Parser P{name, text.data(), text.data() + text.size(), opts.delimiter};
  const char* p = skip_bom(text);
  long line = 1;
  if (!P.skip_blank(p, line)) throw DataError(name + ":1:1: empty file: expected a header or data rows, found nothing");
  std::size_t ncols = 0;
  std::vector<std::string> names = read_header(P, p, line, opts.header, ncols);
  const long data_first_line = line;
  if (!P.skip_blank(p, line))
    throw DataError(name + ":" + std::to_string(line) +
                    ":1: a header but no data rows: expected at least one row after the header");

  Dataset d;
  d.source = name;
  d.task = opts.task;
  const Columns cols = assign_roles(std::move(names), ncols, opts, name, data_first_line, d.target_names);
  std::vector<Chunk> chunks = read_rows(P, p, line, cols, chunk_bytes);
  d.sample_shape = Shape{static_cast<Index>(cols.features)};
  const Cells cells = gather_rows(d, chunks, cols);
  d.num_samples = static_cast<Index>(cells.rows);
  if (cols.has_label()) store_labels(d, P, cells, cols, opts.num_classes);
  return d;
}

}  // namespace

std::vector<std::string> csv_row_fields(std::string_view text, char delimiter, const std::string& name) {
  const Parser P{name, text.data(), text.data() + text.size(), delimiter};
  const char* p = skip_bom(text);
  long line = 1;
  try {
    return P.read_row(p, line);
  } catch (const CsvFail& f) {
    throw to_data_error(name, f);
  }
}

Dataset read_csv(const std::string& path, const CsvOptions& opts) {
  const MappedFile file(path);
  return parse_csv(file.text(), path, opts);
}

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& opts) {
  return parse_csv(text, name, opts, kChunkBytes);
}

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& opts, std::size_t chunk_bytes) {
  try {
    return parse_csv_text(text, name, opts, std::max<std::size_t>(chunk_bytes, 1));
  } catch (const CsvFail& f) {
    throw to_data_error(name, f);
  }
}

ColumnRef ColumnRef::parse(const std::string& text) {
  long long index = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (!text.empty() && ec == std::errc() && p == text.data() + text.size()) return ColumnRef{"", index};
  return ColumnRef{text, -1};
}

}  // namespace nettrain
