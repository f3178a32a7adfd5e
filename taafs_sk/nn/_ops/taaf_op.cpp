// The compiled TAAF operator of taafs-sk: y = sum_k c_k B_k(norm(z)) + b, its first and its
// second derivatives, each in one call, registered with torch.library as taafs_sk::taaf.
//
// The normalisation runs in the input's dtype exactly as the Python path runs it; the rest in
// float64, except for float32 inputs with few basis functions (FLOAT_MAX_K), evaluated in
// float32 arithmetic (twice the lanes) where that keeps the rounding below 1e-6 of the
// activation's range. The basis functions and their first and second derivatives come from
// each family's definition (no change of basis, amplification 1): the three-term recurrence
// of the scaled polynomials and its derivatives, the polynomial pieces of the cardinal
// B-spline, Fourier harmonics from one sine and cosine per input and the rotation
// recurrence, and the Gaussians by exponentials (in float64, two per run of eight centres).
//
// Layout: the input is processed in tiles of at most TILE consecutive elements of one row
// (per-neuron weights) or of the flat tensor (shared weights), and each tile in blocks of
// lanes held in one vector register (4 doubles or 8 floats; GCC/Clang vector extensions:
// AVX2 where the CPU has it, SSE2 pairs otherwise): a block runs the whole loop over the K
// basis functions with every value, slope and running sum in registers. Weight tables are
// stored transposed, (K + 1, columns padded to TILE), so that a block reads its columns'
// weights with one load. Tiles are spread over threads with at::parallel_for (OpenMP);
// weight gradients are accumulated per thread and reduced at the end.
//
// Autograd: taafs_sk::taaf has a C++ autograd kernel (TAAFFunction) whose backward is itself a
// differentiable C++ Function (TAAFBackwardFunction) whose backward gives the second
// derivatives (force training). Third derivatives raise an error when they are requested.
// Each numeric step is a separate operator (taaf_forward, taaf_backward,
// taaf_double_backward) with a Meta kernel, so that torch.compile can trace them.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <vector>

