from rest_framework.routers import SimpleRouter

from notifications.api import NotificationChannelViewSet

router = SimpleRouter()
router.register("notification-channels", NotificationChannelViewSet, basename="notification-channel")

urlpatterns = router.urls
