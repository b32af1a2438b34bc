from django.urls import path

from demo import views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("login/", views.login, name="login"),
    path("welcome/", views.welcome, name="welcome"),
    path("todo/", views.todo, name="todo"),
    path("delayed/", views.delayed, name="delayed"),
    path("iframe/", views.iframe, name="iframe"),
    path("iframe/inner/", views.iframe_inner, name="iframe-inner"),
    path("select/", views.select, name="select"),
    path("dialogs/", views.dialogs, name="dialogs"),
]
