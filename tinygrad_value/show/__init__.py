"""Tools that show one graph: names, graphviz drawing, the stepper, the page and its widget, the
expression language and the CLI. May import ``engine`` and ``files``; graphviz and anywidget only
where they draw. No viewer changes a number in the graph it shows.
"""
