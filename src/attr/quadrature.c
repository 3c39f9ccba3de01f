#include "attr/quadrature.h"

#include <math.h>
#include <string.h>

static const double TK_PI = 3.14159265358979323846;

/* Legendre P_n(x) and P_n'(x) by the three-term recurrence. */
static void legendre(int n, double x, double *p, double *dp)
{
    double p0 = 1.0, p1 = x;
    if (n == 0) {
        *p = 1.0;
        *dp = 0.0;
        return;
    }
    for (int k = 2; k <= n; k++) {
        double pk = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = pk;
    }
    *p = p1;
    /* (1 - x^2) P_n' = n (P_{n-1} - x P_n); nodes never reach +-1. */
    *dp = n * (p0 - x * p1) / (1.0 - x * x);
}

void tk_gauss_legendre(int n, double *node, double *weight)
{
    /* Newton from the Tricomi-style start cos(pi (k - 1/4) / (n + 1/2)),
     * k = 1..n, which is descending; stored ascending. */
    for (int k = 1; k <= n; k++) {
        double x = cos(TK_PI * (k - 0.25) / (n + 0.5));
        double p, dp;
        for (int it = 0; it < 100; it++) {
            legendre(n, x, &p, &dp);
            double dx = p / dp;
            x -= dx;
            if (fabs(dx) < 1e-16)
                break;
        }
        legendre(n, x, &p, &dp);
        node[n - k] = x;
        weight[n - k] = 2.0 / ((1.0 - x * x) * dp * dp);
    }
    /* Symmetrise as numpy does, then make the weights sum to exactly 2. */
    double sum = 0.0;
    for (int i = 0; i < n / 2; i++) {
        int j = n - 1 - i;
        double x = 0.5 * (node[j] - node[i]);
        double w = 0.5 * (weight[i] + weight[j]);
        node[i] = -x;
        node[j] = x;
        weight[i] = weight[j] = w;
    }
    if (n % 2 == 1)
        node[n / 2] = 0.0;
    for (int i = 0; i < n; i++)
        sum += weight[i];
    for (int i = 0; i < n; i++)
        weight[i] *= 2.0 / sum;
}

tk_status tk_quadrature(tk_ig_rule rule, int n, double *alpha, double *weight, tk_error *err)
{
    if (n < 1 || (rule == TK_IG_RIEMANN_TRAPEZOID && n < 2))
        return tk_error_set(err, TK_E_INVALID, "integrated gradients: %d steps are too few for rule %s",
                            n, tk_ig_rule_name(rule));
    switch (rule) {
    case TK_IG_RIEMANN_LEFT:
        for (int k = 0; k < n; k++) {
            alpha[k] = (double)k / n;
            weight[k] = 1.0 / n;
        }
        break;
    case TK_IG_RIEMANN_RIGHT:
        for (int k = 0; k < n; k++) {
            alpha[k] = (double)(k + 1) / n;
            weight[k] = 1.0 / n;
        }
        break;
    case TK_IG_RIEMANN_MIDDLE:
        for (int k = 0; k < n; k++) {
            alpha[k] = (k + 0.5) / n;
            weight[k] = 1.0 / n;
        }
        break;
    case TK_IG_RIEMANN_TRAPEZOID:
        /* The correct weights (sum 1), not captum's 1/n (METHODS.md). */
        for (int k = 0; k < n; k++) {
            alpha[k] = (double)k / (n - 1);
            weight[k] = 1.0 / (n - 1);
        }
        weight[0] *= 0.5;
        weight[n - 1] *= 0.5;
        break;
    case TK_IG_ADAPTIVE:
        return tk_error_set(err, TK_E_INTERNAL,
                            "integrated gradients: the adaptive rule has no fixed points");
    case TK_IG_GAUSS_LEGENDRE:
    default:
        tk_gauss_legendre(n, alpha, weight);
        for (int k = 0; k < n; k++) {
            alpha[k] = 0.5 * (1.0 + alpha[k]);
            weight[k] *= 0.5;
        }
        break;
    }
    return TK_OK;
}

static const struct {
    const char *name;
    tk_ig_rule rule;
} RULES[] = {
    {"gausslegendre", TK_IG_GAUSS_LEGENDRE},
    {"riemann_left", TK_IG_RIEMANN_LEFT},
    {"riemann_right", TK_IG_RIEMANN_RIGHT},
    {"riemann_middle", TK_IG_RIEMANN_MIDDLE},
    {"riemann_trapezoid", TK_IG_RIEMANN_TRAPEZOID},
    {"adaptive", TK_IG_ADAPTIVE},
    {"gauss_legendre", TK_IG_GAUSS_LEGENDRE},
    {"gl", TK_IG_GAUSS_LEGENDRE},
    {"left", TK_IG_RIEMANN_LEFT},
    {"right", TK_IG_RIEMANN_RIGHT},
    {"middle", TK_IG_RIEMANN_MIDDLE},
    {"trapezoid", TK_IG_RIEMANN_TRAPEZOID},
};

const char *tk_ig_rule_name(tk_ig_rule rule)
{
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (RULES[i].rule == rule)
            return RULES[i].name;
    return "unknown";
}

tk_status tk_ig_rule_parse(const char *name, tk_ig_rule *rule, tk_error *err)
{
    for (size_t i = 0; name != NULL && i < sizeof RULES / sizeof RULES[0]; i++)
        if (strcmp(name, RULES[i].name) == 0) {
            *rule = RULES[i].rule;
            return TK_OK;
        }
    return tk_error_set(err, TK_E_INVALID,
                        "integration rule '%s' is unknown (gausslegendre, riemann_left, "
                        "riemann_right, riemann_middle, riemann_trapezoid, adaptive)",
                        name ? name : "");
}

/* QUADPACK qk15 (Piessens et al. 1983): Kronrod nodes x_k >= 0 on [-1, 1]
 * (x_1, x_3, x_5, x_7 = 0 are the Gauss nodes), their Kronrod weights, and
 * the 7-point Gauss weights of those nodes. */
static const double XGK[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                              0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                              0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                              0.207784955007898467600689403773245, 0.0};
static const double WGK[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                              0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                              0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                              0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double WG[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                             0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

void tk_gauss_kronrod15(double a, double b, double *k_alpha, double *k_weight, double *g_alpha,
                        double *g_weight)
{
    double c = 0.5 * (a + b), h = 0.5 * (b - a);
    /* ascending: -x_0 .. -x_6, 0, x_6 .. x_0 */
    for (int i = 0; i < 7; i++) {
        k_alpha[i] = c - h * XGK[i];
        k_alpha[14 - i] = c + h * XGK[i];
        k_weight[i] = k_weight[14 - i] = h * WGK[i];
    }
    k_alpha[7] = c;
    k_weight[7] = h * WGK[7];
    for (int i = 0; i < 3; i++) {
        g_alpha[i] = k_alpha[2 * i + 1];
        g_alpha[6 - i] = k_alpha[13 - 2 * i];
        g_weight[i] = g_weight[6 - i] = h * WG[i];
    }
    g_alpha[3] = c;
    g_weight[3] = h * WG[3];
}
