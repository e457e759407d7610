import os

from piccolo.conf.apps import AppConfig

from civic.participation.tables import Comment, Flag, Follow, ModerationEntry, Support

APP_CONFIG = AppConfig(
    app_name="participation",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Support, Follow, Comment, Flag, ModerationEntry],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app"],
)
