from rest_framework.routers import SimpleRouter

from .api.resources import RESOURCES

app_name = "api"
router = SimpleRouter(trailing_slash=False)
for prefix, viewset, basename in RESOURCES:
    router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
