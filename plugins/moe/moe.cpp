// Mixture-of-experts architectures. Every group is an exact rescaling: the balance layers are
// all the readers of the smooth layer's output. In a sparse block the router reads the normed
// input beside the experts, and so do the shared experts and their gate, so they all join the
// norm's group (the peers and llm-compressor's default list leave the router out, which changes
// routing). Where dense and sparse layers mix, one pattern spanning both kinds makes the
// grouping collapse, so the builders below scope each kind by the layer indices the config
// gives, read as transformers reads them.
//
// Optional modules (shared experts that only some configs build, indexers that only some layers
// have) are folded into an alternation with a module every layer of that kind has, so that a
// layer without them still closes its group.
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>


namespace {

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::plugin::Model;
using awqmap::Origin;
using awqmap::Provenance;

// ---------------------------------------------------------------------------------------------
// Static lists: every decoder layer has the same kind of block.

// Mixtral, MiniMax-M2, OLMoE: the default list plus the router `mlp.gate` (upstream's moe list).
const MappingList sparse_mlp_gate_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.gate$)", R"(re:.*mlp\.experts\.\d+\.gate_proj$)", R"(re:.*mlp\.experts\.\d+\.up_proj$)"}},
    {R"(re:.*up_proj$)", {R"(re:.*down_proj$)"}},
};

// Phi-3.5-MoE names its router `mlp.router`.
const MappingList phimoe_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.router$)", R"(re:.*mlp\.experts\.\d+\.gate_proj$)", R"(re:.*mlp\.experts\.\d+\.up_proj$)"}},
    {R"(re:.*up_proj$)", {R"(re:.*down_proj$)"}},
};

// GRIN-MoE (remote code) keeps Mixtral's original names: `block_sparse_moe.gate` routes,
// experts are w1 (gate) / w3 (up) / w2 (down); the peer left the router out.
const MappingList grinmoe_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*block_sparse_moe\.gate$)", R"(re:.*block_sparse_moe\.experts\.\d+\.w1$)",
      R"(re:.*block_sparse_moe\.experts\.\d+\.w3$)"}},
    {R"(re:.*experts\.\d+\.w3$)", {R"(re:.*experts\.\d+\.w2$)"}},
};

// Granite MoE: `block_sparse_moe.router`; GraniteMoeShared adds a layer-level `shared_mlp`
// (when shared_intermediate_size > 0) that reads the same norm through its fused
// `input_linear`. Its input_linear -> output_linear crosses the gate half: no group there.
const MappingList granitemoe_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*(block_sparse_moe\.router|shared_mlp\.input_linear)$)",
      R"(re:.*block_sparse_moe\.experts\.\d+\.gate_proj$)", R"(re:.*block_sparse_moe\.experts\.\d+\.up_proj$)"}},
    {R"(re:.*experts\.\d+\.up_proj$)", {R"(re:.*experts\.\d+\.down_proj$)"}},
};

// Hunyuan-A13B: the router is the Linear `mlp.gate.wg`; the always-present `shared_mlp`
// reads the norm too. Every layer is sparse.
const MappingList hunyuan_moe_v1_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.gate\.wg$)", R"(re:.*mlp\.(experts\.\d+|shared_mlp)\.gate_proj$)",
      R"(re:.*mlp\.(experts\.\d+|shared_mlp)\.up_proj$)"}},
    {R"(re:.*up_proj$)", {R"(re:.*down_proj$)"}},
};

// gpt-oss: router `mlp.router`. Its experts compute (clamp(up) + 1) * glu(clamp(gate)), so
// scaling up_proj's output is not undone by down_proj: no up -> down group.
const MappingList gpt_oss_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.router$)", R"(re:.*mlp\.experts\.\d+\.gate_proj$)", R"(re:.*mlp\.experts\.\d+\.up_proj$)"}},
};

// LongCat-Flash: two attention + MLP sub-blocks per layer (ModuleLists of norms). The shortcut
// MoE reads post_attention_layernorm.0, but its zero-computation experts return their input
// unchanged into the residual stream, so that norm's scaling cannot be undone: no group for
// it. post_attention_layernorm.1 feeds mlps.1 alone.
const MappingList longcat_flash_mappings = {
    {R"(re:.*input_layernorm\.0$)",
     {R"(re:.*self_attn\.0\.(q|q_a)_proj$)", R"(re:.*self_attn\.0\.kv_a_proj_with_mqa$)"}},
    {R"(re:.*input_layernorm\.1$)",
     {R"(re:.*self_attn\.1\.(q|q_a)_proj$)", R"(re:.*self_attn\.1\.kv_a_proj_with_mqa$)"}},
    {R"(re:.*q_a_layernorm$)", {R"(re:.*q_b_proj$)"}},
    {R"(re:.*kv_a_layernorm$)", {R"(re:.*kv_b_proj$)"}},
    {R"(re:.*post_attention_layernorm\.1$)", {R"(re:.*mlps\.1\.gate_proj$)", R"(re:.*mlps\.1\.up_proj$)"}},
    {R"(re:.*up_proj$)", {R"(re:.*down_proj$)"}},
};

