"""The floor of a measured command: its inputs parsed and its output emitted with libyaml alone.

Run by harness.py in a child process, measured as the command is (wall and CPU time of the whole child,
Python's start included), so that a figure and its floor differ only by what the tool does beyond
reading and writing YAML. It imports nothing but the standard library and PyYAML for the same reason.

    python benchmarks/floor.py SPEC.json
        parses every file of `inputs` (YAML with yaml.load_all and CSafeLoader, JSON with json.loads,
        the fastest reader of each), then emits each of `outputs`: YAML documents with yaml.dump_all
        and CSafeDumper, text as it is. The outputs come pre-parsed from `received` (a pickle); the
        time spent unpickling them is written to `report`, and the harness subtracts it.
    python benchmarks/floor.py --parse-back PICKLE KIND:PATH...
        the other half, run once outside the timer: a command's outputs parsed back into what the floor
        emits (KIND yaml: a list of documents; text: the bytes).
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from typing import Any

import yaml


def parse_input(path: str) -> None:
    """Read and parse one input file, keeping nothing (the command keeps what it needs)."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    if path.endswith(".json"):
        json.loads(text)
    else:
        for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):
            pass


def emit(kind: str, destination: str, payload: Any) -> None:
    """Write one output where the command wrote it: "-" is this process's stdout (a file the harness
    opened, as for the command)."""
    if kind == "yaml":
        with _opened(destination) as out:
            yaml.dump_all(payload, out, Dumper=yaml.CSafeDumper, default_flow_style=False, sort_keys=False)
    elif destination == "-":
        sys.stdout.buffer.write(payload)
    else:
        with open(destination, "wb") as out:
            out.write(payload)


def _opened(destination: str) -> Any:
    return open(sys.stdout.fileno(), "w", closefd=False) if destination == "-" else open(destination, "w")


def floor(spec_path: str) -> None:
    """The timed work: parse the inputs, emit the outputs; report the unpickling to be subtracted."""
    with open(spec_path) as file:
        spec = json.load(file)
    for path in spec["inputs"]:
        parse_input(path)
    wall, cpu = time.perf_counter(), time.process_time()
    with open(spec["received"], "rb") as file:
        payloads = pickle.load(file)
    received = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    for output, payload in zip(spec["outputs"], payloads, strict=True):
        emit(output["kind"], output["to"], payload)
    sys.stdout.flush()
    with open(spec["report"], "w") as file:
        json.dump(received, file)


def parse_back(pickle_path: str, outputs: list[str]) -> None:
    """A command's outputs as the floor emits them, pickled in the order given."""
    payloads: list[Any] = []
    for output in outputs:
        kind, _, path = output.partition(":")
        with open(path, "rb") as file:
            data = file.read()
        payloads.append(list(yaml.load_all(data, Loader=yaml.CSafeLoader)) if kind == "yaml" else data)
    with open(pickle_path, "wb") as file:
        pickle.dump(payloads, file, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    if sys.argv[1] == "--parse-back":
        parse_back(sys.argv[2], sys.argv[3:])
    else:
        floor(sys.argv[1])
