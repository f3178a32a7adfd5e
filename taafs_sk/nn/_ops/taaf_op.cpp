// The compiled TAAF operator of taafs-sk: y = sum_k c_k B_k(norm(z)) + b, its first and its
// second derivatives, each in one call, registered with torch.library as taafs_sk::taaf.
//
// Every input is evaluated in double precision (float32 inputs are widened after the
// normalisation, which runs in the input's dtype exactly as the Python path runs it, and the
// results are rounded once at the end). The basis functions and their first and second
// derivatives come directly from each family's definition (amplification 1, no change of
// basis): the three-term recurrence of the scaled polynomials and its derivatives, the
// closed-form B-spline (the symmetric truncated-power sum), Fourier harmonics from one sine
// and cosine per input and the rotation recurrence, and one exponential per Gaussian.
//
// Layout: the input is processed in tiles of at most TILE consecutive elements of one row
// (per-neuron weights) or of the flat tensor (shared weights), and each tile in blocks of VL
// lanes held in a vector register (GCC/Clang vector extensions: AVX2 where the CPU has it,
// SSE2 pairs otherwise): a block runs the whole loop over the K basis functions with every
// value, slope and running sum in registers. Weight tables are stored transposed,
// (K + 1, columns padded to VL), so that a block reads its columns' weights with one load.
// Tiles are spread over threads with at::parallel_for (OpenMP); weight gradients are
// accumulated per thread and reduced at the end.
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
#include <vector>

