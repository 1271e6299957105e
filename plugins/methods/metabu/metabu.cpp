// Method plugin `metabu`: Rakotoarison et al.'s question at MNIST scale — do meta-features learned
// to match the topology of the data sets' best hyper-parameter configurations (MetaBu) recommend
// better configurations for unseen data sets than the hand-crafted meta-features they are learned
// from? The data set is a family of tasks (task_family); the trial builds the performance matrix
// and the hand-crafted features (both cached: they depend on the data and the grid only), then scores MetaBu,
// hand-crafted, random and global-best recommendations by k-fold over the data sets, the folds drawn from the trial's
// seed.
#include "config_grid.hpp"
#include "meta_features.hpp"
#include "recommend.hpp"

namespace {

// The cache stores modules; the meta-dataset rides in one as buffers: every data set's accuracy
// under every configuration, and its hand-crafted features.
struct MetaDataset : iclr::Backbone {
    MetaDataset(int64_t tasks, int64_t configs)
        : accuracy(register_buffer("accuracy", torch::zeros({tasks, configs}, torch::kDouble))),
          features(register_buffer("features",
                                   torch::zeros({tasks, int64_t(metabu::feature_names().size())}, torch::kDouble))) {}
    torch::Tensor forward(const torch::Tensor&) override { throw iclr::PluginError("not a network"); }
    int64_t feature_dim() const override { return 0; }
    torch::Tensor accuracy, features;
};

class MetaBu : public iclr::Method {
  public:
    struct Params {
        iclr::List grid_lr{"grid_lr", "[0.003, 0.03, 0.3]", "learning rates of the grid"};
        iclr::List grid_width{"grid_width", "[0, 32, 256]", "hidden widths of the grid (0: a linear classifier)"};
        iclr::List grid_weight_decay{"grid_weight_decay", "[0.0, 0.01]", "weight decays of the grid"};
        iclr::Int epochs{"epochs", 10, 1, 10000, "epochs per configuration and data set"};
        iclr::Int batch_size{"batch_size", 32, 1, 65536, "SGD batch size of the grid's runs"};
        iclr::Float momentum{"momentum", 0.9, 0.0, 1.0, "SGD momentum of the grid's runs"};
        iclr::Int top_l{"top_l", 3, 1, 1000,
                        "best configurations that represent a data set (the paper: 20 of hundreds)"};
        iclr::Float alpha{"alpha", 0.5, 0.0, 1.0, "fused Gromov-Wasserstein trade-off (official default 0.5)"};
        iclr::Float lambda{"lambda", 1e-3, 0.0, 100.0, "L1 penalty on psi (official default 1e-3)"};
        iclr::Float meta_lr{"meta_lr", 0.01, 0.0, 10.0, "Adam learning rate of psi (official default 0.01)"};
        iclr::Int patience{"patience", 10, 0, 100000, "iterations without improvement before stopping (official 10)"};
        iclr::Int ndcg_k{"ndcg_k", 10, 1, 1000, "neighbours scored by the early-stopping NDCG (official 10)"};
        iclr::Int max_iters{"max_iters", 1000, 1, 1000000, "cap on psi's iterations (the official code has none)"};
        iclr::Int dim{"dim", 2, 1, 64, "MDS and meta-feature dimension (the official code fixes 2)"};
        iclr::Int folds{"folds", 4, 2, 1000, "folds over the data sets: each is held out once"};
        iclr::Int neighbours{"neighbours", 3, 1, 1000, "nearest training data sets whose best configuration is tried"};
    };
    MetaBu(const Params& p, iclr::RunContext&)
        : p_(p), configs_(metabu::grid(metabu::numbers(p.grid_lr), metabu::numbers(p.grid_width),
                                       metabu::numbers(p.grid_weight_decay))) {
        if (p_.top_l > int64_t(configs_.size()))
            throw iclr::PluginError("metabu: top_l exceeds the grid's " + std::to_string(configs_.size()) +
                                    " configurations");
    }

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        auto& ctx = s.ctx();
        const int64_t T = int64_t(b.tasks.size());
        if (T < 2 * p_.folds)
            throw iclr::PluginError("metabu: " + std::to_string(T) + " data sets are too few for " +
                                    std::to_string(int64_t(p_.folds)) + " folds (the data set must be a task family)");
        // A fold fits on the data sets it does not hold out, less one: more than dim and neighbours.
        if (int64_t spare = T - T / p_.folds - 1; spare < std::max<int64_t>(p_.dim, p_.neighbours))
            throw iclr::PluginError("metabu: " + std::to_string(T) + " data sets in " +
                                    std::to_string(int64_t(p_.folds)) + " folds leave " + std::to_string(spare) +
                                    " to fit each fold on, fewer than dim = " + std::to_string(int64_t(p_.dim)) +
                                    " or neighbours = " + std::to_string(int64_t(p_.neighbours)) + " need");
        auto meta = meta_dataset(s);
        metabu::Performance perf{meta->accuracy};
        log_matrix(b, perf, ctx);
        evaluate(perf, meta->features, oracle_distances(perf), ctx);
    }

