from rest_framework.routers import SimpleRouter

from .api.accounts import AccountViewSet

app_name = "api"
router = SimpleRouter(trailing_slash=False)
router.register("accounts", AccountViewSet, basename="account")

urlpatterns = router.urls
