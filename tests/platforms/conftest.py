"""The ``images`` fixture (``images_support``): function images as each platform builds and runs them."""
from images_support import images  # noqa: F401