namespace taafs {
namespace {

constexpr int TILE = 64;
enum Family : int64_t { POLY = 0, BSPLINE = 1, FOURIER = 2, GRBF = 3, N_FAMILIES = 4 };
enum Norm : int64_t { TANH = 0, SOFTSIGN = 1, CLAMP = 2, NONE = 3, N_NORMS = 4 };

// ---------------------------------------------------------------------------- vector types
// A block is one vector register of lanes of the compute type S: 4 doubles or 8 floats.
template <class S>
struct Lanes;
template <>
struct Lanes<double> {
  typedef double V __attribute__((vector_size(32)));
  typedef uint64_t U __attribute__((vector_size(32)));
  static constexpr int L = 4;
  static constexpr double SHIFTER = 6755399441055744.0;  // 1.5 * 2^52: x + it rounds x
};
template <>
struct Lanes<float> {
  typedef float V __attribute__((vector_size(32)));
  typedef uint32_t U __attribute__((vector_size(32)));
  static constexpr int L = 8;
  static constexpr float SHIFTER = 12582912.0f;  // 1.5 * 2^23
};
template <class S>
using vec = typename Lanes<S>::V;
template <class S>
using uvec = typename Lanes<S>::U;

template <class S>
inline vec<S> splat(double x) {
  return vec<S>{} + static_cast<S>(x);
}
template <class S>
inline vec<S> load(const S* p) {
  vec<S> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class S>
inline void store(S* p, vec<S> v) {
  std::memcpy(p, &v, sizeof v);
}
template <class V>
inline V vabs(V x) {
  return x < 0 ? -x : x;
}
// floor(x) for |x| below 2^51 (double) or 2^22 (float): round, then step down if it went up.
template <class S>
inline vec<S> vfloor(vec<S> x) {
  const S shifter = Lanes<S>::SHIFTER;
  const vec<S> r = (x + shifter) - shifter;
  return r > x ? r - S(1) : r;
}

// ------------------------------------------------------------------------------------ math
// exp(x): x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial (degree 13 in
// double, 7 in float: remainders below the rounding), 2^n written into the exponent bits;
// 0 below -708 (double) or -87 (float).
inline vec<double> exp_v(vec<double> x) {
  typedef vec<double> V;
  const V lo = splat<double>(-708.0), hi = splat<double>(709.0);
  V xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const V t = xc * 1.4426950408889634 + Lanes<double>::SHIFTER;
  const V n = t - Lanes<double>::SHIFTER;
  V r = xc - n * 0.6931471803691238;  // ln2, high part (exact product for |n| < 2^11)
  r = r - n * 1.9082149292705877e-10;  // ln2, low part
  V p = splat<double>(1.0 / 6227020800.0);  // 1/13!
  for (double c : {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                   1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                   1.0 / 6.0, 0.5, 1.0, 1.0}) {
    p = p * r + c;
  }
  const V scale = (V)((((uvec<double>)t) + 1023u) << 52);
  return x < lo ? splat<double>(0.0) : p * scale;
}

inline vec<float> exp_v(vec<float> x) {
  typedef vec<float> V;
  const V lo = splat<float>(-87.0), hi = splat<float>(88.0);
  V xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const V t = xc * 1.44269504f + Lanes<float>::SHIFTER;
  const V n = t - Lanes<float>::SHIFTER;
  V r = xc - n * 0.693145752f;  // ln2, high part (exact product for |n| < 2^8)
  r = r - n * 1.42860677e-06f;  // ln2, low part
  V p = splat<float>(1.0 / 5040.0);
  for (float c : {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) {
    p = p * r + c;
  }
  const V scale = (V)((((uvec<float>)t) + 127u) << 23);
  return x < lo ? splat<float>(0.0) : p * scale;
}

// sin and cos of x: x = q pi/2 + r, |r| <= pi/4 (pi/2 in parts whose products with q are
// exact for the q met here), Taylor polynomials of sin r and cos r, quadrant q mod 4.
template <class S>
inline void sincos_poly(vec<S> r, vec<S>& sr, vec<S>& cr, std::initializer_list<double> sin_c,
                        std::initializer_list<double> cos_c) {
  const vec<S> r2 = r * r;
  vec<S> ps = splat<S>(0.0), pc = ps;
  for (double c : sin_c) ps = ps * r2 + static_cast<S>(c);
  for (double c : cos_c) pc = pc * r2 + static_cast<S>(c);
  sr = r + r * r2 * ps;
  cr = S(1) - r2 * pc;
}

template <class S>
inline void quadrant(vec<S> t, vec<S> sr, vec<S> cr, vec<S>& s, vec<S>& c) {
  const uvec<S> q = ((uvec<S>)t) & 3u;
  const vec<S> s0 = (q & 1u) != 0u ? cr : sr;
  const vec<S> c0 = (q & 1u) != 0u ? sr : cr;
  s = (q & 2u) != 0u ? -s0 : s0;
  c = ((q + 1u) & 2u) != 0u ? -c0 : c0;
}

inline void sincos_v(vec<double> x, vec<double>& s, vec<double>& c) {
  typedef vec<double> V;
  const V t = x * 0.6366197723675814 + Lanes<double>::SHIFTER;
  const V q = t - Lanes<double>::SHIFTER;
  V r = x - q * 1.57079632673412561417;  // pi/2 in three 33-bit parts
  r = r - q * 6.07710050630396597660e-11;
  r = r - q * 2.02226624871116645580e-21;
  V sr, cr;
  sincos_poly<double>(
      r, sr, cr,
      {-1.0 / 121645100408832000.0, 1.0 / 355687428096000.0, -1.0 / 1307674368000.0,
       1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0,
       -1.0 / 6.0},
      {1.0 / 6402373705728000.0, -1.0 / 20922789888000.0, 1.0 / 87178291200.0,
       -1.0 / 479001600.0, 1.0 / 3628800.0, -1.0 / 40320.0, 1.0 / 720.0, -1.0 / 24.0, 0.5});
  quadrant<double>(t, sr, cr, s, c);
}

inline void sincos_v(vec<float> x, vec<float>& s, vec<float>& c) {
  typedef vec<float> V;
  const V t = x * 0.636619772f + Lanes<float>::SHIFTER;
  const V q = t - Lanes<float>::SHIFTER;
  V r = x - q * 1.5703125f;  // pi/2 in three parts of 11, 13 and 24 bits
  r = r - q * 4.83751297e-04f;
  r = r - q * 7.54978995e-08f;
  V sr, cr;
  sincos_poly<float>(r, sr, cr,
                     {-1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0},
                     {-1.0 / 479001600.0, 1.0 / 3628800.0, -1.0 / 40320.0, 1.0 / 720.0,
                      -1.0 / 24.0, 0.5});
  quadrant<float>(t, sr, cr, s, c);
}

// ------------------------------------------------------------------------------- the bases
// The numbers of one basis, read once per call from spec[1:].
constexpr int MAX_ORDER = 15;  // B-spline degrees the operator evaluates (Python checks it)

struct BasisSpec {
  int64_t family;
  int K;
  const double* p;
  // B-splines: degree k, 1/h, first knot, and the k + 1 polynomial pieces of the cardinal
  // B-spline with their first and second derivatives (coefficients of tau^0..tau^k)
  int order = 0;
  double inv_h = 1.0, t0 = 0.0;
  double piece[3][MAX_ORDER + 1][MAX_ORDER + 1] = {};
};

BasisSpec make_basis_spec(int64_t family, int K, const double* p) {
  BasisSpec b;
  b.family = family;
  b.K = K;
  b.p = p;
  if (family == BSPLINE) {
    const int k = b.order = static_cast<int>(p[0]);
    TORCH_CHECK(k >= 1 && k <= MAX_ORDER, "spec of taafs_sk::taaf: B-spline order ", k,
                " is outside [1, ", MAX_ORDER, "]");
    b.inv_h = 1.0 / p[1];
    b.t0 = p[2];
    const double* coef = p + 3;  // (k + 1) x (k + 1), piece m, power q
    for (int m = 0; m <= k; ++m) {
      for (int q = 0; q <= k; ++q) {
        const double c = coef[m * (k + 1) + q];
        b.piece[0][m][q] = c;
        if (q >= 1) b.piece[1][m][q - 1] = q * c * b.inv_h;
        if (q >= 2) b.piece[2][m][q - 2] = q * (q - 1.0) * c * b.inv_h * b.inv_h;
      }
    }
  }
  return b;
}

// Each generator calls visit(k, B, D, E) for k = 0..K-1 with the values B_k(u) of one block,
// their first derivatives D and second derivatives E (D, E only meaningful up to ORDER).

// Scaled polynomials: p = [c0, a1, b1, (alpha_m, beta_m, gamma_m) for m = 1..K-2],
// B_0 = c0, B_1 = a1 u + b1, B_{m+1} = (alpha_m u + beta_m) B_m - gamma_m B_{m-1}, and the
// same recurrence differentiated once and twice.
template <class S, int ORDER, class Visit>
inline void poly_block(const BasisSpec& b, vec<S> u, Visit& visit) {
  typedef vec<S> V;
  const double* p = b.p;
  const V zero = splat<S>(0.0);
  V P0 = splat<S>(p[0]), D0 = zero, E0 = zero;
  visit(0, P0, D0, E0);
  if (b.K == 1) return;
  V P1 = u * S(p[1]) + S(p[2]), D1 = splat<S>(p[1]), E1 = zero;
  visit(1, P1, D1, E1);
  for (int m = 1; m < b.K - 1; ++m) {
    const S al = S(p[3 * m]), be = S(p[3 * m + 1]), ga = S(p[3 * m + 2]);
    const V t = u * al + be;
    const V P2 = t * P1 - ga * P0;
    V D2 = zero, E2 = zero;
    if (ORDER >= 1) D2 = al * P1 + t * D1 - ga * D0;
    if (ORDER >= 2) E2 = (S(2) * al) * D1 + t * E1 - ga * E0;
    visit(m + 1, P2, D2, E2);
    P0 = P1, P1 = P2, D0 = D1, D1 = D2, E0 = E1, E1 = E2;
  }
}

// B-splines of degree k on the knots t_i = t_0 + i h: with x = (u - t_0)/h, j = floor(x) and
// tau = x - j, B_i(u) = N_k(x - i) is the piece m = j - i (0 <= m <= k) of the cardinal
// B-spline evaluated at tau, and zero elsewhere: the k + 1 pieces (and their derivatives) are
// evaluated once per input by Horner's rule, then handed to the basis functions they belong to.
// x = (u - t_0)/h in double (in float it would lose the low bits of u: x reaches n_basis),
// returned as j = floor(x) and tau = x - j in the compute type.
inline void knot_interval(const BasisSpec& b, vec<double> u, vec<double>& j, vec<double>& tau) {
  const vec<double> x = (u - b.t0) * b.inv_h;
  j = vfloor<double>(x);
  tau = x - j;
}

inline void knot_interval(const BasisSpec& b, vec<float> u, vec<float>& j, vec<float>& tau) {
  typedef float v4f __attribute__((vector_size(16)));
  v4f half[2][2];
  for (int h = 0; h < 2; ++h) {
    const v4f part = h ? __builtin_shufflevector(u, u, 4, 5, 6, 7)
                       : __builtin_shufflevector(u, u, 0, 1, 2, 3);
    vec<double> jd, td;
    knot_interval(b, __builtin_convertvector(part, vec<double>), jd, td);
    half[h][0] = __builtin_convertvector(jd, v4f);
    half[h][1] = __builtin_convertvector(td, v4f);
  }
  j = __builtin_shufflevector(half[0][0], half[1][0], 0, 1, 2, 3, 4, 5, 6, 7);
  tau = __builtin_shufflevector(half[0][1], half[1][1], 0, 1, 2, 3, 4, 5, 6, 7);
}

// B-splines of degree k on the knots t_i = t_0 + i h: with x = (u - t_0)/h, j = floor(x) and
// tau = x - j, B_i(u) = N_k(x - i) is the piece m = j - i (0 <= m <= k) of the cardinal
// B-spline evaluated at tau, and zero elsewhere: the k + 1 pieces (and their derivatives) are
// evaluated once per input by Horner's rule, then handed to the basis functions they belong to.
template <class S, int ORDER, class Visit>
inline void bspline_block(const BasisSpec& b, vec<S> u, Visit& visit) {
  typedef vec<S> V;
  const int k = b.order;
  V j, tau;
  knot_interval(b, u, j, tau);
  V val[3][MAX_ORDER + 1];
  for (int d = 0; d <= ORDER; ++d) {
    for (int m = 0; m <= k; ++m) {
      if (d > k) {
        val[d][m] = splat<S>(0.0);
        continue;
      }
      const double* c = b.piece[d][m];
      V acc = splat<S>(c[k - d]);
      for (int q = k - d - 1; q >= 0; --q) acc = acc * tau + S(c[q]);
      val[d][m] = acc;
    }
  }
  const V zero = tau - tau;  // 0, or NaN for a NaN input (which then stays NaN)
  for (int i = 0; i < b.K; ++i) {
    const V m = j - S(i);
    V B = zero, D = zero, E = zero;
    for (int r = 0; r <= k; ++r) {
      const auto here = m == S(r);
      B = here ? val[0][r] : B;
      if (ORDER >= 1) D = here ? val[1][r] : D;
      if (ORDER >= 2) E = here ? val[2][r] : E;
    }
    visit(i, B, D, E);
  }
}

// Fourier: B_{2j-2} = cos(j w u), B_{2j-1} = sin(j w u), j = 1, 2, ...; one sine and cosine
// per input, then rotations by w u.
template <class S, int ORDER, class Visit>
inline void fourier_block(const BasisSpec& b, vec<S> u, Visit& visit) {
  typedef vec<S> V;
  const double omega = b.p[0];
  V S1, C1;
  sincos_v(u * S(omega), S1, C1);
  V Sn = S1, Cn = C1;
  for (int k = 0; k < b.K; ++k) {
    const S f = S((k / 2 + 1) * omega), f2 = S(-(k / 2 + 1) * omega * (k / 2 + 1) * omega);
    if (k % 2 == 0) {
      visit(k, Cn, -f * Sn, f2 * Cn);
    } else {
      visit(k, Sn, f * Cn, f2 * Sn);
      const V c = Cn * C1 - Sn * S1;
      Sn = Sn * C1 + Cn * S1;
      Cn = c;
    }
  }
}

// Gaussian RBFs on uniform centres mu_k = mu_0 + k delta: B_k = exp(-x_k^2) with
// x_k = (u - mu_k)/h = x_0 - k s, s = delta/h; B' = -2 x / h B; B'' = (4x^2 - 2)/h^2 B.
// In double, in runs of GRBF_RUN centres: the first value and the ratio r = B_{k+1}/B_k =
// exp(2 s x_k - s^2) by two exponentials, then B_{k+1} = B_k r and r <- r exp(-2 s^2); in
// float (whose exponential is cheap and whose products would compound rounding), one
// exponential per centre.
constexpr int GRBF_RUN = 8;

template <class S, int ORDER, class Visit>
inline void grbf_block(const BasisSpec& b, vec<S> u, Visit& visit) {
  typedef vec<S> V;
  const double h = b.p[0], mu0 = b.p[1], delta = b.p[2];
  const double inv_h = 1.0 / h, s = delta * inv_h;
  const S q = S(std::exp(-2.0 * s * s)), d1 = S(-2.0 * inv_h), d2 = S(inv_h * inv_h);
  const V x0 = (u - S(mu0)) * S(inv_h);
  V B = splat<S>(0.0), r = B;
  for (int k = 0; k < b.K; ++k) {
    if (std::is_same_v<S, float>) {  // float: each centre directly, x from u - mu_k
      const V x = (u - S(mu0 + k * delta)) * S(inv_h);
      B = exp_v(-(x * x));
      visit(k, B, d1 * x * B, (x * x * S(4) - S(2)) * d2 * B);
      continue;
    }
    const V x = x0 - S(k * s);
    if (k % GRBF_RUN == 0) {
      B = exp_v(-(x * x));
      r = exp_v(S(2.0 * s) * x - S(s * s));
    } else {
      B = B * r;
      r = r * q;
    }
    visit(k, B, d1 * x * B, (x * x * S(4) - S(2)) * d2 * B);
  }
}

template <class S, int ORDER, class Visit>
inline void generate(const BasisSpec& b, vec<S> u, Visit& visit) {
  switch (b.family) {
    case POLY:
      poly_block<S, ORDER>(b, u, visit);
      break;
    case BSPLINE:
      bspline_block<S, ORDER>(b, u, visit);
      break;
    case FOURIER:
      fourier_block<S, ORDER>(b, u, visit);
      break;
    default:
      grbf_block<S, ORDER>(b, u, visit);
  }
}

// --------------------------------------------------------------------------- normalisation
// u = norm(z) in the input's dtype (as the Python path computes it), then converted to the
// compute type S; n1 and n2 are norm'(z) and norm''(z). Lanes n..TILE-1 of u are set to 0.
template <typename scalar_t, class S>
inline void normalize_tile(int64_t norm, const scalar_t* z, const scalar_t* ut, int n, S* u,
                           S* n1, S* n2) {
  for (int j = 0; j < n; ++j) {
    S uj, d1, d2 = S(0);
    if (norm == TANH) {
      uj = static_cast<S>(ut[j]);
      d1 = S(1) - uj * uj;
      d2 = S(-2) * uj * d1;
    } else if (norm == SOFTSIGN) {
      const scalar_t zs = z[j];
      uj = static_cast<S>(zs / (std::abs(zs) + scalar_t(1)));
      const S r = S(1) - std::abs(uj);
      d1 = r * r;
      d2 = (uj > S(0) ? S(-2) : (uj < S(0) ? S(2) : S(0))) * r * r * r;
    } else {
      const double inv = norm == CLAMP ? 1.0 / 3.0 : 1.0;
      const scalar_t v = z[j] * static_cast<scalar_t>(inv);
      const scalar_t vc = v < scalar_t(-1) ? scalar_t(-1) : (v > scalar_t(1) ? scalar_t(1) : v);
      uj = static_cast<S>(vc);
      d1 = std::abs(v) <= scalar_t(1) ? S(inv) : S(0);
    }
    u[j] = uj;
    if (n1) n1[j] = d1;
    if (n2) n2[j] = d2;
  }
  for (int j = n; j < TILE; ++j) u[j] = S(0);
}

// ------------------------------------------------------------------------------- the layout
struct Problem {
  BasisSpec basis;
  int64_t norm;
  int K;
  int64_t numel, F, C;  // elements, columns of z (per neuron), columns of the weight tables
  bool per_neuron;
  int64_t tiles_per_row, n_tiles;

  // Offset, length and first weight column of tile t.
  inline void tile(int64_t t, int64_t& off, int& n, int64_t& col) const {
    if (per_neuron) {
      const int64_t row = t / tiles_per_row;
      col = (t % tiles_per_row) * TILE;
      off = row * F + col;
      n = static_cast<int>(std::min<int64_t>(TILE, F - col));
    } else {
      off = t * TILE;
      col = 0;
      n = static_cast<int>(std::min<int64_t>(TILE, numel - off));
    }
  }
};

void check_args(const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec,
                int64_t family, int64_t norm) {
  TORCH_CHECK(z.scalar_type() == at::kFloat || z.scalar_type() == at::kDouble,
              "z of taafs_sk::taaf must be float32 or float64, got ", z.scalar_type());
  TORCH_CHECK(weight.dim() == 1 || weight.dim() == 2,
              "weight of taafs_sk::taaf must have shape (K + 1,) or (F, K + 1), got ",
              weight.sizes());
  TORCH_CHECK(spec.scalar_type() == at::kDouble && spec.dim() == 1 && spec.numel() >= 1 &&
                  spec.is_cpu() && spec.is_contiguous(),
              "spec of taafs_sk::taaf must be a contiguous 1-D float64 CPU tensor, got ",
              spec.sizes(), " ", spec.scalar_type());
  TORCH_CHECK(family >= 0 && family < N_FAMILIES, "family of taafs_sk::taaf must be in [0, ",
              static_cast<int64_t>(N_FAMILIES), "), got ", family);
  TORCH_CHECK(norm >= 0 && norm < N_NORMS, "normalization of taafs_sk::taaf must be in [0, ",
              static_cast<int64_t>(N_NORMS), "), got ", norm);
  if (weight.dim() == 2) {
    TORCH_CHECK(z.dim() >= 1 && z.size(-1) == weight.size(0),
                "per-neuron weight of taafs_sk::taaf has ", weight.size(0),
                " rows but z has shape ", z.sizes());
  }
}

inline int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

Problem make_problem(const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec,
                     int64_t family, int64_t norm) {
  check_args(z, weight, spec, family, norm);
  Problem pb;
  pb.norm = norm;
  pb.K = static_cast<int>(weight.size(-1)) - 1;
  const double* p = spec.data_ptr<double>();
  TORCH_CHECK(pb.K >= 1 && static_cast<int64_t>(p[0]) == pb.K, "spec of taafs_sk::taaf describes ",
              p[0], " basis functions, the weight ", pb.K);
  pb.basis = make_basis_spec(family, pb.K, p + 1);
  pb.numel = z.numel();
  pb.per_neuron = weight.dim() == 2;
  pb.F = pb.per_neuron ? z.size(-1) : 0;
  pb.C = pb.per_neuron ? round_up(pb.F, TILE) : TILE;  // whole tiles: blocks never overrun
  if (pb.per_neuron) {
    pb.tiles_per_row = (pb.F + TILE - 1) / TILE;
    pb.n_tiles = pb.F ? (pb.numel / pb.F) * pb.tiles_per_row : 0;
  } else {
    pb.tiles_per_row = 0;
    pb.n_tiles = (pb.numel + TILE - 1) / TILE;
  }
  return pb;
}

// Float32 inputs are evaluated in float32 arithmetic up to this many basis functions, where
// the rounding of the evaluation stays below 1e-6 of the activation's range (measured, see
// docs/numerics.rst; the polynomial recurrences accumulate it fastest), and in float64 above;
// float64 inputs always in float64.
constexpr int FLOAT_MAX_K_POLY = 8, FLOAT_MAX_K = 16;

inline bool float_compute(const at::Tensor& z, const Problem& pb) {
  const int most = pb.basis.family == POLY ? FLOAT_MAX_K_POLY : FLOAT_MAX_K;
  return z.scalar_type() == at::kFloat && pb.K <= most;
}

// (K + 1, C) table of a weight (K + 1,) or (F, K + 1) in the compute type: column j holds the
// weights of column j (a shared weight is repeated over the TILE columns; padding is 0).
template <class S, typename w_t>
void fill_table(const w_t* src, const Problem& pb, std::vector<S>& table) {
  const int64_t R = pb.K + 1, used = pb.per_neuron ? pb.F : pb.C;
  for (int64_t k = 0; k < R; ++k) {
    for (int64_t j = 0; j < used; ++j) {
      table[k * pb.C + j] = static_cast<S>(pb.per_neuron ? src[j * R + k] : src[k]);
    }
  }
}

template <class S>
std::vector<S> weight_table(const at::Tensor& weight, const Problem& pb) {
  std::vector<S> table((pb.K + 1) * pb.C, S(0));
  const at::Tensor w = weight.is_contiguous() ? weight : weight.contiguous();
  if (w.scalar_type() == at::kFloat) {
    fill_table<S>(w.data_ptr<float>(), pb, table);
  } else {
    const at::Tensor wd = w.scalar_type() == at::kDouble ? w : w.to(at::kDouble);
    fill_table<S>(wd.data_ptr<double>(), pb, table);
  }
  return table;
}

// Per-thread (K + 1, C) accumulators and their reduction (in double) to the weight's shape.
template <class S>
struct Accumulator {
  int64_t size;
  std::vector<S> data;
  explicit Accumulator(const Problem& pb)
      : size((pb.K + 1) * pb.C), data(size * std::max(1, at::get_num_threads()), S(0)) {}
  S* local() { return data.data() + size * at::get_thread_num(); }

  at::Tensor reduce(const Problem& pb, const at::Tensor& weight) {
    const int64_t R = pb.K + 1, threads = static_cast<int64_t>(data.size()) / size;
    const int64_t used = pb.per_neuron ? pb.F : pb.C;
    std::vector<double> sum(pb.per_neuron ? pb.F * R : R, 0.0);
    for (int64_t th = 0; th < threads; ++th) {
      const S* a = data.data() + th * size;
      for (int64_t k = 0; k < R; ++k) {
        for (int64_t j = 0; j < used; ++j) sum[pb.per_neuron ? j * R + k : k] += a[k * pb.C + j];
      }
    }
    at::Tensor out = at::empty(weight.sizes(), weight.options());
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, out.scalar_type(), "reduce", [&] {
      scalar_t* o = out.data_ptr<scalar_t>();
      for (size_t i = 0; i < sum.size(); ++i) o[i] = static_cast<scalar_t>(sum[i]);
    });
    return out;
  }
};

// ``t`` as a contiguous tensor of the dtype and shape of ``like`` (no copy when it is one).
at::Tensor as_input(const at::Tensor& t, const at::Tensor& like) {
  if (t.scalar_type() == like.scalar_type() && t.sizes() == like.sizes() && t.is_contiguous()) {
    return t;
  }
  return t.to(like.scalar_type()).expand_as(like).contiguous();
}

constexpr int64_t GRAIN_TILES = 256;  // 16k elements per task

template <class S>
inline int block_end(int n) {
  constexpr int L = Lanes<S>::L;
  return (n + L - 1) / L * L;
}

// ------------------------------------------------------------------------------ the kernels
template <typename scalar_t, class S, int ORDER>
void forward_kernel(const Problem& pb, const S* wt, const scalar_t* z, const scalar_t* ut,
                    scalar_t* y, scalar_t* dz) {
  typedef vec<S> V;
  constexpr int L = Lanes<S>::L;
  const int64_t C = pb.C;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) S u[TILE], n1[TILE], value[TILE], slope[TILE];
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t, S>(pb.norm, z + off, ut ? ut + off : nullptr, n, u,
                                  ORDER ? n1 : nullptr, nullptr);
      for (int jb = 0; jb < block_end<S>(n); jb += L) {
        const S* w = wt + col + jb;
        V acc = load<S>(w + pb.K * C), s = splat<S>(0.0);
        auto visit = [&](int k, V B, V D, V) {
          const V wk = load<S>(w + k * C);
          acc += wk * B;
          if (ORDER) s += wk * D;
        };
        generate<S, ORDER>(pb.basis, load<S>(u + jb), visit);
        store<S>(value + jb, acc);
        store<S>(slope + jb, s);
      }
      for (int j = 0; j < n; ++j) y[off + j] = static_cast<scalar_t>(value[j]);
      if (ORDER) {
        for (int j = 0; j < n; ++j) dz[off + j] = static_cast<scalar_t>(slope[j] * n1[j]);
      }
    }
  });
}

