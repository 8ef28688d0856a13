//! A small, dependency-free L-BFGS minimiser for smooth unconstrained objectives.
//!
//! Built for the linear trainers: it is sequential and free of randomness so the same
//! inputs always produce bit-identical parameters (model artifacts are content-addressed).
//! The line search enforces the strong Wolfe conditions, so curvature pairs stay positive
//! and the inverse-Hessian approximation stays positive definite.

use std::collections::VecDeque;

/// Sufficient-decrease constant of the Armijo condition (the customary value).
const C1: f64 = 1e-4;
/// Curvature constant; 0.9 is the standard choice for quasi-Newton methods.
const C2: f64 = 0.9;
/// Objective evaluations allowed per line search (scikit-learn also uses 50).
const MAX_LINE_SEARCH: usize = 50;
/// Relative decrease of `f` that counts as "no more progress". One ulp-scale step, not
/// SciPy's `64 * eps` as used by scikit-learn: the looser value stops multinomial fits
/// with coefficients still ~1e-6 from the optimum, and a tighter optimum can only bring
/// results closer to any other solver's.
const FTOL: f64 = f64::EPSILON;

/// Stopping rules and memory size.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Upper bound on iterations (line searches), so a run always terminates.
    pub max_iter: usize,
    /// Stop once `max |gradient| <= tol * max(1, |f|)`.
    pub tol: f64,
    /// Number of correction pairs kept for the inverse-Hessian approximation.
    pub memory: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 1000,
            tol: 1e-10,
            memory: 10,
        }
    }
}

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Best point found (the last accepted iterate).
    pub x: Vec<f64>,
    /// Objective value at `x`.
    pub value: f64,
    /// Iterations (line searches) performed.
    pub iterations: usize,
    /// True when a stopping rule (gradient or relative decrease) was met, false when the
    /// iteration budget ran out, the line search failed, or the objective was non-finite.
    pub converged: bool,
}

/// Minimise `f` starting from `x0`.
///
/// `f(x, grad)` must return the objective at `x` and write its gradient into `grad`.
/// A non-finite value is treated as "step too long" by the line search, so objectives
/// that overflow far from the optimum are handled without NaN loops.
pub fn minimize(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    opts: &Options,
) -> Outcome {
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Outcome {
            x,
            value: fx,
            iterations: 0,
            converged: false,
        };
    }
    if gradient_small(&g, fx, opts.tol) {
        return Outcome {
            x,
            value: fx,
            iterations: 0,
            converged: true,
        };
    }

    let memory = opts.memory.max(1);
    let mut history: VecDeque<Pair> = VecDeque::with_capacity(memory);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alphas = vec![0.0; memory];
    let mut iterations = 0;
    let mut converged = false;

    while iterations < opts.max_iter {
        iterations += 1;
        direction(&history, &g, &mut d, &mut alphas);
        let mut dg = dot(&d, &g);
        if !(dg < 0.0 && dg.is_finite()) {
            // The quasi-Newton model went bad (round-off); restart from steepest descent.
            history.clear();
            d.iter_mut().zip(&g).for_each(|(di, gi)| *di = -gi);
            dg = -dot(&g, &g);
        }
        // Without curvature information a unit step has no natural scale, so start
        // with a step of length one in x instead (as SciPy does).
        let step0 = if history.is_empty() {
            (1.0 / norm(&d)).min(1.0)
        } else {
            1.0
        };

        let accepted = line_search(&mut f, &x, fx, &d, dg, step0, &mut x_new, &mut g_new);
        let f_new = match accepted {
            Ok(f_new) => f_new,
            Err(_) if !history.is_empty() => {
                // Possibly a poor quasi-Newton direction: retry along steepest descent.
                history.clear();
                continue;
            }
            Err(failure) => {
                // Not even steepest descent lowers f. With finite trials that means f is
                // at the floor of its floating-point resolution: as converged as it gets.
                converged = failure == Failure::NoDecrease;
                break;
            }
        };

        // Curvature pair; skipped when round-off makes it unreliable.
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy > f64::EPSILON * yy && sy.is_finite() {
            if history.len() == memory {
                history.pop_front();
            }
            history.push_back(Pair {
                rho: 1.0 / sy,
                gamma: sy / yy,
                s,
                y,
            });
        }

        let f_old = fx;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;

        if gradient_small(&g, fx, opts.tol) {
            converged = true;
            break;
        }
        if f_old - fx <= FTOL * f_old.abs().max(fx.abs()).max(1.0) {
            converged = true;
            break;
        }
    }
    Outcome {
        x,
        value: fx,
        iterations,
        converged,
    }
}

