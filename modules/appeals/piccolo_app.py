import os

from piccolo.conf.apps import AppConfig

from modules.appeals.tables import (
    Appeal,
    AppealAttachment,
    AppealCounter,
    AppealEvent,
    AppealParticipant,
    ReceptionBooking,
    ReceptionSlot,
    RoutingRule,
)

APP_CONFIG = AppConfig(
    app_name="appeals",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[AppealCounter, RoutingRule, Appeal, AppealAttachment, AppealParticipant, AppealEvent,
                   ReceptionSlot, ReceptionBooking],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app",
                            "civic.responses.piccolo_app"],
)
