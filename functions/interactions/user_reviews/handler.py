"""GET interactions.<HOST>/users/{userId}/reviews: the reviews a user wrote, newest first, with their statistics.

``search`` keeps the reviews whose event name, or whose creator's or a collaborator's name or username, contains
it (case-insensitive; at most 100 characters); the statistics cover what it keeps. The user must exist (404).
"""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging, reviews


@function("interactions-user-reviews", http("GET", "/users/{userId}/reviews"), indexes=model.INDEXES)
def main(event, ctx):
    query = paging.Query(ctx.http)
    window, search = query.window(), query.text("search", reviews.MAX_SEARCH_LENGTH)
    query.check()
    user_id = mirror.require_user(ctx, ctx.http.path_params["userId"])["_id"]
    written = reviews.active({"userId": user_id})
    if search:
        written.update(reviews.matching_search(ctx, user_id, search))
    return Response(200, reviews.review_page(ctx, written, window))


handle, new = entry_points(main)
