import os

from piccolo.conf.apps import AppConfig

from civic.territory.tables import Organisation, Territory

APP_CONFIG = AppConfig(
    app_name="territory",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Territory, Organisation],
    migration_dependencies=[],
)
