"""The media group's own state: which avatar each user has now, mirrored from ``user.*`` so the clean-up acts only
on the newest news about a user (a late ``user.updated`` never deletes the avatar a newer one points at)."""
from runtime import Mirror

USERS = "users"
AVATARS = Mirror(USERS, lambda event_type, data: {"avatar": data.get("avatar")}, forget=("avatar",))
