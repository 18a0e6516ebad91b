from django.apps import AppConfig


class FacesConfig(AppConfig):
    """People (employees), face samples and embeddings, the face engine, the 1:N gallery,
    enrolment and erasure."""

    name = "faces"
    verbose_name = "Faces"

    def ready(self) -> None:
        from faces import signals  # noqa: F401 - connects the receivers
