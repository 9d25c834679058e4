"""The engine a learner reads first: Value, the op table, backward, gradcheck, scalar maths.

Standard library only; imports nothing else from the package (``show`` is reached lazily, for
a Value's picture in Jupyter).
"""
