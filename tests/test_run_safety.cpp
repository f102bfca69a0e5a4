// rotor train under faults and hostile input (issue 11): a run never
// continues another run's checkpoint, --force never loses the old run,
// resumed runs re-check their data, divergence and full disks are errors
// that name what happened, run.json is range-checked, flags that would do
// nothing are refused, and SIGTERM checkpoints where it stopped.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <stb_image_write.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/run_files.h"
#include "engine/context.h"
#include "engine/schedule.h"
#include "engine/tensor_file.h"
#include "kernels/softmax_ce.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;
namespace fs = std::filesystem;

namespace {

std::string small_data() { return fashion_subset_dir(1000, 200); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// exit_code: 2 for a usage error (a bad flag or value), 1 for an error while running.
CommandResult rotor_fails(const std::string& args, const std::string& message, int exit_code = 1) {
  INFO("rotor " << args);
  const CommandResult r = run_rotor(args);
  INFO(r.output);
  CHECK(r.exit_code == exit_code);
  CHECK_THAT(r.output, Catch::Contains(message));
  return r;
}

// A small, fast run; the batch and seed can be chosen.
std::string small_run(int64_t batch, int seed) {
  return " --model fcnn-16 --device cpu --threads 1 --batch " + std::to_string(batch) + " --seed " +
         std::to_string(seed);
}
const std::string quick = small_run(100, 3);

}  // namespace

TEST_CASE("resume refuses a checkpoint written by another run", "[run-safety][resume]") {
  const std::string a = temp_dir("id-a"), b = temp_dir("id-b");
  const std::string data = " --data mnist:" + small_data() + " --epochs 3 --stop-after 1";
  rotor_ok("train" + quick + data + " --out " + a);
  rotor_ok("train" + small_run(100, 4) + data + " --out " + b);  // the same architecture, another run
  CHECK(read_json_file(a + "/run.json").at("run_id").as_string().size() == 16);
  fs::copy_file(b + "/checkpoint.rotor", a + "/checkpoint.rotor", fs::copy_options::overwrite_existing);
  rotor_fails("train --resume " + a, "belongs to another run");
  CHECK(metrics_of(a).size() == 1);
}

TEST_CASE("a run with --force checks everything first and moves the old run aside", "[run-safety][cli]") {
  const std::string root = temp_dir("force"), dir = root + "/run";
  const std::string data = " --data mnist:" + small_data();
  rotor_ok("train" + quick + data + " --epochs 1 --out " + dir);
  const std::string run_json = read_text(dir + "/run.json"), metrics = read_text(dir + "/metrics.jsonl");
  const std::string initial = read_text(dir + "/initial.rotor");

  SECTION("a failing --force run leaves the old run untouched") {
    rotor_fails("train" + quick + " --data mnist:/nonexistent --force --out " + dir, "/nonexistent");
    rotor_fails("train" + quick + data + " --epochs 2 --stop-after 5 --force --out " + dir,
                "--stop-after must be between 1 and 2", 2);
    rotor_fails("train" + quick + data + " --init type2:/nonexistent.rotor --force --out " + dir, "/nonexistent.rotor");
    CHECK(read_text(dir + "/run.json") == run_json);
    CHECK(read_text(dir + "/metrics.jsonl") == metrics);
    CHECK(read_text(dir + "/initial.rotor") == initial);
    CHECK(fs::exists(dir + "/model.rotor"));
    CHECK_FALSE(fs::exists(dir + ".previous-1"));
  }
  SECTION("a --force run moves the old one to DIR.previous-N") {
    const CommandResult r = rotor_ok("train" + quick + data + " --epochs 2 --stop-after 1 --force --out " + dir);
    CHECK_THAT(r.output, Catch::Contains("moved the previous run in " + dir + " to " + dir + ".previous-1"));
    CHECK(read_text(dir + ".previous-1/metrics.jsonl") == metrics);
    CHECK(fs::exists(dir + ".previous-1/model.rotor"));
    CHECK_FALSE(fs::exists(dir + "/model.rotor"));  // the old model is not left to pass for the new one
    rotor_ok("train" + quick + data + " --epochs 1 --force --out " + dir);
    CHECK(fs::exists(dir + ".previous-2/checkpoint.rotor"));
  }
  SECTION("a new run that fails leaves no empty output folder") {
    rotor_fails("train" + quick + " --data mnist:/nonexistent --out " + root + "/fresh", "/nonexistent");
    CHECK_FALSE(fs::exists(root + "/fresh"));
  }
}

namespace {

// DIR/{train,test}/<class>/*.png, 8x8 grey, 12 + 4 images per class.
void write_class(const std::string& dir, const std::string& name, int seed) {
  for (const char* part : {"train", "test"}) {
    fs::create_directories(dir + "/" + part + "/" + name);
    for (int i = 0; i < (std::string(part) == "train" ? 12 : 4); ++i) {
      std::vector<uint8_t> px(64);
      for (size_t p = 0; p < px.size(); ++p) px[p] = static_cast<uint8_t>((seed * 37 + i * 11 + p * 5) % 256);
      const std::string path = dir + "/" + part + "/" + name + "/" + std::to_string(i) + ".png";
      REQUIRE(stbi_write_png(path.c_str(), 8, 8, 1, px.data(), 8) != 0);
    }
  }
}

}  // namespace

TEST_CASE("resume re-checks the data: a class added or renamed since the stop", "[run-safety][resume]") {
  const std::string root = temp_dir("classes"), data = root + "/data", run = root + "/run";
  write_class(data, "a", 1);
  write_class(data, "b", 2);
  rotor_ok("train" + small_run(8, 3) + " --data folder:" + data + " --epochs 2 --stop-after 1 --out " + run);
  write_class(data, "c", 3);
  rotor_fails("train --resume " + run, "in 2 classes");
  fs::remove_all(data + "/train/c");
  fs::remove_all(data + "/test/c");
  fs::rename(data + "/train/b", data + "/train/z");
  fs::rename(data + "/test/b", data + "/test/z");
  rotor_fails("train --resume " + run, "was trained on the classes a,b but");
}

TEST_CASE("the CPU softmax cross-entropy rejects a label outside the classes", "[run-safety][softmax_ce]") {
  Context ctx;
  const std::vector<float> logits(3 * 4, 0.5f);
  std::vector<float> loss(1), grad(12);
  const std::vector<float> dloss = {1};
  for (int32_t bad : {4, -1}) {
    const std::vector<int32_t> labels = {0, bad, 3};
    CHECK_THROWS_WITH(cpu::softmax_cross_entropy_forward<float>(ctx, 3, 4, logits.data(), labels.data(), loss.data()),
                      Catch::Contains("sample 1 of the batch has label " + std::to_string(bad)));
    CHECK_THROWS_WITH(cpu::softmax_cross_entropy_backward<float>(ctx, 3, 4, logits.data(), labels.data(), dloss.data(),
                                                                  grad.data(), GradMode::assign),
                      Catch::Contains("outside the 4 classes"));
  }
}

TEST_CASE("onecycle with a one-step rise starts at the peak, never NaN", "[run-safety][schedule]") {
  ScheduleConfig c;
  c.kind = ScheduleConfig::Kind::onecycle;
  c.lr = 0.1;
  for (const auto& [warmup, steps, epochs] : {std::tuple{0.1, 10, 1}, std::tuple{0.5, 1, 2}, std::tuple{0.3, 1, 1}}) {
    c.warmup = warmup;
    INFO("warmup " << warmup << ", " << steps << " steps x " << epochs << " epochs");
    for (int64_t s = 0; s < steps * epochs; ++s) CHECK(std::isfinite(learning_rate(c, s, steps, epochs)));
    CHECK(learning_rate(c, 0, steps, epochs) == Approx(0.1));
  }
}

TEST_CASE("a diverging run stops with an error naming the epoch and step and writes no NaN model",
          "[run-safety][cli]") {
  const std::string dir = temp_dir("nan") + "/run";
  const CommandResult r = rotor_fails("train" + quick + " --data mnist:" + small_data() +
                                          " --epochs 2 --lr 100 --schedule constant --out " + dir,
                                      "at epoch 1, step ");
  CHECK_THAT(r.output, Catch::Contains("the run diverged") && Catch::Contains("no checkpoint was written yet"));
  CHECK_FALSE(fs::exists(dir + "/model.rotor"));
  CHECK_FALSE(fs::exists(dir + "/checkpoint.rotor"));
  CHECK_FALSE(fs::exists(dir + "/metrics.jsonl"));
  // Nothing to resume, and nothing of an earlier run is taken for it.
  rotor_fails("train --resume " + dir, "there is no " + dir + "/checkpoint.rotor");
}

TEST_CASE("an append cut short reports the real error and leaves no torn line", "[run-safety]") {
  const std::string path = temp_dir("append") + "/metrics.jsonl";
  Json line = Json::object();
  line.set("epoch", 1);
  line.set("note", std::string(200, 'x'));
  append_json_line(path, line);
  const std::string before = read_text(path);
  // A file size limit makes write(2) return short (what a full disk does),
  // then fail with EFBIG; SIGXFSZ would otherwise kill the test.
  struct rlimit old {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = before.size() + 50;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    append_json_line(path, line);
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK_THAT(message, Catch::Contains("cannot append to " + path + ": File too large"));
  CHECK(read_text(path) == before);
  CHECK_THROWS_WITH(append_json_line("/dev/full", line),
                    Catch::Contains("cannot append to /dev/full: No space left on device"));
}

TEST_CASE("resume drops a torn last metrics line and names the file for any other bad line", "[run-safety][resume]") {
  const std::string common = quick + " --data mnist:" + small_data() + " --epochs 2 --schedule constant --out ";
  const std::string straight = temp_dir("torn-a"), torn = temp_dir("torn-b");
  rotor_ok("train" + common + straight);
  rotor_ok("train" + common + torn + " --stop-after 1");
  const std::string good = read_text(torn + "/metrics.jsonl");
  write_text(torn + "/metrics.jsonl", "garbage\n" + good);
  rotor_fails("train --resume " + torn, torn + "/metrics.jsonl, line 1: ");
  write_text(torn + "/metrics.jsonl", good + "{\"epoch\":2,\"lr\":0.1,\"train_lo");
  const CommandResult r = rotor_ok("train --resume " + torn);
  CHECK_THAT(r.output, Catch::Contains("dropped the torn last line of " + torn + "/metrics.jsonl (line 2"));
  CHECK(metrics_of(torn) == metrics_of(straight));
}

TEST_CASE("run.json is range-checked on resume, naming the field and file", "[run-safety][resume]") {
  const std::string dir = temp_dir("runjson");
  rotor_ok("train" + quick + " --data mnist:" + small_data() + " --epochs 2 --stop-after 1 --out " + dir);
  const std::string original = read_text(dir + "/run.json");
  const auto edit = [&](const std::string& field, const std::string& value) {
    Json j = Json::parse(original);
    j.set(field, Json::parse(value));
    write_text(dir + "/run.json", j.dump(2));
  };
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"eval_batch", "0"}, {"checkpoint_every", "0"}, {"lr", "-1"}, {"lr", "1e300"}, {"batch", "1"},
           {"warmup", "2"}, {"threads", "-3"}, {"momentum", "7"}}) {
    edit(field, value);
    rotor_fails("train --resume " + dir, dir + "/run.json: field '" + field + "' is ");
  }
  write_text(dir + "/run.json", original);
  rotor_ok("train --resume " + dir);
}

