/* mathfn.c - libm behind one door; see mathfn.h. */
#include "mathfn.h"

#include <math.h>

float rf_expf(float x) { return expf(x); }
float rf_logf(float x) { return logf(x); }
float rf_log1pf(float x) { return log1pf(x); }
float rf_powf(float x, float y) { return powf(x, y); }
float rf_cosf(float x) { return cosf(x); }
float rf_sinf(float x) { return sinf(x); }
float rf_sqrtf(float x) { return sqrtf(x); }
float rf_rsqrtf(float x) { return 1.0f / sqrtf(x); }

float rf_sigmoidf(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

float rf_siluf(float x)
{
	return x / (1.0f + expf(-x));
}

float rf_softplusf(float x)
{
	return x > 20.0f ? x : log1pf(expf(x));
}

float rf_erff(float x) { return erff(x); }
float rf_tanhf(float x) { return tanhf(x); }

float rf_geluf(float x)
{
	return x * 0.5f * (1.0f + erff(x * (float)0.70710678118654752440));
}

float rf_gelu_tanhf(float x)
{
	const float beta = (float)(1.41421356237309504880 * 1.12837916709551257390 * 0.5);
	const float kappa = 0.044715f;
	const float cube = x * x * x;

	return 0.5f * x * (1.0f + tanhf(beta * (x + kappa * cube)));
}

double rf_log(double x) { return log(x); }
double rf_pow(double x, double y) { return pow(x, y); }
double rf_sqrt(double x) { return sqrt(x); }
double rf_floor(double x) { return floor(x); }
double rf_ceil(double x) { return ceil(x); }
