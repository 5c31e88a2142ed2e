"""GET interactions.<HOST>/organizations/{organizationId}/reviews/statistics: ``{averageRating,
ratingDistribution, totalReviews}`` of an organization's reviews (``role`` and ``rating`` as for its reviews),
computed from the reviews at read time: exact whatever is being written concurrently."""
from runtime import Response, entry_points, function, http

from functions.interactions import mirror, model, paging, reviews


@function("interactions-organization-review-stats",
          http("GET", "/organizations/{organizationId}/reviews/statistics"), indexes=model.INDEXES)
def main(event, ctx):
    query = paging.Query(ctx.http)
    role, rating = query.choice("role", reviews.ROLES, "all"), query.rating()
    query.check()
    organization_id = mirror.require_user(ctx, ctx.http.path_params["organizationId"])["_id"]
    return Response(200, reviews.statistics(ctx, reviews.active(reviews.of_organization(organization_id, role),
                                                                rating)))


handle, new = entry_points(main)
