// Progress lines: they fit the terminal's width, show the whole job's ETA
// and the extra text when there is room, and off a terminal come as plain
// lines at most every 30 seconds.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/gamma_search.h"
#include "apps/progress.h"
#include "apps/trainer.h"
#include "engine/context.h"
#include "engine/rng.h"

using namespace rotor;

TEST_CASE("the progress line fits every terminal width", "[progress]") {
  const ProgressState s{"epoch 3/10", 0.25, 60, "loss 0.4312"};
  for (int columns = 1; columns <= 200; ++columns) {
    const std::string line = progress_line(s, columns);
    INFO(columns << ": '" << line << "'");
    CHECK(line.size() <= static_cast<size_t>(std::max(columns - 1, 1)));
  }
  const std::string wide = progress_line(s, 120);
  CHECK_THAT(wide, Catch::Contains("epoch 3/10 [=======>") && Catch::Contains(" 25%") && Catch::Contains("ETA 3m00s") &&
                       Catch::Contains("loss 0.4312") && Catch::Contains("1m00s"));
  // Narrow: the bar and the elapsed time go before the ETA does.
  const std::string narrow = progress_line(s, 40);
  CHECK_THAT(narrow, Catch::Contains("ETA 3m00s"));
  CHECK_THAT(narrow, !Catch::Contains("["));
  CHECK_THAT(progress_line({"x", 0, 0, ""}, 80), Catch::Contains("ETA ?"));
  CHECK(progress_text(s) == "epoch 3/10  25%  1m00s  ETA 3m00s  loss 0.4312");
}

TEST_CASE("terminal width comes from COLUMNS when it is set", "[progress]") {
  const char* old = std::getenv("COLUMNS");
  const std::string saved = old ? old : "";
  ::setenv("COLUMNS", "37", 1);
  CHECK(terminal_columns() == 37);
  ::setenv("COLUMNS", "junk", 1);
  CHECK(terminal_columns() > 0);
  if (old)
    ::setenv("COLUMNS", saved.c_str(), 1);
  else
    ::unsetenv("COLUMNS");
}

TEST_CASE("off a terminal, a plain line at most every 30 seconds", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  double now = 0;
  ProgressBar::Options o;
  o.out = f;
  o.interactive = false;
  o.clock = [&] { return now; };
  ProgressBar bar(o);
  for (int i = 0; i <= 100; ++i) {  // 100 updates over 100 s
    now = i;
    bar.show({"choosing gamma", i / 100.0, now, ""});
  }
  std::rewind(f);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  std::fclose(f);
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);  // at 30, 60 and 90 s
  CHECK(text.find('\r') == std::string::npos);
  CHECK_THAT(text, Catch::StartsWith("choosing gamma  30%  30.0s  ETA 1m10s\n"));
}

TEST_CASE("the gamma search never makes more trials than its bound", "[progress][gamma]") {
  Rng rng(3);
  for (int n : {1, 2, 5, 33, 100, 1000, 5000}) {
    std::vector<double> mags;
    for (int i = 0; i < n; ++i) mags.push_back(static_cast<double>(rng.below(4000)) * 1e-3);
    for (double cut : {0.0, 0.3, 1.7, 3.99, 5.0}) {
      int64_t calls = 0;
      choose_gamma(
          mags,
          [&](double g) {
            ++calls;
            return g < cut ? 1.0 : 0.0;
          },
          0.0);
      INFO(n << " slopes, accuracy falls at " << cut);
      CHECK(calls <= max_gamma_trials(mags));
    }
  }
}

TEST_CASE("training progress reports the epoch's running loss", "[progress][train]") {
  Context ctx;
  ModelSpec spec;
  spec.arch = "fcnn-8";
  spec.in_channels = 1;
  spec.height = spec.width = 4;
  spec.classes = 3;
  auto model = build_model(ctx, spec);
  Rng rng(4);
  DataSplit data;
  data.classes = 3;
  for (Dataset* d : {&data.train, &data.test}) {
    d->channels = 1;
    d->height = d->width = 4;
    for (int i = 0; i < 250; ++i) {
      for (int p = 0; p < 16; ++p) d->images.push_back(static_cast<uint8_t>(rng.below(256)));
      d->labels.push_back(static_cast<int32_t>(rng.below(3)));
    }
  }
  TrainSettings s;
  s.epochs = 1;
  s.batch = 64;
  Trainer trainer(ctx, *model, data, s);
  std::vector<double> losses;
  const EpochResult r = trainer.train_epoch(
      [&](int64_t, int64_t, double, const std::function<double()>& loss) { losses.push_back(loss()); });
  REQUIRE(losses.size() == 4);
  CHECK(losses.back() == Approx(r.train_loss).epsilon(1e-6));
  CHECK(losses.front() > 0);
}
