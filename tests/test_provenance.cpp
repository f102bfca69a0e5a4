// The one reader of a model file's provenance (apps/provenance.h), which
// rotor prune (data and validation split for gamma) and rotor report
// (captions) share.
#include <catch2/catch.hpp>

#include "apps/provenance.h"
#include "engine/error.h"

using namespace rotor;

TEST_CASE("provenance reads the training record a trained model file carries", "[provenance]") {
  const Json header = Json::parse(
      R"({"trained": {"data": "folder:/d/cifar10-jpg", "val_split": {"fraction": 0.1, "seed": 7,
          "train_images": 45000}}, "epochs_done": 12})");
  const Provenance p = read_provenance(header, "m.rotor");
  CHECK(p.data == "folder:/d/cifar10-jpg");
  CHECK(p.val.enabled());
  CHECK(p.val.fraction == 0.1);
  CHECK(p.val.seed == 7);
  CHECK(p.epochs == 12);
  CHECK(p.pruned_from.empty());
  CHECK_FALSE(p.pruned_gamma);
}

TEST_CASE("provenance of a file without a record is unknown, not an error", "[provenance]") {
  const Provenance p = read_provenance(Json::parse(R"({"arch": "fcnn"})"), "m.rotor");
  CHECK(p.data.empty());
  CHECK_FALSE(p.val.enabled());
  CHECK(p.epochs == -1);
}

TEST_CASE("a pruned file's gamma reads back as the float magnitude it names", "[provenance]") {
  // 0.1f printed with 9 significant digits reads back as a double above 0.1f.
  const Json header = Json::parse(R"({"pruned_from": "/gone/model.rotor", "gamma": 0.100000001,
      "trained": {"data": "fashion-mnist"}, "epochs_done": 3})");
  const Provenance p = read_provenance(header, "pruned.rotor");
  CHECK(p.pruned_from == "/gone/model.rotor");
  REQUIRE(p.pruned_gamma);
  CHECK(*p.pruned_gamma == static_cast<double>(0.1f));
  CHECK(p.data == "fashion-mnist");
  CHECK(p.epochs == 3);
}

TEST_CASE("a malformed training record is one error naming the file and the field", "[provenance]") {
  const auto message = [](const char* text) {
    try {
      read_provenance(Json::parse(text), "dir/m.rotor");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string bad_data = message(R"({"trained": {"data": 5}})");
  CHECK_THAT(bad_data, Catch::Contains("dir/m.rotor") && Catch::Contains("trained.data"));
  const std::string bad_val = message(R"({"trained": {"data": "mnist", "val_split": {"fraction": "x"}}})");
  CHECK_THAT(bad_val, Catch::Contains("dir/m.rotor") && Catch::Contains("val_split"));
  const std::string bad_epochs = message(R"({"epochs_done": "three"})");
  CHECK_THAT(bad_epochs, Catch::Contains("dir/m.rotor") && Catch::Contains("epochs_done"));
}

TEST_CASE("a pruned file's criterion: absent means unknown, a product gamma stays the double it is", "[provenance]") {
  CHECK_FALSE(read_provenance(Json::parse(R"({"pruned_from": "/gone/m.rotor", "gamma": 0.5})"), "p.rotor").pruned_by);
  // A product |gamma_BN * b| is a double: rounding it to a float would move
  // it off the score prune compared with.
  const double product = 0.1234567890123;
  const Provenance p = read_provenance(
      Json::parse(R"({"pruned_from": "/gone/m.rotor", "gamma": 0.1234567890123, "prune_by": "product"})"), "p.rotor");
  REQUIRE(p.pruned_by);
  CHECK(*p.pruned_by == PruneBy::product);
  REQUIRE(p.pruned_gamma);
  CHECK(*p.pruned_gamma == product);
  CHECK(*read_provenance(Json::parse(R"({"pruned_from": "/gone/m.rotor", "prune_by": "bn-scale"})"), "p.rotor")
             .pruned_by == PruneBy::bn_scale);
  try {
    read_provenance(Json::parse(R"({"pruned_from": "/gone/m.rotor", "prune_by": "nonsense"})"), "dir/p.rotor");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("dir/p.rotor: prune_by: expected slope, bn-scale or product, got 'nonsense'"));
  }
}
