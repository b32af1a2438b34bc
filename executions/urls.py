from rest_framework.routers import SimpleRouter

from executions.api import ExecutionViewSet, ScheduleViewSet, SuiteRunViewSet
from executions.notifications.api import NotificationChannelViewSet

router = SimpleRouter()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("suite-runs", SuiteRunViewSet, basename="suite-run")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("notification-channels", NotificationChannelViewSet, basename="notification-channel")

urlpatterns = router.urls
