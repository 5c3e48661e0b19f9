import factory

from mstoutcomes.accounts.models import Agency, AgencyKind, Membership, Role, Site, User


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: "S" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    name = factory.Sequence(lambda n: f"MST team {n}")
    locality = "Greater Manchester"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.YOUTH_JUSTICE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    # Fixed, unmistakable staff names: a random one could contain a young person's name that a
    # test asserts is hidden (the signed-in user's name is on every page).
    first_name = factory.Sequence(lambda n: f"Staffer{n}")
    last_name = "Worker"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.THERAPIST
    agency = factory.Maybe(
        factory.LazyAttribute(lambda m: m.role == Role.REFERRER),
        yes_declaration=factory.SubFactory(AgencyFactory),
        no_declaration=None,
    )


def member(role: str, site: Site, agency: Agency | None = None, **user_kwargs) -> User:
    """Return a new user holding one role at a site."""
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, site=site, role=role, agency=agency)
    return user
