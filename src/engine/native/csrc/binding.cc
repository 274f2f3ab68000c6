// N-API surface of the auraprune addon. Thin on purpose: it owns the table that maps integer
// handles to libtorch tensors, checks argument types at the boundary, and dispatches ops by code.
// libtorch errors become JS exceptions carrying libtorch's message (never a process crash).
#include <napi.h>
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <malloc.h>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>
#include "registry.h"

namespace ap {

namespace {
struct OpEntry { std::string name; OpFn fn; unsigned blockedInputs; };
std::vector<OpEntry>& ops() { static std::vector<OpEntry> v; return v; }

// Handle table: slot i holds a tensor while live; freed slots are reused.
std::vector<at::Tensor> table;
std::vector<int32_t> freeSlots;
int64_t live = 0;

int32_t put(at::Tensor t) {
  ++live;
  if (!freeSlots.empty()) { int32_t id = freeSlots.back(); freeSlots.pop_back(); table[id] = std::move(t); return id; }
  table.push_back(std::move(t));
  return static_cast<int32_t>(table.size() - 1);
}
const at::Tensor& get(int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(table.size()) || !table[id].defined())
    throw std::runtime_error("auraprune native: unknown tensor handle " + std::to_string(id));
  return table[id];
}

// The entry of handle `id`, converted to dense NHWC in place when it is blocked: tensors are immutable
// to tfjs, so later readers reuse the conversion instead of reordering again.
const at::Tensor& dense(int32_t id) {
  get(id);
  if (isBlocked(table[id])) table[id] = denseNHWC(table[id]);
  return table[id];
}

void ensure(bool ok, const Napi::Env& env, const char* msg) { if (!ok) throw Napi::TypeError::New(env, msg); }

template <typename F> Napi::Value guarded(const Napi::Env& env, F f) {
  try { return f(); }
  catch (const Napi::Error&) { throw; }
  catch (const c10::Error& e) { throw Napi::Error::New(env, std::string("libtorch: ") + e.what_without_backtrace()); }
  catch (const std::exception& e) { throw Napi::Error::New(env, std::string("libtorch: ") + e.what()); }
}

std::vector<int64_t> shapeArg(const Napi::Env& env, const Napi::Value& v) {
  ensure(v.IsArray(), env, "shape must be an array");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> s(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) s[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return s;
}
}  // namespace

void registerOp(const std::string& name, OpFn fn, unsigned blockedInputs) { ops().push_back({name, std::move(fn), blockedInputs}); }

at::ScalarType dtypeOf(int code) {
  switch (code) { case 0: return at::kFloat; case 1: return at::kInt; case 2: return at::kBool; }
  throw std::runtime_error("unsupported dtype code " + std::to_string(code));
}
int codeOf(at::ScalarType t) {
  switch (t) { case at::kFloat: return 0; case at::kInt: return 1; case at::kBool: return 2; default: return -1; }
}
at::Tensor normalise(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: case at::kInt: case at::kBool: return t;
    case at::kLong: case at::kShort: case at::kChar: case at::kByte: return t.to(at::kInt);
    default: return t.to(at::kFloat);
  }
}

// create(values: TypedArray, shape: number[], dtype: 0|1|2) -> handle. Copies once.
Napi::Value Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ensure(info.Length() == 3 && info[0].IsTypedArray(), env, "create(values, shape, dtype)");
  return guarded(env, [&]() -> Napi::Value {
    auto ta = info[0].As<Napi::TypedArray>();
    auto shape = shapeArg(env, info[1]);
    auto dtype = dtypeOf(info[2].As<Napi::Number>().Int32Value());
    int64_t numel = 1; for (auto d : shape) numel *= d;
    auto out = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t bytes = static_cast<size_t>(numel) * out.element_size();
    ensure(ta.ByteLength() == bytes, env, "create: values length does not match shape and dtype");
    auto* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (bytes) std::memcpy(out.data_ptr(), src, bytes);
    return Napi::Number::New(env, put(std::move(out)));
  });
}

