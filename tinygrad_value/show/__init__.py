"""Tools that show one graph: names, graphviz drawing, the stepper, the page, the expression
language and the CLI. May import ``engine`` and ``files``; graphviz only when drawing.
"""
