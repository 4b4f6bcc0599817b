/*
 * genlab_native: an optional N-API addon that lets genlab's WASM backend hand matrix products to OpenBLAS.
 *
 * The WASM backend keeps every tensor in one linear memory (an ArrayBuffer). JavaScript passes a Float32Array
 * over that memory plus element offsets; this addon runs cblas_sgemm directly on it, so no data is copied.
 * Every function validates its arguments and throws a JavaScript error instead of touching memory out of range.
 *
 * Exports:
 *   sgemm(A, aOff, aStride, B, bOff, bStride, C, cOff, batch, m, n, k, transA, transB[, alpha, beta]): batched
 *       matrix products on Float32Arrays, C = alpha op(A) op(B) + beta C (see below).
 *   bernoulli(state, P, pOff, out, outOff, n): out = 1 where u < p else 0, with u drawn from genlab's xoshiro128**
 *       generator whose state (Int32Array(4)) is advanced in place: the same draws as lib/random.ts makes.
 *   uniform(state, out, outOff, n): the uniforms themselves, as Random.uniformArray(n) draws them.
 *   conv2d(...) / conv2dBackpropInput(...) / conv2dBackpropFilter(...): NHWC convolutions and their gradients.
 *   transpose(...) / gatherRows(...) / copyRows(...): batched 2D transpose, row gather and strided row copies
 *       (4-byte elements).
 *   adam(...): one fused Adam step over a variable.
 *   elementwise(...): add, multiply (same shape or a trailing-axis broadcast), relu, step, softplus, leaky relu.
 *   groupNorm(...) / groupNormGrad(...): GroupNorm (optionally followed by SiLU) and its gradients, NHWC.
 *   compare(...) / select(...): greater (or equal) masks as bytes, and a select by such a mask.
 *   setThreads(n) / getThreads(): how many threads products, convolution helpers and elementwise passes use
 *       (see "Threads").
 *   config(): OpenBLAS's build string (core and threading model).
 *   abi: the version of this interface; lib/engine/native-addon.ts refuses an addon built from older sources.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#define GENLAB_NATIVE_ABI 5
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>

extern void openblas_set_num_threads(int);
extern char *openblas_get_config(void);

/*
 * Threads. OpenBLAS's own threading was measured to help little on genlab's shapes and to hurt on some
 * (bench/RESULTS.md, "Both engines on two cores"): a product with a tiny inner dimension (a 3x3 convolution on one
 * channel, k = 9) ran 4x slower on two OpenBLAS threads than on one, and a product with a long inner dimension
 * (a filter gradient, k = batch * pixels) did not speed up at all. So OpenBLAS always runs single-threaded here,
 * and the addon splits the work itself: a product by batch, by rows or columns of C, or by its inner dimension;
 * convolutions by blocks of output pixels or by image; elementwise passes by range. Each part is one
 * single-threaded call, on a small pool of worker threads that watch briefly for the next call, then sleep.
 */
#define GENLAB_MAX_THREADS 64

typedef void (*part_fn)(void *ctx, int64_t part, int64_t parts);

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake, finished;
  int threads;           /* requested, >= 1; the caller is one of them */
  int started;           /* worker threads running (they never exit) */
  _Atomic uint64_t generation; /* bumped once per parallel call */
  int sleeping;          /* workers waiting on `wake` */
  part_fn fn;
  void *ctx;
  int64_t parts, next, pending;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0, 0, 0, NULL, NULL, 0, 0, 0};

/* Only one parallel call at a time (Node worker threads may share this addon): others run serially. */
static pthread_mutex_t pool_caller = PTHREAD_MUTEX_INITIALIZER;

/* Claims and runs parts until none are left; called with pool.mu held, returns with it held. */
static void pool_drain(void) {
  while (pool.next < pool.parts) {
    const int64_t part = pool.next++;
    part_fn fn = pool.fn;
    void *ctx = pool.ctx;
    const int64_t parts = pool.parts;
    pthread_mutex_unlock(&pool.mu);
    fn(ctx, part, parts);
    pthread_mutex_lock(&pool.mu);
    if (--pool.pending == 0) pthread_cond_signal(&pool.finished);
  }
}

/* Nanoseconds on the monotonic clock. */
static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * How long an idle worker watches for the next call before it sleeps. A training step calls the addon every
 * few hundred microseconds, and waking a sleeping thread costs tens of microseconds (more in a VM), so workers
 * stay awake briefly; past this they sleep and cost nothing. OpenBLAS's own workers spin far longer (~0.1 s).
 */
#define GENLAB_SPIN_NS 300000

static void *pool_worker(void *arg) {
  const int index = (int)(intptr_t)arg; /* 1-based: the caller is thread 0 */
  uint64_t seen = atomic_load(&pool.generation);
  for (;;) {
    const int64_t until = now_ns() + GENLAB_SPIN_NS;
    int spins = 0;
    while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
      if ((++spins & 255) == 0 && now_ns() > until) break;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&pool.generation) == seen) {
      pool.sleeping++;
      pthread_cond_wait(&pool.wake, &pool.mu);
      pool.sleeping--;
    }
    seen = atomic_load(&pool.generation);
    if (index < pool.threads) pool_drain();
    pthread_mutex_unlock(&pool.mu);
  }
  return NULL;
}

/* Sets the thread count, starting workers as needed; returns the count in effect. */
static int pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > GENLAB_MAX_THREADS) n = GENLAB_MAX_THREADS;
  pthread_mutex_lock(&pool.mu);
  while (pool.started < n - 1) {
    pthread_t t;
    if (pthread_create(&t, NULL, pool_worker, (void *)(intptr_t)(pool.started + 1)) != 0) break;
    pthread_detach(t);
    pool.started++;
  }
  pool.threads = pool.started + 1 < n ? pool.started + 1 : n;
  n = pool.threads;
  pthread_mutex_unlock(&pool.mu);
  return n;
}

/* Runs fn(ctx, p, parts) for p in [0, parts) on the pool (the caller takes parts too) and waits for all. */
static void pool_run(part_fn fn, void *ctx, int64_t parts) {
  if (parts <= 1 || pool.threads <= 1 || pthread_mutex_trylock(&pool_caller) != 0) {
    for (int64_t p = 0; p < parts; p++) fn(ctx, p, parts);
    return;
  }
  pthread_mutex_lock(&pool.mu);
  pool.fn = fn;
  pool.ctx = ctx;
  pool.parts = parts;
  pool.next = 0;
  pool.pending = parts;
  atomic_fetch_add(&pool.generation, 1);
  if (pool.sleeping > 0) pthread_cond_broadcast(&pool.wake);
  pool_drain();
  while (pool.pending > 0) pthread_cond_wait(&pool.finished, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
  pthread_mutex_unlock(&pool_caller);
}

/* [lo, hi) of part p when n items are cut into `parts` near-equal runs whose starts are multiples of `align`. */
static void part_range(int64_t n, int64_t p, int64_t parts, int64_t align, int64_t *lo, int64_t *hi) {
  const int64_t units = (n + align - 1) / align;
  const int64_t u0 = units * p / parts, u1 = units * (p + 1) / parts;
  *lo = u0 * align < n ? u0 * align : n;
  *hi = u1 * align < n ? u1 * align : n;
}

/* Below this many floating-point operations a product runs on the calling thread (a hand-off costs ~10 us). */
#define GENLAB_PARALLEL_FLOPS 2000000.0

#define CHECK(env, call)                                                    \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error((env), NULL, "genlab_native: N-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

/* Elementwise loops are compiled for several x86 vector widths and the widest the CPU has is chosen at load time
 * (GCC function multi-versioning on glibc); elsewhere they are compiled once for the baseline target. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define GENLAB_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GENLAB_SIMD_CLONES
#endif

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value v, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* Reads v as a typed array of the wanted type: data pointer and length in elements. */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **ptr, int64_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  size_t length;
  napi_value ab;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, v, &type, &length, ptr, &ab, &byte_offset) != napi_ok) return 0;
  *len = (int64_t)length;
  return type == want;
}

static int get_f32(napi_env env, napi_value v, float **ptr, int64_t *len) {
  return get_typed(env, v, napi_float32_array, (void **)ptr, len);
}