// read(handle) -> TypedArray in logical (row-major) order; one strided copy.
Napi::Value Read(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ensure(info.Length() == 1 && info[0].IsNumber(), env, "read(handle)");
  return guarded(env, [&]() -> Napi::Value {
    const auto& t = dense(info[0].As<Napi::Number>().Int32Value());
    auto buf = Napi::ArrayBuffer::New(env, t.numel() * t.element_size());
    if (t.numel()) at::from_blob(buf.Data(), t.sizes(), t.options()).copy_(t);
    switch (t.scalar_type()) {
      case at::kFloat: return Napi::Float32Array::New(env, t.numel(), buf, 0);
      case at::kInt: return Napi::Int32Array::New(env, t.numel(), buf, 0);
      case at::kBool: return Napi::Uint8Array::New(env, t.numel(), buf, 0);
      default: throw std::runtime_error("read: unsupported dtype");
    }
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ensure(info.Length() == 1 && info[0].IsNumber(), env, "free(handle)");
  return guarded(env, [&]() -> Napi::Value {
    int32_t id = info[0].As<Napi::Number>().Int32Value();
    get(id);
    table[id] = at::Tensor();
    freeSlots.push_back(id);
    --live;
    return env.Undefined();
  });
}

// A JS array of [head?, ...values] (shapes, strides, info).
Napi::Array numbers(const Napi::Env& env, c10::IntArrayRef values, const double* head = nullptr) {
  uint32_t off = head ? 1 : 0;
  auto a = Napi::Array::New(env, values.size() + off);
  if (head) a.Set(0u, Napi::Number::New(env, *head));
  for (size_t i = 0; i < values.size(); ++i) a.Set(static_cast<uint32_t>(i + off), Napi::Number::New(env, static_cast<double>(values[i])));
  return a;
}

// shape(handle), strides(handle) (a test helper: layout changes must be views), info(handle) ->
// [dtypeCode, ...shape] (what tfjs needs to wrap an op's output).
template <typename F> Napi::Value describe(const Napi::CallbackInfo& info, const char* usage, F f) {
  auto env = info.Env();
  ensure(info.Length() == 1 && info[0].IsNumber(), env, usage);
  return guarded(env, [&]() -> Napi::Value { return f(env, get(info[0].As<Napi::Number>().Int32Value())); });
}
Napi::Value Shape(const Napi::CallbackInfo& info) {
  return describe(info, "shape(handle)", [](const Napi::Env& env, const at::Tensor& t) { return numbers(env, logicalSizes(t)); });
}
Napi::Value Strides(const Napi::CallbackInfo& info) {
  return describe(info, "strides(handle)", [](const Napi::Env& env, const at::Tensor& t) {
    if (!isBlocked(t)) return numbers(env, t.strides());
    // blocked memory has no strides; report the dense NHWC view reading it would give
    const auto s = t.sizes();
    return numbers(env, std::vector<int64_t>{s[1] * s[2] * s[3], s[3], 1, s[2] * s[3]});
  });
}
Napi::Value Info(const Napi::CallbackInfo& info) {
  return describe(info, "info(handle)", [](const Napi::Env& env, const at::Tensor& t) {
    double code = codeOf(t.scalar_type());
    return numbers(env, logicalSizes(t), &code);
  });
}

// op(code, inputHandles[], attrs[]) -> handle | handle[] (one per output).
Napi::Value Op(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ensure(info.Length() == 3 && info[0].IsNumber() && info[1].IsArray() && info[2].IsArray(), env, "op(code, inputs, attrs)");
  return guarded(env, [&]() -> Napi::Value {
    uint32_t code = info[0].As<Napi::Number>().Uint32Value();
    if (code >= ops().size()) throw std::runtime_error("unknown op code " + std::to_string(code));
    auto ia = info[1].As<Napi::Array>();
    auto aa = info[2].As<Napi::Array>();
    const unsigned blockedOk = ops()[code].blockedInputs;
    Tensors in(ia.Length());
    for (uint32_t i = 0; i < ia.Length(); ++i) {
      int32_t h = ia.Get(i).As<Napi::Number>().Int32Value();
      if (h < 0) continue;
      // an op that cannot read the blocked layout at this position gets the dense view
      in[i] = i < 32 && ((blockedOk >> i) & 1u) ? get(h) : dense(h);
    }
    Attrs attrs(aa.Length());
    for (uint32_t i = 0; i < aa.Length(); ++i) attrs[i] = aa.Get(i).As<Napi::Number>().DoubleValue();
    Tensors out;
    try { out = ops()[code].fn(in, attrs); }
    catch (const c10::Error& e) { throw std::runtime_error(ops()[code].name + ": " + e.what_without_backtrace()); }
    catch (const std::exception& e) { throw std::runtime_error(ops()[code].name + ": " + e.what()); }
    if (out.size() == 1) return Napi::Number::New(env, put(normalise(out[0])));
    auto r = Napi::Array::New(env, out.size());
    for (uint32_t i = 0; i < out.size(); ++i) r.Set(i, Napi::Number::New(env, put(normalise(out[i]))));
    return r;
  });
}

Napi::Value OpCodes(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  for (size_t i = 0; i < ops().size(); ++i) o.Set(ops()[i].name, Napi::Number::New(env, static_cast<double>(i)));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  ensure(info.Length() == 1 && info[0].IsNumber(), env, "setThreads(n)");
  return guarded(env, [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  });
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

// Bytes held by live tensors, counting each storage once (views share storage).
Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::unordered_set<const void*> seen;
  double bytes = 0;
  for (const auto& t : table) {
    if (!t.defined()) continue;
    if (isBlocked(t)) {  // opaque oneDNN memory, not shared with other tensors
      bytes += static_cast<double>(t.numel() * t.element_size());
      continue;
    }
    const auto& st = t.storage();
    if (seen.insert(st.unsafeGetStorageImpl()).second) bytes += static_cast<double>(st.nbytes());
  }
  auto o = Napi::Object::New(env);
  o.Set("bytes", bytes);
  o.Set("tensors", static_cast<double>(live));
  return o;
}

// Activation tensors of a batch-128 CNN are tens of MB. glibc serves such blocks with fresh mmaps,
// so every op pays page faults on its output (measured: a 33 MB multiply 60 ms instead of ~2 ms).
// Keeping large blocks in the heap and never trimming it lets freed activations be reused.
// AURAPRUNE_DEFAULT_MALLOC=1 keeps glibc's defaults (for comparisons).
void tuneAllocator() {
  const char* keep = std::getenv("AURAPRUNE_DEFAULT_MALLOC");
  if (keep && keep[0] == '1') return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

Napi::Value AuraJointEntropies(const Napi::CallbackInfo& info);  // aura.cc

at::MemoryFormat& layout() {
  static at::MemoryFormat f = [] {
    const char* v = std::getenv("AURAPRUNE_LAYOUT");
    return v && std::string(v) == "channels_last" ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  }();
  return f;
}

int64_t& layoutCopies() {
  static int64_t n = 0;  // ops run on the JS thread only
  return n;
}

// layoutCopies(reset?) -> copies made so far to bring operands into layout()
Napi::Value LayoutCopies(const Napi::CallbackInfo& info) {
  const auto n = layoutCopies();
  if (info.Length() > 0 && info[0].ToBoolean().Value()) layoutCopies() = 0;
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value WeightCacheEntries(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(weightCacheEntries()));
}

// argmaxReuses(reset?) -> max-pool gradients that reused the forward's argmax positions
Napi::Value ArgmaxReuses(const Napi::CallbackInfo& info) {
  const auto n = argmaxReuses();
  if (info.Length() > 0 && info[0].ToBoolean().Value()) argmaxReuses() = 0;
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

bool& blockedInference() {
  static bool on = [] {
    const char* v = std::getenv("AURAPRUNE_BLOCKED");
    return !(v && v[0] == '0');
  }();
  return on;
}
Reorders& reorders() {
  static Reorders r;  // ops run on the JS thread only
  return r;
}

// setBlockedInference(on?) -> whether inference convolutions started blocked chains before the call
Napi::Value SetBlockedInference(const Napi::CallbackInfo& info) {
  const bool prev = blockedInference();
  if (info.Length() > 0 && info[0].IsBoolean()) blockedInference() = info[0].As<Napi::Boolean>().Value();
  return Napi::Boolean::New(info.Env(), prev);
}
// reorders(reset?) -> [dense->blocked, blocked->dense] conversions so far
Napi::Value ReordersFn(const Napi::CallbackInfo& info) {
  const auto r = reorders();
  if (info.Length() > 0 && info[0].ToBoolean().Value()) reorders() = Reorders{};
  auto a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(r.toBlocked)));
  a.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(r.toDense)));
  return a;
}

