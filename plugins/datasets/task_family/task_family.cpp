// Dataset plugin `task_family`: many small classification data sets drawn from MNIST and
// Fashion-MNIST (class subsets, training-set sizes, class imbalance, label noise, pixel noise), one
// Task each: a meta-dataset for AutoML work such as MetaBu's (Rakotoarison et al., ICLR 2022),
// whose recommender must find which data sets want which hyper-parameters.
#include <array>
#include <optional>
#include <sstream>

#include "iclr/idx.hpp"

namespace {

// A list parameter's values as numbers (TOML integers or floats), refusing an empty list.
std::vector<double> numbers(const iclr::List& list) {
    std::vector<double> out;
    for (const auto& v : list().list) {
        if (v.type != iclr::Value::Type::Int && v.type != iclr::Value::Type::Float)
            throw iclr::PluginError(std::string("task_family: ") + list.name() + " must list numbers");
        out.push_back(v.as_number());
    }
    if (out.empty()) throw iclr::PluginError(std::string("task_family: ") + list.name() + " is empty");
    return out;
}

// One data set's draw of the family's factors.
struct Draw {
    int source = 0; // 0 MNIST, 1 Fashion-MNIST
    std::vector<int64_t> classes;
    int64_t train = 0;
    double imbalance = 1, label_noise = 0, pixel_noise = 0;
};

class TaskFamily : public iclr::Dataset {
  public:
    struct Params {
        iclr::Int tasks{"tasks", 40, 2, 100000, "data sets in the family"};
        iclr::Int family_seed{"family_seed", 0, 0, 1000000, "seed of every draw (factors, examples, noise)"};
        iclr::List sources{"sources", "[\"mnist\", \"fashion\"]", "sources drawn from: mnist, fashion"};
        iclr::List classes{"classes", "[2, 3, 5, 10]", "class counts drawn from (each a random subset)"};
        iclr::List sizes{"sizes", "[100, 300, 1000]", "training-set sizes drawn from"};
        iclr::List imbalance{"imbalance", "[1, 5]",
                             "largest / smallest class share drawn from (shares fall geometrically)"};
        iclr::List label_noise{"label_noise", "[0.0, 0.2, 0.4]",
                               "share of training labels replaced by a uniformly drawn class of the task"};
        iclr::List pixel_noise{"pixel_noise", "[0.0, 0.5]",
                               "sd of Gaussian pixel noise on the [0, 1] scale (train and test), clipped"};
        iclr::Int test_per_class{"test_per_class", 100, 1, 1000, "test images per class (clean labels)"};
    };

    TaskFamily(const Params& p, iclr::RunContext&)
        : p_(p), classes_(p.classes.ints()), sizes_(p.sizes.ints()), imbalance_(numbers(p.imbalance)),
          label_noise_(numbers(p.label_noise)), pixel_noise_(numbers(p.pixel_noise)) {
        for (const auto& v : p.sources().list) {
            if (v.type != iclr::Value::Type::String || (v.s != "mnist" && v.s != "fashion"))
                throw iclr::PluginError("task_family: sources lists \"mnist\" and / or \"fashion\"");
            sources_.push_back(v.s);
        }
        if (sources_.empty() || classes_.empty() || sizes_.empty())
            throw iclr::PluginError("task_family: sources, classes and sizes must each list at least one level");
        for (int64_t k : classes_)
            if (k < 2 || k > 10) throw iclr::PluginError("task_family: a class count must be 2-10");
        for (int64_t n : sizes_)
            if (n < 20) throw iclr::PluginError("task_family: a training size must be at least 20");
        for (double r : imbalance_)
            if (r < 1) throw iclr::PluginError("task_family: imbalance must be >= 1");
        for (double q : label_noise_)
            if (q < 0 || q > 1) throw iclr::PluginError("task_family: label_noise must be in [0, 1]");
    }

    iclr::Benchmark load(iclr::RunContext& ctx) override {
        iclr::Benchmark b;
        b.name = "task_family";
        b.input_shape = {1, 28, 28};
        b.num_classes = 20; // MNIST digits 0-9, Fashion-MNIST items 10-19
        std::mt19937_64 rng(uint64_t(int64_t(p_.family_seed)) * 0x9e3779b97f4a7c15ULL + 1);
        std::array<std::optional<Source>, 2> sources; // read on first use: a family of one source needs one
        for (int64_t t = 0; t < p_.tasks; ++t) {
            auto d = draw(rng);
            auto& src = sources[size_t(d.source)];
            if (!src) src = read(ctx, d.source ? iclr::idx::kFashionMnist : iclr::idx::kMnist);
            b.tasks.push_back(build(*src, t, d));
        }
        return b;
    }

