// Shared declarations for the auraprune native addon: the op signature and the
// registry every ops_*.cc file adds to. Kept tiny so each op family stays in its own file.
#pragma once
#include <ATen/ATen.h>
#include <functional>
#include <string>
#include <vector>

namespace ap {

using Tensors = std::vector<at::Tensor>;
using Attrs = std::vector<double>;
// An op takes input tensors (undefined for an absent optional input) and numeric attributes,
// and returns its outputs. Tensors are in tfjs's logical layout (NHWC, HWIO); any strides.
using OpFn = std::function<Tensors(const Tensors&, const Attrs&)>;

// `blockedInputs`: bit i set = input i may arrive in oneDNN's blocked layout (below); every other
// input is handed to the op dense.
void registerOp(const std::string& name, OpFn fn, unsigned blockedInputs = 0);

// Registration hooks, one per op family (called once from binding.cc).
void registerElementwise();
void registerReduce();
void registerShape();
void registerConv();
void registerPool();
void registerMisc();
void registerGrad();

// tfjs dtype codes shared with native.ts: 0 float32, 1 int32, 2 bool.
at::ScalarType dtypeOf(int code);
int codeOf(at::ScalarType t);
// Maps a libtorch result to a tfjs dtype (int64 -> int32, float64 -> float32).
at::Tensor normalise(const at::Tensor& t);

inline std::vector<int64_t> ints(const Attrs& a, size_t from, size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(a.at(from + i));
  return v;
}

// NHWC <-> NCHW and HWIO <-> OIHW are views (no copy).
inline at::Tensor toNCHW(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
inline at::Tensor toNHWC(const at::Tensor& x) { return x.permute({0, 2, 3, 1}); }
inline at::Tensor toOIHW(const at::Tensor& w) { return w.permute({3, 2, 0, 1}); }
inline at::Tensor toHWIO(const at::Tensor& w) { return w.permute({2, 3, 1, 0}); }

// Memory format the convolution, pooling and batch-norm gradient kernels run in: contiguous NCHW
// (default) or channels_last, which is NHWC in memory, tfjs's own layout, so a tensor from JS or from a
// previous channels_last kernel needs no copy at either end. Set by AURAPRUNE_LAYOUT=channels_last or
// setLayout() (binding.cc).
at::MemoryFormat& layout();
// Copies made to bring an operand into layout() (counted so tests can assert a chain makes none).
int64_t& layoutCopies();
// A size-1 dimension makes strides ambiguous: NHWC with C == 1 permuted to NCHW has strides
// (HW, 1, W, 1), which is_contiguous() accepts, yet libtorch's kernels read it as channels_last and
// mix formats (wrong, even infinite, gradients for a grayscale model's first conv). Such a view gets
// the layout's canonical strides (same memory, no copy).
inline at::Tensor canonicalStrides(const at::Tensor& v) {
  if (v.dim() != 4) return v;
  const auto n = v.sizes();
  bool one = false;
  for (auto d : n) one = one || d == 1;
  if (!one) return v;
  std::vector<int64_t> st = layout() == at::MemoryFormat::ChannelsLast
                                ? std::vector<int64_t>{n[1] * n[2] * n[3], 1, n[3] * n[1], n[1]}
                                : std::vector<int64_t>{n[1] * n[2] * n[3], n[2] * n[3], n[3], 1};
  return v.as_strided(n, st, v.storage_offset());
}
inline at::Tensor asNCHW(const at::Tensor& x) {
  auto v = toNCHW(x);
  if (v.is_contiguous(layout())) return canonicalStrides(v);
  ++layoutCopies();
  return v.contiguous(layout());
}

// Inference activations (no gradient tape) may stay in oneDNN's blocked layout between convolution,
// batch-norm, pooling and activation ops: an opaque "mkldnn" tensor, logically NCHW, that tfjs sees as
// NHWC. at::convolution on dense tensors reorders input, weights and output on every call; a chain of
// blocked ops reorders once at each end. Ops not registered for blocked inputs get a dense NHWC view
// (binding.cc converts, once per tensor).
inline bool isBlocked(const at::Tensor& t) { return t.defined() && t.is_mkldnn(); }
// Whether Conv2DInfer starts blocked chains (AURAPRUNE_BLOCKED=0 or setBlockedInference(false): no).
bool& blockedInference();
// Conversions between dense and blocked so far (tests assert a chain makes none in between).
struct Reorders { int64_t toBlocked = 0, toDense = 0; };
Reorders& reorders();
inline at::Tensor denseNHWC(const at::Tensor& t) {
  if (!isBlocked(t)) return t;
  ++reorders().toDense;
  return t.to_dense().permute({0, 2, 3, 1});
}
inline at::Tensor toBlocked(const at::Tensor& nhwc) {
  ++reorders().toBlocked;
  return nhwc.permute({0, 3, 1, 2}).contiguous().to_mkldnn();
}
// Clip (ReLU6, ClipByValue) of a blocked tensor without leaving the layout: oneDNN's eltwise clip
// through ideep, when the addon was built against Debian's libtorch with libideep-dev/libdnnl-dev
// (ATen 1.13 has no blocked clamp; each ReLU6 of a MobileNet otherwise converts out and back).
bool blockedClipAvailable();
at::Tensor blockedClip(const at::Tensor& x, double lo, double hi);
// tfjs's (NHWC) sizes of a tensor, blocked or not.
inline std::vector<int64_t> logicalSizes(const at::Tensor& t) {
  auto s = t.sizes().vec();
  return isBlocked(t) ? std::vector<int64_t>{s[0], s[2], s[3], s[1]} : s;
}

// Converted convolution weights currently cached (ops_conv.cc).
int64_t weightCacheEntries();
// Max-pool gradients that reused the forward pass's argmax positions (ops_pool.cc), for tests.
inline int64_t& argmaxReuses() {
  static int64_t n = 0;  // ops run on the JS thread only
  return n;
}

// Fused activation codes shared with native.ts.
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kSigmoid = 4, kLeakyRelu = 5, kPrelu = 6 };
at::Tensor applyActivation(at::Tensor y, int act, const at::Tensor& preluWeights, double leakyAlpha);

}  // namespace ap