template <typename scalar_t, class S>
void backward_kernel(const Problem& pb, const scalar_t* g, const scalar_t* z,
                     const scalar_t* ut, const scalar_t* dz, scalar_t* grad_z,
                     Accumulator<S>& accum) {
  typedef vec<S> V;
  constexpr int L = Lanes<S>::L;
  const int64_t C = pb.C;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) S u[TILE], gg[TILE];
    S* a = accum.local();
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t, S>(pb.norm, z + off, ut ? ut + off : nullptr, n, u, nullptr,
                                  nullptr);
      for (int j = 0; j < n; ++j) gg[j] = static_cast<S>(g[off + j]);
      for (int j = n; j < TILE; ++j) gg[j] = S(0);
      if (grad_z) {
        for (int j = 0; j < n; ++j) grad_z[off + j] = g[off + j] * dz[off + j];
      }
      for (int jb = 0; jb < block_end<S>(n); jb += L) {
        S* ab = a + col + jb;
        const V gv = load<S>(gg + jb);
        auto visit = [&](int k, V B, V, V) { store<S>(ab + k * C, load<S>(ab + k * C) + gv * B); };
        generate<S, 0>(pb.basis, load<S>(u + jb), visit);
        store<S>(ab + pb.K * C, load<S>(ab + pb.K * C) + gv);
      }
    }
  });
}

