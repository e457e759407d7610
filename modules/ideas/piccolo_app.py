import os

from piccolo.conf.apps import AppConfig

from modules.ideas.tables import Challenge, Idea, IdeaImage, IdeaPolicy, IdeaVersion, Milestone, StatusChange

APP_CONFIG = AppConfig(
    app_name="ideas",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[IdeaPolicy, Challenge, Idea, IdeaImage, IdeaVersion, StatusChange, Milestone],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app",
                            "civic.responses.piccolo_app", "civic.participation.piccolo_app"],
)
