// ProtoNet logits, episodes from pools, MLTI task interpolation (iclr/fewshot.hpp).
#include "iclr/fewshot.hpp"

namespace iclr {

torch::Tensor prototype_logits(const torch::Tensor& support_features, const torch::Tensor& support_y,
                               const torch::Tensor& query_features, int64_t ways) {
    auto onehot = torch::one_hot(support_y, ways).to(support_features.dtype()); // [S, ways]
    auto counts = onehot.sum(0).unsqueeze(1);                                   // [ways, 1]
    auto prototypes = onehot.t().matmul(support_features) / counts;             // [ways, D]
    return -(query_features.unsqueeze(1) - prototypes.unsqueeze(0)).pow(2).sum(-1);
}

Episode episode_from_pools(const std::vector<const torch::Tensor*>& pools, int64_t shots, int64_t queries,
                           std::mt19937_64& rng) {
    std::vector<torch::Tensor> sx, sy, qx, qy;
    for (size_t k = 0; k < pools.size(); ++k) {
        const torch::Tensor& pool = *pools[k];
        std::vector<int64_t> idx(size_t(pool.size(0)));
        std::iota(idx.begin(), idx.end(), 0);
        for (int64_t i = 0; i < shots + queries; ++i)
            std::swap(idx[size_t(i)], idx[size_t(i) + rng() % (idx.size() - size_t(i))]);
        auto x = pool.index_select(0, torch::tensor(std::vector<int64_t>(idx.begin(), idx.begin() + shots + queries)));
        sx.push_back(x.slice(0, 0, shots));
        qx.push_back(x.slice(0, shots));
        sy.push_back(torch::full({shots}, int64_t(k), torch::kLong));
        qy.push_back(torch::full({queries}, int64_t(k), torch::kLong));
    }
    return {{torch::cat(sx), torch::cat(sy)}, {torch::cat(qx), torch::cat(qy)}, int64_t(pools.size()), shots};
}

Episode episode_at(EpisodeSampler& sampler, const std::string& split, uint64_t seed, uint64_t index) {
    std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(index), uint32_t(index >> 32),
                      uint32_t(split.size() ? split[0] : 0)};
    std::mt19937_64 rng(seq);
    return sampler.sample(split, rng);
}

CutBox cutmix_box(int64_t h, int64_t w, double lambda, std::mt19937_64& rng) {
    double cut = std::sqrt(1.0 - lambda);
    int64_t ch = int64_t(double(h) * cut), cw = int64_t(double(w) * cut);
    int64_t cy = int64_t(rng() % uint64_t(h)), cx = int64_t(rng() % uint64_t(w));
    return {std::clamp(cy - ch / 2, int64_t(0), h), std::clamp(cy + ch / 2, int64_t(0), h),
            std::clamp(cx - cw / 2, int64_t(0), w), std::clamp(cx + cw / 2, int64_t(0), w)};
}

Episode interpolate_episodes(const Episode& a, const Episode& b, const std::vector<int64_t>& perm, double lambda,
                             const std::string& mix, std::mt19937_64& rng) {
    if (a.ways != b.ways || int64_t(perm.size()) != a.ways)
        throw PluginError("mlti: episodes of " + std::to_string(a.ways) + " and " + std::to_string(b.ways) + " ways");
    auto mixed = [&](const Split& sa, const Split& sb) {
        // Row i of b_rows is the image of b that row i of a is mixed with.
        auto b_rows = torch::empty({sa.size()}, sa.y.options()); // on the episode's device
        for (int64_t k = 0; k < a.ways; ++k) {
            auto ia = torch::nonzero(sa.y == k).flatten(), ib = torch::nonzero(sb.y == perm[size_t(k)]).flatten();
            if (ia.size(0) != ib.size(0))
                throw PluginError("mlti: class sizes differ between the episodes (" + std::to_string(ia.size(0)) +
                                  " vs " + std::to_string(ib.size(0)) + ")");
            b_rows.index_put_({ia}, ib);
        }
        auto xb = sb.x.index_select(0, b_rows);
        if (mix == "mixup") return Split{lambda * sa.x + (1.0 - lambda) * xb, sa.y};
        if (mix != "cutmix") throw PluginError("mlti: no mix '" + mix + "' (cutmix, mixup)");
        auto box = cutmix_box(sa.x.size(-2), sa.x.size(-1), lambda, rng);
        auto x = sa.x.clone();
        using torch::indexing::Slice;
        x.index_put_({"...", Slice(box.y0, box.y1), Slice(box.x0, box.x1)},
                     xb.index({"...", Slice(box.y0, box.y1), Slice(box.x0, box.x1)}));
        return Split{x, sa.y};
    };
    Episode out = a;
    out.support = mixed(a.support, b.support);
    out.query = mixed(a.query, b.query);
    return out;
}

TaskInterpolation::TaskInterpolation(const MltiParams& p, uint64_t seed)
    : on_(p.mlti), cross_(p.mlti_cross), mix_(p.mlti_mix()), beta_(p.mlti_alpha, 1.0), rng_(seed ^ 0x6d6c7469ULL) {}

std::vector<Episode> TaskInterpolation::next_batch(EpisodeSampler& sampler, int64_t n, std::mt19937_64& rng) {
    std::vector<Episode> batch;
    for (int64_t e = 0; e < n; ++e)
        batch.push_back(sampler.sample("train", rng));
    return (*this)(batch);
}

std::vector<Episode> TaskInterpolation::operator()(const std::vector<Episode>& batch) {
    if (!on_) return batch;
    std::vector<Episode> out;
    for (size_t i = 0; i < batch.size(); ++i) {
        bool cross = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < cross_;
        const Episode& partner = batch[cross ? (i + 1) % batch.size() : i];
        std::vector<int64_t> perm(size_t(batch[i].ways));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng_);
        double g1 = beta_(rng_), g2 = beta_(rng_); // Beta(a, a) = G1 / (G1 + G2), G ~ Gamma(a, 1)
        out.push_back(interpolate_episodes(batch[i], partner, perm, g1 / (g1 + g2), mix_, rng_));
    }
    return out;
}

} // namespace iclr