// Aria's routed experts are grouped GEMMs (`experts.fc1`, weight [experts, in, out]) that a
// column scaling of a Linear weight does not address, and they read post_attention_layernorm
// beside the router and the shared experts: that group is left out. The shared experts' gated
// up -> down stays.
const MappingList aria_text_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*shared_experts\.up_proj$)", {R"(re:.*shared_experts\.down_proj$)"}},
};

// DBRX: norm_1 feeds the fused Wqkv alone (q/k/v_proj in converted checkpoints). norm_2 feeds
// the router and the experts, whose fused tensors may not be split into modules, so that group
// is left out; an expert's gated v1 -> w2 is exact where experts are modules.
const MappingList dbrx_mappings = {
    {R"(re:.*norm_attn_norm\.norm_1$)", {R"(re:.*norm_attn_norm\.attn\.(Wqkv|q_proj|k_proj|v_proj)$)"}},
    {R"(re:.*experts\.mlp\.\d+\.v1$)", {R"(re:.*experts\.mlp\.\d+\.w2$)"}},
};


// ZAYA: the CCA projection reads the input norm through q, k and the two value halves (the
// convolution mixes q/k after them). The router reads the MLP norm through `mlp.gate.down_proj`,
// whose output also carries to the next layer's router, so it only balances here. The value
// halves are concatenated per head, so no v -> o group.
const MappingList zaya_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.qkv_proj\.(q_proj|k_proj|v_proj_current|v_proj_delayed)$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.gate\.down_proj$)", R"(re:.*mlp\.experts\.\d+\.gate_proj$)", R"(re:.*mlp\.experts\.\d+\.up_proj$)"}},
    {R"(re:.*experts\.\d+\.up_proj$)", {R"(re:.*experts\.\d+\.down_proj$)"}},
};

// JetMoE: mixture-of-attention, the input norm feeds the attention router, the query experts
// (`input_linear`, a 3-D expert bank) and kv_proj; the MLP norm feeds the MLP router and its
// expert bank. v -> o crosses the per-expert output bank and input_linear -> output_linear a
// fused [gate; up] bank per expert: both left out.
const MappingList jetmoe_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attention\.experts\.router\.layer$)", R"(re:.*self_attention\.experts\.input_linear$)",
      R"(re:.*self_attention\.kv_proj$)"}},
    {R"(re:.*post_attention_layernorm$)", {R"(re:.*mlp\.router\.layer$)", R"(re:.*mlp\.input_linear$)"}},
};

// ---------------------------------------------------------------------------------------------
// Dense/sparse layer split, read from the config as the architecture's modeling code reads it.

enum class Split {
  first_k_dense,     // mlp_layer_types, else layer >= first_k_dense_replace is sparse
  num_dense_layers,  // mlp_layer_types, else layer >= num_dense_layers is sparse
  ernie,             // (i + 1) % moe_layer_interval == 0 and start <= i <= end
  qwen,              // i not in mlp_only_layers, num_experts > 0, (i + 1) % decoder_sparse_step == 0
  llama4,            // i in moe_layers (default: every interleave_moe_layer_step-th layer)
  mlp_types,         // mlp_layer_types, else every layer is sparse
};

[[noreturn]] void bad_config(const Model& model, const std::string& what) {
  throw awqmap::plugin::Error("config of " + model.origin() + ": " + what + "; fix the config, or pass --mappings FILE");
}

std::int64_t checked_layers(const Model& model, std::int64_t n, const char* field) {
  if (n < 0) bad_config(model, std::string(field) + " must not be negative");
  if (n > awqmap::toolkit::max_layers)
    bad_config(model, std::string(field) + " gives " + std::to_string(n) + " layers, more than the " +
                          std::to_string(awqmap::toolkit::max_layers) + " awqmap accepts");
  return n;
}

