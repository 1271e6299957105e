// Metric plugin `ood_accuracy`: accuracy on each of the benchmark's shifted test sets (rotated,
// noisy, low-contrast, thicker strokes ...) at the end of training: out-of-distribution accuracy.
#include "iclr/sdk.hpp"

namespace {

class OodAccuracy : public iclr::Metric {
  public:
    struct Params {
        iclr::String eval{"eval", "task", "task|class",
                          "task: each example's logits masked to the classes of the task that holds its label "
                          "(as avg_accuracy's default); class: all classes compete"};
    };
    OodAccuracy(const Params& p, iclr::RunContext&) : by_task_(p.eval() == "task") {}

    void on_event(const iclr::Event& e, iclr::Learner& learner, const iclr::Benchmark& b,
                  iclr::RunContext& ctx) override {
        if (e.kind != iclr::EventKind::End) return;
        if (b.shifted_tests.empty())
            throw iclr::PluginError("ood_accuracy: data set '" + b.name +
                                    "' has no shifted test sets (mnist, fashion_mnist: set ood_rotation, ood_noise, "
                                    "ood_contrast or ood_stroke)");
        double sum = 0;
        for (const auto& [name, split] : b.shifted_tests) {
            double acc = accuracy(learner, b, split);
            ctx.log("ood_accuracy_" + name, acc, e.step);
            sum += acc;
        }
        ctx.log("ood_accuracy", sum / double(b.shifted_tests.size()), e.step);
    }

  private:
    // Each example is scored under the task that holds its label (task-incremental), or under all
    // classes; the count of correct predictions over the whole split.
    double accuracy(iclr::Learner& learner, const iclr::Benchmark& b, const iclr::Split& split) const {
        if (!by_task_) return iclr::accuracy(learner, split, -1);
        double correct = 0;
        int64_t counted = 0;
        for (size_t t = 0; t < b.tasks.size(); ++t) {
            auto in_task = torch::zeros_like(split.y, torch::kBool);
            for (int64_t c : b.tasks[t].classes)
                in_task |= split.y == c;
            auto idx = torch::nonzero(in_task).flatten();
            if (idx.numel() == 0) continue;
            iclr::Split part{split.x.index_select(0, idx), split.y.index_select(0, idx)};
            correct += iclr::accuracy(learner, part, int64_t(t)) * double(part.size());
            counted += part.size();
        }
        if (counted != split.size())
            throw iclr::PluginError("ood_accuracy: a shifted test set holds labels no task has (use eval = \"class\")");
        return correct / double(counted);
    }

    bool by_task_;
};

} // namespace

ICLR_PLUGIN(iclr::Metric, OodAccuracy, "ood_accuracy", "0.1.0",
            "Kumar et al. Fine-Tuning can Distort Pretrained Features and Underperform Out-of-Distribution. ICLR 2022.",
            "accuracy on each shifted test set of the data set (ood_accuracy_<shift>) and their mean (ood_accuracy)")