/* Reads a (Float32Array, offset) pair whose array holds at least `need` values from the offset. */
static int get_span(napi_env env, napi_value arr, napi_value off, int64_t need, float **ptr) {
  float *data;
  int64_t len, o;
  if (!get_f32(env, arr, &data, &len) || !get_i64(env, off, &o) || o < 0 || need < 0 || o + need > len) return 0;
  *ptr = data + o;
  return 1;
}

/*
 * One sgemm call, cut into parts: by batch (split 0), by rows of C (1), by columns of C (2), or, for one product
 * with a long inner dimension and a small C (a filter or bias gradient: k = batch * pixels), by the inner
 * dimension (3): part 0 accumulates into C, the others into their own scratch blocks, added to C at the end.
 */
typedef struct {
  const float *A;
  int64_t aStride;
  const float *B;
  int64_t bStride;
  float *C;
  int64_t batch, m, n, k;
  int transA, transB;
  float alpha, beta;
  int split;
  float *scratch; /* split 3: (parts - 1) blocks of m * n */
} gemm_t;

/* C_i[r0:r1, c0:c1] (+)= alpha op(A_i)[r0:r1, k0:k1] op(B_i)[k0:k1, c0:c1], written to out (ldc n). */
static void gemm_block(const gemm_t *g, int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1, int64_t k0,
                       int64_t k1, float beta, float *out) {
  float *c = out + r0 * g->n + c0;
  if (r1 <= r0 || c1 <= c0) return;
  if (k1 <= k0) {
    for (int64_t r = r0; r < r1; r++, c += g->n)
      for (int64_t j = 0; j < c1 - c0; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    return;
  }
  /* Row-major op(A) is [m,k]: stored [m,k] (lda k) or, transposed, [k,m] (lda m); op(B) [k,n] likewise. */
  const int lda = g->transA ? (int)g->m : (int)g->k;
  const int ldb = g->transB ? (int)g->k : (int)g->n;
  const float *a = g->A + i * g->aStride + (g->transA ? k0 * g->m + r0 : r0 * g->k + k0);
  const float *b = g->B + i * g->bStride + (g->transB ? c0 * g->k + k0 : k0 * g->n + c0);
  cblas_sgemm(CblasRowMajor, g->transA ? CblasTrans : CblasNoTrans, g->transB ? CblasTrans : CblasNoTrans,
              (int)(r1 - r0), (int)(c1 - c0), (int)(k1 - k0), g->alpha, a, lda, b, ldb, beta, c, (int)g->n);
}

static void gemm_part(void *ctx, int64_t p, int64_t parts) {
  const gemm_t *g = (const gemm_t *)ctx;
  int64_t lo, hi;
  if (g->split == 0) {
    part_range(g->batch, p, parts, 1, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) gemm_block(g, i, 0, g->m, 0, g->n, 0, g->k, g->beta, g->C + i * g->m * g->n);
  } else if (g->split == 1) {
    part_range(g->m, p, parts, 8, &lo, &hi);
    for (int64_t i = 0; i < g->batch; i++) gemm_block(g, i, lo, hi, 0, g->n, 0, g->k, g->beta, g->C + i * g->m * g->n);
  } else if (g->split == 2) {
    part_range(g->n, p, parts, 16, &lo, &hi);
    for (int64_t i = 0; i < g->batch; i++) gemm_block(g, i, 0, g->m, lo, hi, 0, g->k, g->beta, g->C + i * g->m * g->n);
  } else {
    part_range(g->k, p, parts, 64, &lo, &hi);
    if (p == 0) gemm_block(g, 0, 0, g->m, 0, g->n, lo, hi, g->beta, g->C);
    else gemm_block(g, 0, 0, g->m, 0, g->n, lo, hi, 0.0f, g->scratch + (p - 1) * g->m * g->n);
  }
}

/*
 * sgemm(A, aOff, aStride, B, bOff, bStride, C, cOff, batch, m, n, k, transA, transB[, alpha, beta])
 *   for i in [0, batch): C_i[m,n] = alpha op(A_i) @ op(B_i) + beta C_i, op(A_i): [m,k], op(B_i): [k,n],
 *   row-major; alpha = 1 and beta = 0 when omitted (with beta = 0, C's previous contents are ignored).
 *   A_i = A[aOff + i*aStride ...] stored [k,m] when transA else [m,k]; B_i likewise ([n,k] when transB);
 *   C_i = C[cOff + i*m*n ...]. A stride of 0 broadcasts that operand over the batch.
 *   A, B and C may be the same Float32Array (the WASM heap).
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 14 && argc != 16) return throw_msg(env, "genlab_native.sgemm expects 14 or 16 arguments");
  double alpha = 1.0, beta = 0.0;
  if (argc == 16 && (napi_get_value_double(env, argv[14], &alpha) != napi_ok ||
                     napi_get_value_double(env, argv[15], &beta) != napi_ok))
    return throw_msg(env, "genlab_native.sgemm: alpha and beta must be numbers");
  float *A, *B, *C;
  int64_t lenA, lenB, lenC;
  if (!get_f32(env, argv[0], &A, &lenA) || !get_f32(env, argv[3], &B, &lenB) || !get_f32(env, argv[6], &C, &lenC))
    return throw_msg(env, "genlab_native.sgemm: A, B and C must be Float32Arrays");
  int64_t aOff, aStride, bOff, bStride, cOff, batch, m, n, k;
  int transA, transB;
  if (!get_i64(env, argv[1], &aOff) || !get_i64(env, argv[2], &aStride) || !get_i64(env, argv[4], &bOff) ||
      !get_i64(env, argv[5], &bStride) || !get_i64(env, argv[7], &cOff) || !get_i64(env, argv[8], &batch) ||
      !get_i64(env, argv[9], &m) || !get_i64(env, argv[10], &n) || !get_i64(env, argv[11], &k) ||
      !get_bool(env, argv[12], &transA) || !get_bool(env, argv[13], &transB))
    return throw_msg(env, "genlab_native.sgemm: offsets and sizes must be integers, transposes booleans");
  if (batch < 0 || m < 0 || n < 0 || k < 0 || aOff < 0 || bOff < 0 || cOff < 0 || aStride < 0 || bStride < 0)
    return throw_msg(env, "genlab_native.sgemm: sizes and offsets must be non-negative");
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    return throw_msg(env, "genlab_native.sgemm: matrix dimensions exceed 2^31-1");
  if (batch == 0 || m == 0 || n == 0) return NULL;
  /* Bounds: the last element each operand touches must lie inside its array. */
  if (aOff + (batch - 1) * aStride + m * k > lenA || bOff + (batch - 1) * bStride + k * n > lenB ||
      cOff + batch * m * n > lenC)
    return throw_msg(env, "genlab_native.sgemm: an operand extends past the end of its array");

  gemm_t job = {A + aOff, aStride, B + bOff, bStride, C + cOff, batch, m, n, k, transA, transB, (float)alpha,
                (float)beta, 0, NULL};
  const double flops = 2.0 * (double)batch * (double)m * (double)n * (double)k;
  int64_t parts = flops < GENLAB_PARALLEL_FLOPS ? 1 : pool.threads;
  if (parts > 1 && batch < parts) {
    const int rowsSplit = m / 8 >= parts, colsSplit = n / 16 >= parts;
    const int innerSplit = batch == 1 && k >= 1024 * parts && k >= 32 * (m > n ? m : n) && m * n <= (1 << 20);
    if (innerSplit && (job.scratch = malloc((size_t)((parts - 1) * m * n) * sizeof(float))) != NULL) job.split = 3;
    else if (rowsSplit && (m >= n || !colsSplit)) job.split = 1;
    else if (colsSplit) job.split = 2;
    else parts = 1;
  }
  pool_run(gemm_part, &job, parts);
  if (job.split == 3) {
    float *c = C + cOff;
    for (int64_t p = 1; p < parts; p++) {
      const float *t = job.scratch + (p - 1) * m * n;
      for (int64_t j = 0; j < m * n; j++) c[j] += t[j];
    }
    free(job.scratch);
  }
  return NULL;
}

/*
 * Convolutions (NHWC, as TensorFlow.js stores images). geometry is an Int32Array:
 *   [batch, inH, inW, inC, outH, outW, fH, fW, strideH, strideW, dilH, dilW, padTop, padLeft, outC].
 * The im2col matrix cols has one row per output pixel (b, oh, ow) and one column per filter tap (fh, fw, ic), matching the
 * filter layout [fH, fW, inC, outC], so conv2d is cols[rows, fH*fW*inC] @ W[fH*fW*inC, outC].
 */
