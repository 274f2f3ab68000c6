// Element-wise ops: unary, binary (numpy/tfjs broadcasting), activation helpers.
// libtorch's TensorIterator keeps the input's memory layout, so an NHWC view of NCHW storage
// stays NCHW underneath: no layout copies between convolutions.
#include "registry.h"

#if defined(AP_HAS_IDEEP)
#include <ideep.hpp>
// exported by libtorch_cpu (ATen/native/mkldnn/MKLDNNCommon.h, not installed by libtorch-dev)
namespace at::native {
ideep::tensor& itensor_from_mkldnn(const at::Tensor& mkldnn_tensor);
at::Tensor new_with_itensor_mkldnn(ideep::tensor&& it, c10::optional<c10::ScalarType> dtype, c10::optional<c10::Device> device);
}  // namespace at::native
#endif

namespace ap {

#if defined(AP_HAS_IDEEP)
// The ideep headers must match the ideep libtorch was built with (Debian builds both from one
// release); a first clip on a small tensor is checked against the dense clamp, and a mismatch or an
// exception turns the blocked clip off for this process.
bool blockedClipAvailable() {
  static const bool ok = [] {
    try {
      auto x = at::linspace(-8, 8, 2 * 20 * 3 * 3).reshape({2, 20, 3, 3});
      auto y = blockedClip(x.to_mkldnn(), -1.5, 6).to_dense();
      return at::allclose(y, at::clamp(x, -1.5, 6));
    } catch (...) {
      return false;
    }
  }();
  return ok;
}
// callers check blockedClipAvailable() first
at::Tensor blockedClip(const at::Tensor& x, double lo, double hi) {
  at::AutoDispatchBelowAutograd below;  // as inside ATen's own mkldnn kernels (new_with_itensor_mkldnn asserts it)
  const ideep::tensor& src = at::native::itensor_from_mkldnn(x);
  ideep::tensor dst;
  ideep::eltwise_forward::compute(src, dst, ideep::algorithm::eltwise_clip, ideep::prop_kind::forward_inference,
                                  static_cast<float>(lo), static_cast<float>(hi));
  return at::native::new_with_itensor_mkldnn(std::move(dst), at::kFloat, x.device());
}
#else
bool blockedClipAvailable() { return false; }
at::Tensor blockedClip(const at::Tensor& x, double lo, double hi) { return at::clamp(denseNHWC(x), lo, hi); }
#endif

namespace {
// clamp that keeps a blocked float input blocked where oneDNN's clip is built in
at::Tensor clip(const at::Tensor& x, double lo, double hi) {
  if (isBlocked(x)) return blockedClipAvailable() && x.scalar_type() == at::kFloat ? blockedClip(x, lo, hi) : at::clamp(denseNHWC(x), lo, hi);
  return at::clamp(x, lo, hi);
}
}  // namespace

at::Tensor applyActivation(at::Tensor y, int act, const at::Tensor& preluWeights, double leakyAlpha) {
  switch (act) {
    case kLinear: return y;
    case kRelu: return y.relu_();
    case kRelu6: return y.clamp_(0, 6);
    case kElu: return at::elu(y);
    case kSigmoid: return y.sigmoid_();
    case kLeakyRelu: return at::leaky_relu(y, leakyAlpha);
    case kPrelu: return at::where(y < 0, y * preluWeights, y);
  }
  throw std::runtime_error("unknown fused activation " + std::to_string(act));
}

namespace {
using U = std::function<at::Tensor(const at::Tensor&)>;
using B = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
void unary(const std::string& name, U f, unsigned blockedInputs = 0) {
  registerOp(name, [f](const Tensors& in, const Attrs&) { return Tensors{f(in.at(0))}; }, blockedInputs);
}
void binary(const std::string& name, B f) {
  registerOp(name, [f](const Tensors& in, const Attrs&) { return Tensors{f(in.at(0), in.at(1))}; });
}
at::Tensor floatOf(const at::Tensor& x) { return x.is_floating_point() ? x : x.to(at::kFloat); }
}  // namespace

void registerElementwise() {
  unary("Abs", [](auto& x) { return at::abs(x); });
  unary("Acos", [](auto& x) { return at::acos(floatOf(x)); });
  unary("Acosh", [](auto& x) { return at::acosh(floatOf(x)); });
  unary("Asin", [](auto& x) { return at::asin(floatOf(x)); });
  unary("Asinh", [](auto& x) { return at::asinh(floatOf(x)); });
  unary("Atan", [](auto& x) { return at::atan(floatOf(x)); });
  unary("Atanh", [](auto& x) { return at::atanh(floatOf(x)); });
  unary("Ceil", [](auto& x) { return at::ceil(x); });
  unary("Cos", [](auto& x) { return at::cos(floatOf(x)); });
  unary("Cosh", [](auto& x) { return at::cosh(floatOf(x)); });
  unary("Elu", [](auto& x) { return at::elu(x); });
  unary("Erf", [](auto& x) { return at::erf(floatOf(x)); });
  unary("Exp", [](auto& x) { return at::exp(floatOf(x)); });
  unary("Expm1", [](auto& x) { return at::expm1(floatOf(x)); });
  unary("Floor", [](auto& x) { return at::floor(x); });
  unary("IsNan", [](auto& x) { return at::isnan(x); });
  unary("IsInf", [](auto& x) { return at::isinf(x); });
  unary("IsFinite", [](auto& x) { return at::isfinite(x); });
  unary("Log", [](auto& x) { return at::log(floatOf(x)); });
  unary("Log1p", [](auto& x) { return at::log1p(floatOf(x)); });
  unary("LogicalNot", [](auto& x) { return at::logical_not(x); });
  unary("Neg", [](auto& x) { return at::neg(x); });
  unary("Reciprocal", [](auto& x) { return at::reciprocal(floatOf(x)); });
  unary("Relu", [](auto& x) { return at::relu(x); }, 1u);  // oneDNN runs these on blocked tensors too
  unary("Relu6", [](auto& x) { return clip(x, 0, 6); }, 1u);
  unary("Round", [](auto& x) { return at::round(x); });
  unary("Rsqrt", [](auto& x) { return at::rsqrt(floatOf(x)); });
  unary("Selu", [](auto& x) { return at::selu(x); });
  unary("Sigmoid", [](auto& x) { return at::sigmoid(floatOf(x)); }, 1u);  // oneDNN runs these on blocked tensors too
  unary("Sign", [](auto& x) { return at::sign(x); });
  unary("Sin", [](auto& x) { return at::sin(floatOf(x)); });
  unary("Sinh", [](auto& x) { return at::sinh(floatOf(x)); });
  unary("Softplus", [](auto& x) { return at::softplus(x, 1, 20); });
  unary("Sqrt", [](auto& x) { return at::sqrt(floatOf(x)); });
  unary("Square", [](auto& x) { return at::mul(x, x); });
  unary("Tan", [](auto& x) { return at::tan(floatOf(x)); });
  unary("Tanh", [](auto& x) { return at::tanh(floatOf(x)); }, 1u);  // oneDNN runs these on blocked tensors too
  unary("Identity", [](auto& x) { return x; });
  unary("ZerosLike", [](auto& x) { return at::zeros_like(x, at::MemoryFormat::Preserve); });
  unary("OnesLike", [](auto& x) { return at::ones_like(x, at::MemoryFormat::Preserve); });
  // Step: tfjs returns 1 for x > 0, alpha for x <= 0, and keeps NaN (both comparisons false).
  registerOp("Step", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(0);
    auto one = at::scalar_tensor(1, x.options()), alpha = at::scalar_tensor(a.at(0), x.options());
    return Tensors{at::where(x > 0, one, at::where(x <= 0, alpha, x))};
  });
  registerOp("LeakyRelu", [](const Tensors& in, const Attrs& a) { return Tensors{at::leaky_relu(in.at(0), a.at(0))}; });
  registerOp("ClipByValue", [](const Tensors& in, const Attrs& a) { return Tensors{clip(in.at(0), a.at(0), a.at(1))}; }, 1u);
  registerOp("Cast", [](const Tensors& in, const Attrs& a) { return Tensors{in.at(0).to(dtypeOf(static_cast<int>(a.at(0))))}; });

