// Method plugin `curriculum_rnn`: Kepple, Engelken & Rajan's inverse use of curricula. Rate RNNs
// learn a task under one curriculum with two learning rules - a target-based loss on a readout
// and a representation-based loss on the hidden states - two replicates each; logged are each
// network's learning time (steps until the target task is performed at criterion) and how alike
// the trained state-space trajectories are (linear CKA) between and within rules.
#include <array>

#include "iclr/sdk.hpp"
#include "rate_rnn.hpp"

namespace {

enum class Rule { Target, Representation };
const char* name_of(Rule r) { return r == Rule::Target ? "target" : "representation"; }

using curriculum_rnn::linear_cka;
using curriculum_rnn::RateRnn;
using curriculum_rnn::representation_loss;

class CurriculumRnn : public iclr::Method {
  public:
    struct Params {
        iclr::String curriculum{"curriculum", "none", "none|easy_to_hard|staged",
                                "none: the target task only; easy_to_hard: every coherence level in order; staged: "
                                "single glimpses (the subtask), then the target task"};
        iclr::Int hidden{"hidden", 64, 1, 4096, "RNN units"};
        iclr::Float alpha{"alpha", 0.2, 0.0, 1.0, "Euler step over the time constant, dt / tau"};
        iclr::Float lr{"lr", 1e-3, 0.0, 10.0, "Adam learning rate (the paper trains with Adam)"};
        iclr::Int batch{"batch", 64, 1, 65536, "trials per step"};
        iclr::Float criterion{"criterion", 0.93, 0.0, 1.0, "target-task test accuracy that counts as learned"};
        iclr::Int eval_every{"eval_every", 25, 1, 1000000, "steps between accuracy checks"};
        iclr::Int stage_steps{"stage_steps", 250, 1, 10000000, "steps on each stage before the target task"};
        iclr::Int max_steps{"max_steps", 3000, 1, 10000000,
                            "training stops here; a network not at criterion by then gets this learning time"};
        iclr::Bool reset_optimizer{"reset_optimizer", false, "fresh Adam state at each stage (else carried over)"};
        iclr::Int replicates{"replicates", 2, 2, 16, "networks per rule (different initialisation and batches)"};
        iclr::String decoder{"decoder", "class_means", "class_means|own",
                             "how accuracy is read out: class_means, the nearest class mean of the final states for "
                             "both rules (learning times then differ only by what a rule does to the states); own, "
                             "the target rule by its trained readout"};
        iclr::Int readout_trials{"readout_trials", 500, 2, 1000000,
                                 "training trials whose class means classify the representation rule's states"};
        iclr::Int probe_trials{"probe_trials", 200, 2, 1000000,
                               "target-task test trials whose trajectories CKA compares"};
    };
    CurriculumRnn(const Params& p, iclr::RunContext&) : p_(p) {}

    void run(iclr::Session& s) override {
        const auto& b = s.benchmark();
        if (b.tasks.size() < 2 || b.input_shape.size() != 2)
            throw iclr::PluginError(
                "curriculum_rnn needs a sequence data set with a subtask and stages (glimpse_evidence)");
        auto& ctx = s.ctx();
        std::map<Rule, std::vector<torch::Tensor>> trajectories;
        for (Rule rule : {Rule::Target, Rule::Representation}) {
            double time_sum = 0, acc_sum = 0;
            for (int64_t r = 0; r < p_.replicates; ++r) {
                auto out = train(rule, r, b, ctx);
                std::string suffix = std::string("_") + name_of(rule) + "_" + std::to_string(r);
                ctx.log("learning_time" + suffix, double(out.learning_time), out.learning_time);
                ctx.log("accuracy" + suffix, out.accuracy, out.learning_time);
                ctx.log("initial_accuracy" + suffix, out.initial_accuracy);
                time_sum += double(out.learning_time);
                acc_sum += out.accuracy;
                trajectories[rule].push_back(out.trajectory);
            }
            ctx.log(std::string("learning_time_") + name_of(rule), time_sum / double(p_.replicates));
            ctx.log(std::string("accuracy_") + name_of(rule), acc_sum / double(p_.replicates));
        }
        log_similarity(trajectories, ctx);
    }

  private:
    struct Net {
        RateRnn rnn{nullptr};
        torch::nn::Linear readout{nullptr}; // the target rule's only
        std::vector<torch::Tensor> parameters() const {
            auto p = rnn->parameters();
            if (readout)
                for (auto& t : readout->parameters())
                    p.push_back(t);
            return p;
        }
    };
    struct Outcome {
        int64_t learning_time = 0;
        double accuracy = 0;         // on the target task's test trials at the end
        double initial_accuracy = 0; // the same before training
        torch::Tensor trajectory;    // probe trials' hidden states, [probe x T, hidden]
    };

    // The stages a curriculum trains on, as task indices; the last task is the target.
    std::vector<size_t> stages(size_t tasks) const {
        if (p_.curriculum() == "none") return {tasks - 1};
        if (p_.curriculum() == "staged") return {0, tasks - 1};
        std::vector<size_t> all;
        for (size_t k = 1; k < tasks; ++k)
            all.push_back(k);
        return all;
    }

