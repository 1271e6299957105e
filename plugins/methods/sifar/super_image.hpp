// SIFAR's pieces (Fan et al., ICLR 2022): the super image (a clip's T frames tiled row by row
// into a near-square grid, blank tiles at the end: 3 x 3 for 8 frames, 4 x 4 for 16) and the three
// classifiers compared on clips: one image classifier on the super image, the same kind of
// classifier on each frame with its logits averaged over frames (TSN-style frame averaging), and a
// temporal model (per-frame features into a GRU).
#pragma once

#include <cmath>

#include <torch/torch.h>

namespace sifar {

// Grid of the super image for T frames: rows = ceil(sqrt(T)), cols = ceil(T / rows).
inline std::pair<int64_t, int64_t> grid(int64_t T) {
    int64_t rows = int64_t(std::ceil(std::sqrt(double(T)) - 1e-9));
    return {rows, (T + rows - 1) / rows};
}

// clips [N, T, C, H, W] -> super images [N, C, rows * H, cols * W]; frame t at row t / cols,
// column t % cols (the official code's rearrange 'b (th tw c) h w -> b c (th h) (tw w)'); tiles
// past the last frame hold `blank`.
inline torch::Tensor super_image(const torch::Tensor& clips, double blank) {
    int64_t N = clips.size(0), T = clips.size(1), C = clips.size(2), H = clips.size(3), W = clips.size(4);
    auto [rows, cols] = grid(T);
    auto padded = clips;
    if (rows * cols > T)
        padded = torch::cat({clips, torch::full({N, rows * cols - T, C, H, W}, blank, clips.options())}, 1);
    // [N, rows, cols, C, H, W] -> [N, C, rows, H, cols, W] -> [N, C, rows * H, cols * W]
    return padded.view({N, rows, cols, C, H, W}).permute({0, 3, 1, 4, 2, 5}).reshape({N, C, rows * H, cols * W});
}

// Three 3 x 3 conv blocks (ReLU, 2 x 2 max-pool) and a hidden layer on the flattened map: the
// flattened map keeps where things are, which a super image needs (where a frame sits is when it
// was; the paper's transformers have position embeddings for it).
struct ConvNetImpl : torch::nn::Module {
    ConvNetImpl(int64_t in_channels, int64_t height, int64_t width, int64_t channels, int64_t hidden) {
        int64_t c = in_channels;
        for (int64_t k = 0; k < 3; ++k) {
            int64_t out = channels * (k == 0 ? 1 : 2);
            convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, 3).padding(1)));
            c = out;
            height /= 2;
            width /= 2;
        }
        register_module("convs", convs);
        fc = register_module("fc", torch::nn::Linear(c * height * width, hidden));
    }
    torch::Tensor forward(torch::Tensor x) {
        for (auto& m : *convs)
            x = torch::max_pool2d(torch::relu(m->as<torch::nn::Conv2d>()->forward(x)), 2);
        return torch::relu(fc(x.flatten(1)));
    }
    torch::nn::ModuleList convs;
    torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ConvNet);

// A clip classifier: logits [N, classes] from clips [N, T, C, H, W].
struct ClipClassifierImpl : torch::nn::Module {
    // view: "super_image", "frame_average" or "temporal".
    ClipClassifierImpl(std::string view, const std::vector<int64_t>& clip_shape, int64_t classes, int64_t channels,
                       int64_t hidden, double blank)
        : view_(std::move(view)), blank_(blank) {
        int64_t T = clip_shape[0], C = clip_shape[1], H = clip_shape[2], W = clip_shape[3];
        auto [rows, cols] = grid(T);
        bool tiled = view_ == "super_image";
        net = register_module("net", ConvNet(C, tiled ? rows * H : H, tiled ? cols * W : W, channels, hidden));
        if (view_ == "temporal")
            gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(hidden, hidden).batch_first(true)));
        head = register_module("head", torch::nn::Linear(hidden, classes));
    }
    torch::Tensor forward(const torch::Tensor& clips) {
        int64_t N = clips.size(0), T = clips.size(1);
        if (view_ == "super_image") return head(net(super_image(clips, blank_)));
        auto features = net(clips.flatten(0, 1)).view({N, T, -1}); // each frame on its own
        if (view_ == "frame_average") return head(features).mean(1);
        auto out = std::get<0>(gru(features)); // [N, T, hidden]
        return head(out.select(1, T - 1));
    }
    std::string view_;
    double blank_;
    ConvNet net{nullptr};
    torch::nn::GRU gru{nullptr};
    torch::nn::Linear head{nullptr};
};
TORCH_MODULE(ClipClassifier);

} // namespace sifar
