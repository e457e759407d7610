"""From the enabled manifests to a running site: the one place the modules meet the core.

:func:`build_modules` is what the web app (ashyq.app), the `civic` command, the worker and the
test suite call before anything else: it takes the modules CIVIC_MODULES enables, checks each
manifest (every lazy reference is imported now, so a wrong name stops the start with a clear
SettingsError naming the module and the field) and installs what the manifests declare into the
core's registries — the official-response hooks (civic.responses), the notification topics
(civic.notify), the roles (civic.accounts.roles) and the reference resolvers
(civic.references). The core keeps the registries; only this
module fills them. Installing is per module and idempotent: a process that builds one app holds
exactly what its enabled modules declare.
"""

from __future__ import annotations

from collections.abc import Iterable

from civic.accounts.roles import install_module_roles
from civic.modules import CivicModule, check_module, enabled_modules
from civic.notify.services import register_topic
from civic.references import services as references
from civic.responses.services import set_module_hooks
from civic.settings import Settings


def install(module: CivicModule) -> None:
    """Put one checked manifest's hooks, topics and roles into the core's registries."""
    set_module_hooks(module.slug, answer=module.hooks.answer, forward=module.hooks.forward,
                     close=module.hooks.close)
    for topic in module.topics:
        register_topic(topic.name, topic.label)
    install_module_roles(module.slug, ((role.name, role.label) for role in module.roles))


def build_modules(settings: Settings, extra: Iterable[CivicModule] = ()) -> list[CivicModule]:
    """The enabled modules, checked and installed, in the order CIVIC_MODULES names them."""
    modules = [check_module(module) for module in enabled_modules(settings, extra)]
    for module in modules:
        install(module)
    references.install(modules)  # the reference resolvers of the enabled modules
    return modules