typedef struct {
  int64_t batch, inH, inW, inC, outH, outW, fH, fW, sH, sW, dH, dW, padT, padL;
} geom_t;

static int get_geom(napi_env env, napi_value v, geom_t *g, int64_t *outC) {
  void *data;
  int64_t length;
  if (!get_typed(env, v, napi_int32_array, &data, &length) || length != 15) return 0;
  const int32_t *p = (const int32_t *)data;
  for (int i = 0; i < 15; i++)
    if (p[i] < 0 && (i < 12 || i == 14)) return 0;
  g->batch = p[0]; g->inH = p[1]; g->inW = p[2]; g->inC = p[3]; g->outH = p[4]; g->outW = p[5];
  g->fH = p[6]; g->fW = p[7]; g->sH = p[8]; g->sW = p[9]; g->dH = p[10]; g->dW = p[11];
  g->padT = p[12]; g->padL = p[13];
  *outC = p[14];
  return g->sH > 0 && g->sW > 0 && g->dH > 0 && g->dW > 0;
}

/*
 * The im2col rows [r0, r1) of g (row = output pixel (b, oh, ow), column = filter tap (fh, fw, ic)), starting at
 * `row`. gather: row[(fh,fw,ic)] = img[b, ih, iw, ic] (0 outside the image). scatter: img[b, ih, iw, ic] += row[...]
 * (taps outside the image are dropped).
 */
static void patch_rows(const geom_t *g, float *img0, float *row, int scatter, int64_t r0, int64_t r1) {
  const int64_t kk = g->fH * g->fW * g->inC, ohw = g->outH * g->outW;
  const size_t rowBytes = (size_t)g->inC * sizeof(float);
  for (int64_t r = r0; r < r1; r++, row += kk) {
    const int64_t b = r / ohw, oh = (r % ohw) / g->outW, ow = r % g->outW;
    float *img = img0 + b * g->inH * g->inW * g->inC;
    float *tap = row;
    for (int64_t fh = 0; fh < g->fH; fh++) {
      const int64_t ih = oh * g->sH + fh * g->dH - g->padT;
      for (int64_t fw = 0; fw < g->fW; fw++, tap += g->inC) {
        const int64_t iw = ow * g->sW + fw * g->dW - g->padL;
        const int inside = ih >= 0 && ih < g->inH && iw >= 0 && iw < g->inW;
        float *pixel = img + (ih * g->inW + iw) * g->inC;
        if (scatter) {
          if (inside)
            for (int64_t c = 0; c < g->inC; c++) pixel[c] += tap[c];
        } else if (g->inC == 1) { /* one channel (a first layer): no library call per element */
          tap[0] = inside ? pixel[0] : 0.0f;
        } else if (inside) {
          memcpy(tap, pixel, rowBytes);
        } else {
          memset(tap, 0, rowBytes);
        }
      }
    }
  }
}

/*
 * Convolutions as products of im2col blocks, NHWC (geometry as above, outC the filter's last axis; W is
 * [fH, fW, inC, outC] = [kk, outC] row-major, kk = fH fW inC; rows = batch outH outW):
 *   conv2d:               y[rows, outC] = cols[rows, kk] W (+ bias per channel)
 *   conv2dBackpropInput:  dx = col2im(dy[rows, outC] W^T)        (also conv2dTranspose's forward pass)
 *   conv2dBackpropFilter: dW[kk, outC] = cols^T dy
 * The im2col matrix is never made whole (for a 3x3 conv on 128 28x28x16 images it would be 58 MB, written and read
 * back once more from memory): each part takes blocks of R output pixels, gathers (or scatters) a block's rows in
 * its own buffer of about 256 KB, which stays in cache, and runs one single-threaded sgemm on it. Parts of
 * conv2d take runs of blocks; of the input gradient, runs of images (scatters of different images never meet);
 * of the filter gradient, runs of blocks each summed into its own dW, the partial dWs then added in part order.
 */
typedef struct {
  const geom_t *g;
  int64_t outC, kk, rows, R, blocks;
  float *x, *dy, *dx;            /* image (conv2d, filter gradient), output gradient, input gradient */
  const float *w, *bias;
  float *y, *dw;
  float *cols;                   /* parts * R * kk */
  float *partial;                /* filter gradient: (parts - 1) * kk * outC */
  int kind;                      /* 0 conv2d, 1 input gradient, 2 filter gradient */
} conv_t;

static void conv_part(void *ctx, int64_t p, int64_t parts) {
  const conv_t *t = (const conv_t *)ctx;
  const geom_t *g = t->g;
  const int64_t kk = t->kk, outC = t->outC, R = t->R;
  float *cols = t->cols + p * R * kk;
  int64_t lo, hi;
  if (t->kind == 1) {
    const int64_t ohw = g->outH * g->outW, img = g->inH * g->inW * g->inC;
    part_range(g->batch, p, parts, 1, &lo, &hi);
    memset(t->dx + lo * img, 0, (size_t)((hi - lo) * img) * sizeof(float));
    for (int64_t r0 = lo * ohw; r0 < hi * ohw; r0 += R) {
      const int64_t r1 = r0 + R < hi * ohw ? r0 + R : hi * ohw;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)kk, (int)outC, 1.0f,
                  t->dy + r0 * outC, (int)outC, t->w, (int)outC, 0.0f, cols, (int)kk);
      patch_rows(g, t->dx, cols, 1, r0, r1);
    }
    return;
  }
  part_range(t->blocks, p, parts, 1, &lo, &hi);
  float *dw = t->kind == 2 ? (p == 0 ? t->dw : t->partial + (p - 1) * kk * outC) : NULL;
  if (dw && lo == hi) memset(dw, 0, (size_t)(kk * outC) * sizeof(float));
  for (int64_t blk = lo; blk < hi; blk++) {
    const int64_t r0 = blk * R, r1 = r0 + R < t->rows ? r0 + R : t->rows;
    patch_rows(g, t->x, cols, 0, r0, r1);
    if (t->kind == 0) {
      float *y = t->y + r0 * outC;
      if (t->bias)
        for (int64_t r = r0; r < r1; r++) memcpy(y + (r - r0) * outC, t->bias, (size_t)outC * sizeof(float));
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), (int)outC, (int)kk, 1.0f, cols, (int)kk,
                  t->w, (int)outC, t->bias ? 1.0f : 0.0f, y, (int)outC);
    } else {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kk, (int)outC, (int)(r1 - r0), 1.0f, cols, (int)kk,
                  t->dy + r0 * outC, (int)outC, blk == lo ? 0.0f : 1.0f, dw, (int)outC);
    }
  }
}

/*
 * conv2d(x, xOff, w, wOff, bias, bOff, y, yOff, geometry), bias a Float32Array or null;
 * conv2dBackpropInput(dy, dyOff, w, wOff, dx, dxOff, geometry); conv2dBackpropFilter(x, xOff, dy, dyOff, dw, dwOff,
 * geometry); geometry an Int32Array(15): the 14 values above, then outC.
 */
