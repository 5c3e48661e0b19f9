import datetime as dt

import factory

from mstoutcomes.accounts.tests.factories import SiteFactory, UserFactory
from mstoutcomes.cases.models import (
    AgencyInvolvement,
    Episode,
    Ethnicity,
    FamilyMember,
    Relationship,
    Sex,
    YoungPerson,
)


class YoungPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = YoungPerson

    site = factory.SubFactory(SiteFactory)
    study_id = factory.Sequence(lambda n: f"T-{n:05d}")
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=14 * 365))
    sex = Sex.MALE
    ethnicity = Ethnicity.WHITE_BRITISH
    postcode_district = "M33"
    referred_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=30))


class FamilyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FamilyMember

    young_person = factory.SubFactory(YoungPersonFactory)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    relationship = Relationship.MOTHER


class AgencyInvolvementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyInvolvement

    young_person = factory.SubFactory(YoungPersonFactory)
    agency = factory.SubFactory("mstoutcomes.accounts.tests.factories.AgencyFactory")
    worker_name = factory.Faker("name", locale="en_GB")


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    young_person = factory.SubFactory(YoungPersonFactory)
    start_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=20))
    therapist = factory.SubFactory(UserFactory)
