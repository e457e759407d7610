"""So the `piccolo` command finds Ashyq's apps when run from the project folder."""

from civic.piccolo_conf import APP_REGISTRY, DB  # noqa: F401