static napi_value conv_call(napi_env env, napi_callback_info info, int kind) {
  static const char *usage[] = {
      "genlab_native.conv2d expects (x, xOff, w, wOff, bias or null, bOff, y, yOff, Int32Array(15) geometry)",
      "genlab_native.conv2dBackpropInput expects (dy, dyOff, w, wOff, dx, dxOff, Int32Array(15) geometry)",
      "genlab_native.conv2dBackpropFilter expects (x, xOff, dy, dyOff, dw, dwOff, Int32Array(15) geometry)",
  };
  const size_t want = kind == 0 ? 9 : 7;
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  geom_t g;
  int64_t outC;
  if (argc != want || !get_geom(env, argv[want - 1], &g, &outC) || outC < 1) return throw_msg(env, usage[kind]);
  conv_t t = {&g, outC, g.fH * g.fW * g.inC, g.batch * g.outH * g.outW, 0, 0, NULL, NULL, NULL, NULL, NULL,
              NULL, NULL, NULL, NULL, kind};
  const int64_t image = g.batch * g.inH * g.inW * g.inC, out = t.rows * outC, filter = t.kk * outC;
  float *w = NULL, *bias = NULL;
  int ok;
  if (kind == 0) {
    napi_valuetype bt;
    ok = get_span(env, argv[0], argv[1], image, &t.x) && get_span(env, argv[2], argv[3], filter, &w) &&
         get_span(env, argv[6], argv[7], out, &t.y) && napi_typeof(env, argv[4], &bt) == napi_ok &&
         (bt == napi_null || get_span(env, argv[4], argv[5], outC, &bias));
  } else if (kind == 1) {
    ok = get_span(env, argv[0], argv[1], out, &t.dy) && get_span(env, argv[2], argv[3], filter, &w) &&
         get_span(env, argv[4], argv[5], image, &t.dx);
  } else {
    ok = get_span(env, argv[0], argv[1], image, &t.x) && get_span(env, argv[2], argv[3], out, &t.dy) &&
         get_span(env, argv[4], argv[5], filter, &t.dw);
  }
  if (!ok) return throw_msg(env, usage[kind]);
  if (t.kk > INT32_MAX || t.rows > INT32_MAX || outC > INT32_MAX) return throw_msg(env, "genlab_native: convolution too large");
  t.w = w;
  t.bias = bias;
  if (t.rows == 0 || t.kk == 0) {
    if (kind == 1) memset(t.dx, 0, (size_t)image * sizeof(float));
    if (kind == 2) memset(t.dw, 0, (size_t)filter * sizeof(float));
    return NULL;
  }
  /* Blocks of R output pixels whose im2col rows take about 256 KB (R a multiple of 8, 8 to 2048). */
  t.R = (65536 / t.kk) & ~(int64_t)7;
  t.R = t.R < 8 ? 8 : t.R > 2048 ? 2048 : t.R;
  t.blocks = (t.rows + t.R - 1) / t.R;
  const double flops = 2.0 * (double)t.rows * (double)t.kk * (double)outC;
  int64_t parts = flops < GENLAB_PARALLEL_FLOPS ? 1 : pool.threads;
  const int64_t units = kind == 1 ? g.batch : t.blocks;
  if (parts > units) parts = units;
  t.cols = malloc((size_t)(parts * t.R * t.kk) * sizeof(float));
  t.partial = kind == 2 && parts > 1 ? malloc((size_t)((parts - 1) * filter) * sizeof(float)) : NULL;
  if (!t.cols || (kind == 2 && parts > 1 && !t.partial)) {
    free(t.cols);
    free(t.partial);
    return throw_msg(env, "genlab_native: out of memory for a convolution");
  }
  pool_run(conv_part, &t, parts);
  for (int64_t p = 1; kind == 2 && p < parts; p++) {
    const float *s = t.partial + (p - 1) * filter;
    for (int64_t j = 0; j < filter; j++) t.dw[j] += s[j];
  }
  free(t.cols);
  free(t.partial);
  return NULL;
}

static napi_value conv2d(napi_env env, napi_callback_info info) { return conv_call(env, info, 0); }
static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) { return conv_call(env, info, 1); }
static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) { return conv_call(env, info, 2); }

/*
 * transpose(src, srcOff, dst, dstOff, batch, rows, cols): for each of `batch` matrices,
 *   dst[b, c, r] = src[b, r, c]   (src [batch, rows, cols] -> dst [batch, cols, rows], 4-byte elements),
 * in 32x32 tiles so both sides stay in cache.
 */
static napi_value transpose(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *src, *dst;
  int64_t srcLen, dstLen, srcOff, dstOff, batch, rows, cols;
  if (argc != 7 || !get_f32(env, argv[0], &src, &srcLen) || !get_i64(env, argv[1], &srcOff) ||
      !get_f32(env, argv[2], &dst, &dstLen) || !get_i64(env, argv[3], &dstOff) || !get_i64(env, argv[4], &batch) ||
      !get_i64(env, argv[5], &rows) || !get_i64(env, argv[6], &cols))
    return throw_msg(env, "genlab_native.transpose expects (Float32Array, offset, Float32Array, offset, batch, rows, cols)");
  if (srcOff < 0 || dstOff < 0 || batch < 0 || rows < 0 || cols < 0) return throw_msg(env, "genlab_native.transpose: negative size");
  const int64_t size = batch * rows * cols;
  if (srcOff + size > srcLen || dstOff + size > dstLen) return throw_msg(env, "genlab_native.transpose: out of range");
  const int64_t T = 32;
  for (int64_t b = 0; b < batch; b++) {
    const float *S = src + srcOff + b * rows * cols;
    float *D = dst + dstOff + b * rows * cols;
    for (int64_t r0 = 0; r0 < rows; r0 += T) {
      const int64_t r1 = r0 + T < rows ? r0 + T : rows;
      for (int64_t c0 = 0; c0 < cols; c0 += T) {
        const int64_t c1 = c0 + T < cols ? c0 + T : cols;
        for (int64_t r = r0; r < r1; r++)
          for (int64_t c = c0; c < c1; c++) D[c * rows + r] = S[r * cols + c];
      }
    }
  }
  return NULL;
}

/*
 * gatherRows(src, srcOff, nRows, rowLen, idx, idxOff, nIdx, dst, dstOff) -> boolean:
 *   dst[i, :] = src[idx[i], :] for i < nIdx (rows of rowLen 4-byte elements). Returns false, copying nothing,
 *   when an index is outside [0, nRows) so the caller can defer to the original kernel's error.
 */
static napi_value gather_rows(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *src, *dst;
  void *idxData;
  int64_t srcLen, dstLen, idxLen, srcOff, nRows, rowLen, idxOff, nIdx, dstOff;
  if (argc != 9 || !get_f32(env, argv[0], &src, &srcLen) || !get_i64(env, argv[1], &srcOff) ||
      !get_i64(env, argv[2], &nRows) || !get_i64(env, argv[3], &rowLen) ||
      !get_typed(env, argv[4], napi_int32_array, &idxData, &idxLen) || !get_i64(env, argv[5], &idxOff) ||
      !get_i64(env, argv[6], &nIdx) || !get_f32(env, argv[7], &dst, &dstLen) || !get_i64(env, argv[8], &dstOff))
    return throw_msg(env, "genlab_native.gatherRows: bad arguments");
  if (srcOff < 0 || nRows < 0 || rowLen < 0 || idxOff < 0 || nIdx < 0 || dstOff < 0 ||
      srcOff + nRows * rowLen > srcLen || idxOff + nIdx > idxLen || dstOff + nIdx * rowLen > dstLen)
    return throw_msg(env, "genlab_native.gatherRows: out of range");
  const int32_t *idx = (const int32_t *)idxData + idxOff;
  napi_value result;
  for (int64_t i = 0; i < nIdx; i++) {
    if (idx[i] < 0 || idx[i] >= nRows) {
      CHECK(env, napi_get_boolean(env, false, &result));
      return result;
    }
  }
  for (int64_t i = 0; i < nIdx; i++)
    memmove(dst + dstOff + i * rowLen, src + srcOff + (int64_t)idx[i] * rowLen, (size_t)rowLen * sizeof(float));
  CHECK(env, napi_get_boolean(env, true, &result));
  return result;
}

/*
 * copyRows(src, srcOff, srcStride, dst, dstOff, dstStride, rows, len): dst[r * dstStride + j] = src[r * srcStride + j]
 * for r < rows, j < len (4-byte elements, copied bit for bit): a concatenation or split along an inner axis, one
 * row of each input or output at a time. Split over the pool's threads by rows when large.
 */
typedef struct {
  const float *src;
  float *dst;
  int64_t srcStride, dstStride, rows, len;
} rows_t;

static void rows_part(void *ctx, int64_t p, int64_t parts) {
  const rows_t *t = (const rows_t *)ctx;
  int64_t lo, hi;
  part_range(t->rows, p, parts, 1, &lo, &hi);
  for (int64_t r = lo; r < hi; r++)
    memcpy(t->dst + r * t->dstStride, t->src + r * t->srcStride, (size_t)t->len * sizeof(float));
}

