from services.federation.models import metadata
from services.kernel.migrations import run_env

run_env(metadata)
