// Max and average pooling with gradients, in tfjs semantics: 'same' average pooling divides by
// the number of real (unpadded) elements; asymmetric 'same' padding is applied explicitly.
// Geometry attrs: kernel(2), strides(2), pads(t,b,l,r).
#include "registry.h"
#include <limits>
#include <tuple>
#include <unordered_map>

namespace ap {

namespace {
struct Pool {
  std::vector<int64_t> k, s;
  int64_t t, b, l, r;
  bool noPad() const { return t == 0 && b == 0 && l == 0 && r == 0; }
  // libtorch's own padding: symmetric and at most half the kernel.
  bool torchPads() const { return t == b && l == r && 2 * t <= k[0] && 2 * l <= k[1]; }
};
Pool pool(const Attrs& a) {
  return {ints(a, 0, 2), ints(a, 2, 2), static_cast<int64_t>(a.at(4)), static_cast<int64_t>(a.at(5)),
          static_cast<int64_t>(a.at(6)), static_cast<int64_t>(a.at(7))};
}
at::Tensor padded(const at::Tensor& x, const Pool& p, double value) { return at::constant_pad_nd(x, {p.l, p.r, p.t, p.b}, value); }
at::Tensor unpad(const at::Tensor& g, const Pool& p, int64_t h, int64_t w) { return g.narrow(2, p.t, h).narrow(3, p.l, w); }
const double kNegInf = -std::numeric_limits<double>::infinity();

std::tuple<at::Tensor, at::Tensor, bool> maxWithIndices(const at::Tensor& xn, const Pool& p) {
  if (p.torchPads()) {
    auto res = at::max_pool2d_with_indices(xn, p.k, p.s, {p.t, p.l}, {1, 1}, false);
    return {std::get<0>(res), std::get<1>(res), false};
  }
  auto res = at::max_pool2d_with_indices(padded(xn, p, kNegInf), p.k, p.s, {0, 0}, {1, 1}, false);
  return {std::get<0>(res), std::get<1>(res), true};
}

// Argmax positions of max pools run while a gradient tape records (MaxPoolTrain), keyed by the output
// tensor the gradient later receives: MaxPoolGrad then scatters dy without recomputing the max, which
// cost as much as the forward pool. Weak references: a freed output's address may be reused.
struct ArgmaxEntry {
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> y;
  at::Tensor idx;
  bool explicitPad;
};
std::unordered_map<const c10::TensorImpl*, ArgmaxEntry>& argmaxCache() {
  static std::unordered_map<const c10::TensorImpl*, ArgmaxEntry> cache;  // ops run on the JS thread only
  return cache;
}

// Average pooling as sum / count of real elements, for padding libtorch cannot express.
at::Tensor counts(const at::Tensor& xn, const Pool& p) {
  auto ones = at::ones({1, 1, xn.size(2), xn.size(3)}, xn.options());
  return at::avg_pool2d(padded(ones, p, 0), p.k, p.s, {0, 0}, false, true, 1);
}
}  // namespace

void registerPool() {
  registerOp("MaxPool", [](const Tensors& in, const Attrs& a) {
    auto p = pool(a);
    if (isBlocked(in.at(0)) && p.torchPads()) return Tensors{at::max_pool2d(in[0], p.k, p.s, {p.t, p.l})};
    auto xn = asNCHW(denseNHWC(in.at(0)));
    if (p.torchPads()) return Tensors{toNHWC(at::max_pool2d(xn, p.k, p.s, {p.t, p.l}))};
    return Tensors{toNHWC(at::max_pool2d(padded(xn, p, kNegInf), p.k, p.s, {0, 0}))};
  }, 1u);
  // The same pool keeping its argmax positions for MaxPoolGrad (same cost: libtorch finds them anyway).
  registerOp("MaxPoolTrain", [](const Tensors& in, const Attrs& a) {
    auto p = pool(a);
    auto [y, idx, explicitPad] = maxWithIndices(asNCHW(in.at(0)), p);
    auto out = toNHWC(y);
    auto& cache = argmaxCache();
    // a gradient consumes its entry; outputs freed without one (inference under a tape, a second
    // gradient) are dropped here so their indices do not pile up
    if (cache.size() >= 8)
      for (auto i = cache.begin(); i != cache.end();) i = i->second.y.expired() ? cache.erase(i) : std::next(i);
    const auto* key = out.unsafeGetTensorImpl();
    cache.erase(key);
    cache.emplace(key, ArgmaxEntry{c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>(out.getIntrusivePtr()), idx, explicitPad});
    return Tensors{out};
  });
  // inputs: dy, x (the forward input), y? (the forward output); argmax positions from MaxPoolTrain's
  // cache when y came from it, else recomputed.
  registerOp("MaxPoolGrad", [](const Tensors& in, const Attrs& a) {
    auto p = pool(a);
    auto dy = asNCHW(in.at(0));
    auto xn = asNCHW(in.at(1));
    at::Tensor idx;
    bool explicitPad = false;
    auto& cache = argmaxCache();
    auto it = in.size() > 2 && in[2].defined() ? cache.find(in[2].unsafeGetTensorImpl()) : cache.end();
    if (it != cache.end() && it->second.y.lock().get() == in[2].unsafeGetTensorImpl()) {
      idx = it->second.idx;
      explicitPad = it->second.explicitPad;
      cache.erase(it);
      ++argmaxReuses();
    } else {
      auto r = maxWithIndices(xn, p);
      idx = std::get<1>(r);
      explicitPad = std::get<2>(r);
    }
    if (!explicitPad)
      return Tensors{toNHWC(at::max_pool2d_with_indices_backward(dy, xn, p.k, p.s, {p.t, p.l}, {1, 1}, false, idx))};
    auto xp = padded(xn, p, kNegInf);
    auto g = at::max_pool2d_with_indices_backward(dy, xp, p.k, p.s, {0, 0}, {1, 1}, false, idx);
    return Tensors{toNHWC(unpad(g, p, xn.size(2), xn.size(3)))};
  });
  registerOp("AvgPool", [](const Tensors& in, const Attrs& a) {
    auto p = pool(a);
    if (isBlocked(in.at(0)) && (p.noPad() || p.torchPads())) return Tensors{at::avg_pool2d(in[0], p.k, p.s, {p.t, p.l}, false, false)};
    auto xn = asNCHW(denseNHWC(in.at(0)));
    if (p.noPad() || p.torchPads()) return Tensors{toNHWC(at::avg_pool2d(xn, p.k, p.s, {p.t, p.l}, false, false))};
    auto sum = at::avg_pool2d(padded(xn, p, 0), p.k, p.s, {0, 0}, false, true, 1);
    return Tensors{toNHWC(sum / counts(xn, p))};
  }, 1u);
  // inputs: dy, x
  registerOp("AvgPoolGrad", [](const Tensors& in, const Attrs& a) {
    auto p = pool(a);
    auto dy = asNCHW(in.at(0));
    auto xn = asNCHW(in.at(1));
    if (p.noPad() || p.torchPads())
      return Tensors{toNHWC(at::avg_pool2d_backward(dy, xn, p.k, p.s, {p.t, p.l}, false, false, c10::nullopt))};
    auto xp = padded(xn, p, 0);
    auto g = at::avg_pool2d_backward(dy / counts(xn, p), xp, p.k, p.s, {0, 0}, false, true, 1);
    return Tensors{toNHWC(unpad(g, p, xn.size(2), xn.size(3)))};
  });
}

}  // namespace ap
