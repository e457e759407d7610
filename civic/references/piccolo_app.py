import os

from piccolo.conf.apps import AppConfig

from civic.references.tables import Reference

APP_CONFIG = AppConfig(
    app_name="references",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Reference],
    migration_dependencies=["civic.accounts.piccolo_app"],
)
