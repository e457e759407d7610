import os

from piccolo.conf.apps import AppConfig

from civic.accounts.tables import ApiToken, AuditEntry, Membership, RateLimitHit, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[User, Membership, ApiToken, AuditEntry, RateLimitHit],
    migration_dependencies=["civic.territory.piccolo_app"],
)
