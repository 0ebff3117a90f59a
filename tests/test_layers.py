"""The dependency rule of docs/ARCHITECTURE.md, checked on the source.

Arrows point one way: training -> {evaluation, data, models, objectives, loss};
evaluation -> {data, models}; data and models -> nothing else of sigjax;
loss, objectives and theory import only jax, numpy and each other. Every
import counts, function-level ones included, and no module imports itself
back through another (no cycles).
"""

import ast
import os

from helpers import ROOT

PACKAGE = os.path.join(ROOT, "sigjax")
CORE = ("sigjax.loss", "sigjax._mixture_lse", "sigjax.objectives", "sigjax.theory",
        "sigjax._fields")
# layer -> sigjax layers it may import (besides itself and the core)
ALLOWED = {
    "core": set(),
    "models": set(),
    "data": set(),
    "evaluation": {"data", "models"},
    "training": {"evaluation", "data", "models"},
}


def _layer(module: str) -> str:
  if module in CORE or module == "sigjax":
    return "core"
  return module.split(".")[1]


def _imports():
  """{module: set of sigjax modules it imports} for every file under sigjax/."""
  graph = {}
  for dirpath, _, files in os.walk(PACKAGE):
    for name in files:
      if not name.endswith(".py"):
        continue
      path = os.path.join(dirpath, name)
      rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
      module = rel[:-len(".__init__")] if rel.endswith(".__init__") else rel
      found = set()
      for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
          found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
          found.add(node.module)
          found |= {f"{node.module}.{a.name}" for a in node.names}
      graph[module] = found
  return graph


def test_every_import_points_down_the_layers():
  graph = _imports()
  bad = []
  for module, imported in graph.items():
    layer = _layer(module)
    for target in imported:
      if target not in graph:  # a third-party module, or a name inside a module
        top = target.split(".")[0]
        if top == "sigjax":  # a name imported from a sigjax module (the module is counted)
          continue
        if layer == "core" and top not in ("jax", "numpy", "__future__", "functools", "math",
                                           "typing", "dataclasses", "itertools", "collections"):
          bad.append(f"{module} imports {target}")
        continue
      other = _layer(target)
      if other not in ({layer, "core"} | ALLOWED[layer]) and target != "sigjax":
        bad.append(f"{module} ({layer}) imports {target} ({other})")
  assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles_between_modules():
  graph = _imports()
  # Edges between module files; a package's __init__ only re-exports, so it is left out.
  packages = {m for m in graph if os.path.isdir(os.path.join(ROOT, *m.split(".")))}
  edges = {m: {t for t in targets if t in graph and t not in packages and t != m}
           for m, targets in graph.items() if m not in packages}
  state = {}

  def visit(node, path):
    if state.get(node) == "done":
      return
    assert state.get(node) != "active", "import cycle: " + " -> ".join(path + [node])
    state[node] = "active"
    for nxt in edges.get(node, ()):
      visit(nxt, path + [node])
    state[node] = "done"

  for module in edges:
    visit(module, [])
