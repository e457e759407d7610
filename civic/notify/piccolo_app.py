import os

from piccolo.conf.apps import AppConfig

from civic.notify.tables import Notification, NotificationPreference, OutgoingMail

APP_CONFIG = AppConfig(
    app_name="notify",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Notification, NotificationPreference, OutgoingMail],
    migration_dependencies=["civic.accounts.piccolo_app"],
)
