"""tinygrad-value: a scalar autograd engine for seeing how backpropagation works."""

from .backward import topo_order
from .gradcheck import GradcheckError, gradcheck
from .ops import OPS, Op
from .value import Value, dot, is_grad_enabled, no_grad, sum

__all__ = ["Value", "sum", "dot", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
           "topo_order", "OPS", "Op"]
__version__ = "0.1.0"