  private:
    // Built once per data set and grid (the hand-crafted features took 4 of a trial's 5 seconds).
    std::shared_ptr<MetaDataset> meta_dataset(iclr::Session& s) const {
        const auto& b = s.benchmark();
        auto key = iclr::ContentKey("metabu meta-dataset v2").add("dataset", s.config_text("dataset"));
        for (const auto& t : b.tasks) // the data themselves, for sessions without a config text (tests)
            key.add(t.name, t.train.x.sum().item<double>() + t.train.y.sum().item<double>());
        std::string grid;
        for (const auto& c : configs_)
            grid += c.name() + ";";
        key.add("grid", grid)
            .add("epochs", int64_t(p_.epochs))
            .add("batch_size", int64_t(p_.batch_size))
            .add("momentum", double(p_.momentum));
        auto meta = std::make_shared<MetaDataset>(int64_t(b.tasks.size()), int64_t(configs_.size()));
        metabu::TrainSettings settings{p_.epochs, p_.batch_size, p_.momentum};
        iclr::BackboneCache::load_or_build(s.ctx(), key.hex(), *meta, [&] {
            for (size_t t = 0; t < b.tasks.size(); ++t) {
                for (size_t c = 0; c < configs_.size(); ++c)
                    meta->accuracy[int64_t(t)][int64_t(c)] =
                        metabu::train_and_score(b.tasks[t], configs_[c], settings, 1000 * t + c, &s.ctx());
                meta->features[int64_t(t)] = torch::tensor(metabu::hand_crafted(b.tasks[t].train), torch::kDouble);
            }
        });
        return meta;
    }

    // Every data set's accuracy under every configuration, for SQL (task = data set, step = config).
    void log_matrix(const iclr::Benchmark& b, const metabu::Performance& perf, iclr::RunContext& ctx) const {
        std::string names;
        for (size_t c = 0; c < configs_.size(); ++c)
            names += (c ? "; " : "") + std::to_string(c) + ": " + configs_[c].name();
        ctx.set_attribute("configs", names);
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            ctx.info("data set " + b.tasks[t].name + ": best " + configs_[size_t(perf.best(int64_t(t)))].name());
            for (size_t c = 0; c < configs_.size(); ++c)
                ctx.log("config_accuracy", perf.accuracy[int64_t(t)][int64_t(c)].item<double>(), int64_t(c),
                        int64_t(t));
        }
    }

    // W between every two data sets' top-L configurations (ordinal codes), as the official
    // get_cost_matrix: exact OT with uniform weights, then divided by the largest.
    torch::Tensor oracle_distances(const metabu::Performance& perf) const {
        const int64_t T = perf.accuracy.size(0);
        std::vector<torch::Tensor> clouds;
        for (int64_t t = 0; t < T; ++t) {
            auto order = perf.ordered(t);
            std::vector<torch::Tensor> rows;
            for (int64_t i = 0; i < p_.top_l; ++i)
                rows.push_back(torch::tensor(configs_[size_t(order[size_t(i)])].code, torch::kDouble));
            clouds.push_back(torch::stack(rows));
        }
        auto w = torch::zeros({T, T}, torch::kDouble);
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = i + 1; j < T; ++j)
                w[i][j] = w[j][i] = metabu::wasserstein(clouds[size_t(i)], clouds[size_t(j)]);
        return w / w.max().clamp_min(1e-12);
    }

    // One fold's data sets and their coordinates in each space (rows follow train / test).
    struct Fold {
        std::vector<int64_t> train, test;
        torch::Tensor xtr, xte;      // standardised hand-crafted features
        torch::Tensor ztr, zte;      // MetaBu's: x psi^T
        torch::Tensor truth;         // W from each held-out data set to each training one
        std::vector<int64_t> global; // the configurations best on average over the training data sets
    };
    void evaluate(const metabu::Performance& perf, const torch::Tensor& features, const torch::Tensor& w,
                  iclr::RunContext& ctx) const;
    Fold fit_fold(const metabu::Performance& perf, std::vector<int64_t> train, std::vector<int64_t> test,
                  const torch::Tensor& features, const torch::Tensor& w, uint64_t seed,
                  std::map<std::string, double>& sum) const;
    std::map<std::string, std::vector<int64_t>> recommendations(const metabu::Performance& perf, const Fold& fold,
                                                                size_t i, std::mt19937_64& rng) const;

    const Params p_;
    std::vector<metabu::Config> configs_;
};

