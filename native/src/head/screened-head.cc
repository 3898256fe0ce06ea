#include "head/screened-head.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "common/cpu.h"
#include "common/parallel.h"
#include "head/panel-kernels.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::head {

namespace {

// Norms are summed in double and rounded up by this factor before they become f32 bounds.
constexpr double kRoundUp = 1.0 + 1e-6;

// Slack per unit of ‖H‖·‖W‖ for f32 rounding: the f32 kernel's blocked dot product errs by at most
// γ_dim·Σ|h·w| ≤ dim·2^-24·‖h‖‖w‖, and the screen's own conversions and products by a few 2^-24 more.
// Four times that covers both with room.
inline float slack(uint32_t dim) { return static_cast<float>((double(dim) + 16.0) * std::ldexp(1.0, -22)); }

// Largest |x| of a row; infinity when the row has a non-finite value (no bound exists then).
inline double abs_max(const float* x, size_t n) {
  double mx = 0.0;
  for (size_t k = 0; k < n; ++k) {
    if (!std::isfinite(x[k])) return std::numeric_limits<double>::infinity();
    mx = std::max(mx, double(std::fabs(x[k])));
  }
  return mx;
}

// Per token of a call: the 4-byte groups of its quantized row (hidden value / s + 128, as unsigned
// bytes) and the terms of its bound.
struct TokenQuant {
  std::vector<uint32_t> hq;  // [rows][quads]
  std::vector<float> scale;  // s_t
  std::vector<float> a;      // ‖H − Ĥ‖ + slack·max(‖H‖, ‖Ĥ‖): multiplies ‖W[v]‖
  std::vector<float> b;      // ‖Ĥ‖ + slack·max(‖H‖, ‖Ĥ‖): multiplies ‖W[v] − Ŵ[v]‖
  std::vector<uint8_t> bad;  // per text: a non-finite hidden value (no screen for that text)
};

void quantize_tokens(const HeadInput& in, uint32_t quads, TokenQuant& q) {
  const size_t rows = size_t(in.texts) * in.seq, d = in.dim;
  q.hq.assign(rows * quads, 0x80808080u);  // padding dims: byte 128 = value 0
  q.scale.assign(rows, 0.f);
  q.a.assign(rows, 0.f);
  q.b.assign(rows, 0.f);
  q.bad.assign(in.texts, 0);
  const float c = slack(in.dim);
  parallel_chunks(in.texts, in.threads, 1, [&](uint32_t, uint64_t xb, uint64_t xe) {
    for (uint64_t x = xb; x < xe; ++x)
      for (size_t t = 0; t < in.seq; ++t) {
        const size_t row = x * in.seq + t;
        if (!in.mask[row]) continue;
        const float* h = in.hidden + row * d;
        const double mx = abs_max(h, d);
        if (!std::isfinite(mx)) {
          q.bad[x] = 1;
          continue;
        }
        const float s = static_cast<float>(mx / 127.0);
        uint8_t* bytes = reinterpret_cast<uint8_t*>(q.hq.data() + row * quads);
        double e2 = 0, hh2 = 0, h2 = 0;
        for (size_t k = 0; k < d; ++k) {
          const int v = s > 0.f ? std::clamp(static_cast<int>(std::nearbyint(h[k] / s)), -127, 127) : 0;
          bytes[k] = static_cast<uint8_t>(v + 128);
          const double hat = double(s) * v;
          e2 += (h[k] - hat) * (h[k] - hat);
          hh2 += hat * hat;
          h2 += double(h[k]) * h[k];
        }
        const double nmax = std::max(std::sqrt(h2), std::sqrt(hh2)) * kRoundUp;
        q.scale[row] = s;
        q.a[row] = static_cast<float>(std::sqrt(e2) * kRoundUp + c * nmax);
        q.b[row] = static_cast<float>(std::sqrt(hh2) * kRoundUp + c * nmax);
      }
  });
}

#if defined(__x86_64__)
// ub[r] = max(ub[r], max over `count` (≤ kTokS) tokens of the upper bound of h_t · w_r) for one
// panel's 64 rows: Σ (hq+128)·wq in int32 by vpdpbusd, minus 128·Σwq, scaled, plus the error bound.
// 4 tokens × 4 registers of 16 rows: 16 int32 accumulators. At seq 256 × batch 32 on Zen 4 the screen
// took 0.54 s with 4 tokens, 0.78 s with 5 and 0.93 s with 6 (GCC then spills accumulators to the
// stack every step), 0.85 s with 3 (more weight loads per vpdpbusd).
constexpr uint32_t kTokS = 4;
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
void panel_screen(const TokenQuant& q, uint32_t quads, const uint32_t* tok, uint32_t count, const ScreenWeights& sw,
                  uint32_t panel, float* ub) {
  const uint32_t* hp[kTokS];
  for (uint32_t i = 0; i < kTokS; ++i) hp[i] = q.hq.data() + size_t(tok[i < count ? i : count - 1]) * quads;
  const int8_t* wp = sw.wq.data() + size_t(panel) * quads * kPanel * 4;
  __m512i acc[kTokS][4];
  for (auto& a : acc)
    for (auto& x : a) x = _mm512_setzero_si512();
  for (uint32_t k = 0; k < quads; ++k) {
    const int8_t* w = wp + size_t(k) * kPanel * 4;
    __m512i wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = _mm512_loadu_si512(w + 64 * j);
    for (uint32_t i = 0; i < kTokS; ++i) {
      const __m512i h = _mm512_set1_epi32(static_cast<int>(hp[i][k]));
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], h, wv[j]);
    }
  }
  const size_t base = size_t(panel) * kPanel;
  for (int j = 0; j < 4; ++j) {
    const __m512i cs = _mm512_loadu_si512(sw.colsum.data() + base + 16 * j);
    const __m512 sv = _mm512_loadu_ps(sw.scale.data() + base + 16 * j);
    const __m512 nw = _mm512_loadu_ps(sw.norm.data() + base + 16 * j);
    const __m512 ew = _mm512_loadu_ps(sw.qerr.data() + base + 16 * j);
    __m512 u = _mm512_loadu_ps(ub + 16 * j);
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t t = tok[i];
      const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][j], cs));
      const __m512 bound = _mm512_fmadd_ps(nw, _mm512_set1_ps(q.a[t]), _mm512_mul_ps(ew, _mm512_set1_ps(q.b[t])));
      u = _mm512_max_ps(u, _mm512_fmadd_ps(dot, _mm512_mul_ps(sv, _mm512_set1_ps(q.scale[t])), bound));
    }
    _mm512_storeu_ps(ub + 16 * j, u);
  }
}
#endif

}  // namespace