static napi_value copy_rows(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *src, *dst;
  int64_t srcLen, dstLen, srcOff, srcStride, dstOff, dstStride, rows, len;
  if (argc != 8 || !get_f32(env, argv[0], &src, &srcLen) || !get_i64(env, argv[1], &srcOff) ||
      !get_i64(env, argv[2], &srcStride) || !get_f32(env, argv[3], &dst, &dstLen) || !get_i64(env, argv[4], &dstOff) ||
      !get_i64(env, argv[5], &dstStride) || !get_i64(env, argv[6], &rows) || !get_i64(env, argv[7], &len))
    return throw_msg(env, "genlab_native.copyRows expects (Float32Array, offset, stride, Float32Array, offset, stride, "
                          "rows, len)");
  if (rows < 0 || len < 0 || srcOff < 0 || dstOff < 0 || srcStride < len || dstStride < len)
    return throw_msg(env, "genlab_native.copyRows: negative size, or a stride shorter than a row");
  if (rows == 0 || len == 0) return NULL;
  if (srcOff + (rows - 1) * srcStride + len > srcLen || dstOff + (rows - 1) * dstStride + len > dstLen)
    return throw_msg(env, "genlab_native.copyRows: out of range");
  rows_t job = {src + srcOff, dst + dstOff, srcStride, dstStride, rows, len};
  int64_t parts = rows * len < 65536 ? 1 : pool.threads;
  if (parts > rows) parts = rows;
  pool_run(rows_part, &job, parts);
  return NULL;
}

/*
 * adam(x, xo, m, mo, v, vo, g, go, x2, xo2, m2, mo2, v2, vo2, n, params): one fused Adam update (Kingma & Ba),
 * params = Float64Array [lr, beta1, beta2, epsilon, c1, c2] with c = 1 - beta^t the bias corrections:
 *   m2 = b1 m + (1 - b1) g,   v2 = b2 v + (1 - b2) g^2,   x2 = x - lr (m2 / c1) / (sqrt(v2 / c2) + eps).
 * In float32, operation by operation as tf.train.adam computes it.
 */
static void adam_update(const float *restrict x, const float *restrict m, const float *restrict v,
                        const float *restrict g, float *restrict x2, float *restrict m2, float *restrict v2,
                        int64_t n, float lr, float b1, float b2, float eps, float c1, float c2);

static napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 16) return throw_msg(env, "genlab_native.adam expects 16 arguments");
  float *arr[7];
  int64_t len[7], off[7], n, plen;
  void *pdata;
  for (int i = 0; i < 7; i++) {
    if (!get_f32(env, argv[2 * i], &arr[i], &len[i]) || !get_i64(env, argv[2 * i + 1], &off[i]))
      return throw_msg(env, "genlab_native.adam: (Float32Array, offset) pairs expected");
  }
  if (!get_i64(env, argv[14], &n) || !get_typed(env, argv[15], napi_float64_array, &pdata, &plen) || plen != 6)
    return throw_msg(env, "genlab_native.adam: n and Float64Array(6) params expected");
  for (int i = 0; i < 7; i++)
    if (n < 0 || off[i] < 0 || off[i] + n > len[i]) return throw_msg(env, "genlab_native.adam: out of range");
  const double *p = (const double *)pdata;
  const float lr = (float)p[0], b1 = (float)p[1], b2 = (float)p[2], eps = (float)p[3], c1 = (float)p[4], c2 = (float)p[5];
  adam_update(arr[0] + off[0], arr[1] + off[1], arr[2] + off[2], arr[3] + off[3], arr[4] + off[4], arr[5] + off[5],
              arr[6] + off[6], n, lr, b1, b2, eps, c1, c2);
  return NULL;
}

/*
 * The loop of adam() on its own, with non-aliasing (restrict) pointers: the kernel always writes fresh outputs, so
 * the compiler may vectorise (SSE everywhere; AVX2 and AVX-512 clones picked at load time where the CPU has them).
 */
GENLAB_SIMD_CLONES
static void adam_update(const float *restrict x, const float *restrict m, const float *restrict v,
                        const float *restrict g, float *restrict x2, float *restrict m2, float *restrict v2,
                        int64_t n, float lr, float b1, float b2, float eps, float c1, float c2) {
  const float a1 = 1.0f - b1, a2 = 1.0f - b2;
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * b1 + g[i] * a1;
    const float vi = v[i] * b2 + (g[i] * g[i]) * a2;
    m2[i] = mi;
    v2[i] = vi;
    x2[i] = (mi / c1) / (sqrtf(vi / c2) + eps) * -lr + x[i];
  }
}

/*
 * bernoulli(state, P, pOff, out, outOff, n): for i in [0, n), u_i = float32(r_i / 2^32) with r_i the next output
 * of xoshiro128** (state: Int32Array(4), advanced in place), and out_i = 1 if u_i < p_i, 0 if not, NaN if p_i is
 * NaN. The same numbers as `step(p - u)` with u from Random.uniformArray(n) (for floats, p - u > 0 iff p > u).
 */
