"""The layout's promises: what importing each package pulls in, and the public names."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(statement: str) -> set:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_tinygrad_value_needs_neither_numpy_nor_graphviz():
    loaded = _modules_after("import tinygrad_value")
    assert "numpy" not in loaded
    assert "graphviz" not in loaded
    assert "anywidget" not in loaded
    assert "nn" not in loaded


def test_import_nn_loads_neither_the_live_view_nor_matplotlib():
    loaded = _modules_after("import nn")
    assert not {m for m in loaded if m.startswith("nn.live")}
    assert "matplotlib" not in loaded
    assert "http.server" not in loaded


def test_live_names_still_reachable_from_nn():
    import nn
    import nn.live

    assert nn.LiveView is nn.live.LiveView
    assert nn.LiveRecorder is nn.live.LiveRecorder
    with pytest.raises(AttributeError, match="no attribute 'LiveVeiw'"):
        nn.LiveVeiw  # noqa: B018 - a typo is still an AttributeError


@pytest.mark.parametrize("name", ["Value", "sum", "dot", "no_grad", "gradcheck", "GradcheckError",
                                  "draw_dot", "render_graph", "backprop_steps", "compile"])
def test_design_names_importable_from_tv(name):
    import tinygrad_value as tv

    assert hasattr(tv, name)


def test_each_folder_says_what_it_may_import():
    import importlib

    packages = sorted(_module_name(p.parent) for p in [*ROOT.joinpath("tinygrad_value").rglob(
        "__init__.py"), *ROOT.joinpath("nn").rglob("__init__.py")])
    assert {"tinygrad_value.engine", "tinygrad_value.show", "nn.live"} <= set(packages)
    for pkg in packages:
        doc = (importlib.import_module(pkg).__doc__ or "").lower()
        assert "may import" in doc or "imports" in doc, \
            f"{pkg}'s docstring does not say what it may import"


# --- which folder may import which: read from the source, so a lazy import counts too -------

ROOT = Path(__file__).resolve().parent.parent

# folder -> (packages of ours it may import, third-party packages it may import at the top of a
# module, third-party packages it may import only inside a function). The longest folder wins.
RULES = {
    "tinygrad_value": ({"tinygrad_value"}, set(), set()),
    "tinygrad_value.engine": ({"tinygrad_value.engine"}, set(), set()),
    "tinygrad_value.show": ({"tinygrad_value.engine", "tinygrad_value.show",
                             "tinygrad_value.files"}, {"anywidget", "traitlets"}, {"graphviz"}),
    "tinygrad_value.compiled": ({"tinygrad_value.engine", "tinygrad_value.compiled"},
                                {"numpy"}, {"numpy"}),
    "nn": ({"nn", "tinygrad_value"}, set(),
           {"numpy", "matplotlib", "sklearn", "mlxtend", "torch", "tqdm", "ipywidgets"}),
    "nn.live": ({"nn", "tinygrad_value"}, set(), {"numpy"}),
    "nn.nnfs": ({"nn", "tinygrad_value"}, {"numpy"}, set()),
}
# the exceptions, each with its reason
ALLOWED = {
    ("tinygrad_value.engine.value", "tinygrad_value.show.viz"):
        "Value._repr_svg_: Jupyter draws a Value, importing the renderer only then",
    ("tinygrad_value.engine.custom", "numpy"):
        "a custom op's forward run on the replay's arrays, only when tv.compile calls it",
    ("nn.live.widget", "anywidget"):
        "LiveWidget is an anywidget; nn.live loads widget.py only when LiveWidget is first used",
    ("nn.live.widget", "traitlets"): "LiveWidget's synced state (anywidget's traitlets)",
    ("nn.live.widget", "ipykernel"):
        "LiveWidget listens on a kernel subshell while fit runs in its cell (inside a function)",
}
# ``import nn`` must not load the live view: only these may import nn.live, and only lazily
LIVE_FROM = {"nn"}  # nn.__getattr__ (nn.LiveView)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path):
    """(imported module, at the top of the file?) for every import in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if
                                                                        node.module else []))
            else:
                base = node.module
            # ``from . import live`` imports the module nn.live, not just nn
            targets = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            yield target, id(node) in top