template <class S>
struct SecondInputs {
  const S* aw;  // (K + 1, C) table of a_w, or null
  const S* wt;  // (K + 1, C) table of the weight
  bool need_g, need_z, need_w;
};

// The per-element terms of the second derivatives, from the sums of one tile.
template <typename scalar_t, class S>
void second_terms(int n, bool use_az, const SecondInputs<S>& in, const S* aa, const S* gg,
                  const S* n1, const S* n2, const S* fa0, const S* fa1, const S* f1,
                  const S* f2, const scalar_t* dz, scalar_t* grad_g, scalar_t* grad_z) {
  if (in.need_g) {
    for (int j = 0; j < n; ++j) {
      const S v = fa0[j] + (use_az ? aa[j] * static_cast<S>(dz[j]) : S(0));
      grad_g[j] = static_cast<scalar_t>(v);
    }
  }
  if (in.need_z) {
    for (int j = 0; j < n; ++j) {
      const S curvature = f2[j] * n1[j] * n1[j] + f1[j] * n2[j];
      grad_z[j] = static_cast<scalar_t>(gg[j] * fa1[j] * n1[j] + aa[j] * gg[j] * curvature);
    }
  }
}

template <typename scalar_t, class S, int ORDER>
void double_backward_kernel(const Problem& pb, const SecondInputs<S>& in, const scalar_t* az,
                            const scalar_t* g, const scalar_t* z, const scalar_t* ut,
                            const scalar_t* dz, scalar_t* grad_g, scalar_t* grad_z,
                            Accumulator<S>* accum) {
  typedef vec<S> V;
  constexpr int L = Lanes<S>::L;
  const int64_t C = pb.C;
  const bool use_aw = in.aw && (in.need_g || in.need_z);
  const bool use_az = az != nullptr;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) S u[TILE], n1[TILE], n2[TILE], gg[TILE], aa[TILE], h[TILE];
    alignas(64) S fa0[TILE], fa1[TILE], f1[TILE], f2[TILE];
    S* a = accum ? accum->local() : nullptr;
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t, S>(pb.norm, z + off, ut ? ut + off : nullptr, n, u, n1, n2);
      for (int j = 0; j < n; ++j) {
        gg[j] = static_cast<S>(g[off + j]);
        aa[j] = use_az ? static_cast<S>(az[off + j]) : S(0);
        h[j] = aa[j] * gg[j] * n1[j];
      }
      for (int j = n; j < TILE; ++j) h[j] = S(0);
      for (int jb = 0; jb < block_end<S>(n); jb += L) {
        const V zero = splat<S>(0.0), hv = load<S>(h + jb);
        V va0 = use_aw ? load<S>(in.aw + pb.K * C + col + jb) : zero;
        V va1 = zero, vf1 = zero, vf2 = zero;
        auto visit = [&](int k, V B, V D, V E) {
          if (use_aw) {
            const V v = load<S>(in.aw + k * C + col + jb);
            va0 += v * B;
            va1 += v * D;
          }
          if (ORDER >= 2) {
            const V w = load<S>(in.wt + k * C + col + jb);
            vf1 += w * D;
            vf2 += w * E;
          }
          if (a) {
            S* ak = a + k * C + col + jb;
            store<S>(ak, load<S>(ak) + hv * D);
          }
        };
        generate<S, ORDER>(pb.basis, load<S>(u + jb), visit);
        store<S>(fa0 + jb, va0), store<S>(fa1 + jb, va1);
        store<S>(f1 + jb, vf1), store<S>(f2 + jb, vf2);
      }
      second_terms<scalar_t, S>(n, use_az, in, aa, gg, n1, n2, fa0, fa1, f1, f2,
                                dz ? dz + off : nullptr, grad_g ? grad_g + off : nullptr,
                                grad_z ? grad_z + off : nullptr);
    }
  });
}

