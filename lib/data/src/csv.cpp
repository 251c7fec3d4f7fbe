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
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nettrain/data/data.h"
#include "nettrain/core/errors.h"

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

struct Parser {
  std::string name;
  const char* begin;
  const char* end;
  char delim;

  [[noreturn]] void fail(long line, long col, const std::string& msg) const {
    throw DataError(name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg);
  }

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

// The cells of every data row: features and targets row-major, label cells as text with their
// line and column.
struct Cells {
  std::vector<float> feats;
  std::vector<float> targs;
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

// Every data row from p on, each checked to have ncols fields.
Cells read_rows(const Parser& P, const char* p, long line, const Columns& cols) {
  using Kind = ColumnRole::Kind;
  const std::size_t ncols = cols.count(), F = cols.features, T = cols.targets;
  // Upper bound of the rows, so the feature buffer is allocated once.
  const std::size_t rest = static_cast<std::size_t>(P.end - p);
  // Lines may end in \n, \r\n or a lone \r, mixed in one file: count both (an upper bound).
  std::size_t max_rows =
      static_cast<std::size_t>(std::count(p, P.end, '\n')) + static_cast<std::size_t>(std::count(p, P.end, '\r'));
  max_rows = std::min(max_rows + 1, rest / 2 + 1);
  Cells cells;
  cells.feats.resize(max_rows * F);
  cells.targs.resize(max_rows * T);
  if (cols.has_label()) {
    cells.labels.reserve(max_rows);
    cells.label_pos.reserve(max_rows);
  }
  std::size_t row = 0;
  const ColumnRole* roles = cols.roles.data();
  const char delim = P.delim;
  while (P.skip_blank(p, line)) {
    const char* ls = p;
    float* out = cells.feats.data() + row * F;
    for (std::size_t c = 0; c < ncols; ++c) {
      const ColumnRole r = roles[c];
      if (r.kind == Kind::label) {
        const long l0 = line;
        const char* fs = p;
        cells.labels.push_back(P.read_field(p, line, ls));
        cells.label_pos.emplace_back(l0, static_cast<long>(fs - ls) + 1);
      } else {
        float v;
        if (!fast_number(p, P.end, delim, v)) v = slow_number(P, p, line, ls, cols, c);
        if (r.kind == Kind::feature) out[r.slot] = v;
        else cells.targs[row * T + r.slot] = v;
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
    ++row;
  }
  cells.rows = row;
  cells.feats.resize(row * F);
  return cells;
}

// u8 when every feature is an integer 0..255 (images exported as CSV).
void store_features(Dataset& d, std::vector<float> feats) {
  bool u8 = true;
  for (float v : feats)
    if (!(v >= 0.0f && v <= 255.0f && v == std::floor(v))) {
      u8 = false;
      break;
    }
  if (u8) {
    d.x_u8.resize(feats.size());
    std::transform(feats.begin(), feats.end(), d.x_u8.begin(), [](float v) { return static_cast<std::uint8_t>(v); });
  } else {
    d.x_f32 = std::move(feats);
  }
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

std::vector<std::string> csv_row_fields(std::string_view text, char delimiter, const std::string& name) {
  const Parser P{name, text.data(), text.data() + text.size(), delimiter};
  const char* p = skip_bom(text);
  long line = 1;
  return P.read_row(p, line);
}

Dataset read_csv(const std::string& path, const CsvOptions& opts) {
  const std::string text = read_file(path);
  return parse_csv(text, path, opts);
}

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& opts) {
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
  Cells cells = read_rows(P, p, line, cols);
  const std::size_t N = cells.rows, T = cols.targets;
  d.num_samples = static_cast<Index>(N);
  d.sample_shape = Shape{static_cast<Index>(cols.features)};
  store_features(d, std::move(cells.feats));
  if (T > 0) {
    d.targets.resize(static_cast<Index>(N), static_cast<Index>(T));
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t t = 0; t < T; ++t)
        d.targets(static_cast<Index>(i), static_cast<Index>(t)) = cells.targs[i * T + t];
  }
  if (cols.has_label()) store_labels(d, P, cells, cols, opts.num_classes);
  return d;
}

ColumnRef ColumnRef::parse(const std::string& text) {
  long long index = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  if (!text.empty() && ec == std::errc() && p == text.data() + text.size()) return ColumnRef{"", index};
  return ColumnRef{text, -1};
}

}  // namespace nettrain