/// One correction pair of the limited-memory inverse-Hessian approximation.
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
    gamma: f64,
}

fn gradient_small(g: &[f64], f: f64, tol: f64) -> bool {
    let gmax = g.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    gmax <= tol * f.abs().max(1.0)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Two-loop recursion: `d = -H g` with the current inverse-Hessian approximation.
fn direction(history: &VecDeque<Pair>, g: &[f64], d: &mut [f64], alphas: &mut [f64]) {
    d.copy_from_slice(g);
    for (k, p) in history.iter().enumerate().rev() {
        let a = p.rho * dot(&p.s, d);
        alphas[k] = a;
        d.iter_mut().zip(&p.y).for_each(|(di, yi)| *di -= a * yi);
    }
    // Scale by the most recent curvature estimate so unit steps are usually accepted.
    let gamma = history.back().map_or(1.0, |p| p.gamma);
    d.iter_mut().for_each(|di| *di *= gamma);
    for (k, p) in history.iter().enumerate() {
        let b = p.rho * dot(&p.y, d);
        let a = alphas[k];
        d.iter_mut()
            .zip(&p.s)
            .for_each(|(di, si)| *di += (a - b) * si);
    }
    d.iter_mut().for_each(|di| *di = -*di);
}

/// Why a line search found no acceptable step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Failure {
    /// Finite values were seen, none below `f(x)`: no progress at working precision.
    NoDecrease,
    /// Every trial point was non-finite.
    NonFinite,
}

/// A trial point of the line search: step length, value and directional derivative.
#[derive(Clone, Copy)]
struct Trial {
    step: f64,
    f: f64,
    dg: f64,
}

/// Strong-Wolfe line search (bracketing then zoom, Nocedal & Wright Alg. 3.5/3.6).
///
/// On success `x_out`/`g_out` hold the accepted point and its value is returned. If the
/// budget runs out after some decrease was found, that best point is accepted anyway
/// (Armijo holds).
#[allow(clippy::too_many_arguments)]
fn line_search(
    f: &mut impl FnMut(&[f64], &mut [f64]) -> f64,
    x: &[f64],
    f0: f64,
    d: &[f64],
    dg0: f64,
    step0: f64,
    x_out: &mut [f64],
    g_out: &mut [f64],
) -> Result<f64, Failure> {
    let n = x.len();
    let mut any_finite = false;
    let mut g_trial = vec![0.0; n];
    let mut g_lo = vec![0.0; n];
    // `lo` is the best point so far satisfying Armijo; step 0 is the start point.
    let mut lo = Trial {
        step: 0.0,
        f: f0,
        dg: dg0,
    };
    let mut hi: Option<Trial> = None;
    let mut step = step0;
    let curvature = -C2 * dg0;
    let xmax = x.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1.0);
    let dmax = d.iter().fold(0.0_f64, |m, v| m.max(v.abs()));

    for _ in 0..MAX_LINE_SEARCH {
        if let Some(h) = hi {
            // Interval below the resolution of x: nothing more to learn.
            if (h.step - lo.step).abs() * dmax <= f64::EPSILON * xmax {
                break;
            }
            step = interpolate(lo, h);
        }
        x_out
            .iter_mut()
            .zip(x.iter().zip(d))
            .for_each(|(xo, (xi, di))| *xo = xi + step * di);
        let ft = f(x_out, &mut g_trial);
        let dgt = dot(&g_trial, d);
        let t = Trial {
            step,
            f: ft,
            dg: dgt,
        };
        let finite = ft.is_finite() && dgt.is_finite() && g_trial.iter().all(|v| v.is_finite());
        any_finite |= finite;

        if !finite || ft > f0 + C1 * step * dg0 || ft >= lo.f {
            hi = Some(t);
            continue;
        }
        if dgt.abs() <= curvature {
            g_out.copy_from_slice(&g_trial);
            return Ok(ft);
        }
        match hi {
            None if dgt < 0.0 => {
                // Still descending: extrapolate.
                lo = t;
                g_lo.copy_from_slice(&g_trial);
                step *= 4.0;
            }
            _ => {
                // The minimiser lies between t and whichever end the slope points to.
                if dgt * (hi.map_or(0.0, |h| h.step) - t.step) >= 0.0 || hi.is_none() {
                    hi = Some(lo);
                }
                lo = t;
                g_lo.copy_from_slice(&g_trial);
            }
        }
    }
    if lo.step > 0.0 {
        x_out
            .iter_mut()
            .zip(x.iter().zip(d))
            .for_each(|(xo, (xi, di))| *xo = xi + lo.step * di);
        g_out.copy_from_slice(&g_lo);
        Ok(lo.f)
    } else if any_finite {
        Err(Failure::NoDecrease)
    } else {
        Err(Failure::NonFinite)
    }
}

