"""Staff pages of complaints, under /complaints/."""

from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("<int:pk>/statement/", views.statement, name="statement"),
    path("<int:pk>/statement.pdf", views.statement_as_pdf, name="statement-pdf"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