def _within(target: str, packages) -> bool:
    return any(target == p or target.startswith(p + ".") for p in packages)


def _violations():
    for path in sorted([*ROOT.joinpath("tinygrad_value").rglob("*.py"),
                        *ROOT.joinpath("nn").rglob("*.py")]):
        name = _module_name(path)
        folder = max((f for f in RULES if _within(name, [f])), key=len)
        ours, third_top, third_lazy = RULES[folder]
        for target, at_top in _imports(path):
            first = target.split(".")[0]
            if first in sys.stdlib_module_names or first == "__future__":
                continue
            if (name, target) in ALLOWED or (name, first) in ALLOWED:
                continue
            if first in ("tinygrad_value", "nn"):
                if not _within(target, ours):
                    yield f"{name} imports {target}: {folder}/ may import only {sorted(ours)}"
                elif (_within(target, ["nn.live"]) and not _within(name, ["nn.live"])
                      and (name not in LIVE_FROM or at_top)):
                    yield f"{name} imports {target}: only nn.live itself loads the live view"
            elif first not in (third_top if at_top else third_top | third_lazy):
                where = "at the top of the module" if at_top else "inside a function"
                yield f"{name} imports {target} {where}; {folder}/ may not"


def test_each_folder_imports_only_what_its_docstring_allows():
    found = list(_violations())
    assert not found, "import rule broken:\n" + "\n".join(found)


def test_the_import_rule_reads_lazy_and_relative_imports():
    """The rule must see the imports that matter: a relative one and one inside a function."""
    seen = set(_imports(ROOT / "tinygrad_value" / "engine" / "value.py"))
    assert ("tinygrad_value.show.viz", False) in seen
    assert ("tinygrad_value.engine.ops", True) in seen
    assert ("nn.live", False) in set(_imports(ROOT / "nn" / "__init__.py"))


# --- one class per name ---------------------------------------------------------------------


def test_no_two_public_classes_share_a_name():
    """Two ``Program`` classes (the replay's and the expression language's) once coexisted; a
    reader searching for a class should find one."""
    where: dict = {}
    for path in sorted([*ROOT.joinpath("tinygrad_value").rglob("*.py"),
                        *ROOT.joinpath("nn").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert not twice, f"public class names defined more than once: {twice}"


# --- what the wheel ships ---------------------------------------------------------------------


def test_package_data_globs_match_files_and_cover_every_asset():
    """Each package-data glob in pyproject.toml matches a file (no dead globs), and every
    non-Python file inside the packages is matched by one (none left out of the wheel)."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]
    shipped = set()
    for package, patterns in globs.items():
        folder = ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            matched = {p for p in folder.glob(pattern) if p.is_file()}
            assert matched, f"package-data {package!r}: {pattern!r} matches no file"
            shipped |= matched
    assets = {p for top in ("tinygrad_value", "nn") for p in ROOT.joinpath(top).rglob("*")
              if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    missing = sorted(str(p.relative_to(ROOT)) for p in assets - shipped)
    assert not missing, f"files in the packages that no package-data glob ships: {missing}"


def test_the_renderer_does_not_depend_on_the_stepper():
    """Names and number formats live in show/names.py, so drawing a graph needs no stepper."""
    for module in ("viz", "neuron_dot", "names"):
        imported = {t for t, _ in _imports(ROOT / "tinygrad_value" / "show" / f"{module}.py")}
        assert not _within_any(imported, "tinygrad_value.show.stepper"), \
            f"show/{module}.py imports the stepper; take names from show/names.py"


def _within_any(targets, package: str) -> bool:
    return any(_within(t, [package]) for t in targets)