bool screen_supported() {
#if defined(__x86_64__)
  // The candidates are recomputed by the packed f32 panel kernel, as the plain head runs them.
  const char* e = std::getenv("LSR_HEAD_F32");
  return cpu::avx512_vnni() && !(e && !std::strcmp(e, "rows"));
#else
  return false;
#endif
}

std::unique_ptr<ScreenWeights> prepare_screen(const float* weights, uint32_t vocab, uint32_t dim, uint32_t threads) {
  if (!screen_supported() || vocab == 0 || dim == 0) return nullptr;
  auto sw = std::make_unique<ScreenWeights>();
  sw->vocab = vocab;
  sw->dim = dim;
  sw->quads = (dim + 3) / 4;
  sw->panels = (vocab + kPanel - 1) / kPanel;
  const size_t padded = size_t(sw->panels) * kPanel;
  sw->wq.assign(padded * sw->quads * 4, 0);
  sw->scale.assign(padded, 0.f);
  sw->colsum.assign(padded, 0);
  sw->norm.assign(padded, 0.f);
  sw->qerr.assign(padded, 0.f);
  parallel_chunks(vocab, threads, 256, [&](uint32_t, uint64_t b, uint64_t e) {
    for (uint64_t v = b; v < e; ++v) {
      const float* w = weights + v * dim;
      const double mx = abs_max(w, dim);
      if (!std::isfinite(mx)) {
        // No finite bound: the row is always a candidate (its f32 result is whatever the plain head gives).
        sw->norm[v] = std::numeric_limits<float>::infinity();
        continue;
      }
      const float s = static_cast<float>(mx / 127.0);
      const size_t p = v / kPanel, r = v % kPanel;
      int8_t* dst = sw->wq.data() + p * sw->quads * kPanel * 4;
      double e2 = 0, w2 = 0;
      int32_t sum = 0;
      for (uint32_t k = 0; k < dim; ++k) {
        const int q = s > 0.f ? std::clamp(static_cast<int>(std::nearbyint(w[k] / s)), -127, 127) : 0;
        dst[(size_t(k / 4) * kPanel + r) * 4 + k % 4] = static_cast<int8_t>(q);
        sum += q;
        const double hat = double(s) * q;
        e2 += (w[k] - hat) * (w[k] - hat);
        w2 += double(w[k]) * w[k];
      }
      sw->scale[v] = s;
      sw->colsum[v] = 128 * sum;
      sw->norm[v] = static_cast<float>(std::sqrt(w2) * kRoundUp);
      sw->qerr[v] = static_cast<float>(std::sqrt(e2) * kRoundUp);
    }
  });
  return sw;
}

