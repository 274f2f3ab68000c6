// Shape and data-movement ops. Reshape, transpose and slice return views where libtorch can.
#include "registry.h"

namespace ap {

void registerShape() {
  // tfjs reshapes to the same shape around batch norm: a blocked tensor then stays blocked
  registerOp(
      "Reshape",
      [](const Tensors& in, const Attrs& a) {
        const auto shape = ints(a, 0, a.size());
        if (isBlocked(in.at(0)) && shape == logicalSizes(in[0])) return Tensors{in[0]};
        return Tensors{denseNHWC(in.at(0)).reshape(shape)};
      },
      1u);
  registerOp("Transpose", [](const Tensors& in, const Attrs& a) { return Tensors{in.at(0).permute(ints(a, 0, a.size()))}; });
  // attrs: begin[r], size[r]
  registerOp("Slice", [](const Tensors& in, const Attrs& a) {
    auto x = in.at(0);
    auto r = static_cast<size_t>(x.dim());
    for (size_t d = 0; d < r; ++d) {
      auto b = static_cast<int64_t>(a.at(d)), s = static_cast<int64_t>(a.at(r + d));
      x = x.narrow(static_cast<int64_t>(d), b, s);
    }
    return Tensors{x};
  });
  registerOp("Concat", [](const Tensors& in, const Attrs& a) { return Tensors{at::cat(in, static_cast<int64_t>(a.at(0)))}; });
  registerOp("Pack", [](const Tensors& in, const Attrs& a) { return Tensors{at::stack(in, static_cast<int64_t>(a.at(0)))}; });
  registerOp("Unpack", [](const Tensors& in, const Attrs& a) { return at::unbind(in.at(0), static_cast<int64_t>(a.at(0))); });
  // attrs: axis, sizes...
  registerOp("SplitV", [](const Tensors& in, const Attrs& a) {
    return at::split_with_sizes(in.at(0), ints(a, 1, a.size() - 1), static_cast<int64_t>(a.at(0)));
  });
  // attrs: constant, (before, after) per dim in tfjs order
  registerOp("PadV2", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(0);
    std::vector<int64_t> pad;  // libtorch wants the last dim first
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      pad.push_back(static_cast<int64_t>(a.at(1 + 2 * d)));
      pad.push_back(static_cast<int64_t>(a.at(2 + 2 * d)));
    }
    return Tensors{at::constant_pad_nd(x, pad, a.at(0))};
  });
  registerOp("Tile", [](const Tensors& in, const Attrs& a) { return Tensors{in.at(0).repeat(ints(a, 0, a.size()))}; });
  registerOp("Reverse", [](const Tensors& in, const Attrs& a) { return Tensors{at::flip(in.at(0), ints(a, 0, a.size()))}; });
  // GatherV2 with batchDims = 0: out = x.shape[:axis] + indices.shape + x.shape[axis+1:]
  registerOp("GatherV2", [](const Tensors& in, const Attrs& a) {
    const auto& x = in.at(0);
    const auto& idx = in.at(1);
    auto axis = static_cast<int64_t>(a.at(0));
    auto flat = at::index_select(x, axis, idx.reshape({-1}).to(at::kLong));
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    for (auto s : idx.sizes()) shape.push_back(s);
    for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
    return Tensors{flat.reshape(shape)};
  });
  // attrs: depth, onValue, offValue, dtype. Out-of-range indices give an all-off row, as in tfjs.
  registerOp("OneHot", [](const Tensors& in, const Attrs& a) {
    auto depth = static_cast<int64_t>(a.at(0));
    auto dtype = dtypeOf(static_cast<int>(a.at(3)));
    auto hot = at::eq(in.at(0).to(at::kLong).unsqueeze(-1), at::arange(depth, at::kLong));
    auto on = at::scalar_tensor(a.at(1), dtype), off = at::scalar_tensor(a.at(2), dtype);
    return Tensors{at::where(hot, on, off)};
  });
  // attrs: dtype, value, shape...
  registerOp("Fill", [](const Tensors&, const Attrs& a) {
    return Tensors{at::full(ints(a, 2, a.size() - 2), a.at(1), at::TensorOptions().dtype(dtypeOf(static_cast<int>(a.at(0)))))};
  });
}

}  // namespace ap
