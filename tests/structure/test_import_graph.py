"""Issue 21: the layering services → kernel, gateway → services, with no cycles anywhere."""

from __future__ import annotations

from tests.structure.imports import Import, cycles, import_graph, service_of

EDGES = import_graph()


def _show(edges: list[Import]) -> str:
    return "\n".join(f"  {e.source}:{e.line} imports {e.target}" for e in edges)


def test_no_import_cycles_between_modules() -> None:
    found = cycles(EDGES)
    assert found == [], "import cycles:\n" + "\n".join("  " + " ⇄ ".join(c) for c in found)


def test_no_service_imports_the_gateway() -> None:
    bad = [e for e in EDGES if e.source.startswith("services") and e.target.split(".")[0] == "gateway"]
    assert bad == [], "services importing the gateway:\n" + _show(bad)


def test_services_import_only_themselves_and_the_kernel() -> None:
    bad = []
    for e in EDGES:
        mine, theirs = service_of(e.source), service_of(e.target)
        if mine and theirs and theirs not in (mine, "kernel"):
            bad.append(e)
    assert bad == [], "a service importing another service:\n" + _show(bad)


def test_the_kernel_imports_no_service() -> None:
    bad = [
        e for e in EDGES if service_of(e.source) == "kernel" and service_of(e.target) not in ("kernel", None)
    ]
    assert bad == [], "the kernel importing a service:\n" + _show(bad)


def test_the_registry_imports_no_service_at_module_level() -> None:
    bad = [e for e in EDGES if e.source == "services.registry" and e.top_level and service_of(e.target)]
    assert bad == [], "services.registry importing a service when loaded:\n" + _show(bad)


def test_the_graph_is_read_at_all() -> None:
    """Guards the tests above against passing on an empty or mis-parsed graph."""
    assert any(e.source == "services.kernel.app" and e.target == "services.kernel.feed_api" for e in EDGES)
    assert any(e.source.startswith("gateway") and service_of(e.target) for e in EDGES)