static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/* The next output of xoshiro128** as float32(r / 2^32), advancing s in place: Random.nextUint32() / 2^32. */
static inline float next_uniform(uint32_t *s) {
  const uint32_t r = rotl32(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return (float)((double)r * (1.0 / 4294967296.0));
}

static napi_value bernoulli(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *st;
  int64_t stLen, pLen, outLen, pOff, outOff, n;
  float *P, *out;
  if (argc != 6 || !get_typed(env, argv[0], napi_int32_array, &st, &stLen) || stLen != 4 ||
      !get_f32(env, argv[1], &P, &pLen) || !get_i64(env, argv[2], &pOff) || !get_f32(env, argv[3], &out, &outLen) ||
      !get_i64(env, argv[4], &outOff) || !get_i64(env, argv[5], &n))
    return throw_msg(env, "genlab_native.bernoulli(state: Int32Array(4), P, pOff, out, outOff, n) expected");
  if (n < 0 || pOff < 0 || outOff < 0 || pOff + n > pLen || outOff + n > outLen)
    return throw_msg(env, "genlab_native.bernoulli: out of range");
  uint32_t s[4];
  memcpy(s, st, sizeof s);
  const float *p = P + pOff;
  float *o = out + outOff;
  for (int64_t i = 0; i < n; i++) {
    const float u = next_uniform(s);
    const float pi = p[i];
    o[i] = pi != pi ? pi : (u < pi ? 1.0f : 0.0f);
  }
  memcpy(st, s, sizeof s);
  return NULL;
}

/*
 * uniform(state, out, outOff, n): out_i = float32(r_i / 2^32) for the next n outputs r_i of xoshiro128** (state
 * advanced in place): the numbers Random.uniformArray(n) returns, a few times faster.
 */
static napi_value uniform(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *st;
  int64_t stLen, outLen, outOff, n;
  float *out;
  if (argc != 4 || !get_typed(env, argv[0], napi_int32_array, &st, &stLen) || stLen != 4 ||
      !get_f32(env, argv[1], &out, &outLen) || !get_i64(env, argv[2], &outOff) || !get_i64(env, argv[3], &n))
    return throw_msg(env, "genlab_native.uniform(state: Int32Array(4), out, outOff, n) expected");
  if (n < 0 || outOff < 0 || outOff + n > outLen) return throw_msg(env, "genlab_native.uniform: out of range");
  uint32_t s[4];
  memcpy(s, st, sizeof s);
  float *o = out + outOff;
  for (int64_t i = 0; i < n; i++) o[i] = next_uniform(s);
  memcpy(st, s, sizeof s);
  return NULL;
}

/*
 * elementwise(op, a, aOff, b, bOff, period, out, outOff, n, alpha[, block]): one pass over n float32 values, split
 * over the pool's threads, for the large elementwise kernels of a training step (bias adds on activations, ReLU and
 * its gradient, the Bernoulli loss's softplus):
 *   op 0 add:      out[i] = a[i] + b[j],  j = (i / block) period + i % period
 *                  (period = n: same shape; block = n (the default): b broadcast over rows; block < n: a
 *                  different b row for each block of block / period rows, e.g. a per-(example, channel) shift)
 *   op 1 multiply: out[i] = a[i] * b[j]
 *   op 2 relu:     out[i] = a[i] < 0 ? 0 : a[i]        (NaN stays NaN, as in tfjs)
 *   op 3 step:     out[i] = a[i] > 0 ? 1 : alpha       (NaN stays NaN)
 *   op 4 softplus: out[i] = log(1 + exp(a[i])), computed as TensorFlow.js does (exp below, x above the
 *                  float32 thresholds).
 *   op 5 leaky relu: out[i] = a[i] < 0 ? alpha a[i] : a[i]   (NaN stays NaN)
 * b, bOff and period are ignored by ops 2-5 (pass a and 1).
 */
typedef struct {
  int op;
  const float *a, *b;
  float *out;
  int64_t n, period, block;
  float alpha;
} ew_t;

/* rows of len values: o[r, i] = a[r, i] op b[i] (rows = 1 for two tensors of one shape). */
GENLAB_SIMD_CLONES
static void ew_binary(int op, const float *restrict a, const float *restrict b, float *restrict o, int64_t rows,
                      int64_t len) {
  for (int64_t r = 0; r < rows; r++, a += len, o += len) {
    if (op == 0)
      for (int64_t i = 0; i < len; i++) o[i] = a[i] + b[i];
    else
      for (int64_t i = 0; i < len; i++) o[i] = a[i] * b[i];
  }
}

GENLAB_SIMD_CLONES
static void ew_unary(int op, const float *restrict a, float *restrict o, int64_t len, float alpha) {
  if (op == 2) {
    for (int64_t i = 0; i < len; i++) o[i] = a[i] < 0.0f ? 0.0f : a[i];
  } else if (op == 3) {
    for (int64_t i = 0; i < len; i++) o[i] = a[i] != a[i] ? a[i] : a[i] > 0.0f ? 1.0f : alpha;
  } else if (op == 5) {
    for (int64_t i = 0; i < len; i++) o[i] = a[i] < 0.0f ? alpha * a[i] : a[i];
  } else {
    const float threshold = logf(1.1920928955078125e-7f) + 2.0f; /* as tfjs-backend-cpu's Softplus */
    for (int64_t i = 0; i < len; i++) {
      const float x = a[i], e = expf(x);
      o[i] = x < threshold ? e : x > -threshold ? x : logf(e + 1.0f);
    }
  }
}

static void ew_part(void *ctx, int64_t p, int64_t parts) {
  const ew_t *e = (const ew_t *)ctx;
  int64_t lo, hi;
  if (e->op >= 2 || e->period == e->n) {
    part_range(e->n, p, parts, 16, &lo, &hi);
    if (e->op >= 2) ew_unary(e->op, e->a + lo, e->out + lo, hi - lo, e->alpha);
    else ew_binary(e->op, e->a + lo, e->b + lo, e->out + lo, 1, hi - lo);
    return;
  }
  /* Rows of `period` values; the rows of one block share one row of b. */
  const int64_t perBlock = e->block / e->period;
  part_range(e->n / e->period, p, parts, 1, &lo, &hi);
  for (int64_t r = lo; r < hi;) {
    const int64_t blk = r / perBlock, end = (blk + 1) * perBlock < hi ? (blk + 1) * perBlock : hi;
    ew_binary(e->op, e->a + r * e->period, e->b + blk * e->period, e->out + r * e->period, end - r, e->period);
    r = end;
  }
}

static napi_value elementwise(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t op, aOff, bOff, period, outOff, n, aLen, bLen, outLen, block = -1;
  double alpha;
  float *a, *b, *out;
  if ((argc != 10 && argc != 11) || (argc == 11 && !get_i64(env, argv[10], &block)) || !get_i64(env, argv[0], &op) || !get_f32(env, argv[1], &a, &aLen) || !get_i64(env, argv[2], &aOff) ||
      !get_f32(env, argv[3], &b, &bLen) || !get_i64(env, argv[4], &bOff) || !get_i64(env, argv[5], &period) ||
      !get_f32(env, argv[6], &out, &outLen) || !get_i64(env, argv[7], &outOff) || !get_i64(env, argv[8], &n) ||
      napi_get_value_double(env, argv[9], &alpha) != napi_ok)
    return throw_msg(env, "genlab_native.elementwise expects (op, Float32Array, offset, Float32Array, offset, period, "
                          "Float32Array, offset, n, alpha[, block])");
  if (op < 0 || op > 5) return throw_msg(env, "genlab_native.elementwise: op must be 0-5");
  if (n < 0 || aOff < 0 || bOff < 0 || outOff < 0 || aOff + n > aLen || outOff + n > outLen)
    return throw_msg(env, "genlab_native.elementwise: out of range");
  if (n == 0) return NULL;
  if (block < 0) block = n;
  if (op <= 1 && (period < 1 || n % period != 0 || block < period || block % period != 0 || n % block != 0 ||
                  bOff + (n / block) * period > bLen))
    return throw_msg(env, "genlab_native.elementwise: period must divide block, block n, and b must hold "
                          "(n / block) * period values");
  ew_t job = {(int)op, a + aOff, b + bOff, out + outOff, n, op <= 1 ? period : n, op <= 1 ? block : n, (float)alpha};
  int64_t parts = n < 65536 ? 1 : pool.threads;
  if (op <= 1 && job.period < n && parts > n / job.period) parts = n / job.period;
  pool_run(ew_part, &job, parts);
  return NULL;
}

/*
 * GroupNorm (Wu & He 2018) on NHWC maps, optionally followed by SiLU, forward and backward. dims is an Int32Array
 * [n, hw, c, groups]: x [n, hw, c] with its channels cut into `groups` groups of cg = c / groups, and each
 * (example, group) normalised over its M = hw * cg values:
 *   mean_g = sum x / M,   rstd_g = 1 / sqrt(sum (x - mean_g)^2 / M + eps),
 *   xhat = (x - mean_g) rstd_g,   z = gamma xhat + beta,   y = z, or with SiLU y = z sigmoid(z).
 * groupNorm(x, xOff, gamma, gOff, beta, bOff, y, yOff, stats, sOff, dims, eps, silu) writes y and
 *   stats [n, groups, 2] = (mean_g, rstd_g), which the backward pass reads.
 * groupNormGrad(dy, dyOff, x, xOff, gamma, gOff, beta, bOff, stats, sOff, dx, dxOff, dgamma, dgOff, dbeta, dbOff,
 *   dims, silu), with dz = dy (after SiLU: dz = dy s (1 + z (1 - s)), s = sigmoid(z), z recomputed from x) and
 *   dxhat = gamma dz:
 *   dx = rstd_g (dxhat - mean_g(dxhat) - xhat mean_g(dxhat xhat)),  dgamma = sum_{n,hw} dz xhat,  dbeta = sum_{n,hw} dz.
 * Sums are taken in double, per channel first (a vector loop over channels), then per group. Examples are
 * independent: the pool's parts take runs of examples; the per-example sums of dgamma and dbeta are added in
 * example order afterwards, so no result depends on the thread count.
 */
typedef struct {
  const float *x, *gamma, *beta, *dy;
  float *y, *stats, *dx;
  double *sums;   /* backward: per example [n, 2, c]: sum dz xhat, sum dz */
  double *acc;    /* per part: c doubles */
  float *chan;    /* per part: 4 c floats (mean, rstd, and the backward's two group means, per channel) */
  int64_t n, hw, c, groups;
  float eps;
  int silu;
} gn_t;

/* acc[ch] = sum_p x[p, ch], or with a centre sum_p (x[p, ch] - centre[ch])^2. */
GENLAB_SIMD_CLONES
static void gn_channel_sums(const float *restrict x, int64_t hw, int64_t c, const float *restrict centre,
                            double *restrict acc) {
  for (int64_t ch = 0; ch < c; ch++) acc[ch] = 0.0;
  for (int64_t p = 0; p < hw; p++, x += c) {
    if (centre) {
      for (int64_t ch = 0; ch < c; ch++) {
        const float d = x[ch] - centre[ch];
        acc[ch] += (double)(d * d);
      }
    } else {
      for (int64_t ch = 0; ch < c; ch++) acc[ch] += (double)x[ch];
    }
  }
}

/* Per group: value = f(sum of acc over the group's channels), broadcast back to each of its channels. */
static void gn_per_group(const gn_t *t, const double *acc, const float *weight, float *perChannel, float *stats,
                         int which) {
  const int64_t cg = t->c / t->groups;
  const double M = (double)(t->hw * cg);
  for (int64_t g = 0; g < t->groups; g++) {
    double s = 0.0;
    for (int64_t j = g * cg; j < (g + 1) * cg; j++) s += weight ? (double)weight[j] * acc[j] : acc[j];
    float v;
    if (which == 0) v = (float)(s / M);                                      /* mean */
    else if (which == 1) v = (float)(1.0 / sqrt(s / M + (double)t->eps));   /* rstd */
    else v = (float)(s / M);                                                 /* a mean of dxhat terms */
    if (stats) stats[2 * g + (which == 1)] = v;
    for (int64_t j = g * cg; j < (g + 1) * cg; j++) perChannel[j] = v;
  }
}

/*
 * exp(x) in float32, within a few ulp of expf, written so that loops calling it vectorise (expf does not): x = n ln2
 * + r with |r| <= ln2/2 (Cody-Waite), exp(r) by Cephes' degree-6 polynomial, 2^n put into the exponent bits. x is
 * clamped to [-87.3, 88.4] (below: ~1e-38 instead of a denormal or 0; above: ~3e38 instead of infinity, which
 * sigmoid and SiLU do not tell apart); NaN stays NaN.
 */
static inline float vexpf(float x) {
  float xc = x > 88.3762626647949f ? 88.3762626647949f : x;
  xc = xc < -87.3365447504f ? -87.3365447504f : xc;
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(x / ln2) */
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale;
  scale.i = ((int32_t)(n == n ? n : 0.0f) + 127) << 23;
  return p * scale.f;
}

/* y = z or SiLU(z) = z / (1 + exp(-z)), z = (x - mean) rstd gamma + beta, for hw pixels of c channels. */
GENLAB_SIMD_CLONES
static void gn_apply(const float *restrict x, float *restrict y, int64_t hw, int64_t c, const float *restrict mean,
                     const float *restrict rstd, const float *restrict gamma, const float *restrict beta, int silu) {
  for (int64_t p = 0; p < hw; p++, x += c, y += c) {
    if (silu) {
      for (int64_t ch = 0; ch < c; ch++) {
        const float z = (x[ch] - mean[ch]) * rstd[ch] * gamma[ch] + beta[ch];
        y[ch] = z / (1.0f + vexpf(-z));
      }
    } else {
      for (int64_t ch = 0; ch < c; ch++) y[ch] = (x[ch] - mean[ch]) * rstd[ch] * gamma[ch] + beta[ch];
    }
  }
}

/* Backward pass 1: dz into dz (after SiLU: dy s (1 + z (1 - s))), and per channel sg += dz xhat, sb += dz. */
GENLAB_SIMD_CLONES
static void gn_dz(const float *restrict x, const float *restrict dy, float *restrict dz, int64_t hw, int64_t c,
                  const float *restrict mean, const float *restrict rstd, const float *restrict gamma,
                  const float *restrict beta, int silu, double *restrict sg, double *restrict sb) {
  for (int64_t p = 0; p < hw; p++, x += c, dy += c, dz += c) {
    for (int64_t ch = 0; ch < c; ch++) {
      const float xh = (x[ch] - mean[ch]) * rstd[ch];
      float d = dy[ch];
      if (silu) {
        const float z = xh * gamma[ch] + beta[ch], s = 1.0f / (1.0f + vexpf(-z));
        d = d * (s * (1.0f + z * (1.0f - s)));
      }
      dz[ch] = d;
      sg[ch] += (double)(d * xh);
      sb[ch] += (double)d;
    }
  }
}

/* Backward pass 2: dx = rstd (gamma dz - k1 - xhat k2), dz read from dx. */
GENLAB_SIMD_CLONES
static void gn_dx(const float *restrict x, float *restrict dx, int64_t hw, int64_t c, const float *restrict mean,
                  const float *restrict rstd, const float *restrict gamma, const float *restrict k1,
                  const float *restrict k2) {
  for (int64_t p = 0; p < hw; p++, x += c, dx += c) {
    for (int64_t ch = 0; ch < c; ch++) {
      const float xh = (x[ch] - mean[ch]) * rstd[ch];
      dx[ch] = (gamma[ch] * dx[ch] - k1[ch] - xh * k2[ch]) * rstd[ch];
    }
  }
}

static void gn_forward(const gn_t *t, int64_t b, double *acc, float *mean, float *rstd) {
  const int64_t hw = t->hw, c = t->c;
  const float *x = t->x + b * hw * c;
  float *stats = t->stats + b * t->groups * 2;
  gn_channel_sums(x, hw, c, NULL, acc);
  gn_per_group(t, acc, NULL, mean, stats, 0);
  gn_channel_sums(x, hw, c, mean, acc);
  gn_per_group(t, acc, NULL, rstd, stats, 1);
  gn_apply(x, t->y + b * hw * c, hw, c, mean, rstd, t->gamma, t->beta, t->silu);
}

static void gn_backward(const gn_t *t, int64_t b, float *mean, float *rstd, float *k1, float *k2) {
  const int64_t hw = t->hw, c = t->c, G = t->groups, cg = c / G;
  const float *x = t->x + b * hw * c;
  const float *stats = t->stats + b * G * 2;
  float *dx = t->dx + b * hw * c;
  double *sg = t->sums + b * 2 * c, *sb = sg + c;
  for (int64_t ch = 0; ch < c; ch++) {
    mean[ch] = stats[2 * (ch / cg)];
    rstd[ch] = stats[2 * (ch / cg) + 1];
    sg[ch] = sb[ch] = 0.0;
  }
  gn_dz(x, t->dy + b * hw * c, dx, hw, c, mean, rstd, t->gamma, t->beta, t->silu, sg, sb);
  /* Group means of dxhat = gamma dz and of dxhat xhat. */
  gn_per_group(t, sb, t->gamma, k1, NULL, 2);
  gn_per_group(t, sg, t->gamma, k2, NULL, 2);
  gn_dx(x, dx, hw, c, mean, rstd, t->gamma, k1, k2);
}

static void gn_part(void *ctx, int64_t p, int64_t parts) {
  const gn_t *t = (const gn_t *)ctx;
  int64_t b0, b1;
  part_range(t->n, p, parts, 1, &b0, &b1);
  float *chan = t->chan + p * 4 * t->c;
  for (int64_t b = b0; b < b1; b++) {
    if (t->dy) gn_backward(t, b, chan, chan + t->c, chan + 2 * t->c, chan + 3 * t->c);
    else gn_forward(t, b, t->acc + p * t->c, chan, chan + t->c);
  }
}

/* Reads dims [n, hw, c, groups] (positive, groups dividing c). */
static int get_gn_dims(napi_env env, napi_value v, gn_t *t) {
  void *data;
  int64_t length;
  if (!get_typed(env, v, napi_int32_array, &data, &length) || length != 4) return 0;
  const int32_t *d = (const int32_t *)data;
  t->n = d[0]; t->hw = d[1]; t->c = d[2]; t->groups = d[3];
  return t->n > 0 && t->hw > 0 && t->c > 0 && t->groups > 0 && t->c % t->groups == 0;
}

/* Runs the job over the pool (one part per thread, at most one per example) with per-part scratch. */
static int gn_run(gn_t *t) {
  int64_t parts = t->n * t->hw * t->c < 32768 ? 1 : pool.threads;
  if (parts > t->n) parts = t->n;
  t->acc = malloc((size_t)(parts * t->c) * sizeof(double));
  t->chan = malloc((size_t)(parts * 4 * t->c) * sizeof(float));
  if (!t->acc || !t->chan) {
    free(t->acc);
    free(t->chan);
    return 0;
  }
  pool_run(gn_part, t, parts);
  free(t->acc);
  free(t->chan);
  return 1;
}

static napi_value group_norm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  gn_t t = {0};
  double eps;
  int silu;
  if (argc != 13 || !get_gn_dims(env, argv[10], &t) || napi_get_value_double(env, argv[11], &eps) != napi_ok ||
      !get_bool(env, argv[12], &silu))
    return throw_msg(env, "genlab_native.groupNorm expects (x, xOff, gamma, gOff, beta, bOff, y, yOff, stats, sOff, "
                          "Int32Array [n, hw, c, groups] with groups dividing c, eps, silu)");
  const int64_t size = t.n * t.hw * t.c;
  float *x, *gamma, *beta, *y, *stats;
  if (!get_span(env, argv[0], argv[1], size, &x) || !get_span(env, argv[2], argv[3], t.c, &gamma) ||
      !get_span(env, argv[4], argv[5], t.c, &beta) || !get_span(env, argv[6], argv[7], size, &y) ||
      !get_span(env, argv[8], argv[9], t.n * t.groups * 2, &stats))
    return throw_msg(env, "genlab_native.groupNorm: an operand is not a Float32Array or extends past its end");
  t.x = x; t.gamma = gamma; t.beta = beta; t.y = y; t.stats = stats;
  t.eps = (float)eps;
  t.silu = silu;
  if (!gn_run(&t)) return throw_msg(env, "genlab_native.groupNorm: out of memory");
  return NULL;
}

