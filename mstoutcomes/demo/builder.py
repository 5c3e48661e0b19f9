"""Build the demo site by running registered steps in order, inside one transaction.

A step is a function that takes the shared ``DemoContext`` and writes its part of the synthetic
site through the services (``by=None``, the system), so every row has its audit event and history.

How a later app adds its data (referrals, measures, trial, outcomes, costs)
---------------------------------------------------------------------------
Add a module to ``mstoutcomes/demo/steps/`` (every module there is imported before a build) and
register a function with an order::

    from mstoutcomes.demo.builder import DemoContext, register_step

    @register_step("referrals", order=200)
    def referrals(ctx: DemoContext) -> str:
        for person in ctx.track(ctx.young_people, "Referrals"):
            referral_create(by=None, young_person=person, ...)
        return f"{len(ctx.young_people)} referrals"

- Steps run by ``order``, then name. In use: 100 organisation (sites, agencies, users), 110 people
  (young people, families, agency involvement, episodes outside the trial), 150 trial_setup,
  200 referrals (acceptance at the trial site hands families to the trial), 210 trial (consent,
  randomisation), 220 episodes (the MST arm's episodes through ``referral_allocate``), 300
  measures, 310 goals, 500 outcomes, 600 costs. Leave gaps.
- ``ctx.rng`` is the step's own random stream, seeded from the seed and the step's name: a new
  step never changes the data of the others, and the same seed and as-of date give the same site.
  Never use the global ``random`` module, ``today()`` or Faker without a seed: use ``ctx.as_of``.
- Read what earlier steps made from the context (``ctx.sites``, ``ctx.agencies``, ``ctx.users``,
  ``ctx.users_by_role``, ``ctx.young_people``, ``ctx.plans``), not from unscoped queries; put what
  later steps need into ``ctx.extras[<your step name>]``.
- Keep the logic that decides what to make in pure functions (as ``plan.py`` does) so it can be
  tested without the database; the step only writes the plan. Return a short summary for the
  command's output, or None.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction

from mstoutcomes.accounts.models import Agency, Membership, Site, User
from mstoutcomes.cases.events import person_checks_muted
from mstoutcomes.demo.data import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD

if TYPE_CHECKING:
    from rich.progress import Progress

    from mstoutcomes.cases.models import Episode, YoungPerson
    from mstoutcomes.demo.plan import PersonPlan

T = TypeVar("T")
StepFunction = Callable[["DemoContext"], str | None]


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    run: StepFunction


_STEPS: dict[str, Step] = {}


def register_step(name: str, *, order: int) -> Callable[[StepFunction], StepFunction]:
    """Register a function as a demo step, run in ascending order."""

    def decorator(function: StepFunction) -> StepFunction:
        existing = _STEPS.get(name)
        if existing is not None and existing.run.__qualname__ != function.__qualname__:
            raise ValueError(f"A demo step named {name!r} is already registered.")
        _STEPS[name] = Step(name, order, function)
        return function

    return decorator


def registered_steps() -> list[Step]:
    """Import every module in mstoutcomes.demo.steps and return the steps in the order they run."""
    from mstoutcomes.demo import steps

    for module in pkgutil.iter_modules(steps.__path__):
        importlib.import_module(f"{steps.__name__}.{module.name}")
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


@dataclass
class DemoContext:
    """What the steps share while the demo is built."""

    seed: int
    as_of: dt.date
    progress: Progress | None = None
    rng: random.Random = field(default_factory=random.Random)
    sites: dict[str, Site] = field(default_factory=dict)  # by code
    agencies: dict[str, Agency] = field(default_factory=dict)  # by key in data.AGENCIES
    users: dict[str, User] = field(default_factory=dict)  # by username
    users_by_role: dict[str, list[User]] = field(default_factory=dict)
    young_people: list[YoungPerson] = field(default_factory=list)
    plans: dict[str, PersonPlan] = field(default_factory=dict)  # by study ID
    episodes: list[Episode] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def rng_for(self, name: str) -> random.Random:
        """Return a random stream of its own for a step (string seeds are stable across runs)."""
        return random.Random(f"mstoutcomes-demo:{self.seed}:{name}")

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Yield the items, advancing a progress bar when the command shows one."""
        if self.progress is None:
            yield from items
            return
        task = self.progress.add_task(description, total=len(items))
        for item in items:
            yield item
            self.progress.advance(task)


def build_demo(
    *,
    seed: int,
    as_of: dt.date,
    progress: Progress | None = None,
    on_step: Callable[[Step, str | None], None] | None = None,
) -> DemoContext:
    """Run every registered step in order in one transaction; any failure writes nothing."""
    ctx = DemoContext(seed=seed, as_of=as_of, progress=progress)
    # The data-quality checks run once over the whole site in their own step, not per save.
    with transaction.atomic(), person_checks_muted():
        for step in registered_steps():
            ctx.rng = ctx.rng_for(step.name)
            summary = step.run(ctx)
            if on_step is not None:
                on_step(step, summary)
    return ctx


def database_has_data() -> bool:
    """Return whether the demo would collide with what is there (any site or any user)."""
    return Site.objects.exists() or User.objects.exists()


@dataclass(frozen=True)
class SignIn:
    """One demo user's sign-in, as the command prints it."""

    username: str
    name: str
    roles: str
    sites: str
    agency: str
    password: str = DEMO_PASSWORD


def demo_sign_ins() -> list[SignIn]:
    """Return the sign-ins of the demo users in the database, in the order they were made."""
    users = (
        User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}", is_active=True)
        .order_by("pk")
        .prefetch_related("memberships__site", "memberships__agency")
    )
    rows = []
    for user in users:
        memberships: Iterable[Membership] = [m for m in user.memberships.all() if m.is_active]
        rows.append(
            SignIn(
                username=user.username,
                name=user.get_full_name(),
                roles=_joined(m.get_role_display() for m in memberships),
                sites=_joined(m.site.name for m in memberships),
                agency=_joined(m.agency.name for m in memberships if m.agency is not None),
            )
        )
    return rows


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(values))
