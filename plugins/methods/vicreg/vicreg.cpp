// Method plugin `vicreg`: self-supervised pretraining with VICReg on every task's training images
// at once, each of its three terms weighted by a parameter (0 switches it off).
#include "iclr/joint.hpp"
#include "iclr/sdk.hpp"

namespace {

class Vicreg : public iclr::Method {
  public:
    struct Params {
        iclr::Float inv_coeff{"inv_coeff", 25.0, 0.0, 1e6, "weight of the invariance term (paper: 25)"};
        iclr::Float var_coeff{"var_coeff", 25.0, 0.0, 1e6, "weight of the variance term (paper: 25; 0 = off)"};
        iclr::Float cov_coeff{"cov_coeff", 1.0, 0.0, 1e6, "weight of the covariance term (paper: 1)"};
        iclr::Int expander_dim{"expander_dim", 256, 4, 65536,
                               "expander width and output (paper: 8192, three layers as here)"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate (the paper: LARS at 0.2 x batch / 256)"};
        iclr::Int epochs{"epochs", 10, 1, 10000, "epochs over the union of the tasks' training images"};
        iclr::Int batch_size{"batch_size", 256, 2, 65536, "minibatch size (the variance term needs a batch)"};
        iclr::Float crop_min_scale{"crop_min_scale", 0.5, 0.01, 1.0,
                                   "views: random resized crop area ~ U(s, 1) (paper, ImageNet: 0.08)"};
        iclr::Float noise{"noise", 0.1, 0.0, 10.0, "views: Gaussian noise sd added last (0 = none)"};
        iclr::Int log_every{"log_every", 20, 0, 1000000, "log the loss and its three terms every N steps"};
    };

    Vicreg(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const iclr::Benchmark& b = s.benchmark();
        auto& ctx = s.ctx();
        auto backbone = s.new_backbone();
        int64_t d = p_.expander_dim;
        torch::nn::Sequential expander(torch::nn::Linear(backbone->feature_dim(), d), torch::nn::BatchNorm1d(d),
                                       torch::nn::ReLU(), torch::nn::Linear(d, d), torch::nn::BatchNorm1d(d),
                                       torch::nn::ReLU(), torch::nn::Linear(d, d));
        expander->to(iclr::module_device(*backbone)); // drawn on the CPU: the same weights on every device
        auto params = backbone->parameters();
        for (auto& t : expander->parameters())
            params.push_back(t);
        torch::optim::Adam opt(params, torch::optim::AdamOptions(p_.lr));
        iclr::Split all = iclr::joined(b);
        auto views = iclr::compose({iclr::random_resized_crop(p_.crop_min_scale, 1.0), iclr::gaussian_noise(p_.noise)});
        auto gen = iclr::make_generator(ctx.seed()), view_gen = iclr::make_generator(ctx.seed(), 2);
        iclr::Encoder encoder(backbone, "vicreg");
        // Step 0, before training: metrics that compare with the initial network (acr) measure it.
        s.notify({iclr::EventKind::Step, 0, 0}, encoder);
        backbone->train();
        expander->train();
        int64_t step = 0;
        for (int64_t e = 0; e < p_.epochs; ++e)
            for (const iclr::Batch& batch :
                 iclr::Batches(all, p_.batch_size, gen, &ctx, iclr::BatchOptions{true, {}})) { // full batches only
                auto [v1, v2] = iclr::two_views(views, batch.x, view_gen);
                auto t =
                    iclr::vicreg(expander->forward(backbone->forward(v1)), expander->forward(backbone->forward(v2)),
                                 p_.inv_coeff, p_.var_coeff, p_.cov_coeff);
                opt.zero_grad();
                t.loss.backward();
                opt.step();
                ++step;
                if (p_.log_every > 0 && step % p_.log_every == 0) {
                    ctx.log("train_loss", t.loss.item<double>(), step);
                    ctx.log("vicreg_invariance", t.invariance.item<double>(), step);
                    ctx.log("vicreg_variance", t.variance.item<double>(), step);
                    ctx.log("vicreg_covariance", t.covariance.item<double>(), step);
                }
            }
        iclr::report_joint(s, encoder, step);
    }

  private:
    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Vicreg, "vicreg", "0.1.0",
            "Bardes, Ponce, LeCun. VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised "
            "Learning. ICLR 2022.",
            "VICReg pretraining on all the tasks' training images, each term weighted (0 = off); evaluate with "
            "knn_accuracy, linear_probe, collapse")
