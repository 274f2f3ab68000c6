// Native spatial-aura counting (src/info/spatial_mi.ts is the reference and the fallback): joint
// aura entropies H_aura(X_cx, Y_cy) for every (parent channel, child channel) pair of two uint8 label
// stacks on one lattice. Per pair, one G^4 table of uint32 counts (16 KB at G = 8, so it stays in L1)
// accumulates, for every image and every neighbour displacement, both orders of each neighbouring
// pair of joint labels z = x * G + y; its entropy is then log T - (1/T) sum c log c. Parent channels
// are split across std::threads; the result does not depend on the thread count (integer counts).
// No libtorch or tfjs on this path.
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
  int64_t cy, n, h, w, G;
  std::vector<int32_t> disp;  // (dy, dx) pairs, half neighbourhood
  const int32_t* rows; int64_t nrows;
  double* out;                // nrows x cy
  int threads;
};

double entropy(const uint32_t* acc, int64_t size) {
  double total = 0, s = 0;
  for (int64_t k = 0; k < size; ++k) {
    const uint32_t c = acc[k];
    if (c) { const double d = c; total += d; s += d * std::log(d); }
  }
  return total > 0 ? std::log(total) - s / total : 0.0;
}

// Rows r = t, t + T, t + 2T, ... of the job (interleaved, so uneven rows balance).
int64_t work(const Job& j, int t, int T) {
  const int64_t hw = j.h * j.w, G2 = j.G * j.G, size = G2 * G2;
  std::vector<uint32_t> acc(size);
  std::vector<uint16_t> z(hw);
  int64_t updates = 0;
  for (int64_t r = t; r < j.nrows; r += T) {
    const int64_t cx = j.rows[r];
    for (int64_t cy = 0; cy < j.cy; ++cy) {
      std::fill(acc.begin(), acc.end(), 0u);
      for (int64_t i = 0; i < j.n; ++i) {
        const uint8_t* xm = j.x + (cx * j.n + i) * hw;
        const uint8_t* ym = j.y + (cy * j.n + i) * hw;
        for (int64_t s = 0; s < hw; ++s) z[s] = static_cast<uint16_t>(xm[s] * j.G + ym[s]);
        for (size_t d = 0; d + 1 < j.disp.size(); d += 2) {
          const int64_t dy = j.disp[d], dx = j.disp[d + 1];
          const int64_t x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? j.w - dx : j.w;
          for (int64_t row = 0; row + dy < j.h; ++row) {
            const uint16_t* a = z.data() + row * j.w;
            const uint16_t* b = z.data() + (row + dy) * j.w + dx;
            for (int64_t c = x0; c < x1; ++c) {
              ++acc[static_cast<int64_t>(a[c]) * G2 + b[c]];
              ++acc[static_cast<int64_t>(b[c]) * G2 + a[c]];
            }
            updates += 2 * (x1 > x0 ? x1 - x0 : 0);
          }
        }
      }
      j.out[r * j.cy + cy] = entropy(acc.data(), size);
    }
  }
  return updates;
}

}  // namespace

// auraJointEntropies(x, y, cy, n, h, w, G, disp Int32Array, rows Int32Array, threads)
//   -> { entropies: Float64Array(rows.length * cy), updates }
Napi::Value AuraJointEntropies(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() != 10 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[7].IsTypedArray() || !info[8].IsTypedArray())
    throw Napi::TypeError::New(env, "auraJointEntropies(x, y, cy, n, h, w, G, disp, rows, threads)");
  auto xa = info[0].As<Napi::Uint8Array>(), ya = info[1].As<Napi::Uint8Array>();
  auto da = info[7].As<Napi::Int32Array>(), ra = info[8].As<Napi::Int32Array>();
  Job j;
  j.x = xa.Data(); j.y = ya.Data();
  j.cy = info[2].As<Napi::Number>().Int64Value();
  j.n = info[3].As<Napi::Number>().Int64Value();
  j.h = info[4].As<Napi::Number>().Int64Value();
  j.w = info[5].As<Napi::Number>().Int64Value();
  j.G = info[6].As<Napi::Number>().Int64Value();
  j.disp.assign(da.Data(), da.Data() + da.ElementLength());
  j.rows = ra.Data(); j.nrows = static_cast<int64_t>(ra.ElementLength());
  j.threads = std::max(1, info[9].As<Napi::Number>().Int32Value());
  const int64_t hw = j.h * j.w;
  if (j.G < 1 || j.G > 255 || j.G * j.G > 65535 || hw < 1 || j.n < 1 || j.cy < 1) throw Napi::RangeError::New(env, "auraJointEntropies: bad sizes");
  if (static_cast<int64_t>(ya.ElementLength()) != j.cy * j.n * hw) throw Napi::RangeError::New(env, "auraJointEntropies: y size mismatch");
  const int64_t cx = static_cast<int64_t>(xa.ElementLength()) / (j.n * hw);
  if (cx * j.n * hw != static_cast<int64_t>(xa.ElementLength())) throw Napi::RangeError::New(env, "auraJointEntropies: x size mismatch");
  for (int64_t r = 0; r < j.nrows; ++r) if (j.rows[r] < 0 || j.rows[r] >= cx) throw Napi::RangeError::New(env, "auraJointEntropies: row out of range");
  for (size_t d = 0; d + 1 < j.disp.size(); d += 2)
    if (j.disp[d] < 0 || j.disp[d] > 65535 || std::abs(j.disp[d + 1]) > 65535) throw Napi::RangeError::New(env, "auraJointEntropies: displacement out of range");
  // labels must be < G (a larger one would index past the table)
  for (const auto* a : {&xa, &ya})
    for (size_t k = 0; k < a->ElementLength(); ++k) if ((*a)[k] >= j.G) throw Napi::RangeError::New(env, "auraJointEntropies: label >= G");
  auto out = Napi::Float64Array::New(env, static_cast<size_t>(j.nrows * j.cy));
  j.out = out.Data();
  const int T = static_cast<int>(std::min<int64_t>(j.threads, std::max<int64_t>(1, j.nrows)));
  std::vector<int64_t> counts(T, 0);
  std::vector<std::thread> pool;
  for (int t = 1; t < T; ++t) pool.emplace_back([&, t] { counts[t] = work(j, t, T); });
  counts[0] = work(j, 0, T);
  for (auto& th : pool) th.join();
  double updates = 0;
  for (auto c : counts) updates += static_cast<double>(c);
  auto res = Napi::Object::New(env);
  res.Set("entropies", out);
  res.Set("updates", updates);
  return res;
}

}  // namespace ap
