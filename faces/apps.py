"""The faces app: people, samples, embeddings and the gallery."""

from django.apps import AppConfig


class FacesConfig(AppConfig):
    """People (employees), face samples and embeddings, the face engine, the 1:N gallery,
    enrolment and erasure."""

    name = "faces"
    verbose_name = "Faces"

    def ready(self) -> None:
        """Connect the gallery and storage receivers once the models are loaded."""
        from faces import signals  # noqa: F401 - connects the receivers
