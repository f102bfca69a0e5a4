#include "models/live_channels.h"

#include <fmt/format.h>

#include "engine/error.h"

namespace rotor {

void check_index_list(const std::vector<int64_t>& list, int64_t width, const std::string& what) {
  for (size_t i = 0; i < list.size(); ++i) {
    ROTOR_CHECK(list[i] >= 0 && list[i] < width, "{}: channel {} is outside [0, {})", what, list[i], width);
    ROTOR_CHECK(i == 0 || list[i] > list[i - 1], "{}: channel indices must increase ({} after {})", what, list[i],
                list[i - 1]);
  }
}

static std::vector<int64_t> index_list(const Json& j, const std::string& what) {
  std::vector<int64_t> out;
  for (const Json& v : j.as_array(what.c_str())) out.push_back(v.as_int(what.c_str()));
  return out;
}

std::vector<BlockLive> parse_block_live(const Json& live, size_t blocks, bool has_out) {
  const Json::Array& arr = live.at("blocks").as_array("live blocks");
  ROTOR_CHECK(arr.size() == blocks, "the pruned network lists {} blocks, the architecture has {}", arr.size(), blocks);
  std::vector<BlockLive> out;
  for (size_t b = 0; b < arr.size(); ++b) {
    const std::string name = fmt::format("live block {}", b);
    BlockLive bl;
    bl.in = index_list(arr[b].at("in"), name + " in");
    bl.mid = index_list(arr[b].at("mid"), name + " mid");
    if (has_out) bl.out = index_list(arr[b].at("out"), name + " out");
    out.push_back(std::move(bl));
  }
  return out;
}

Json block_live_json(const std::vector<BlockLive>& blocks, bool has_out) {
  Json arr = Json::array();
  for (const BlockLive& b : blocks) {
    Json j = Json::object();
    auto list = [](const std::vector<int64_t>& v) {
      Json a = Json::array();
      for (int64_t i : v) a.push(i);
      return a;
    };
    j.set("in", list(b.in));
    j.set("mid", list(b.mid));
    if (has_out) j.set("out", list(b.out));
    arr.push(std::move(j));
  }
  Json live = Json::object();
  live.set("blocks", arr);
  return live;
}

}  // namespace rotor
