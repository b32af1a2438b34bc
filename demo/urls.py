from django.urls import path

from demo import views

app_name = "demo"

urlpatterns = [
    path("", views.page("demo/index.html"), name="index"),
    path("login/", views.login, name="login"),
    path("welcome/", views.welcome, name="welcome"),
    path("todo/", views.page("demo/todo.html"), name="todo"),
    path("delayed/", views.page("demo/delayed.html"), name="delayed"),
    path("iframe/", views.page("demo/iframe.html"), name="iframe"),
    path("iframe/inner/", views.iframe_inner, name="iframe-inner"),
    path("select/", views.page("demo/select.html"), name="select"),
    path("dialogs/", views.page("demo/dialogs.html"), name="dialogs"),
]
