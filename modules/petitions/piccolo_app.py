import os

from piccolo.conf.apps import AppConfig

from modules.petitions.tables import Invalidation, Petition, PetitionRule, Signature

APP_CONFIG = AppConfig(
    app_name="petitions",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[PetitionRule, Petition, Signature, Invalidation],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app",
                            "civic.responses.piccolo_app"],
)