void screened_head(const HeadInput& in, ScreenWeights& sw, float* out) {
#if defined(__x86_64__)
  if (const uint32_t skip = sw.skip.load(); skip > 0) {
    sw.skip.store(skip - 1);
    sw.calls_plain.fetch_add(1);
    return fused_head(in, out);
  }
  const uint32_t quads = sw.quads, d = in.dim;
  TokenQuant q;
  quantize_tokens(in, quads, q);
  std::vector<std::vector<uint32_t>> toks(in.texts);
  for (uint32_t x = 0; x < in.texts; ++x)
    for (uint32_t t = 0; t < in.seq; ++t)
      if (in.mask[size_t(x) * in.seq + t]) toks[x].push_back(x * in.seq + t);

  // 1. The screen: out[x][v] = upper bound of text x's max logit for v, plus b[v].
  parallel_chunks(sw.panels, in.threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
    alignas(64) float ub[kPanel];
    for (uint64_t p = b; p < e; ++p) {
      const uint32_t v0 = static_cast<uint32_t>(p) * kPanel, rows = std::min(kPanel, in.vocab - v0);
      for (uint32_t x = 0; x < in.texts; ++x) {
        if (q.bad[x]) continue;
        const auto& tl = toks[x];
        for (float& u : ub) u = kNegInf;
        for (size_t i = 0; i < tl.size(); i += kTokS)
          panel_screen(q, quads, tl.data() + i, static_cast<uint32_t>(std::min<size_t>(kTokS, tl.size() - i)), sw,
                       static_cast<uint32_t>(p), ub);
        float* o = out + size_t(x) * in.vocab + v0;
        for (uint32_t r = 0; r < rows; ++r) o[r] = ub[r] + (in.bias ? in.bias[v0 + r] : 0.f);
      }
    }
  });

  // 2. Candidates: a bound above 0 (or not a number), a row without a finite bound, or a text whose
  // hidden states were not all finite. Everything else is exactly 0.
  std::vector<std::vector<uint32_t>> cand(in.texts);
  uint64_t ncand = 0;
  for (uint32_t x = 0; x < in.texts; ++x) {
    float* o = out + size_t(x) * in.vocab;
    auto& c = cand[x];
    for (uint32_t v = 0; v < in.vocab; ++v) {
      if (q.bad[x] || !(o[v] <= 0.f) || sw.norm[v] == std::numeric_limits<float>::infinity()) c.push_back(v);
      o[v] = 0.f;
    }
    if (toks[x].empty()) c.clear();  // no token: every term is 0, as in the plain head
    ncand += c.size();
  }
  const uint64_t pairs = uint64_t(in.texts) * in.vocab;
  sw.calls_screened.fetch_add(1);
  sw.pairs.fetch_add(pairs);
  sw.candidates.fetch_add(ncand);
  if (ncand * 2 > pairs) sw.skip.store(ScreenWeights::kSkip);

  // 3. The candidates through the f32 panel kernel, 64 gathered rows at a time.
  struct Task { uint32_t x, begin; };
  std::vector<Task> tasks;
  for (uint32_t x = 0; x < in.texts; ++x)
    for (uint32_t i = 0; i < cand[x].size(); i += kPanel) tasks.push_back({x, i});
  const float* wf = static_cast<const float*>(in.weights);
  parallel_chunks(tasks.size(), in.threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
    std::vector<float> wp(size_t(kPanel) * d);
    alignas(64) float mx[kPanel];
    for (uint64_t ti = b; ti < e; ++ti) {
      const Task tk = tasks[ti];
      const auto& c = cand[tk.x];
      const uint32_t n = std::min<uint32_t>(kPanel, static_cast<uint32_t>(c.size()) - tk.begin);
      for (uint32_t r = 0; r < kPanel; ++r) {
        const float* row = r < n ? wf + size_t(c[tk.begin + r]) * d : nullptr;
        for (size_t k = 0; k < d; ++k) wp[k * kPanel + r] = row ? row[k] : 0.f;
      }
      for (float& m : mx) m = kNegInf;
      const auto& tl = toks[tk.x];
      for (size_t i = 0; i < tl.size(); i += kTok)
        panel_f32(in.hidden, d, tl.data() + i, static_cast<uint32_t>(std::min<size_t>(kTok, tl.size() - i)), d,
                  wp.data(), mx);
      float* o = out + size_t(tk.x) * in.vocab;
      for (uint32_t r = 0; r < n; ++r) {
        const uint32_t v = c[tk.begin + r];
        o[v] = activate(mx[r], in.bias ? in.bias[v] : 0.f);
      }
    }
  });
#else
  fused_head(in, out);
#endif
}

}  // namespace lsr::head
