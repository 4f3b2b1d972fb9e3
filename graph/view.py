"""In-memory networkx view of a store snapshot, for traversals the stores need not implement.

A view is immutable and tagged with the library version it was read at; callers keep one per
version and swap it when the version moves."""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .store import GraphStore, Node


@dataclass(frozen=True)
class GraphView:
    version: int
    graph: nx.MultiDiGraph
    nodes: dict[str, Node]

    def by_label(self, label: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.label == label]

    def sources(self, node_id: str, edge: str) -> list[str]:
        """Ids of nodes with an ``edge`` pointing at ``node_id``."""
        if node_id not in self.graph:
            return []
        return sorted(u for u, _, k in self.graph.in_edges(node_id, keys=True) if k == edge)

    def targets(self, node_id: str, edge: str) -> list[str]:
        if node_id not in self.graph:
            return []
        return sorted(v for _, v, k in self.graph.out_edges(node_id, keys=True) if k == edge)


def build_view(version: int, nodes: list[Node]) -> GraphView:
    g = nx.MultiDiGraph()
    for n in nodes:
        g.add_node(n.id, label=n.label)
    for n in nodes:
        for typ, dst in n.edges:
            g.add_edge(n.id, dst, key=typ)
    return GraphView(version, g, {n.id: n for n in nodes})


def view_of(store: GraphStore) -> GraphView:
    version, nodes = store.snapshot()
    return build_view(version, nodes)
