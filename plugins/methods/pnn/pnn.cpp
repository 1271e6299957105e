// Method plugin `pnn`: Progressive Neural Networks. A new column (a fresh backbone from the model
// plugin) per task, fed laterally by the frozen columns before it; earlier tasks keep their columns.
#include "iclr/sdk.hpp"

namespace {

// Columns 0..K-1; column k's features h_k = f_k(x) + sum_{j<k} U_kj h_j (the laterals enter at the
// feature layer: the backbone is the model plugin's, opaque inside). Task t is embedded by column
// t (the last column for tasks not yet reached). Only the newest column, its laterals and its
// objective's heads train; the others are frozen and stay in eval mode.
class PnnLearner : public iclr::ContinualLearner {
  public:
    PnnLearner(std::shared_ptr<iclr::Backbone> first, const iclr::Benchmark& b, const iclr::ContinualParams& p,
               torch::Generator views)
        : ContinualLearner(std::move(first), b, p, std::move(views)), columns_{backbone_}, laterals_(1) {}

    void add_column(std::shared_ptr<iclr::Backbone> column, const iclr::ContinualParams& p, int64_t num_classes) {
        freeze_all();
        int64_t d = column->feature_dim();
        std::vector<torch::nn::Linear> lat;
        for (size_t j = 0; j < columns_.size(); ++j) // U_kj for every earlier column j
            lat.push_back(torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
        auto device = iclr::module_device(*column);
        for (auto& l : lat)
            l->to(device);
        columns_.push_back(std::move(column));
        laterals_.push_back(std::move(lat));
        objectives_.emplace_back(p, d, num_classes);
        objectives_.back().to(device);
        backbone_ = columns_.back();
    }

    torch::Tensor task_features(const torch::Tensor& x, int64_t task) override {
        size_t k = column_of(task);
        std::vector<torch::Tensor> h;
        for (size_t c = 0; c <= k; ++c) {
            auto out = columns_[c]->forward(x);
            for (size_t j = 0; j < c; ++j)
                out = out + laterals_[c][j]->forward(h[j]);
            h.push_back(out);
        }
        return h[k];
    }

    std::vector<torch::Tensor> trainable() override {
        auto out = backbone_->parameters();
        if (!laterals_.empty())
            for (auto& l : laterals_.back())
                for (auto& t : l->parameters())
                    out.push_back(t);
        for (auto& t : objectives_.back().parameters())
            out.push_back(t);
        return out;
    }
    void train(bool on) override {
        backbone_->train(on);
        objectives_.back().train(on);
    }
    size_t columns() const { return columns_.size(); }
    iclr::Backbone& column(size_t k) { return *columns_.at(k); }

  protected:
    size_t objective_index(int64_t task) const override { return column_of(task); }

  private:
    size_t column_of(int64_t task) const {
        size_t n = columns_.size();
        return task < 0 || size_t(task) >= n ? n - 1 : size_t(task);
    }
    void freeze_all() {
        for (size_t c = 0; c < columns_.size(); ++c) {
            columns_[c]->eval();
            for (auto& p : columns_[c]->parameters())
                p.requires_grad_(false);
            for (auto& l : laterals_[c])
                for (auto& p : l->parameters())
                    p.requires_grad_(false);
        }
        for (auto& o : objectives_) {
            o.train(false);
            for (auto& p : o.parameters())
                p.requires_grad_(false);
        }
    }

    std::vector<std::shared_ptr<iclr::Backbone>> columns_;
    std::vector<std::vector<torch::nn::Linear>> laterals_; // laterals_[k][j]: U_kj, j < k
};

class Pnn : public iclr::ContinualMethod {
  public:
    struct Params : iclr::ContinualParams {};

    Pnn(const Params& p, iclr::RunContext&) : ContinualMethod(p) {}

  protected:
    std::unique_ptr<iclr::ContinualLearner> make_learner(std::shared_ptr<iclr::Backbone> backbone,
                                                         const iclr::Benchmark& b, torch::Generator views) override {
        auto l = std::make_unique<PnnLearner>(std::move(backbone), b, cp_, std::move(views));
        pnn_ = l.get();
        return l;
    }
    // From the second task on: freeze everything, add a column; the optimiser is rebuilt over it.
    bool before_task(int64_t t) override {
        if (t == 0) return false;
        auto column = session().new_backbone();
        pnn_->add_column(std::move(column), cp_, session().benchmark().num_classes);
        int64_t total = 0;
        for (size_t k = 0; k < pnn_->columns(); ++k)
            total += pnn_->column(k).param_count();
        ctx().log("pnn_backbone_params", double(total), step(), t);
        return true;
    }

  private:
    PnnLearner* pnn_ = nullptr;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Pnn, "pnn", "0.2.0",
            "Rusu, Rabinowitz, Desjardins, Soyer, Kirkpatrick, Kavukcuoglu, Pascanu, Hadsell. Progressive Neural "
            "Networks. arXiv:1606.04671, 2016.",
            "Progressive Networks: a new column per task with lateral connections from the frozen earlier columns, "
            "with any objective")
