"""Routers of the resources service: thin, the rules live in the service package."""

from services.resources.api.checks import router as checks_router
from services.resources.api.objects import router as objects_router
from services.resources.api.resources import router as resources_router

routers = [resources_router, objects_router, checks_router]

__all__ = ["routers"]
