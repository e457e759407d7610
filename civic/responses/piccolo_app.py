import os

from piccolo.conf.apps import AppConfig

from civic.responses.tables import OfficialResponse, ResponseEvent

APP_CONFIG = AppConfig(
    app_name="responses",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[OfficialResponse, ResponseEvent],
    migration_dependencies=["civic.accounts.piccolo_app"],
)
