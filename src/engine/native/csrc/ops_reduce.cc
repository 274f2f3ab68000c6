// Reductions and softmax. Attribute layout: [keepDims, axis0, axis1, ...] (axes already normalised
// to non-negative by the JS side).
#include "registry.h"

namespace ap {

namespace {
using R = std::function<at::Tensor(const at::Tensor&, std::vector<int64_t>&, bool)>;
void reduction(const std::string& name, R f) {
  registerOp(name, [f](const Tensors& in, const Attrs& a) {
    bool keep = a.at(0) != 0;
    auto axes = ints(a, 1, a.size() - 1);
    // tfjs: reducing over no axes is the identity (libtorch would reduce over everything).
    if (axes.empty()) return Tensors{in.at(0)};
    return Tensors{f(in.at(0), axes, keep)};
  });
}
// Reduce one axis at a time, highest first, so earlier axis indices stay valid.
at::Tensor perAxis(at::Tensor x, std::vector<int64_t> axes, bool keep,
                   const std::function<at::Tensor(const at::Tensor&, int64_t, bool)>& f) {
  std::sort(axes.rbegin(), axes.rend());
  for (auto ax : axes) x = f(x, ax, keep);
  return x;
}
}  // namespace

void registerReduce() {
  reduction("Sum", [](auto& x, auto& ax, bool k) { return at::sum(x, ax, k); });
  reduction("Mean", [](auto& x, auto& ax, bool k) { return at::mean(x.is_floating_point() ? x : x.to(at::kFloat), ax, k); });
  // global average pooling (a mean over H and W, as ResNet heads do) of a blocked activation: oneDNN
  // pools it, and only the pooled [N, C] values are converted, not the whole activation
  registerOp(
      "MeanHW",
      [](const Tensors& in, const Attrs& a) {
        const auto& x = in.at(0);
        const bool keep = a.at(0) != 0;
        if (!isBlocked(x)) return Tensors{at::mean(x, {1, 2}, keep)};
        auto pooled = at::adaptive_avg_pool2d(x, {1, 1}).to_dense();  // [N, C, 1, 1]
        return Tensors{keep ? pooled.permute({0, 2, 3, 1}) : pooled.reshape({x.size(0), x.size(1)})};
      },
      1u);
  reduction("Max", [](auto& x, auto& ax, bool k) { return at::amax(x, ax, k); });
  reduction("Min", [](auto& x, auto& ax, bool k) { return at::amin(x, ax, k); });
  reduction("Prod", [](auto& x, auto& ax, bool k) {
    return perAxis(x, ax, k, [](const at::Tensor& t, int64_t d, bool kk) { return at::prod(t, d, kk); });
  });
  reduction("All", [](auto& x, auto& ax, bool k) {
    return perAxis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t d, bool kk) { return at::all(t, d, kk); });
  });
  reduction("Any", [](auto& x, auto& ax, bool k) {
    return perAxis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t d, bool kk) { return at::any(t, d, kk); });
  });
  registerOp("ArgMax", [](const Tensors& in, const Attrs& a) { return Tensors{at::argmax(in.at(0), static_cast<int64_t>(a.at(0)))}; });
  registerOp("ArgMin", [](const Tensors& in, const Attrs& a) { return Tensors{at::argmin(in.at(0), static_cast<int64_t>(a.at(0)))}; });
  registerOp("Softmax", [](const Tensors& in, const Attrs& a) { return Tensors{at::softmax(in.at(0), static_cast<int64_t>(a.at(0)))}; });
  registerOp("LogSoftmax", [](const Tensors& in, const Attrs& a) { return Tensors{at::log_softmax(in.at(0), static_cast<int64_t>(a.at(0)))}; });
}

}  // namespace ap
