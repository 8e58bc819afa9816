import pytest

from tests.catalog.media import use_local_storage


@pytest.fixture
def local_media(settings, tmp_path):
    """Lesson files of the test in a folder of its own (the local storage backend)."""
    folder = tmp_path / "media"
    use_local_storage(settings, folder)
    return folder