// A list field of integers (mlp_only_layers, moe_layers); nullopt when absent or null.
std::optional<std::vector<std::int64_t>> integer_list(const Model& model, const char* key) {
  const auto v = model.config_field(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) bad_config(model, std::string(key) + " must be a list of integers");
  if (v->size() > static_cast<std::size_t>(awqmap::toolkit::max_layers))
    bad_config(model, std::string(key) + " has more entries than awqmap accepts");
  std::vector<std::int64_t> out;
  for (const auto& e : *v) {
    if (!e.is_number_integer()) bad_config(model, std::string(key) + " must be a list of integers");
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

struct LayerSplit {
  std::vector<std::size_t> dense, sparse;
};

// nullopt, with `why`, when the config does not say which layers are sparse.
std::optional<LayerSplit> split_layers(const Model& model, Split rule, std::string& why) {
  using awqmap::toolkit::config_integer;
  auto layers = config_integer(model, "num_hidden_layers");
  std::vector<bool> sparse;

  auto from_threshold = [&](const char* field) -> bool {
    if (const auto types = model.config_field("mlp_layer_types"); types && !types->is_null()) {
      if (!types->is_array()) bad_config(model, "mlp_layer_types must be a list of strings");
      std::int64_t n =
          checked_layers(model, layers.value_or(static_cast<std::int64_t>(types->size())), "num_hidden_layers");
      if (types->size() < static_cast<std::size_t>(n))
        bad_config(model, "mlp_layer_types has " + std::to_string(types->size()) + " entries for " + std::to_string(n) +
                              " layers");
      for (std::int64_t i = 0; i < n; ++i) {
        const auto& t = (*types)[static_cast<std::size_t>(i)];
        if (!t.is_string()) bad_config(model, "mlp_layer_types must be a list of strings");
        const std::string s = t.get<std::string>();
        if (s != "dense" && s != "sparse") {
          why = "mlp_layer_types[" + std::to_string(i) + "] is '" + s + "', neither 'dense' nor 'sparse'";
          return false;
        }
        sparse.push_back(s == "sparse");
      }
      return true;
    }
    auto k = config_integer(model, field);
    if (!layers || !k) {
      why = std::string("the config gives neither mlp_layer_types nor num_hidden_layers and ") + field;
      return false;
    }
    std::int64_t n = checked_layers(model, *layers, "num_hidden_layers");
    for (std::int64_t i = 0; i < n; ++i) sparse.push_back(i >= *k);
    return true;
  };

  switch (rule) {
    case Split::first_k_dense:
      if (!from_threshold("first_k_dense_replace")) return std::nullopt;
      break;
    case Split::num_dense_layers:
      if (!from_threshold("num_dense_layers")) return std::nullopt;
      break;
    case Split::mlp_types: {
      const auto types = model.config_field("mlp_layer_types");
      if (types && !types->is_null()) {
        if (!from_threshold("mlp_layer_types")) return std::nullopt;
        break;
      }
      // The config classes fill mlp_layer_types with "sparse" when it is left out.
      if (!layers) {
        why = "the config gives neither mlp_layer_types nor num_hidden_layers";
        return std::nullopt;
      }
      std::int64_t n = checked_layers(model, *layers, "num_hidden_layers");
      sparse.assign(static_cast<std::size_t>(n), true);
      break;
    }
    case Split::ernie: {
      auto start = config_integer(model, "moe_layer_start_index");
      if (!layers || !start) {
        why = "the config lacks num_hidden_layers or moe_layer_start_index";
        return std::nullopt;
      }
      std::int64_t n = checked_layers(model, *layers, "num_hidden_layers");
      // Ernie4_5_MoeConfig's defaults: the last layer ends the range, every layer is eligible.
      std::int64_t end = config_integer(model, "moe_layer_end_index").value_or(-1);
      if (end == -1) end = n - 1;
      std::int64_t interval = config_integer(model, "moe_layer_interval").value_or(1);
      if (interval < 1) bad_config(model, "moe_layer_interval must be at least 1");
      for (std::int64_t i = 0; i < n; ++i) sparse.push_back((i + 1) % interval == 0 && i >= *start && i <= end);
      break;
    }
    case Split::qwen: {
      auto experts = config_integer(model, "num_experts");
      if (!layers || !experts) {
        why = "the config lacks num_hidden_layers or num_experts";
        return std::nullopt;
      }
      std::int64_t n = checked_layers(model, *layers, "num_hidden_layers");
      std::int64_t step = config_integer(model, "decoder_sparse_step").value_or(1);
      if (step < 1) bad_config(model, "decoder_sparse_step must be at least 1");
      auto only = integer_list(model, "mlp_only_layers").value_or(std::vector<std::int64_t>{});
      // Sorted for a logarithmic lookup: both lists may be as long as max_layers.
      std::sort(only.begin(), only.end());
      for (std::int64_t i = 0; i < n; ++i)
        sparse.push_back(!std::binary_search(only.begin(), only.end(), i) && *experts > 0 && (i + 1) % step == 0);
      break;
    }
    case Split::llama4: {
      if (!layers) {
        why = "the config lacks num_hidden_layers";
        return std::nullopt;
      }
      std::int64_t n = checked_layers(model, *layers, "num_hidden_layers");
      auto moe = integer_list(model, "moe_layers");
      if (!moe) {
        auto step = config_integer(model, "interleave_moe_layer_step");
        if (!step) {
          why = "the config gives neither moe_layers nor interleave_moe_layer_step";
          return std::nullopt;
        }
        if (*step < 1) bad_config(model, "interleave_moe_layer_step must be at least 1");
        moe.emplace();
        for (std::int64_t i = *step - 1; i < n; i += *step) moe->push_back(i);
      }
      std::sort(moe->begin(), moe->end());
      for (std::int64_t i = 0; i < n; ++i) sparse.push_back(std::binary_search(moe->begin(), moe->end(), i));
      break;
    }
  }
  LayerSplit out;
  for (std::size_t i = 0; i < sparse.size(); ++i) (sparse[i] ? out.sparse : out.dense).push_back(i);
  if (out.dense.empty() && out.sparse.empty()) {
    why = "the config gives no layers";
    return std::nullopt;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mixed dense/sparse families: shared groups, then the MLP norm's group once per layer kind,
// both smooth and balance patterns scoped to that kind's layer indices.

struct Family {
  const char* scope;  // what precedes `layers\.<i>\.` in a scoped pattern
  MappingList attention;
  const char* norm;                 // the norm that feeds the MLP, relative to the layer
  std::vector<const char*> dense;   // its readers in a dense layer, relative to the layer
  std::vector<const char*> sparse;  // its readers in a sparse layer; empty: no group there
  MappingList tail;
  Split split;
  const char* sparse_norm = nullptr;  // the MLP norm of a sparse layer where it differs from `norm`
};

void add_scoped(MappingList& out, const Family& f, const std::vector<std::size_t>& layers, const char* norm,
                const std::vector<const char*>& readers) {
  if (layers.empty() || readers.empty()) return;
  const std::string prefix =
      std::string("re:") + f.scope + R"(layers\.()" + awqmap::toolkit::index_alternation(layers) + R"()\.)";
  std::vector<std::string> balance;
  for (const char* r : readers) balance.push_back(prefix + r);
  out.push_back({prefix + norm, std::move(balance)});
}

BuildResult build_family(const Model& model, const Family& f) {
  std::string why;
  auto split = split_layers(model, f.split, why);
  if (!split) return BuildResult::decline(why);
  MappingList out = f.attention;
  add_scoped(out, f, split->dense, f.norm, f.dense);
  add_scoped(out, f, split->sparse, f.sparse_norm ? f.sparse_norm : f.norm, f.sparse);
  out.insert(out.end(), f.tail.begin(), f.tail.end());
  return BuildResult::use(std::move(out));
}

// Shared pieces.
const MappingList llama_attention = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
};
// Multi-head latent attention: q (or q_a) and kv_a read the input norm; q_b and kv_b read the
// low-rank norms. The sparse-attention indexer, in the layers that have one, reads the input
// norm through wk / weights_proj and q_a_layernorm through wq_b.
const MappingList mla_attention = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.(q|q_a)_proj$)",
      R"(re:.*self_attn\.(kv_a_proj_with_mqa|indexer\.wk|indexer\.weights_proj)$)"}},
    {R"(re:.*q_a_layernorm$)", {R"(re:.*self_attn\.(q_b_proj|indexer\.wq_b)$)"}},
    {R"(re:.*kv_a_layernorm$)", {R"(re:.*self_attn\.kv_b_proj$)"}},
};
const MappingList up_down = {{R"(re:.*up_proj$)", {R"(re:.*down_proj$)"}}};

