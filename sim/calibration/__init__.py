"""Calibration of the stochastic market to the shipped history, its validation, reserve sizing and the
historical rolling-window stress report.

    from sim.calibration.fit import calibrate          # -> Calibration (market block + fit report)
    from sim.calibration.validate import validate      # stylized facts, data vs simulated, with tolerances
    from sim.calibration.sizing import size_reserve    # smallest reserve for a depletion probability
    from sim.calibration.windows import stress_windows # every rolling window of real data replayed

Only numpy and pandas are used (no scipy): the estimators are written out in `fit.py`.
"""
