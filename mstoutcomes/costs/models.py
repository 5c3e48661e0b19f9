"""A site's unit-cost catalogue, the price index it restates figures by, and its MST team costs."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from mstoutcomes.accounts.models import Site
from mstoutcomes.core.models import TimeStampedModel
from mstoutcomes.costs import costing

SHARE = [MinValueValidator(0), MaxValueValidator(1)]
PRICE_YEAR = RegexValidator(r"^\d{4}-\d{2}$", "Write the price year as 2023-24.")


def _choices(enum: type[StrEnum], labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [
        (str(m), (labels or {}).get(str(m), str(m).replace("_", " ").capitalize())) for m in enum
    ]


UNIT_CHOICES = [(str(u), f"per {u}") for u in costing.Unit]
HOLDER_CHOICES = _choices(costing.BudgetHolder, costing.BUDGET_HOLDER_LABELS)
VALUE_TYPE_CHOICES = _choices(costing.ValueType, costing.VALUE_TYPE_LABELS)
EVIDENCE_CHOICES = [
    ("V", "[V] verified against the source"),
    ("R", "[R] recalled, not re-verified"),
    ("U", "[U] uncertain or no national figure"),
]


class PriceIndex(TimeStampedModel):
    """An index for restating figures between price years, such as the GDP deflator."""

    name = models.CharField(max_length=200, unique=True)
    source_title = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500, blank=True)
    tag = models.CharField(max_length=1, choices=EVIDENCE_CHOICES, default="V")

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "price indices"

    def __str__(self) -> str:
        return self.name

    def as_index(self) -> costing.PriceIndex:
        return costing.PriceIndex(
            self.name,
            {v.price_year: float(v.value) for v in self.values.all()},
            self.source_title,
            self.source_url,
        )


class PriceIndexValue(models.Model):
    index = models.ForeignKey(PriceIndex, on_delete=models.CASCADE, related_name="values")
    price_year = models.CharField(max_length=7, validators=[PRICE_YEAR])
    value = models.DecimalField(max_digits=10, decimal_places=3, validators=[MinValueValidator(0)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["index", "price_year"]
        constraints = [
            models.UniqueConstraint(fields=["index", "price_year"], name="price_index_year_once"),
            models.CheckConstraint(condition=Q(value__gt=0), name="price_index_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.index} {self.price_year}: {self.value}"


class UnitCost(TimeStampedModel):
    """One item of a site's catalogue: what a unit of a resource costs, in which year, and says who.

    ``default_*`` keep the shipped figure the row started from, so a later default never
    overwrites a site's own value: the load command only reports the difference.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="unit_costs")
    code = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    value = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    unit = models.CharField(max_length=10, choices=UNIT_CHOICES)
    price_year = models.CharField(max_length=7, validators=[PRICE_YEAR])
    low = models.DecimalField(
        "Lowest plausible value", max_digits=12, decimal_places=2, null=True, blank=True
    )
    high = models.DecimalField(
        "Highest plausible value", max_digits=12, decimal_places=2, null=True, blank=True
    )
    budget_holder = models.CharField(max_length=30, choices=HOLDER_CHOICES)
    value_type = models.CharField("Kind of value", max_length=20, choices=VALUE_TYPE_CHOICES)
    tag = models.CharField("Evidence", max_length=1, choices=EVIDENCE_CHOICES)
    source_title = models.CharField("Source", max_length=300)
    source_url = models.URLField("Source address", max_length=500, blank=True)
    notes = models.TextField(blank=True)
    is_local = models.BooleanField(
        default=False, help_text="The site changed the shipped figure (or added the item)."
    )
    default_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    default_price_year = models.CharField(max_length=7, blank=True)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["site", "budget_holder", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="unit_cost_code_once_per_site"),
            models.CheckConstraint(condition=Q(value__gte=0), name="unit_cost_not_negative"),
            models.CheckConstraint(
                condition=(Q(low__isnull=True) | Q(low__lte=F("value")))
                & (Q(high__isnull=True) | Q(high__gte=F("value"))),
                name="unit_cost_range_holds_value",
                violation_error_message="The plausible range must include the value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: £{self.value:,} per {self.unit} ({self.price_year})"

    @property
    def needs_local_value(self) -> bool:
        return self.value == 0

    def as_unit_cost(self) -> costing.UnitCost:
        return costing.UnitCost(
            code=self.code,
            label=self.label,
            value=float(self.value),
            unit=costing.Unit(self.unit),
            price_year=self.price_year,
            budget_holder=costing.BudgetHolder(self.budget_holder),
            value_type=costing.ValueType(self.value_type),
            tag=costing.Evidence(self.tag),
            source_title=self.source_title,
            source_url=self.source_url,
            low=None if self.low is None else float(self.low),
            high=None if self.high is None else float(self.high),
        )


class CostSettings(TimeStampedModel):
    """How a site's costs are reported, and what its MST team costs beyond listed staff."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="cost_settings")
    price_year = models.CharField(
        "Report price year", max_length=7, validators=[PRICE_YEAR], default="2023-24"
    )
    index = models.ForeignKey(PriceIndex, on_delete=models.PROTECT, related_name="+")
    follow_up_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1)]
    )
    programme_price_year = models.CharField(
        "Price year of the team's costs", max_length=7, validators=[PRICE_YEAR], default="2023-24"
    )
    families_per_year = models.DecimalField(
        "Families served a year",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    overhead_rate = models.DecimalField(
        "Overheads as a share of staffing",
        max_digits=4,
        decimal_places=3,
        default=0,
        validators=SHARE,
        help_text="For example, 0.15 for 15%.",
    )
    per_family = models.DecimalField(
        "Cost per family (if staffing is not known)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    per_family_source = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        verbose_name_plural = "cost settings"

    def __str__(self) -> str:
        return f"Cost settings for {self.site}"


class ProgrammeStaff(TimeStampedModel):
    """A post in the site's MST team."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programme_staff")
    role = models.CharField(max_length=100)
    fte = models.DecimalField(
        "Whole-time equivalent", max_digits=4, decimal_places=2, validators=[MinValueValidator(0)]
    )
    salary = models.DecimalField(
        "Salary a year", max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    on_cost_rate = models.DecimalField(
        "On-costs (NI, pension) as a share of salary",
        max_digits=4,
        decimal_places=3,
        default=0,
        validators=SHARE,
        help_text="For example, 0.3 for 30%.",
    )
    budget_holder = models.CharField(max_length=30, choices=HOLDER_CHOICES)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["site", "role"]
        verbose_name_plural = "programme staff"

    def __str__(self) -> str:
        return f"{self.role} ({self.fte} FTE)"


class ProgrammeRunningCost(TimeStampedModel):
    """A yearly running cost of the MST team: licence, consultation, training, travel."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programme_running_costs")
    label = models.CharField(max_length=200)
    annual_amount = models.DecimalField(
        "Amount a year", max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    budget_holder = models.CharField(max_length=30, choices=HOLDER_CHOICES)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["site", "label"]

    def __str__(self) -> str:
        return self.label
