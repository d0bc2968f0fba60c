#!/usr/bin/env python3
"""Checks the include graph of src/ (make lint).

A module is src/NAME.c with src/NAME.h. The graph has an edge from one
module to another when either of its files includes the other's header
with #include "...". It must have no cycle: a type two layers need lives
in the lower one. And each library header stays in its own room: db.h in
the store's files (src/store*), fcgiapp.h in the FastCGI edge (src/edge.c),
json-c in the JSON module (src/json.c), OpenSSL in the digest
(src/digest.c).

Prints each violation and exits 1, or prints a one-line summary and exits 0.
"""
import fnmatch
import os
import re
import sys

QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ANGLED = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)

# library header (a glob) -> the files of src/ that may include it (globs)
CONFINED = {
    "db.h": ["store*.c", "store*.h"],
    "fcgiapp.h": ["edge.c"],
    "json-c/*": ["json.c"],
    "openssl/*": ["digest.c"],
}


def module_of(filename):
    return os.path.splitext(filename)[0]


def read_sources(src):
    files = {}
    for name in sorted(os.listdir(src)):
        if name.endswith((".c", ".h")):
            with open(os.path.join(src, name), encoding="utf-8") as f:
                files[name] = f.read()
    return files


def module_graph(files):
    graph = {}
    for name, text in files.items():
        node = module_of(name)
        graph.setdefault(node, set())
        for header in QUOTED.findall(text):
            other = module_of(header)
            if other != node:
                graph[node].add(other)
    return graph


def find_cycle(graph):
    """Returns one cycle as a list of modules, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {node: WHITE for node in graph}
    stack = []

    def visit(node):
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, BLACK) == GREY:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt) == WHITE:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def confinement_errors(files):
    errors = []
    for name, text in files.items():
        for header in ANGLED.findall(text):
            for pattern, allowed in CONFINED.items():
                if fnmatch.fnmatch(header, pattern) and not any(
                        fnmatch.fnmatch(name, a) for a in allowed):
                    errors.append("src/%s includes <%s>, which only %s may"
                                  % (name, header, ", ".join(
                                      "src/" + a for a in allowed)))
    return errors


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    files = read_sources(src)
    graph = module_graph(files)
    errors = confinement_errors(files)
    cycle = find_cycle(graph)
    if cycle:
        errors.append("the include graph of %s/ has a cycle: %s"
                      % (src, " -> ".join(cycle)))
    for error in errors:
        print("lint: " + error, file=sys.stderr)
    if errors:
        return 1
    edges = sum(len(v) for v in graph.values())
    print("lint: %d modules, %d include edges, no cycle; db.h, fcgiapp.h, "
          "json-c and OpenSSL each in their own room" % (len(graph), edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
