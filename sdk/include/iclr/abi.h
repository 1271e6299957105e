/* The stable C boundary between the iclr host and a plugin library: plain data only, no torch. */
#ifndef ICLR_ABI_H
#define ICLR_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version covers the whole contract: this struct AND the C++ interfaces behind it (vtables of
   Session, Method, Backbone, ... and objects one side creates and the other deletes); see
   sdk/README.md. MINOR: something was appended (a field at the end of this struct, a virtual at
   the end of a class). MAJOR: anything else. The loader accepts a plugin whose major equals the
   host's and whose minor is the host's or older (an older plugin never calls what it does not
   know); it refuses a newer minor (the plugin could call past the end of a host vtable) and any
   other major. tests/unit/abi_fingerprint_test.cpp fails when the interface changes without a bump.
   1.0: first release. 1.1: Session::pretrain_benchmark() and Session::config_text() appended.
   1.2: iclr_plugin_info.source_dir appended; iclr::Diverged (thrown through plugin code by
   RunContext::log); typed parameter structs (declare.hpp) behind the same entry point.
   1.3: iclr::TaskFeatures (learner.hpp), a new type a learner may also derive from.
   2.0: Split::factors (dataset.hpp), the generative factors of rendered data sets: a member
   added to a struct both sides share, so every plugin is rebuilt.
   2.1: iclr::EpisodeLearner (learner.hpp), a new type a few-shot learner may also derive from.
   2.2: the by-name helpers grew: fewshot.hpp (episode_from_pools, MLTI's MltiParams and
   TaskInterpolation with next_batch) and maml.hpp (MLTI in the meta-training loop); no contract
   header changed, but a plugin built against them now says so, and an older host refuses it.
   2.3: RunContext::shared_value() appended (the host implements it: metrics share the test
   accuracies of one event); helpers grew: AccuracyMatrix::record takes the ctx, training.hpp's
   ReleasingGrads (make_optimizer's optimisers drop gradients after each step).
   2.4: Session::config_text() also names the section's plugin build (library SHA-256), so content
   keys change when a model or data set plugin is rebuilt; Dataset::load's result may be handed to
   other workers from the host's data cache; joint.hpp's joined() of one task returns that task's
   tensors (read-only) instead of a copy. No layout or vtable change: a 2.4 plugin relies on the
   new config_text, and an older host refuses it.
   2.5: cache.hpp's BackboneCache::load_or_build moves the backbone file's access time on each
   hit, which `iclr cache prune` and the cache's size limit order by. A helper's body only: no
   layout or vtable change, but a plugin built against 2.5 says its backbones' last use is real.
   2.6: a helper grew: sgd.hpp's FusedSgd (make_optimizer's "sgd" updates each weight in one pass,
   libtorch's numbers bit for bit). No contract header changed.
   2.7: the helpers' larger bodies (continual, training, sgd, sam, augment, ssl_losses, pretrain,
   fewshot, maml) are compiled once into libiclr_sdk_helpers.a, which a plugin built against 2.7
   must link (iclr_add_plugin and find_package(iclr) do); the helpers' headers declare them, and
   ContinualLearner and ContinualMethod declare their destructors. No contract header changed, no
   layout, vtable or behaviour: the version a plugin records says how its helpers were built.
   2.8: trials may run on a GPU: the worker puts each new backbone and the data set's tensors on
   RunContext::device(). model.hpp's module_device() (a new inline function) says where a module's
   weights are; the helpers put what they make there (continual.hpp's Objective::to, the heads of
   ClassifierLearner and the pretraining projector, batches' indices, augmentations' draws, a cached
   backbone loaded onto its module's device, hessian.hpp's probe vectors: HessianOperator::device
   appended, knn.hpp's linear probe); sgd.hpp's FusedSgd keys its state as the linked
   libtorch does (a private helper's signature). No layout or vtable change; on the CPU no number.
   2.9: a helper grew: training.hpp's frozen_copy(session, backbone), a copy of a backbone with its
   parameters and buffers, frozen, in eval mode (a distillation's teacher); training.hpp now
   includes method.hpp for Session. No contract header changed but this line's version.
   2.10: a helper joined the SDK: idx.hpp (MNIST and Fashion-MNIST IDX files as mapped uint8
   tensors, read_split, the class-window subsets, TaskStream with its parameters declared once as
   StreamParams, shifted test sets), which was the tree's plugins/datasets/common and was not
   installed, so a data set built outside the tree could not read the two data sets the way the
   tree's do. No contract header changed but this line's version.
   2.11: helpers place what they make on their inputs' device (run on a GPU for the first time):
   contrastive.hpp's nt_xent (its mask and targets), rotation.hpp's four_rotations labels and
   random_rotation's indices. Inline bodies only: no signature, layout or vtable change, and on the
   CPU no number.
   2.12: plugin.hpp declares iclr_plugin_source_dir() (weak; iclr_add_plugin links a generated
   definition), which names the plugin's source folder instead of __FILE__, so that a plugin's
   objects hold no path and ccache shares them between checkouts. Same field, same meaning.
   2.13: iclr_plugin_info.flags appended: ICLR_FLAG_READS_PRETRAIN, set for a method class that
   declares `static constexpr bool reads_pretrain = true;` (PretrainedMethod does), so that the
   trials of a method that never calls Session::pretrain_benchmark() leave the sweep's [pretrain]
   out of their config and key; the worker refuses the call from a method that does not declare it.
   A plugin built before 2.13 has no flags and is taken to read [pretrain]. */
#define ICLR_ABI_MAJOR 2
#define ICLR_ABI_MINOR 13
#define ICLR_ENTRY_SYMBOL "iclr_plugin_entry"

typedef enum iclr_kind {
    ICLR_KIND_DATASET = 1,
    ICLR_KIND_MODEL = 2,
    ICLR_KIND_METHOD = 3,
    ICLR_KIND_METRIC = 4
} iclr_kind;

typedef enum iclr_param_type {
    ICLR_PARAM_INT = 1,
    ICLR_PARAM_FLOAT = 2,
    ICLR_PARAM_BOOL = 3,
    ICLR_PARAM_STRING = 4,
    ICLR_PARAM_LIST = 5 /* any TOML array (nested allowed), e.g. a list of class lists */
} iclr_param_type;

typedef struct iclr_param_spec {
    const char* name;
    uint32_t type;            /* iclr_param_type */
    const char* default_toml; /* the default as a TOML value literal: "0.01", "\"cls\"", "[[0,1],[2,3]]" */
    double min;               /* inclusive range for numbers; ignored when min > max */
    double max;
    const char* choices; /* for strings: "|"-separated allowed values, or NULL for any */
    const char* help;
} iclr_param_spec;

/* What create() returns is an object of the C++ interface of `kind` (iclr::Dataset, ...),
   heap-allocated; `params` points to an iclr::ParamSet and `ctx` to an iclr::RunContext.
   On failure it returns NULL and writes a message into err; exceptions never cross here. */
typedef void* (*iclr_create_fn)(const void* params, void* ctx, char* err, uint32_t err_len);
/* Called once when the library is loaded; non-zero return = init failed (message in err). */
typedef int (*iclr_init_fn)(char* err, uint32_t err_len);

typedef struct iclr_plugin_info {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t struct_size; /* sizeof(iclr_plugin_info) as the plugin was built */
    uint32_t kind;        /* iclr_kind */
    const char* name;
    const char* version;
    const char* citation;
    const char* summary;
    const iclr_param_spec* params;
    uint32_t n_params;
    /* build fingerprint: all plugins share one libtorch and one C++ ABI with the host */
    const char* build_compiler;
    const char* build_torch_version;
    int32_t build_cxx11_abi;
    iclr_init_fn init;
    iclr_create_fn create;
    /* 1.2: the folder of the plugin's source file (for "stale: rebuild"); read only when
       struct_size covers it */
    const char* source_dir;
    /* 2.13: ICLR_FLAG_* bits; read only when struct_size covers it (older: every flag unknown) */
    uint32_t flags;
} iclr_plugin_info;
/* A method that reads the sweep's [pretrain] data set (Session::pretrain_benchmark()). */
#define ICLR_FLAG_READS_PRETRAIN 1u

typedef const iclr_plugin_info* (*iclr_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
