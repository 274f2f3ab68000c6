// 2-D convolutions (regular and depthwise) and their gradients, in tfjs semantics.
// Inputs arrive as NHWC views; libtorch runs NCHW logically, in the memory format layout() names
// (registry.h), so the permute is free whenever the tensor came from a previous convolution. TensorFlow's asymmetric 'same' padding (extra row/column at the
// bottom/right) cannot be expressed by libtorch's symmetric padding, so it is applied explicitly.
//
// Geometry attrs (8), shared by every op here: strides(2), pads(t,b,l,r), dilations(2).
#include "registry.h"
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/mkldnn_reorder_conv2d_weight.h>
#include <tuple>
#include <unordered_map>

namespace ap {

namespace {
struct Geom {
  std::vector<int64_t> stride, dil;
  int64_t t, b, l, r;
  bool symmetric() const { return t == b && l == r; }
  std::vector<int64_t> torchPad() const { return symmetric() ? std::vector<int64_t>{t, l} : std::vector<int64_t>{0, 0}; }
};
Geom geom(const Attrs& a, size_t at) {
  return {ints(a, at, 2), ints(a, at + 6, 2), static_cast<int64_t>(a.at(at + 2)), static_cast<int64_t>(a.at(at + 3)),
          static_cast<int64_t>(a.at(at + 4)), static_cast<int64_t>(a.at(at + 5))};
}
// NHWC -> contiguous NCHW, explicitly padded when the padding is asymmetric.
at::Tensor inputNCHW(const at::Tensor& x, const Geom& g) {
  auto y = asNCHW(x);
  return g.symmetric() ? y : at::constant_pad_nd(y, {g.l, g.r, g.t, g.b});
}
// tfjs filter -> libtorch weight. Regular: HWIO -> OIHW. Depthwise [fh,fw,in,mult] -> [in*mult,1,fh,fw].
at::Tensor convertWeight(const at::Tensor& w, bool depthwise) {
  if (!depthwise) return toOIHW(w).contiguous(layout());
  return w.permute({2, 3, 0, 1}).reshape({w.size(2) * w.size(3), 1, w.size(0), w.size(1)});
}

// The transposing copy HWIO -> OIHW costs more than the convolution itself at batch 1 (VGG-16: 60 MB
// of weights per forward pass), and a weight is used twice per training step (forward and input
// gradient). So converted weights are kept while their source tensor lives and is unchanged: keyed by
// the TensorImpl, checked through a weak reference (a freed tensor's address may be reused) and its
// version counter (an in-place write bumps it).
using WeakImpl = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
struct WeightEntry {
  WeakImpl src;
  uint32_t version;
  std::vector<int64_t> tag;  // what the conversion depends on besides the values (layout, geometry)
  at::Tensor converted;
};
using WeightCache = std::unordered_map<const c10::TensorImpl*, WeightEntry>;
// ops run on the JS thread only
WeightCache& weightCache() { static WeightCache c; return c; }
// The same weights reordered once into the blocked layout oneDNN's convolution wants (inference only;
// training changes the weights every step).
WeightCache& blockedCache() { static WeightCache c; return c; }

at::Tensor cachedWeight(WeightCache& cache, const at::Tensor& w, std::vector<int64_t> tag, const std::function<at::Tensor()>& convert) {
  const auto* key = w.unsafeGetTensorImpl();
  const uint32_t version = w._version();
  auto it = cache.find(key);
  if (it != cache.end()) {
    const auto& e = it->second;
    if (e.src.lock().get() == key && e.version == version && e.tag == tag) return e.converted;
  }
  // training makes new weight tensors every step: drop the conversions of freed ones before they pile up
  // (a few entries per conv layer at most, so the sweep is cheap)
  if (cache.size() >= 32)
    for (auto i = cache.begin(); i != cache.end();) i = i->second.src.expired() ? cache.erase(i) : std::next(i);
  auto converted = convert();
  cache.erase(key);
  cache.emplace(key, WeightEntry{WeakImpl(w.getIntrusivePtr()), version, std::move(tag), converted});
  return converted;
}

at::Tensor weightOIHW(const at::Tensor& w, bool depthwise) {
  return cachedWeight(weightCache(), w, {depthwise, static_cast<int64_t>(layout())}, [&] { return convertWeight(w, depthwise); });
}
at::Tensor weightBlocked(const at::Tensor& w, bool depthwise, const Geom& g, int64_t groups) {
  return cachedWeight(blockedCache(), w, {depthwise, groups, g.t, g.l, g.stride[0], g.stride[1], g.dil[0], g.dil[1]}, [&] {
    auto dense = convertWeight(w, depthwise).contiguous();
    return at::mkldnn_reorder_conv2d_weight(dense.to_mkldnn(), g.torchPad(), g.stride, g.dil, groups);
  });
}

at::Tensor weightTfjs(const at::Tensor& w, const std::vector<int64_t>& filterShape, bool depthwise) {
  if (!depthwise) return toHWIO(w);
  return w.reshape({filterShape[2], filterShape[3], filterShape[0], filterShape[1]}).permute({2, 3, 0, 1});
}
at::Tensor unpad(const at::Tensor& g, const Geom& geo, int64_t h, int64_t w) {
  return geo.symmetric() ? g : g.narrow(2, geo.t, h).narrow(3, geo.l, w);
}

// inputs: x, filter, bias?, preluWeights?; attrs: geom(8), activation, leakyAlpha
Tensors forward(const Tensors& in, const Attrs& a, bool depthwise) {
  auto g = geom(a, 0);
  auto x = inputNCHW(in.at(0), g);
  auto w = weightOIHW(in.at(1), depthwise);
  int64_t groups = depthwise ? x.size(1) : 1;
  c10::optional<at::Tensor> bias;
  if (in.size() > 2 && in[2].defined()) bias = in[2].reshape({-1});
  auto y = at::convolution(x, w, bias, g.stride, g.torchPad(), g.dil, false, {0, 0}, groups);
  at::Tensor prelu = in.size() > 3 ? in[3] : at::Tensor();
  return Tensors{applyActivation(toNHWC(y), static_cast<int>(a.at(8)), prelu, a.at(9))};
}

// Inference (no gradient tape; same inputs and attrs as forward): blocked input (converted here when it
// arrives dense), cached blocked weights, blocked output; ReLU and sigmoid applied in place. Asymmetric
// padding and the other activations take the dense path.
Tensors forwardInfer(const Tensors& in, const Attrs& a, bool depthwise) {
  auto g = geom(a, 0);
  const int act = static_cast<int>(a.at(8));
  const bool ok = blockedInference() && g.symmetric() && in.at(0).scalar_type() == at::kFloat &&
                  (act == kLinear || act == kRelu || act == kSigmoid || (act == kRelu6 && blockedClipAvailable()));
  if (!ok) {
    Tensors dense(in);
    dense[0] = denseNHWC(in[0]);
    return forward(dense, a, depthwise);
  }
  auto x = isBlocked(in[0]) ? in[0] : toBlocked(in[0]);
  const int64_t groups = depthwise ? x.size(1) : 1;
  auto w = weightBlocked(in.at(1), depthwise, g, groups);
  c10::optional<at::Tensor> bias;
  if (in.size() > 2 && in[2].defined()) bias = in[2].reshape({-1}).contiguous();
  auto y = at::mkldnn_convolution(x, w, bias, g.torchPad(), g.stride, g.dil, groups);
  if (act == kRelu) at::relu_(y);
  if (act == kSigmoid) y = at::sigmoid(y);
  if (act == kRelu6) y = blockedClip(y, 0, 6);
  return Tensors{y};
}

// inputs: dy, filter; attrs: geom(8), inShape NHWC(4)
Tensors backpropInput(const Tensors& in, const Attrs& a, bool depthwise) {
  auto g = geom(a, 0);
  auto s = ints(a, 8, 4);
  auto dy = asNCHW(in.at(0));
  auto w = weightOIHW(in.at(1), depthwise);
  int64_t groups = depthwise ? s[3] : 1;
  // Only the shape of `input` is read when grad_weight is not requested.
  // (its memory format tells libtorch which layout to compute the gradient in)
  auto input = at::empty({s[0], s[3], s[1] + g.t + (g.symmetric() ? 0 : g.b), s[2] + g.l + (g.symmetric() ? 0 : g.r)},
                         dy.options().memory_format(layout()));
  if (g.symmetric()) input = at::empty({s[0], s[3], s[1], s[2]}, dy.options().memory_format(layout()));
  auto res = at::convolution_backward(dy, input, w, c10::nullopt, g.stride, g.torchPad(), g.dil, false, {0, 0}, groups,
                                      {true, false, false});
  return Tensors{toNHWC(unpad(std::get<0>(res), g, s[1], s[2]))};
}

// inputs: x, dy; attrs: geom(8), filterShape(4)
Tensors backpropFilter(const Tensors& in, const Attrs& a, bool depthwise) {
  auto g = geom(a, 0);
  auto fs = ints(a, 8, 4);
  auto x = inputNCHW(in.at(0), g);
  auto dy = asNCHW(in.at(1));
  int64_t groups = depthwise ? x.size(1) : 1;
  auto wShape = depthwise ? std::vector<int64_t>{fs[2] * fs[3], 1, fs[0], fs[1]} : std::vector<int64_t>{fs[3], fs[2], fs[0], fs[1]};
  auto w = at::empty(wShape, dy.options().memory_format(layout()));
  auto res = at::convolution_backward(dy, x, w, c10::nullopt, g.stride, g.torchPad(), g.dil, false, {0, 0}, groups,
                                      {false, true, false});
  return Tensors{weightTfjs(std::get<1>(res), fs, depthwise)};
}
}  // namespace

int64_t weightCacheEntries() { return static_cast<int64_t>(weightCache().size() + blockedCache().size()); }

void registerConv() {
  registerOp("Conv2D", [](const Tensors& in, const Attrs& a) { return forward(in, a, false); });
  registerOp("DepthwiseConv2dNative", [](const Tensors& in, const Attrs& a) { return forward(in, a, true); });
  registerOp("Conv2DInfer", [](const Tensors& in, const Attrs& a) { return forwardInfer(in, a, false); }, 1u);
  registerOp("DepthwiseConv2dNativeInfer", [](const Tensors& in, const Attrs& a) { return forwardInfer(in, a, true); }, 1u);
  registerOp("Conv2DBackpropInput", [](const Tensors& in, const Attrs& a) { return backpropInput(in, a, false); });
  registerOp("DepthwiseConv2dNativeBackpropInput", [](const Tensors& in, const Attrs& a) { return backpropInput(in, a, true); });
  registerOp("Conv2DBackpropFilter", [](const Tensors& in, const Attrs& a) { return backpropFilter(in, a, false); });
  registerOp("DepthwiseConv2dNativeBackpropFilter", [](const Tensors& in, const Attrs& a) { return backpropFilter(in, a, true); });
}

}  // namespace ap
