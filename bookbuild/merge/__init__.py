"""Stage 4, merge: executed notebooks -> staged pages of tab groups, and what readers take away.

    pages       the merged notebooks staged for the render stage (`stage`)
    outputs     an executed cell's outputs as readers get them
    downloads   readers' notebooks and the d2l wheel
"""
