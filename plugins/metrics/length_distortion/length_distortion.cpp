// Metric plugin `length_distortion`: As-ViT's second training-free proxy, how much the backbone at
// initialisation stretches a circle in input space (the method's Step 0 event).
#include "../common/init_proxies.hpp"

namespace {

class LengthDistortion : public iclr::proxies::AtInitialisation {
  public:
    LengthDistortion(const iclr::ParamSet& p, iclr::RunContext&)
        : points_(p.get_int("points")), seed_(uint64_t(p.get_int("circle_seed"))) {}

  private:
    const char* key() const override { return "length_distortion"; }
    double measure(iclr::Backbone& net, const iclr::Benchmark& b) override {
        if (b.input_shape.empty()) throw iclr::PluginError("length_distortion needs the data set's input shape");
        auto gen = iclr::make_generator(seed_, 0xc1c);
        return iclr::proxies::length_distortion(net, b.input_shape, points_, gen);
    }

    int64_t points_;
    uint64_t seed_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, LengthDistortion, "length_distortion", "0.1.0",
            "Chen, Huang, Du, Song, Wang, Zhou. Auto-scaling Vision Transformers without Training. ICLR 2022 "
            "(after Hanin, Jeong, Rolnick, Deep ReLU networks preserve expected length, ICLR 2022).",
            "at initialisation (Step 0): length of the feature curve along a unit circle in input space over the "
            "circle's length (higher = a more expressive network, As-ViT's sign)",
            ICLR_INT("points", 500, 8, 100000, "points on the circle (As-ViT's code: 500)"),
            ICLR_INT("circle_seed", 0, 0, 1000000, "which plane the circle lies in (the same in every trial)"))
