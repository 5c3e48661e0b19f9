import datetime as dt

import factory

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.measures.models import Assessment, AssessmentStatus, Mode


class AssessmentFactory(factory.django.DjangoModelFactory):
    """A completed parent SDQ entered as scores (use services.assessment_record to score)."""

    class Meta:
        model = Assessment

    young_person = factory.SubFactory(YoungPersonFactory)
    instrument = "sdq-p"
    instrument_version = "UK 11-17"
    scoring_version = "sdq-parent-2014.1"
    respondent = "parent"
    status = AssessmentStatus.COMPLETED
    completed_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=3))
    mode = Mode.PAPER
