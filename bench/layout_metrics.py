"""How the package is laid out, in numbers: files, lines, the largest file and function, import circles.

A developer's tool for issue 9 (the layout), run before and after a restructuring::

    python bench/layout_metrics.py                 # a markdown table
    python bench/layout_metrics.py --json          # the same numbers as JSON
    python bench/layout_metrics.py --timing        # also time `paddle-course --help` and `detect runn x.jpg`

The import graph is read with ``ast``, nothing is imported: an edge ``a -> b`` for every
``import paddle_course.b`` / ``from paddle_course... import ...`` in module ``a``, at the top
of the file *and* inside functions (a function-level import still ties the two modules
together; it only delays the cost).  ``from paddle_course.x import y`` counts as an edge to
``paddle_course.x.y`` when that is a module, else to ``paddle_course.x``.  A circle is a
strongly connected component of more than one module.  Importing a package also runs its
``__init__``, but that edge (child -> parent package) is left out: it is Python's, not ours.

``--levels`` prints, for each module, its level: 0 for a module that imports no other
module of the package, else one more than the highest level it imports (modules of one
circle share a level).
"""
import argparse
import ast
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "paddle_course"


def module_name(path, package_dir):
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(package_dir):
    return sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)


def _resolve(name, modules):
    """The longest prefix of ``name`` that is a module of the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path, name, modules, is_package):
    """Modules of the package imported anywhere in ``path`` (top level and in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                resolved = _resolve(target, modules)
                if resolved and resolved != name and resolved != PACKAGE:
                    found.add(resolved)
    # a child importing its own parent package is Python's doing, not a design edge
    return {m for m in found if not name.startswith(m + ".")}


def import_graph(package_dir):
    files = python_files(package_dir)
    names = {module_name(p, package_dir): p for p in files}
    return {n: imports_of(p, n, names, p.name == "__init__.py") for n, p in names.items()}


def circles(graph):
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(result)


def levels(graph):
    """Level of each module: 0 imports nothing of the package, else 1 + the highest level imported."""
    component_of = {}
    for component in circles(graph):
        for member in component:
            component_of[member] = tuple(component)
    memo = {}

    def level(node, seen=()):
        key = component_of.get(node, (node,))
        if key in memo:
            return memo[key]
        if key in seen:
            return 0
        targets = {t for member in key for t in graph[member] if t in graph and component_of.get(t, (t,)) != key}
        value = 1 + max((level(t, seen + (key,)) for t in targets), default=-1)
        memo[key] = value
        return value

    return {node: level(node) for node in graph}


#: The rooms of the package from the bottom up: a module may import its own room and the rooms below
#: it, never a room above it nor another room of its own rank (the models do not import each other).
ROOM_RANKS = {
    "common": 0,
    "boston": 1, "sentiment": 1, "detection": 1, "ocr": 1,
    "grading": 2, "hub_modules": 2,
    "tour": 3, "samples": 3, "serving": 3, "app": 3,
    "cli": 4,
    "__main__": 5,
}


def room_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph):
    """Edges that break the one-way flow: into a higher room, or sideways into another room of the same rank."""
    wrong = []
    for source, targets in sorted(graph.items()):
        room = room_of(source)
        if room is None:
            continue
        for target in sorted(targets):
            other = room_of(target)
            if other is None or other == room:
                continue
            rank, other_rank = ROOM_RANKS.get(room), ROOM_RANKS.get(other)
            if rank is None or other_rank is None or other_rank >= rank:
                wrong.append((source, target))
    return wrong


def largest_function(files, package_dir):
    best = (0, "", "")
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > best[0]:
                    best = (length, f"{path.relative_to(package_dir.parent)}:{node.lineno}", node.name)
    return best


def functions_over(files, package_dir, limit):
    rows = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    rows.append((length, f"{path.relative_to(package_dir.parent)}:{node.lineno}", node.name))
    return sorted(rows, reverse=True)


def best_of(command, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


def measure(package_dir, timing=False):
    files = python_files(package_dir)
    sizes = {str(p.relative_to(package_dir.parent)): len(p.read_text(encoding="utf-8").splitlines()) for p in files}
    largest_file = max(sizes.items(), key=lambda item: item[1])
    length, where, name = largest_function(files, package_dir)
    graph = import_graph(package_dir)
    found = circles(graph)
    module_levels = levels(graph)
    result = {
        "files": len(files),
        "lines": sum(sizes.values()),
        "largest_file": {"path": largest_file[0], "lines": largest_file[1]},
        "files_over_400": sorted(((p, n) for p, n in sizes.items() if n > 400), key=lambda x: -x[1]),
        "largest_function": {"name": name, "where": where, "lines": length},
        "functions_over_60": functions_over(files, package_dir, 60),
        "import_circles": found,
        "upward_imports": upward_imports(graph),
        "import_levels": max(module_levels.values()) + 1 if module_levels else 0,
        "top_level_rooms": sorted({n.split(".")[1] for n in graph if n.count(".") >= 1}),
    }
    if timing:
        exe = str(ROOT / ".venv" / "bin" / "paddle-course")
        result["help_seconds"] = round(best_of([exe, "--help"]), 3)
        result["detect_help_seconds"] = round(best_of([exe, "detect", "--help"]), 3)
        result["detect_typo_seconds"] = round(best_of([exe, "detect", "runn", "x.jpg"]), 3)
    return result


def markdown(result):
    rows = [
        ("Python files in paddle_course/", result["files"]),
        ("lines", result["lines"]),
        ("largest file", f"{result['largest_file']['path']} ({result['largest_file']['lines']} lines)"),
        ("files over 400 lines", len(result["files_over_400"])),
        ("largest function", f"{result['largest_function']['name']} at {result['largest_function']['where']} "
                             f"({result['largest_function']['lines']} lines)"),
        ("functions over 60 lines", len(result["functions_over_60"])),
        ("import circles", "; ".join(" <-> ".join(c) for c in result["import_circles"]) or "none"),
        ("imports into a higher or sibling room", "; ".join(f"{a} -> {b}" for a, b in result["upward_imports"])
         or "none"),
        ("import levels", result["import_levels"]),
        ("top-level rooms", len(result["top_level_rooms"])),
    ]
    for key, label in (("help_seconds", "`paddle-course --help` (best of 3)"),
                       ("detect_help_seconds", "`paddle-course detect --help` (best of 3)"),
                       ("detect_typo_seconds", "`paddle-course detect runn x.jpg` (best of 3)")):
        if key in result:
            rows.append((label, f"{result[key]:.2f} s"))
    lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    parser.add_argument("--timing", action="store_true", help="also time the CLI's --help and an argument error")
    parser.add_argument("--levels", action="store_true", help="print every module's import level")
    parser.add_argument("--package", type=Path, default=ROOT / PACKAGE, help="the package folder")
    args = parser.parse_args(argv)
    result = measure(args.package, timing=args.timing)
    if args.levels:
        graph = import_graph(args.package)
        for name, level in sorted(levels(graph).items(), key=lambda item: (item[1], item[0])):
            print(f"{level:2d}  {name}  -> {', '.join(sorted(graph[name]))}")
        return 0
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else markdown(result))
    if not args.json:
        for length, where, name in result["functions_over_60"]:
            print(f"function over 60 lines: {name} at {where} ({length})")
        for path, n in result["files_over_400"]:
            print(f"file over 400 lines: {path} ({n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
