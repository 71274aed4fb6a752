"""The relationship side: NPS responses, CSM touchpoints and the CSM's own score."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.models import TimestampedTenantModel

from .account import Account
from .contact import Contact


class NPSResponse(TimestampedTenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="nps_responses")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="nps_responses"
    )
    external_id = models.CharField(max_length=100, null=True, blank=True)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta(TimestampedTenantModel.Meta):
        verbose_name = "NPS response"
        ordering = ["-responded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="nps_unique_external_id"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="nps_score_0_10"),
        ]
        indexes = [
            models.Index(fields=["workspace", "account", "responded_at"], name="nps_ws_account"),
            models.Index(fields=["workspace", "updated_at"], name="nps_ws_updated"),
        ]

    def __str__(self) -> str:
        return f"NPS {self.score} ({self.category})"

    @property
    def category(self) -> str:
        if self.score >= 9:
            return "promoter"
        return "passive" if self.score >= 7 else "detractor"


class TouchpointKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    QBR = "qbr", "Business review"
    TRAINING = "training", "Training"
    ONBOARDING = "onboarding", "Onboarding session"
    OTHER = "other", "Other"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class Touchpoint(TimestampedTenantModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="touchpoints")
    external_id = models.CharField(max_length=100, null=True, blank=True)
    kind = models.CharField(max_length=12, choices=TouchpointKind.choices, default=TouchpointKind.CALL)
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], name="touchpoint_unique_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "account", "occurred_at"], name="touchpoint_ws_account"),
            models.Index(fields=["workspace", "updated_at"], name="touchpoint_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"


class CSMScore(TimestampedTenantModel):
    """The CSM's subjective 1–5 score with a note; every entry is kept as history."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="csm_scores")
    external_id = models.CharField(max_length=100, null=True, blank=True)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    note = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta(TimestampedTenantModel.Meta):
        verbose_name = "CSM score"
        ordering = ["-scored_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="csmscore_unique_external_id"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="csmscore_1_5"),
        ]
        indexes = [models.Index(fields=["workspace", "account", "scored_at"], name="csmscore_ws_account")]

    def __str__(self) -> str:
        return f"CSM score {self.score}/5"
