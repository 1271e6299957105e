// As-ViT's training-free proxies of a backbone at initialisation (Chen et al., ICLR 2022), shared by
// the ntk_condition and length_distortion metric plugins: the condition number of the empirical NTK
// on a batch, and how much the backbone stretches a circle in input space.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "iclr/sdk.hpp"

namespace iclr::proxies {

// The backbone's parameters that As-ViT's NTK uses: those whose name holds "weight" (its code skips
// biases), in registration order.
inline std::vector<torch::Tensor> weights(Backbone& backbone) {
    std::vector<torch::Tensor> out;
    for (const auto& p : backbone.named_parameters())
        if (p.key().find("weight") != std::string::npos && p.value().requires_grad()) out.push_back(p.value());
    return out;
}

// What the proxies measure for a batch: As-ViT's forward_features(x)[1], the mean of the last
// block's tokens before the final LayerNorm, where the backbone exposes them (the vit plugin's
// prenorm_patch_tokens); otherwise its features. After a LayerNorm with its initial gain of 1 the
// features of an example sum to a constant, so the gradient of that sum reaches no weight but the
// gain: the kernel would measure the norm layer, not the architecture.
inline torch::Tensor proxy_output(Backbone& backbone, const torch::Tensor& x) {
    auto features = backbone.forward(x);
    auto in = backbone.internals();
    auto it = in.find("prenorm_patch_tokens");
    return it != in.end() && it->second.defined() ? it->second.mean(1) : features;
}

// The empirical NTK Θ = G Gᵀ over the examples of x, G's row i the gradient of the sum of example
// i's proxy_output with respect to the weights (As-ViT's get_ntk_n, one backward per example), in
// double. Leaves no gradient on the parameters (autograd::grad, not backward()).
inline torch::Tensor empirical_ntk(Backbone& backbone, const torch::Tensor& x) {
    auto params = weights(backbone);
    if (params.empty()) throw PluginError("ntk_condition: the backbone has no weight parameters");
    auto out = proxy_output(backbone, x);
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < x.size(0); ++i) {
        auto g = torch::autograd::grad({out[i].sum()}, params, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
        std::vector<torch::Tensor> flat;
        for (size_t k = 0; k < g.size(); ++k)
            flat.push_back(g[k].defined() ? g[k].reshape(-1) : torch::zeros({params[k].numel()}, params[k].options()));
        rows.push_back(torch::cat(flat).to(torch::kDouble));
    }
    auto G = torch::stack(rows);
    return G.matmul(G.t());
}

// κ = λmax / λmin of the empirical NTK (lower is better conditioned: As-ViT's "ntk" reward has
// sign −1). Infinite when the smallest eigenvalue is not positive (a singular kernel).
inline double ntk_condition(Backbone& backbone, const torch::Tensor& x) {
    auto eig = torch::linalg_eigvalsh(empirical_ntk(backbone, x));
    double lo = eig[0].item<double>(), hi = eig[-1].item<double>();
    return lo > 0 ? hi / lo : std::numeric_limits<double>::infinity();
}

// Two orthonormal directions in a d-dimensional input space, drawn from gen: [d, 2] (As-ViT: the
// left singular vectors of a Gaussian d x 2 matrix; here its QR factor, the same distribution).
inline torch::Tensor circle_plane(int64_t d, torch::Generator& gen) {
    return std::get<0>(torch::linalg_qr(torch::randn({d, 2}, gen, torch::kDouble)));
}

// Points of the unit circle x(θ) = U [cos θ, sin θ]ᵀ for θ = linspace(0, 2π, points) (both ends
// included, as As-ViT's code), shaped [points, ...shape].
inline torch::Tensor input_circle(const torch::Tensor& U, const std::vector<int64_t>& shape, int64_t points) {
    auto theta = torch::linspace(0, 2 * M_PI, points, torch::kDouble);
    auto pts = torch::stack({theta.cos(), theta.sin()}, 1).matmul(U.t()); // [points, d]
    std::vector<int64_t> full{points};
    full.insert(full.end(), shape.begin(), shape.end());
    return pts.to(torch::kFloat32).reshape(full);
}

// Length of a polyline through the rows of p (flattened), in double.
inline double polyline_length(const torch::Tensor& p) {
    auto f = p.reshape({p.size(0), -1}).to(torch::kDouble);
    return (f.slice(0, 1) - f.slice(0, 0, -1)).norm(2, {1}).sum().item<double>();
}

// Length distortion: the length of the proxy_output curve along the input circle divided by
// the circle's own length (both measured as polylines through the same points; the circle's is 2π
// up to O(1/points²)). As-ViT's code sums the speeds |d f / dθ| at its points instead: the same
// quantity times points / 2π, a constant that does not change how architectures rank.
inline double length_distortion(Backbone& backbone, const std::vector<int64_t>& shape, int64_t points,
                                torch::Generator& gen, int64_t batch = 100) {
    torch::NoGradGuard no_grad;
    int64_t d = 1;
    for (int64_t s : shape)
        d *= s;
    auto circle = input_circle(circle_plane(d, gen), shape, points);
    std::vector<torch::Tensor> outs; // the circle is drawn on the CPU (the same on every device)
    for (int64_t i = 0; i < points; i += batch)
        outs.push_back(
            proxy_output(backbone, circle.slice(0, i, std::min(points, i + batch)).to(module_device(backbone))));
    return polyline_length(torch::cat(outs)) / polyline_length(circle);
}

// A metric measured once, at initialisation: at the method's Step 0 event (the fine-tuning family
// sends it before the first task), in eval mode with the backbone's mode restored after, since a
// proxy must not change the model it measures (train mode would move BatchNorm statistics; As-ViT's
// ViTs, like the vit and mlp plugins here, have no layer that differs between the modes). Logged
// under key() at step 0; at End, a line says so when no Step 0 came.
class AtInitialisation : public Metric {
  public:
    void on_event(const Event& e, Learner& learner, const Benchmark& b, RunContext& ctx) override {
        if (e.kind == EventKind::Step && e.step == 0 && !done_) {
            done_ = true;
            Backbone& net = learner.backbone();
            bool was = net.is_training();
            net.eval();
            double v = measure(net, b);
            net.train(was);
            ctx.log(key(), v, 0);
        }
        if (e.kind == EventKind::End && !done_)
            ctx.info(std::string(key()) + ": the method sent no Step 0 event (its initialisation); nothing logged");
    }

  protected:
    virtual const char* key() const = 0;
    virtual double measure(Backbone& net, const Benchmark& b) = 0;

  private:
    bool done_ = false;
};

} // namespace iclr::proxies