const std::vector<const char*> dense_mlp = {R"(mlp\.gate_proj$)", R"(mlp\.up_proj$)"};
// Router `mlp.gate`, routed experts and (where the config builds them) `shared_experts`.
const std::vector<const char*> sparse_mlp = {R"(mlp\.gate$)", R"(mlp\.(experts\.\d+|shared_experts)\.gate_proj$)",
                                             R"(mlp\.(experts\.\d+|shared_experts)\.up_proj$)"};

// DeepSeek-V2/V3/V3.2, GLM-4.7-Flash (Glm4MoeLite), GLM-5 (GlmMoeDsa): MLA + DeepSeek MoE.
const Family deepseek = {".*",       mla_attention, "post_attention_layernorm", dense_mlp,
                         sparse_mlp, up_down,       Split::first_k_dense};

// Hunyuan V4: DeepSeek-V3.2 attention plus an output gate `self_attn.gate_proj` that reads the
// input norm. The hyper-connections mix the residual streams before each norm, not after.
const Family hyv4 = {
    ".*",
    {{R"(re:.*input_layernorm$)",
      {R"(re:.*self_attn\.(q|q_a)_proj$)", R"(re:.*self_attn\.(kv_a_proj_with_mqa|indexer\.wk|indexer\.weights_proj)$)",
       R"(re:.*self_attn\.gate_proj$)"}},
     mla_attention[1],
     mla_attention[2]},
    "post_attention_layernorm",
    dense_mlp,
    sparse_mlp,
    up_down,
    Split::first_k_dense};