namespace taafs {
namespace {

constexpr int TILE = 64;
enum Family : int64_t { POLY = 0, BSPLINE = 1, FOURIER = 2, GRBF = 3, N_FAMILIES = 4 };
enum Norm : int64_t { TANH = 0, SOFTSIGN = 1, CLAMP = 2, NONE = 3, N_NORMS = 4 };

// ---------------------------------------------------------------------------- vector types
constexpr int VL = 4;  // lanes of a block
typedef double vd __attribute__((vector_size(VL * sizeof(double))));
typedef uint64_t vu __attribute__((vector_size(VL * sizeof(double))));

inline vd splat(double x) { return vd{} + x; }
inline vd load(const double* p) {
  vd v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(double* p, vd v) { std::memcpy(p, &v, sizeof v); }
inline vd vabs(vd x) { return x < 0.0 ? -x : x; }
inline vd vpositive(vd x) { return x > 0.0 ? x : splat(0.0); }

// ------------------------------------------------------------------------------------ math
constexpr double SHIFTER = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer

// exp(x): x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial to degree 13
// (remainder below 1e-17), 2^n written into the exponent bits. 0 below -708.
inline vd exp_v(vd x) {
  const vd lo = splat(-708.0), hi = splat(709.0);
  vd xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const vd t = xc * 1.4426950408889634 + SHIFTER;
  const vd n = t - SHIFTER;
  vd r = xc - n * 0.6931471803691238;  // ln2, high part (exact product for |n| < 2^11)
  r = r - n * 1.9082149292705877e-10;  // ln2, low part
  vd p = splat(1.0 / 6227020800.0);    // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const vd scale = (vd)((((vu)t) + 1023u) << 52);
  return x < lo ? splat(0.0) : p * scale;
}

// sin and cos of x: x = q pi/2 + r, |r| <= pi/4 (pi/2 in three 33-bit parts: the products
// with q are exact for |q| < 2^20), Taylor polynomials of sin r and cos r, quadrant q mod 4.
inline void sincos_v(vd x, vd& s, vd& c) {
  const vd t = x * 0.6366197723675814 + SHIFTER;
  const vd q = t - SHIFTER;
  vd r = x - q * 1.57079632673412561417;
  r = r - q * 6.07710050630396597660e-11;
  r = r - q * 2.02226624871116645580e-21;
  const vd r2 = r * r;
  vd ps = splat(-1.0 / 121645100408832000.0);  // -1/19!
  ps = ps * r2 + 1.0 / 355687428096000.0;
  ps = ps * r2 - 1.0 / 1307674368000.0;
  ps = ps * r2 + 1.0 / 6227020800.0;
  ps = ps * r2 - 1.0 / 39916800.0;
  ps = ps * r2 + 1.0 / 362880.0;
  ps = ps * r2 - 1.0 / 5040.0;
  ps = ps * r2 + 1.0 / 120.0;
  ps = ps * r2 - 1.0 / 6.0;
  const vd sr = r + r * r2 * ps;
  vd pc = splat(1.0 / 6402373705728000.0);  // 1/18!
  pc = pc * r2 - 1.0 / 20922789888000.0;
  pc = pc * r2 + 1.0 / 87178291200.0;
  pc = pc * r2 - 1.0 / 479001600.0;
  pc = pc * r2 + 1.0 / 3628800.0;
  pc = pc * r2 - 1.0 / 40320.0;
  pc = pc * r2 + 1.0 / 720.0;
  pc = pc * r2 - 1.0 / 24.0;
  pc = pc * r2 + 0.5;
  const vd cr = 1.0 - r2 * pc;
  const vu quadrant = ((vu)t) & 3u;
  const vd s0 = (quadrant & 1u) != 0u ? cr : sr;
  const vd c0 = (quadrant & 1u) != 0u ? sr : cr;
  s = (quadrant & 2u) != 0u ? -s0 : s0;
  c = ((quadrant + 1u) & 2u) != 0u ? -c0 : c0;
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

// floor(x) for |x| < 2^51, exact (round to nearest, then step down where it rounded up).
inline vd vfloor(vd x) {
  const vd r = (x + SHIFTER) - SHIFTER;
  return r > x ? r - 1.0 : r;
}

// Each generator calls visit(k, B, D, E) for k = 0..K-1 with the values B_k(u) of one block,
// their first derivatives D and second derivatives E (D, E only meaningful up to ORDER).

// Scaled polynomials: p = [c0, a1, b1, (alpha_m, beta_m, gamma_m) for m = 1..K-2],
// B_0 = c0, B_1 = a1 u + b1, B_{m+1} = (alpha_m u + beta_m) B_m - gamma_m B_{m-1}, and the
// same recurrence differentiated once and twice.
template <int ORDER, class Visit>
inline void poly_block(const BasisSpec& b, vd u, Visit& visit) {
  const double* p = b.p;
  const vd zero = splat(0.0);
  vd P0 = splat(p[0]), D0 = zero, E0 = zero;
  visit(0, P0, D0, E0);
  if (b.K == 1) return;
  vd P1 = u * p[1] + p[2], D1 = splat(p[1]), E1 = zero;
  visit(1, P1, D1, E1);
  for (int m = 1; m < b.K - 1; ++m) {
    const double al = p[3 * m], be = p[3 * m + 1], ga = p[3 * m + 2];
    const vd t = u * al + be;
    const vd P2 = t * P1 - ga * P0;
    vd D2 = zero, E2 = zero;
    if (ORDER >= 1) D2 = al * P1 + t * D1 - ga * D0;
    if (ORDER >= 2) E2 = (2.0 * al) * D1 + t * E1 - ga * E0;
    visit(m + 1, P2, D2, E2);
    P0 = P1, P1 = P2, D0 = D1, D1 = D2, E0 = E1, E1 = E2;
  }
}

// B-splines of degree k on the knots t_i = t_0 + i h: with x = (u - t_0)/h, j = floor(x) and
// tau = x - j, B_i(u) = N_k(x - i) is the piece m = j - i (0 <= m <= k) of the cardinal
// B-spline evaluated at tau, and zero elsewhere: the k + 1 pieces (and their derivatives) are
// evaluated once per input by Horner's rule, then handed to the basis functions they belong to.
template <int ORDER, class Visit>
inline void bspline_block(const BasisSpec& b, vd u, Visit& visit) {
  const int k = b.order;
  const vd x = (u - b.t0) * b.inv_h;
  const vd j = vfloor(x);
  const vd tau = x - j;
  vd V[3][MAX_ORDER + 1];
  for (int d = 0; d <= ORDER; ++d) {
    for (int m = 0; m <= k; ++m) {
      if (d > k) {
        V[d][m] = splat(0.0);
        continue;
      }
      const double* c = b.piece[d][m];
      vd acc = splat(c[k - d]);
      for (int q = k - d - 1; q >= 0; --q) acc = acc * tau + c[q];
      V[d][m] = acc;
    }
  }
  const vd zero = splat(0.0);
  for (int i = 0; i < b.K; ++i) {
    const vd m = j - static_cast<double>(i);
    vd B = zero, D = zero, E = zero;
    for (int r = 0; r <= k; ++r) {
      const auto here = m == static_cast<double>(r);
      B = here ? V[0][r] : B;
      if (ORDER >= 1) D = here ? V[1][r] : D;
      if (ORDER >= 2) E = here ? V[2][r] : E;
    }
    visit(i, B, D, E);
  }
}

// Fourier: B_{2j-2} = cos(j w u), B_{2j-1} = sin(j w u), j = 1, 2, ...; one sine and cosine
// per input, then rotations by w u.
template <int ORDER, class Visit>
inline void fourier_block(const BasisSpec& b, vd u, Visit& visit) {
  const double omega = b.p[0];
  vd S1, C1;
  sincos_v(u * omega, S1, C1);
  vd S = S1, C = C1;
  for (int k = 0; k < b.K; ++k) {
    const double f = (k / 2 + 1) * omega;
    if (k % 2 == 0) {
      visit(k, C, -f * S, (-f * f) * C);
    } else {
      visit(k, S, f * C, (-f * f) * S);
      const vd Cn = C * C1 - S * S1;
      S = S * C1 + C * S1;
      C = Cn;
    }
  }
}

// Gaussian RBFs on uniform centres mu_k = mu_0 + k delta: B_k = exp(-x_k^2) with
// x_k = (u - mu_k)/h = x_0 - k s, s = delta/h; B' = -2 x / h B; B'' = (4x^2 - 2)/h^2 B.
// In runs of GRBF_RUN centres: the first value and the ratio r = B_{k+1}/B_k =
// exp(2 s x_k - s^2) by two exponentials, then B_{k+1} = B_k r and r <- r exp(-2 s^2).
constexpr int GRBF_RUN = 8;

template <int ORDER, class Visit>
inline void grbf_block(const BasisSpec& b, vd u, Visit& visit) {
  const double h = b.p[0], mu0 = b.p[1], delta = b.p[2];
  const double inv_h = 1.0 / h, inv_h2 = inv_h * inv_h, s = delta * inv_h;
  const double q = std::exp(-2.0 * s * s);
  const vd x0 = (u - mu0) * inv_h;
  vd B = splat(0.0), r = B;
  for (int k = 0; k < b.K; ++k) {
    const vd x = x0 - k * s;
    if (k % GRBF_RUN == 0) {
      B = exp_v(-(x * x));
      r = exp_v(2.0 * s * x - s * s);
    } else {
      B = B * r;
      r = r * q;
    }
    visit(k, B, (-2.0 * inv_h) * x * B, (x * x * 4.0 - 2.0) * inv_h2 * B);
  }
}

template <int ORDER, class Visit>
inline void generate(const BasisSpec& b, vd u, Visit& visit) {
  switch (b.family) {
    case POLY:
      poly_block<ORDER>(b, u, visit);
      break;
    case BSPLINE:
      bspline_block<ORDER>(b, u, visit);
      break;
    case FOURIER:
      fourier_block<ORDER>(b, u, visit);
      break;
    default:
      grbf_block<ORDER>(b, u, visit);
  }
}

// --------------------------------------------------------------------------- normalisation
// u = norm(z) in the input's dtype (as the Python path computes it), then widened; n1 and n2
// are norm'(z) and norm''(z) in double. Lanes n..TILE-1 of u are set to 0 (padding).
template <typename scalar_t>
inline void normalize_tile(int64_t norm, const scalar_t* z, const scalar_t* ut, int n,
                           double* u, double* n1, double* n2) {
  for (int j = 0; j < n; ++j) {
    double uj, d1, d2 = 0.0;
    if (norm == TANH) {
      uj = static_cast<double>(ut[j]);
      d1 = 1.0 - uj * uj;
      d2 = -2.0 * uj * d1;
    } else if (norm == SOFTSIGN) {
      const scalar_t zs = z[j];
      uj = static_cast<double>(zs / (std::abs(zs) + scalar_t(1)));
      const double r = 1.0 - std::fabs(uj);
      d1 = r * r;
      d2 = (uj > 0.0 ? -2.0 : (uj < 0.0 ? 2.0 : 0.0)) * r * r * r;
    } else {
      const double inv = norm == CLAMP ? 1.0 / 3.0 : 1.0;
      const scalar_t v = z[j] * static_cast<scalar_t>(inv);
      const scalar_t vc = v < scalar_t(-1) ? scalar_t(-1) : (v > scalar_t(1) ? scalar_t(1) : v);
      uj = static_cast<double>(vc);
      d1 = std::abs(v) <= scalar_t(1) ? inv : 0.0;
    }
    u[j] = uj;
    if (n1) n1[j] = d1;
    if (n2) n2[j] = d2;
  }
  for (int j = n; j < TILE; ++j) u[j] = 0.0;
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

// (K + 1, C) double table of a weight (K + 1,) or (F, K + 1): column j holds the weights of
// column j (a shared weight is repeated over the TILE columns; padding columns are 0).
template <typename w_t>
void fill_table(const w_t* src, const Problem& pb, std::vector<double>& table) {
  const int64_t R = pb.K + 1, used = pb.per_neuron ? pb.F : pb.C;
  for (int64_t k = 0; k < R; ++k) {
    for (int64_t j = 0; j < used; ++j) {
      table[k * pb.C + j] = static_cast<double>(pb.per_neuron ? src[j * R + k] : src[k]);
    }
  }
}

std::vector<double> weight_table(const at::Tensor& weight, const Problem& pb) {
  std::vector<double> table((pb.K + 1) * pb.C, 0.0);
  const at::Tensor w = weight.is_contiguous() ? weight : weight.contiguous();
  if (w.scalar_type() == at::kFloat) {
    fill_table(w.data_ptr<float>(), pb, table);
  } else {
    const at::Tensor wd = w.scalar_type() == at::kDouble ? w : w.to(at::kDouble);
    fill_table(wd.data_ptr<double>(), pb, table);
  }
  return table;
}

// Per-thread (K + 1, C) accumulators and their reduction to the weight's shape and dtype.
struct Accumulator {
  int64_t size;
  std::vector<double> data;
  explicit Accumulator(const Problem& pb)
      : size((pb.K + 1) * pb.C), data(size * std::max(1, at::get_num_threads()), 0.0) {}
  double* local() { return data.data() + size * at::get_thread_num(); }

  at::Tensor reduce(const Problem& pb, const at::Tensor& weight) {
    const int64_t R = pb.K + 1, threads = static_cast<int64_t>(data.size()) / size;
    const int64_t used = pb.per_neuron ? pb.F : pb.C;
    std::vector<double> sum(pb.per_neuron ? pb.F * R : R, 0.0);
    for (int64_t th = 0; th < threads; ++th) {
      const double* a = data.data() + th * size;
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

// ``t`` as a contiguous tensor of dtype ``st`` and the shape of ``like`` (no copy when it is).
at::Tensor as_input(const at::Tensor& t, const at::Tensor& like) {
  if (t.scalar_type() == like.scalar_type() && t.sizes() == like.sizes() && t.is_contiguous()) {
    return t;
  }
  return t.to(like.scalar_type()).expand_as(like).contiguous();
}

constexpr int64_t GRAIN_TILES = 256;  // 16k elements per task

inline int blocks(int n) { return (n + VL - 1) / VL; }

// ------------------------------------------------------------------------------ the kernels
template <typename scalar_t, int ORDER>
void forward_kernel(const Problem& pb, const double* wt, const scalar_t* z, const scalar_t* ut,
                    scalar_t* y, scalar_t* dz) {
  const int64_t C = pb.C;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) double u[TILE], n1[TILE], value[TILE], slope[TILE];
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t>(pb.norm, z + off, ut ? ut + off : nullptr, n, u,
                               ORDER ? n1 : nullptr, nullptr);
      for (int jb = 0; jb < blocks(n) * VL; jb += VL) {
        const double* w = wt + col + jb;
        vd acc = load(w + pb.K * C), s = splat(0.0);
        auto visit = [&](int k, vd B, vd D, vd) {
          const vd wk = load(w + k * C);
          acc += wk * B;
          if (ORDER) s += wk * D;
        };
        generate<ORDER>(pb.basis, load(u + jb), visit);
        store(value + jb, acc);
        store(slope + jb, s);
      }
      for (int j = 0; j < n; ++j) y[off + j] = static_cast<scalar_t>(value[j]);
      if (ORDER) {
        for (int j = 0; j < n; ++j) dz[off + j] = static_cast<scalar_t>(slope[j] * n1[j]);
      }
    }
  });
}

template <typename scalar_t>
void backward_kernel(const Problem& pb, const scalar_t* g, const scalar_t* z,
                     const scalar_t* ut, const scalar_t* dz, scalar_t* grad_z,
                     Accumulator& accum) {
  const int64_t C = pb.C;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) double u[TILE], gg[TILE];
    double* a = accum.local();
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t>(pb.norm, z + off, ut ? ut + off : nullptr, n, u, nullptr,
                               nullptr);
      for (int j = 0; j < n; ++j) gg[j] = static_cast<double>(g[off + j]);
      for (int j = n; j < TILE; ++j) gg[j] = 0.0;
      if (grad_z) {
        for (int j = 0; j < n; ++j) grad_z[off + j] = g[off + j] * dz[off + j];
      }
      for (int jb = 0; jb < blocks(n) * VL; jb += VL) {
        double* ab = a + col + jb;
        const vd gv = load(gg + jb);
        auto visit = [&](int k, vd B, vd, vd) { store(ab + k * C, load(ab + k * C) + gv * B); };
        generate<0>(pb.basis, load(u + jb), visit);
        store(ab + pb.K * C, load(ab + pb.K * C) + gv);
      }
    }
  });
}