TEST_CASE("flags that would do nothing in the run are refused", "[run-safety][cli]") {
  const std::string bad = " --data mnist:/nonexistent --device cpu";  // never reached
  rotor_fails("train --model fcnn --dropout 0.3" + bad, "--dropout applies to wide ResNets", 2);
  rotor_fails("train --schedule multistep --warmup 0.1" + bad, "--warmup applies to --schedule cosine or onecycle", 2);
  rotor_fails("train --schedule onecycle --milestones 2,3" + bad, "--milestones needs --schedule multistep", 2);
  rotor_fails("train --act relu --train slopes" + bad, "a --act relu network has none", 2);
  rotor_fails("train --opt adam --momentum 0.5" + bad, "--momentum applies to --opt sgd only", 2);
}

TEST_CASE("running out of memory while building a model is a clean error", "[run-safety][cli]") {
  // 2 GB for the child; fcnn-1000000 needs 3 GB for its first weight.
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan (scripts/hardening.sh) ulimit -v cannot cap the child: ASan
  // reserves terabytes of shadow address space at start and aborts. Its own
  // allocation cap, returning null as malloc does, is the same test there.
  const std::string limit = "ASAN_OPTIONS=$ASAN_OPTIONS:max_allocation_size_mb=2000:allocator_may_return_null=1";
#else
  const std::string limit = "ulimit -v 2000000;";
#endif
  const std::string dir = temp_dir("oom") + "/run";
  const std::string command = "sh -c '" + limit + " exec " + std::string(ROTOR_BIN) +
                              " train --device cpu --threads 1 --model fcnn-1000000 --data mnist:" + small_data() + " --epochs 1 --out " + dir +
                              "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = ::pclose(pipe);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(output, Catch::Contains("out of cpu memory"));
  CHECK_FALSE(fs::exists(dir));
}

