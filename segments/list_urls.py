from django.urls import path

from . import views

app_name = "lists"
urlpatterns = [
    path("", views.ListIndexView.as_view(), name="index"),
    path("new/", views.ListCreateView.as_view(), name="create"),
    path("<int:pk>/default/", views.ListDefaultView.as_view(), name="default"),
    path("<int:pk>/delete/", views.ListDeleteView.as_view(), name="delete"),
]