static napi_value group_norm_grad(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  gn_t t = {0};
  int silu;
  if (argc != 18 || !get_gn_dims(env, argv[16], &t) || !get_bool(env, argv[17], &silu))
    return throw_msg(env, "genlab_native.groupNormGrad expects (dy, dyOff, x, xOff, gamma, gOff, beta, bOff, stats, "
                          "sOff, dx, dxOff, dgamma, dgOff, dbeta, dbOff, Int32Array [n, hw, c, groups], silu)");
  const int64_t size = t.n * t.hw * t.c;
  float *dy, *x, *gamma, *beta, *stats, *dx, *dgamma, *dbeta;
  if (!get_span(env, argv[0], argv[1], size, &dy) || !get_span(env, argv[2], argv[3], size, &x) ||
      !get_span(env, argv[4], argv[5], t.c, &gamma) || !get_span(env, argv[6], argv[7], t.c, &beta) ||
      !get_span(env, argv[8], argv[9], t.n * t.groups * 2, &stats) || !get_span(env, argv[10], argv[11], size, &dx) ||
      !get_span(env, argv[12], argv[13], t.c, &dgamma) || !get_span(env, argv[14], argv[15], t.c, &dbeta))
    return throw_msg(env, "genlab_native.groupNormGrad: an operand is not a Float32Array or extends past its end");
  t.dy = dy; t.x = x; t.gamma = gamma; t.beta = beta; t.stats = stats; t.dx = dx;
  t.silu = silu;
  t.sums = malloc((size_t)(t.n * 2 * t.c) * sizeof(double));
  if (!t.sums || !gn_run(&t)) {
    free(t.sums);
    return throw_msg(env, "genlab_native.groupNormGrad: out of memory");
  }
  for (int64_t ch = 0; ch < t.c; ch++) {
    double g = 0.0, s = 0.0;
    for (int64_t b = 0; b < t.n; b++) {
      g += t.sums[b * 2 * t.c + ch];
      s += t.sums[b * 2 * t.c + t.c + ch];
    }
    dgamma[ch] = (float)g;
    dbeta[ch] = (float)s;
  }
  free(t.sums);
  return NULL;
}

