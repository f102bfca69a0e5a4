// Json: a small JSON value with a strict parser and a writer, for
// metrics.jsonl lines, model-file headers and reports.
//
// Objects keep their keys in insertion order so files read the way they were
// written. Numbers are doubles (integers up to 2^53 round-trip exactly).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rotor {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : value_(b) {}
  Json(int v) : value_(static_cast<double>(v)) {}
  Json(int64_t v) : value_(static_cast<double>(v)) {}
  Json(uint64_t v) : value_(static_cast<double>(v)) {}
  Json(double v) : value_(v) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}
  Json(Object o) : value_(std::move(o)) {}
  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_number() const { return std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  // Typed access; throws rotor::Error naming `what` when the type differs.
  bool as_bool(const char* what = "value") const;
  double as_number(const char* what = "value") const;
  int64_t as_int(const char* what = "value") const;  // must be integral
  const std::string& as_string(const char* what = "value") const;
  const Array& as_array(const char* what = "value") const;
  const Object& as_object(const char* what = "value") const;
  Array& as_array(const char* what = "value");

  // Object access: at() throws naming the missing key; find() returns nullptr.
  const Json& at(const std::string& key) const;
  const Json* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  // Sets (or replaces) a key of an object; a null value becomes an object.
  Json& set(const std::string& key, Json value);
  // Appends to an array; a null value becomes an array.
  Json& push(Json value);

  // Compact single-line text (indent < 0) or pretty-printed text.
  std::string dump(int indent = -1) const;
  // Parses a whole document; throws rotor::Error with the offset on bad input.
  static Json parse(const std::string& text);

  bool operator==(const Json& other) const { return value_ == other.value_; }

 private:
  void write(std::string& out, int indent, int depth) const;
  std::variant<std::monostate, bool, double, std::string, Array, Object> value_;
};

}  // namespace rotor