// GLM-4.5/4.6, dots.llm1, Hunyuan V3, MiMo-V2-Flash: Llama attention + DeepSeek MoE.
const Family llama_deepseek_moe = {".*",       llama_attention, "post_attention_layernorm", dense_mlp,
                                   sparse_mlp, up_down,         Split::first_k_dense};

// Laguna: the attention output gate `self_attn.g_proj` reads the input norm beside q/k/v.
const Family laguna = {".*",
                       {{R"(re:.*input_layernorm$)",
                         {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)",
                          R"(re:.*self_attn\.g_proj$)"}},
                        llama_attention[1]},
                       "post_attention_layernorm",
                       dense_mlp,
                       sparse_mlp,
                       up_down,
                       Split::first_k_dense};

// ERNIE 4.5 MoE: sparse layers from moe_layer_start_index on, every moe_layer_interval-th.
const Family ernie = {".*", llama_attention, "post_attention_layernorm", dense_mlp, sparse_mlp, up_down, Split::ernie};

// Qwen2-MoE / Qwen3-MoE: router `mlp.gate`; Qwen2-MoE adds `shared_expert` and its sigmoid
// gate `shared_expert_gate`, a Linear on the same normed input.
const Family qwen_moe = {".*",
                         llama_attention,
                         "post_attention_layernorm",
                         dense_mlp,
                         {R"(mlp\.(gate|shared_expert_gate)$)", R"(mlp\.(experts\.\d+|shared_expert)\.gate_proj$)",
                          R"(mlp\.(experts\.\d+|shared_expert)\.up_proj$)"},
                         up_down,
                         Split::qwen};

// AFMoE: an attention gate `self_attn.gate_proj` reads the input norm; post_attention_layernorm
// normalises the attention output before the residual (a post-norm), and the MLP reads
// pre_mlp_layernorm. The router's Linear is `mlp.router.gate`.
const Family afmoe = {".*",
                      {{R"(re:.*input_layernorm$)",
                        {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)",
                         R"(re:.*self_attn\.gate_proj$)"}},
                       llama_attention[1]},
                      "pre_mlp_layernorm",
                      dense_mlp,
                      {R"(mlp\.router\.gate$)", R"(mlp\.(experts\.\d+|shared_experts)\.gate_proj$)",
                       R"(mlp\.(experts\.\d+|shared_experts)\.up_proj$)"},
                      up_down,
                      Split::num_dense_layers};

// Llama 4: `feed_forward` is a MoE (router, experts, shared_expert) in the layers of
// moe_layers and a plain MLP elsewhere.
const std::vector<const char*> llama4_dense = {R"(feed_forward\.gate_proj$)", R"(feed_forward\.up_proj$)"};
const std::vector<const char*> llama4_sparse = {R"(feed_forward\.router$)",
                                                R"(feed_forward\.(experts\.\d+|shared_expert)\.gate_proj$)",
                                                R"(feed_forward\.(experts\.\d+|shared_expert)\.up_proj$)"};
const Family llama4_text = {".*",    llama_attention, "post_attention_layernorm", llama4_dense, llama4_sparse,
                            up_down, Split::llama4};
// The multimodal class: every pattern scoped to the language model, whose names the vision
// tower (q/k/v_proj, input_layernorm, post_attention_layernorm) shares.
const Family llama4_multimodal = {
    ".*language_model.*",
    {{R"(re:.*language_model.*input_layernorm$)",
      {R"(re:.*language_model.*self_attn\.q_proj$)", R"(re:.*language_model.*self_attn\.k_proj$)",
       R"(re:.*language_model.*self_attn\.v_proj$)"}},
     {R"(re:.*language_model.*self_attn\.v_proj$)", {R"(re:.*language_model.*self_attn\.o_proj$)"}}},
    "post_attention_layernorm",
    llama4_dense,
    llama4_sparse,
    {{R"(re:.*language_model.*up_proj$)", {R"(re:.*language_model.*down_proj$)"}}},
    Split::llama4};

// Command A MoE (Cohere2Moe): a parallel block, input_layernorm feeds attention and the MLP
// (dense in the first first_k_dense_replace layers, MoE after); there is no post-attention norm.
const std::vector<const char*> qkv = {R"(self_attn\.q_proj$)", R"(self_attn\.k_proj$)", R"(self_attn\.v_proj$)"};
const Family cohere2_moe = {".*",
                            {llama_attention[1]},
                            "input_layernorm",
                            {qkv[0], qkv[1], qkv[2], dense_mlp[0], dense_mlp[1]},
                            {qkv[0], qkv[1], qkv[2], sparse_mlp[0], sparse_mlp[1], sparse_mlp[2]},
                            up_down,
                            Split::first_k_dense};

