// Method plugin `sifar`: Fan et al.'s "Can an image classifier suffice for action recognition?"
// A clip's frames become one super image for an image classifier (view = super_image), compared
// with the same kind of classifier on each frame, logits averaged over frames (frame_average), and
// with a temporal model, per-frame features into a GRU (temporal). Trains on the data set's clips
// with Adam and cross-entropy; logs test accuracy per epoch and at the end.
#include "iclr/sdk.hpp"
#include "super_image.hpp"

namespace {

// Blank tiles hold 0 after normalisation (the data's mean pixel), as the official code pads its
// normalised frames with zeros (IBM/sifar-pytorch, my_models/sifar_util.py, pad_frames).
constexpr double kBlank = 0.0;

class Sifar : public iclr::Method {
  public:
    struct Params {
        iclr::String view{"view", "super_image", "super_image|frame_average|temporal",
                          "super_image: the frames tiled into one image (3 x 3 for 8 frames, blank tiles last) for "
                          "one image classifier; frame_average: the classifier on each frame, logits averaged; "
                          "temporal: per-frame features into a GRU"};
        iclr::Int epochs{"epochs", 15, 1, 100000, "passes over the training clips"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate"};
        iclr::Int batch{"batch", 32, 1, 65536, "clips per step"};
        iclr::Int channels{"channels", 8, 1, 1024, "channels of the first conv block (then twice that)"};
        iclr::Int hidden{"hidden", 64, 1, 65536, "width of the hidden layer (and of the GRU)"};
    };
    Sifar(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        if (b.tasks.empty() || b.input_shape.size() != 4)
            throw iclr::PluginError("sifar needs a clip data set (input shape [T, C, H, W]: moving_digits)");
        auto& ctx = s.ctx();
        const auto& train = b.tasks[0].train;
        const auto& test = b.tasks[0].test;
        sifar::ClipClassifier model(std::string(p_.view), b.input_shape, b.num_classes, p_.channels, p_.hidden, kBlank);
        model->to(train.x.device()); // drawn on the CPU: the same weights on every device
        int64_t params = 0;
        for (const auto& t : model->parameters())
            params += t.numel();
        ctx.set_attribute("param_count", std::to_string(params));
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(p_.lr));
        auto gen = iclr::make_generator(ctx.seed(), 7);
        for (int64_t epoch = 1; epoch <= p_.epochs; ++epoch) {
            model->train();
            double loss_sum = 0;
            int64_t n = 0;
            for (const auto& batch : iclr::Batches(train, p_.batch, gen, &ctx)) {
                opt.zero_grad();
                auto loss = torch::nn::functional::cross_entropy(model(batch.x), batch.y);
                loss.backward();
                opt.step();
                loss_sum += loss.item<double>() * double(batch.y.size(0));
                n += batch.y.size(0);
            }
            ctx.log("loss", loss_sum / double(n), epoch);
            ctx.log("test_accuracy", accuracy(model, test), epoch);
        }
        ctx.log("train_accuracy", accuracy(model, train), p_.epochs);
        ctx.log("accuracy", accuracy(model, test), p_.epochs);
    }

    static double accuracy(sifar::ClipClassifier& model, const iclr::Split& s) {
        torch::NoGradGuard ng;
        model->eval();
        int64_t right = 0;
        for (int64_t i = 0; i < s.size(); i += 256) {
            int64_t n = std::min<int64_t>(256, s.size() - i);
            right += model(s.x.narrow(0, i, n)).argmax(1).eq(s.y.narrow(0, i, n)).sum().item<int64_t>();
        }
        return double(right) / double(s.size());
    }

  private:
    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, Sifar, "sifar", "0.1.0",
            "Fan, Chen, Panda. Can an image classifier suffice for action recognition? ICLR 2022.",
            "clip classification by one image classifier on a super image of the frames, vs frame averaging and a "
            "temporal (GRU) model on the same per-frame network")