/// Next trial step inside the bracket: cubic interpolation when both ends are finite,
/// otherwise a cautious move towards `lo`; always kept away from the ends so the
/// bracket shrinks geometrically.
fn interpolate(lo: Trial, hi: Trial) -> f64 {
    let (a, b) = (lo.step, hi.step);
    let width = b - a;
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    let margin = 0.1 * width.abs();
    if !(hi.f.is_finite() && hi.dg.is_finite()) {
        return a + 0.1 * width;
    }
    let d1 = lo.dg + hi.dg - 3.0 * (lo.f - hi.f) / (a - b);
    let disc = d1 * d1 - lo.dg * hi.dg;
    let cubic = if disc >= 0.0 {
        let d2 = width.signum() * disc.sqrt();
        b - width * (hi.dg + d2 - d1) / (hi.dg - lo.dg + 2.0 * d2)
    } else {
        f64::NAN
    };
    let candidate = if cubic.is_finite() {
        cubic
    } else {
        // Quadratic through f(a), f'(a), f(b).
        let denom = 2.0 * (hi.f - lo.f - lo.dg * width);
        a - lo.dg * width * width / denom
    };
    if candidate.is_finite() {
        candidate.clamp(low + margin, high - margin)
    } else {
        a + 0.5 * width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (x[0], x[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
    }

    #[test]
    fn quadratic_reaches_exact_minimum() {
        // f = sum_i (i+1) (x_i - i)^2
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for (i, (xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                let w = (i + 1) as f64;
                let r = xi - i as f64;
                v += w * r * r;
                *gi = 2.0 * w * r;
            }
            v
        };
        let out = minimize(f, vec![10.0; 6], &Options::default());
        assert!(out.converged);
        for (i, xi) in out.x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-8, "{:?}", out.x);
        }
    }

    #[test]
    fn rosenbrock_converges() {
        let out = minimize(rosenbrock, vec![-1.2, 1.0], &Options::default());
        assert!(out.converged, "{out:?}");
        assert!(
            (out.x[0] - 1.0).abs() < 1e-6 && (out.x[1] - 1.0).abs() < 1e-6,
            "{out:?}"
        );
        assert!(out.iterations < 200);
    }

    #[test]
    fn deterministic() {
        let a = minimize(rosenbrock, vec![-1.2, 1.0], &Options::default());
        let b = minimize(rosenbrock, vec![-1.2, 1.0], &Options::default());
        assert_eq!(
            a.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(a.iterations, b.iterations);
    }

    #[test]
    fn respects_max_iter() {
        let opts = Options {
            max_iter: 3,
            ..Options::default()
        };
        let out = minimize(rosenbrock, vec![-1.2, 1.0], &opts);
        assert_eq!(out.iterations, 3);
        assert!(!out.converged);
    }

    #[test]
    fn non_finite_start_is_reported() {
        let out = minimize(
            |_x: &[f64], _g: &mut [f64]| f64::NAN,
            vec![0.0],
            &Options::default(),
        );
        assert!(!out.converged);
        assert_eq!(out.iterations, 0);
    }

    #[test]
    fn overflow_region_is_backed_off() {
        // exp blows up for large steps; the line search must shrink instead of looping.
        let f = |x: &[f64], g: &mut [f64]| {
            let e = (x[0] * 50.0).exp();
            g[0] = 50.0 * e - 100.0;
            e - 100.0 * x[0]
        };
        let out = minimize(f, vec![-20.0], &Options::default());
        assert!(out.converged, "{out:?}");
        assert!((out.x[0] - (2.0_f64).ln() / 50.0).abs() < 1e-9, "{out:?}");
    }

    #[test]
    fn unbounded_objective_terminates() {
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = -1.0;
            -x[0]
        };
        let out = minimize(
            f,
            vec![0.0],
            &Options {
                max_iter: 50,
                ..Options::default()
            },
        );
        assert!(out.iterations <= 50);
    }

    #[test]
    fn empty_problem() {
        let out = minimize(
            |_x: &[f64], _g: &mut [f64]| 1.5,
            vec![],
            &Options::default(),
        );
        assert!(out.converged);
        assert_eq!(out.value, 1.5);
    }
}