struct SecondInputs {
  const double* aw;  // (K + 1, C) table of a_w, or null
  const double* wt;  // (K + 1, C) table of the weight
  bool need_g, need_z, need_w;
};

// The per-element terms of the second derivatives, from the sums of one tile.
template <typename scalar_t>
void second_terms(int n, bool use_az, const SecondInputs& in, const double* aa,
                  const double* gg, const double* n1, const double* n2, const double* fa0,
                  const double* fa1, const double* f1, const double* f2, const scalar_t* dz,
                  scalar_t* grad_g, scalar_t* grad_z) {
  if (in.need_g) {
    for (int j = 0; j < n; ++j) {
      const double v = fa0[j] + (use_az ? aa[j] * static_cast<double>(dz[j]) : 0.0);
      grad_g[j] = static_cast<scalar_t>(v);
    }
  }
  if (in.need_z) {
    for (int j = 0; j < n; ++j) {
      const double curvature = f2[j] * n1[j] * n1[j] + f1[j] * n2[j];
      grad_z[j] = static_cast<scalar_t>(gg[j] * fa1[j] * n1[j] + aa[j] * gg[j] * curvature);
    }
  }
}

template <typename scalar_t, int ORDER>
void double_backward_kernel(const Problem& pb, const SecondInputs& in, const scalar_t* az,
                            const scalar_t* g, const scalar_t* z, const scalar_t* ut,
                            const scalar_t* dz, scalar_t* grad_g, scalar_t* grad_z,
                            Accumulator* accum) {
  const int64_t C = pb.C;
  const bool use_aw = in.aw && (in.need_g || in.need_z);
  const bool use_az = az != nullptr;
  at::parallel_for(0, pb.n_tiles, GRAIN_TILES, [&](int64_t begin, int64_t end) {
    alignas(64) double u[TILE], n1[TILE], n2[TILE], gg[TILE], aa[TILE], h[TILE];
    alignas(64) double fa0[TILE], fa1[TILE], f1[TILE], f2[TILE];
    double* a = accum ? accum->local() : nullptr;
    for (int64_t t = begin; t < end; ++t) {
      int64_t off, col;
      int n;
      pb.tile(t, off, n, col);
      normalize_tile<scalar_t>(pb.norm, z + off, ut ? ut + off : nullptr, n, u, n1, n2);
      for (int j = 0; j < n; ++j) {
        gg[j] = static_cast<double>(g[off + j]);
        aa[j] = use_az ? static_cast<double>(az[off + j]) : 0.0;
        h[j] = aa[j] * gg[j] * n1[j];
      }
      for (int j = n; j < TILE; ++j) h[j] = 0.0;
      for (int jb = 0; jb < blocks(n) * VL; jb += VL) {
        const vd zero = splat(0.0), hv = load(h + jb);
        vd va0 = use_aw ? load(in.aw + pb.K * C + col + jb) : zero;
        vd va1 = zero, vf1 = zero, vf2 = zero;
        auto visit = [&](int k, vd B, vd D, vd E) {
          if (use_aw) {
            const vd v = load(in.aw + k * C + col + jb);
            va0 += v * B;
            va1 += v * D;
          }
          if (ORDER >= 2) {
            const vd w = load(in.wt + k * C + col + jb);
            vf1 += w * D;
            vf2 += w * E;
          }
          if (a) {
            double* ak = a + k * C + col + jb;
            store(ak, load(ak) + hv * D);
          }
        };
        generate<ORDER>(pb.basis, load(u + jb), visit);
        store(fa0 + jb, va0), store(fa1 + jb, va1), store(f1 + jb, vf1), store(f2 + jb, vf2);
      }
      second_terms<scalar_t>(n, use_az, in, aa, gg, n1, n2, fa0, fa1, f1, f2,
                             dz ? dz + off : nullptr, grad_g ? grad_g + off : nullptr,
                             grad_z ? grad_z + off : nullptr);
    }
  });
}

