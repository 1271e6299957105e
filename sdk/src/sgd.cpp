// FusedSgd's one-pass momentum update and libtorch's reference step (iclr/sgd.hpp).
#include "iclr/sgd.hpp"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <sstream>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace iclr {

namespace detail {

#if defined(__x86_64__)
// buf = momentum * buf + (g + wd * p); p = p + neg_lr * buf over n elements (a multiple of 8), with
// the roundings of libtorch's AVX2 and AVX-512 kernels: g + wd * p and p + neg_lr * buf are fused
// multiply-adds (its add with alpha), momentum * buf is rounded before the add (mul_, then add_).
static __attribute__((target("avx2,fma"))) void sgd_momentum_avx2(float* p, float* buf, const float* g, int64_t n,
                                                                  float momentum, float wd, float neg_lr) {
    const __m256 m = _mm256_set1_ps(momentum), w = _mm256_set1_ps(wd), l = _mm256_set1_ps(neg_lr);
    for (int64_t i = 0; i < n; i += 8) {
        __m256 pv = _mm256_loadu_ps(p + i), d = _mm256_loadu_ps(g + i);
        if (wd != 0.0f) d = _mm256_fmadd_ps(pv, w, d);
        __m256 t = _mm256_mul_ps(_mm256_loadu_ps(buf + i), m);
        __asm__("" : "+x"(t)); // rounded here: a compiler contracting the mul and add into an FMA would not
        __m256 b = _mm256_add_ps(t, d);
        _mm256_storeu_ps(buf + i, b);
        _mm256_storeu_ps(p + i, _mm256_fmadd_ps(b, l, pv));
    }
}
#endif

bool fused_sgd_available() {
#if defined(__x86_64__)
    static const bool ok = [] {
        const char* forced = std::getenv("ATEN_CPU_CAPABILITY"); // libtorch's own override
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               !(forced && std::string(forced) == "default");
    }();
    return ok;
#else
    return false;
#endif
}

} // namespace detail

// The key of a weight's optimiser state: libtorch keys it by the weight's TensorImpl, as the
// address printed up to 1.13 (c10::guts::to_string, gone since) and as the address itself in 2.x.
template <class State> static auto state_key(const State&, const torch::Tensor& p) {
    using Key = typename State::key_type;
    if constexpr (std::is_same_v<Key, std::string>) {
        std::ostringstream os; // what c10::guts::to_string did
        os << static_cast<const void*>(p.unsafeGetTensorImpl());
        return os.str();
    } else {
        return Key(p.unsafeGetTensorImpl());
    }
}

torch::Tensor FusedSgd::step(LossClosure closure) {
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure) {
        at::AutoGradMode enable_grad(true);
        loss = closure();
    }
    for (auto& group : param_groups()) {
        auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
        for (auto& p : group.params()) {
            if (!p.grad().defined()) continue;
            auto it = state().find(state_key(state(), p));
            torch::Tensor* buf = it == state().end()
                                     ? nullptr
                                     : &static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
            if (buf && o.momentum() != 0 && o.dampening() == 0 && !o.nesterov() && fusable(p, *buf)) {
                fused(p, *buf, o);
                ++fused_updates_;
            } else {
                reference(p, o);
            }
        }
    }
    return loss;
}

bool FusedSgd::fusable(const torch::Tensor& p, const torch::Tensor& buf) {
    auto plain = [&](const torch::Tensor& t) {
        return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.layout() == at::kStrided &&
               t.is_contiguous() && t.sizes() == p.sizes();
    };
    return detail::fused_sgd_available() && plain(p) && plain(p.grad()) && plain(buf);
}

void FusedSgd::reference(torch::Tensor& p, const torch::optim::SGDOptions& o) {
    auto key = state_key(state(), p);
    auto d_p = p.grad().data();
    if (o.weight_decay() != 0) d_p = d_p.add(p.data(), o.weight_decay());
    if (o.momentum() != 0) {
        torch::Tensor buf;
        auto it = state().find(key);
        if (it == state().end()) {
            buf = torch::clone(d_p).detach();
            auto s = std::make_unique<torch::optim::SGDParamState>();
            s->momentum_buffer(buf);
            state()[key] = std::move(s);
        } else {
            buf = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
            buf.mul_(o.momentum()).add_(d_p, 1 - o.dampening());
        }
        d_p = o.nesterov() ? d_p.add(buf, o.momentum()) : buf;
    }
    p.data().add_(d_p, -1 * o.lr());
}

void FusedSgd::fused(torch::Tensor& p, torch::Tensor& buf, const torch::optim::SGDOptions& o) {
    const int64_t n = p.numel(), body = n - n % 32;
#if defined(__x86_64__)
    float* pp = p.data_ptr<float>();
    float* bp = buf.data_ptr<float>();
    const float* gp = p.grad().data_ptr<float>();
    const float m = float(o.momentum()), wd = float(o.weight_decay()), neg_lr = float(-1 * o.lr());
    at::parallel_for(0, body / 32, 1024, [&](int64_t b, int64_t e) {
        detail::sgd_momentum_avx2(pp + b * 32, bp + b * 32, gp + b * 32, (e - b) * 32, m, wd, neg_lr);
    });
#endif
    if (body == n) return;
    auto tail = [&](const torch::Tensor& t) { return t.view(-1).narrow(0, body, n - body); };
    auto pt = tail(p.data()), bt = tail(buf), d = tail(p.grad().data());
    if (o.weight_decay() != 0) d = d.add(pt, o.weight_decay());
    bt.mul_(o.momentum()).add_(d, 1 - o.dampening());
    pt.add_(bt, -1 * o.lr());
}

} // namespace iclr
