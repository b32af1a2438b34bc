from rest_framework.routers import SimpleRouter

from artifacts.api import ArtifactViewSet

router = SimpleRouter()
router.register("artifacts", ArtifactViewSet, basename="artifact")

urlpatterns = router.urls
