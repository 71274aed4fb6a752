from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import schema
from .api.backtests import BacktestViewSet
from .api.readonly import READ_ONLY_RESOURCES
from .api.resources import RESOURCES

app_name = "api"
router = SimpleRouter(trailing_slash=False)
for prefix, viewset, basename in (*RESOURCES, *READ_ONLY_RESOURCES):
    router.register(prefix, viewset, basename=basename)
router.register("backtests", BacktestViewSet, basename="backtest")

urlpatterns = [
    path("schema/", schema.SchemaView.as_view(), name="schema"),
    path("docs/", schema.docs_page, name="docs"),
    path("docs/assets/<path:path>", schema.docs_asset, name="docs-asset"),
    *router.urls,
]
