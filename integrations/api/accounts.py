from rest_framework import serializers

from accounts.filters import AccountFilterSet
from accounts.models import Account

from .base import WorkspaceReadOnlyViewSet


class AccountSerializer(serializers.ModelSerializer):
    tier = serializers.CharField(source="tier.name", default=None, read_only=True)
    lifecycle_stage = serializers.CharField(source="lifecycle_stage.key", default=None, read_only=True)
    csm_owner_email = serializers.EmailField(source="csm_owner.email", default=None, read_only=True)

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "domain",
            "industry",
            "employee_count",
            "plan",
            "mrr",
            "licenses_purchased",
            "contract_start",
            "renewal_date",
            "status",
            "churned_at",
            "churn_reason",
            "tier",
            "lifecycle_stage",
            "csm_owner_email",
            "custom_attributes",
            "health_score",
            "health_band",
            "health_computed_at",
            "created_at",
            "updated_at",
        ]


class AccountViewSet(WorkspaceReadOnlyViewSet):
    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "lifecycle_stage", "csm_owner")