  // a residual sum of two blocked activations stays blocked; any other mix is added dense
  registerOp(
      "Add",
      [](const Tensors& in, const Attrs&) {
        const auto &a = in.at(0), &b = in.at(1);
        if (isBlocked(a) && isBlocked(b) && a.sizes() == b.sizes()) return Tensors{at::add(a, b)};
        return Tensors{at::add(denseNHWC(a), denseNHWC(b))};
      },
      3u);
  binary("Sub", [](auto& a, auto& b) { return at::sub(a, b); });
  binary("Multiply", [](auto& a, auto& b) { return at::mul(a, b); });
  binary("RealDiv", [](auto& a, auto& b) { return at::div(a, b); });
  binary("FloorDiv", [](auto& a, auto& b) { return at::div(a, b, "floor"); });
  binary("Mod", [](auto& a, auto& b) { return at::remainder(a, b); });
  binary("Maximum", [](auto& a, auto& b) { return at::maximum(a, b); });
  binary("Minimum", [](auto& a, auto& b) { return at::minimum(a, b); });
  binary("Pow", [](auto& a, auto& b) { return at::pow(a, b); });
  binary("Atan2", [](auto& a, auto& b) { return at::atan2(floatOf(a), floatOf(b)); });
  binary("SquaredDifference", [](auto& a, auto& b) { auto d = at::sub(a, b); return d.mul_(d); });
  binary("Equal", [](auto& a, auto& b) { return at::eq(a, b); });
  binary("NotEqual", [](auto& a, auto& b) { return at::ne(a, b); });
  binary("Less", [](auto& a, auto& b) { return at::lt(a, b); });
  binary("LessEqual", [](auto& a, auto& b) { return at::le(a, b); });
  binary("Greater", [](auto& a, auto& b) { return at::gt(a, b); });
  binary("GreaterEqual", [](auto& a, auto& b) { return at::ge(a, b); });
  binary("LogicalAnd", [](auto& a, auto& b) { return at::logical_and(a, b); });
  binary("LogicalOr", [](auto& a, auto& b) { return at::logical_or(a, b); });
  binary("LogicalXor", [](auto& a, auto& b) { return at::logical_xor(a, b); });
  binary("Prelu", [](auto& x, auto& alpha) { return at::where(x < 0, x * alpha, x); });
  binary("EluGrad", [](auto& dy, auto& y) { return at::where(y < 0, dy * (y + 1), dy); });
  registerOp("AddN", [](const Tensors& in, const Attrs&) {
    auto acc = in.at(0).clone(at::MemoryFormat::Preserve);
    for (size_t i = 1; i < in.size(); ++i) acc.add_(in[i]);
    return Tensors{acc};
  });
  registerOp("Select", [](const Tensors& in, const Attrs&) { return Tensors{at::where(in.at(0).to(at::kBool), in.at(1), in.at(2))}; });
}

}  // namespace ap