// Ling 2.x (BailingMoeV2) and LLaDA 2 MoE (remote code): fused `attention.query_key_value`
// reads the input norm; its output goes through per-head q/k norms, so qkv -> dense is left out.
const Family bailing = {".*",
                        {{R"(re:.*input_layernorm$)", {R"(re:.*attention\.query_key_value$)"}}},
                        "post_attention_layernorm",
                        dense_mlp,
                        sparse_mlp,
                        up_down,
                        Split::first_k_dense};

// LFM2-MoE: operator_norm feeds the short convolution's in_proj or attention's q/k/v (one
// alternation closes either kind of layer); ffn_norm feeds the dense w1/w3 in the first
// num_dense_layers layers and the router `feed_forward.gate` and the experts after.
const Family lfm2_moe = {
    ".*",
    {{R"(re:.*operator_norm$)", {R"(re:.*(conv\.in_proj|self_attn\.q_proj|self_attn\.k_proj|self_attn\.v_proj)$)"}},
     {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.out_proj$)"}}},
    "ffn_norm",
    {R"(feed_forward\.w1$)", R"(feed_forward\.w3$)"},
    {R"(feed_forward\.gate$)", R"(feed_forward\.experts\.\d+\.gate_proj$)", R"(feed_forward\.experts\.\d+\.up_proj$)"},
    {{R"(re:.*feed_forward\.(w3|experts\.\d+\.up_proj)$)", {R"(re:.*feed_forward\.(w2|experts\.\d+\.down_proj)$)"}}},
    Split::num_dense_layers};

// Mellum: Qwen3-MoE attention and sparse block (router `mlp.gate`, no shared experts) in a
// Laguna decoder layer, dense or sparse by mlp_layer_types (all sparse when it is left out).
const Family mellum = {".*", llama_attention, "post_attention_layernorm", dense_mlp, sparse_mlp, up_down,
                       Split::mlp_types};

// Inkling: the relative-position projection `r_proj` reads the input norm beside q/k/v; v
// passes a depthwise causal convolution with a residual (channel-wise and linear) before
// attention, so v -> o holds. The shared experts are 3-D parameter banks whose gate_proj the
// calibration tree does not expose, so the sparse layers' MLP norm group is left out; a dense
// layer's gated MLP keeps its group. Every gated up -> down (dense, routed, shared) holds.
const Family inkling = {".*",
                        {{R"(re:.*input_layernorm$)",
                          {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)",
                           R"(re:.*self_attn\.r_proj$)"}},
                         llama_attention[1]},
                        "post_attention_layernorm",
                        dense_mlp,
                        {},
                        up_down,
                        Split::mlp_types};

// A.X-K2: input_layernorm (every layer) and post_attention_layernorm (sparse layers) are gated
// norms, y = norm(x) * sigmoid(mlp(norm(x))): the inner `.norm` feeds the gate's fc1 and, through
// a channel-wise product, the block's readers. The input norm feeds q_a, kv_a and the indexer's
// wk and weights_proj; q_a_layernorm feeds half of the fused q_gate_proj input (concatenated
// with q_a's own output) and is left out. In sparse layers the inner MLP norm feeds the gate's
// fc1, the router, the experts and the shared experts; dense layers keep a plain norm.
const Family axk2 = {".*",
                     {{R"(re:.*input_layernorm\.norm$)",
                       {R"(re:.*self_attn\.q_a_proj$)", R"(re:.*self_attn\.kv_a_proj_with_mqa$)",
                        R"(re:.*self_attn\.indexer\.wk$)", R"(re:.*self_attn\.indexer\.weights_proj$)",
                        R"(re:.*input_layernorm\.mlp\.fc1$)"}},
                      mla_attention[2]},
                     "post_attention_layernorm",
                     dense_mlp,
                     {R"(post_attention_layernorm\.mlp\.fc1$)", sparse_mlp[0], sparse_mlp[1], sparse_mlp[2]},
                     up_down,
                     Split::first_k_dense,
                     R"(post_attention_layernorm\.norm)"};

