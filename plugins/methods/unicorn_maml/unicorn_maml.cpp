// Method plugin `unicorn_maml`: UNICORN-MAML (Ye & Chao, "How to Train Your MAML to Excel in
// Few-Shot Classification", ICLR 2022): one learned head row copied to all N classes at the start of
// every inner loop, so the initial head cannot depend on the (arbitrary) order of an episode's classes.
#include "iclr/maml.hpp"
#include "iclr/sdk.hpp"

namespace {

class UnicornMaml : public iclr::MamlMethod {
  public:
    UnicornMaml(const Params& p, iclr::RunContext&) : MamlMethod(p) {}

  protected:
    std::string name() const override { return "unicorn_maml"; }
    // One row w [1, D] and bias b [1], initialised as one row of a linear layer.
    void make_head(int64_t feature_dim, int64_t) override { row_ = torch::nn::Linear(feature_dim, 1); }
    // N copies: repeat's backward sums the copies' gradients into w and b (the paper's outer rule).
    std::vector<torch::Tensor> head_start(int64_t ways) override {
        return {row_->weight.repeat({ways, 1}), row_->bias.repeat({ways})};
    }
    std::vector<torch::Tensor> head_parameters() override { return {row_->weight, row_->bias}; }

  private:
    torch::nn::Linear row_{nullptr};
};

} // namespace

ICLR_PLUGIN(iclr::Method, UnicornMaml, "unicorn_maml", "0.2.0",
            "Ye, Chao. How to Train Your MAML to Excel in Few-Shot Classification. ICLR 2022.",
            "UNICORN-MAML: MAML whose N-way head starts every inner loop as N copies of one learned row")
