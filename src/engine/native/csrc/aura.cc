// Native spatial-aura counting (src/info/spatial_mi.ts is the reference and the fallback): joint
// aura entropies H_aura(X_cx, Y_cy) for every (parent channel, child channel) pair of two uint8 label
// stacks on one lattice, over a list of neighbour pairs (edges): every edge of the lattice (exact) or
// a seeded sample per image. No libtorch or tfjs on this path.
//
// Why it is fast:
// - The joint aura matrix is symmetric (each neighbour pair is counted in both orders), so one order
//   is counted and the matrix is symmetrised inside the entropy: half the increments.
// - The table index of an edge (s, t) is z_s * G^2 + z_t with z = x * G + y, which splits into a
//   parent part x_s * G^3 + x_t * G and a child part y_s * G^2 + y_t. Parent parts are computed once
//   per parent filter, child parts once per child filter (when they fit in memory), so the inner loop
//   is two sequential loads, an add and one increment into a G^4 table (16 KB at G = 8: L1).
// - Two parent filters are counted together, each into its own table: a child's codes are read once for
//   both, and ReLU maps, which put most pixels on label 0, do not make consecutive increments of one
//   counter wait on each other (a lone last row alternates two tables for the same reason).
// - Parent channels are split across std::threads; the result does not depend on the thread count.
#include <napi.h>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ap {
namespace {

struct Job {
  const uint8_t* x; const uint8_t* y;
  int64_t cy, n, hw, G;
  const int32_t* pairs; int64_t k; bool perImage;  // edges: (s, t) pixel pairs, k per image
  const void* childCodes;                            // cy x n x k codes, or null (computed per child)
  const int32_t* rows; int64_t nrows;
  double bias;                                       // Miller-Madow scale (0: none)
  double* out;                                       // nrows x cy
  double* hx;                                        // nrows: marginal entropies of the rows
  double* hy;                                        // cy: marginal entropies of the children
};

// c log c for the counts most cells hold: the entropy scan of a G^4 table would otherwise spend more
// time in log() than the counting on small lattices (3x3 maps, 12 edges per image).
struct XLogX {
  std::vector<double> t;
  explicit XLogX(int64_t maxCount) : t(static_cast<size_t>(std::min<int64_t>(maxCount, 1 << 16) + 1)) {
    for (size_t c = 1; c < t.size(); ++c) t[c] = static_cast<double>(c) * std::log(static_cast<double>(c));
  }
  double operator()(uint64_t c) const { return c < t.size() ? t[c] : static_cast<double>(c) * std::log(static_cast<double>(c)); }
};

// Entropy of the symmetrised table S = U + U^T of one-order counts U = A + B (G2 x G2, two tables of
// alternate edges), i.e. of the aura matrix counting both orders, total 2 * edges, plus
// bias * (m - 1) / (2 edges), m the occupied unordered cells (Miller-Madow, scaled; spatial_mi.ts
// samplingBias says why). B may be null.
double symmetricEntropy(const uint32_t* A, const uint32_t* B, int64_t G2, double edges, double bias, const XLogX& xl) {
  // branch-free over empty cells (xl(0) = 0): most cells of a sparse table are empty in no fixed pattern
  double s = 0;
  int64_t occupied = 0;
  auto u = [&](int64_t i) -> uint64_t { return static_cast<uint64_t>(A[i]) + (B ? B[i] : 0u); };
  for (int64_t a = 0; a < G2; ++a) {
    const uint64_t d = 2 * u(a * G2 + a);
    s += xl(d);
    occupied += d != 0;
    for (int64_t b = a + 1; b < G2; ++b) {
      const uint64_t c = u(a * G2 + b) + u(b * G2 + a);
      s += 2 * xl(c);
      occupied += c != 0;
    }
  }
  if (edges <= 0) return 0.0;
  const double total = 2 * edges;
  const double h = std::log(total) - s / total;
  return h + bias * static_cast<double>(occupied - 1) / (2 * edges);
}

inline const int32_t* edgesOf(const Job& j, int64_t i) { return j.pairs + (j.perImage ? i * 2 * j.k : 0); }

template <typename Code>
void childCodes(const Job& j, int64_t cy, int64_t i, Code* dst) {
  const uint8_t* ym = j.y + (cy * j.n + i) * j.hw;
  const int32_t* e = edgesOf(j, i);
  const uint32_t G2 = static_cast<uint32_t>(j.G * j.G);
  for (int64_t q = 0; q < j.k; ++q) dst[q] = static_cast<Code>(ym[e[2 * q]] * G2 + ym[e[2 * q + 1]]);
}

// Marginal aura entropy of one channel of a stack over the edges (one-order G x G counts).
double marginalEntropy(const Job& j, const uint8_t* stack, int64_t c, const XLogX& xl) {
  std::vector<uint32_t> u(j.G * j.G, 0u);
  for (int64_t i = 0; i < j.n; ++i) {
    const uint8_t* m = stack + (c * j.n + i) * j.hw;
    const int32_t* e = edgesOf(j, i);
    for (int64_t q = 0; q < j.k; ++q) ++u[m[e[2 * q]] * j.G + m[e[2 * q + 1]]];
  }
  return symmetricEntropy(u.data(), nullptr, j.G, static_cast<double>(j.n * j.k), j.bias, xl);
}

// Phase 1 (children t, t + T, ...): their codes, when precomputed, and their marginal entropies.
template <typename Code>
void prepareChildren(const Job& j, Code* codes, int t, int T) {
  const XLogX xl(2 * j.n * j.k);
  for (int64_t c = t; c < j.cy; c += T) {
    if (codes)
      for (int64_t i = 0; i < j.n; ++i) childCodes(j, c, i, codes + (c * j.n + i) * j.k);
    j.hy[c] = marginalEntropy(j, j.y, c, xl);
  }
}

// Rows r = t, t + T, t + 2T, ... of the job (interleaved, so uneven rows balance), two at a time: each
// child's codes are then read once for two parents (they stream from memory on wide layers) and the
// two rows' increments go to different tables, so a hot cell's increments do not wait on each other.
// Code is uint16_t when G^4 <= 65536 (G <= 16): half the memory traffic of the inner loop.
template <typename Code>
void work(const Job& j, int t, int T) {
  const int64_t G2 = j.G * j.G, size = G2 * G2, k = j.k;
  const uint32_t G = static_cast<uint32_t>(j.G), G3 = G * G * G;
  std::vector<uint32_t> acc(2 * size);
  const XLogX xl(2 * j.n * k);
  std::vector<Code> pe(2 * j.n * k), tmp(j.childCodes ? 0 : k);
  uint32_t* A = acc.data();
  uint32_t* B = acc.data() + size;
  const double edges = static_cast<double>(j.n * k);
  std::vector<int64_t> mine;
  for (int64_t r = t; r < j.nrows; r += T) mine.push_back(r);
  for (size_t m = 0; m < mine.size(); m += 2) {
    const bool two = m + 1 < mine.size();
    for (int h = 0; h < (two ? 2 : 1); ++h) {
      const int64_t r = mine[m + h], cx = j.rows[r];
      j.hx[r] = marginalEntropy(j, j.x, cx, xl);
      for (int64_t i = 0; i < j.n; ++i) {
        const uint8_t* xm = j.x + (cx * j.n + i) * j.hw;
        const int32_t* e = edgesOf(j, i);
        Code* p = pe.data() + (h * j.n + i) * k;
        for (int64_t q = 0; q < k; ++q) p[q] = static_cast<Code>(xm[e[2 * q]] * G3 + xm[e[2 * q + 1]] * G);
      }
    }
    for (int64_t cy = 0; cy < j.cy; ++cy) {
      std::fill(acc.begin(), acc.end(), 0u);
      for (int64_t i = 0; i < j.n; ++i) {
        const Code* c;
        if (j.childCodes) c = static_cast<const Code*>(j.childCodes) + (cy * j.n + i) * k;
        else { childCodes(j, cy, i, tmp.data()); c = tmp.data(); }
        const Code* p0 = pe.data() + i * k;
        if (two) {
          const Code* p1 = pe.data() + (j.n + i) * k;
          for (int64_t q = 0; q < k; ++q) {
            const Code cq = c[q];
            ++A[p0[q] + cq];
            ++B[p1[q] + cq];
          }
        } else {
          int64_t q = 0;
          for (; q + 1 < k; q += 2) {
            ++A[p0[q] + c[q]];
            ++B[p0[q + 1] + c[q + 1]];
          }
          if (q < k) ++A[p0[q] + c[q]];
        }
      }
      if (two) {
        j.out[mine[m] * j.cy + cy] = symmetricEntropy(A, nullptr, G2, edges, j.bias, xl);
        j.out[mine[m + 1] * j.cy + cy] = symmetricEntropy(B, nullptr, G2, edges, j.bias, xl);
      } else {
        j.out[mine[m] * j.cy + cy] = symmetricEntropy(A, B, G2, edges, j.bias, xl);
      }
    }
  }
}

// Child codes of every (child, image) are precomputed when they take at most this much memory.
constexpr int64_t kChildCodeBudget = int64_t{256} << 20;

}  // namespace

