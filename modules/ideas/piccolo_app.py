import os

from piccolo.conf.apps import AppConfig

from modules.ideas.tables import (
    Challenge,
    Comment,
    Flag,
    Follow,
    Idea,
    IdeaImage,
    IdeaPolicy,
    IdeaVersion,
    Milestone,
    ModerationEntry,
    StatusChange,
    Support,
)

APP_CONFIG = AppConfig(
    app_name="ideas",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[IdeaPolicy, Challenge, Idea, IdeaImage, Support, Follow, Comment, IdeaVersion, StatusChange,
                   Milestone, Flag, ModerationEntry],
    migration_dependencies=["civic.accounts.piccolo_app", "civic.territory.piccolo_app",
                            "civic.responses.piccolo_app"],
)
