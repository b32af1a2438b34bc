"""Notification channels and deliveries now belong to the `notifications` app.

The tables are renamed, never dropped: their rows, the channel-suite links and every foreign
key survive. `notifications.0001_initial` then takes the models into its own state.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0003_list_sort_indexes"),
    ]

    operations = [
        # Renames the channel-suite link table too (executions_notificationchannel_suites).
        migrations.AlterModelTable(name="notificationchannel", table="notifications_notificationchannel"),
        migrations.AlterModelTable(name="notificationdelivery", table="notifications_notificationdelivery"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="NotificationDelivery"),
                migrations.DeleteModel(name="NotificationChannel"),
            ],
        ),
    ]