// Mixtral-layout checkpoints (Mixtral, Phi-3.5-MoE, MiniMax-M2) keep the block as
// `block_sparse_moe` with experts w1 (gate), w3 (up), w2 (down); transformers loads them as
// `mlp` with the router named `router_name` and calibration splits experts into gate/up/down_proj.
void rename_mixtral_layout(awqmap::Registrar& r, const std::string& architecture, const std::string& router_name) {
  r.rename_checkpoint_keys(architecture, R"((.*)\.block_sparse_moe\.experts\.(\d+)\.w1\.)",
                           R"(\1.mlp.experts.\2.gate_proj.)");
  r.rename_checkpoint_keys(architecture, R"((.*)\.block_sparse_moe\.experts\.(\d+)\.w3\.)",
                           R"(\1.mlp.experts.\2.up_proj.)");
  r.rename_checkpoint_keys(architecture, R"((.*)\.block_sparse_moe\.experts\.(\d+)\.w2\.)",
                           R"(\1.mlp.experts.\2.down_proj.)");
  r.rename_checkpoint_keys(architecture, R"((.*)\.block_sparse_moe\.gate\.)", R"(\1.mlp.)" + router_name + ".");
  r.rename_checkpoint_keys(architecture, R"((.*)\.block_sparse_moe\.)", R"(\1.mlp.)");
}

// Checkpoints saved in transformers' fused layout: per layer `<prefix>.gate_up_proj`
// [experts, 2 x intermediate, hidden] (gate rows first) and `<prefix>.down_proj`, which
// calibration splits into one gate/up/down module per expert.
void split_fused(awqmap::Registrar& r, const std::string& architecture, const std::string& prefix = "mlp.experts") {
  r.split_fused_experts(architecture, {prefix + ".gate_up_proj", prefix, {"gate_proj", "up_proj"}});
  r.split_fused_experts(architecture, {prefix + ".down_proj", prefix, {"down_proj"}});
}

awqmap::DynamicBuilder builder(const Family& f) {
  return [&f](const Model& model) { return build_family(model, f); };
}

std::string modeling(const std::string& dir) {
  return "transformers models/" + dir + "/modeling_" + dir + ".py";
}

