#include <catch2/catch.hpp>

#include "engine/error.h"
#include "engine/json.h"

using namespace rotor;

TEST_CASE("JSON round-trips and keeps key order", "[json]") {
  const std::string text = R"({"b": 1, "a": [true, false, null, -2.5e-3, "x\"y\n\u00e9"], "c": {"d": 1234567890123}})";
  const Json j = Json::parse(text);
  CHECK(j.at("b").as_int() == 1);
  CHECK(j.at("a").as_array()[3].as_number() == Approx(-2.5e-3));
  CHECK(j.at("a").as_array()[4].as_string() == "x\"y\n\xc3\xa9");
  CHECK(j.at("c").at("d").as_int() == 1234567890123);
  CHECK(Json::parse(j.dump()) == j);
  CHECK(Json::parse(j.dump(2)) == j);
  CHECK(j.dump().substr(0, 6) == "{\"b\": ");
}

TEST_CASE("bad JSON and wrong types are errors with a position or a name", "[json]") {
  CHECK_THROWS_WITH(Json::parse("{\"a\": }"), Catch::Contains("offset 6"));
  CHECK_THROWS_WITH(Json::parse("[1, 2"), Catch::Contains("expected ',' or ']'"));
  CHECK_THROWS_WITH(Json::parse("\"abc"), Catch::Contains("unterminated"));
  CHECK_THROWS_WITH(Json::parse("1 2"), Catch::Contains("after the value"));
  CHECK_THROWS_WITH(Json::parse("01x"), Catch::Contains("after the value"));
  CHECK_THROWS_WITH(Json::parse(std::string(1000, '[')), Catch::Contains("too deep"));
  const Json j = Json::parse(R"({"n": 1.5})");
  CHECK_THROWS_WITH(j.at("n").as_int("epochs"), Catch::Contains("epochs must be an integer"));
  CHECK_THROWS_WITH(j.at("m"), Catch::Contains("missing key \"m\""));
  CHECK_THROWS_WITH(j.at("n").as_string("name"), Catch::Contains("name must be a string"));
}

TEST_CASE("numbers are written with the digits that read back as the same double", "[json]") {
  // Found by tests/fuzz/fuzz_json: 9 significant digits turned
  // 7777777777.7777777 into 7777777780, and a second write differed.
  const Json v = Json::parse("[7777777777.77777777779, 0.1, 125.30691727995872, 1e-300, -2.5e-3, 3]");
  const std::string once = v.dump();
  CHECK(once == "[7777777777.7777777, 0.1, 125.30691727995872, 1e-300, -0.0025, 3]");
  CHECK(Json::parse(once) == v);
  CHECK(Json::parse(once).dump() == once);
  const double third = 1.0 / 3;
  CHECK(Json::parse(Json(third).dump()).as_number() == third);
}