// setLayout('nchw' | 'channels_last') -> the previous one
Napi::Value SetLayout(const Napi::CallbackInfo& info) {
  const auto prev = layout() == at::MemoryFormat::ChannelsLast ? "channels_last" : "nchw";
  if (info.Length() > 0 && info[0].IsString()) {
    const auto v = info[0].As<Napi::String>().Utf8Value();
    if (v != "nchw" && v != "channels_last") throw Napi::RangeError::New(info.Env(), "setLayout: nchw | channels_last");
    layout() = v == "channels_last" ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  }
  return Napi::String::New(info.Env(), prev);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  registerElementwise(); registerReduce(); registerShape(); registerConv(); registerPool(); registerMisc(); registerGrad();
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("strides", Napi::Function::New(env, Strides));
  exports.Set("op", Napi::Function::New(env, Op));
  exports.Set("opCodes", Napi::Function::New(env, OpCodes));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("memory", Napi::Function::New(env, Memory));
  exports.Set("auraJointEntropies", Napi::Function::New(env, AuraJointEntropies));
  exports.Set("setLayout", Napi::Function::New(env, SetLayout));
  exports.Set("layoutCopies", Napi::Function::New(env, LayoutCopies));
  exports.Set("weightCacheEntries", Napi::Function::New(env, WeightCacheEntries));
  exports.Set("argmaxReuses", Napi::Function::New(env, ArgmaxReuses));
  exports.Set("setBlockedInference", Napi::Function::New(env, SetBlockedInference));
  exports.Set("reorders", Napi::Function::New(env, ReordersFn));
  // whether ReLU6 / ClipByValue keep blocked tensors blocked (built with libideep-dev, libdnnl-dev)
  exports.Set("blockedClip", Napi::Boolean::New(env, blockedClipAvailable()));
  exports.Set("version", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR)));
  return exports;
}

}  // namespace ap

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return ap::Init(env, exports); }
NODE_API_MODULE(auraprune_native, InitAll)
