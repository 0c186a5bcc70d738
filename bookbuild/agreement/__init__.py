"""Between execute and merge: do the tabs of each group compute the same thing?

    compare     the groups' outputs compared, and what another seed moves them (`check`)
"""