namespace {

// Starts `rotor train ARGS` with its output in `log`; returns the pid.
pid_t spawn_rotor(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv = {const_cast<char*>(ROTOR_BIN)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(ROTOR_BIN, argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("SIGTERM inside an epoch checkpoints there, and the resumed run equals a straight one", "[run-safety][resume]") {
  // fcnn-1024 on 1,000 images in batches of 10: 100 steps of about 10 ms.
  const std::string common = "train --model fcnn-1024 --data mnist:" + small_data() +
                             " --epochs 2 --batch 10 --schedule cosine --device cpu --threads 1 --seed 5 --out";
  const std::string straight = temp_dir("sig-a"), stopped = temp_dir("sig-b"), log = stopped + ".log";
  rotor_ok(common + " " + straight);
  std::vector<std::string> args;
  std::istringstream words(common);
  for (std::string w; words >> w;) args.push_back(w);
  args.push_back(stopped);
  const pid_t pid = spawn_rotor(args, log);
  // Stop it once it trains (the announcement comes just before step 1).
  for (int i = 0; i < 4000 && read_text(log).find("rotor train: training") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  REQUIRE(::kill(pid, SIGTERM) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string output = read_text(log);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK_THAT(output, Catch::Contains("stopped by SIGTERM in epoch 1, after step") &&
                         Catch::Contains("continue with: rotor train --resume " + stopped));
  CHECK_FALSE(fs::exists(stopped + "/metrics.jsonl"));
  const CommandResult r = rotor_ok("train --resume " + stopped);
  CHECK_THAT(r.output, Catch::Contains("resuming epoch 1 at step"));
  CHECK(metrics_of(stopped) == metrics_of(straight));
  const TensorFile a = read_tensor_file(straight + "/model.rotor"), b = read_tensor_file(stopped + "/model.rotor");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(a.tensors[i].first);
    REQUIRE(a.tensors[i].second.bytes() == b.tensors[i].second.bytes());
    CHECK(std::memcmp(a.tensors[i].second.raw(), b.tensors[i].second.raw(), a.tensors[i].second.bytes()) == 0);
  }
}
