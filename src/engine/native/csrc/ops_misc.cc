// Matrix multiply (plain and fused with bias/activation) and batch normalisation.
#include "registry.h"

namespace ap {

void registerMisc() {
  // inputs: a, b, bias?, preluWeights?; attrs: transposeA, transposeB, activation, leakyAlpha
  registerOp("MatMul", [](const Tensors& in, const Attrs& a) {
    auto x = a.at(0) != 0 ? in.at(0).transpose(-1, -2) : in.at(0);
    auto y = a.at(1) != 0 ? in.at(1).transpose(-1, -2) : in.at(1);
    auto out = at::matmul(x, y);
    if (in.size() > 2 && in[2].defined()) out.add_(in[2]);
    at::Tensor prelu = in.size() > 3 ? in[3] : at::Tensor();
    return Tensors{applyActivation(out, static_cast<int>(a.at(2)), prelu, a.at(3))};
  });
  // inputs: x, mean, variance, offset?, scale?; attrs: epsilon.
  // y = x * (scale / sqrt(var + eps)) + (offset - mean * scale / sqrt(var + eps)): two passes over x.
  registerOp("FusedBatchNorm", [](const Tensors& in, const Attrs& a) {
    auto inv = at::rsqrt(in.at(2) + a.at(0));
    if (in.size() > 4 && in[4].defined()) inv = inv * in[4];
    auto shift = -in.at(1) * inv;
    if (in.size() > 3 && in[3].defined()) shift = shift + in[3];
    return Tensors{at::mul(in.at(0), inv).add_(shift)};
  });
}

}  // namespace ap