// ---------------------------------------------------------------------------- the operators
at::Tensor empty0(const at::Tensor& like) { return at::empty({0}, like.options()); }

std::tuple<at::Tensor, at::Tensor, at::Tensor> taaf_forward_cpu(
    const at::Tensor& z_in, const at::Tensor& weight, const at::Tensor& spec, int64_t family,
    int64_t norm, bool need_slope) {
  const at::Tensor z = z_in.contiguous();
  Problem pb = make_problem(z, weight, spec, family, norm);
  at::Tensor u = norm == TANH ? at::tanh(z) : empty0(z);
  at::Tensor y = at::empty_like(z);
  at::Tensor dz = need_slope ? at::empty_like(z) : empty0(z);
  if (pb.n_tiles) {
    const std::vector<double> wt = weight_table(weight, pb);
    AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "taaf_forward", [&] {
      const scalar_t* ut = norm == TANH ? u.data_ptr<scalar_t>() : nullptr;
      if (need_slope)
        forward_kernel<scalar_t, 1>(pb, wt.data(), z.data_ptr<scalar_t>(), ut,
                                    y.data_ptr<scalar_t>(), dz.data_ptr<scalar_t>());
      else
        forward_kernel<scalar_t, 0>(pb, wt.data(), z.data_ptr<scalar_t>(), ut,
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
  Accumulator accum(pb);
  at::Tensor grad_z = need_z ? at::empty_like(z) : empty0(z);
  if (pb.n_tiles) {
    const at::Tensor g = as_input(grad, z);
    const at::Tensor u = norm == TANH ? u_in.contiguous() : u_in;
    const at::Tensor d = need_z ? as_input(dz, z) : dz;
    AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "taaf_backward", [&] {
      backward_kernel<scalar_t>(pb, g.data_ptr<scalar_t>(), z.data_ptr<scalar_t>(),
                                norm == TANH ? u.data_ptr<scalar_t>() : nullptr,
                                need_z ? d.data_ptr<scalar_t>() : nullptr,
                                need_z ? grad_z.data_ptr<scalar_t>() : nullptr, accum);
    });
  }
  return {grad_z, accum.reduce(pb, weight)};
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
  Accumulator accum(pb);
  if (pb.n_tiles && (has_az || has_aw) && (need_g || need_z || need_w)) {
    const at::ScalarType st = z.scalar_type();
    const at::Tensor g = as_input(grad, z);
    const at::Tensor u = norm == TANH ? u_in.contiguous() : u_in;
    const at::Tensor dz = dz_in.numel() ? as_input(dz_in, z) : dz_in;
    TORCH_CHECK(!(has_az && need_g) || dz.numel() == z.numel(),
                "taafs_sk::taaf_double_backward needs the saved slope dz");
    const at::Tensor az = has_az ? as_input(*a_z_opt, z) : at::Tensor();
    std::vector<double> aw_table;
    if (has_aw) aw_table = weight_table(*a_w_opt, pb);
    const std::vector<double> wt = weight_table(weight, pb);
    SecondInputs in{has_aw ? aw_table.data() : nullptr, wt.data(), need_g, need_z, need_w};
    AT_DISPATCH_FLOATING_TYPES(st, "taaf_double_backward", [&] {
      const scalar_t* azp = has_az ? az.data_ptr<scalar_t>() : nullptr;
      const scalar_t* dzp = dz.numel() ? dz.data_ptr<scalar_t>() : nullptr;
      const scalar_t* up = norm == TANH ? u.data_ptr<scalar_t>() : nullptr;
      scalar_t* gg = need_g ? grad_g.data_ptr<scalar_t>() : nullptr;
      scalar_t* gz = need_z ? grad_z.data_ptr<scalar_t>() : nullptr;
      Accumulator* acc = need_w ? &accum : nullptr;
      if (has_az && need_z)
        double_backward_kernel<scalar_t, 2>(pb, in, azp, g.data_ptr<scalar_t>(),
                                            z.data_ptr<scalar_t>(), up, dzp, gg, gz, acc);
      else
        double_backward_kernel<scalar_t, 1>(pb, in, azp, g.data_ptr<scalar_t>(),
                                            z.data_ptr<scalar_t>(), up, dzp, gg, gz, acc);
    });
  }
  at::Tensor grad_w = need_w ? accum.reduce(pb, weight) : empty0(weight);
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
