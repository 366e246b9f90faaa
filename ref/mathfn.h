/* mathfn.h - the one place ref/ takes its transcendental functions from.
 *
 * ref/README.md, rule 6: the forward pass is a pure function of (model bytes, tokens).
 * Everything it computes is IEEE add/sub/mul/div/sqrt (exactly rounded on
 * every platform) except the functions below. They live in one translation
 * unit, never inlined into callers, so the compiler cannot constant-fold them
 * differently at different -O levels, and a platform whose libm rounds
 * differently can swap in exact in-house versions here without touching the
 * forward pass.
 *
 * The composite activations spell out the formula torch uses, with each
 * intermediate rounded to fp32:
 *   rf_sigmoidf(x) = 1 / (1 + exp(-x))
 *   rf_siluf(x)    = x / (1 + exp(-x))
 *   rf_softplusf(x)= x > 20 ? x : log1p(exp(x))     (torch's beta 1, threshold 20)
 *   rf_rsqrtf(x)   = 1 / sqrt(x)
 *   rf_geluf(x)    = (x * 0.5) * (1 + erf(x * sqrt(1/2)))     (torch's GELU)
 *   rf_gelu_tanhf(x) = (0.5 * x) * (1 + tanh(b * (x + 0.044715 * x^3))),
 *                    b = sqrt(2) * (2 / sqrt(pi)) * 0.5, x^3 = (x * x) * x
 *                    (torch's GELU with approximate="tanh")
 * Pure functions; no errors.
 */
#ifndef RF_MATHFN_H
#define RF_MATHFN_H

float rf_expf(float x);
float rf_logf(float x);
float rf_log1pf(float x);
float rf_powf(float x, float y);
float rf_cosf(float x);
float rf_sinf(float x);
float rf_sqrtf(float x);
float rf_rsqrtf(float x);
float rf_sigmoidf(float x);
float rf_siluf(float x);
float rf_softplusf(float x);
float rf_erff(float x);
float rf_tanhf(float x);
float rf_geluf(float x);
float rf_gelu_tanhf(float x);

/* double precision, for scalars that Python computes in double (RoPE
 * corrections, YaRN attention factor, 1/sqrt(head_dim)) */
double rf_log(double x);
double rf_pow(double x, double y);
double rf_sqrt(double x);
double rf_floor(double x);
double rf_ceil(double x);

#endif
