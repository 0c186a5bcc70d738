"""Between execute and merge: do the tabs of each group compute the same thing?

    compare     the groups of every page, judged; the seed measured where they differ (`check`)
    verdicts    the verdict on one group: judged series by series, each tab by the others' noise
    numbers     a printed line's values, read inside framework reprs; timings and addresses left out
    figures     a figure's data series, as every build kernel wrote them (bookbuild/in_kernel.py)
"""
