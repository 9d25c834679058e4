"""tinygrad-value: a scalar autograd engine for seeing how backpropagation works."""

from .backward import topo_order
from .compiled import compile
from .expr import ExprError
from .gradcheck import GradcheckError, gradcheck
from .html import BackpropPage, backprop_html
from .ops import OPS, Op
from .stepper import Step, backprop_steps, forward_steps, walkthrough
from .value import Value, dot, is_grad_enabled, no_grad, sum
from .viz import GraphTooLarge, GraphvizNotFound, draw_dot, render_graph

__all__ = ["Value", "sum", "dot", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
           "topo_order", "OPS", "Op", "compile",
           "draw_dot", "render_graph", "GraphTooLarge", "GraphvizNotFound",
           "backprop_steps", "forward_steps", "walkthrough", "Step",
           "backprop_html", "BackpropPage", "ExprError"]
__version__ = "0.1.0"
