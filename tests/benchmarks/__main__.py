"""`python -m tests.benchmarks` lists the benchmarks and how each is run;
`python -m tests.benchmarks NAME [options]` runs one (NAME as listed, options as its
own help says). `make bench` and `make bench B="NAME options"` do the same."""

import pkgutil
import runpy
import sys
from importlib import util
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = {"appointments_common", "queues_common"}  # helpers, not benchmarks


def benchmarks() -> dict[str, str]:
    found = {}
    for module in pkgutil.iter_modules([str(HERE)]):
        if module.name.startswith("_") or module.name in SHARED:
            continue
        text = (HERE / f"{module.name}.py").read_text()
        summary = text.split('"""')[1].strip().split("\n\n")[0] if '"""' in text else ""
        found[module.name] = " ".join(summary.split())
    return found


def main() -> None:
    found = benchmarks()
    if len(sys.argv) < 2:
        print("Benchmarks (python -m tests.benchmarks NAME --help for the options; most "
              "need DATABASE_URL set to PostgreSQL):\n")
        for name, summary in sorted(found.items()):
            print(f"  {name}\n      {summary}\n")
        return
    name = sys.argv[1]
    if name not in found or util.find_spec(f"tests.benchmarks.{name}") is None:
        sys.exit(f"No benchmark {name!r}; known: {', '.join(sorted(found))}")
    sys.argv = [f"tests.benchmarks.{name}", *sys.argv[2:]]
    runpy.run_module(f"tests.benchmarks.{name}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