// auraJointEntropies(x, y, cy, n, h, w, G, pairs Int32Array, k, perImage, rows Int32Array, threads,
//                    bias)
//   -> { entropies: Float64Array(rows.length * cy) joint, hx: Float64Array(rows.length) and
//        hy: Float64Array(cy) marginal, updates (ordered neighbour pairs of the joint counts) }
Napi::Value AuraJointEntropies(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() != 13 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[7].IsTypedArray() || !info[10].IsTypedArray())
    throw Napi::TypeError::New(env, "auraJointEntropies(x, y, cy, n, h, w, G, pairs, k, perImage, rows, threads, bias)");
  auto xa = info[0].As<Napi::Uint8Array>(), ya = info[1].As<Napi::Uint8Array>();
  auto pa = info[7].As<Napi::Int32Array>(), ra = info[10].As<Napi::Int32Array>();
  Job j;
  j.x = xa.Data(); j.y = ya.Data();
  j.cy = info[2].As<Napi::Number>().Int64Value();
  j.n = info[3].As<Napi::Number>().Int64Value();
  const int64_t h = info[4].As<Napi::Number>().Int64Value(), w = info[5].As<Napi::Number>().Int64Value();
  j.hw = h * w;
  j.G = info[6].As<Napi::Number>().Int64Value();
  j.pairs = pa.Data();
  j.k = info[8].As<Napi::Number>().Int64Value();
  j.perImage = info[9].As<Napi::Boolean>().Value();
  j.rows = ra.Data(); j.nrows = static_cast<int64_t>(ra.ElementLength());
  const int threads = std::max(1, info[11].As<Napi::Number>().Int32Value());
  j.bias = info[12].As<Napi::Number>().DoubleValue();
  // G <= 32 keeps the G^4 table (4 MB) and every code below 2^32
  if (j.G < 1 || j.G > 32 || h < 1 || w < 1 || j.n < 1 || j.cy < 1 || j.k < 0) throw Napi::RangeError::New(env, "auraJointEntropies: bad sizes");
  if (static_cast<int64_t>(ya.ElementLength()) != j.cy * j.n * j.hw) throw Napi::RangeError::New(env, "auraJointEntropies: y size mismatch");
  const int64_t cx = static_cast<int64_t>(xa.ElementLength()) / (j.n * j.hw);
  if (cx * j.n * j.hw != static_cast<int64_t>(xa.ElementLength())) throw Napi::RangeError::New(env, "auraJointEntropies: x size mismatch");
  if (static_cast<int64_t>(pa.ElementLength()) != 2 * j.k * (j.perImage ? j.n : 1)) throw Napi::RangeError::New(env, "auraJointEntropies: pairs size mismatch");
  for (size_t q = 0; q < pa.ElementLength(); ++q)
    if (j.pairs[q] < 0 || j.pairs[q] >= j.hw) throw Napi::RangeError::New(env, "auraJointEntropies: pixel index out of range");
  for (int64_t r = 0; r < j.nrows; ++r) if (j.rows[r] < 0 || j.rows[r] >= cx) throw Napi::RangeError::New(env, "auraJointEntropies: row out of range");
  // labels must be < G (a larger one would index past the table)
  for (const auto* a : {&xa, &ya})
    for (size_t q = 0; q < a->ElementLength(); ++q) if ((*a)[q] >= j.G) throw Napi::RangeError::New(env, "auraJointEntropies: label >= G");
  auto out = Napi::Float64Array::New(env, static_cast<size_t>(j.nrows * j.cy));
  auto hx = Napi::Float64Array::New(env, static_cast<size_t>(j.nrows));
  auto hy = Napi::Float64Array::New(env, static_cast<size_t>(j.cy));
  j.out = out.Data(); j.hx = hx.Data(); j.hy = hy.Data();
  const int T = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(1, j.nrows)));
  auto run = [&](auto zero) {
    using Code = decltype(zero);
    std::vector<Code> codes;
    j.childCodes = nullptr;
    if (j.cy * j.n * j.k * static_cast<int64_t>(sizeof(Code)) <= kChildCodeBudget) codes.resize(static_cast<size_t>(j.cy * j.n * j.k));
    Code* cp = codes.empty() ? nullptr : codes.data();
    const int T1 = static_cast<int>(std::min<int64_t>(threads, j.cy));
    std::vector<std::thread> pool;
    for (int t = 1; t < T1; ++t) pool.emplace_back([&, t] { prepareChildren<Code>(j, cp, t, T1); });
    prepareChildren<Code>(j, cp, 0, T1);
    for (auto& th : pool) th.join();
    pool.clear();
    j.childCodes = cp;
    for (int t = 1; t < T; ++t) pool.emplace_back([&, t] { work<Code>(j, t, T); });
    work<Code>(j, 0, T);
    for (auto& th : pool) th.join();
  };
  if (j.G <= 16) run(uint16_t{0});
  else run(uint32_t{0});
  auto res = Napi::Object::New(env);
  res.Set("entropies", out);
  res.Set("hx", hx);
  res.Set("hy", hy);
  res.Set("updates", 2.0 * static_cast<double>(j.nrows) * static_cast<double>(j.cy) * static_cast<double>(j.n * j.k));
  return res;
}

}  // namespace ap
