"""The one list of services, below the gateway: the gateway, the CLI, any service and the tests read it.

A new service (interaction, oversight, ...) joins by adding a line here and a package under
services/ that exposes NAME, create_app, metadata, MIGRATIONS and settings_class in app.py.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    title: str
    port: int  # its port when it runs as its own process (split mode, compose, Kubernetes)

    @cached_property
    def app_module(self) -> ModuleType:
        return importlib.import_module(self.module)


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("identity", "services.identity.app", "统一身份认证", 8101),
    ServiceSpec("content", "services.content.app", "站点栏目与内容发布", 8102),
    ServiceSpec("resources", "services.resources.app", "信息资源库", 8103),
    ServiceSpec("search", "services.search.app", "站内搜索", 8104),
    ServiceSpec("interaction", "services.interaction.app", "互动交流", 8105),
    ServiceSpec("oversight", "services.oversight.app", "运维监控与统计分析", 8106),
    ServiceSpec("federation", "services.federation.app", "互联互通", 8107),
)

GATEWAY_PORT = 8000

BY_NAME = {spec.name: spec for spec in SERVICES}


def get(name: str) -> ServiceSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(BY_NAME)}") from None
