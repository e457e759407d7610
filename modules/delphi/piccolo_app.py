import os

from piccolo.conf.apps import AppConfig

from modules.delphi.tables import Answer, Item, Panelist, Pseudonym, Question, Round, RoundResponse, Study

APP_CONFIG = AppConfig(
    app_name="delphi",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Study, Panelist, Round, Question, Item, Pseudonym, RoundResponse, Answer],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app"],
)
