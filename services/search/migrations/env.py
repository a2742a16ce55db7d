from services.kernel.migrations import run_env
from services.search.models import metadata

run_env(metadata)