/*
 * compare(op, a, aOff, b, bOff, scalarB, out, outOff, n): out (a Uint8Array: tfjs's bool tensors) [i] =
 *   a[i] > b[i] (op 0) or a[i] >= b[i] (op 1), 1 or 0, with b[0] for every i when scalarB (NaN compares false);
 * select(cond, cOff, t, tOff, e, eOff, out, outOff, n): out[i] = cond[i] ? t[i] : e[i] (cond a Uint8Array).
 * The masks of a leaky ReLU's gradient (where(x > 0, dy, alpha dy)) and of dropout (u >= rate), split over the
 * pool's threads by range.
 */
typedef struct {
  int op, scalar;
  const float *a, *b, *t, *e;
  const uint8_t *cond;
  uint8_t *mask;
  float *out;
  int64_t n;
} mask_t;

GENLAB_SIMD_CLONES
static void compare_range(int op, int scalar, const float *restrict a, const float *restrict b, uint8_t *restrict o,
                          int64_t len) {
  const float b0 = scalar && len > 0 ? b[0] : 0.0f;
  if (scalar && op == 0) for (int64_t i = 0; i < len; i++) o[i] = a[i] > b0;
  else if (scalar) for (int64_t i = 0; i < len; i++) o[i] = a[i] >= b0;
  else if (op == 0) for (int64_t i = 0; i < len; i++) o[i] = a[i] > b[i];
  else for (int64_t i = 0; i < len; i++) o[i] = a[i] >= b[i];
}

GENLAB_SIMD_CLONES
static void select_range(const uint8_t *restrict c, const float *restrict t, const float *restrict e,
                         float *restrict o, int64_t len) {
  for (int64_t i = 0; i < len; i++) o[i] = c[i] ? t[i] : e[i];
}

static void mask_part(void *ctx, int64_t p, int64_t parts) {
  const mask_t *m = (const mask_t *)ctx;
  int64_t lo, hi;
  part_range(m->n, p, parts, 64, &lo, &hi);
  if (m->cond) select_range(m->cond + lo, m->t + lo, m->e + lo, m->out + lo, hi - lo);
  else compare_range(m->op, m->scalar, m->a + lo, m->scalar ? m->b : m->b + lo, m->mask + lo, hi - lo);
}

/* Reads a (Uint8Array, offset) pair whose array holds at least `need` bytes from the offset. */
static int get_bytes(napi_env env, napi_value arr, napi_value off, int64_t need, uint8_t **ptr) {
  void *data;
  int64_t len, o;
  if (!get_typed(env, arr, napi_uint8_array, &data, &len) || !get_i64(env, off, &o) || o < 0 || need < 0 ||
      o + need > len)
    return 0;
  *ptr = (uint8_t *)data + o;
  return 1;
}

static napi_value compare(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t op, n;
  int scalar;
  float *a, *b;
  uint8_t *out;
  if (argc != 9 || !get_i64(env, argv[0], &op) || (op != 0 && op != 1) || !get_bool(env, argv[5], &scalar) ||
      !get_i64(env, argv[8], &n) || !get_span(env, argv[1], argv[2], n, &a) ||
      !get_span(env, argv[3], argv[4], scalar ? 1 : n, &b) || !get_bytes(env, argv[6], argv[7], n, &out))
    return throw_msg(env, "genlab_native.compare expects (op 0 or 1, a, aOff, b, bOff, scalarB, Uint8Array out, "
                          "outOff, n) with every operand in range");
  mask_t job = {(int)op, scalar, a, b, NULL, NULL, NULL, out, NULL, n};
  pool_run(mask_part, &job, n < 65536 ? 1 : pool.threads);
  return NULL;
}

static napi_value select_values(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  uint8_t *cond;
  float *t, *e, *out;
  if (argc != 9 || !get_i64(env, argv[8], &n) || !get_bytes(env, argv[0], argv[1], n, &cond) ||
      !get_span(env, argv[2], argv[3], n, &t) || !get_span(env, argv[4], argv[5], n, &e) ||
      !get_span(env, argv[6], argv[7], n, &out))
    return throw_msg(env, "genlab_native.select expects (Uint8Array cond, cOff, t, tOff, e, eOff, out, outOff, n) "
                          "with every operand in range");
  mask_t job = {0, 0, NULL, NULL, t, e, cond, NULL, out, n};
  pool_run(mask_part, &job, n < 65536 ? 1 : pool.threads);
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t t;
  if (argc != 1 || !get_i64(env, argv[0], &t) || t < 1 || t > GENLAB_MAX_THREADS)
    return throw_msg(env, "genlab_native.setThreads expects an integer in [1, 64]");
  openblas_set_num_threads(1);
  pool_set_threads((int)t);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_int32(env, pool.threads, &out));
  return out;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  openblas_set_num_threads(1); /* see "Threads" */
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gatherRows", NULL, gather_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyRows", NULL, copy_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compare", NULL, compare, NULL, NULL, NULL, napi_enumerable, NULL},
      {"select", NULL, select_values, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adam", NULL, adam, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bernoulli", NULL, bernoulli, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uniform", NULL, uniform, NULL, NULL, NULL, napi_enumerable, NULL},
      {"elementwise", NULL, elementwise, NULL, NULL, NULL, napi_enumerable, NULL},
      {"groupNorm", NULL, group_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"groupNormGrad", NULL, group_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  napi_value abi;
  CHECK(env, napi_create_int32(env, GENLAB_NATIVE_ABI, &abi));
  CHECK(env, napi_set_named_property(env, exports, "abi", abi));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