// ---------------------------------------------------------------------------- the operators
at::Tensor empty0(const at::Tensor& like) { return at::empty({0}, like.options()); }

// Runs fn.template operator()<scalar_t, S>() for the input dtype and the compute type.
template <class Fn>
void dispatch(const at::Tensor& z, const Problem& pb, Fn&& fn) {
  if (z.scalar_type() == at::kDouble) {
    fn(double(), double());
  } else if (float_compute(z, pb)) {
    fn(float(), float());
  } else {
    fn(float(), double());
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> taaf_forward_cpu(
    const at::Tensor& z_in, const at::Tensor& weight, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_slope) {
  const at::Tensor z = z_in.contiguous();
  Problem pb = make_problem(z, weight, spec, family, norm);
  at::Tensor u = norm == TANH ? at::tanh(z) : empty0(z);
  at::Tensor y = at::empty_like(z);
  at::Tensor dz = need_slope ? at::empty_like(z) : empty0(z);
  if (pb.n_tiles) {
    dispatch(z, pb, [&](auto io, auto compute) {
      using scalar_t = decltype(io);
      using S = decltype(compute);
      const std::vector<S> wt = weight_table<S>(weight, pb);
      const scalar_t* ut = norm == TANH ? u.data_ptr<scalar_t>() : nullptr;
      if (need_slope)
        forward_kernel<scalar_t, S, 1>(pb, wt.data(), z.data_ptr<scalar_t>(), ut,
                                       y.data_ptr<scalar_t>(), dz.data_ptr<scalar_t>());
      else
        forward_kernel<scalar_t, S, 0>(pb, wt.data(), z.data_ptr<scalar_t>(), ut,
                                       y.data_ptr<scalar_t>(), nullptr);
    });
  }
  return {y, dz, u};
}

std::tuple<at::Tensor, at::Tensor> taaf_backward_cpu(
    const at::Tensor& grad, const at::Tensor& z_in, const at::Tensor& u_in,
    const at::Tensor& weight, const at::Tensor& dz, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_z, bool need_w) {
  if (!need_w) return {need_z ? grad * dz : empty0(z_in), empty0(weight)};
  const at::Tensor z = z_in.contiguous();
  Problem pb = make_problem(z, weight, spec, family, norm);
  at::Tensor grad_z = need_z ? at::empty_like(z) : empty0(z);
  at::Tensor grad_w;
  const at::Tensor g = as_input(grad, z);
  const at::Tensor u = norm == TANH ? u_in.contiguous() : u_in;
  const at::Tensor d = need_z ? as_input(dz, z) : dz;
  dispatch(z, pb, [&](auto io, auto compute) {
    using scalar_t = decltype(io);
    using S = decltype(compute);
    Accumulator<S> accum(pb);
    if (pb.n_tiles) {
      backward_kernel<scalar_t, S>(pb, g.data_ptr<scalar_t>(), z.data_ptr<scalar_t>(),
                                   norm == TANH ? u.data_ptr<scalar_t>() : nullptr,
                                   need_z ? d.data_ptr<scalar_t>() : nullptr,
                                   need_z ? grad_z.data_ptr<scalar_t>() : nullptr, accum);
    }
    grad_w = accum.reduce(pb, weight);
  });
  return {grad_z, grad_w};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> taaf_double_backward_cpu(
    const std::optional<at::Tensor>& a_z_opt, const std::optional<at::Tensor>& a_w_opt,
    const at::Tensor& grad, const at::Tensor& z_in, const at::Tensor& u_in,
    const at::Tensor& weight, const at::Tensor& dz_in, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_g, bool need_z, bool need_w) {
  const at::Tensor z = z_in.contiguous();
  Problem pb = make_problem(z, weight, spec, family, norm);
  const bool has_az = a_z_opt.has_value() && a_z_opt->defined();
  const bool has_aw = a_w_opt.has_value() && a_w_opt->defined();
  need_w = need_w && has_az;
  at::Tensor grad_g = need_g ? at::zeros_like(z) : empty0(z);
  at::Tensor grad_z = need_z ? at::zeros_like(z) : empty0(z);
  at::Tensor grad_w = need_w ? at::zeros_like(weight) : empty0(weight);
  if (!(pb.n_tiles && (has_az || has_aw) && (need_g || need_z || need_w))) {
    return {grad_g, grad_z, grad_w};
  }
  const at::Tensor g = as_input(grad, z);
  const at::Tensor u = norm == TANH ? u_in.contiguous() : u_in;
  const at::Tensor dz = dz_in.numel() ? as_input(dz_in, z) : dz_in;
  TORCH_CHECK(!(has_az && need_g) || dz.numel() == z.numel(),
              "taafs_sk::taaf_double_backward needs the saved slope dz");
  const at::Tensor az = has_az ? as_input(*a_z_opt, z) : at::Tensor();
  dispatch(z, pb, [&](auto io, auto compute) {
    using scalar_t = decltype(io);
    using S = decltype(compute);
    std::vector<S> aw_table;
    if (has_aw) aw_table = weight_table<S>(*a_w_opt, pb);
    const std::vector<S> wt = weight_table<S>(weight, pb);
    SecondInputs<S> in{has_aw ? aw_table.data() : nullptr, wt.data(), need_g, need_z, need_w};
    Accumulator<S> accum(pb);
    const scalar_t* azp = has_az ? az.data_ptr<scalar_t>() : nullptr;
    const scalar_t* dzp = dz.numel() ? dz.data_ptr<scalar_t>() : nullptr;
    const scalar_t* up = norm == TANH ? u.data_ptr<scalar_t>() : nullptr;
    scalar_t* gg = need_g ? grad_g.data_ptr<scalar_t>() : nullptr;
    scalar_t* gz = need_z ? grad_z.data_ptr<scalar_t>() : nullptr;
    Accumulator<S>* acc = need_w ? &accum : nullptr;
    if (has_az && need_z)
      double_backward_kernel<scalar_t, S, 2>(pb, in, azp, g.data_ptr<scalar_t>(),
                                             z.data_ptr<scalar_t>(), up, dzp, gg, gz, acc);
    else
      double_backward_kernel<scalar_t, S, 1>(pb, in, azp, g.data_ptr<scalar_t>(),
                                             z.data_ptr<scalar_t>(), up, dzp, gg, gz, acc);
    if (need_w) grad_w = accum.reduce(pb, weight);
  });
  return {grad_g, grad_z, grad_w};
}

// Meta kernels: shapes only (torch.compile, fake tensors).
std::tuple<at::Tensor, at::Tensor, at::Tensor> taaf_forward_meta(
    const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_slope) {
  return {at::empty_like(z), need_slope ? at::empty_like(z) : empty0(z),
          norm == TANH ? at::empty_like(z) : empty0(z)};
}

std::tuple<at::Tensor, at::Tensor> taaf_backward_meta(
    const at::Tensor& grad, const at::Tensor& z, const at::Tensor& u, const at::Tensor& weight,
    const at::Tensor& dz, const at::Tensor& spec, int64_t family, int64_t norm, bool need_z,
    bool need_w) {
  return {need_z ? at::empty_like(z) : empty0(z),
          need_w ? at::empty_like(weight) : empty0(weight)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> taaf_double_backward_meta(
    const std::optional<at::Tensor>& a_z, const std::optional<at::Tensor>& a_w,
    const at::Tensor& grad, const at::Tensor& z, const at::Tensor& u, const at::Tensor& weight,
    const at::Tensor& dz, const at::Tensor& spec, int64_t family, int64_t norm, bool need_g,
    bool need_z, bool need_w) {
  const bool w = need_w && a_z.has_value() && a_z->defined();
  return {need_g ? at::empty_like(z) : empty0(z), need_z ? at::empty_like(z) : empty0(z),
          w ? at::empty_like(weight) : empty0(weight)};
}

// --------------------------------------------------------------------------------- autograd
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::tuple<at::Tensor, at::Tensor, at::Tensor> call_forward(
    const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_slope) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("taafs_sk::taaf_forward", "")
                       .typed<decltype(taaf_forward_cpu)>();
  at::AutoDispatchBelowADInplaceOrView guard;
  return op.call(z, weight, spec, family, norm, need_slope);
}

std::tuple<at::Tensor, at::Tensor> call_backward(
    const at::Tensor& g, const at::Tensor& z, const at::Tensor& u, const at::Tensor& weight,
    const at::Tensor& dz, const at::Tensor& spec, int64_t family, int64_t norm, bool need_z,
    bool need_w) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("taafs_sk::taaf_backward", "")
                       .typed<decltype(taaf_backward_cpu)>();
  at::AutoDispatchBelowADInplaceOrView guard;
  return op.call(g, z, u, weight, dz, spec, family, norm, need_z, need_w);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> call_double_backward(
    const std::optional<at::Tensor>& a_z, const std::optional<at::Tensor>& a_w,
    const at::Tensor& g, const at::Tensor& z, const at::Tensor& u, const at::Tensor& weight,
    const at::Tensor& dz, const at::Tensor& spec, int64_t family, int64_t norm, bool need_g,
    bool need_z, bool need_w) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("taafs_sk::taaf_double_backward", "")
                       .typed<decltype(taaf_double_backward_cpu)>();
  at::AutoDispatchBelowADInplaceOrView guard;
  return op.call(a_z, a_w, g, z, u, weight, dz, spec, family, norm, need_g, need_z, need_w);
}

at::Tensor defined_or_null(const at::Tensor& t, bool keep) { return keep ? t : at::Tensor(); }

// (g, z, weight) -> (dL/dz, dL/dweight), itself differentiable once.
struct TAAFBackwardFunction : public torch::autograd::Function<TAAFBackwardFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& z,
                               const at::Tensor& weight, const at::Tensor& u,
                               const at::Tensor& dz, const at::Tensor& spec, int64_t family,
                               int64_t norm, bool need_z, bool need_w) {
    auto [grad_z, grad_w] = call_backward(g, z, u, weight, dz, spec, family, norm, need_z, need_w);
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({g, z, weight, u, dz, spec});
    ctx->saved_data["family"] = family;
    ctx->saved_data["norm"] = norm;
    return {grad_z, grad_w};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list s = ctx->get_saved_variables();
    const at::Tensor &g = s[0], &z = s[1], &weight = s[2];
    const bool need_g = ctx->needs_input_grad(0), need_z = ctx->needs_input_grad(1),
               need_w = ctx->needs_input_grad(2);
    std::optional<at::Tensor> a_z, a_w;
    if (grads[0].defined()) a_z = grads[0];
    if (grads[1].defined()) a_w = grads[1];
    auto [grad_g, grad_z, grad_w] = call_double_backward(
        a_z, a_w, g, z, s[3], weight, s[4], s[5], ctx->saved_data["family"].toInt(),
        ctx->saved_data["norm"].toInt(), need_g, need_z, need_w);
    variable_list out{defined_or_null(grad_g, need_g), defined_or_null(grad_z, need_z),
                      defined_or_null(grad_w, need_w && a_z.has_value())};
    if (at::GradMode::is_enabled()) {  // a third derivative was asked for: refuse it when used
      variable_list inputs{g, z, weight};
      for (const auto& a : grads) inputs.push_back(a);
      std::vector<at::Tensor> results(out.begin(), out.end());
      out = torch::autograd::wrap_outputs(inputs, std::move(results), [](auto&& edges) {
        return c10::make_intrusive<torch::autograd::Error>(
            "taafs_sk::taaf: third derivatives of a TAAF are not supported",
            std::move(edges));
      });
    }
    out.resize(10);
    return out;
  }
};

struct TAAFFunction : public torch::autograd::Function<TAAFFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& z, const at::Tensor& weight,
                            const at::Tensor& spec, int64_t family, int64_t norm) {
    const bool need_z = z.requires_grad();
    auto [y, dz, u] = call_forward(z, weight, spec, family, norm, need_z);
    ctx->save_for_backward({z, weight, u, dz, spec});
    ctx->saved_data["family"] = family;
    ctx->saved_data["norm"] = norm;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor& g = grads[0];
    const bool need_z = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1);
    const variable_list s = ctx->get_saved_variables();
    const int64_t family = ctx->saved_data["family"].toInt();
    const int64_t norm = ctx->saved_data["norm"].toInt();
    variable_list res;
    if (at::GradMode::is_enabled()) {  // create_graph: the gradient must be differentiable
      res = TAAFBackwardFunction::apply(g, s[0], s[1], s[2], s[3], s[4], family, norm, need_z,
                                        need_w);
    } else {
      auto [gz, gw] = call_backward(g, s[0], s[2], s[1], s[3], s[4], family, norm, need_z,
                                    need_w);
      res = {gz, gw};
    }
    return {defined_or_null(res[0], need_z), defined_or_null(res[1], need_w), at::Tensor(),
            at::Tensor(), at::Tensor()};
  }
};

