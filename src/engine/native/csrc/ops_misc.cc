// Matrix multiply (plain and fused with bias/activation) and batch normalisation.
#include "registry.h"

namespace ap {

void registerMisc() {
  // inputs: a, b, bias?, preluWeights?; attrs: transposeA, transposeB, activation, leakyAlpha
  registerOp("MatMul", [](const Tensors& in, const Attrs& a) {
    auto x = a.at(0) != 0 ? in.at(0).transpose(-1, -2) : in.at(0);
    auto y = a.at(1) != 0 ? in.at(1).transpose(-1, -2) : in.at(1);
    const bool bias = in.size() > 2 && in[2].defined();
    at::Tensor out;
    if (x.dim() == 3 && x.size(0) == 1 && y.size(0) == 1) {
      // tfjs sends every matmul as a batch of one; libtorch 1.13's bmm runs those through a naive loop
      // (2 GFLOP/s for a 128x512x512 Dense), mm goes to BLAS (transposes become BLAS flags)
      auto x2 = x.select(0, 0), y2 = y.select(0, 0);
      out = (bias && in[2].numel() == y2.size(1) ? at::addmm(in[2].reshape({-1}), x2, y2) : at::mm(x2, y2)).unsqueeze(0);
      if (bias && in[2].numel() != y2.size(1)) out.add_(in[2]);
    } else {
      out = at::matmul(x, y);
      if (bias) out.add_(in[2]);
    }
    at::Tensor prelu = in.size() > 3 ? in[3] : at::Tensor();
    return Tensors{applyActivation(out, static_cast<int>(a.at(2)), prelu, a.at(3))};
  });
  // inputs: x, mean, variance, offset?, scale?; attrs: epsilon.
  // y = x * (scale / sqrt(var + eps)) + (offset - mean * scale / sqrt(var + eps)): two passes over x.
  registerOp("FusedBatchNorm", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(0);
    if (isBlocked(x)) {
      // oneDNN's inference batch norm on the blocked tensor, when every statistic is per channel
      const int64_t C = x.size(1);
      auto perChannel = [&](size_t i, double fill) {
        return in.size() > i && in[i].defined() ? in[i].reshape({-1}).contiguous() : at::full({C}, fill, at::kFloat);
      };
      auto mean = perChannel(1, 0), var = perChannel(2, 1), offset = perChannel(3, 0), scale = perChannel(4, 1);
      if (mean.numel() == C && var.numel() == C && offset.numel() == C && scale.numel() == C)
        return Tensors{at::batch_norm(x, scale, offset, mean, var, false, 0.0, a.at(0), false)};
    }
    const auto xd = denseNHWC(x);
    auto inv = at::rsqrt(in.at(2) + a.at(0));
    if (in.size() > 4 && in[4].defined()) inv = inv * in[4];
    auto shift = -in.at(1) * inv;
    if (in.size() > 3 && in[3].defined()) shift = shift + in[3];
    return Tensors{at::mul(xd, inv).add_(shift)};
  }, 1u);
}

}  // namespace ap
