"""tinygrad-value: a scalar autograd engine for seeing how backpropagation works.

``engine/`` is the autograd a learner reads first, ``show/`` the tools that show one graph, and
``compiled/`` the optional NumPy replay. Every public name is importable from here.
May import only its own folders, never ``nn``; NumPy, graphviz and anywidget load when used.
"""

from .compiled import compile
from .engine.anomaly import detect_anomaly, is_anomaly_enabled
from .engine.backward import backward_many as backward
from .engine.backward import grad_many as grad
from .engine.backward import topo_order
from .engine.custom import custom_op
from .engine.gradcheck import GradcheckError, gradcheck
from .engine.ops import OPS, Op
from .engine.scalar_math import manual_seed
from .engine.value import Value, dot, is_grad_enabled, no_grad, sum
from .show.bughunt import bug_hunt
from .show.expr import ExprError
from .show.html import BackpropPage, backprop_html
from .show.nudge import Nudge, nudge
from .show.quiz import Feedback, Question, Quiz
from .show.stepper import Step, backprop_steps, forward_steps, walkthrough
from .show.viz import GraphTooLarge, GraphvizNotFound, draw_dot, render_graph

__all__ = ["Value", "sum", "dot", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
           "topo_order", "backward", "grad", "OPS", "Op", "compile", "detect_anomaly",
           "is_anomaly_enabled",
           "draw_dot", "render_graph", "GraphTooLarge", "GraphvizNotFound",
           "backprop_steps", "forward_steps", "walkthrough", "Step",
           "backprop_html", "BackpropPage", "ExprError",
           "Quiz", "Question", "Feedback", "custom_op", "bug_hunt", "nudge", "Nudge",
           "manual_seed"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # tv.StepperWidget and tv.QuizWidget import anywidget (and the notebook machinery) only
    # when first used
    if name == "StepperWidget":
        from .show.widget import StepperWidget

        return StepperWidget
    if name == "QuizWidget":
        from .show.quiz_widget import QuizWidget

        return QuizWidget
    raise AttributeError(f"module 'tinygrad_value' has no attribute {name!r}")