void register_moe(awqmap::Registrar& r) {
  auto model_file = [](const std::string& dir) { return Provenance{Origin::analysis, modeling(dir)}; };

  // All-sparse stacks.
  r.add_static("MixtralForCausalLM", sparse_mlp_gate_mappings, model_file("mixtral"));
  r.add_static("MiniMaxM2ForCausalLM", sparse_mlp_gate_mappings, model_file("minimax_m2"));
  r.add_static("OlmoeForCausalLM", sparse_mlp_gate_mappings, model_file("olmoe"));
  r.add_static("PhimoeForCausalLM", phimoe_mappings, model_file("phimoe"));
  rename_mixtral_layout(r, "MixtralForCausalLM", "gate");
  rename_mixtral_layout(r, "MiniMaxM2ForCausalLM", "gate");
  rename_mixtral_layout(r, "PhimoeForCausalLM", "router");
  r.add_static("GRINMoEForCausalLM", grinmoe_mappings,
               {Origin::analysis, "GPTQModel definitions/grinmoe.py (remote code), router added"});
  r.add_static("GraniteMoeForCausalLM", granitemoe_mappings, model_file("granitemoe"));
  r.add_static("GraniteMoeSharedForCausalLM", granitemoe_mappings, model_file("granitemoeshared"));
  r.add_static("GraniteMoeSWAForCausalLM", granitemoe_mappings, model_file("granitemoeswa"));
  r.add_static("HunYuanMoEV1ForCausalLM", hunyuan_moe_v1_mappings, model_file("hunyuan_v1_moe"));
  r.add_static("GptOssForCausalLM", gpt_oss_mappings, model_file("gpt_oss"));
  r.add_static("LongcatFlashForCausalLM", longcat_flash_mappings, model_file("longcat_flash"));
  r.add_static("AriaTextForCausalLM", aria_text_mappings, model_file("aria"));
  r.add_static("DbrxForCausalLM", dbrx_mappings, model_file("dbrx"));
  r.add_static("ZayaForCausalLM", zaya_mappings, {Origin::analysis, "transformers models/zaya/modular_zaya.py"});
  r.add_static("JetMoeForCausalLM", jetmoe_mappings, model_file("jetmoe"));

  // Mixed dense/sparse stacks, scoped by the config's layer split.
  r.add_dynamic("DeepseekV2ForCausalLM", "moe_deepseek", builder(deepseek), model_file("deepseek_v2"));
  r.add_dynamic("DeepseekV3ForCausalLM", "moe_deepseek", builder(deepseek), model_file("deepseek_v3"));
  r.add_dynamic("DeepseekV32ForCausalLM", "moe_deepseek", builder(deepseek), model_file("deepseek_v32"));
  r.add_dynamic("Glm4MoeLiteForCausalLM", "moe_deepseek", builder(deepseek), model_file("glm4_moe_lite"));
  r.add_dynamic("GlmMoeDsaForCausalLM", "moe_deepseek", builder(deepseek), model_file("glm_moe_dsa"));
  r.add_dynamic("AXK2ForCausalLM", "moe_axk2", builder(axk2),
                {Origin::analysis, "transformers models/axk2/modular_axk2.py"});
  // A.X-K1: DeepSeek-V3 plus a norm on the MoE output, which no group crosses.
  r.add_dynamic("AXK1ForCausalLM", "moe_deepseek", builder(deepseek),
                {Origin::analysis, "transformers models/axk1/modular_axk1.py"});
  r.add_dynamic("HYV4ForCausalLM", "moe_hyv4", builder(hyv4), model_file("hy_v4"));
  r.add_dynamic("Glm4MoeForCausalLM", "moe_llama_attention", builder(llama_deepseek_moe), model_file("glm4_moe"));
  r.add_dynamic("Dots1ForCausalLM", "moe_llama_attention", builder(llama_deepseek_moe), model_file("dots1"));
  // K-EXAONE: EXAONE 4 attention (q/k norms only) in an OLMoE pre-norm layer, DeepSeek-V3 MoE
  // with shared experts; mlp_layer_types, else first_k_dense_replace, as the config reads them.
  r.add_dynamic("ExaoneMoeForCausalLM", "moe_llama_attention", builder(llama_deepseek_moe),
                {Origin::analysis, "transformers models/exaone_moe/modular_exaone_moe.py"});
  r.add_dynamic("HYV3ForCausalLM", "moe_llama_attention", builder(llama_deepseek_moe), model_file("hy_v3"));
  r.add_dynamic("MiMoV2FlashForCausalLM", "moe_llama_attention", builder(llama_deepseek_moe),
                model_file("mimo_v2_flash"));
  r.add_dynamic("LagunaForCausalLM", "moe_laguna", builder(laguna), model_file("laguna"));
  r.add_dynamic("MellumForCausalLM", "moe_mellum", builder(mellum),
                {Origin::analysis, "transformers models/mellum/modular_mellum.py"});
  r.add_dynamic("InklingForCausalLM", "moe_inkling", builder(inkling),
                {Origin::analysis, "transformers models/inkling/modular_inkling.py"});
  r.add_dynamic("Ernie4_5_MoeForCausalLM", "moe_ernie", builder(ernie), model_file("ernie4_5_moe"));
  r.add_dynamic("Qwen2MoeForCausalLM", "moe_qwen", builder(qwen_moe), model_file("qwen2_moe"));
  r.add_dynamic("Qwen3MoeForCausalLM", "moe_qwen", builder(qwen_moe), model_file("qwen3_moe"));
  r.add_dynamic("AfmoeForCausalLM", "moe_afmoe", builder(afmoe), model_file("afmoe"));
  r.add_dynamic("Llama4ForCausalLM", "moe_llama4", builder(llama4_text), model_file("llama4"));
  r.add_dynamic("Llama4ForConditionalGeneration", "moe_llama4", builder(llama4_multimodal), model_file("llama4"));
  r.add_dynamic("Cohere2MoeForCausalLM", "moe_cohere2", builder(cohere2_moe), model_file("cohere2_moe"));
  r.add_dynamic("BailingMoeV2ForCausalLM", "moe_bailing", builder(bailing),
                {Origin::analysis, "GPTQModel definitions/bailing_moe.py (remote code), router added"});
  r.add_dynamic("LLaDA2MoeModelLM", "moe_bailing", builder(bailing),
                {Origin::analysis, "GPTQModel definitions/llada2.py (remote code), router added"});
  r.add_dynamic("Lfm2MoeForCausalLM", "moe_lfm2", builder(lfm2_moe), model_file("lfm2_moe"));

  for (const char* arch :
       {"MixtralForCausalLM",      "MiniMaxM2ForCausalLM",    "OlmoeForCausalLM",      "PhimoeForCausalLM",
        "HunYuanMoEV1ForCausalLM", "LongcatFlashForCausalLM", "DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM",
        "DeepseekV32ForCausalLM",  "Glm4MoeLiteForCausalLM",  "GlmMoeDsaForCausalLM",  "HYV4ForCausalLM",
        "Glm4MoeForCausalLM",      "Dots1ForCausalLM",        "HYV3ForCausalLM",       "MiMoV2FlashForCausalLM",
        "LagunaForCausalLM",       "Ernie4_5_MoeForCausalLM", "Qwen2MoeForCausalLM",   "Qwen3MoeForCausalLM",
        "AfmoeForCausalLM",        "Cohere2MoeForCausalLM",   "AXK1ForCausalLM",       "ExaoneMoeForCausalLM",
        "MellumForCausalLM",       "ZayaForCausalLM",         "InklingForCausalLM",    "AXK2ForCausalLM"})
    split_fused(r, arch);
  split_fused(r, "Lfm2MoeForCausalLM", "feed_forward.experts");
}

}  // namespace

AWQMAP_PLUGIN("moe", "0.1.0", register_moe)