  private:
    // A source's IDX files, mapped (no copy) and read once for every data set drawn from it.
    struct Source {
        const iclr::idx::Stats* stats;
        torch::Tensor xtr, ytr, xte, yte;
    };
    static Source read(iclr::RunContext& ctx, const iclr::idx::Stats& stats) {
        auto train = iclr::idx::read_split(ctx.data_dir(), stats, "train");
        auto test = iclr::idx::read_split(ctx.data_dir(), stats, "test");
        return {&stats, train.images, train.labels, test.images, test.labels};
    }

    template <class T> static const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
        return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
    }

    Draw draw(std::mt19937_64& rng) const {
        Draw d;
        d.source = pick(sources_, rng) == "mnist" ? 0 : 1;
        std::vector<int64_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        std::shuffle(all.begin(), all.end(), rng);
        d.classes.assign(all.begin(), all.begin() + pick(classes_, rng));
        d.train = pick(sizes_, rng);
        d.imbalance = pick(imbalance_, rng);
        d.label_noise = pick(label_noise_, rng);
        d.pixel_noise = pick(pixel_noise_, rng);
        return d;
    }

    static std::string name_of(int64_t t, const Draw& d) {
        std::ostringstream o;
        o << "t" << t << " " << (d.source ? "fashion" : "mnist") << " k=" << d.classes.size() << " n=" << d.train
          << " imbalance=" << d.imbalance << " label_noise=" << d.label_noise << " pixel_noise=" << d.pixel_noise;
        return o.str();
    }

    // Class i of k gets a share proportional to imbalance^(-i / (k - 1)) of the training set (at
    // least 2 images); each data set has its own shuffled order of every class (seeded by t).
    iclr::Task build(const Source& src, int64_t t, const Draw& d) const {
        const auto& stats = *src.stats;
        uint64_t seed = uint64_t(int64_t(p_.family_seed)) * 100003 + uint64_t(t);
        int64_t k = int64_t(d.classes.size());
        std::vector<double> share(size_t(k), 1.0);
        double total = 0;
        for (int64_t i = 0; i < k; ++i)
            total += share[size_t(i)] = std::pow(d.imbalance, -double(i) / double(k - 1));
        std::vector<torch::Tensor> xs, ys;
        for (int64_t i = 0; i < k; ++i) {
            int64_t n = std::max<int64_t>(2, std::llround(double(d.train) * share[size_t(i)] / total));
            auto s = iclr::idx::select(src.xtr, src.ytr, {d.classes[size_t(i)]}, n, 0, seed, 0);
            xs.push_back(s.x), ys.push_back(s.y);
        }
        iclr::Task task;
        task.name = name_of(t, d);
        auto gen = iclr::make_generator(seed, 0x7f);
        task.train = {torch::cat(xs), torch::cat(ys)};
        task.test = iclr::idx::select(src.xte, src.yte, d.classes, p_.test_per_class, 0, seed, 1000);
        for (auto* s : {&task.train, &task.test}) {
            auto u = s->x.to(torch::kFloat32).div_(255.0).unsqueeze(1);
            if (d.pixel_noise > 0) u = (u + d.pixel_noise * torch::randn(u.sizes(), gen)).clamp_(0.0, 1.0);
            s->x = u.sub_(stats.mean).div_(stats.sd);
        }
        auto classes = torch::tensor(d.classes, torch::kInt64);
        auto flip = torch::rand({task.train.size()}, gen) < d.label_noise;
        auto noisy = classes.index_select(0, torch::randint(0, k, {task.train.size()}, gen, torch::kInt64));
        auto clean = task.train.y.clone();
        task.train.y = torch::where(flip, noisy, task.train.y);
        int64_t offset = 10 * d.source;
        task.train.y += offset, task.test.y += offset;
        task.train.factors["clean_label"] = clean + offset; // the image's own class, before label noise
        for (int64_t c : d.classes)
            task.classes.push_back(c + offset);
        return task;
    }

    Params p_;
    std::vector<std::string> sources_;
    std::vector<int64_t> classes_, sizes_;
    std::vector<double> imbalance_, label_noise_, pixel_noise_;
};

} // namespace

ICLR_PLUGIN(iclr::Dataset, TaskFamily, "task_family", "0.1.0",
            "Built for Rakotoarison, Milijaona, Rasoanaivo, Sebag, Schoenauer. Learning meta-features for AutoML. "
            "ICLR 2022 (their meta-dataset: 72 OpenML CC-18 tabular sets; these are MNIST / Fashion-MNIST stand-ins).",
            "a family of small data sets from MNIST and Fashion-MNIST (class subsets, sizes, imbalance, label noise, "
            "pixel noise), one task each: a meta-dataset for hyper-parameter recommendation")