at::Tensor taaf_autograd(const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec,
                         int64_t family, int64_t norm) {
  if (at::GradMode::is_enabled() && (z.requires_grad() || weight.requires_grad())) {
    return TAAFFunction::apply(z, weight, spec, family, norm);
  }
  return std::get<0>(call_forward(z, weight, spec, family, norm, false));
}

at::Tensor taaf_composite(const at::Tensor& z, const at::Tensor& weight, const at::Tensor& spec,
                          int64_t family, int64_t norm) {
  return std::get<0>(call_forward(z, weight, spec, family, norm, false));
}

}  // namespace
}  // namespace taafs

TORCH_LIBRARY(taafs_sk, m) {
  m.def("taaf(Tensor z, Tensor weight, Tensor spec, int family, int normalization) -> Tensor");
  m.def(
      "taaf_forward(Tensor z, Tensor weight, Tensor spec, int family, int normalization, "
      "bool need_slope) -> (Tensor, Tensor, Tensor)");
  m.def(
      "taaf_backward(Tensor grad, Tensor z, Tensor u, Tensor weight, Tensor dz, Tensor spec, "
      "int family, int normalization, bool need_z, bool need_w) -> (Tensor, Tensor)");
  m.def(
      "taaf_double_backward(Tensor? a_z, Tensor? a_w, Tensor grad, Tensor z, Tensor u, "
      "Tensor weight, Tensor dz, Tensor spec, int family, int normalization, bool need_g, "
      "bool need_z, bool need_w) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(taafs_sk, CPU, m) {
  m.impl("taaf_forward", &taafs::taaf_forward_cpu);
  m.impl("taaf_backward", &taafs::taaf_backward_cpu);
  m.impl("taaf_double_backward", &taafs::taaf_double_backward_cpu);
}

TORCH_LIBRARY_IMPL(taafs_sk, Meta, m) {
  m.impl("taaf_forward", &taafs::taaf_forward_meta);
  m.impl("taaf_backward", &taafs::taaf_backward_meta);
  m.impl("taaf_double_backward", &taafs::taaf_double_backward_meta);
}

TORCH_LIBRARY_IMPL(taafs_sk, CompositeExplicitAutograd, m) {
  m.impl("taaf", &taafs::taaf_composite);
}

TORCH_LIBRARY_IMPL(taafs_sk, Autograd, m) { m.impl("taaf", &taafs::taaf_autograd); }
