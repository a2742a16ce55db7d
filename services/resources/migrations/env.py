from services.kernel.migrations import run_env
from services.resources.models import metadata

run_env(metadata)
