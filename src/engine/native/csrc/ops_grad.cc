// Fused kernels backing auraprune's custom tfjs gradients, GELU, batch norm in training and the SGD
// update (src/engine/gradients.ts, src/train/sgd.ts): each replaces a chain of element-wise tfjs ops
// over a full activation or weight by one or two passes.
#include "registry.h"
#include <ATen/Parallel.h>
#include <tuple>

namespace ap {

namespace {
// Batch-norm operands with channels on tfjs's last axis, as libtorch's batch-norm kernels take them:
// a 4-D NHWC tensor as its NCHW view, a 2-D one as [N, C]; and back.
struct ChannelView {
  int64_t C;
  bool four;
  explicit ChannelView(const at::Tensor& x) : C(x.size(-1)), four(x.dim() == 4) {}
  at::Tensor in(const at::Tensor& t) const { return four ? asNCHW(t) : t.reshape({-1, C}); }
  at::Tensor out(const at::Tensor& t, const at::Tensor& like) const { return four ? toNHWC(t) : t.reshape(like.sizes()); }
  at::Tensor scale(const Tensors& in, size_t i, const at::Tensor& x) const {
    return in.size() > i && in[i].defined() ? in[i].reshape({C}) : at::ones({C}, x.options());
  }
};
}  // namespace

void registerGrad() {
  // dy * (x > 0), one pass (tfjs composes Step, Cast and Multiply).
  registerOp("ReluGrad", [](const Tensors& in, const Attrs&) { return Tensors{at::threshold_backward(in.at(0), in.at(1), 0)}; });
  // ClipByValue's and Relu6's gradients in one pass (tfjs composes GreaterEqual, LessEqual,
  // LogicalAnd, ZerosLike and Select, or LessEqual, Step, Multiply, Cast and Multiply: about a sixth
  // of a MobileNetV2 training step). inputs: dy, x; attrs: lo, hi, relu6. Clip passes dy where
  // lo <= x <= hi; relu6 (tfjs's mask (x <= 6) * step(x)) where 0 < x <= 6, NaN where x is NaN.
  registerOp("ClipGrad", [](const Tensors& in, const Attrs& a) {
    const auto &dy = in.at(0), &x = in.at(1);
    const float lo = static_cast<float>(a.at(0)), hi = static_cast<float>(a.at(1));
    const bool relu6 = a.at(2) != 0;
    const bool flat = dy.scalar_type() == at::kFloat && x.scalar_type() == at::kFloat && dy.sizes() == x.sizes() &&
                      dy.strides() == x.strides() && dy.is_non_overlapping_and_dense();
    if (!flat) {
      auto keep = relu6 ? x.gt(0).logical_and_(x.le(6)) : x.ge(lo).logical_and_(x.le(hi));
      auto g = at::where(keep, dy, at::zeros_like(dy));
      return Tensors{relu6 ? at::where(x.isnan(), x, g) : g};
    }
    // same sizes and strides, dense: element i of one buffer is element i of the other
    auto out = at::empty_like(dy);
    const float *pd = dy.data_ptr<float>(), *px = x.data_ptr<float>();
    float* po = out.data_ptr<float>();
    at::parallel_for(0, dy.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      if (relu6)
        for (int64_t i = b; i < e; ++i) po[i] = px[i] > 0.f && px[i] <= 6.f ? pd[i] : (px[i] != px[i] ? px[i] : 0.f);
      else
        for (int64_t i = b; i < e; ++i) po[i] = px[i] >= lo && px[i] <= hi ? pd[i] : 0.f;
    });
    return Tensors{out};
  });
  // GELU (exact, erf form) and its gradient, one pass each: tfjs-layers composes the forward from five
  // element-wise ops (div, erf, add, mul, mul) and its gradient from about ten.
  registerOp("Gelu", [](const Tensors& in, const Attrs&) { return Tensors{at::gelu(in.at(0))}; }, 1u);  // blocked too
  registerOp("GeluGrad", [](const Tensors& in, const Attrs&) { return Tensors{at::gelu_backward(in.at(0), in.at(1))}; });
  // Batch norm in training (channels = last axis): y normalised with the batch's own mean and biased
  // variance, which are returned for the moving averages. One statistics pass and one normalising pass
  // (tfjs-layers: Mean, SquaredDifference, Mean, then the normalisation). inputs: x, scale?, offset?;
  // attrs: eps. Returns y, mean, variance.
  registerOp("BatchNormTrain", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(0);
    ChannelView v(x);
    c10::optional<at::Tensor> w, b;
    if (in.size() > 1 && in[1].defined()) w = in[1].reshape({v.C});
    if (in.size() > 2 && in[2].defined()) b = in[2].reshape({v.C});
    double eps = a.at(0);
    auto res = at::native_batch_norm(v.in(x), w, b, c10::nullopt, c10::nullopt, true, 0.0, eps);
    auto invstd = std::get<2>(res).to(at::kDouble);
    auto var = (1.0 / (invstd * invstd) - eps).clamp_min(0).to(at::kFloat);
    return Tensors{v.out(std::get<0>(res), x), std::get<1>(res), var};
  });
  // Gradient of BatchNormTrain's y with respect to x, scale and offset, the batch statistics'
  // dependence on x included. inputs: dy, x, mean, variance, scale?; attrs: eps. Returns dx, dscale, doffset.
  registerOp("BatchNormTrainGrad", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(1);
    ChannelView v(x);
    double eps = a.at(0);
    auto invstd = at::rsqrt(in.at(3).reshape({v.C}) + eps);
    auto res = at::native_batch_norm_backward(v.in(in.at(0)), v.in(x), v.scale(in, 4, x), c10::nullopt, c10::nullopt, in.at(2).reshape({v.C}),
                                              invstd, true, eps, {true, true, true});
    return Tensors{v.out(std::get<0>(res), x), std::get<1>(res), std::get<2>(res)};
  });
  // One SGD step of one parameter in a single pass (tfjs composes it from seven element-wise ops, each
  // a new full-size tensor): g' = g + l2 w; v' = momentum v + g'; step = nesterov ? g' + momentum v' : v';
  // w' = w - lr step - lr decoupled w. inputs: w, velocity, g (float32); attrs: lr, momentum,
  // nesterov (0/1), l2, decoupled. Returns w', v'.
  registerOp("SgdUpdate", [](const Tensors& in, const Attrs& a) {
    auto w = in.at(0).contiguous(), vel = in.at(1).contiguous(), g = in.at(2).contiguous();
    const float lr = static_cast<float>(a.at(0)), mom = static_cast<float>(a.at(1)), l2 = static_cast<float>(a.at(3));
    const float shrink = static_cast<float>(a.at(0) * a.at(4));
    const bool nesterov = a.at(2) != 0;
    auto w2 = at::empty_like(w), v2 = at::empty_like(vel);
    const float *pw = w.data_ptr<float>(), *pv = vel.data_ptr<float>(), *pg = g.data_ptr<float>();
    float *ow = w2.data_ptr<float>(), *ov = v2.data_ptr<float>();
    at::parallel_for(0, w.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float gi = pg[i] + pw[i] * l2;
        const float vi = pv[i] * mom + gi;
        const float step = nesterov ? gi + vi * mom : vi;
        ow[i] = (pw[i] - step * lr) - pw[i] * shrink;
        ov[i] = vi;
      }
    });
    return Tensors{w2, v2};
  });
  // Broadcast view (stride 0, no memory) of a keep-dims reduction gradient to the input shape.
  registerOp("ExpandTo", [](const Tensors& in, const Attrs& a) { return Tensors{in.at(0).expand(ints(a, 0, a.size()))}; });
  // Gradients of y = (x - mean) * rsqrt(var + eps) * scale + offset with respect to x, mean,
  // variance, offset and scale (channels = last axis), via libtorch's fused eval-mode batch-norm
  // backward on the NCHW view. inputs: dy, x, mean, variance, scale?; attrs: eps.
  registerOp("BatchNormGrad", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(1);
    ChannelView v(x);
    auto mean = in.at(2).reshape({v.C}), var = in.at(3).reshape({v.C});
    auto scale = v.scale(in, 4, x);
    double eps = a.at(0);
    auto res = at::native_batch_norm_backward(v.in(in.at(0)), v.in(x), scale, mean, var, c10::nullopt, c10::nullopt, false, eps,
                                              {true, true, true});
    auto dx = v.out(std::get<0>(res), x);
    auto dscale = std::get<1>(res), doffset = std::get<2>(res);
    auto inv = at::rsqrt(var + eps);
    auto dmean = -doffset * scale * inv;
    auto dvar = -0.5 * dscale * scale * inv * inv;
    return Tensors{dx, dmean, dvar, doffset, dscale};
  });
}

}  // namespace ap
