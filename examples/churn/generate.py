#!/usr/bin/env python3
"""Generate the churn example's data sets.

Synthetic, generated; licence: same as the project (Apache-2.0).

The table is shaped like the well-known telecom customer-churn data (contract,
tenure, internet service, payment method, charges, churn), but every row is
drawn here from a random generator: no real customer is behind any of it.

Churn comes from a latent logistic model: month-to-month contracts, short
tenure (through a log, so the effect fades), fiber internet, electronic-check
payment, support calls and seniority raise the odds; a few labels are then
flipped so no model can be perfect.

Files written, relative to this script's directory:

    data/train.csv                     6000 labelled rows
    data/eval.csv                      2000 labelled rows
    data/incoming/2026-11-batch.csv     500 labelled rows from a later period
                                            (more fiber, higher charges)
    data/score/to-score.csv             300 rows without `churned`

Usage: python3 examples/churn/generate.py  (no arguments; standard library only)

Reproducibility: each file has its own random.Random stream seeded from SEED,
and only Random.random() is used (the one method Python guarantees to repeat
across versions for the same seed); every other draw is derived from it
here. Floats are written with two decimals and lines end in "\\n", so two runs
produce byte-identical files.
"""

import math
import os
import random

SEED = 20260101

CONTRACTS = ["month-to-month", "one-year", "two-year"]
INTERNET = ["dsl", "fiber", "none"]
PAYMENTS = ["electronic-check", "mailed-check", "bank-transfer", "credit-card"]

COLUMNS = [
    "customer_id",
    "tenure_months",
    "contract",
    "internet_service",
    "payment_method",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "senior_citizen",
    "has_partner",
    "paperless_billing",
    "churned",
]

# name, first customer number, rows, stream, drift, labelled
FILES = [
    ("train.csv", 1, 6000, 1, False, True),
    ("eval.csv", 6001, 2000, 2, False, True),
    ("incoming/2026-11-batch.csv", 8001, 500, 3, True, True),
    ("score/to-score.csv", 8501, 300, 4, True, False),
]


class Draw:
    """Distributions built on Random.random() alone (see module docstring)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.rng.random()

    def bernoulli(self, p):
        return self.rng.random() < p

    def choice(self, items, weights):
        u = self.rng.random() * sum(weights)
        for item, w in zip(items, weights):
            if u < w:
                return item
            u -= w
        return items[-1]

    def normal(self, mu, sigma):
        # Box-Muller; 1 - random() lies in (0, 1], so the log is finite.
        u1 = 1.0 - self.rng.random()
        u2 = self.rng.random()
        return mu + sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam):
        # Knuth's method; fine for the small rates used here.
        limit = math.exp(-lam)
        k, p = 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def customer(d, drift):
    """One customer's features and churn label."""
    contract = d.choice(CONTRACTS, [0.55, 0.21, 0.24])

    # Tenure: month-to-month customers are mostly recent, two-year ones mostly
    # long-standing; ~0.5% signed up this month (tenure 0, no bill yet).
    if d.bernoulli(0.005):
        tenure = 0
    elif contract == "month-to-month":
        tenure = 1 + int(-16.0 * math.log(1.0 - d.uniform(0.0, 0.999)))
    elif contract == "one-year":
        tenure = int(d.normal(40.0, 16.0))
    else:
        tenure = int(d.normal(58.0, 14.0))
    tenure = max(1, min(72, tenure)) if tenure != 0 else 0

    # Drift: fiber's weight rises from 0.44 to 0.56 (a 50% share after normalising).
    fiber_share = 0.56 if drift else 0.44
    internet = d.choice(INTERNET, [0.34, fiber_share, 0.22])

    if contract == "month-to-month":
        payment = d.choice(PAYMENTS, [0.48, 0.20, 0.16, 0.16])
    else:
        payment = d.choice(PAYMENTS, [0.16, 0.26, 0.30, 0.28])

    senior = d.bernoulli(0.16)
    partner = d.bernoulli(0.30 + 0.006 * tenure)
    paperless = d.bernoulli(
        0.45 + (0.20 if internet == "fiber" else 0.0) - (0.20 if internet == "none" else 0.0)
    )

    # Monthly charges by service, plus add-ons (streaming, security, lines).
    if internet == "none":
        # Phone only: a basic plan, sometimes with extra lines.
        monthly = 18.25 + abs(d.normal(0.0, 2.0)) + 5.0 * d.poisson(0.2)
    elif internet == "dsl":
        monthly = d.normal(48.0, 6.0) + 5.0 * d.poisson(1.2)
    else:
        monthly = d.normal(78.0, 7.0) + 6.0 * d.poisson(1.5)
    if drift:
        monthly *= 1.06
    monthly = max(18.0, min(125.0, monthly))

    if tenure == 0:
        total = None
    else:
        # Past bills differed from today's: price changes, add-ons come and go.
        total = max(monthly * 0.5, tenure * monthly * d.normal(1.0, 0.06))

    support = min(10, d.poisson(0.9 + (0.6 if internet == "fiber" else 0.0) + (0.3 if senior else 0.0)))

    # The latent churn model.
    logit = -0.55
    logit += {"month-to-month": 0.0, "one-year": -1.5, "two-year": -2.8}[contract]
    logit += -0.55 * math.log1p(tenure)
    logit += {"dsl": 0.0, "fiber": 0.75, "none": -0.7}[internet]
    logit += 0.55 if payment == "electronic-check" else 0.0
    logit += 0.7 * support
    logit += 0.12 * max(0, support - 3) ** 1.5  # repeated trouble compounds
    logit += 0.3 if senior else 0.0
    logit += 0.15 if paperless else 0.0
    logit += -0.15 if partner else 0.0
    logit += 0.012 * (monthly - 65.0)
    churned = d.bernoulli(sigmoid(logit))
    if d.bernoulli(0.04):  # label noise: mis-recorded outcomes
        churned = not churned

    return {
        "tenure_months": str(tenure),
        "contract": contract,
        "internet_service": internet,
        "payment_method": payment,
        "monthly_charges": f"{monthly:.2f}",
        "total_charges": "" if total is None else f"{total:.2f}",
        "support_calls": str(support),
        "senior_citizen": "1" if senior else "0",
        "has_partner": "yes" if partner else "no",
        "paperless_billing": "yes" if paperless else "no",
        "churned": "yes" if churned else "no",
    }


def write(path, first_id, rows, stream, drift, labelled):
    d = Draw(SEED * 10 + stream)
    columns = COLUMNS if labelled else COLUMNS[:-1]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(columns) + "\n")
        for i in range(rows):
            row = customer(d, drift)
            row["customer_id"] = f"C{first_id + i:06d}"
            f.write(",".join(row[c] for c in columns) + "\n")


def main():
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    for name, first_id, rows, stream, drift, labelled in FILES:
        write(os.path.join(data, name), first_id, rows, stream, drift, labelled)


if __name__ == "__main__":
    main()
