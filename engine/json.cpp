#include "engine/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/error.h"

namespace rotor {

bool Json::as_bool(const char* what) const {
  ROTOR_CHECK(is_bool(), "{} must be true or false", what);
  return std::get<bool>(value_);
}

double Json::as_number(const char* what) const {
  ROTOR_CHECK(is_number(), "{} must be a number", what);
  return std::get<double>(value_);
}

int64_t Json::as_int(const char* what) const {
  const double v = as_number(what);
  ROTOR_CHECK(std::floor(v) == v && std::fabs(v) < 9.007199254740992e15, "{} must be an integer, got {}", what, v);
  return static_cast<int64_t>(v);
}

const std::string& Json::as_string(const char* what) const {
  ROTOR_CHECK(is_string(), "{} must be a string", what);
  return std::get<std::string>(value_);
}

const Json::Array& Json::as_array(const char* what) const {
  ROTOR_CHECK(is_array(), "{} must be an array", what);
  return std::get<Array>(value_);
}

Json::Array& Json::as_array(const char* what) {
  ROTOR_CHECK(is_array(), "{} must be an array", what);
  return std::get<Array>(value_);
}

const Json::Object& Json::as_object(const char* what) const {
  ROTOR_CHECK(is_object(), "{} must be an object", what);
  return std::get<Object>(value_);
}

const Json* Json::find(const std::string& key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(value_))
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(const std::string& key) const {
  const Json* v = find(key);
  ROTOR_CHECK(v != nullptr, "missing key \"{}\"", key);
  return *v;
}

Json& Json::set(const std::string& key, Json value) {
  if (is_null()) value_ = Object{};
  ROTOR_CHECK(is_object(), "set(\"{}\") on a JSON value that is not an object", key);
  for (auto& [k, v] : std::get<Object>(value_))
    if (k == key) return v = std::move(value);
  auto& obj = std::get<Object>(value_);
  obj.emplace_back(key, std::move(value));
  return obj.back().second;
}

Json& Json::push(Json value) {
  if (is_null()) value_ = Array{};
  ROTOR_CHECK(is_array(), "push on a JSON value that is not an array");
  auto& arr = std::get<Array>(value_);
  arr.push_back(std::move(value));
  return arr.back();
}

static void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

static void write_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // The shortest of 15 or 17 significant digits that reads back as the
    // same double (9 digits lost precision, found by tests/fuzz/fuzz_json).
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  out += buf;
}

void Json::write(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  if (is_null()) {
    out += "null";
  } else if (is_bool()) {
    out += std::get<bool>(value_) ? "true" : "false";
  } else if (is_number()) {
    write_number(out, std::get<double>(value_));
  } else if (is_string()) {
    write_string(out, std::get<std::string>(value_));
  } else if (is_array()) {
    const Array& a = std::get<Array>(value_);
    out += '[';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i) out += indent < 0 ? ", " : ",";
      newline(depth + 1);
      a[i].write(out, indent, depth + 1);
    }
    if (!a.empty()) newline(depth);
    out += ']';
  } else {
    const Object& o = std::get<Object>(value_);
    out += '{';
    for (size_t i = 0; i < o.size(); ++i) {
      if (i) out += indent < 0 ? ", " : ",";
      newline(depth + 1);
      write_string(out, o[i].first);
      out += ": ";
      o[i].second.write(out, indent, depth + 1);
    }
    if (!o.empty()) newline(depth);
    out += '}';
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  Json document() {
    Json v = value(0);
    skip_space();
    if (pos_ != s_.size()) error("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void error(const char* what) const { fail("invalid JSON at offset {}: {}", pos_, what); }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
      ++pos_;
  }

  bool consume(const char* word) {
    size_t n = 0;
    while (word[n]) ++n;
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Json value(int depth) {
    if (depth > 256) error("nesting too deep");
    skip_space();
    if (pos_ >= s_.size()) error("unexpected end of input");
    const char c = s_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json(string());
    if (consume("true")) return Json(true);
    if (consume("false")) return Json(false);
    if (consume("null")) return Json();
    if (c == '-' || (c >= '0' && c <= '9')) return Json(number());
    error("expected a value");
  }

  Json object(int depth) {
    ++pos_;
    Json obj = Json::object();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return obj;
    }
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') error("expected a key");
      std::string key = string();
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ':') error("expected ':'");
      ++pos_;
      obj.set(key, value(depth + 1));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return obj;
      }
      error("expected ',' or '}'");
    }
  }

  Json array(int depth) {
    ++pos_;
    Json arr = Json::array();
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return arr;
    }
    for (;;) {
      arr.push(value(depth + 1));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return arr;
      }
      error("expected ',' or ']'");
    }
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': out += unicode(); break;
        default: error("unknown escape");
      }
    }
  }

  // \uXXXX as UTF-8 (basic multilingual plane; surrogates are rejected).
  std::string unicode() {
    if (pos_ + 4 > s_.size()) error("short \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= h - '0';
      else if (h >= 'a' && h <= 'f') code |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') code |= h - 'A' + 10;
      else error("bad hex digit in \\u escape");
    }
    if (code >= 0xD800 && code <= 0xDFFF) error("surrogate \\u escapes are not supported");
    std::string out;
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
    return out;
  }

  double number() {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == d) error("expected a digit");
    };
    digits();
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      digits();
    }
    return std::strtod(s_.substr(start, pos_ - start).c_str(), nullptr);
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

Json Json::parse(const std::string& text) { return Parser(text).document(); }

}  // namespace rotor
