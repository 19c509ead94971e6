/* Prints the AWQ smoothing plan of a model through awqmap's C API, as a quantizer written in C
 * (or in any language that calls C) would walk it: load the plugins, load the model, select and
 * resolve its mappings, then visit each group.
 *
 *   awqmap_c_plan MODEL [--upstream] [--repair]
 *
 * MODEL is a Hugging Face checkpoint directory or an awqmap.model/v1 description. Exit codes
 * follow the awqmap CLI: 0 done, 2 usage, 3 bad input, 4 resolution error, 5 internal failure,
 * 6 the plan could not be written. */
#include <stdio.h>
#include <string.h>

#include <awqmap/awqmap.h>

static int report(const char* what, awqmap_error* error) {
  const awqmap_status status = awqmap_error_status(error);
  fprintf(stderr, "%s failed (%s): %s\n", what, awqmap_error_kind(error), awqmap_error_message(error));
  awqmap_error_destroy(error);
  switch (status) {
    case AWQMAP_BAD_INPUT: return 3;
    case AWQMAP_RESOLUTION_FAILED: return 4;
    default: return 5;
  }
}

static void print_list(const char* const* names, size_t count) {
  size_t i;
  for (i = 0; i < count; ++i) printf("%s%s", i ? ", " : "", names[i]);
}

int main(int argc, char** argv) {
  awqmap_registry* registry = NULL;
  awqmap_model* model = NULL;
  awqmap_result* result = NULL;
  awqmap_error* error = NULL;
  awqmap_resolve_options options;
  awqmap_selection_info selection;
  const char* path = NULL;
  size_t count = 0, i, j;
  int rc = 0, usage = 0, a;

  awqmap_resolve_options_init(&options);
  for (a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "--upstream") == 0)
      options.upstream = 1;
    else if (strcmp(argv[a], "--repair") == 0)
      options.repair = 1;
    else if (!path && argv[a][0] != '-')
      path = argv[a];
    else
      usage = 1;
  }
  if (!path || usage) {
    fprintf(stderr, "usage: awqmap_c_plan MODEL [--upstream] [--repair]\n");
    return 2;
  }

  /* No C++ exception crosses the API: every failure is a status and an error object. */
  if (awqmap_registry_create(&registry, &error) != AWQMAP_OK) return report("creating the registry", error);
  /* AWQMAP_PLUGIN_PATH, then the plugins shipped with libawqmap. */
  if (awqmap_registry_load_plugins(registry, NULL, 0, 1, &error) != AWQMAP_OK) {
    rc = report("loading plugins", error);
    goto done;
  }
  /* The registry supplies the architecture's checkpoint adaptations. */
  if (awqmap_model_load(registry, path, NULL, &model, &error) != AWQMAP_OK) {
    rc = report("loading the model", error);
    goto done;
  }
  if (awqmap_resolve(registry, model, &options, &result, &error) != AWQMAP_OK) {
    rc = report("resolving", error);
    goto done;
  }

  awqmap_result_selection(result, &selection);
  awqmap_result_group_count(result, &count);
  printf("%s: %lu smoothing groups (%s mappings from plugin %s, %s selection)\n", selection.architecture,
         (unsigned long)count, selection.kind, selection.plugin, selection.mode);
  for (i = 0; i < selection.mapping_count; ++i) {
    awqmap_mapping m;
    awqmap_result_mapping(result, i, &m);
    printf("mapping %lu: smooth %s  balance ", (unsigned long)i, m.smooth_layer);
    print_list(m.balance_layers, m.balance_count);
    printf("\n");
  }
  for (i = 0; i < count; ++i) {
    awqmap_group g;
    awqmap_result_group(result, i, &g);
    printf("smooth %s  parent %s  mapping %lu\n", g.smooth_name, g.parent_name[0] ? g.parent_name : "<root>",
           (unsigned long)g.mapping);
    for (j = 0; j < g.balance_count; ++j) printf("  balance %s\n", g.balance_names[j]);
    if (g.activation_hook_target) printf("  hook %s\n", g.activation_hook_target);
  }
  awqmap_result_skipped_count(result, &count);
  for (i = 0; i < count; ++i) {
    awqmap_skipped_group s;
    awqmap_result_skipped(result, i, &s);
    printf("skip %s (%s)  mapping %lu\n", s.smooth_name, s.reason, (unsigned long)s.mapping);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "awqmap_c_plan: writing the plan failed\n");
    rc = 6;
  }

done:
  awqmap_result_destroy(result);
  awqmap_model_destroy(model);
  awqmap_registry_destroy(registry);
  return rc;
}
