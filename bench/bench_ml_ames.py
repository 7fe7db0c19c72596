"""House prices: RMSE of log(price) on held-out sales, training with the product's `fit_model` call.

    python bench/bench_ml_ames.py [../shared/benchdata/ames-dev.csv] [--folds 5] [--repeats 1]

Reference on held-out sales (benchdata README): ridge on one-hot 0.137, histogram gradient boosting 0.145,
their blend 0.136. Target at most 0.13, aim 0.12, under 10 minutes per training on 2 cores.
"""

from __future__ import annotations

import numpy as np
from bench_ml_common import arguments, outer_cv

from ml.evaluate import rmse_log


def main() -> None:
    args = arguments("../shared/benchdata/ames-dev.csv", "SalePrice")
    outer_cv(args, lambda y, p: rmse_log(np.asarray(y, dtype=float), p), "rmse_log", stratify=False)


if __name__ == "__main__":
    main()
