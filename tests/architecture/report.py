"""The shape of the code base in figures: lines per module, imports that cross from one
app to another, and import cycles that span apps.

    .venv/bin/python -m tests.architecture.report [--modules]

"Apps" are the layers README's "How it is built" names: config; the feature apps queues,
complaints, registry.appointments, registry.deliveries, registry.central; and the
registry core (every other module under registry/). Every import statement counts, also
one inside a function (grimp reads them all); migrations are left out.
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "registry", "queues", "complaints")
FEATURES = (
    "registry.appointments",
    "registry.deliveries",
    "registry.central",
    "queues",
    "complaints",
)


def app_of(module: str) -> str:
    for app in FEATURES:
        if module == app or module.startswith(app + "."):
            return app
    if module == "config" or module.startswith("config."):
        return "config"
    return "registry"


def strongly_connected(nodes, edges):
    """Tarjan's algorithm, iterative: the components with more than one module."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", action="store_true", help="list lines per module")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = {m for m in graph.modules if ".migrations" not in m}
    edges = {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules}
        for m in modules
    }

    if args.modules:
        print("Lines per module (without migrations):")
        for module in sorted(modules):
            path = ROOT / (module.replace(".", "/") + ".py")
            if not path.exists():
                path = ROOT / module.replace(".", "/") / "__init__.py"
            print(f"  {len(path.read_text().splitlines()):5d}  {module}")
        print()

    crossing = Counter()
    for importer, imported in ((a, b) for a, targets in edges.items() for b in targets):
        if app_of(importer) != app_of(imported):
            crossing[(app_of(importer), app_of(imported))] += 1
    print(f"Imports from one app into another: {sum(crossing.values())}")
    for (source, target), count in sorted(crossing.items()):
        print(f"  {count:4d}  {source} -> {target}")
    upward = sum(n for (s, _t), n in crossing.items() if s == "registry")
    print(f"  of them from the registry core up into an app: {upward}")
    print(f"  pairs of apps with an import between them: {len(crossing)}")

    app_edges = {}
    for source, target in crossing:
        app_edges.setdefault(source, set()).add(target)
    app_cycles = strongly_connected(set(app_edges) | {t for s in app_edges.values() for t in s},
                                    app_edges)
    print(f"\nApps that import each other in a cycle: {len(app_cycles)} group(s)")
    for group in app_cycles:
        print("  " + " <-> ".join(group))

    components = strongly_connected(modules, edges)
    spanning = [c for c in components if len({app_of(m) for m in c}) > 1]
    print(f"\nModule import cycles (strongly connected groups): {len(components)}, "
          f"of which {len(spanning)} span more than one app")
    for group in components:
        print(f"  {len(group)} modules: {', '.join(group)}")


if __name__ == "__main__":
    main()