// k-fold over the data sets, the assignment drawn from the trial's seed; each held-out data set
// gets every recommendation. Logged: the means over all data sets, and per data set (task = its
// index) the ranks.
void MetaBu::evaluate(const metabu::Performance& perf, const torch::Tensor& features, const torch::Tensor& w,
                      iclr::RunContext& ctx) const {
    const int64_t T = features.size(0);
    std::mt19937_64 rng(ctx.seed() * 0x9e3779b97f4a7c15ULL + 17);
    std::vector<int64_t> perm(static_cast<size_t>(T));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::map<std::string, double> sum;
    for (int64_t f = 0; f < p_.folds; ++f) {
        ctx.check_cancelled();
        std::vector<int64_t> train, test;
        for (int64_t i = 0; i < T; ++i)
            (i % p_.folds == f ? test : train).push_back(perm[size_t(i)]);
        auto fold =
            fit_fold(perf, std::move(train), std::move(test), features, w, ctx.seed() * 1000 + uint64_t(f), sum);
        for (size_t i = 0; i < fold.test.size(); ++i) {
            int64_t t = fold.test[i];
            for (const auto& [name, list] : recommendations(perf, fold, i, rng)) {
                auto all = metabu::score(perf, t, list), first = metabu::score(perf, t, {list.front()});
                sum["rank_" + name] += all.rank / double(T);
                sum["regret_" + name] += all.regret / double(T);
                sum["rank1_" + name] += first.rank / double(T);
                ctx.log("task_rank_" + name, all.rank, 0, t);
            }
        }
    }
    for (const auto& [key, value] : sum)
        ctx.log(key, value);
}

// psi fitted on the fold's training data sets only: their features standardised by their own
// statistics, their oracle distances embedded by MDS; and the fold's global-best list. Adds the
// fold's share of the fit's scores.
MetaBu::Fold MetaBu::fit_fold(const metabu::Performance& perf, std::vector<int64_t> train, std::vector<int64_t> test,
                              const torch::Tensor& features, const torch::Tensor& w, uint64_t seed,
                              std::map<std::string, double>& sum) const {
    Fold fold{std::move(train), std::move(test), {}, {}, {}, {}, {}, {}};
    auto tr = torch::tensor(fold.train), te = torch::tensor(fold.test);
    auto ref = features.index_select(0, tr);
    fold.xtr = metabu::standardise(ref, ref).to(torch::kFloat32);
    fold.xte = metabu::standardise(features.index_select(0, te), ref).to(torch::kFloat32);
    auto u = metabu::classical_mds(w.index_select(0, tr).index_select(1, tr), p_.dim);
    metabu::FitOptions o{p_.alpha, p_.lambda, p_.meta_lr, p_.patience, p_.ndcg_k, p_.max_iters};
    auto fit = metabu::fit_psi(fold.xtr, metabu::standardise(u, u).to(torch::kFloat32), o, seed);
    fold.ztr = fold.xtr.matmul(fit.psi.t()), fold.zte = fold.xte.matmul(fit.psi.t());
    fold.truth = w.index_select(0, te).index_select(1, tr);
    fold.global = metabu::global_best(perf, fold.train, p_.neighbours);
    double share = 1.0 / double(p_.folds);
    sum["psi_iterations"] += double(fit.iterations) * share;
    sum["ndcg_train"] += fit.ndcg * share;
    sum["ndcg_test_metabu"] +=
        metabu::neighbour_ndcg(metabu::sq_distances(fold.zte, fold.ztr), fold.truth, p_.ndcg_k) * share;
    sum["ndcg_test_handcrafted"] +=
        metabu::neighbour_ndcg(metabu::sq_distances(fold.xte, fold.xtr), fold.truth, p_.ndcg_k) * share;
    return fold;
}

// The configurations each recommender tries on held-out data set fold.test[i].
std::map<std::string, std::vector<int64_t>> MetaBu::recommendations(const metabu::Performance& perf, const Fold& fold,
                                                                    size_t i, std::mt19937_64& rng) const {
    auto shuffled = fold.train;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto row = int64_t(i);
    auto from = [&](const std::vector<int64_t>& neighbours) {
        return metabu::warm_start(perf, neighbours, p_.neighbours);
    };
    return {{"metabu", from(metabu::nearest(fold.zte[row], fold.ztr, fold.train))},
            {"handcrafted", from(metabu::nearest(fold.xte[row], fold.xtr, fold.train))},
            {"random", from(shuffled)},
            // An upper bound, not a recommender: neighbours by the held-out data set's own top-L
            // distances, which need its row of the performance matrix.
            {"oracle", from(metabu::nearest_by_distance(fold.truth[row], fold.train))},
            {"global", fold.global}};
}

} // namespace

ICLR_PLUGIN(iclr::Method, MetaBu, "metabu", "0.1.0",
            "Rakotoarison, Milijaona, Rasoanaivo, Sebag, Schoenauer. Learning meta-features for AutoML. ICLR 2022.",
            "MetaBu meta-features (a linear map of hand-crafted ones fitted by fused Gromov-Wasserstein to the "
            "topology of the data sets' best configurations) against the hand-crafted ones, random and global-best "
            "recommendations, k-fold over a task family's data sets")
