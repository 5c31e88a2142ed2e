"""GET interactions.<HOST>/organizations/{organizationId}/reviews: reviews of the events an organization created
(``role=creator``), collaborated on (``collaborator``) or either (``all``, the default), newest first, with the
statistics of all of them; ``rating`` 1-5 filters both. The organization must exist as a user (404)."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging, reviews


@function("interactions-organization-reviews", http("GET", "/organizations/{organizationId}/reviews"),
          indexes=model.INDEXES)
def main(event, ctx):
    query = paging.Query(ctx.http)
    window, role, rating = query.window(), query.choice("role", reviews.ROLES, "all"), query.rating()
    query.check()
    organization_id = mirror.require_user(ctx, ctx.http.path_params["organizationId"])["_id"]
    about = reviews.active(reviews.of_organization(organization_id, role), rating)
    return Response(200, reviews.review_page(ctx, about, window))


handle, new = entry_points(main)
