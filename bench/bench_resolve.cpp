// Parse, selection and resolution on a real-size Qwen3-Next-80B-A3B description
// (48 layers x 512 experts, ~99k modules). Run: ./build/bin/awqmap_bench
#include <benchmark/benchmark.h>

#include "awqmap/awqmap.hpp"
#include "awqmap/loader.hpp"
#include "output.hpp"

namespace {

awqmap::Registry& registry() {
  static awqmap::Registry r;
  static bool loaded = [] {
    awqmap::PluginLoader(r).load_directory(AWQMAP_PLUGIN_BUILD_DIR);
    return true;
  }();
  (void)loaded;
  return r;
}

void parse_description(benchmark::State& state) {
  for (auto _ : state) {
    awqmap::ModelView m = awqmap::load_model_description(AWQMAP_BENCH_MODEL);
    benchmark::DoNotOptimize(m.size());
  }
}
BENCHMARK(parse_description)->Unit(benchmark::kMillisecond);

void select_and_resolve(benchmark::State& state) {
  awqmap::ModelView m = awqmap::load_model_description(AWQMAP_BENCH_MODEL);
  for (auto _ : state) {
    awqmap::Selection s = registry().select(m);
    awqmap::Resolution r = awqmap::resolve(m, s.mappings);
    benchmark::DoNotOptimize(r.resolved.size());
  }
  state.counters["modules"] = static_cast<double>(m.size());
}
BENCHMARK(select_and_resolve)->Unit(benchmark::kMillisecond);

void whole_resolve_json(benchmark::State& state) {
  for (auto _ : state) {
    awqmap::ModelView m = awqmap::load_model_description(AWQMAP_BENCH_MODEL);
    awqmap::Selection s = registry().select(m);
    awqmap::Resolution r = awqmap::resolve(m, s.mappings);
    std::string json = awqmap::cli::resolution_json(m, s, s.mappings, r);
    benchmark::DoNotOptimize(json.size());
  }
}
BENCHMARK(whole_resolve_json)->Unit(benchmark::kMillisecond);

void checkpoint_load_and_resolve(benchmark::State& state) {
  for (auto _ : state) {
    awqmap::ModelView m = awqmap::load_checkpoint(AWQMAP_BENCH_CHECKPOINT, {std::nullopt, &registry()});
    awqmap::Selection s = registry().select(m);
    awqmap::Resolution r = awqmap::resolve(m, s.mappings);
    benchmark::DoNotOptimize(r.resolved.size());
  }
}
BENCHMARK(checkpoint_load_and_resolve)->Unit(benchmark::kMillisecond);

void checkpoint_load(benchmark::State& state) {
  for (auto _ : state) {
    awqmap::ModelView m = awqmap::load_checkpoint(AWQMAP_BENCH_CHECKPOINT, {std::nullopt, &registry()});
    benchmark::DoNotOptimize(m.size());
  }
}
BENCHMARK(checkpoint_load)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