    // Replicate r of either rule: the same initial RNN and the same batches for both rules.
    Outcome train(Rule rule, int64_t r, const iclr::Benchmark& b, iclr::RunContext& ctx) {
        uint64_t seed = ctx.seed() * 1000003ULL + uint64_t(r);
        torch::manual_seed(seed);
        Net net{RateRnn(b.input_shape[1], p_.hidden, p_.alpha), nullptr};
        torch::nn::Linear readout(p_.hidden, b.num_classes); // drawn for both rules: same RNG state after
        if (rule == Rule::Target) net.readout = readout;
        // Drawn on the CPU (the same weights on every device), then put where the data is.
        auto device = b.tasks.back().train.x.device();
        net.rnn->to(device);
        readout->to(device);
        auto batches = iclr::make_generator(seed, 7);
        auto opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(p_.lr));
        const auto& target = b.tasks.back();
        auto plan = stages(b.tasks.size());
        int64_t step = 0, learned = -1, evaluated = -1; // the last step whose accuracy was checked
        std::string curve_key = std::string("target_accuracy_") + name_of(rule) + "_" + std::to_string(r);
        double initial = 0; // the step-0 check's
        for (size_t k = 0; k < plan.size() && learned < 0 && step < p_.max_steps; ++k) {
            const auto& stage = b.tasks[plan[k]];
            if (k > 0 && p_.reset_optimizer)
                opt = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(p_.lr));
            for (int64_t in_stage = 0;; ++in_stage, ++step) {
                ctx.check_cancelled();
                // A stage that ends on a check step hands that step to the next stage: checked once.
                if (step % p_.eval_every == 0 && step != evaluated) {
                    double acc = accuracy(rule, net, target);
                    ctx.log(curve_key, acc, step);
                    evaluated = step;
                    if (step == 0) initial = acc;
                    if (acc >= p_.criterion) {
                        learned = step;
                        break;
                    }
                }
                if (step >= p_.max_steps || (plan[k] != plan.back() && in_stage >= p_.stage_steps)) break;
                auto idx = torch::randint(0, stage.train.size(), {p_.batch}, batches, torch::kInt64).to(device);
                auto h = net.rnn(stage.train.x.index_select(0, idx)).select(1, -1);
                auto y = stage.train.y.index_select(0, idx);
                auto loss = rule == Rule::Target ? torch::nn::functional::cross_entropy(net.readout(h), y)
                                                 : representation_loss(h, y);
                opt->zero_grad();
                loss.backward();
                opt->step();
            }
        }
        Outcome out;
        out.initial_accuracy = initial;
        out.learning_time = learned >= 0 ? learned : p_.max_steps;
        out.accuracy = accuracy(rule, net, target);
        torch::NoGradGuard no_grad;
        auto probe = target.test.x.slice(0, 0, std::min<int64_t>(p_.probe_trials, target.test.size()));
        out.trajectory = net.rnn(probe).flatten(0, 1);
        return out;
    }

    // Test accuracy on a task: the nearest class mean (cosine) of the normalised final states of the
    // first readout_trials training trials, or for the target rule with decoder = own its readout.
    double accuracy(Rule rule, Net& net, const iclr::Task& task) const {
        torch::NoGradGuard no_grad;
        auto h = net.rnn(task.test.x).select(1, -1);
        torch::Tensor pred;
        if (rule == Rule::Target && p_.decoder() == "own") {
            pred = net.readout(h).argmax(1);
        } else {
            auto norm = [](const torch::Tensor& t) {
                return torch::nn::functional::normalize(t, torch::nn::functional::NormalizeFuncOptions().dim(1));
            };
            int64_t n = std::min<int64_t>(p_.readout_trials, task.train.size());
            auto ht = norm(net.rnn(task.train.x.slice(0, 0, n)).select(1, -1));
            auto yt = task.train.y.slice(0, 0, n);
            int64_t classes = int64_t(task.classes.size()), dim = ht.size(1);
            auto means = torch::zeros({classes, dim}, ht.options());
            means.index_add_(0, yt, ht);
            pred = norm(h).matmul(norm(means).t()).argmax(1);
        }
        return pred.eq(task.test.y).to(torch::kDouble).mean().item<double>();
    }

    // CKA between networks of different rules and between replicates of one rule, both over pairs
    // with different initialisations (replicate r of both rules starts from the same weights, which
    // would flatter the between-rule similarity); the same-start pairs are logged on their own.
    static void log_similarity(const std::map<Rule, std::vector<torch::Tensor>>& t, iclr::RunContext& ctx) {
        const auto& a = t.at(Rule::Target);
        const auto& z = t.at(Rule::Representation);
        double between = 0, within = 0, same = 0;
        int64_t nb = 0, nw = 0;
        for (size_t i = 0; i < a.size(); ++i)
            for (size_t j = 0; j < z.size(); ++j) {
                if (i == j) {
                    same += linear_cka(a[i], z[j]);
                } else {
                    between += linear_cka(a[i], z[j]);
                    ++nb;
                }
            }
        for (const auto* rule : {&a, &z})
            for (size_t i = 0; i < rule->size(); ++i)
                for (size_t j = i + 1; j < rule->size(); ++j)
                    within += linear_cka((*rule)[i], (*rule)[j]), ++nw;
        ctx.log("cka_between", between / double(nb));
        ctx.log("cka_within", within / double(nw));
        ctx.log("cka_same_start", same / double(a.size()));
    }

    Params p_;
};

} // namespace

ICLR_PLUGIN(iclr::Method, CurriculumRnn, "curriculum_rnn", "0.1.0",
            "Kepple, Engelken, Rajan. Curriculum learning as a tool to uncover learning principles in the brain. "
            "ICLR 2022.",
            "rate RNNs trained under one curriculum with a target-based and a representation-based loss: learning "
            "times (steps to criterion on the target task) per rule and replicate, CKA of trajectories between and "
            "within rules")
